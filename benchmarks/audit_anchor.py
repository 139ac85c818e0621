"""The cost of anchoring the consultation log: what a checkpoint adds to each committed
append (the web application appends one entry per page), and what verifying costs.

Appends ``--entries`` consultations twice over, one transaction each, in turn without
anchoring (through the engine's own transaction, which runs nothing after commit) and with
it (``Store.begin``: sign, lock, read the anchor's last line, write, fsync); then the
checkpoint alone, and ``faisceau audit verify``'s work (the chain, then the anchor).
Embedded store in a fresh temporary directory unless ``--database-url`` names PostgreSQL
(emptied first).

    .venv/bin/python benchmarks/audit_anchor.py
    .venv/bin/python benchmarks/audit_anchor.py \\
        --database-url postgresql+psycopg://127.0.0.1/faisceau_bench
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _common import empty_store, machine
from faisceau.config import Settings
from faisceau.share import anchor, audit
from faisceau.share.access import Viewer
from faisceau.store import Store, open_store

VIEWER = Viewer("analyste.bench", "analyst", "OCRTEH")


def _per_call(count: int, *calls: Callable[[int], None]) -> list[tuple[float, float, float]]:
    """Mean, median and 95th percentile, in microseconds, of ``count`` runs of each call,
    taken in turn (so that a slow moment of the machine weighs on all alike)."""
    times: list[list[float]] = [[] for _ in calls]
    for n in range(count):
        for call, box in zip(calls, times, strict=True):
            started = time.perf_counter()
            call(n)
            box.append((time.perf_counter() - started) * 1e6)
    return [(statistics.fmean(t), statistics.median(t), statistics.quantiles(t, n=20)[-1])
            for t in times]


def _append_unanchored(store: Store) -> Callable[[int], None]:
    def call(n: int) -> None:
        with store.engine.begin() as conn:
            audit.record(conn, VIEWER, "view", "network", f"N-{n}", detail={"page": n})
    return call


def _append(store: Store) -> Callable[[int], None]:
    def call(n: int) -> None:
        with store.begin() as conn:
            audit.record(conn, VIEWER, "view", "network", f"N-{n}", detail={"page": n})
    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "store"
        store = open_store(Settings(home=home, database_url=args.database_url))
        empty_store(store)
        print(f"{store.dialect}, {args.entries} appends of one entry, one transaction each "
              f"(anchor in {home}, on {_filesystem(home)})")
        # The first entry begins the log: the key and the anchor are created with it.
        _append(store)(0)
        plain, anchored = _per_call(args.entries, _append_unanchored(store), _append(store))
        paths = anchor.anchor_paths(store.settings, {})
        alone_paths = anchor.AnchorPaths(key=paths.key, anchor=Path(tmp) / "alone.jsonl")
        alone_paths.anchor.touch()
        [alone] = _per_call(args.entries, lambda n: anchor.append_checkpoint(
            alone_paths, n + 1, f"{n:064x}"))
        for label, (mean, median, p95) in (("append, not anchored", plain),
                                           ("append + checkpoint after commit", anchored),
                                           ("checkpoint alone", alone)):
            print(f"  {label:34} mean {mean:7.0f} µs   median {median:7.0f} µs   "
                  f"p95 {p95:7.0f} µs")
        print(f"  what anchoring adds to an append (medians): {anchored[1] - plain[1]:.0f} µs")
        started = time.perf_counter()
        result = audit.verify(store)
        whole = time.perf_counter() - started
        started = time.perf_counter()
        anchor.read_anchor(paths, lambda batch: None, size=anchor.anchor_size(paths))
        reading = time.perf_counter() - started
        print(f"verify: {result.entries} entries, {result.anchoring.checkpoints} checkpoints, "
              f"intact={result.intact}: {whole:.2f} s, of which reading the anchor "
              f"{reading:.2f} s; anchor file {paths.anchor.stat().st_size / 1024:.0f} KiB")
        store.dispose()


def _filesystem(path: Path) -> str:
    """The mount's file system type, as fsync's cost depends on it."""
    best, kind = "", "?"
    try:
        with open("/proc/mounts", encoding="utf-8") as mounts:
            for line in mounts:
                _, point, fstype, *_ = line.split()
                if str(path.resolve()).startswith(point) and len(point) > len(best):
                    best, kind = point, fstype
    except OSError:
        pass
    return kind


if __name__ == "__main__":
    main()
