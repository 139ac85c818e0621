"""The scoring pass, run by ``faisceau detect`` after linking (or alone: ``faisceau score``).

1. The cues of the ad versions added since the last pass (``features``), committed on
   their own, like linking's features.
2. In one transaction: every network scored from compact arrays (``indicators``,
   ``combine``), and only what changed written: the networks whose risk, flags, size or
   indicators moved, with their reasons and evidence, and the minor suspicions that came
   or went. An ad's risk is its network's. A pass killed midway leaves the previous scores whole.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
from sqlalchemy import Connection, select

from faisceau.link.detect import DetectSummary, Linked, detect
from faisceau.link.graph import photos
from faisceau.link.load import load_input
from faisceau.link.settings import load_settings as load_link_settings
from faisceau.score import features
from faisceau.score.combine import (
    MINOR_WHY,
    Scores,
    combine,
    contribution_factors,
    describe,
    evidence_by_network,
    minor_evidence,
)
from faisceau.score.indicators import (
    ScoringInput,
    dense,
    first_shown_elsewhere,
    medians_of,
    price_medians,
)
from faisceau.score.settings import ScoreSettings, load_settings
from faisceau.store import Store, bulk
from faisceau.store.schema import score_state

NETWORK_COLUMNS = ("network_id", "risk", "trafficking_suspected", "minor_suspected",
                   "scam_suspected", "ads", "indicators", "reasons", "scored_at")
AD_COLUMNS = ("ad_pk", "why")
NO_REASONS = orjson.dumps({"risk": [], "minor": [], "scam": []}).decode()


@dataclass
class ScoreSummary:
    new_versions: int = 0
    networks: int = 0
    suspected: int = 0  # networks suspected of trafficking
    scam_networks: int = 0  # networks suspected of being scams
    minor_networks: int = 0
    minor_ads: int = 0
    networks_written: int = 0
    scored_networks: int = 0  # networks scored in this pass (all, or those that changed)
    incremental: bool = False
    ads_written: int = 0  # minor suspicions added or removed
    seconds: dict[str, float] = field(default_factory=dict)



@contextmanager
def _without_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: a pass allocates many small objects that form no
    cycles, and each automatic collection would walk every object of the linked store
    (hundreds of thousands of strings and tuples) for nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def score(store: Store, linked: Linked | None = None,
          settings: ScoreSettings | None = None) -> ScoreSummary:
    """Score the linked networks; ``linked`` is what ``detect`` just linked. After a run
    that scored the previous detection with the same catalogue, only the networks whose
    members changed or whose ads have new versions are scored again; otherwise (first run,
    standalone ``faisceau score``, a new catalogue, a failed run before) all of them."""
    with _without_gc():
        return _score(store, linked, settings)


def _score(store: Store, linked: Linked | None,
           settings: ScoreSettings | None) -> ScoreSummary:
    settings = settings or load_settings()
    summary = ScoreSummary()
    with store.begin() as conn:
        # Normally computed with linking's features; a store scored for the first time, or
        # an interrupted catch-up, may lack some.
        clock = time.perf_counter()
        done = int(conn.exec_driver_sql(
            "SELECT COALESCE(MAX(version_id), 0) FROM score_features").scalar_one())
        summary.new_versions = features.compute_new(conn, done)
        summary.seconds["features"] = time.perf_counter() - clock
        clock = time.perf_counter()
        detect_runs = int(conn.exec_driver_sql(
            "SELECT COALESCE(MAX(runs), 0) FROM detect_state").scalar_one())
        state = conn.execute(select(score_state).where(score_state.c.id == 1)).first()
        incremental = (linked is not None and state is not None
                       and state.catalogue == settings.fingerprint
                       and state.detect_runs == detect_runs - 1)
        if linked is None:
            linked = _load_linked(conn)
        labels, label_ids = linked.labels()
        keep = (_affected(conn, linked, labels, label_ids, state.last_version_id)
                if incremental and state else labels >= 0)
        data, subset = _scoring_input(conn, linked, labels, label_ids, keep, settings)
        summary.seconds["load"] = time.perf_counter() - clock
        clock = time.perf_counter()
        scores = combine(data, settings)
        summary.seconds["score"] = time.perf_counter() - clock
        clock = time.perf_counter()
        _write(conn, data, subset, scores, settings, summary, incremental)
        _count(conn, summary)
        _save_state(conn, state is not None, settings.fingerprint, detect_runs)
        summary.seconds["write"] = time.perf_counter() - clock
    summary.scored_networks = data.networks
    summary.incremental = incremental
    return summary


def detect_and_score(store: Store, settings: ScoreSettings | None = None,
                     ) -> tuple[DetectSummary, ScoreSummary]:
    """``faisceau detect``: link, then score what was just linked, under one writer lock.

    Scoring's features are computed in linking's pass over new versions; their time is
    moved from linking's summary to scoring's, so that each stage shows its own cost."""
    spent: list[float] = []

    def featurise(conn: Connection, batch: features.VersionBatch) -> None:
        started = time.perf_counter()
        with _without_gc():
            features.featurise(conn, batch)
        spent.append(time.perf_counter() - started)

    scored: list[ScoreSummary] = []
    linked = detect(store, also=[featurise],
                    then=lambda linked: scored.append(score(store, linked, settings)))
    linked.seconds["features"] -= sum(spent)
    scored[0].seconds["features"] += sum(spent)
    scored[0].new_versions = max(scored[0].new_versions, linked.new_versions)
    bulk.refresh_statistics(store, bulk.MONITORING_TABLES)
    return linked, scored[0]


def _load_linked(conn: Connection) -> Linked:
    """What the last ``detect`` linked, from the store. Ads ingested since then have no
    network yet; they are left out until the next ``detect``."""
    settings = load_link_settings()
    ads, data = load_input(conn, settings)
    network_of = {int(pk): str(n) for pk, n in bulk.fetch(
        conn, "SELECT ad_pk, network_id FROM ad_network", ())}
    return Linked(ads, data, [network_of.get(pk, "") for pk in ads.pks], settings)


def _affected(conn: Connection, linked: Linked, labels: np.ndarray, label_ids: list[str],
              scored_up_to: int) -> np.ndarray:
    """Per ad position, whether its network must be scored again: its members changed in
    this detection, or one of its ads has a version scoring has not seen."""
    number = {network: label for label, network in enumerate(label_ids)}
    affected = {number[n] for n in linked.regrouped if n in number}
    new_ads = np.fromiter((r[0] for r in bulk.fetch(
        conn, f"SELECT DISTINCT ad_pk FROM score_features WHERE version_id > {bulk.mark(conn)}",
        (scored_up_to,))), dtype=np.int64)
    pks = np.asarray(linked.ads.pks, dtype=np.int64)  # ascending: read in id order
    found = np.searchsorted(pks, new_ads)
    found = found[(found < len(pks)) & (pks[np.minimum(found, len(pks) - 1)] == new_ads)]
    affected.update(labels[found].tolist())
    affected.discard(-1)
    return np.isin(labels, np.fromiter(affected, dtype=np.int64, count=len(affected)))


@dataclass
class Subset:
    """The ads being scored (all, or those of the networks that changed) and their
    networks: what ``ScoringInput``'s positions and labels stand for."""

    positions: np.ndarray  # ad positions in ``Linked``
    pks: list[int]
    refs: list[str]
    network_ids: list[str]  # per label
    regrouped: frozenset[str]


def _dense_strings(values: list[str]) -> tuple[np.ndarray, list[str]]:
    ids: dict[str, int] = {}
    out = np.fromiter((ids.setdefault(v, len(ids)) for v in values), dtype=np.int64,
                      count=len(values))
    return out, list(ids)


def _feature_rows(conn: Connection, pks: list[int] | None) -> list[tuple[Any, ...]]:
    """``score_features`` rows (version_id, ad_pk, cues, name_key, stated_age, département,
    price_hour, price_half, mentions) of the given ads (all when None), in version order."""
    columns = ("SELECT version_id, ad_pk, cues, name_key, stated_age, departement, price_hour, "
               "price_half, mentions FROM score_features")
    if pks is None:
        return bulk.fetch(conn, f"{columns} ORDER BY version_id", ())
    rows = bulk.fetch_in(conn, columns, "ad_pk", pks)
    rows.sort(key=lambda r: r[0])
    return rows


def _market(conn: Connection, settings: ScoreSettings) -> dict[str, tuple[float, float]]:
    """Median prices per département, from the market's histogram (``price_medians``)."""
    try:
        min_local = int(settings.indicator("low_price").param("min_local_ads"))
    except KeyError:
        return {}
    histogram = bulk.fetch(conn, "SELECT departement, minutes, price, versions "
                                 "FROM price_histogram", ())
    return price_medians(histogram, min_local)


def _scoring_input(conn: Connection, linked: Linked, labels: np.ndarray,
                   label_ids: list[str], keep: np.ndarray,
                   settings: ScoreSettings) -> tuple[ScoringInput, Subset]:
    """The arrays of ``ScoringInput`` for the ads kept, with their networks numbered anew."""
    ads, data = linked.ads, linked.data
    n = len(ads.pks)
    positions = np.flatnonzero(keep)
    every = len(positions) == n
    remap = np.full(n, -1, dtype=np.int64)
    remap[positions] = np.arange(len(positions))
    position_list = positions.tolist()
    pks = [ads.pks[p] for p in position_list]
    network, count = dense(labels[positions])
    firsts = np.zeros(count, dtype=np.int64)
    firsts[network] = labels[positions]
    network_ids = [label_ids[label] for label in firsts.tolist()]
    m = len(positions)

    rows = _feature_rows(conn, None if every else pks)
    local = {pk: i for i, pk in enumerate(pks)}
    rows = [r for r in rows if r[1] in local]
    v_ad = np.fromiter((local[r[1]] for r in rows), dtype=np.int64, count=len(rows))
    cues = np.zeros(m, dtype=np.int64)
    np.bitwise_or.at(cues, v_ad, np.fromiter((r[2] for r in rows), dtype=np.int64,
                                             count=len(rows)))
    # The latest version of each ad (rows are in version order) gives its name, age,
    # place and prices.
    latest = np.full(m, -1, dtype=np.int64)
    np.maximum.at(latest, v_ad, np.arange(len(rows), dtype=np.int64))
    has = latest >= 0
    chosen = [rows[i] for i in latest[has].tolist()]

    def column(index: int) -> np.ndarray:
        out = np.full(m, -1, dtype=np.int64)
        out[has] = np.fromiter((r[index] if r[index] is not None else -1 for r in chosen),
                               dtype=np.int64, count=len(chosen))
        return out

    names = column(3)
    name_ids = np.full(m, -1, dtype=np.int64)
    name_keys = np.unique(names[names != -1])
    name_ids[names != -1] = np.searchsorted(name_keys, names[names != -1])
    # Every version's words: an ad that once said her name under another pseudonym said it.
    mention_ads, mention_names = _mentions(v_ad, rows, name_keys)
    departements: list[str | None] = [None] * m
    for i, row in zip(np.flatnonzero(has).tolist(), chosen, strict=True):
        departements[i] = row[5]
    departement, _ = _dense_strings([d or "" for d in departements])
    departement[np.asarray([d is None for d in departements], dtype=np.bool_)] = -1
    median_hour, median_half = medians_of(_market(conn, settings), departements)

    # Whether another network showed a photo first is a question about every network,
    # not only those scored now.
    photo = linked.photo if linked.photo is not None else photos(data, linked.settings)
    stolen = first_shown_elsewhere(photo, labels[data.image_ads],
                                   data.first_day[data.image_ads])
    key_rows = np.flatnonzero(keep[data.key_ads]).tolist()
    key_ids, key_names = _dense_strings([data.keys[r] for r in key_rows])
    image_rows = keep[data.image_ads]
    version_rows = keep[data.version_ads]
    scoring = ScoringInput(
        network=network, networks=len(network_ids), first_day=data.first_day[positions],
        cues=cues, name=name_ids, stated_age=column(4), departement=departement,
        price_hour=column(6), price_half=column(7),
        median_hour=median_hour, median_half=median_half,
        key_ads=remap[data.key_ads[key_rows]], key_ids=key_ids,
        key_is_phone=np.fromiter((k.startswith("phone:") for k in key_names),
                                 dtype=np.bool_, count=len(key_names)),
        image_ads=remap[data.image_ads[image_rows]], image_ids=photo[image_rows],
        image_stolen=stolen[image_rows],
        version_ads=remap[data.version_ads[version_rows]],
        signatures=data.signatures[version_rows], has_text=data.has_text[version_rows],
        bands=linked.settings.bands, near_duplicate=linked.settings.min_similarity,
        mention_ads=mention_ads, mention_names=mention_names)
    return scoring, Subset(positions, pks, [ads.refs[p] for p in position_list], network_ids,
                           linked.regrouped)


def _mentions(ads: np.ndarray, rows: list[tuple[Any, ...]], name_keys: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """(ad position, name id) for each capitalised word of an ad's texts that is a
    pseudonym among ``name_keys`` (sorted); ``rows`` are feature rows, ``ads`` the position
    of each row's ad."""
    empty = np.empty(0, dtype=np.int64)
    said = [(a, r[8]) for a, r in zip(ads.tolist(), rows, strict=True) if r[8]]
    if not said or len(name_keys) == 0:
        return empty, empty
    keys = np.frombuffer(b"".join(bytes(blob) for _, blob in said), dtype="<i8")
    owners = np.repeat(np.fromiter((a for a, _ in said), dtype=np.int64, count=len(said)),
                       [len(blob) // 8 for _, blob in said])
    where = np.minimum(np.searchsorted(name_keys, keys), len(name_keys) - 1)
    known = name_keys[where] == keys
    return owners[known], where[known].astype(np.int64)


def _indicator_json(fired: np.ndarray, names: list[str]) -> list[str]:
    """Per network, the JSON object {indicator: count} of those that fired (``fired``:
    indicators × networks, the count where one fired, -1 elsewhere)."""
    out = ["{}"] * fired.shape[1]
    networks, rows = np.nonzero(fired.T >= 0)  # ordered by network
    if len(networks) == 0:
        return out
    counts = fired.T[networks, rows].tolist()
    starts = np.flatnonzero(np.r_[True, networks[1:] != networks[:-1]]).tolist()
    ends = [*starts[1:], len(networks)]
    rows_list = rows.tolist()
    for start, end in zip(starts, ends, strict=True):
        out[int(networks[start])] = orjson.dumps(
            {names[rows_list[k]]: counts[k] for k in range(start, end)}).decode()
    return out


def _write(conn: Connection, data: ScoringInput, subset: Subset, scores: Scores,
           settings: ScoreSettings, summary: ScoreSummary, incremental: bool) -> None:
    now = bulk.utc_now()
    bulk.note_change(conn, "scores")
    network_ids = subset.network_ids
    sizes = np.bincount(data.network, minlength=data.networks)
    risks = np.round(scores.risk, 6)
    fired = np.zeros((len(settings.indicators), data.networks), dtype=np.int64)
    for row, indicator in enumerate(settings.indicators):
        finding = scores.findings[indicator.name]
        fired[row] = np.where(finding.fired, finding.count, -1)
    columns = ("SELECT network_id, risk, trafficking_suspected, minor_suspected, "
               "scam_suspected, ads, indicators FROM network_score")
    # Incremental: only the networks scored now, and those that were regrouped away.
    rows_before = (bulk.fetch_in(conn, columns, "network_id",
                                 sorted(set(network_ids) | subset.regrouped))
                   if incremental else bulk.fetch(conn, columns, ()))
    previous = {str(r[0]): (float(r[1]), bool(r[2]), bool(r[3]), bool(r[4]), int(r[5]),
                            str(r[6])) for r in rows_before}
    indicators = _indicator_json(fired, [i.name for i in settings.indicators])
    scam = scores.scam if scores.scam is not None else np.zeros(data.networks, np.bool_)
    current = dict(enumerate(zip(risks.tolist(), scores.trafficking.tolist(),
                                 scores.minor.tolist(), scam.tolist(), sizes.tolist(),
                                 indicators, strict=True)))
    changed = np.fromiter((previous.get(network_ids[label]) != values
                           for label, values in current.items()),
                          dtype=np.bool_, count=len(current))
    something = (fired >= 0).any(axis=0) | scores.minor
    reasons = _reasons(data, subset, scores, settings, changed & something)
    rows = [(network_ids[label], *current[label], reasons.get(label, NO_REASONS), now)
            for label in np.flatnonzero(changed).tolist()]
    bulk.upsert_rows(conn, "network_score", "network_id", NETWORK_COLUMNS, rows,
                     NETWORK_COLUMNS[1:])
    bulk.delete_in(conn, "network_score", "network_id", sorted(set(previous) - set(network_ids)))
    summary.networks_written = len(rows)

    old_minor = {int(pk): int(why) for pk, why in (
        bulk.fetch_in(conn, "SELECT ad_pk, why FROM ad_minor", "ad_pk", subset.pks)
        if incremental else bulk.fetch(conn, "SELECT ad_pk, why FROM ad_minor", ()))}
    new_minor = {subset.pks[p]: int(scores.minor_why[p])
                 for p in np.flatnonzero(scores.ad_minor).tolist()}
    stale = sorted(pk for pk, why in old_minor.items() if new_minor.get(pk) != why)
    fresh = [(pk, why) for pk, why in new_minor.items() if old_minor.get(pk) != why]
    bulk.delete_in(conn, "ad_minor", "ad_pk", stale)
    bulk.insert_rows(conn, "ad_minor", AD_COLUMNS, fresh)
    summary.ads_written = len(stale) + len(fresh)


def _count(conn: Connection, summary: ScoreSummary) -> None:
    """Store-wide figures after the pass (an incremental pass scores only a part). The
    scores of networks merged or emptied are deleted as they go: all those left are live."""
    networks, suspected, minor, scam = conn.exec_driver_sql(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN trafficking_suspected THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN minor_suspected THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN scam_suspected THEN 1 ELSE 0 END), 0) FROM network_score"
        ).one()
    summary.networks, summary.suspected, summary.minor_networks, summary.scam_networks = (
        int(networks), int(suspected), int(minor), int(scam))
    summary.minor_ads = int(conn.exec_driver_sql("SELECT COUNT(*) FROM ad_minor").scalar_one())


def _save_state(conn: Connection, exists: bool, catalogue: str, detect_runs: int) -> None:
    high = int(conn.exec_driver_sql(
        "SELECT COALESCE(MAX(version_id), 0) FROM score_features").scalar_one())
    values = {"last_version_id": high, "catalogue": catalogue, "detect_runs": detect_runs,
              "last_run_at": bulk.utc_now()}
    if exists:
        conn.execute(score_state.update().where(score_state.c.id == 1).values(**values))
    else:
        conn.execute(score_state.insert().values(id=1, **values))


def _reasons(data: ScoringInput, subset: Subset, scores: Scores, settings: ScoreSettings,
             chosen: np.ndarray) -> dict[int, str]:
    """The reasons of the chosen networks, as JSON: per fired indicator its French sentence,
    weight, contribution and evidence, largest contribution first (an indicator a scam
    explains carries no weight there, and says so); then why a minor is suspected, if one
    is; then the scam markers of a network suspected of being a scam."""
    refs = subset.refs
    sizes = np.bincount(data.network, minlength=data.networks).tolist()
    limit = settings.max_evidence
    out: dict[int, dict[str, Any]] = {int(label): {"risk": [], "minor": [], "scam": []}
                                      for label in np.flatnonzero(chosen).tolist()}
    scam = scores.scam if scores.scam is not None else np.zeros(data.networks, np.bool_)
    scam_list = scam.tolist()
    factor = contribution_factors(scores, settings).tolist()
    markers = dict(settings.scam_markers)
    # Largest weight first is largest contribution first: one factor per network.
    for indicator in sorted(settings.indicators, key=lambda i: -abs(i.weight)):
        finding = scores.findings[indicator.name]
        shown = finding.evidence & finding.fired[data.network]
        totals = np.bincount(data.network, weights=shown, minlength=data.networks).tolist()
        evidence = evidence_by_network(data, scores, indicator.name, chosen, limit)
        counts = finding.count.tolist()
        carried = scores.weights[indicator.name].tolist()
        explained = indicator.name in settings.scam_explained
        for label in np.flatnonzero(finding.fired & chosen).tolist():
            reason = {
                "indicator": indicator.name,
                "label": describe(indicator, counts[label], sizes[label]),
                "weight": carried[label],
                "contribution": round(carried[label] * factor[label], 4),
                "count": counts[label],
                "evidence": [refs[p] for p in evidence.get(label, ())],
                "evidence_total": int(totals[label]),
            }
            if explained and scam_list[label] and indicator.weight:
                reason["explained_by"] = "scam"
            out[label]["risk"].append(reason)
            if scam_list[label] and indicator.name in markers:
                out[label]["scam"].append({
                    "indicator": indicator.name,
                    "label": describe(indicator, counts[label], sizes[label]),
                    "weight": markers[indicator.name],
                    "evidence": reason["evidence"],
                    "evidence_total": reason["evidence_total"],
                })
    for code, why in MINOR_WHY.items():
        shown = scores.minor_why == code
        totals = np.bincount(data.network[shown], minlength=data.networks)
        evidence = minor_evidence(data, shown, chosen & scores.minor, limit)
        for label, positions in evidence.items():
            out[label]["minor"].append({
                "indicator": "minor",
                "label": f"{why} : {int(totals[label])} annonce{'s' if totals[label] > 1 else ''}",
                "evidence": [refs[p] for p in positions],
                "evidence_total": int(totals[label]),
            })
    return {label: orjson.dumps(items).decode() for label, items in out.items()}
