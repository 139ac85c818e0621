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
from faisceau.synth.world import Params, write_world


def _rollup(pid: str) -> tuple[int, int]:
    """(RSS, PSS) of one process in bytes. PSS shares each page among the processes that map
    it, so the sum over a tree of forked workers is the memory the tree really holds."""
    rss = pss = 0
    with open(f"/proc/{pid}/smaps_rollup") as handle:
        for line in handle:
            if line.startswith("Rss:"):
                rss = int(line.split()[1]) * 1024
            elif line.startswith("Pss:"):
                pss = int(line.split()[1]) * 1024
    return rss, pss


def tree_memory(root: int) -> tuple[int, int]:
    """(sum of RSS, sum of PSS) of ``root`` and all its descendants."""
    children: dict[int, list[int]] = {}
    sizes: dict[int, tuple[int, int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            sizes[int(entry)] = _rollup(entry)
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    rss = pss = 0
    stack = [root]
    while stack:
        pid = stack.pop()
        one = sizes.get(pid, (0, 0))
        rss, pss = rss + one[0], pss + one[1]
        stack.extend(children.get(pid, []))
    return rss, pss


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--ads-per-day", type=int, default=40_000)
    args = parser.parse_args()
    days = max(1, args.lines // args.ads_per_day)
    work = Path(tempfile.mkdtemp(prefix="faisceau-mem-"))
    try:
        written = write_world(Params(ads_per_day=args.ads_per_day, days=days, seed=5,
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
        peak_rss = peak_pss = 0
        while proc.poll() is None:
            rss, pss = tree_memory(proc.pid)
            peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
            time.sleep(0.1)
        output = proc.stdout.read() if proc.stdout else ""
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            print(output)
            return 1
        print(f"ingested in {elapsed:.0f} s = {written.lines / elapsed:,.0f} lines/s "
              "(command, start-up included)")
        print(f"peak memory of command + workers (PSS, shared pages counted once): "
              f"{peak_pss / 2**20:,.0f} MiB   target < 1024 MiB")
        print(f"  (sum of RSS, counting pages shared by forked workers in each: "
              f"{peak_rss / 2**20:,.0f} MiB)")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
