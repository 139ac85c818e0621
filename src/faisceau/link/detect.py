"""``faisceau detect``: link what has been ingested, incrementally, and keep the result.

A run (under the store's writer lock, so that it never races an ingestion):

1. computes the features of the ad versions added since the last run (``features``),
   committed on their own: a run killed later does not redo them;
2. links every ad from compact stored columns (``load``, ``graph``), in memory;
3. names the networks (``identity``) and, in one transaction, writes what changed: the
   ads whose network changed, the networks touched (changed or seen again), their evidence
   with provenance, the merges and splits with cause and date. A run killed during this
   step leaves the previous result whole; running again finishes the job.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
from sqlalchemy import Connection, select

from faisceau.ingest.lock import ingest_lock
from faisceau.link import features
from faisceau.link.graph import LinkInput, LinkResult, link
from faisceau.link.identity import Change, assign, network_id_of
from faisceau.link.load import Ads, load_input
from faisceau.link.settings import LinkSettings, load_settings
from faisceau.store import Store, bulk
from faisceau.store.schema import detect_state

_STRONG_LABELS = {"phone": "téléphone", "email": "e-mail", "handle": "identifiant"}


@dataclass
class DetectSummary:
    new_versions: int = 0
    ads: int = 0
    networks: int = 0
    linked_ads: int = 0  # ads in networks of two ads or more
    reassigned: int = 0
    touched: int = 0
    merges: int = 0
    splits: int = 0
    weak_links: int = 0
    cut_links: int = 0
    refused_links: int = 0  # compared on weak evidence, not enough to link (explained)
    handovers: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class Linked:
    """What a run linked, for the stages after it (scoring) to reuse without re-reading:
    the ads in position order, their linking input and each ad's network identifier."""

    ads: Ads
    data: LinkInput
    network_ids: list[str]
    settings: LinkSettings
    # Networks whose members changed in this run: created, grown, shrunk, merged, emptied.
    regrouped: frozenset[str] = frozenset()
    # Each ad's network as a number, and the identifier of each number (see ``labels``).
    numbers: npt.NDArray[np.int64] | None = None
    number_ids: list[str] | None = None
    # Per image row of ``data``, its photo (``graph.photos``), as linking found it.
    photo: npt.NDArray[np.int64] | None = None

    def labels(self) -> tuple[npt.NDArray[np.int64], list[str]]:
        """Each ad's network as a number (-1: none yet), and the identifier of each number."""
        if self.numbers is not None and self.number_ids is not None:
            return self.numbers, self.number_ids
        ids: dict[str, int] = {}
        numbers = np.fromiter((ids.setdefault(n, len(ids)) if n else -1
                               for n in self.network_ids), dtype=np.int64,
                              count=len(self.network_ids))
        return numbers, list(ids)



def detect(store: Store, settings: LinkSettings | None = None, *,
           also: Sequence[features.Featuriser] = (),
           then: Callable[[Linked], None] | None = None) -> DetectSummary:
    """Link everything ingested; only new versions are featurised (see module docstring).

    ``also`` featurise each batch of new versions beside linking's features, in the same
    transaction; ``then`` runs after the result is committed, still under the writer lock,
    with what was linked. Scoring uses both, so that nothing is read twice in a run."""
    settings = settings or load_settings()
    summary = DetectSummary()
    clock = time.perf_counter()
    with ingest_lock(store):
        with store.begin() as conn:
            done = int(conn.exec_driver_sql(
                "SELECT COALESCE(MAX(version_id), 0) FROM link_features").scalar_one())
            high, summary.new_versions = features.compute_new(conn, done, settings, also)
        summary.seconds["features"] = time.perf_counter() - clock
        with store.begin() as conn:
            clock = time.perf_counter()
            ads, data = load_input(conn, settings)
            summary.seconds["load"] = time.perf_counter() - clock
            clock = time.perf_counter()
            result = link(data, settings)
            summary.seconds["link"] = time.perf_counter() - clock
            clock = time.perf_counter()
            network_ids, regrouped, number_ids = _write(conn, ads, result, high, summary)
            summary.seconds["write"] = time.perf_counter() - clock
        if then is not None:
            then(Linked(ads, data, network_ids, settings, regrouped, result.labels, number_ids,
                        result.photo))
    return summary


def _write(conn: Connection, ads: Ads, result: LinkResult, high_version: int,
           summary: DetectSummary) -> tuple[list[str], frozenset[str], list[str]]:
    """Write what changed; returns each ad's network identifier, in position order, the
    networks whose members changed, and the identifier of each label."""
    state = conn.execute(select(detect_state).where(detect_state.c.id == 1)).first()
    previous_run = state.last_run_at if state is not None else None
    previous = {int(pk): str(n) for pk, n in bulk.fetch(
        conn, "SELECT ad_pk, network_id FROM ad_network", ())}
    taken = {str(r[0]) for r in bulk.fetch(conn, "SELECT id FROM network", ())}
    labels = result.labels.tolist()
    members: dict[int, list[int]] = defaultdict(list)
    for position, label in enumerate(labels):
        members[label].append(position)
    by_pk = {label: [ads.pks[p] for p in positions] for label, positions in members.items()}
    ref_of = dict(zip(ads.pks, ads.refs, strict=True))

    def name_of(pk: int, salt: int) -> str:
        source, _, ad_id = ref_of[pk].partition(":")
        return network_id_of(source, ad_id, salt)

    ids, changes = assign(by_pk, previous, taken, name_of)
    now = bulk.utc_now()
    network_of = [ids[label] for label in labels]
    moved = [p for p, pk in enumerate(ads.pks) if previous.get(pk) != network_of[p]]
    changed = [(ads.pks[p], network_of[p]) for p in moved]
    # Touched: a changed member, or an ad seen since the last run (dates and evidence move).
    touched_labels = {labels[p] for p in moved}
    touched_labels |= {labels[p] for p, seen in enumerate(ads.last_seen)
                       if previous_run is None or seen >= previous_run}
    touched_labels |= {label for label in members if ids[label] not in taken}
    touched = {ids[label] for label in touched_labels}
    emptied = set(previous.values()) - set(ids.values())

    rows: list[tuple[Any, ...]] = []
    for label in touched_labels:
        positions = members[label]
        rows.append((ids[label], now, now, "active", len(positions),
                     min(ads.first_seen[p] for p in positions),
                     max(ads.last_seen[p] for p in positions)))
    absorbed = {n for c in changes if c.kind == "merged" for n in c.others}
    rows.extend((n, now, now, "merged" if n in absorbed else "emptied", 0, None, None)
                for n in sorted(emptied))
    bulk.upsert_rows(conn, "network", "id", ("id", "created_at", "updated_at", "status", "ads",
                                             "first_seen", "last_seen"), rows,
                     ("updated_at", "status", "ads", "first_seen", "last_seen"))
    pks_changed = [pk for pk, _ in changed]
    bulk.delete_in(conn, "ad_network", "ad_pk", pks_changed)
    bulk.note_change(conn, "networks")
    bulk.insert_rows(conn, "ad_network", ("ad_pk", "network_id"), changed)
    bulk.delete_in(conn, "network_evidence", "network_id", sorted(touched | emptied))
    bulk.insert_rows(conn, "network_evidence",
                     ("network_id", "kind", "value", "ads", "first_seen", "last_seen", "detail"),
                     _evidence_rows(ads, result, network_of, touched))
    bulk.insert_rows(conn, "network_event",
                     ("at", "data_date", "kind", "network_id", "others", "cause"),
                     _event_rows(ads, result, changes, previous, members, ids, now))
    if state is None:
        bulk.insert_rows(conn, "detect_state", ("id", "last_version_id", "runs", "last_run_at"),
                         [(1, high_version, 1, now)])
    else:
        conn.execute(detect_state.update().where(detect_state.c.id == 1).values(
            last_version_id=high_version, runs=detect_state.c.runs + 1, last_run_at=now))
    summary.ads = len(labels)
    summary.networks = len(members)
    summary.linked_ads = sum(len(m) for m in members.values() if len(m) > 1)
    summary.reassigned = len(changed)
    summary.touched = len(touched)
    summary.merges = sum(c.kind == "merged" for c in changes)
    summary.splits = sum(c.kind == "split" for c in changes)
    summary.weak_links = sum(not w.cut and not w.refused for w in result.weak_links)
    summary.cut_links = sum(w.cut for w in result.weak_links)
    summary.refused_links = sum(w.refused for w in result.weak_links)
    summary.handovers = len(result.handovers)
    regrouped = {network_of[p] for p in moved} | {previous[ads.pks[p]] for p in moved
                                                  if ads.pks[p] in previous}
    number_ids = [ids.get(label, "") for label in range(max(members, default=-1) + 1)]
    return network_of, frozenset(regrouped | emptied), number_ids


def _evidence_rows(ads: Ads, result: LinkResult, network_of: list[str],
                   touched: set[str]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    by_key: dict[tuple[str, str], set[int]] = defaultdict(set)
    for row, key in enumerate(result.episode_keys):
        position = int(result.key_ads[row])
        network = network_of[position]
        if network in touched:
            by_key[(network, key)].add(position)
    for (network, key), positions in sorted(by_key.items()):
        if len(positions) < 2:
            continue
        kind, _, value = key.partition(":")
        value, _, episode = value.partition("#")
        owner = {"owner": int(episode)} if episode else None
        out.append(_evidence(network, kind, value, sorted(positions), ads, owner))
    for link_ in result.weak_links:
        kind = "refused" if link_.refused else "cut" if link_.cut else "corroborated"
        detail = {"kinds": sorted(link_.kinds), "weights": link_.weights,
                  "total": link_.total, "needed": link_.needed}
        # A refusal or a cut is explained on both sides: each network shows what almost
        # joined it to the other, and why not.
        sides = {network_of[link_.left]} if kind == "corroborated" else {
            network_of[link_.left], network_of[link_.right]}
        for network in sorted(sides & touched):
            out.append(_evidence(network, kind, "+".join(sorted(link_.kinds)) or "-",
                                 [link_.left, link_.right], ads, detail))
    return out


def _evidence(network: str, kind: str, value: str, positions: list[int], ads: Ads,
              detail: dict[str, Any] | None) -> tuple[Any, ...]:
    return (network, kind, value, orjson.dumps([ads.refs[p] for p in positions]).decode(),
            min(ads.first_seen[p] for p in positions), max(ads.last_seen[p] for p in positions),
            orjson.dumps(detail).decode() if detail else None)


def _event_rows(ads: Ads, result: LinkResult, changes: list[Change], previous: dict[int, str],
                members: dict[int, list[int]], ids: dict[int, str],
                now: datetime) -> list[tuple[Any, ...]]:
    label_of_id = {network: label for label, network in ids.items()}
    split = {c.network_id for c in changes if c.kind == "split"}
    before: dict[str, list[int]] = defaultdict(list)
    if split:
        for p, pk in enumerate(ads.pks):
            network = previous.get(pk)
            if network in split:
                before[network].append(p)
    keys_of: dict[int, list[str]] = defaultdict(list)
    if any(c.kind == "merged" for c in changes):
        for row, key in enumerate(result.episode_keys):
            keys_of[int(result.key_ads[row])].append(key)
    out: list[tuple[Any, ...]] = []
    for change in changes:
        if change.kind == "merged":
            positions = members[label_of_id[change.network_id]]
            cause = _merge_cause(ads, result, keys_of, positions, previous)
            when = max(ads.last_seen[p] for p in positions)
        else:
            positions = before[change.network_id]
            cause = _split_cause(ads, result, set(positions))
            when = max(ads.last_seen[p] for p in positions)
        out.append((now, when, change.kind, change.network_id,
                    orjson.dumps(change.others).decode(), cause))
    return out


def _merge_cause(ads: Ads, result: LinkResult, keys_of: dict[int, list[str]],
                 positions: list[int], previous: dict[int, str]) -> str:
    inside = set(positions)
    before = {p: previous.get(ads.pks[p]) for p in positions}
    holders: dict[str, set[str | None]] = defaultdict(set)
    example: dict[str, list[int]] = defaultdict(list)
    for p in positions:
        for key in keys_of.get(p, ()):
            holders[key].add(before[p])
            example[key].append(p)
    for key, networks in sorted(holders.items()):
        if len(networks) > 1:
            kind, _, value = key.partition(":")
            refs = ", ".join(ads.refs[p] for p in sorted(example[key])[:3])
            return f"{_STRONG_LABELS.get(kind, kind)} {value.partition('#')[0]} commun ({refs})"
    for link_ in result.weak_links:
        if (not link_.cut and not link_.refused and link_.left in inside
                and before[link_.left] != before[link_.right]):
            return (f"preuves faibles concordantes ({', '.join(sorted(link_.kinds))} : "
                    f"poids {_french(link_.total)} pour {_french(link_.needed)} requis) entre "
                    f"{ads.refs[link_.left]} et {ads.refs[link_.right]}")
    return "annonces nouvelles reliant les deux réseaux"


def _french(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


def _split_cause(ads: Ads, result: LinkResult, positions: set[int]) -> str:
    for handover in result.handovers:
        if any(p in positions for run in handover.episodes for p in run):
            kind, _, value = handover.key.partition(":")
            return (f"{_STRONG_LABELS.get(kind, kind)} {value} passé d'une personne à une autre "
                    f"({len(handover.episodes)} titulaires successifs)")
    for link_ in result.weak_links:
        if link_.cut and link_.left in positions:
            return (f"lien faible coupé (pont entre deux groupes établis) entre "
                    f"{ads.refs[link_.left]} et {ads.refs[link_.right]}")
    return "preuves réévaluées: le lien n'est plus corroboré"
