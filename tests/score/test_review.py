"""The review queue and analysts' decisions (``faisceau.score.review``), on both stores.

What an analyst relies on: the queue starts with the highest risk and says why; a decision
takes a network out of the queue, and a dismissed network comes back only when it changed
materially (each criterion of ``[review]`` in ``indicators.toml``), saying what changed; a
decision keeps what the analyst saw and can never be changed or deleted, even by hand in
the database; a network absorbed by a merge hands its decisions on to the survivor's entry.
Scores are written directly into ``network_score``: they are the scorer's output, and
writing them lets each test set exactly the change it is about.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, event, func, select
from sqlalchemy.exc import DBAPIError

from faisceau.ingest.pipeline import Ingestor
from faisceau.score import review
from faisceau.score.review import (
    QueueEntry,
    ReviewError,
    ReviewSettings,
    history,
    load_review_settings,
    queue,
    record_decision,
)
from faisceau.score.run import detect_and_score
from faisceau.score.settings import load_settings as load_score_settings
from faisceau.store import Store
from faisceau.store.schema import network, network_event, network_score, review_decision

RULE = ReviewSettings(min_new_ads=3, min_growth=0.5, min_risk_rise=0.1)
T0 = datetime(2026, 3, 1, 9, 0)


@pytest.fixture
def store(opened: Store) -> Store:
    return opened


def _network(conn: Connection, network_id: str, *, status: str = "active") -> None:
    conn.execute(network.insert().values(id=network_id, created_at=T0, updated_at=T0,
                                         status=status, ads=1))


def _score(conn: Connection, network_id: str, risk: float, ads: int,
           indicators: dict[str, int] | None = None, *, minor: bool = False,
           contributions: dict[str, float] | None = None) -> None:
    """Write (or rewrite) a network's score as the scorer would."""
    indicators = indicators if indicators is not None else {"templated_texts": 2}
    contributions = contributions or {name: 0.1 for name in indicators}
    reasons = {
        "risk": [{"indicator": name, "label": f"raison {name}", "weight": 1.0,
                  "contribution": contributions[name], "count": count,
                  "evidence": [], "evidence_total": count}
                 for name, count in indicators.items()],
        "minor": ([{"indicator": "minor", "label": "Âge annoncé inférieur à 18 ans : 1 annonce",
                    "evidence": [], "evidence_total": 1}] if minor else []),
    }
    conn.execute(network_score.delete().where(network_score.c.network_id == network_id))
    conn.execute(network_score.insert().values(
        network_id=network_id, risk=risk, trafficking_suspected=risk >= 0.5,
        minor_suspected=minor, ads=ads, indicators=json.dumps(indicators),
        reasons=json.dumps(reasons), scored_at=T0))


def _scored(conn: Connection, network_id: str, risk: float, ads: int,
            indicators: dict[str, int] | None = None, **kwargs: Any) -> None:
    _network(conn, network_id)
    _score(conn, network_id, risk, ads, indicators, **kwargs)


def _ids(entries: list[QueueEntry]) -> list[str]:
    return [e.network_id for e in entries]


def _by_id(entries: list[QueueEntry]) -> dict[str, QueueEntry]:
    return {e.network_id: e for e in entries}


def _count_decisions(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(review_decision)).scalar_one())


# --- The queue: order and content --------------------------------------------------------


def test_queue_lists_active_scored_networks_by_risk_then_ads_then_identifier_descending(
        store: Store) -> None:
    with store.begin() as conn:
        _scored(conn, "n-a", 0.9, 3)
        _scored(conn, "n-c", 0.9, 5)
        _scored(conn, "n-b", 0.9, 5)
        _scored(conn, "n-d", 0.95, 1)
        _scored(conn, "n-e", 0.2, 40)
        _network(conn, "n-unscored")  # linked, not scored yet
        _network(conn, "n-gone", status="merged")
        _score(conn, "n-gone", 0.99, 9)  # a stale score must not bring it back

        entries = queue(conn, settings=RULE)
        assert _ids(entries) == ["n-d", "n-c", "n-b", "n-a", "n-e"]
        assert [e.rank for e in entries] == [1, 2, 3, 4, 5]
        assert all(e.status == "new" and e.decision is None for e in entries)
        assert _ids(queue(conn, limit=2, settings=RULE)) == ["n-d", "n-c"]
        with pytest.raises(ReviewError):
            queue(conn, limit=0)


def test_an_entry_gives_the_three_largest_reasons_and_the_minor_suspicion(
        store: Store) -> None:
    with store.begin() as conn:
        _scored(conn, "n-1", 0.7, 6,
                {"templated_texts": 3, "movement": 6, "circuit": 4, "burst": 5},
                contributions={"templated_texts": 0.1, "movement": -0.3, "circuit": 0.2,
                               "burst": 0.05},
                minor=True)
        _scored(conn, "n-2", 0.05, 1, {})
        first, second = queue(conn, settings=RULE)
    assert [(r.indicator, r.contribution) for r in first.reasons] == [
        ("movement", -0.3), ("circuit", 0.2), ("templated_texts", 0.1)]
    assert first.reasons[0].label == "raison movement"
    assert first.minor_suspected and first.minor_reasons == [
        "Âge annoncé inférieur à 18 ans : 1 annonce"]
    assert first.trafficking_suspected and first.ads == 6 and first.risk == 0.7
    assert second.reasons == [] and not second.minor_suspected
    # What the command line and the web app serialise.
    as_json = json.loads(json.dumps(first.to_dict()))
    assert as_json["status"] == "new" and len(as_json["reasons"]) == 3


def test_the_queue_pages_through_scores_without_skipping_or_repeating(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    # Ties on risk and on ads across page boundaries; the top six decided on.
    monkeypatch.setattr(review, "PAGE", 2)
    rows = [(f"n-{i:02d}", risk, ads) for i, (risk, ads) in enumerate(
        [(0.9, 5), (0.9, 5), (0.9, 5), (0.9, 4), (0.8, 4), (0.8, 4), (0.8, 3), (0.7, 9),
         (0.7, 9), (0.6, 1), (0.5, 1)])]
    expected = [r[0] for r in sorted(rows, key=lambda r: (r[1], r[2], r[0]), reverse=True)]
    with store.begin() as conn:
        for network_id, risk, ads in reversed(rows):
            _scored(conn, network_id, risk, ads)
        statements: list[str] = []
        event.listen(store.engine, "before_cursor_execute",
                     lambda *args: statements.append(args[2]))
        assert _ids(queue(conn, limit=1, settings=RULE)) == expected[:1]
        pages = [s for s in statements if "ORDER BY network_score.risk DESC" in s]
        assert len(pages) == 1  # the first page was enough: the rest is not read

        for network_id in expected[:6]:
            record_decision(conn, network_id, "investigate", "alice", now=T0)
        assert _ids(queue(conn, limit=3, settings=RULE)) == expected[6:9]
        assert _ids(queue(conn, limit=100, settings=RULE)) == expected[6:]
        assert _ids(queue(conn, limit=100, include_decided=True, settings=RULE)) == expected


# --- Decisions ------------------------------------------------------------------------------


def test_a_decision_needs_its_reason_or_case_reference_and_a_scored_network(
        store: Store) -> None:
    with store.begin() as conn:
        _scored(conn, "n-1", 0.8, 4)
        _network(conn, "n-unscored")
        _network(conn, "n-absorbed", status="merged")
        _network(conn, "n-emptied", status="emptied")
        conn.execute(network_event.insert().values(
            at=T0, kind="merged", network_id="n-1", others='["n-absorbed"]', cause="x"))
        refused: dict[str, dict[str, Any]] = {
            "dismissed without a reason": dict(network_id="n-1", decision="dismissed"),
            "dismissed, blank reason": dict(network_id="n-1", decision="dismissed",
                                            reason="  "),
            "known without a case": dict(network_id="n-1", decision="known", reason="vu"),
            "unknown decision": dict(network_id="n-1", decision="closed", reason="x"),
            "no analyst": dict(network_id="n-1", decision="investigate", analyst=" "),
            "unknown network": dict(network_id="n-nope", decision="investigate"),
            "not scored": dict(network_id="n-unscored", decision="investigate"),
            "absorbed": dict(network_id="n-absorbed", decision="investigate"),
            "emptied": dict(network_id="n-emptied", decision="investigate"),
            "case reference too long": dict(network_id="n-1", decision="known",
                                            case_ref="x" * 101),
        }
        messages = {}
        for what, kwargs in refused.items():
            kwargs.setdefault("analyst", "alice")
            with pytest.raises(ReviewError) as caught:
                record_decision(conn, **kwargs)
            messages[what] = str(caught.value)
        assert _count_decisions(conn) == 0
    assert "motif" in messages["dismissed without a reason"]
    assert "motif" in messages["dismissed, blank reason"]
    assert "référence" in messages["known without a case"]
    assert messages["unknown network"] == "réseau inconnu : n-nope"
    assert "pas encore de score" in messages["not scored"]
    assert "fusionné dans n-1" in messages["absorbed"]
    assert "n'existe plus" in messages["emptied"]
    assert all("\n" not in m for m in messages.values())
    assert issubclass(ReviewError, ValueError)


def test_a_decision_keeps_a_snapshot_of_what_the_analyst_saw(store: Store) -> None:
    with store.begin() as conn:
        _scored(conn, "n-1", 0.8, 4, {"circuit": 3, "youth": 4}, minor=True)
        first = record_decision(conn, "n-1", "investigate", "alice", now=T0)
        _score(conn, "n-1", 0.3, 9, {})  # rescored afterwards
        second = record_decision(conn, "n-1", "known", " bob ", case_ref="PV 2026/17",
                                 reason="suivi par la brigade", now=T0 + timedelta(hours=1))
        decisions = history(conn, "n-1")
    assert first < second
    assert [d.id for d in decisions] == [first, second]
    seen = decisions[0]
    assert (seen.decision, seen.analyst, seen.reason, seen.case_ref, seen.decided_at) == (
        "investigate", "alice", None, None, T0)
    assert (seen.seen.risk, seen.seen.ads, seen.seen.indicators, seen.seen.minor_suspected) \
        == (0.8, 4, {"circuit": 3, "youth": 4}, True)
    later = decisions[1]
    assert (later.analyst, later.case_ref, later.reason) == ("bob", "PV 2026/17",
                                                             "suivi par la brigade")
    assert (later.seen.risk, later.seen.ads, later.seen.indicators,
            later.seen.minor_suspected) == (0.3, 9, {}, False)


def test_history_is_in_time_order_and_the_latest_decision_counts(store: Store) -> None:
    with store.begin() as conn:
        _scored(conn, "n-1", 0.8, 4)
        late = record_decision(conn, "n-1", "dismissed", "alice", reason="erreur",
                               now=T0 + timedelta(days=2))
        early = record_decision(conn, "n-1", "investigate", "bob", now=T0)
        assert [d.id for d in history(conn, "n-1")] == [early, late]
        assert history(conn, "n-other") == []
        entry, = queue(conn, include_decided=True, settings=RULE)
    assert entry.status == "dismissed" and entry.decision is not None
    assert entry.decision.id == late


def test_decisions_are_never_updated_or_deleted_even_in_the_database(
        store: Store) -> None:
    with store.begin() as conn:
        _scored(conn, "n-1", 0.8, 4)
        decision_id = record_decision(conn, "n-1", "dismissed", "alice", reason="doublon")
    for statement in (
            review_decision.update().values(decision="investigate"),
            review_decision.update().where(review_decision.c.id == decision_id)
            .values(reason=None),
            review_decision.delete().where(review_decision.c.id == decision_id),
            review_decision.delete()):
        with pytest.raises(DBAPIError, match="never"), store.begin() as conn:
            conn.execute(statement)
    with store.begin() as conn:
        decisions = history(conn, "n-1")
    assert [(d.id, d.decision, d.reason) for d in decisions] == [
        (decision_id, "dismissed", "doublon")]


# --- Statuses and the material-change rule --------------------------------------------------


def test_decided_networks_leave_the_queue_and_show_with_include_decided(
        store: Store) -> None:
    with store.begin() as conn:
        for network_id, risk in (("n-inv", 0.9), ("n-dis", 0.8), ("n-known", 0.7),
                                 ("n-new", 0.6)):
            _scored(conn, network_id, risk, 4)
        record_decision(conn, "n-inv", "investigate", "alice", reason="priorité")
        record_decision(conn, "n-dis", "dismissed", "alice", reason="indépendante")
        record_decision(conn, "n-known", "known", "bob", case_ref="PV-12")
        assert _ids(queue(conn, settings=RULE)) == ["n-new"]
        listed = queue(conn, include_decided=True, settings=RULE)
        assert [(e.network_id, e.status) for e in listed] == [
            ("n-inv", "investigate"), ("n-dis", "dismissed"), ("n-known", "known"),
            ("n-new", "new")]
        decision = _by_id(listed)["n-known"].decision
        assert decision is not None and decision.case_ref == "PV-12"

        # A network under investigation stays out whatever happens to it.
        _score(conn, "n-inv", 0.99, 40, {"circuit": 4}, minor=True)
        assert _ids(queue(conn, settings=RULE)) == ["n-new"]


def test_a_dismissed_network_stays_out_until_it_changes_materially(store: Store) -> None:
    with store.begin() as conn:
        _scored(conn, "n-1", 0.6, 8)
        record_decision(conn, "n-1", "dismissed", "alice", reason="indépendante")
        _score(conn, "n-1", 0.65, 10)  # 2 more ads, risk +0.05: not material
        assert queue(conn, settings=RULE) == []
        _score(conn, "n-1", 0.65, 12)  # 4 more ads, 50 %: material
        entry, = queue(conn, settings=RULE)
        assert (entry.status, entry.changes) == ("returned", ["4 annonces de plus (était 8)"])
        assert entry.decision is not None and entry.decision.reason == "indépendante"

        # Dismissed again: measured from the new snapshot, so it stays out.
        record_decision(conn, "n-1", "dismissed", "bob", reason="toujours indépendante")
        _score(conn, "n-1", 0.65, 14)
        assert queue(conn, settings=RULE) == []
        entry, = queue(conn, include_decided=True, settings=RULE)
        assert entry.status == "dismissed"


CIRCUIT = load_score_settings().indicator("circuit").label

# network: (score when dismissed, score now, what the queue says changed, or None: stays out)
CHANGES: dict[str, tuple[dict[str, Any], dict[str, Any], list[str] | None]] = {
    "grows-enough": (dict(ads=8), dict(ads=20), ["12 annonces de plus (était 8)"]),
    "grows-at-thresholds": (dict(ads=6), dict(ads=9), ["3 annonces de plus (était 6)"]),
    "grows-few-ads": (dict(ads=2), dict(ads=4), None),  # +100 % but 2 ads
    "grows-small-share": (dict(ads=10), dict(ads=14), None),  # 4 ads but 40 %
    "shrinks": (dict(ads=10), dict(ads=3), None),
    "new-indicator": (dict(indicators={"templated_texts": 2}),
                      dict(indicators={"templated_texts": 2, "circuit": 3}),
                      [f"nouvel indicateur : {CIRCUIT}"]),
    "indicator-stronger": (dict(indicators={"circuit": 3}), dict(indicators={"circuit": 5}),
                           None),
    "indicator-gone": (dict(indicators={"circuit": 3, "burst": 5}),
                       dict(indicators={"circuit": 3}), None),
    "risk-rises": (dict(risk=0.41), dict(risk=0.78), ["risque passé de 0,41 à 0,78"]),
    "risk-at-threshold": (dict(risk=0.4), dict(risk=0.5), ["risque passé de 0,40 à 0,50"]),
    "risk-rises-too-little": (dict(risk=0.41), dict(risk=0.5), None),
    "risk-falls": (dict(risk=0.8), dict(risk=0.2), None),
    "minor-appears": (dict(minor=False), dict(minor=True), ["mineur désormais suspecté"]),
    "minor-gone": (dict(minor=True), dict(minor=False), None),
    "minor-still": (dict(minor=True), dict(minor=True), None),
    "everything": (dict(ads=4, risk=0.3), dict(ads=10, risk=0.9, minor=True,
                                               indicators={"templated_texts": 2, "circuit": 3}),
                   ["6 annonces de plus (était 4)", f"nouvel indicateur : {CIRCUIT}",
                    "risque passé de 0,30 à 0,90", "mineur désormais suspecté"]),
}


def _score_of(network_id: str, values: dict[str, Any]) -> dict[str, Any]:
    score = {"risk": 0.5, "ads": 5, "indicators": {"templated_texts": 2}, "minor": False}
    return {"network_id": network_id, **score, **values}


def test_each_criterion_of_the_material_change_rule(store: Store) -> None:
    with store.begin() as conn:
        for network_id, (before, _, _) in CHANGES.items():
            score = _score_of(network_id, before)
            _scored(conn, network_id, score["risk"], score["ads"], score["indicators"],
                    minor=score["minor"])
            record_decision(conn, network_id, "dismissed", "alice", reason="vu")
        for network_id, (_, after, _) in CHANGES.items():
            score = _score_of(network_id, after)
            _score(conn, network_id, score["risk"], score["ads"], score["indicators"],
                   minor=score["minor"])
        shown = {e.network_id: e.changes for e in queue(conn, limit=100, settings=RULE)}
        every = _by_id(queue(conn, limit=100, include_decided=True, settings=RULE))
    expected = {n: changes for n, (_, _, changes) in CHANGES.items() if changes is not None}
    assert shown == expected
    assert all(every[n].status == ("returned" if n in expected else "dismissed")
               for n in CHANGES)


def test_the_thresholds_are_read_from_the_catalogue(store: Store, tmp_path: Path) -> None:
    shipped = load_review_settings()
    assert shipped == RULE  # the documented defaults
    strict = tmp_path / "indicators.toml"
    strict.write_text("[review]\nmin_new_ads = 10\nmin_growth = 2.0\nmin_risk_rise = 0.5\n")
    rule = load_review_settings(strict)
    with store.begin() as conn:
        _scored(conn, "n-1", 0.4, 8)
        record_decision(conn, "n-1", "dismissed", "alice", reason="vu")
        _score(conn, "n-1", 0.6, 20)  # material by default: +12 ads, +0.2 risk
        assert [e.changes for e in queue(conn)] == [
            ["12 annonces de plus (était 8)", "risque passé de 0,40 à 0,60"]]
        assert queue(conn, settings=rule) == []
    bad = tmp_path / "bad.toml"
    bad.write_text("[review]\nmin_new_ads = 0\nmin_growth = 0.5\nmin_risk_rise = 0.1\n")
    with pytest.raises(ValueError):
        load_review_settings(bad)


# --- Merges ---------------------------------------------------------------------------------


def test_a_survivor_of_merges_is_new_and_shows_the_absorbed_networks_decisions(
        store: Store) -> None:
    with store.begin() as conn:
        _scored(conn, "n-survivor", 0.9, 12)
        for absorbed in ("n-old", "n-older", "n-untouched"):
            _network(conn, absorbed)
            _score(conn, absorbed, 0.5, 3)
        record_decision(conn, "n-older", "known", "bob", case_ref="PV-1", now=T0)
        record_decision(conn, "n-old", "dismissed", "alice", reason="indépendante",
                        now=T0 + timedelta(days=1))
        # Detection: n-old absorbed n-older, then n-survivor absorbed n-old and n-untouched.
        for when, survivor, others in ((2, "n-old", ["n-older"]),
                                       (3, "n-survivor", ["n-old", "n-untouched"])):
            for other in others:
                conn.execute(network.update().where(network.c.id == other)
                             .values(status="merged"))
                conn.execute(network_score.delete().where(network_score.c.network_id == other))
            conn.execute(network_event.insert().values(
                at=T0 + timedelta(days=when), kind="merged", network_id=survivor,
                others=json.dumps(others), cause="téléphone commun"))
        entry, = queue(conn, settings=RULE)
        with pytest.raises(ReviewError, match="fusionné dans n-survivor"):
            record_decision(conn, "n-older", "investigate", "alice")
    assert (entry.network_id, entry.status, entry.decision) == ("n-survivor", "new", None)
    assert [(d.network_id, d.decision) for d in entry.earlier_decisions] == [
        ("n-older", "known"), ("n-old", "dismissed")]


def _ad_line(ad_id: str, seen_at: str, phone: str, name: str) -> str:
    return json.dumps({"ad_id": ad_id, "source": "exemple", "seen_at": seen_at,
                       "title": f"{name} à Lyon", "name": name, "location": "Lyon",
                       "text": f"Bonjour, je suis {name}. Appelez le {phone}.",
                       "phone": phone}, ensure_ascii=False)


def _ingest_and_detect(store: Store, path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n")
    with Ingestor(store, images=False, workers=1).session() as ingestor:
        ingestor.ingest_paths([path])
    detect_and_score(store)


def test_a_dismissal_before_a_real_merge_follows_into_the_survivors_entry(
        store: Store, tmp_path: Path) -> None:
    lola, maria = "06 11 22 33 44", "07 55 66 77 88"
    _ingest_and_detect(store, tmp_path / "day1.jsonl", [
        _ad_line("a1", "2026-03-02T10:00:00Z", lola, "Lola"),
        _ad_line("a2", "2026-03-02T11:00:00Z", lola, "Lola"),
        _ad_line("b1", "2026-03-02T12:00:00Z", maria, "Maria")])
    with store.begin() as conn:
        by_size = queue(conn, limit=10, settings=RULE)
        larger, smaller = sorted(by_size, key=lambda e: -e.ads)
        record_decision(conn, smaller.network_id, "dismissed", "alice", reason="indépendante")
    _ingest_and_detect(store, tmp_path / "day2.jsonl", [
        _ad_line("a1", "2026-03-03T09:00:00Z", lola, "Lola"),
        _ad_line("a2", "2026-03-03T09:10:00Z", lola, "Lola"),
        _ad_line("b1", "2026-03-03T09:20:00Z", maria, "Maria"),
        _ad_line("c1", "2026-03-03T10:00:00Z", f"{lola} ou {maria}", "Lola")])
    with store.begin() as conn:
        entry, = queue(conn, limit=10, include_decided=True, settings=RULE)
    assert (entry.network_id, entry.status, entry.ads) == (larger.network_id, "new", 4)
    assert [(d.network_id, d.decision, d.reason) for d in entry.earlier_decisions] == [
        (smaller.network_id, "dismissed", "indépendante")]


def test_only_an_indicator_that_raises_the_risk_counts_as_a_material_change() -> None:
    seen = review.Snapshot(risk=0.3, ads=10, indicators={"hotel_rental": 4},
                           minor_suspected=False)

    def changes(*new: str) -> list[str]:
        now = review.Snapshot(risk=0.3, ads=10,
                              indicators={"hotel_rental": 4, **dict.fromkeys(new, 1)},
                              minor_suspected=False)
        return review.material_changes(seen, now, RULE)

    assert changes("movement", "scam_payment", "age_at_limit") == []  # weigh 0 or less
    assert len(changes("templated_texts")) == 1
