"""Peak memory of `faisceau ingest ads` on a 1,000,000-line file.

Generates one JSON Lines file of a synthetic crawl (40,000 ads a day for 25 days = 1,000,000
lines, images excluded), runs the real command on a fresh embedded store, and samples the
resident memory of the command and all its worker processes together every 0.1 s.

    .venv/bin/python benchmarks/ingest_memory.py [--lines 1000000]

Target (issue 2): peak under 1 GiB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import machine
from faisceau.synth.ads import Params, write_crawl

PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/statm") as handle:
                rss[int(entry)] = int(handle.read().split()[1]) * PAGE
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--ads-per-day", type=int, default=40_000)
    args = parser.parse_args()
    days = max(1, args.lines // args.ads_per_day)
    work = Path(tempfile.mkdtemp(prefix="faisceau-mem-"))
    try:
        written = write_crawl(Params(ads_per_day=args.ads_per_day, days=days, seed=5,
                                     single_file=True), work / "world")
        path = written.files[0]
        print(f"machine: {machine()}")
        print(f"file: {written.lines:,} lines, {path.stat().st_size / 2**20:,.0f} MiB")
        env = {**os.environ, "FAISCEAU_HOME": str(work / "store")}
        env.pop("FAISCEAU_DATABASE_URL", None)
        exe = Path(sys.executable).with_name("faisceau")
        start = time.perf_counter()
        proc = subprocess.Popen([str(exe), "ingest", "ads", str(path), "--no-images"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, tree_rss(proc.pid))
            time.sleep(0.1)
        output = proc.stdout.read() if proc.stdout else ""
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            print(output)
            return 1
        print(f"ingested in {elapsed:.0f} s = {written.lines / elapsed:,.0f} lines/s "
              "(command, start-up included)")
        print(f"peak resident memory, command + workers: {peak / 2**20:,.0f} MiB   "
              "target < 1024 MiB")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
