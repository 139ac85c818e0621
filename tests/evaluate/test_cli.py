"""`faisceau evaluate` through the real command line, on a synthetic world."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_faisceau


def test_evaluate_the_store_against_the_truth(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "COLUMNS": "200", "FAISCEAU_HOME": str(tmp_path / "s")}
    world = tmp_path / "w"
    run_faisceau(["synth", "--out", str(world), "--preset", "small", "--days", "2"], env)
    run_faisceau(["ingest", "ads", str(world / "crawl")], env)
    report = json.loads(run_faisceau(["evaluate", "--truth", str(world), "--json"], env).stdout)
    truth = (world / "truth" / "ads.jsonl").read_text().splitlines()
    assert report["counts"]["evaluated_ads"] == len(truth)
    # before linking, every ad is a network of its own: perfect precision, partial recall
    assert report["clustering"]["bcubed_precision"] == 1.0
    assert 0 < report["clustering"]["bcubed_recall"] < 1
    text = run_faisceau(["evaluate", "--truth", str(world)], env).stdout
    assert "Précision B-cubed" in text


def test_evaluate_reports_a_bad_export_line_with_its_place(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "COLUMNS": "200", "FAISCEAU_HOME": str(tmp_path / "s")}
    world = tmp_path / "w"
    run_faisceau(["synth", "--out", str(world), "--preset", "small", "--days", "1"], env)
    bad = tmp_path / "ads.jsonl"
    bad.write_text('{"source": "x"}\n')
    result = run_faisceau(["evaluate", "--truth", str(world), "--ads", str(bad)], env,
                          check=False)
    assert result.returncode == 2
    assert "ads.jsonl:1" in result.stderr and len(result.stderr.strip().splitlines()) == 1
