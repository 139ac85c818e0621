"""How much weak evidence weighs: Fellegi–Sunter weights learnt from the data.

Two strong groups (ads joined by a phone, e-mail or handle) are compared on four kinds of
weak evidence: near-duplicate text, the same photo, the same persona (name and stated age),
co-location (same commune, same ISO week). Each kind either agrees (the groups share a
value), disagrees (both have values of that kind, none in common) or cannot be compared.
Its weight is a log-likelihood ratio (natural log):

- agreement: ``ln m − ln u``, where ``m`` is how often two parts of one controller share a
  value of that kind and ``u`` how often two unrelated groups would share a value as rare
  as the one they share (term-frequency adjustment, as Splink does);
- disagreement: ``ln(1 − m) − ln(1 − u₀)``, ``u₀`` being how often two unrelated groups
  share any value of that kind: negative evidence (two groups that both show photos and
  never the same one, both write texts and never alike).

``u`` is counted, not assumed: a value shown by ``n`` of the ``G`` groups is shared by a
random other group with probability ``n / G``, and two groups with ``|V_a|`` and ``|V_b|``
values of a kind have about ``|V_a|·|V_b| / v̄`` chances to meet (``v̄``: values per group
on average), so ``u = |V_a|·|V_b|·n / (G·v̄)``. A persona "Daniela, 22" shown by forty
groups weighs little; a name seen twice in the country weighs much; co-location in Paris
in a week weighs little, in a small town much; a big group, with many cities and weeks,
meets others by chance more often than a small one, and is credited less for it.

``G`` and ``n`` count the networks found so far rather than groups (``counted_by``): a
network split over several numbers does not make its own photos common. For kinds whose
values a group draws independently of one another (co-location cells), the number of
values in common also counts, against the number two groups of their sizes would share by
chance (a Poisson tail). Personas are not such a kind: a network draws its names from its
community's pool, so the names of two networks of one community are not independent draws
from the country's frequencies.

``m`` is learnt from pairs that strong identifiers already join: within a strong group of
several numbers, the ads under one number and those under another are two parts of one
controller; ``m`` is the share of such parts that show a value of the kind in common with
another part. Both are re-estimated at every run, from the whole store.

The prior odds that two groups are one controller are about ``1 / G`` (a group has about
one true partner among all others), so a link needs a total weight of at least
``ln(G) + ln(p / (1 − p))`` for a posterior probability ``p`` (``min_posterior``): the
bigger the store, the more evidence a link needs.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class KindValues:
    """The distinct (group, value) rows of one kind of weak evidence, counted."""

    kind: str
    group: Ints  # per row
    value: Ints  # per row, dense value ids
    per_value: Ints  # n_v: groups showing each value
    per_group: Ints  # |V_g|: values of each group (indexed by group number)
    groups: int  # G: groups in the store
    # Values that come in correlated bunches (the bands of one text) count as one chance
    # of meeting per ``bunch`` values.
    bunch: float = 1.0
    # Whether a group's values are drawn independently of one another, so that their number
    # in common counts (the personas of a network); not so for the texts written from one
    # template or the photos of one set: their rarest shared value says it all.
    independent: bool = False

    @property
    def mean_per_group(self) -> float:
        """v̄: values per group, over the groups that have any."""
        having = int(np.count_nonzero(self.per_group))
        return len(self.group) / having if having else 1.0

    @property
    def mean_frequency(self) -> float:
        """The frequency of the value behind a random (group, value) row: Σ n² / Σ n."""
        n = self.per_value.astype(np.float64)
        return float((n * n).sum() / n.sum()) if n.sum() else 1.0


def dense(values: Ints) -> tuple[Ints, Ints]:
    """The distinct values, sorted, and each value's index among them. Sort-based: numpy's
    hashing ``unique`` is many times slower on millions of integers."""
    if len(values) == 0:
        return values, np.empty(0, dtype=np.int64)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.r_[True, ordered[1:] != ordered[:-1]]
    ids = np.empty(len(values), dtype=np.int64)
    ids[order] = np.cumsum(starts) - 1
    return ordered[starts], ids


def distinct(values: Ints) -> Ints:
    """The distinct values, sorted (sort-based, as ``dense``)."""
    ordered = np.sort(values)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if len(ordered) else ordered


def kind_values(kind: str, group: Ints, value: Ints, groups: int, bunch: float = 1.0,
                independent: bool = False) -> KindValues:
    """Count the distinct (group, value) rows given (repeats allowed; any int64 value)."""
    if len(group) == 0:
        empty = np.empty(0, dtype=np.int64)
        return KindValues(kind, empty, empty, empty, np.zeros(groups, dtype=np.int64),
                          groups, bunch, independent)
    _, value = dense(value)
    rows = distinct((group << 32) | value)
    group, value = rows >> 32, rows & 0xFFFFFFFF
    return KindValues(kind, group, value, np.bincount(value).astype(np.int64),
                      np.bincount(group, minlength=groups).astype(np.int64), groups, bunch,
                      independent)


def counted_by(values: KindValues, cluster_of_group: Ints, clusters: int) -> KindValues:
    """The same rows with each value's frequency counted over clusters of groups (the
    networks found so far) rather than groups, out of ``clusters``."""
    if len(values.group) == 0:
        return replace(values, groups=clusters)
    cells = distinct((values.value << 32) | cluster_of_group[values.group])
    per_value = np.bincount(cells >> 32, minlength=len(values.per_value)).astype(np.int64)
    return replace(values, per_value=per_value, groups=clusters)


def estimate_m(part_of_group: Ints, part_rows: Ints, part_values: Ints,
               default: float) -> tuple[float, int]:
    """``m`` for one kind, and the number of parts it was counted over.

    ``part_rows``/``part_values``: the values shown by each *part* (the ads of a strong
    group under one identifier only), parts numbered 0..P-1 (-1: the row is in no part),
    ``part_of_group`` giving each part's group. A part agrees when one of its values is
    shown by another part of its group. Only parts with values, in groups of two parts or
    more with values, count; ``default`` when fewer than 20 such parts exist."""
    keep = part_rows >= 0
    rows, vals = part_rows[keep], part_values[keep]
    if len(rows) == 0:
        return default, 0
    _, vals = dense(vals)
    pairs = distinct((rows << 32) | vals)
    rows, vals = pairs >> 32, pairs & 0xFFFFFFFF
    # Parts with values per group: only groups with two such parts or more compare.
    parts_with = distinct(rows)
    per_group = np.bincount(part_of_group[parts_with])
    counted = parts_with[per_group[part_of_group[parts_with]] >= 2]
    if len(counted) < 20:
        return default, len(counted)
    _, cell = dense((part_of_group[rows] << 32) | vals)
    shown_by = np.bincount(cell)
    agreeing = distinct(rows[shown_by[cell] >= 2])
    agreeing = np.intersect1d(agreeing, counted, assume_unique=True)
    return len(agreeing) / len(counted), len(counted)


@dataclass(frozen=True)
class Shared:
    """What pairs of groups have in common, found once: (pair index, value or family id)
    rows, distinct. Frequencies change as clusters form; what is shared does not."""

    pairs: int
    pair: Ints
    item: Ints

    @functools.cached_property
    def count(self) -> Ints:
        """Per pair, how many values (or families) both groups show (the same at every
        pass: computed once)."""
        return np.bincount(self.pair, minlength=self.pairs).astype(np.int64)

    def rarest(self, per_item: Ints) -> Ints:
        """Per pair, the frequency of the rarest item both show (0: none)."""
        out = np.full(self.pairs, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(out, self.pair, per_item[self.item])
        out[self.count == 0] = 0
        return out

    def commonest(self, per_item: Ints) -> Ints:
        """Per pair, the frequency of the commonest item both show (0: none): for the
        bands of one text, the frequency of the wording itself (a rare band shared by two
        variants of a common text is a quirk of hashing, not a rare wording)."""
        out = np.zeros(self.pairs, dtype=np.int64)
        np.maximum.at(out, self.pair, per_item[self.item])
        return out


def shared(values: KindValues, left: Ints, right: Ints, family: Ints | None = None) -> Shared:
    """The values each pair of groups both show. Vectorised: each pair's smaller side is
    expanded and looked up in the other's sorted (group, value) keys.

    With ``family`` (per value id, its family id) the values found in common are counted
    and weighed by family: two groups that met in one commune during ten weeks met in one
    commune."""
    empty = np.empty(0, dtype=np.int64)
    if len(left) == 0 or len(values.group) == 0:
        return Shared(len(left), empty, empty)
    order = np.lexsort((values.value, values.group))
    group, value = values.group[order], values.value[order]
    starts = np.searchsorted(group, np.arange(len(values.per_group) + 1))
    swap = values.per_group[left] > values.per_group[right]
    small, big = np.where(swap, right, left), np.where(swap, left, right)
    sizes = starts[small + 1] - starts[small]
    pair = np.repeat(np.arange(len(left)), sizes)
    offset = np.arange(len(pair)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    row = starts[small][pair] + offset
    keys = (group << 32) | value
    wanted = (big[pair] << 32) | value[row]
    where = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    found = keys[where] == wanted
    item = value[row[found]] if family is None else family[value[row[found]]]
    met = distinct((pair[found] << 32) | item)
    return Shared(len(left), met >> 32, met & 0xFFFFFFFF)


@dataclass(frozen=True)
class Weigher:
    """The weights of one kind between pairs of groups: ``agreement`` and
    ``disagreement`` (see the module docstring)."""

    kind: str
    m: float
    values: KindValues
    # The m that disagreement is weighed with, when it is read under a condition (photos
    # of the same persona): how often two parts of one controller showing the same persona
    # show a photo in common.
    m_against: float | None = None

    def _chances(self, left: Ints, right: Ints) -> Floats:
        """|V_a|·|V_b| / v̄: how many chances two groups have to meet, in bunches."""
        v = self.values
        mean = max(v.mean_per_group / v.bunch, 1e-9)
        return (v.per_group[left] / v.bunch) * (v.per_group[right] / v.bunch) / mean

    def _expected(self, left: Ints, right: Ints, count: Ints, together: Bools) -> Floats:
        """λ: how many values (in bunches) two unrelated groups of their sizes would share,
        from the frequencies of each one's values."""
        v = self.values
        others = np.bincount(v.group, weights=v.per_value[v.value] - 1.0,
                             minlength=len(v.per_group))  # Σ (n_v − 1) per group
        # Two groups already in one cluster count each other among the others, as they did
        # when each was its own cluster: a link must not strengthen its own evidence.
        extra = count * together
        mean = max(v.mean_per_group, 1e-9)
        return (((others[left] + extra) * v.per_group[right]
                 + (others[right] + extra) * v.per_group[left])
                / (2 * v.groups * mean * v.bunch))

    def u(self, count: Ints, rarest: Ints, left: Ints, right: Ints,
          together: Bools) -> Floats:
        """How often two unrelated groups of these sizes would share what these share:
        the smaller of two estimates, doubled for having looked twice. One values the
        rarest shared value (``n / G`` for each chance to meet, term-frequency style), the
        other the number shared against the number expected (a Poisson tail).
        ``together``: the pairs already in one cluster, whose shared values are counted
        once by cluster; they count twice, as for any other pair."""
        frequency = rarest + together
        by_rarity = self._chances(left, right) * frequency / self.values.groups
        if not self.values.independent:
            return np.clip(by_rarity, 1e-15, 1.0)
        # The Poisson tail P(X >= bunches) is pdtrc(bunches - 1): scipy.special, not
        # scipy.stats, whose import alone costs a second of every detection.
        from scipy.special import pdtrc

        bunches = np.ceil(count / self.values.bunch)
        expected = self._expected(left, right, count, together)
        by_count = np.where(bunches >= 1,
                            pdtrc(np.maximum(bunches - 1, 0), np.maximum(expected, 1e-12)), 1.0)
        return np.clip(2 * np.minimum(by_rarity, by_count), 1e-15, 1.0)

    def agreement(self, count: Ints, rarest: Ints, left: Ints, right: Ints,
                  together: Bools) -> Floats:
        return math.log(self.m) - np.log(self.u(count, rarest, left, right, together))

    def disagreement(self, left: Ints, right: Ints) -> Floats:
        u0 = np.clip(self._chances(left, right) * self.values.mean_frequency
                     / self.values.groups, 0.0, 0.99)
        m = self.m if self.m_against is None else self.m_against
        return math.log(1 - m) - np.log(1 - u0)

    def comparable(self, left: Ints, right: Ints) -> npt.NDArray[np.bool_]:
        v = self.values
        return (v.per_group[left] > 0) & (v.per_group[right] > 0)


def threshold(groups: int, min_posterior: float) -> float:
    """The total weight a link needs (see the module docstring)."""
    return math.log(max(groups, 2)) + math.log(min_posterior / (1 - min_posterior))
