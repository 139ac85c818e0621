"""Evaluation metrics as pure functions of counts.

Every function takes contingency counts (how many ads fall in each cell: a (predicted
cluster, true cluster) pair, a (score, label) pair...) rather than one row per ad: a
report on a million ads then keeps a few counters instead of lists, and the result cannot
depend on the order of the ads. ``contingency`` turns parallel rows into such counts.

Undefined values (a rate over nothing, an AUC with an empty class) are ``None``, never 0.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Container, Hashable, Iterable, Mapping
from typing import NamedTuple, TypeVar

P = TypeVar("P", bound=Hashable)
T = TypeVar("T", bound=Hashable)
K = TypeVar("K", bound=Hashable)


class Share(NamedTuple):
    """``hits`` out of ``total``; ``value`` is their ratio, ``None`` over nothing."""

    hits: int
    total: int

    @property
    def value(self) -> float | None:
        return self.hits / self.total if self.total else None


class BCubed(NamedTuple):
    precision: float
    recall: float
    f1: float


class Ratio(NamedTuple):
    """A ratio of two rates; ``value`` is ``None`` when it is not a finite number, and
    ``note`` then says why: ``"no_ads"`` (a rate is over nothing), ``"both_zero"`` (0/0)
    or ``"infinite"`` (a positive rate over a zero one); ``spread`` adds
    ``"too_few_groups"`` (fewer than two groups with enough items to compare)."""

    value: float | None
    note: str | None


class Spread(NamedTuple):
    """The highest rate over the lowest one among the groups with enough items: which
    groups they are (``None`` when fewer than two groups count), how many groups count,
    and their ``Ratio``, whose ``note`` is ``"too_few_groups"`` when fewer than two do."""

    highest: str | None
    lowest: str | None
    groups: int
    ratio: Ratio


def contingency(predicted: Iterable[P], true: Iterable[T]) -> Counter[tuple[P, T]]:
    """Count items per (predicted label, true label) cell; the two iterables are parallel
    (one label each per item) and must have the same length."""
    return Counter(zip(predicted, true, strict=True))


def share(flags: Iterable[bool]) -> Share:
    """How many of ``flags`` are true, out of how many."""
    hits = total = 0
    for flag in flags:
        total += 1
        hits += bool(flag)
    return Share(hits, total)


def bcubed(cells: Mapping[tuple[P, T], int]) -> BCubed | None:
    """B-cubed precision, recall and F1 of a clustering against the true one.

    ``cells`` maps (predicted cluster, true cluster) to the number of items in both. For
    an item i with predicted cluster C(i) and true cluster L(i), its precision is
    |C(i) ∩ L(i)| / |C(i)| and its recall |C(i) ∩ L(i)| / |L(i)|; B-cubed averages them
    over the N items. The items of one cell share their intersection size c, so

        precision = (1/N) · Σ_cells c² / |C|        recall = (1/N) · Σ_cells c² / |L|

    which is linear in the number of cells (at most N), not quadratic in N.
    F1 = 2·P·R / (P + R). ``None`` when there are no items.
    """
    predicted_sizes: dict[P, int] = {}
    true_sizes: dict[T, int] = {}
    n = 0
    for (p, t), c in cells.items():
        if c < 0:
            raise ValueError(f"negative count {c} for cell {(p, t)!r}")
        predicted_sizes[p] = predicted_sizes.get(p, 0) + c
        true_sizes[t] = true_sizes.get(t, 0) + c
        n += c
    if n == 0:
        return None
    # fsum: a sum of up to a million terms, each exact for a perfect clustering (c = |C|),
    # so a clustering scored against itself gives exactly 1.
    precision = math.fsum(c * c / predicted_sizes[p] for (p, _), c in cells.items() if c) / n
    recall = math.fsum(c * c / true_sizes[t] for (_, t), c in cells.items() if c) / n
    f1 = 2 * precision * recall / (precision + recall)
    # F1 lies between P and R; the clamp only removes a last-bit rounding (P = R = 0.8
    # would otherwise give 0.8000000000000002).
    return BCubed(precision, recall, min(max(f1, min(precision, recall)), max(precision, recall)))


def roc_auc(cells: Mapping[tuple[float, bool], int]) -> float | None:
    """Area under the ROC curve of ``score`` against a binary ``label``.

    ``cells`` maps (score, label) to a count of items. The AUC is the Mann–Whitney
    statistic U / (n₊ · n₋): the probability that a positive item scores above a negative
    one, ties counting one half, i.e. U = Σ_positives (#negatives scored lower +
    ½ #negatives scored equal) — the same as U computed from ranks with ties averaged.
    It is computed per distinct score in integers (2·U), then divided once.
    ``None`` when there are no positives or no negatives. NaN scores are refused.
    """
    per_score: dict[float, list[int]] = {}
    for (score, label), c in cells.items():
        if score != score:  # NaN would make the order meaningless
            raise ValueError("NaN score")
        if c < 0:
            raise ValueError(f"negative count {c} for score {score!r}")
        counts = per_score.setdefault(score, [0, 0])
        counts[0 if label else 1] += c
    positives = sum(pos for pos, _ in per_score.values())
    negatives = sum(neg for _, neg in per_score.values())
    if positives == 0 or negatives == 0:
        return None
    twice_u = 0
    negatives_below = 0
    for score in sorted(per_score):
        pos, neg = per_score[score]
        twice_u += pos * (2 * negatives_below + neg)
        negatives_below += neg
    return twice_u / (2 * positives * negatives)


def top_networks(risks: Mapping[str, float], k: int) -> list[str]:
    """The ``k`` networks of highest risk, highest first; equal risks are ordered by
    network id so that the ranking is deterministic. Same as the first ``k`` of the full
    ranking, in O(n log k)."""
    if k <= 0:
        return []
    return heapq.nsmallest(k, risks, key=lambda network: (-risks[network], network))


def majority_controller(counts: Mapping[str, int], trafficking: Container[str]) -> str | None:
    """The controller with the most items in a predicted network (``counts``: controller
    → number of its ads in the network). Ties go to a controller that is not in
    ``trafficking``, then to the smallest id: an ambiguous network never counts as a hit.
    ``None`` for a network with no counted ads."""
    present = [controller for controller, c in counts.items() if c > 0]
    if not present:
        return None
    return min(present, key=lambda controller: (-counts[controller],
                                                controller in trafficking, controller))


def top_k_precision(ranked_hits: Iterable[bool], k: int) -> Share:
    """Precision at k: how many of the first ``k`` ranked items are hits, out of ``k``.
    ``ranked_hits`` says, in rank order, whether each item is a hit; when fewer than
    ``k`` items are ranked, the missing ones count as misses (the denominator stays k).
    ``Share(0, 0)`` (undefined) when k is 0."""
    if k <= 0:
        return Share(0, 0)
    hits = 0
    for rank, hit in enumerate(ranked_hits):
        if rank >= k:
            break
        hits += bool(hit)
    return Share(hits, k)


def minor_recall(cells: Mapping[tuple[bool, bool], int]) -> Share:
    """Share of the ads of minors that the system suspects of showing a minor.
    ``cells`` maps (truly a minor, minor suspected) to a count of ads."""
    hits = cells.get((True, True), 0)
    return Share(hits, hits + cells.get((True, False), 0))


def false_minor_rate(cells: Mapping[tuple[str, bool], int]) -> Share:
    """Share of independent workers' ads that the system suspects of showing a minor.
    ``cells`` maps (controller kind, minor suspected) to a count of ads."""
    hits = cells.get(("independent", True), 0)
    return Share(hits, hits + cells.get(("independent", False), 0))


def recall(cells: Mapping[tuple[bool, bool], int]) -> Share:
    """Share of the truly positive items that are predicted positive.
    ``cells`` maps (truly positive, predicted positive) to a count of items."""
    hits = cells.get((True, True), 0)
    return Share(hits, hits + cells.get((True, False), 0))


def precision(cells: Mapping[tuple[bool, bool], int]) -> Share:
    """Share of the items predicted positive that are truly positive.
    ``cells`` maps (truly positive, predicted positive) to a count of items."""
    hits = cells.get((True, True), 0)
    return Share(hits, hits + cells.get((False, True), 0))


def kind_flag_rate(cells: Mapping[tuple[str, bool], int], kind: str) -> Share:
    """Share of the ads of controllers of ``kind`` that are flagged (e.g. scam ads sitting
    in a network suspected of trafficking). ``cells`` maps (controller kind, flagged) to a
    count of ads."""
    hits = cells.get((kind, True), 0)
    return Share(hits, hits + cells.get((kind, False), 0))


def rates_by(cells: Mapping[tuple[K, bool], int]) -> dict[K, Share]:
    """One share per group: ``cells`` maps (group, flagged) to a count of ads."""
    rates: dict[K, Share] = {}
    for (group, flagged), c in cells.items():
        hits, total = rates.get(group, Share(0, 0))
        rates[group] = Share(hits + c * bool(flagged), total + c)
    return rates


def rate_ratio(numerator: Share, denominator: Share) -> Ratio:
    """How many times the ``numerator`` rate is the ``denominator`` rate (e.g. foreign over
    French workers' flag rates): (a/b) / (c/d) = a·d / (b·c).
    Not a number when either rate is over nothing, when both are 0, or when only the
    denominator is 0 (infinite); ``note`` then says which."""
    if numerator.total == 0 or denominator.total == 0:
        return Ratio(None, "no_ads")
    if denominator.hits == 0:
        return Ratio(None, "both_zero" if numerator.hits == 0 else "infinite")
    return Ratio(numerator.hits * denominator.total / (numerator.total * denominator.hits),
                 None)


def spread(rates: Mapping[str, Share], min_total: int) -> Spread:
    """How many times the highest rate is the lowest, among the groups of ``rates`` with at
    least ``min_total`` items (and at least one). Rates are compared exactly (a·d against
    b·c). Among equal rates the highest is the first group by name and the lowest the last,
    so that the answer does not depend on the order of ``rates`` and names two groups even
    when every rate is the same."""
    counted = sorted((group, s) for group, s in rates.items()
                     if s.total >= max(min_total, 1))
    if len(counted) < 2:
        return Spread(None, None, len(counted), Ratio(None, "too_few_groups"))
    highest = lowest = counted[0]
    for item in counted[1:]:
        _, s = item
        if s.hits * highest[1].total > highest[1].hits * s.total:
            highest = item
        if s.hits * lowest[1].total <= lowest[1].hits * s.total:
            lowest = item
    return Spread(highest[0], lowest[0], len(counted), rate_ratio(highest[1], lowest[1]))
