"""Retention of monitoring's ads: what the data-protection officer relies on.

Ads whose time is up leave every table (text, values, photos, sightings, features, network
membership); networks left without ads are marked expired and leave the queue; the other
networks are recounted and their evidence names no erased ad; ads of a network an analyst
decided to investigate are kept for the longer period; applying again erases nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import orjson
import pytest

from faisceau.config import Settings
from faisceau.ingest.fulltext import search_ads
from faisceau.ingest.pipeline import Ingestor
from faisceau.score.review import queue, record_decision
from faisceau.score.run import detect_and_score
from faisceau.share.retention import RetentionRules, apply_ad_retention, rules
from faisceau.store import Store, open_store
from faisceau.store.bulk import fetch
from faisceau.synth.world import Params, write_world
from tests.conftest import run_faisceau

AD_TABLES = {"ad": "id", "sighting": "ad_pk", "ad_minor": "ad_pk", "ad_network": "ad_pk",
             "link_features": "ad_pk", "link_key": "ad_pk", "score_features": "ad_pk",
             "ad_version": "ad_pk", "ad_search": "ad_pk"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    write_world(Params(scale=0.01, days=4, seed=3, images=False), out)
    return out


@pytest.fixture
def monitored(store_settings: Settings, world: Path) -> Iterator[Store]:
    store = open_store(store_settings)
    with Ingestor(store, images=False, workers=1).session() as ingestor:
        ingestor.ingest_paths([world / "crawl"])
    detect_and_score(store)
    yield store
    store.dispose()


def _one(store: Store, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    with store.begin() as conn:
        return [tuple(r) for r in fetch(conn, sql, ())]


def _rules(months: int, decided: int) -> RetentionRules:
    base = rules()
    return RetentionRules(base.case_files, base.reports, {"ad": months, "ad_decided": decided})


def test_ads_whose_time_is_up_leave_every_table_and_networks_stay_consistent(
        monitored: Store) -> None:
    (last_day,) = _one(monitored, "SELECT MAX(last_seen) FROM ad")[0]
    last = date.fromisoformat(str(last_day)[:10])
    # Periods of 0 months and "today" the last day of the world: every ad not seen that day
    # is due, except those of an investigated network (1200 months).
    today = last
    cutoff = str(last)
    old = {int(r[0]) for r in _one(monitored, f"SELECT id FROM ad WHERE last_seen < '{cutoff}'")}
    recent = {int(r[0]) for r in _one(monitored, "SELECT id FROM ad")} - old
    assert old and recent
    with monitored.begin() as conn:
        kept_network = next(e.network_id for e in queue(conn, limit=200)
                            if e.ads > 1 and set(_members(conn, e.network_id)) & old)
        record_decision(conn, kept_network, "investigate", "analyste")
        protected = set(_members(conn, kept_network))

    # A word of an ad that goes, which ads that stay also use: after erasure, a search for
    # it finds only those that stay.
    with monitored.begin() as conn:
        titles = fetch(conn, "SELECT ad_pk, title FROM ad_version WHERE title IS NOT NULL", ())
    words_of = {pk: {w for w in str(title).split() if w.isalpha() and len(w) > 4}
                for pk, title in titles}
    erased_word = next(w for pk, ws in words_of.items() if pk in old - protected
                       for w in sorted(ws)
                       if any(w in words_of.get(k, ()) for k in recent))
    settings = _rules(0, 1200)
    dry = apply_ad_retention(monitored, today, dry_run=True, settings=settings)
    assert dry.due == len(old - protected) and dry.due_decided == 0
    assert _one(monitored, "SELECT COUNT(*) FROM ad")[0][0] == len(old | recent)  # dry run

    done = apply_ad_retention(monitored, today, dry_run=False, settings=settings)
    assert done.due == len(old - protected) and done.erased_versions >= done.due
    left = {int(r[0]) for r in _one(monitored, "SELECT id FROM ad")}
    assert left == recent | protected
    for table, column in AD_TABLES.items():
        rows = {int(r[0]) for r in _one(monitored, f"SELECT DISTINCT {column} FROM {table}")}
        assert rows <= left, table
    if monitored.dialect == "sqlite":  # the full-text index agrees with its content
        with monitored.begin() as conn:
            conn.exec_driver_sql("INSERT INTO ad_fts (ad_fts, rank) "
                                 "VALUES ('integrity-check', 1)")
    with monitored.begin() as conn:
        found = search_ads(conn, erased_word, limit=10_000)
    assert found.total > 0 and {h.ad_pk for h in found.hits} <= left
    orphans = _one(monitored, "SELECT COUNT(*) FROM ad_value v LEFT JOIN ad_version a "
                              "ON a.id = v.version_id WHERE a.id IS NULL")[0][0]
    assert orphans == 0

    # Networks: counts match their members, evidence names no erased ad, and the networks
    # left empty are expired and out of the queue.
    refs = {f"{s}:{a}" for s, a in _one(monitored, "SELECT source, ad_id FROM ad")}
    for network_id, ads, status in _one(monitored, "SELECT id, ads, status FROM network"):
        members = _one(monitored, "SELECT COUNT(*) FROM ad_network "
                                  f"WHERE network_id = '{network_id}'")[0][0]
        if status == "active":
            assert ads == members, network_id
        if status == "expired":
            assert ads == 0 and members == 0
    for (listed,) in _one(monitored, "SELECT ads FROM network_evidence"):
        assert set(orjson.loads(listed)) <= refs
    assert done.expired_networks > 0
    with monitored.begin() as conn:
        expired = {r[0] for r in fetch(conn, "SELECT id FROM network WHERE status = 'expired'",
                                       ())}
        shown = {e.network_id for e in queue(conn, limit=10_000, include_decided=True)}
    assert not expired & shown and kept_network in shown

    again = apply_ad_retention(monitored, today, dry_run=False, settings=settings)
    assert again.due == 0
    before = _one(monitored, "SELECT network_id, ad_pk FROM ad_network ORDER BY ad_pk")
    detect_and_score(monitored)
    assert _one(monitored, "SELECT network_id, ad_pk FROM ad_network ORDER BY ad_pk") == before


def _members(conn, network_id: str) -> list[int]:  # type: ignore[no-untyped-def]
    return [int(r[0]) for r in fetch(conn, "SELECT ad_pk FROM ad_network WHERE network_id = "
                                     f"'{network_id}'", ())]


def test_the_cli_says_what_would_go_and_erases_only_when_asked(
        monitored: Store, store_env: dict[str, str]) -> None:
    count = _one(monitored, "SELECT COUNT(*) FROM ad")[0][0]
    # The default periods (12 months): in 2099 every synthetic ad is due.
    dry = run_faisceau(["retention", "apply", "--today", "2099-01-01"], store_env)
    assert f"Annonces arrivées à échéance : {count}" in dry.stdout
    assert _one(monitored, "SELECT COUNT(*) FROM ad")[0][0] == count
    done = run_faisceau(["retention", "apply", "--today", "2099-01-01", "--erase"], store_env)
    assert "Annonces effacées" in done.stdout
    assert _one(monitored, "SELECT COUNT(*) FROM ad")[0][0] == 0
