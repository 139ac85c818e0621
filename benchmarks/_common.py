"""Shared helpers for the benchmark scripts: machine description, timing, and a synthetic
world run end to end (generate, ingest, detect and score, export, evaluate)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from faisceau.evaluate.report import EvaluationReport
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


@dataclass
class WorldRun:
    """A synthetic world run end to end in a fresh embedded store (``run_world``)."""

    world: Path  # the world's directory: crawl/ and truth/
    ads_export: Path
    networks_export: Path
    report: EvaluationReport
    ads: int  # ads in the store, as detection counted them
    # generate, ingest, detect (the whole detect_and_score call), link and score (their
    # own stages within it), export, evaluate
    seconds: dict[str, float]


def run_world(params: Params, tmp: Path, **evaluate_options: int) -> WorldRun:
    """Generate ``params``'s world under ``tmp``, ingest its crawl into a fresh embedded
    store there, detect and score once, export ads and networks and evaluate them against
    the truth (``evaluate_options`` go to ``evaluate_paths``). The caller removes ``tmp``."""
    from faisceau.synth.world import write_world

    world = tmp / "world"
    with timed() as spent:
        write_world(params, world)
    return run_crawl(world, tmp, images=params.images, generate_seconds=spent[0],
                     **evaluate_options)


def run_crawl(world: Path, tmp: Path, *, images: bool = False, generate_seconds: float = 0.0,
              **evaluate_options: int) -> WorldRun:
    """``run_world`` for a world already written (``world``: crawl/ and truth/ads.jsonl),
    by faisceau's generator or another one; the store and exports go under ``tmp``."""
    from faisceau.config import Settings
    from faisceau.evaluate.report import evaluate_paths
    from faisceau.export.ads import write_ads
    from faisceau.export.networks import write_networks
    from faisceau.ingest.pipeline import Ingestor
    from faisceau.score.run import detect_and_score
    from faisceau.store import open_store

    seconds: dict[str, float] = {"generate": generate_seconds}
    store = open_store(Settings(home=tmp / "store", database_url=None))
    try:
        with timed() as spent, Ingestor(store, images=images).session() as ingestor:
            ingestor.ingest_paths([world / "crawl"])
        seconds["ingest"] = spent[0]
        with timed() as spent:
            linked, scored = detect_and_score(store)
        seconds["detect"] = spent[0]
        seconds["link"] = sum(linked.seconds.values())
        seconds["score"] = sum(scored.seconds.values())
        ads_export, networks_export = tmp / "ads.jsonl", tmp / "networks.jsonl"
        with timed() as spent, store.begin() as conn, open(ads_export, "wb") as ads_out, \
                open(networks_export, "wb") as networks_out:
            write_ads(conn, ads_out)
            write_networks(conn, networks_out)
        seconds["export"] = spent[0]
    finally:
        store.dispose()
    with timed() as spent:
        report = evaluate_paths(world / "truth" / "ads.jsonl", ads_export, networks_export,
                                **evaluate_options)
    seconds["evaluate"] = spent[0]
    return WorldRun(world, ads_export, networks_export, report, linked.ads, seconds)
