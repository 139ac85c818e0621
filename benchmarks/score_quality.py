"""Scoring against the ground truth of several synthetic worlds, and what it costs.

For each world (default: the demo preset, and scale 0.2 over 21 days with seeds 7 and 13),
the crawl is ingested into a fresh embedded store, ``detect`` links and scores it, the
exports are evaluated (``faisceau evaluate``'s report) and printed against issue 5's
targets. Then, per indicator, the share of ads of each kind of controller that sit in a
network where it fires: the evidence that each weight points the right way, and that no
indicator singles out foreign independent workers.

    .venv/bin/python benchmarks/score_quality.py [--worlds demo,0.2:21:7,0.2:21:13]
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import orjson

from _common import machine
from _common import run_world as run_end_to_end
from faisceau.evaluate.report import EvaluationReport
from faisceau.score.settings import load_settings
from faisceau.synth.world import PRESETS, Params

GROUPS = ("independent/french", "independent/foreign", "pimp", "network", "scam")


def parse_world(spec: str) -> Params:
    """"demo" (a preset) or "scale:days:seed" on the demo preset's other settings."""
    if spec in PRESETS:
        return PRESETS[spec]
    scale, days, seed = spec.split(":")
    return dataclasses.replace(PRESETS["demo"], scale=float(scale), days=int(days),
                               seed=int(seed), images=False, corrupt_rate=0.0)


def truth_groups(world: Path) -> dict[str, str]:
    """"source:ad_id" -> the group of GROUPS its controller falls in."""
    out: dict[str, str] = {}
    with open(world / "truth" / "ads.jsonl", "rb") as handle:
        for line in handle:
            row = orjson.loads(line)
            kind = row["controller_kind"]
            if kind == "independent":
                kind = f"independent/{'french' if row['origin_group'] == 'french' else 'foreign'}"
                if row["origin_group"] == "unknown":
                    continue
            out[f"{row['source']}:{row['ad_id']}"] = kind
    return out


def indicator_rates(networks_file: Path, ads_file: Path,
                    groups: dict[str, str]) -> dict[str, Counter[str]]:
    """Per indicator, how many ads of each group sit in a network where it fires."""
    fired: dict[str, list[str]] = {}
    with open(networks_file, "rb") as handle:
        for line in handle:
            row = orjson.loads(line)
            fired[row["network_id"]] = [r["indicator"] for r in row["reasons"]]
    rates: dict[str, Counter[str]] = {"(ads)": Counter()}
    with open(ads_file, "rb") as handle:
        for line in handle:
            row = orjson.loads(line)
            group = groups.get(f"{row['source']}:{row['ad_id']}")
            if group is None:
                continue
            rates["(ads)"][group] += 1
            for indicator in fired.get(row["network_id"], []):
                rates.setdefault(indicator, Counter())[group] += 1
    return rates


def run_world(params: Params, tmp: Path) -> tuple[EvaluationReport, dict[str, float],
                                                  dict[str, Counter[str]]]:
    run = run_end_to_end(params, tmp)
    seconds = {"link": run.seconds["link"], "score": run.seconds["score"],
               "total": run.seconds["detect"], "ads": float(run.ads)}
    rates = indicator_rates(run.networks_export, run.ads_export, truth_groups(run.world))
    return run.report, seconds, rates


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f} %"


def print_world(label: str, report: EvaluationReport, seconds: dict[str, float]) -> None:
    flags = report.independent_flags
    ratio = flags.foreign_french
    print(f"\n== {label}: {report.counts.evaluated_ads:,} ads, "
          f"{report.counts.controllers['pimp']} pimps + {report.counts.controllers['network']}"
          f" networks (k = {report.ranking.k}), {report.counts.suspected_networks} networks "
          f"suspected")
    rows = [
        ("top-k precision", _pct(report.ranking.top_k.value), ">= 90 %"),
        ("ad-level ROC AUC", f"{report.ranking.ad_roc_auc:.4f}"
         if report.ranking.ad_roc_auc is not None else "n/a", ">= 0.95"),
        ("minor recall (ads)", _pct(report.minor_recall.value), ">= 85 %"),
        ("independents' ads suspected of a minor", _pct(report.false_minor_rate.value),
         "<= 2 %"),
        ("independents' ads in suspected networks", _pct(flags.overall.value), "<= 3 %"),
        ("  French origin", _pct(flags.by_origin_group["french"].value), ""),
        ("  foreign origin", _pct(flags.by_origin_group["foreign"].value), ""),
        ("  ratio foreign / French", f"{ratio.value:.2f}" if ratio.value is not None
         else f"undefined ({ratio.note})", "<= 1.25"),
        ("  mean risk ratio foreign / French", f"{flags.mean_risk_ratio:.3f}"
         if flags.mean_risk_ratio is not None else "n/a", "(disparity, no target)"),
        ("scoring time / linking time", f"{seconds['score'] / seconds['link']:.1%} "
         f"({seconds['score']:.2f} s / {seconds['link']:.2f} s)", "<= 20 %"),
    ]
    for name, value, target in rows:
        print(f"  {name:<42} {value:>24}   {target}")


def print_indicators(rates: dict[str, Counter[str]]) -> None:
    settings = load_settings()
    totals = rates["(ads)"]
    print("\nShare of each group's ads in networks where an indicator fires (all worlds):")
    print(f"  {'indicator':<28} {'weight':>6} " + " ".join(f"{g:>19}" for g in GROUPS))
    print(f"  {'(ads)':<28} {'':>6} " + " ".join(f"{totals[g]:>19,}" for g in GROUPS))
    for indicator in settings.indicators:
        counts = rates.get(indicator.name, Counter())
        cells = [f"{100 * counts[g] / totals[g]:>18.1f}%" if totals[g] else f"{'n/a':>19}"
                 for g in GROUPS]
        print(f"  {indicator.name:<28} {indicator.weight:>+6.1f} " + " ".join(cells))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worlds", default="demo,0.2:21:7,0.2:21:13",
                        help="comma-separated: a preset, or scale:days:seed")
    args = parser.parse_args()
    print(machine())
    combined: dict[str, Counter[str]] = {}
    for spec in args.worlds.split(","):
        params = parse_world(spec)
        tmp = Path(tempfile.mkdtemp(prefix="faisceau-bench-score-"))
        try:
            report, seconds, rates = run_world(params, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        print_world(f"world {spec} (scale {params.scale}, {params.days} days, seed "
                    f"{params.seed})", report, seconds)
        for indicator, counts in rates.items():
            combined.setdefault(indicator, Counter()).update(counts)
    print_indicators(combined)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
