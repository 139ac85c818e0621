"""Entity resolution of the case files' people (``faisceau.intel.people``) on synthetic
worlds, against their ground truth.

For each world (default: the demo preset, and scale 0.3 over 60 days with seed 3), the
world and the world behind the ads are generated, the case files (CSV layout) imported into
a fresh embedded store, and ``resolve_people`` run with the shipped settings. The true
pairs are the records of one ads person: a runaway report's minor and the victim of a case
(``truth/runaways.jsonl``, ``truth/cases.jsonl``), a victim in two cases, two reports of
one minor.

Printed per world: the records and true pairs; the merges (every pair inside a resolved
person) with their pairwise precision, recall and F1, and the false ones by category pair;
the review queue (its size, the true pairs in it, and the recall an analyst reaches by
reviewing it); the pairs above the match threshold held for an analyst (categories kept
apart, same case); precision and recall of automatic merging at other thresholds; times.

    .venv/bin/python benchmarks/resolve_people.py [--worlds demo,0.3:60:3] [--out DIR]
        [--settings FILE]
    .venv/bin/python benchmarks/resolve_people.py --worlds benchmarks/data/national-year
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from datetime import date
from itertools import combinations
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import text

from _common import machine
from faisceau.config import Settings
from faisceau.intel.casefiles import import_case_files
from faisceau.intel.people import (
    load_people_settings,
    person_records,
    resolve_people,
    review_queue,
)
from faisceau.intel.resolve import ResolutionSettings, pairwise_scores
from faisceau.store import open_store
from faisceau.synth.behind import write_behind
from faisceau.synth.world import PRESETS, Params, write_world

Pair = tuple[str, str]


def parse_world(spec: str) -> tuple[str, Params | Path]:
    """"demo" (a preset), "scale:days:seed", or the directory of an ads world already made
    (``benchmarks/data/national-year``): the world behind its ads is made beside it."""
    if spec in PRESETS:
        return spec, PRESETS[spec]
    if Path(spec).is_dir():
        return Path(spec).name, Path(spec)
    scale, days, seed = spec.split(":")
    return spec, Params(scale=float(scale), days=int(days), seed=int(seed))


def make_world(params: Params | Path, out: Path) -> Path:
    """The world (ads world and the world behind it) in ``out``, made unless it is there."""
    if (out / "truth" / "behind.json").exists():
        return out
    if isinstance(params, Path):  # an ads world made already: only what write_behind reads
        raw = orjson.loads((params / "world.json").read_bytes())["params"]
        (out / "truth").mkdir(parents=True, exist_ok=True)
        shutil.copy(params / "world.json", out / "world.json")
        shutil.copy(params / "truth" / "controllers.jsonl", out / "truth" / "controllers.jsonl")
        write_behind(out, int(raw["seed"]), date.fromisoformat(raw["start"]),
                     float(raw["scale"]))
        return out
    write_world(params, out)
    write_behind(out, params.seed, params.start, params.scale)
    return out


def true_pairs(world: Path) -> set[Pair]:
    """Pairs of Person entities that are one ads person."""
    entities: dict[str, set[str]] = defaultdict(set)
    for line in (world / "truth" / "cases.jsonl").read_bytes().splitlines():
        for victim in orjson.loads(line)["victims"]:
            entities[victim["person"]].add(victim["entity"])
    for line in (world / "truth" / "runaways.jsonl").read_bytes().splitlines():
        report = orjson.loads(line)
        if report["person"]:
            entities[report["person"]].add(f"{report['report']}-P")
    return {(a, b) for group in entities.values() if len(group) > 1
            for a, b in combinations(sorted(group), 2)}


def why(pairs: set[Pair], records: dict[str, dict[str, Any]]) -> str:
    """What the two records of true pairs have to go on."""
    counts: Counter[str] = Counter()
    for a, b in pairs:
        left, right = records[a], records[b]
        if not left["surname"] or not right["surname"]:
            counts["a given name without surname"] += 1
        elif left["given_name"] != right["given_name"]:
            counts["another given name"] += 1
        elif not left["birth_date"] or not right["birth_date"]:
            counts["same names, a birth date on one side only"] += 1
        else:
            counts["same names and birth date"] += 1
    return ", ".join(f"{k} {n}" for k, n in counts.most_common()) or "none"


def _f(value: float) -> str:
    return f"{value:.3f}"


def run(name: str, params: Params | Path, root: Path, settings: ResolutionSettings) -> None:
    world = make_world(params, root / name.replace(":", "_"))
    truth = true_pairs(world)
    store = open_store(Settings(home=Path(tempfile.mkdtemp(dir=root)), database_url=None))
    started = time.perf_counter()
    imported = import_case_files(store, [world / "intel" / "csv"])
    import_seconds = time.perf_counter() - started
    summary = resolve_people(store, settings)
    with store.begin() as conn:
        people = conn.execute(text("SELECT id, category, canonical_id FROM intel_entity "
                                   "WHERE schema = 'Person'")).all()
        candidates = conn.execute(text(
            "SELECT left_id, right_id, probability, detail FROM intel_candidate")).all()
        queue = review_queue(conn, None)
    category = {r[0]: r[1] for r in people}
    groups: dict[str, list[str]] = defaultdict(list)
    for entity_id, _, canonical in people:
        groups[canonical].append(entity_id)
    merged = {(a, b) for members in groups.values() for a, b in combinations(sorted(members), 2)}
    queued = {(i.left.id, i.right.id) for i in queue}

    def kinds(pairs: set[Pair]) -> str:
        counts = Counter("/".join(sorted((category[a] or "?", category[b] or "?")))
                         for a, b in pairs)
        return ", ".join(f"{k} {n}" for k, n in counts.most_common()) or "none"

    print(f"\n## world {name}: {params}")
    print(f"person records {summary.records:,}; true pairs {len(truth)} ({kinds(truth)}); "
          f"import {import_seconds:.1f} s ({imported.statements:,} statements)")
    p, r, f1 = pairwise_scores(sorted(merged), truth)
    print(f"merged (automatic, match >= {settings.match}): {len(merged)} pairs, "
          f"{len(merged & truth)} true; precision {_f(p)}, recall {_f(r)}, F1 {_f(f1)}")
    print(f"  false merges by category pair: {kinds(merged - truth)}")
    held = {(c[0], c[1]) for c in candidates
            if c[2] >= settings.match and orjson.loads(c[3])["held"]}
    print(f"held for an analyst although >= match: {summary.held} ({kinds(held)})")
    in_queue = queued & truth
    reachable = (merged | queued) & truth
    print(f"review queue (review >= {settings.review}): {len(queue)} pairs, {len(in_queue)} "
          f"true (precision of the queue {_f(len(in_queue) / len(queue) if queue else 0)}); "
          f"recall once reviewed {_f(len(reachable) / len(truth) if truth else 0)}")
    print(f"  queue by category pair: {kinds(queued)}")
    missed = truth - merged - queued
    print(f"true pairs never proposed: {len(missed)} ({kinds(missed)})")
    with store.begin() as conn:
        records = {r["record_id"]: r for r in person_records(
            conn, sorted({i for pair in truth for i in pair}))}
    for label, pairs in (("merged", merged & truth), ("queued", queued & truth),
                         ("never proposed", missed)):
        print(f"  {label}: {why(pairs, records)}")
    print("automatic merging at other thresholds (pairs, held ones excluded):")
    for threshold in (0.5, 0.8, 0.9, 0.95, 0.99):
        chosen = [(c[0], c[1]) for c in candidates
                  if c[2] >= threshold and not orjson.loads(c[3])["held"]]
        tp, tr, tf1 = pairwise_scores(chosen, truth)
        print(f"  >= {threshold}: {len(chosen)} pairs, precision {_f(tp)}, recall {_f(tr)}, "
              f"F1 {_f(tf1)}")
    print(f"resolution {summary.seconds:.1f} s ({summary.records / summary.seconds * 60:,.0f} "
          "records a minute, training included)")
    again = resolve_people(store, settings)
    print(f"second run: merged {again.merged}, withdrawn {again.withdrawn}, canonical ids "
          f"changed {again.changed}, {again.seconds:.1f} s")
    store.dispose()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worlds", default="demo,0.3:60:3")
    parser.add_argument("--settings", type=Path, default=None,
                        help="Other settings (default: the shipped people_resolution.toml).")
    parser.add_argument("--out", type=Path, default=None,
                        help="Keep the worlds here (and reuse them on the next run).")
    args = parser.parse_args()
    print(machine())
    settings = load_people_settings(args.settings)
    print(f"settings: {args.settings or 'shipped'}; thresholds: match >= {settings.match}, "
          f"review >= {settings.review}")
    with tempfile.TemporaryDirectory() as scratch:
        root = args.out or Path(scratch)
        root.mkdir(parents=True, exist_ok=True)
        for spec in args.worlds.split(","):
            run(*parse_world(spec), root, settings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
