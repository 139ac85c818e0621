"""Linking and scoring quality over world size and confounder rate (issue 15).

Each world is generated, ingested into a fresh embedded store, detected and scored once
(``detect_and_score``), exported and evaluated against its truth (``faisceau evaluate``'s
report), as in ``score_quality.py``; the world and its store live in a temporary directory
removed afterwards. One row per world, the issue's target beside each figure.

Two curves:

- over world size: the ``small`` and ``demo`` presets (demo has images and corrupt lines),
  a national day (scale 1, 1 day) and a national month (scale 1, 30 days);
- over the confounder rate at demo scale (0 = none, 1 = calibrated, 2 = doubled; the
  synthetic world's ``Params.confounding``);
- with ``--other-world``, over the size of worlds written by ``other_world.py``, an
  independent generator (its own texts, rates and confounders): NxD is N new ads a day
  for D days.

    .venv/bin/python benchmarks/linking_quality.py                       # small, demo
    .venv/bin/python benchmarks/linking_quality.py --sizes small,demo,national-day,national-month
    .venv/bin/python benchmarks/linking_quality.py --sizes '' --confounding 0,0.5,1,2 --seeds 1,2
    .venv/bin/python benchmarks/linking_quality.py --sizes '' --confounding '' \
        --other-world 300x10,1500x10,3000x10 --seeds 3,4

"detect+score ads/s" is the ads in the store over the whole ``detect_and_score`` call, the
first detection of a fresh store. World generation and ingestion are timed beside it.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from _common import WorldRun, machine, run_crawl, run_world
from faisceau.evaluate.metrics import Share
from faisceau.evaluate.report import ORIGIN_MIN_ADS, EvaluationReport
from faisceau.synth.world import PRESETS, Params

SIZES: dict[str, Params] = {
    "small": PRESETS["small"],
    "demo": PRESETS["demo"],
    "national-day": PRESETS["national-day"],
    "national-month": dataclasses.replace(PRESETS["national-day"], days=30),
}
DEFAULT_SIZES = "small,demo"
OTHER_WORLD = Path(__file__).with_name("other_world.py")
OTHER_WORLD_SEED = 3
DEFAULT_CONFOUNDING = "0,0.5,1,2"
# The world a detection-speed target applies to.
SPEED_WORLD = "national-day"
SPEED_TARGET = 7_000.0
# A fall of B-cubed precision from the smallest to the largest world smaller than this is
# "barely" one: a tenth of a point, a twentieth of the margin above the 0.98 target.
PRECISION_FALL = 0.001


@dataclass(frozen=True)
class Column:
    """One figure of a row: its header, how to read it off a run, and its target."""

    header: str
    value: Callable[[WorldRun], str]
    target: str = ""
    met: Callable[[WorldRun], bool | None] = lambda run: None


def _fixed(x: float | None, digits: int = 4) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _pct(s: Share | None, digits: int = 2) -> str:
    return "n/a" if s is None or s.value is None else f"{100 * s.value:.{digits}f} %"


def _at_least(value: float | None, target: float) -> bool | None:
    return None if value is None else value >= target


def _at_most(value: float | None, target: float) -> bool | None:
    return None if value is None else value <= target


def _b3(run: WorldRun, field: str) -> float | None:
    clustering = run.report.clustering
    return None if clustering is None else float(getattr(clustering, field))


def _origin_ratio(report: EvaluationReport) -> str:
    """The highest / lowest flag rate across presented origins with enough ads."""
    spread = report.independent_flags.origin_spread
    if spread.ratio.value is not None:
        return f"{spread.ratio.value:.2f} ({spread.groups})"
    notes = {"both_zero": "0/0", "infinite": "inf", "too_few_groups": "<2 orig."}
    return f"{notes.get(spread.ratio.note or '', 'n/a')} ({spread.groups})"


def _origin_ratio_met(report: EvaluationReport) -> bool | None:
    ratio = report.independent_flags.origin_spread.ratio
    if ratio.value is not None:
        return ratio.value <= 1.25
    return {"both_zero": True, "infinite": False}.get(ratio.note or "")


def _speed(run: WorldRun) -> float:
    return run.ads / run.seconds["detect"] if run.seconds["detect"] else 0.0


def columns(origin_min_ads: int, speed_target_applies: Callable[[WorldRun], bool]
            ) -> list[Column]:
    """The row's figures. The speed target is checked only where ``speed_target_applies``."""
    return [
        Column("ads", lambda r: f"{r.report.counts.evaluated_ads:,}"),
        Column("B3 P", lambda r: _fixed(_b3(r, "precision")), ">= 0.98",
               lambda r: _at_least(_b3(r, "precision"), 0.98)),
        Column("B3 R", lambda r: _fixed(_b3(r, "recall"))),
        Column("B3 F1", lambda r: _fixed(_b3(r, "f1")), ">= 0.96",
               lambda r: _at_least(_b3(r, "f1"), 0.96)),
        Column("top-k", lambda r: _pct(r.report.ranking.top_k, 1), ">= 95 %",
               lambda r: _at_least(r.report.ranking.top_k.value, 0.95)),
        Column("indep. flagged", lambda r: _pct(r.report.independent_flags.overall),
               "<= 2 %", lambda r: _at_most(r.report.independent_flags.overall.value, 0.02)),
        Column(f"max/min origins (n>={origin_min_ads})",
               lambda r: _origin_ratio(r.report), "<= 1.25",
               lambda r: _origin_ratio_met(r.report)),
        Column("scam as traff.", lambda r: _pct(r.report.scam.flagged_as_trafficking),
               "<= 5 %",
               lambda r: _at_most(r.report.scam.flagged_as_trafficking.value, 0.05)),
        Column("scam recall", lambda r: ("n/a (no field)" if r.report.scam.recall is None
                                         else _pct(r.report.scam.recall, 1)), ">= 90 %",
               lambda r: _at_least(None if r.report.scam.recall is None
                                   else r.report.scam.recall.value, 0.9)),
        Column("minor recall", lambda r: _pct(r.report.minor_recall, 1), ">= 95 %",
               lambda r: _at_least(r.report.minor_recall.value, 0.95)),
        Column("indep. minors", lambda r: _pct(r.report.false_minor_rate), "<= 1 %",
               lambda r: _at_most(r.report.false_minor_rate.value, 0.01)),
        Column("detect ads/s", lambda r: f"{_speed(r):,.0f}",
               f">= {SPEED_TARGET:,.0f} (nat. day)",
               lambda r: _speed(r) >= SPEED_TARGET if speed_target_applies(r) else None),
        Column("detect s", lambda r: f"{r.seconds['detect']:.1f}"),
        Column("generate s", lambda r: f"{r.seconds['generate']:.1f}"),
        Column("ingest s", lambda r: f"{r.seconds['ingest']:.1f}"),
    ]


def print_table(rows: list[tuple[str, WorldRun]], cols: list[Column]) -> None:
    """One line per world; a figure that misses its target is marked with '!'."""
    label_width = max([len("target"), *(len(label) for label, _ in rows)])
    cells = [[c.value(run) + ("!" if c.met(run) is False else "") for c in cols]
             for _, run in rows]
    widths = [max(len(c.header), len(c.target), *(len(row[i]) for row in cells))
              for i, c in enumerate(cols)]
    print("  " + " | ".join([f"{'world':<{label_width}}",
                             *(f"{c.header:>{w}}" for c, w in zip(cols, widths, strict=True))]))
    print("  " + " | ".join([f"{'target':<{label_width}}",
                             *(f"{c.target:>{w}}" for c, w in zip(cols, widths, strict=True))]))
    print("  " + "-+-".join("-" * w for w in [label_width, *widths]))
    for (label, _), row in zip(rows, cells, strict=True):
        print("  " + " | ".join([f"{label:<{label_width}}",
                                 *(f"{cell:>{w}}" for cell, w in zip(row, widths,
                                                                     strict=True))]))
    print("  ('!' marks a figure that misses its target; 'n/a' an undefined one.)")


def precision_over_size(rows: Sequence[tuple[str, object, WorldRun]]) -> None:
    """Does B-cubed precision fall as worlds grow? Mean over seeds, by size, smallest first."""
    by_size: dict[str, list[tuple[int, float]]] = {}
    for name, _, run in rows:
        precision = _b3(run, "precision")
        if precision is not None:
            by_size.setdefault(name, []).append((run.report.counts.evaluated_ads, precision))
    if len(by_size) < 2:
        print("\nPrecision over size: fewer than two sizes run, nothing to compare.")
        return
    points = sorted((statistics.mean(a for a, _ in values),
                     statistics.mean(p for _, p in values), name)
                    for name, values in by_size.items())
    print("\nB3 precision over world size (mean over seeds): " + " -> ".join(
        f"{name} {precision:.5f} ({ads:,.0f} ads)" for ads, precision, name in points))
    first, last = points[0][1], points[-1][1]
    change = f"{first:.5f} -> {last:.5f}, {last - first:+.5f}"
    if last <= first - PRECISION_FALL:
        steps = [b[1] - a[1] for a, b in pairwise(points)]
        shape = "at every step" if all(step < 0 for step in steps) else "not at every step"
        print(f"  Precision falls with size: yes ({change}; {shape}).")
    elif last < first:
        print(f"  Precision falls with size: barely ({change}, less than {PRECISION_FALL}).")
    else:
        print(f"  Precision falls with size: no ({change}).")


def run_one(label: str, params: Params | None, origin_min_ads: int,
            other: tuple[int, int, int] | None = None) -> WorldRun:
    """One world run end to end: faisceau's (``params``) or, with ``other`` (new ads a day,
    days, seed), one written by ``other_world.py``."""
    tmp = Path(tempfile.mkdtemp(prefix="faisceau-bench-linking-"))
    started = time.perf_counter()
    try:
        if other is None:
            assert params is not None
            run = run_world(params, tmp, origin_min_ads=origin_min_ads)
        else:
            per_day, days, seed = other
            world = tmp / "world"
            subprocess.run([sys.executable, str(OTHER_WORLD), str(world), "--ads-per-day",
                            str(per_day), "--days", str(days), "--seed", str(seed)],
                           check=True, stdout=subprocess.DEVNULL)
            run = run_crawl(world, tmp, generate_seconds=time.perf_counter() - started,
                            origin_min_ads=origin_min_ads)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    s, c = run.seconds, run.report.counts
    print(f"  {label}: {c.truth_ads:,} ads in the truth, {c.evaluated_ads:,} evaluated "
          f"({c.missing_from_export:,} missing from the export, {c.missing_from_truth:,} "
          f"from the truth); {c.suspected_networks:,} networks suspected of trafficking")
    print(f"    {time.perf_counter() - started:.1f} s in all (generate "
          f"{s['generate']:.1f} s, ingest {s['ingest']:.1f} s, detect+score {s['detect']:.1f} s"
          f" [link {s['link']:.1f} s, score {s['score']:.1f} s], export {s['export']:.1f} s, "
          f"evaluate {s['evaluate']:.1f} s)", flush=True)
    return run


def _seeded(params: Params, seed: int | None) -> Params:
    return params if seed is None else dataclasses.replace(params, seed=seed)


def _describe(params: Params) -> str:
    extra = ", images" if params.images else ""
    extra += f", corrupt {params.corrupt_rate:g}" if params.corrupt_rate else ""
    return f"scale {params.scale:g}, {params.days} d, seed {params.seed}{extra}"


def _list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES,
                        help=f"comma-separated, among {', '.join(SIZES)}; '' for none "
                             f"(default {DEFAULT_SIZES})")
    parser.add_argument("--confounding", default=DEFAULT_CONFOUNDING,
                        help="comma-separated confounder rates at demo scale; '' for none "
                             f"(default {DEFAULT_CONFOUNDING})")
    parser.add_argument("--seeds", default="",
                        help="comma-separated seeds, each world run once per seed "
                             "(default: each preset's own seed)")
    parser.add_argument("--other-world", default="",
                        help="comma-separated NxD sizes of other_world.py's worlds (N new "
                             "ads a day, D days), each run once per seed (default 3); '' "
                             "for none (the default)")
    parser.add_argument("--origin-min-ads", type=int, default=ORIGIN_MIN_ADS,
                        help="independents' ads an origin needs to count in the max/min "
                             f"ratio across origins (default {ORIGIN_MIN_ADS})")
    args = parser.parse_args()
    sizes = _list(args.sizes)
    unknown = [size for size in sizes if size not in SIZES]
    if unknown:
        parser.error(f"unknown size(s) {', '.join(unknown)}; choose among {', '.join(SIZES)}")
    confounding = [float(value) for value in _list(args.confounding)]
    seeds: list[int | None] = [int(seed) for seed in _list(args.seeds)] or [None]

    print(machine())
    print(f"command: benchmarks/linking_quality.py --sizes {','.join(sizes)!r} "
          f"--confounding {','.join(f'{c:g}' for c in confounding)!r} "
          f"--seeds {args.seeds!r} --other-world {args.other_world!r} "
          f"--origin-min-ads {args.origin_min_ads}")
    speed_runs: set[int] = set()  # id() of the runs of SPEED_WORLD
    cols = columns(args.origin_min_ads, lambda run: id(run) in speed_runs)

    if sizes:
        print("\n== Over world size")
        size_rows: list[tuple[str, Params, WorldRun]] = []
        for name in sizes:
            for seed in seeds:
                params = _seeded(SIZES[name], seed)
                run = run_one(f"{name} ({_describe(params)})", params, args.origin_min_ads)
                size_rows.append((name, params, run))
                if name == SPEED_WORLD:
                    speed_runs.add(id(run))
        print()
        print_table([(f"{name} s{params.seed}", run) for name, params, run in size_rows], cols)
        precision_over_size(size_rows)

    if confounding:
        print("\n== Over confounder rate (demo scale)")
        confounded_rows: list[tuple[str, WorldRun]] = []
        for rate in confounding:
            for seed in seeds:
                params = dataclasses.replace(_seeded(PRESETS["demo"], seed), confounding=rate)
                label = f"demo c={rate:g} s{params.seed}"
                confounded_rows.append((label, run_one(label, params, args.origin_min_ads)))
        print()
        print_table(confounded_rows, cols)

    others = [size.split("x") for size in _list(args.other_world)]
    if others:
        print("\n== Worlds written by other hands (benchmarks/other_world.py)")
        other_rows: list[tuple[str, object, WorldRun]] = []
        for per_day, days in others:
            for seed in seeds:
                chosen = OTHER_WORLD_SEED if seed is None else seed
                name = f"other {per_day}x{days}"
                run = run_one(f"{name} s{chosen}", None, args.origin_min_ads,
                              (int(per_day), int(days), chosen))
                other_rows.append((name, chosen, run))
        print()
        print_table([(f"{name} s{seed}", run) for name, seed, run in other_rows], cols)
        precision_over_size(other_rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
