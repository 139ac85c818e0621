"""Speed and memory of the synthetic-world generator, images excluded.

    .venv/bin/python benchmarks/synth_throughput.py [--scale 1.0] [--days 30] [--gzip]

Generates a national world (scale 1 = 37,500 active ads a day) in a temporary directory and
prints sightings per second and the peak resident memory of the process. With --days 365
it makes the national year (about 13.7 million sightings).

Target (issue 3): >= 20,000 sightings/s, memory bounded (independent of the number of days).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _common import machine
from faisceau.synth.world import Params, write_world


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--gzip", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="faisceau-synth-"))
    try:
        start = time.perf_counter()
        written = write_world(Params(scale=args.scale, days=args.days, seed=args.seed,
                                     gzip=args.gzip), work)
        elapsed = time.perf_counter() - start
        size = sum(p.stat().st_size for p in (work / "crawl").glob("*.jsonl*"))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"machine: {machine()}")
        print(f"world: scale {args.scale}, {args.days} days, seed {args.seed}"
              f"{', gzip' if args.gzip else ''}")
        print(f"{written.lines:,} sightings of {written.ads:,} ads, "
              f"{written.controllers:,} controllers, {size / 2**20:,.0f} MiB of crawl")
        print(f"generated in {elapsed:.1f} s = {written.lines / elapsed:,.0f} sightings/s   "
              "target >= 20,000")
        print(f"peak resident memory: {peak:,.0f} MiB")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
