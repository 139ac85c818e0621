"""The scoring pass, run by ``faisceau detect`` after linking (or alone: ``faisceau score``).

1. The cues of the ad versions added since the last pass (``features``), committed on
   their own, like linking's features.
2. In one transaction: every network scored from compact arrays (``indicators``,
   ``combine``), and only what changed written: the networks whose risk, flags, size or
   indicators moved, with their reasons and evidence, and the minor suspicions that came
   or went. An ad's risk is its network's. A pass killed midway leaves the previous scores whole.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson
from sqlalchemy import Connection

from faisceau.link.detect import DetectSummary, Linked, detect
from faisceau.link.load import load_input
from faisceau.link.settings import load_settings as load_link_settings
from faisceau.score import features
from faisceau.score.combine import (
    MINOR_WHY,
    Scores,
    combine,
    contributions,
    describe,
    evidence_by_network,
    minor_evidence,
)
from faisceau.score.indicators import ScoringInput
from faisceau.score.settings import ScoreSettings, load_settings
from faisceau.store import Store, bulk

NETWORK_COLUMNS = ("network_id", "risk", "trafficking_suspected", "minor_suspected", "ads",
                   "indicators", "reasons", "scored_at")
AD_COLUMNS = ("ad_pk", "why")
NO_REASONS = orjson.dumps({"risk": [], "minor": []}).decode()


@dataclass
class ScoreSummary:
    new_versions: int = 0
    networks: int = 0
    suspected: int = 0  # networks suspected of trafficking
    minor_networks: int = 0
    minor_ads: int = 0
    networks_written: int = 0
    ads_written: int = 0  # minor suspicions added or removed
    seconds: dict[str, float] = field(default_factory=dict)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def score(store: Store, linked: Linked | None = None,
          settings: ScoreSettings | None = None) -> ScoreSummary:
    """Score every linked network; ``linked`` is what ``detect`` just linked (read from the
    store when absent)."""
    settings = settings or load_settings()
    summary = ScoreSummary()
    clock = time.perf_counter()
    with store.begin() as conn:
        done = int(conn.exec_driver_sql(
            "SELECT COALESCE(MAX(version_id), 0) FROM score_features").scalar_one())
        summary.new_versions = features.compute_new(conn, done)
    summary.seconds["features"] = time.perf_counter() - clock
    with store.begin() as conn:
        clock = time.perf_counter()
        if linked is None:
            linked = _load_linked(conn)
        data, network_ids = _scoring_input(conn, linked)
        summary.seconds["load"] = time.perf_counter() - clock
        clock = time.perf_counter()
        scores = combine(data, settings)
        summary.seconds["score"] = time.perf_counter() - clock
        clock = time.perf_counter()
        _write(conn, linked, data, network_ids, scores, settings, summary)
        summary.seconds["write"] = time.perf_counter() - clock
    summary.networks = data.networks
    summary.suspected = int(scores.trafficking.sum())
    summary.minor_networks = int(scores.minor.sum())
    summary.minor_ads = int(scores.ad_minor.sum())
    return summary


def detect_and_score(store: Store, settings: ScoreSettings | None = None,
                     ) -> tuple[DetectSummary, ScoreSummary]:
    """``faisceau detect``: link, then score what was just linked, under one writer lock.

    Scoring's features are computed in linking's pass over new versions; their time is
    moved from linking's summary to scoring's, so that each stage shows its own cost."""
    spent: list[float] = []

    def featurise(conn: Connection, batch: features.VersionBatch) -> None:
        started = time.perf_counter()
        features.featurise(conn, batch)
        spent.append(time.perf_counter() - started)

    scored: list[ScoreSummary] = []
    linked = detect(store, also=[featurise],
                    then=lambda linked: scored.append(score(store, linked, settings)))
    linked.seconds["features"] -= sum(spent)
    scored[0].seconds["features"] += sum(spent)
    scored[0].new_versions = max(scored[0].new_versions, linked.new_versions)
    return linked, scored[0]


def _load_linked(conn: Connection) -> Linked:
    """What the last ``detect`` linked, from the store. Ads ingested since then have no
    network yet; they are left out until the next ``detect``."""
    settings = load_link_settings()
    ads, data = load_input(conn, settings)
    network_of = {int(pk): str(n) for pk, n in bulk.fetch(
        conn, "SELECT ad_pk, network_id FROM ad_network", ())}
    return Linked(ads, data, [network_of.get(pk, "") for pk in ads.pks], settings)


def _dense_strings(values: list[str]) -> tuple[np.ndarray, list[str]]:
    ids: dict[str, int] = {}
    out = np.fromiter((ids.setdefault(v, len(ids)) for v in values), dtype=np.int64,
                      count=len(values))
    return out, list(ids)


def _scoring_input(conn: Connection, linked: Linked) -> tuple[ScoringInput, list[str]]:
    """The arrays of ``ScoringInput``; returns them with the network id of each label."""
    ads, data = linked.ads, linked.data
    n = len(ads.pks)
    position = {pk: i for i, pk in enumerate(ads.pks)}
    network, network_ids = _dense_strings(linked.network_ids)

    rows = bulk.fetch(conn, "SELECT ad_pk, cues, name_key, stated_age, departement, "
                            "price_hour, price_half FROM score_features ORDER BY version_id", ())
    known = [r for r in rows if r[0] in position]
    v_ad = np.fromiter((position[r[0]] for r in known), dtype=np.int64, count=len(known))
    cues = np.zeros(n, dtype=np.int64)
    np.bitwise_or.at(cues, v_ad, np.fromiter((r[1] for r in known), dtype=np.int64,
                                             count=len(known)))
    # The latest version of each ad gives its name, age, place and prices.
    latest = np.full(n, -1, dtype=np.int64)
    np.maximum.at(latest, v_ad, np.arange(len(known), dtype=np.int64))

    def column(index: int, missing: int = -1) -> np.ndarray:
        values = np.fromiter((r[index] if r[index] is not None else missing for r in known),
                             dtype=np.int64, count=len(known))
        out = np.full(n, missing, dtype=np.int64)
        has = latest >= 0
        out[has] = values[latest[has]]
        return out

    names = column(2)
    name_ids = np.full(n, -1, dtype=np.int64)
    named = names != -1
    if named.any():
        _, inverse = np.unique(names[named], return_inverse=True)
        name_ids[named] = inverse
    departement_codes: dict[str, int] = {}
    dept_of_row = [departement_codes.setdefault(r[4], len(departement_codes))
                   if r[4] is not None else -1 for r in known]
    departement = np.full(n, -1, dtype=np.int64)
    has = latest >= 0
    departement[has] = np.asarray(dept_of_row, dtype=np.int64)[latest[has]]

    key_ids, key_names = _dense_strings(data.keys)
    key_is_phone = np.fromiter((k.startswith("phone:") for k in key_names), dtype=np.bool_,
                               count=len(key_names))
    scoring = ScoringInput(
        network=network, networks=len(network_ids), first_day=data.first_day,
        cues=cues, name=name_ids, stated_age=column(3), departement=departement,
        price_hour=column(5), price_half=column(6),
        key_ads=data.key_ads, key_ids=key_ids, key_is_phone=key_is_phone,
        image_ads=data.image_ads, image_ids=data.image_exact,
        version_ads=data.version_ads, signatures=data.signatures, has_text=data.has_text,
        bands=linked.settings.bands)
    return scoring, network_ids


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


def _write(conn: Connection, linked: Linked, data: ScoringInput, network_ids: list[str],
           scores: Scores, settings: ScoreSettings, summary: ScoreSummary) -> None:
    now = _now()
    sizes = np.bincount(data.network, minlength=data.networks)
    risks = np.round(scores.risk, 6)
    fired = np.zeros((len(settings.indicators), data.networks), dtype=np.int64)
    for row, indicator in enumerate(settings.indicators):
        finding = scores.findings[indicator.name]
        fired[row] = np.where(finding.fired, finding.count, -1)
    previous = {str(r[0]): (float(r[1]), bool(r[2]), bool(r[3]), int(r[4]), str(r[5]))
                for r in bulk.fetch(conn, "SELECT network_id, risk, trafficking_suspected, "
                                          "minor_suspected, ads, indicators FROM network_score",
                                    ())}
    indicators = _indicator_json(fired, [i.name for i in settings.indicators])
    current = {label: values for label, values in enumerate(zip(
        risks.tolist(), scores.trafficking.tolist(), scores.minor.tolist(), sizes.tolist(),
        indicators, strict=True)) if network_ids[label]}
    changed = np.zeros(data.networks, dtype=np.bool_)
    for label, values in current.items():
        if previous.get(network_ids[label]) != values:
            changed[label] = True
    something = (fired >= 0).any(axis=0) | scores.minor
    reasons = _reasons(linked, data, scores, settings, changed & something)
    rows = [(network_ids[label], *current[label], reasons.get(label, NO_REASONS), now)
            for label in np.flatnonzero(changed).tolist()]
    bulk.upsert_rows(conn, "network_score", "network_id", NETWORK_COLUMNS, rows,
                     NETWORK_COLUMNS[1:])
    gone = sorted(set(previous) - {network_ids[label] for label in current})
    _delete(conn, "network_score", "network_id", gone)
    summary.networks_written = len(rows)

    old_minor = {int(pk): int(why) for pk, why in bulk.fetch(
        conn, "SELECT ad_pk, why FROM ad_minor", ())}
    linked_ads = np.fromiter((bool(n) for n in linked.network_ids), dtype=np.bool_,
                             count=data.ads)
    positions = np.flatnonzero(scores.ad_minor & linked_ads).tolist()
    new_minor = {linked.ads.pks[p]: int(scores.minor_why[p]) for p in positions}
    stale = sorted(pk for pk, why in old_minor.items() if new_minor.get(pk) != why)
    _delete(conn, "ad_minor", "ad_pk", stale)
    bulk.insert_rows(conn, "ad_minor", AD_COLUMNS,
                     [(pk, why) for pk, why in new_minor.items() if old_minor.get(pk) != why])
    summary.ads_written = len(stale) + sum(old_minor.get(pk) != why
                                           for pk, why in new_minor.items())


def _delete(conn: Connection, table: str, column: str, values: list[Any]) -> None:
    for start in range(0, len(values), 1000):
        chunk = values[start : start + 1000]
        conn.exec_driver_sql(
            f"DELETE FROM {table} WHERE {column} IN "
            f"({', '.join(bulk.mark(conn) for _ in chunk)})", tuple(chunk))


def _reasons(linked: Linked, data: ScoringInput, scores: Scores, settings: ScoreSettings,
             chosen: np.ndarray) -> dict[int, str]:
    """The reasons of the chosen networks, as JSON: per fired indicator its French sentence,
    weight, contribution and evidence; then why a minor is suspected, if one is."""
    refs = linked.ads.refs
    sizes = np.bincount(data.network, minlength=data.networks)
    limit = settings.max_evidence
    out: dict[int, dict[str, Any]] = {int(label): {"risk": [], "minor": []}
                                      for label in np.flatnonzero(chosen).tolist()}
    fired_weights: dict[int, list[tuple[str, float]]] = {label: [] for label in out}
    for indicator in settings.indicators:
        finding = scores.findings[indicator.name]
        shown = finding.evidence & finding.fired[data.network]
        totals = np.bincount(data.network, weights=shown, minlength=data.networks)
        evidence = evidence_by_network(data, scores, indicator.name, chosen, limit)
        for label in np.flatnonzero(finding.fired & chosen).tolist():
            fired_weights[label].append((indicator.name, indicator.weight))
            out[label]["risk"].append({
                "indicator": indicator.name,
                "label": describe(indicator, int(finding.count[label]), int(sizes[label])),
                "weight": indicator.weight,
                "contribution": 0.0,
                "count": int(finding.count[label]),
                "evidence": [refs[p] for p in evidence.get(label, [])],
                "evidence_total": int(totals[label]),
            })
    for label, items in out.items():
        parts = contributions([w for _, w in fired_weights[label]],
                              float(scores.risk[label]), scores.base)
        for item, part in zip(items["risk"], parts, strict=True):
            item["contribution"] = round(part, 4)
        items["risk"].sort(key=lambda item: -abs(item["contribution"]))
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
