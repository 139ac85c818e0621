"""The linking itself: ads in, one label per ad out, with the evidence of every link.

A pure function of arrays (no store), vectorised with numpy and scipy, in three steps:

1. **Strong identifiers** (phone in E.164, e-mail, messaging handle) put ads together
   outright. A number that changed hands is not one identifier: when its ads, in time
   order, fall into runs of one persona each that do not overlap, each run is its own
   identifier (``handover``). The connected groups are the *groups*.
2. **Weak evidence** between groups: near-duplicate text (MinHash-LSH over slot-masked
   shingles), the same photo (exact or perceptual hash), the same persona (name and stated
   age), co-location (same commune, same ISO week). None of these links two groups alone:
   a link needs one of the configured corroborations (three kinds together, e.g. text,
   persona and co-location). Stock evidence never counts: a text bucket seen in many
   communes in one week, a photo shown by many groups.
3. **Bridges cut**: a weak link whose removal would split its network into two sides of
   several ads each is dropped, so one coincidence cannot chain two established groups.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import igraph
import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from faisceau.link import text as text_sim
from faisceau.link.settings import LinkSettings

Ints = npt.NDArray[np.int64]


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
    left: int  # representative ad positions, one in each group
    right: int
    kinds: frozenset[str]
    cut: bool = False


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
    weak_links: list[WeakLink] = field(default_factory=list)
    handovers: list[Handover] = field(default_factory=list)


def _distinct(values: Ints) -> Ints:
    """The distinct values, sorted. (``np.unique`` without options hashes, which numpy 2.4
    does 20 times slower than this sort on millions of integers.)"""
    ordered = np.sort(values)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if len(ordered) else ordered


def _pack(high: Ints, low: Ints) -> Ints:
    """Two arrays of small non-negative integers (< 2**31) as one sortable key each."""
    return (high.astype(np.int64) << 32) | low.astype(np.int64)


def _components(n: int, left: Ints, right: Ints) -> Ints:
    if n == 0:
        return np.empty(0, dtype=np.int64)
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    return connected_components(graph, directed=False)[1].astype(np.int64)


def _split_handovers(data: LinkInput, persona_of_ad: Ints) -> tuple[list[str], list[Handover]]:
    """Keys after splitting those whose runs of personas say they changed hands."""
    keys = list(data.keys)
    # Only keys shown under two personas or more can have changed hands: found with numpy,
    # so that the rows of every other key are never visited one by one.
    key_ids: dict[str, int] = {}
    key_index = np.fromiter((key_ids.setdefault(k, len(key_ids)) for k in keys),
                            dtype=np.int64, count=len(keys))
    _, persona_index = np.unique(persona_of_ad[data.key_ads], return_inverse=True)
    pairs = _distinct(_pack(key_index, persona_index))
    several = np.flatnonzero(np.bincount(pairs >> 32, minlength=len(key_ids)) >= 2)
    by_key: dict[str, list[int]] = defaultdict(list)
    for row in np.flatnonzero(np.isin(key_index, several)).tolist():
        by_key[keys[row]].append(row)
    handovers: list[Handover] = []
    for key, rows in by_key.items():
        if len(rows) < 2:
            continue
        ads = sorted({int(data.key_ads[r]) for r in rows},
                     key=lambda a: (data.first_day[a], a))
        shown = [int(persona_of_ad[a]) for a in ads]
        if len(set(shown)) < 2 or -1 in shown:
            continue
        runs: list[list[int]] = [[ads[0]]]
        for previous, current in itertools.pairwise(ads):
            if persona_of_ad[current] == persona_of_ad[previous]:
                runs[-1].append(current)
            else:
                runs.append([current])
        run_personas = [int(persona_of_ad[run[0]]) for run in runs]
        if len(set(run_personas)) != len(runs):
            continue  # a persona comes back: several people at once, not a hand-over
        disjoint = all(
            max(int(data.last_day[a]) for a in before) < min(int(data.first_day[a]) for a in after)
            for before, after in itertools.pairwise(runs))
        if not disjoint:
            continue
        episode_of = {a: i for i, run in enumerate(runs) for a in run}
        for r in rows:
            keys[r] = f"{key}#{episode_of[int(data.key_ads[r])] + 1}"
        handovers.append(Handover(key, runs))
    return keys, handovers


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


def _text_pairs(data: LinkInput, groups: Ints, settings: LinkSettings
                ) -> tuple[Ints, Ints, Ints, Ints]:
    """Group pairs with near-duplicate, non-stock text, and one version of each."""
    empty = np.empty(0, dtype=np.int64)
    rows = np.flatnonzero(data.has_text)
    if len(rows) == 0:
        return empty, empty, empty, empty
    bands = text_sim.band_keys(data.signatures[rows], settings.bands)
    version = np.repeat(rows, settings.bands)
    bucket = bands.ravel().view(np.int64)
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
    _, first_pair = np.unique(_pack(gl, gr), return_index=True)
    return gl[first_pair], gr[first_pair], vl[first_pair], vr[first_pair]


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
    cells = _distinct((bucket_id[row[cell_row]] << (week_bits + commune_bits))
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
    return _distinct_ids(_components(nodes, left, right)[:rows])


def _distinct_ids(values: Ints) -> Ints:
    """Values renumbered 0..k-1 in sorted order."""
    return np.searchsorted(_distinct(values), values).astype(np.int64)


def _image_pairs(data: LinkInput, groups: Ints, settings: LinkSettings
                 ) -> tuple[Ints, Ints, Ints, Ints]:
    """Group pairs showing the same photo (``photos``), and one ad of each; photos shown
    by many groups are stock and do not count."""
    empty = np.empty(0, dtype=np.int64)
    if len(data.image_ads) == 0:
        return empty, empty, empty, empty
    photo = photos(data, settings)
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
    _, first_pair = np.unique(_pack(gl, gr), return_index=True)
    return gl[first_pair], gr[first_pair], al[first_pair], ar[first_pair]


def _group_sets(positions: Ints, values: Ints, groups: Ints,
                candidates: Ints) -> dict[int, set[int]]:
    """The values of each candidate group (``-1``: none)."""
    wanted = np.isin(groups[positions], candidates) & (values != -1)
    out: dict[int, set[int]] = defaultdict(set)
    for g, v in zip(groups[positions[wanted]].tolist(), values[wanted].tolist(), strict=True):
        out[g].add(v)
    return out


def _cells(data: LinkInput, groups: Ints, candidates: Ints) -> dict[int, set[tuple[int, int]]]:
    """(commune, ISO week) cells each candidate group was advertised in."""
    wanted = np.isin(groups[data.place_ads], candidates)
    out: dict[int, set[tuple[int, int]]] = defaultdict(set)
    for ad, commune in zip(data.place_ads[wanted].tolist(),
                           data.place_communes[wanted].tolist(), strict=True):
        cells = out[int(groups[ad])]
        for week in range(int(data.first_day[ad]) // 7, int(data.last_day[ad]) // 7 + 1):
            cells.add((commune, week))
    return out


def link(data: LinkInput, settings: LinkSettings) -> LinkResult:
    """Label every ad with its network (see the module docstring)."""
    n = data.ads
    persona_of_ad = np.full(n, -1, dtype=np.int64)
    with_persona = data.personas != -1
    persona_of_ad[data.version_ads[with_persona]] = data.personas[with_persona]
    keys, handovers = (_split_handovers(data, persona_of_ad) if settings.handover
                       else (list(data.keys), []))
    groups = _strong_groups(data, keys)
    result = LinkResult(labels=groups, groups=groups, key_ads=data.key_ads, episode_keys=keys,
                        handovers=handovers)

    kinds: dict[tuple[int, int], set[str]] = defaultdict(set)
    witness: dict[tuple[int, int], tuple[int, int]] = {}
    tl, tr, vl, vr = _text_pairs(data, groups, settings)
    for a, b, x, y in zip(tl.tolist(), tr.tolist(), vl.tolist(), vr.tolist(), strict=True):
        kinds[(a, b)].add("text")
        witness.setdefault((a, b), (int(data.version_ads[x]), int(data.version_ads[y])))
    il, ir, al, ar = _image_pairs(data, groups, settings)
    for a, b, x, y in zip(il.tolist(), ir.tolist(), al.tolist(), ar.tolist(), strict=True):
        kinds[(a, b)].add("image")
        witness.setdefault((a, b), (x, y))
    if not kinds:
        return result
    # Persona and co-location only corroborate: they are read for candidate pairs alone.
    candidates = _distinct(np.fromiter((g for pair in kinds for g in pair), dtype=np.int64))
    personas = _group_sets(data.version_ads, data.personas, groups, candidates)
    cells = _cells(data, groups, candidates)
    accepted: list[WeakLink] = []
    for (a, b), found in kinds.items():
        if personas.get(a, set()) & personas.get(b, set()):
            found.add("persona")
        if cells.get(a, set()) & cells.get(b, set()):
            found.add("colocation")
        frozen = frozenset(found)
        if any(pair <= frozen for pair in settings.corroborations):
            x, y = witness[(a, b)]
            accepted.append(WeakLink(x, y, frozen))
    _cut_bridges(accepted, groups, settings.bridge_min_ads)
    kept = [w for w in accepted if not w.cut]
    result.weak_links = accepted
    if kept:
        ga = groups[np.array([w.left for w in kept], dtype=np.int64)]
        gb = groups[np.array([w.right for w in kept], dtype=np.int64)]
        top = int(groups.max()) + 1
        merged = _components(top, ga, gb)
        result.labels = merged[groups]
    return result


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
