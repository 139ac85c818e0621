"""The linking itself: ads in, one label per ad out, with the evidence of every link.

A pure function of arrays (no store), vectorised with numpy and scipy, in three steps:

1. **Strong identifiers** (phone in E.164, e-mail, messaging handle) put ads together
   outright. A number that changed hands is not one identifier: when its ads, in time
   order, fall into runs of one persona each that do not overlap, each run is its own
   identifier (``handover``). The connected groups are the *groups*.
2. **Weak evidence** between groups that write alike (MinHash-LSH over slot-masked
   shingles) or show the same photo (exact or perceptual hash), compared on four kinds:
   text, photo, persona (name and stated age), co-location (same commune, same ISO week).
   Each kind is weighed by how rare what the groups share is (``evidence``: Fellegi–Sunter
   weights, u counted over the networks found, m learnt from the groups strong
   identifiers join), negative evidence included; a link needs a total weight that grows
   with the store. Decided again, frequencies counted over the networks found, until
   nothing changes. Stock evidence is not even compared: a text bucket seen in many
   communes in one week, a photo shown by many groups.
3. **Bridges cut**: a weak link whose removal would split its network into two sides of
   several ads each is dropped, so one coincidence cannot chain two established groups.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import igraph
import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from faisceau.link import text as text_sim
from faisceau.link.evidence import (
    KindValues,
    Shared,
    Weigher,
    counted_by,
    dense,
    distinct,
    estimate_m,
    kind_values,
    shared,
    threshold,
)
from faisceau.link.settings import LinkSettings

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@dataclass
class LinkInput:
    """Everything about the ads to link, as parallel arrays indexed by ad position."""

    first_day: Ints  # days since the epoch
    last_day: Ints
    # Strong identifiers: (ad position, "kind:value").
    key_ads: Ints
    keys: list[str]
    # Per version: ad position, MinHash signature (rows of ``signatures``), persona or -1.
    version_ads: Ints
    signatures: text_sim.SignatureArray  # (versions, permutations); all-zero row: no text
    has_text: npt.NDArray[np.bool_]
    personas: Ints
    # Places: (ad position, commune code as an integer).
    place_ads: Ints
    place_communes: Ints
    # Images: (ad position, exact hash id, 64-bit perceptual hash as int64, -1 if none).
    image_ads: Ints
    image_exact: Ints
    image_phash: Ints

    @property
    def ads(self) -> int:
        return len(self.first_day)


@dataclass
class WeakLink:
    """Two groups compared on weak evidence: the kinds that agree, each kind's weight
    (negative when it disagrees), the total and what a link needed; a link when not
    ``refused``, unless ``cut`` as a bridge."""

    left: int  # representative ad positions, one in each group
    right: int
    kinds: frozenset[str]
    cut: bool = False
    weights: dict[str, float] = field(default_factory=dict)
    total: float = 0.0
    needed: float = 0.0
    refused: bool = False


@dataclass
class Handover:
    key: str
    episodes: list[list[int]]  # ad positions of each owner, in time order


@dataclass
class LinkResult:
    labels: Ints  # per ad, a component number
    groups: Ints  # per ad, its strong group
    key_ads: Ints  # as in the input
    episode_keys: list[str]  # ``keys`` after hand-over splits, parallel to ``key_ads``
    weak_links: list[WeakLink] = field(default_factory=list)  # links made, cut, refused
    handovers: list[Handover] = field(default_factory=list)
    m: dict[str, float] = field(default_factory=dict)  # the m learnt for each weak kind
    photo: Ints | None = None  # per image row, its photo (``photos``), for later stages


def _renumbered(values: Ints) -> Ints:
    """Values renumbered 0..k-1 in sorted order."""
    return dense(values)[1]


def _pack(high: Ints, low: Ints) -> Ints:
    """Two arrays of small non-negative integers (< 2**31) as one sortable key each."""
    return (high.astype(np.int64) << 32) | low.astype(np.int64)


def _components(n: int, left: Ints, right: Ints) -> Ints:
    if n == 0:
        return np.empty(0, dtype=np.int64)
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    return connected_components(graph, directed=False)[1].astype(np.int64)


def _split_handovers(data: LinkInput, persona_of_ad: Ints, min_similarity: float
                     ) -> tuple[list[str], list[Handover]]:
    """Keys after splitting those that changed hands: each owner's ads (``_episodes``)
    then count as an identifier of their own."""
    keys = list(data.keys)
    # Only keys shown under two personas or more can have changed hands: found with numpy,
    # so that the rows of every other key are never visited one by one.
    key_ids: dict[str, int] = {}
    key_index = np.fromiter((key_ids.setdefault(k, len(key_ids)) for k in keys),
                            dtype=np.int64, count=len(keys))
    _, persona_index = np.unique(persona_of_ad[data.key_ads], return_inverse=True)
    pairs = distinct(_pack(key_index, persona_index))
    several = np.flatnonzero(np.bincount(pairs >> 32, minlength=len(key_ids)) >= 2)
    by_key: dict[str, list[int]] = defaultdict(list)
    for row in np.flatnonzero(np.isin(key_index, several)).tolist():
        by_key[keys[row]].append(row)
    handovers: list[Handover] = []
    texts_of_ad = _texts_of_ads(data, {int(data.key_ads[r]) for rows in by_key.values()
                                       for r in rows})
    for key, rows in by_key.items():
        if len(rows) < 2:
            continue
        ads = sorted({int(data.key_ads[r]) for r in rows},
                     key=lambda a: (data.first_day[a], a))
        shown = [int(persona_of_ad[a]) for a in ads]
        if len(set(shown)) < 2 or -1 in shown:
            continue
        runs = _episodes(data, ads, persona_of_ad, texts_of_ad, min_similarity)
        if len(runs) < 2:
            continue
        episode_of = {a: i for i, run in enumerate(runs) for a in run}
        for r in rows:
            keys[r] = f"{key}#{episode_of[int(data.key_ads[r])] + 1}"
        handovers.append(Handover(key, runs))
    return keys, handovers


def _episodes(data: LinkInput, ads: list[int], persona_of_ad: Ints,
              texts_of_ad: dict[int, list[int]], min_similarity: float) -> list[list[int]]:
    """The owners of one key: its ads (in time order) cut where nothing is advertised for
    a while, the parts on either side of a cut showing different personas (an owner may use
    two names; no persona comes back later) and texts that are not near-duplicates; parts
    that fail either test are one owner's. A number passed to a stranger links two people
    who write their own texts; parts written alike are one controller rotating the number
    among the persons it advertises, however distinct and disjoint they look."""
    segments: list[list[int]] = [[ads[0]]]
    reach = int(data.last_day[ads[0]])
    for ad in ads[1:]:
        if int(data.first_day[ad]) > reach:
            segments.append([ad])
        else:
            segments[-1].append(ad)
        reach = max(reach, int(data.last_day[ad]))
    episodes: list[list[int]] = []
    personas: list[set[int]] = []
    for segment in segments:
        shown = {int(persona_of_ad[a]) for a in segment}
        again = [i for i, seen in enumerate(personas) if seen & shown]
        if again:  # a persona comes back: everything since is one owner's
            first = again[0]
            segment = [a for episode in episodes[first:] for a in episode] + segment
            shown = set().union(*personas[first:], shown)
            del episodes[first:], personas[first:]
        elif episodes and _written_alike(data, episodes[-1], segment, texts_of_ad,
                                         min_similarity):
            segment = episodes.pop() + segment
            shown |= personas.pop()
        episodes.append(segment)
        personas.append(shown)
    return episodes


def _texts_of_ads(data: LinkInput, ads: set[int]) -> dict[int, list[int]]:
    """The versions with text of ``ads``."""
    out: dict[int, list[int]] = defaultdict(list)
    rows = np.flatnonzero(data.has_text & np.isin(data.version_ads, list(ads)))
    for version in rows.tolist():
        out[int(data.version_ads[version])].append(version)
    return out


def _written_alike(data: LinkInput, before: list[int], after: list[int],
                   texts_of_ad: dict[int, list[int]], min_similarity: float) -> bool:
    """Whether a text of the ads ``before`` is a near-duplicate of one of ``after``."""
    left = [v for ad in before for v in texts_of_ad.get(ad, [])]
    right = [v for ad in after for v in texts_of_ad.get(ad, [])]
    if not left or not right:
        return False
    pairs_left = np.repeat(np.asarray(left, dtype=np.int64), len(right))
    pairs_right = np.tile(np.asarray(right, dtype=np.int64), len(left))
    return bool((text_sim.similarity(data.signatures, pairs_left, pairs_right)
                 >= min_similarity).any())


def _strong_groups(data: LinkInput, keys: list[str]) -> Ints:
    n = data.ads
    key_ids: dict[str, int] = {}
    key_index = np.fromiter((key_ids.setdefault(k, len(key_ids)) for k in keys),
                            dtype=np.int64, count=len(keys))
    return _components(n + len(key_ids), data.key_ads, key_index + n)[:n]


def _pairs_in_buckets(bucket: Ints, member: Ints) -> tuple[Ints, Ints, Ints]:
    """All (a, b) with a < b in each bucket, and the bucket of each pair. Input rows must be
    unique (bucket, member) and buckets small."""
    order = np.lexsort((member, bucket))
    bucket, member = bucket[order], member[order]
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    sizes = np.diff(np.r_[starts, len(bucket)])
    left: list[Ints] = []
    right: list[Ints] = []
    which: list[Ints] = []
    for size in np.unique(sizes[sizes >= 2]):
        chosen = starts[sizes == size]
        i, j = np.triu_indices(int(size), k=1)
        left.append((chosen[:, None] + i[None, :]).ravel())
        right.append((chosen[:, None] + j[None, :]).ravel())
        which.append(np.repeat(chosen, len(i)))
    if not left:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    li, ri, wi = np.concatenate(left), np.concatenate(right), np.concatenate(which)
    return member[li], member[ri], bucket[wi]


Pairs = tuple[Ints, Ints, Ints, Ints]


def _band_rows(data: LinkInput, settings: LinkSettings) -> tuple[Ints, Ints]:
    """(version, LSH bucket) for every band of every version with text: what finds texts
    alike, and the values of the text kind of evidence."""
    rows = np.flatnonzero(data.has_text)
    bands = text_sim.band_keys(data.signatures[rows], settings.bands)
    return np.repeat(rows, settings.bands), bands.ravel().view(np.int64)


def _text_pairs(data: LinkInput, groups: Ints, settings: LinkSettings,
                band_rows: tuple[Ints, Ints]) -> Pairs:
    """Group pairs with near-duplicate, non-stock text, and one version of each
    (``band_rows``: from ``_band_rows``)."""
    empty = np.empty(0, dtype=np.int64)
    version, bucket = band_rows
    if len(version) == 0:
        return empty, empty, empty, empty
    group = groups[data.version_ads[version]]
    # One version per (bucket, group): pairs are between groups.
    order = np.lexsort((version, group, bucket))
    bucket, group, version = bucket[order], group[order], version[order]
    first = np.r_[True, (bucket[1:] != bucket[:-1]) | (group[1:] != group[:-1])]
    bucket, group, version = bucket[first], group[first], version[first]
    # Buckets (sorted: numbered by their runs): drop singletons, huge ones, and stock
    # wording (many communes in a week).
    bucket_id = np.cumsum(np.r_[True, bucket[1:] != bucket[:-1]]) - 1
    counts = np.bincount(bucket_id)
    keep = (counts[bucket_id] >= 2) & (counts[bucket_id] <= settings.max_bucket_ads)
    bucket, bucket_id, group, version = (bucket[keep], bucket_id[keep], group[keep],
                                         version[keep])
    if len(bucket) == 0:
        return empty, empty, empty, empty
    stock = _stock_buckets(bucket_id, data.version_ads[version], data,
                           settings.stock_text_communes)
    keep = ~stock[bucket_id]
    bucket, group, version = bucket[keep], group[keep], version[keep]
    member = np.arange(len(bucket), dtype=np.int64)
    left, right, _ = _pairs_in_buckets(bucket, member)
    if len(left) == 0:
        return empty, empty, empty, empty
    gl, gr = group[left], group[right]
    vl, vr = version[left], version[right]
    swap = gl > gr
    gl, gr = np.where(swap, gr, gl), np.where(swap, gl, gr)
    vl, vr = np.where(swap, vr, vl), np.where(swap, vl, vr)
    similar = text_sim.similarity(data.signatures, vl, vr) >= settings.min_similarity
    gl, gr, vl, vr = gl[similar], gr[similar], vl[similar], vr[similar]
    return _first_per_pair(gl, gr, vl, vr)


def _first_per_pair(gl: Ints, gr: Ints, wl: Ints, wr: Ints) -> Pairs:
    """One row per group pair, with its first witnesses."""
    _, first = np.unique(_pack(gl, gr), return_index=True)
    return gl[first], gr[first], wl[first], wr[first]


def _stock_buckets(bucket_id: Ints, ads: Ints, data: LinkInput, limit: int
                   ) -> npt.NDArray[np.bool_]:
    """Per bucket number, whether its ads were placed in more than ``limit`` communes in
    some ISO week."""
    # (bucket, ad) rows joined to the ads' communes, then repeated for each week the ad ran.
    order = np.argsort(data.place_ads, kind="stable")
    place_ads, place_communes = data.place_ads[order], data.place_communes[order]
    start = np.searchsorted(place_ads, ads, side="left")
    count = np.searchsorted(place_ads, ads, side="right") - start
    row = np.repeat(np.arange(len(ads)), count)
    offset = np.arange(len(row)) - np.repeat(np.cumsum(count) - count, count)
    commune = place_communes[start[row] + offset]
    first_week = data.first_day[ads[row]] // 7
    weeks = data.last_day[ads[row]] // 7 - first_week + 1
    cell_row = np.repeat(np.arange(len(row)), weeks)
    week = first_week[cell_row] + (np.arange(len(cell_row))
                                   - np.repeat(np.cumsum(weeks) - weeks, weeks))
    stock = np.zeros(int(bucket_id.max()) + 1, dtype=np.bool_)
    if len(week) == 0:
        return stock
    # One sortable key per cell, bucket in the high bits, then week, then commune: one sort
    # finds the distinct cells, and runs of (bucket, week) count their communes.
    week = week - week.min()
    commune = commune[cell_row]
    commune_bits = max(1, int(commune.max()).bit_length())
    week_bits = max(1, int(week.max()).bit_length())
    cells = distinct((bucket_id[row[cell_row]] << (week_bits + commune_bits))
                      | (week << commune_bits) | commune)
    bucket_week = cells >> commune_bits
    run_start = np.flatnonzero(np.r_[True, bucket_week[1:] != bucket_week[:-1]])
    communes = np.diff(np.r_[run_start, len(cells)])
    stock[bucket_week[run_start[communes > limit]] >> week_bits] = True
    return stock


def photos(data: LinkInput, settings: LinkSettings) -> Ints:
    """Per image row, its photo: rows with the same exact hash, or perceptual hashes within
    ``max_phash_distance`` (directly or through others), are one photo re-encoded, resized
    or cropped. Numbered 0..k-1."""
    if len(data.image_ads) == 0:
        return np.empty(0, dtype=np.int64)
    # Image rows joined to their exact hash and perceptual hash, and perceptual hashes to
    # their near neighbours (an exact 16-bit band in common, then the full Hamming
    # distance; a distance of 3 or less always shares a band).
    rows = len(data.image_exact)
    n_exact = int(data.image_exact.max()) + 1
    has_phash = data.image_phash != -1
    uniq_phash, phash_id = np.unique(data.image_phash[has_phash], return_inverse=True)
    unsigned = uniq_phash.view(np.uint64)
    row_node = np.arange(rows, dtype=np.int64)
    exact_node = rows + data.image_exact
    phash_node = rows + n_exact
    left_parts = [row_node, row_node[has_phash]]
    right_parts = [exact_node, phash_node + phash_id]
    for band in range(4):
        part = ((unsigned >> np.uint64(16 * band)) & np.uint64(0xFFFF)).astype(np.int64)
        a, b, _ = _pairs_in_buckets(part, np.arange(len(unsigned), dtype=np.int64))
        if len(a):
            near = np.bitwise_count(unsigned[a] ^ unsigned[b]) <= settings.max_phash_distance
            left_parts.append(phash_node + a[near])
            right_parts.append(phash_node + b[near])
    nodes = rows + n_exact + len(unsigned)
    left, right = np.concatenate(left_parts), np.concatenate(right_parts)
    return _renumbered(_components(nodes, left, right)[:rows])


def _image_pairs(data: LinkInput, groups: Ints, settings: LinkSettings,
                 photo: Ints) -> Pairs:
    """Group pairs showing the same photo (``photo``: per image row, from ``photos``), and
    one ad of each; photos shown by many groups are stock and do not count."""
    empty = np.empty(0, dtype=np.int64)
    if len(data.image_ads) == 0:
        return empty, empty, empty, empty
    group = groups[data.image_ads]
    order = np.lexsort((data.image_ads, group, photo))
    photo, group, ad = photo[order], group[order], data.image_ads[order]
    first = np.r_[True, (photo[1:] != photo[:-1]) | (group[1:] != group[:-1])]
    photo, group, ad = photo[first], group[first], ad[first]
    _, inverse, counts = np.unique(photo, return_inverse=True, return_counts=True)
    keep = (counts[inverse] >= 2) & (counts[inverse] <= settings.max_image_groups)
    photo, group, ad = photo[keep], group[keep], ad[keep]
    left_i, right_i, _ = _pairs_in_buckets(photo, np.arange(len(photo), dtype=np.int64))
    gl, gr, al, ar = group[left_i], group[right_i], ad[left_i], ad[right_i]
    swap = gl > gr
    gl, gr = np.where(swap, gr, gl), np.where(swap, gl, gr)
    al, ar = np.where(swap, ar, al), np.where(swap, al, ar)
    return _first_per_pair(gl, gr, al, ar)


def _cell_rows(data: LinkInput) -> tuple[Ints, Ints]:
    """(ad, cell) for every (commune, ISO week) an ad was advertised in; a cell is one
    sortable integer (commune in the high bits)."""
    first_week = data.first_day[data.place_ads] // 7
    weeks = data.last_day[data.place_ads] // 7 - first_week + 1
    row = np.repeat(np.arange(len(data.place_ads)), weeks)
    week = first_week[row] + (np.arange(len(row)) - np.repeat(np.cumsum(weeks) - weeks, weeks))
    return data.place_ads[row], (data.place_communes[row] << WEEK_BITS) | (
        week & ((1 << WEEK_BITS) - 1))


def _parts(data: LinkInput, groups: Ints, keys: list[str]) -> tuple[Ints, Ints]:
    """Per ad, its part (-1 if it has no identifier): the ads of a strong group under one
    identifier (its first phone, else its first identifier), and each part's group. Two
    parts of one group are two parts of one controller: what ``m`` is learnt from."""
    part_of_ad = np.full(data.ads, -1, dtype=np.int64)
    if len(keys) == 0:
        return part_of_ad, np.empty(0, dtype=np.int64)
    key_ids: dict[str, int] = {}
    key_index = np.fromiter((key_ids.setdefault(k, len(key_ids)) for k in keys),
                            dtype=np.int64, count=len(keys))
    not_phone = np.fromiter((not k.startswith("phone:") for k in keys), dtype=np.bool_,
                            count=len(keys))
    order = np.lexsort((key_index, not_phone, data.key_ads))
    ads = data.key_ads[order]
    first = np.r_[True, ads[1:] != ads[:-1]]
    chosen_ads, chosen_keys = ads[first], key_index[order][first]
    part_keys, part = dense(chosen_keys)
    part_of_ad[chosen_ads] = part
    part_group = np.zeros(len(part_keys), dtype=np.int64)
    part_group[part] = groups[chosen_ads]
    return part_of_ad, part_group


# A co-location cell: the commune in the high bits, the week in these low bits.
WEEK_BITS = 24
# The kinds whose values a group draws independently of one another (see ``evidence``):
# not personas, drawn from a community's pool of names.
INDEPENDENT_KINDS = frozenset({"colocation"})


@dataclass
class _Kind:
    """One kind of weak evidence, per ad: (ad, value) rows."""

    name: str
    ads: Ints
    values: Ints
    bunch: float = 1.0
    # Per row, the family of its value, when values are weighed by family (see
    # ``evidence.shared``).
    families: Ints | None = None


def _kinds(data: LinkInput, settings: LinkSettings, photo: Ints,
           band_rows: tuple[Ints, Ints]) -> list[_Kind]:
    kinds = []
    version, bucket = band_rows
    kinds.append(_Kind("text", data.version_ads[version], bucket, settings.bands))
    kinds.append(_Kind("image", data.image_ads, photo))
    named = data.personas != -1
    kinds.append(_Kind("persona", data.version_ads[named], data.personas[named]))
    # Groups meet in a commune during a week; the meeting is weighed by commune (a stay
    # spans weeks: ten weeks in one town are one coincidence, not ten).
    cell_ads, cells = _cell_rows(data)
    kinds.append(_Kind("colocation", cell_ads, cells, families=cells >> WEEK_BITS))
    return kinds


def link(data: LinkInput, settings: LinkSettings) -> LinkResult:
    """Label every ad with its network (see the module docstring)."""
    n = data.ads
    persona_of_ad = np.full(n, -1, dtype=np.int64)
    with_persona = data.personas != -1
    persona_of_ad[data.version_ads[with_persona]] = data.personas[with_persona]
    keys, handovers = (_split_handovers(data, persona_of_ad, settings.min_similarity)
                       if settings.handover
                       else (list(data.keys), []))
    groups = _renumbered(_strong_groups(data, keys)) if n else np.empty(0, dtype=np.int64)
    result = LinkResult(labels=groups, groups=groups, key_ads=data.key_ads, episode_keys=keys,
                        handovers=handovers)
    if n == 0:
        return result
    count = int(groups.max()) + 1
    photo = photos(data, settings)
    result.photo = photo
    band_rows = _band_rows(data, settings)

    # Candidates: group pairs with near-duplicate text or the same photo (the blocking).
    tl, tr, vl, vr = _text_pairs(data, groups, settings, band_rows)
    il, ir, al, ar = _image_pairs(data, groups, settings, photo)
    left = np.concatenate([tl, il])
    right = np.concatenate([tr, ir])
    if len(left) == 0:
        return result
    pair, first = np.unique(_pack(left, right), return_index=True)
    witness_l = np.concatenate([data.version_ads[vl], al])[first]
    witness_r = np.concatenate([data.version_ads[vr], ar])[first]
    left, right = pair >> 32, pair & 0xFFFFFFFF
    similar_text = np.isin(pair, _pack(tl, tr))

    # Weights, learnt from the store (``evidence``); frequencies are counted over networks,
    # not groups: a network split over several numbers shows its own photos in several
    # groups, which does not make them common. Decided again until nothing changes.
    kinds = _comparisons(data, settings, groups, keys, photo, persona_of_ad, band_rows)
    # When each group was advertised, in weeks: co-location is comparable only for groups
    # advertised at the same time.
    first_week = np.full(count, np.iinfo(np.int64).max, dtype=np.int64)
    last_week = np.full(count, np.iinfo(np.int64).min, dtype=np.int64)
    np.minimum.at(first_week, groups, data.first_day // 7)
    np.maximum.at(last_week, groups, data.last_day // 7)
    for kind in kinds:
        kind.shared = shared(kind.values, left, right, kind.family_of_value)
        if kind.name == "text":  # texts alike, not only a band in common
            keep = similar_text[kind.shared.pair]
            kind.shared = Shared(len(left), kind.shared.pair[keep], kind.shared.item[keep])
    labels = groups
    for _ in range(settings.passes):
        clusters = int(labels.max()) + 1
        cluster_of_group = np.zeros(count, dtype=np.int64)
        cluster_of_group[groups] = labels
        weighed = _weigh(kinds, left, right, cluster_of_group, clusters, first_week,
                         last_week)
        needed = threshold(clusters, settings.min_posterior)
        accept = weighed.total >= needed
        merged = _components(count, left[accept], right[accept])
        new_labels = _renumbered(merged[groups])
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
    agreeing = np.sum([weighed.rarest[k.name] > 0 for k in kinds], axis=0)
    shown = accept | (agreeing >= 2)  # refusals worth explaining: two kinds agree or more
    result.weak_links = [
        WeakLink(int(witness_l[i]), int(witness_r[i]),
                 frozenset(k.name for k in kinds if weighed.rarest[k.name][i] > 0),
                 weights={k: round(float(v[i]), 2) for k, v in weighed.weights.items()},
                 total=round(float(weighed.total[i]), 2), needed=round(needed, 2),
                 refused=not bool(accept[i]))
        for i in np.flatnonzero(shown).tolist()]
    result.m = {k.name: round(k.m, 3) for k in kinds}
    result.m.update({f"{k.name}|persona": round(k.m_against, 3) for k in kinds
                     if k.m_against is not None})
    made = [w for w in result.weak_links if not w.refused]
    _cut_bridges(made, groups, settings.bridge_min_ads)
    kept = [w for w in made if not w.cut]
    if kept:
        ga = groups[np.array([w.left for w in kept], dtype=np.int64)]
        gb = groups[np.array([w.right for w in kept], dtype=np.int64)]
        result.labels = _components(count, ga, gb)[groups]
    return result


@dataclass
class _Comparison:
    """One kind of weak evidence, ready to weigh: its (group, value) rows, the families
    its values are weighed by (None: each value its own), its learnt m, and what each
    candidate pair shares (once found)."""

    name: str
    values: KindValues
    families: KindValues | None
    family_of_value: Ints | None
    m: float
    m_against: float | None = None
    shared: Shared | None = None


def _photos_of_one_persona_m(data: LinkInput, settings: LinkSettings, photo: Ints,
                             part_of_ad: Ints, part_group: Ints, persona_of_ad: Ints
                             ) -> float:
    """How often two parts of one controller that show the same persona show a photo in
    common: the m of photos under one name and age (what makes different photos of two
    namesakes negative evidence), learnt like any m, each (group, persona) taken as a
    group of its own."""
    ads = data.image_ads
    keep = (part_of_ad[ads] >= 0) & (persona_of_ad[ads] != -1)
    ads, values = ads[keep], photo[keep]
    if len(ads) == 0:
        return settings.default_m["image"]
    persona = dense(persona_of_ad[ads])[1]
    part = part_of_ad[ads]
    sub_keys, sub = dense(_pack(part, persona))
    sub_parts, sub_personas = sub_keys >> 32, sub_keys & 0xFFFFFFFF
    group_of_sub = dense(_pack(part_group[sub_parts], sub_personas))[1]
    m, _ = estimate_m(group_of_sub, sub, values,
                      settings.default_m["image"])
    return min(max(m, settings.min_m), settings.max_m)


def _comparisons(data: LinkInput, settings: LinkSettings, groups: Ints, keys: list[str],
                 photo: Ints, persona_of_ad: Ints,
                 band_rows: tuple[Ints, Ints]) -> list[_Comparison]:
    count = int(groups.max()) + 1
    part_of_ad, part_group = _parts(data, groups, keys)
    out = []
    for kind in _kinds(data, settings, photo, band_rows):
        independent = kind.name in INDEPENDENT_KINDS
        values = kind_values(kind.name, groups[kind.ads], kind.values, count, kind.bunch,
                             independent)
        m, _ = estimate_m(part_group, part_of_ad[kind.ads], kind.values,
                          settings.default_m[kind.name])
        m = min(max(m, settings.min_m), settings.max_m)
        if kind.name == "image":
            out.append(_Comparison(kind.name, values, None, None, m, _photos_of_one_persona_m(
                data, settings, photo, part_of_ad, part_group, persona_of_ad)))
            continue
        if kind.families is None:
            out.append(_Comparison(kind.name, values, None, None, m))
            continue
        families = kind_values(kind.name, groups[kind.ads], kind.families, count,
                               independent=independent)
        family_of_value = np.searchsorted(distinct(kind.families),
                                          distinct(kind.values) >> WEEK_BITS)
        out.append(_Comparison(kind.name, values, families, family_of_value, m))
    return out


@dataclass
class _Weighed:
    weights: dict[str, Floats]
    counts: dict[str, Ints]
    rarest: dict[str, Ints]
    total: Floats


def _weigh(kinds: list[_Comparison], left: Ints, right: Ints, cluster_of_group: Ints,
           clusters: int, first_week: Ints, last_week: Ints) -> _Weighed:
    """The weight of each kind for each candidate pair, frequencies counted by cluster."""
    counts: dict[str, Ints] = {}
    rarest: dict[str, Ints] = {}
    weighers: list[Weigher] = []
    for kind in kinds:
        assert kind.shared is not None
        weighed = counted_by(kind.families if kind.families is not None else kind.values,
                             cluster_of_group, clusters)
        weighers.append(Weigher(kind.name, kind.m, weighed, kind.m_against))
        counts[kind.name] = kind.shared.count
        rarest[kind.name] = (kind.shared.commonest(weighed.per_value) if kind.name == "text"
                             else kind.shared.rarest(weighed.per_value))
    weights: dict[str, Floats] = {}
    same_persona = rarest["persona"] > 0
    overlap = (first_week[left] <= last_week[right]) & (first_week[right] <= last_week[left])
    together = cluster_of_group[left] == cluster_of_group[right]
    for w in weighers:
        agree = rarest[w.kind] > 0
        # Negative evidence, weighed by the same m: two parts of one controller mostly
        # write alike, show a persona in common and meet somewhere; groups that both could
        # and never do are likelier two. Photos are compared under the same persona only
        # (two namesakes with their own photos); places only for groups advertised in the
        # same weeks.
        disagrees = w.comparable(left, right) & ~agree
        if w.kind == "image":
            disagrees &= same_persona
        elif w.kind == "colocation":
            disagrees &= overlap
        weights[w.kind] = np.where(
            agree, w.agreement(counts[w.kind], rarest[w.kind], left, right, together),
            np.where(disagrees, w.disagreement(left, right), 0.0))
    return _Weighed(weights, counts, rarest, np.sum(list(weights.values()), axis=0))


def _cut_bridges(links: Sequence[WeakLink], groups: Ints, min_ads: int) -> None:
    """Mark as cut each link that is a bridge between two sides of ``min_ads`` ads or more."""
    if not links:
        return
    sizes = np.bincount(groups)
    nodes: dict[int, int] = {}
    edges = []
    for w in links:
        a = nodes.setdefault(int(groups[w.left]), len(nodes))
        b = nodes.setdefault(int(groups[w.right]), len(nodes))
        edges.append((a, b))
    graph = igraph.Graph(n=len(nodes), edges=edges)
    weight = np.zeros(len(nodes), dtype=np.int64)
    for group, node in nodes.items():
        weight[node] = sizes[group]
    degree = graph.degree()
    for edge in graph.bridges():
        source, target = edges[edge]
        if (degree[source] == 1 and weight[source] < min_ads) or (
                degree[target] == 1 and weight[target] < min_ads):
            continue  # a lone small group joining: nothing established on one side
        trial = graph.copy()
        trial.delete_edges([edge])
        membership = np.array(trial.connected_components().membership)
        side_a = weight[membership == membership[source]].sum()
        side_b = weight[membership == membership[target]].sum()
        if min(side_a, side_b) >= min_ads:
            links[edge].cut = True
