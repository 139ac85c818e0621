"""Stable network identifiers across runs, and the merges and splits between them.

A cluster found by this run takes the identifier of the previous network it shares the most
ads with (ties: the identifier that sorts first), so a network that grows keeps its identifier.
Each previous identifier goes to at most one cluster; the others are new networks. A
cluster that takes ads from several previous networks records a merge; a previous network
whose ads went to several clusters records a split.

A new identifier is derived from an ad of the cluster (``n-`` and a hash of its source and
ad id, the first ad in store order whose identifier is free): the same history gives the
same identifiers, and a network of one ad has the identifier of the ad alone.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass


def network_id_of(source: str, ad_id: str, salt: int = 0) -> str:
    text = f"{source}\x1f{ad_id}" + (f"\x1f{salt}" if salt else "")
    return "n-" + hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


@dataclass
class Change:
    kind: str  # "merged" or "split"
    network_id: str
    others: list[str]


def assign(members: Mapping[int, Sequence[int]], previous: Mapping[int, str],
           taken: Collection[str], name_of: Callable[[int, int], str]
           ) -> tuple[dict[int, str], list[Change]]:
    """Identifiers for the clusters ``members`` (cluster -> ad keys in store order).

    ``previous`` maps ads to their previous network; ``taken`` holds every identifier ever
    given; ``name_of(ad, salt)`` derives a new identifier from an ad.
    """
    # One count over every ad, not one counter per cluster: most clusters are unchanged.
    pairs = Counter((cluster, previous[a]) for cluster, ads in members.items()
                    for a in ads if a in previous)
    sources: dict[int, dict[str, int]] = {cluster: {} for cluster in members}
    for (cluster, network), count in pairs.items():
        sources[cluster][network] = count
    overlaps = sorted((-count, network, cluster) for (cluster, network), count in pairs.items())
    ids: dict[int, str] = {}
    given: set[str] = set()
    for _, network, cluster in overlaps:
        if cluster not in ids and network not in given:
            ids[cluster] = network
            given.add(network)
    used = set(taken) | given
    for cluster, ads in members.items():
        if cluster in ids:
            continue
        found = None
        for salt in range(100):
            for ad in ads:
                candidate = name_of(ad, salt)
                if candidate not in used:
                    found = candidate
                    break
            if found:
                break
        if found is None:
            raise RuntimeError("no free network identifier")  # 100 salts × every ad: never
        ids[cluster] = found
        used.add(found)

    changes: list[Change] = []
    parts: dict[str, list[str]] = defaultdict(list)
    for cluster, counts in sources.items():
        for network in counts:
            parts[network].append(ids[cluster])
        # Absorbed: previous networks whose identifier went to no cluster (one that kept
        # its identifier elsewhere was split, not merged).
        absorbed = sorted(n for n in counts if n != ids[cluster] and n not in given)
        if absorbed:
            changes.append(Change("merged", ids[cluster], absorbed))
    for network, pieces in sorted(parts.items()):
        if len(pieces) > 1:
            changes.append(Change("split", network, sorted(p for p in pieces if p != network)))
    return ids, changes
