"""Ingest + normalise throughput on a realistic daily-crawl mix, images excluded.

A synthetic national crawl (``faisceau.synth.world``; default 40,000 active ads a day for 7
days) is ingested into a fresh store, one daily file after the other, then ingested again.

- The first day is a backfill: every ad is new and must be normalised.
- Each following day is the realistic daily crawl: every active ad is seen again, about
  one in eight sightings is a new ad or an edited one. Target: >= 5,000 sightings/s.
- Re-ingesting files already ingested. Target: >= 20,000 sightings/s.

    .venv/bin/python benchmarks/ingest_throughput.py [--ads-per-day N] [--days D]
        [--database-url postgresql+psycopg://127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from _common import empty_store, machine, timed
from faisceau.config import Settings
from faisceau.ingest.pipeline import Ingestor
from faisceau.store import open_store
from faisceau.synth.world import Params, write_world


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ads-per-day", type=int, default=40_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--workers", type=int, default=None,
                        help="normalisation processes (default: as ingest)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="faisceau-bench-"))
    try:
        with timed() as gen:
            written = write_world(Params(ads_per_day=args.ads_per_day, days=args.days,
                                         seed=args.seed), work / "world")
        files = written.files
        print(f"machine: {machine()}")
        print(f"store: {'PostgreSQL' if args.database_url else 'embedded (SQLite)'}")
        print(f"crawl: {written.lines:,} sightings of {written.ads:,} ads over {args.days} days "
              f"in {len(files)} files (generated in {gen[0]:.1f} s)")
        store = open_store(Settings(home=work / "store", database_url=args.database_url))
        empty_store(store)
        ingestor = Ingestor(store, images=False, workers=args.workers)
        with ingestor.session():
            with timed() as first:
                day1 = ingestor.ingest_paths(files[:1])
            with timed() as rest:
                others = ingestor.ingest_paths(files[1:])
            with timed() as again:
                repeat = ingestor.ingest_paths(files)
        week = day1.read + others.read
        week_s = first[0] + rest[0]
        print(f"first day (backfill):  {day1.read:>9,} sightings in {first[0]:6.1f} s = "
              f"{day1.read / first[0]:>8,.0f} sightings/s")
        print(f"daily crawl, days 2-{args.days}: {others.read:>9,} sightings in {rest[0]:6.1f} s = "
              f"{others.read / rest[0]:>8,.0f} sightings/s   target >= 5,000 "
              f"({others.new_versions + others.new_ads:,} new ads or versions)")
        print(f"whole crawl (the mix): {week:>9,} sightings in {week_s:6.1f} s = "
              f"{week / week_s:>8,.0f} sightings/s")
        print(f"re-ingest, same files: {repeat.read:>9,} sightings in {again[0]:6.1f} s = "
              f"{repeat.read / again[0]:>8,.0f} sightings/s   target >= 20,000")
        assert repeat.already_ingested == repeat.read - repeat.set_aside
        store.dispose()
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
