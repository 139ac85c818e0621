"""After a bulk stage, PostgreSQL's planner knows how big the tables it filled are: without
it, pages planned on a table believed empty took a second on a national month."""

from __future__ import annotations

from pathlib import Path

from faisceau.config import Settings
from faisceau.ingest.pipeline import Ingestor
from faisceau.score.run import detect_and_score
from faisceau.store import open_store
from faisceau.store.bulk import fetch
from faisceau.synth.world import Params, write_world


def test_detection_leaves_the_planner_statistics_of_what_it_filled(
        pg_schema_url: str, tmp_path: Path) -> None:
    write_world(Params(scale=0.01, days=1, seed=3, images=False), tmp_path / "world")
    store = open_store(Settings(home=tmp_path / "store", database_url=pg_schema_url))
    with Ingestor(store, images=False, workers=1).session() as ingestor:
        ingestor.ingest_paths([tmp_path / "world" / "crawl"])
    detect_and_score(store)
    with store.begin() as conn:
        ads = int(fetch(conn, "SELECT COUNT(*) FROM ad", ())[0][0])
        known = dict(fetch(conn, "SELECT relname, reltuples FROM pg_class "
                           "WHERE relnamespace = current_schema()::regnamespace "
                           "AND relname IN ('ad', 'ad_network')", ()))
    store.dispose()
    assert ads > 100
    assert known["ad"] == ads and known["ad_network"] == ads
