"""faisceau's ad linking side by side with an InfoShield-Coarse baseline, same data.

A synthetic world (default: the ``demo`` preset) is ingested into a fresh embedded store;
then ``faisceau detect`` links it, and ``infoshield_coarse`` (this directory; the method as
published: top TF-IDF word 5-grams per ad, ads joined through shared phrases, connected
components) clusters the same ads from the same crawl. Printed for each: time, ads/s and
B-cubed precision / recall / F1 against the ground truth (ingestion is not timed; the
baseline is timed with and without reading the crawl).

    .venv/bin/python benchmarks/detect_vs_infoshield.py [--preset demo] [--scale S]
        [--days D] [--seed N]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from _common import add_world_options, machine, world_params
from faisceau.config import Settings
from faisceau.evaluate.metrics import bcubed, contingency
from faisceau.ingest.pipeline import Ingestor
from faisceau.link.detect import detect
from faisceau.store import open_store
from faisceau.synth.world import write_world
from infoshield_coarse import infoshield_coarse, load_crawl, load_truth


def main() -> int:
    parser = argparse.ArgumentParser()
    add_world_options(parser)
    args = parser.parse_args()
    params = world_params(args)
    print(machine())
    tmp = Path(tempfile.mkdtemp(prefix="faisceau-bench-vs-"))
    try:
        world = tmp / "world"
        write_world(params, world)
        print(f"world: preset {args.preset}, scale {params.scale}, {params.days} days, "
              f"seed {params.seed}, images {params.images}")
        truth = load_truth(world / "truth" / "ads.jsonl")
        store = open_store(Settings(home=tmp / "store", database_url=None))
        with Ingestor(store, images=params.images).session() as ingestor:
            ingestor.ingest_paths([world / "crawl"])
        started = time.perf_counter()
        summary = detect(store)
        faisceau_seconds = time.perf_counter() - started
        with store.begin() as conn:
            rows = conn.execute(text(
                "SELECT a.source, a.ad_id, n.network_id FROM ad a "
                "JOIN ad_network n ON n.ad_pk = a.id")).all()
        store.dispose()
        ours = bcubed(contingency([r[2] for r in rows], [truth[(r[0], r[1])] for r in rows]))

        started = time.perf_counter()
        docs = load_crawl(world / "crawl")
        loaded = time.perf_counter()
        labels = infoshield_coarse(docs)
        done = time.perf_counter()
        keys = [(d[0], d[1]) for d in docs if (d[0], d[1]) in truth]
        theirs = bcubed(contingency([labels[k] for k in keys], [truth[k] for k in keys]))
        assert ours is not None and theirs is not None
        print(f"{'method':<34} {'ads':>8} {'seconds':>8} {'ads/s':>9} "
              f"{'B³ P':>7} {'B³ R':>7} {'B³ F1':>7}")
        print(f"{'faisceau detect':<34} {summary.ads:8,} {faisceau_seconds:8.2f} "
              f"{summary.ads / faisceau_seconds:9,.0f} {ours.precision:7.4f} "
              f"{ours.recall:7.4f} {ours.f1:7.4f}")
        for label, seconds in (("InfoShield-Coarse (clustering)", done - loaded),
                               ("InfoShield-Coarse (with reading)", done - started)):
            print(f"{label:<34} {len(docs):8,} {seconds:8.2f} {len(docs) / seconds:9,.0f} "
                  f"{theirs.precision:7.4f} {theirs.recall:7.4f} {theirs.f1:7.4f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
