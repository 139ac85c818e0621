"""Importing case files (``faisceau.intel.casefiles``): records, entities and statements a
second, for the units' CSV layout and for FtM JSON lines, and the cost of importing the same
files again (which must change nothing).

    .venv/bin/python benchmarks/casefiles_import.py --world benchmarks/data/national-year
    .venv/bin/python benchmarks/casefiles_import.py --scale 0.3 --days 60 --seed 3 \\
        --database-url postgresql+psycopg://127.0.0.1/test
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from _common import add_world_options, empty_store, machine, world_params
from faisceau.config import Settings
from faisceau.intel.casefiles import import_case_files
from faisceau.store import open_store
from faisceau.store.schema import intel_statement
from faisceau.synth.behind import write_behind
from faisceau.synth.world import write_world


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_world_options(parser)
    parser.add_argument("--world", type=Path, default=None,
                        help="an existing world whose intel/ the world behind wrote")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        world = args.world
        if world is None:
            params = world_params(args)
            world = Path(tmp) / "world"
            write_world(params, world)
            write_behind(world, params.seed, params.start, params.scale)
        for label, path in (("CSV", world / "intel" / "csv"),
                            ("FtM", world / "intel" / "ftm.jsonl")):
            store = open_store(Settings(home=Path(tmp) / f"store-{label}",
                                        database_url=args.database_url))
            empty_store(store)
            started = time.perf_counter()
            summary = import_case_files(store, [path])
            first = time.perf_counter() - started
            started = time.perf_counter()
            import_case_files(store, [path])
            again = time.perf_counter() - started
            with store.begin() as conn:
                stored = conn.execute(select(func.count()).select_from(intel_statement)
                                      ).scalar_one()
            print(f"{label} ({store.dialect}): {summary.records:,} records, "
                  f"{summary.entities:,} entities, {stored:,} statements stored, "
                  f"{len(summary.set_aside)} set aside; first import {first:.1f} s = "
                  f"{summary.records / first:,.0f} records/s, {stored / first:,.0f} "
                  f"statements/s; again {again:.1f} s")
            store.dispose()


if __name__ == "__main__":
    main()
