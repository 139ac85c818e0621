"""What neutralising formula cells costs the i2 export (``write_i2``), at 100k and 500k rows.

A synthetic graph of N nodes and N edges, one text cell in ten hostile (``=``, ``+``, ``-``,
``@``); ``write_i2`` timed as shipped, then with ``safecsv.neutralise_frame`` replaced by the
identity, to show the neutralisation's own cost. Best of three runs.

    .venv/bin/python benchmarks/safecsv_i2.py [N ...]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from faisceau.export import safecsv
from faisceau.intel.exchange import write_i2


def _graph(n: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    ids = pl.int_range(0, n, eager=True).cast(pl.String)
    hostile = pl.Series(["=HYPERLINK(1)", "+33612345678", "-1+1", "@SUM(1)", "Léa", "Jade",
                         "Société Fictive", "gérant", "Nîmes", "Inès"])
    labels = hostile.gather(pl.int_range(0, n, eager=True) % 10)
    nodes = pl.DataFrame({"id": "person:" + ids, "kind": ["person"] * n, "label": labels,
                          "category": ["victim"] * n, "role": labels, "case_id": ["AFF-1"] * n,
                          "first": [None] * n, "last": [None] * n},
                         schema_overrides={"first": pl.Date, "last": pl.Date})
    shifted = "person:" + ((pl.int_range(0, n, eager=True) + 1) % n).cast(pl.String)
    edges = pl.DataFrame({"source": "person:" + ids, "target": shifted, "kind": ["uses"] * n,
                          "weight": [0.5] * n, "count": [1] * n, "first": [None] * n,
                          "last": [None] * n, "evidence": labels},
                         schema_overrides={"first": pl.Date, "last": pl.Date})
    return nodes, edges


def _best(run: object, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main(sizes: list[int]) -> None:
    print(f"polars {pl.__version__}")
    print("| rows | write_i2 (neutralised) | write_i2 (raw) | cost |")
    print("| --- | --- | --- | --- |")
    shipped = safecsv.neutralise_frame
    for n in sizes:
        nodes, edges = _graph(n)
        with tempfile.TemporaryDirectory() as tmp:
            safe = _best(lambda: write_i2(nodes, edges, Path(tmp)))  # noqa: B023
            safecsv.neutralise_frame = lambda frame: frame  # type: ignore[assignment]
            try:
                raw = _best(lambda: write_i2(nodes, edges, Path(tmp)))  # noqa: B023
            finally:
                safecsv.neutralise_frame = shipped  # type: ignore[assignment]
        print(f"| {n:,} | {safe:.3f} s | {raw:.3f} s | +{safe - raw:.3f} s "
              f"({(safe - raw) / raw:+.0%}) |")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100_000, 500_000])
