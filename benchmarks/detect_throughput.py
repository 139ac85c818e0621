"""Detection (``faisceau detect``) throughput and accuracy, first day and incremental days.

A synthetic national crawl (default 40,000 active ads a day, 30 days) is ingested one day
at a time into a fresh embedded store, and detection runs after each day, as in operation.
Printed per day: ads in the store, versions featurised, detection time, ads/s (ads in the
store over detection time), and the B-cubed precision / recall / F1 of the networks against
the ground truth of the ads seen so far.

Targets (issue 4): >= 7,000 ads/s on a national day and on a national month; an
incremental day after a month costs at most 1.5 times the first day. Detection links, then
scores (issue 5): the scoring time is printed apart, with what it adds to linking (target:
at most 20 %).

With ``--baseline``, each day also clusters every ad seen so far with the InfoShield-Coarse
baseline (``infoshield_coarse.py``), which has no incremental mode: the time printed is its
clustering alone (reading the crawl not counted), the same day's work as ``detect``.

    .venv/bin/python benchmarks/detect_throughput.py [--ads-per-day N] [--days D] [--seed S]
        [--images] [--baseline] [--database-url postgresql+psycopg://127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from _common import empty_store, machine
from faisceau.config import Settings
from faisceau.evaluate.metrics import bcubed, contingency
from faisceau.ingest.pipeline import Ingestor
from faisceau.score.run import detect_and_score
from faisceau.store import open_store
from faisceau.synth.world import Params, write_world
from infoshield_coarse import infoshield_coarse, load_crawl


def _truth(world: Path) -> dict[tuple[str, str], str]:
    out = {}
    with open(world / "truth" / "ads.jsonl", "rb") as handle:
        for line in handle:
            row = json.loads(line)
            out[(row["source"], row["ad_id"])] = row["controller"]
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ads-per-day", type=int, default=40_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--images", action="store_true")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--baseline", action="store_true",
                        help="also time InfoShield-Coarse on the ads seen so far, each day")
    args = parser.parse_args()
    print(machine())
    tmp = Path(tempfile.mkdtemp(prefix="faisceau-bench-detect-"))
    try:
        world = tmp / "world"
        started = time.perf_counter()
        write_world(Params(ads_per_day=args.ads_per_day, days=args.days, seed=args.seed,
                           images=args.images), world)
        print(f"world: {args.ads_per_day} ads/day × {args.days} days, seed {args.seed} "
              f"({time.perf_counter() - started:.0f} s)")
        truth = _truth(world)
        store = open_store(Settings(home=tmp / "store", database_url=args.database_url))
        empty_store(store)
        print("day | ads in store | new versions | detect s | ads/s | B³ P | B³ R | B³ F1 "
              "| score s (+% of linking)")
        first = None
        so_far = tmp / "so-far"
        so_far.mkdir()
        for day, path in enumerate(sorted((world / "crawl").glob("ads-*.jsonl")), 1):
            (so_far / path.name).symlink_to(path)
            with Ingestor(store, images=args.images).session() as ingestor:
                ingestor.ingest_paths([path])
            summary, scored = detect_and_score(store)
            seconds = sum(summary.seconds.values())
            scoring = sum(scored.seconds.values())
            first = first or seconds
            with store.begin() as conn:
                rows = conn.execute(text(
                    "SELECT a.source, a.ad_id, n.network_id FROM ad a "
                    "JOIN ad_network n ON n.ad_pk = a.id")).all()
            score = bcubed(contingency([r[2] for r in rows],
                                       [truth[(r[0], r[1])] for r in rows]))
            assert score is not None
            parts = " ".join(f"{k} {v:.2f}" for k, v in summary.seconds.items())
            parts += "; score: " + " ".join(f"{k} {v:.2f}" for k, v in scored.seconds.items())
            parts += f", {scored.scored_networks:,} networks scored"
            print(f"{day:3d} | {summary.ads:12,} | {summary.new_versions:12,} | "
                  f"{seconds:8.2f} | {summary.ads / seconds:9,.0f} | {score.precision:.4f} | "
                  f"{score.recall:.4f} | {score.f1:.4f} | {scoring:.2f} "
                  f"(+{scoring / seconds:.0%})   ({parts}; {seconds / first:.2f}× day 1)",
                  flush=True)
            if args.baseline:
                docs = load_crawl(so_far)
                started = time.perf_counter()
                labels = infoshield_coarse(docs)
                baseline = time.perf_counter() - started
                keys = [(d[0], d[1]) for d in docs]
                theirs = bcubed(contingency([labels[k] for k in keys], [truth[k] for k in keys]))
                assert theirs is not None
                print(f"    InfoShield-Coarse on the {len(docs):,} ads so far: {baseline:.2f} s, "
                      f"B³ P {theirs.precision:.4f} R {theirs.recall:.4f} F1 {theirs.f1:.4f}",
                      flush=True)
        store.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
