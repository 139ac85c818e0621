"""Shared helpers for the benchmark scripts: machine description and timing."""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from faisceau.store import Store
    from faisceau.synth.world import Params


def machine() -> str:
    cpu = "unknown cpu"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{platform.node()} · {os.cpu_count()} cores · {cpu} · {mem:.0f} GiB · "
            f"Python {platform.python_version()} · {datetime.now(UTC):%Y-%m-%d}")


@contextmanager
def timed() -> Iterator[list[float]]:
    box: list[float] = []
    start = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - start)


def add_world_options(parser: argparse.ArgumentParser, preset: str = "demo") -> None:
    """``--preset`` and overrides of its scale, days and seed."""
    from faisceau.synth.world import PRESETS

    parser.add_argument("--preset", default=preset, choices=sorted(PRESETS))
    parser.add_argument("--scale", type=float, default=None)
    parser.add_argument("--days", type=int, default=None)
    parser.add_argument("--seed", type=int, default=None)


def world_params(args: argparse.Namespace) -> Params:
    """The world that ``add_world_options`` arguments ask for."""
    from faisceau.synth.world import PRESETS

    params = PRESETS[args.preset]
    for name in ("scale", "days", "seed"):
        if getattr(args, name) is not None:
            params = dataclasses.replace(params, **{name: getattr(args, name)})
    return params


def empty_store(store: Store) -> None:
    """Remove every row of a PostgreSQL store, so that a benchmark starts from nothing (an
    embedded store is a fresh directory already)."""
    from sqlalchemy import text

    from faisceau.store.schema import metadata

    if store.dialect == "sqlite":
        return
    with store.begin() as conn:
        conn.execute(text("TRUNCATE " + ", ".join(t.name for t in metadata.sorted_tables)
                          + " CASCADE"))
