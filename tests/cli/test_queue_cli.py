"""``faisceau queue``: the review queue through the real command line.

What an analyst relies on: after ``faisceau detect`` the queue starts with the highest risk
and says why, in French; a decision is confirmed, takes the network out of the queue and
shows with ``--all`` and in ``queue history`` with who took it and when; a decision that
cannot be recorded says why on one line and exits non-zero, recording nothing.
Commands that do not depend on each other run side by side, to keep the test short.
"""

from __future__ import annotations

import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, func, select

from faisceau.config import Settings
from faisceau.ingest.pipeline import Ingestor
from faisceau.score.settings import load_settings
from faisceau.store import open_store
from faisceau.store.schema import network, network_score, review_decision
from faisceau.synth.world import Params, write_world
from tests.conftest import run_faisceau

Call = tuple[list[str], dict[str, str]]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    write_world(Params(scale=0.01, days=2, seed=3, images=False), out)
    return out


@pytest.fixture
def detected(world: Path, store_settings: Settings, store_env: dict[str, str],
             ) -> dict[str, str]:
    """The store of ``store_env`` with the world ingested, then ``faisceau detect`` run."""
    store = open_store(store_settings)
    try:
        with Ingestor(store, images=False, workers=1).session() as ingestor:
            ingestor.ingest_paths([world / "crawl"])
    finally:
        store.dispose()
    run_faisceau(["detect"], store_env)
    return store_env


def _side_by_side(*calls: Call, check: bool = True) -> list[subprocess.CompletedProcess[str]]:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda c: run_faisceau(c[0], c[1], check=check), calls))


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def _row_of(text: str, network_id: str) -> str:
    """The first line of a table row naming this network (not the title)."""
    return next(line for line in text.splitlines()
                if network_id in line and line.startswith("│"))


def test_queue_lists_by_risk_with_reasons_and_decisions_take_networks_out(
        detected: dict[str, str]) -> None:
    env = detected
    entries = _json_lines(run_faisceau(["queue", "--json", "--limit", "6"], env).stdout)
    assert [e["rank"] for e in entries] == [1, 2, 3, 4, 5, 6]
    risks = [e["risk"] for e in entries]
    assert risks == sorted(risks, reverse=True)
    top, second, third = entries[:3]
    assert top["trafficking_suspected"] and top["status"] == "new"
    assert 1 <= len(top["reasons"]) <= 3 and all(r["label"] for r in top["reasons"])
    contributions = [abs(r["contribution"]) for r in top["reasons"]]
    assert contributions == sorted(contributions, reverse=True)

    dismissed, known = _side_by_side(
        (["queue", "decide", top["network_id"], "--dismiss", "indépendante, cf. [/annexe 2]",
          "--analyst", "alice"], env),
        (["queue", "decide", second["network_id"], "--known", "PV-2026-0042"],
         {**env, "FAISCEAU_ANALYST": "bob"}))
    assert f"réseau {top['network_id']}" in dismissed.stdout
    assert "classé sans suite par alice" in dismissed.stdout
    assert "déjà connu par bob" in known.stdout and "PV-2026-0042" in known.stdout

    after, everything, history, table = _side_by_side(
        (["queue", "--json", "--limit", "4"], env),
        (["queue", "--all", "--json", "--limit", "4"], env),
        (["queue", "history", top["network_id"]], env),
        (["queue", "--all", "--limit", "3"], env))
    # Decided networks leave the queue; with --all they keep their rank and show why.
    assert [e["network_id"] for e in _json_lines(after.stdout)] == \
        [e["network_id"] for e in entries[2:6]]
    shown = _json_lines(everything.stdout)
    assert [e["network_id"] for e in shown] == [e["network_id"] for e in entries[:4]]
    assert shown[0]["status"] == "dismissed"
    assert (shown[0]["decision"]["analyst"], shown[0]["decision"]["reason"]) == (
        "alice", "indépendante, cf. [/annexe 2]")
    assert shown[1]["status"] == "known" and shown[1]["decision"]["case_ref"] == "PV-2026-0042"

    # The table, in French, highest risk first, each with its main reason and status.
    for header in ("réseau", "risque", "annonces", "raisons principales",
                   "statut"):
        assert header in table.stdout
    rows = [_row_of(table.stdout, e["network_id"]) for e in (top, second, third)]
    assert [table.stdout.index(row) for row in rows] == sorted(
        table.stdout.index(row) for row in rows)
    assert "classé sans suite par alice" in rows[0] and "déjà connu par bob" in rows[1]
    # The table names reasons by their short label (the catalogue's), the JSON by its full one.
    shorts = {i.name: i.short for i in load_settings().indicators}
    assert "nouveau" in rows[2] and shorts[third["reasons"][0]["indicator"]] in rows[2]
    assert f"{top['risk']:.6f}"[:4].replace(".", ",") in rows[0]  # 0,99 not 0.99

    row = _row_of(history.stdout, top["network_id"])
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert "alice" in row and "classé sans suite" in row and today in row
    assert "indépendante, cf. [/annexe 2]" in history.stdout  # user text is never markup


def test_a_decision_that_cannot_be_recorded_fails_on_one_line(
        tmp_path: Path) -> None:
    # Command-line behaviour only (the rules are tested on both stores in
    # tests/score/test_review.py): one embedded store with one scored network is enough.
    env = {**_environment_without_faisceau(), "FAISCEAU_HOME": str(tmp_path / "store"),
           "COLUMNS": "200"}
    store = open_store(Settings(home=tmp_path / "store", database_url=None))
    try:
        with store.begin() as conn:
            _one_scored_network(conn, "n-1111111111111111")
        refused = _side_by_side(
            (["queue", "decide", "n-1111111111111111", "--known", ""], env),
            (["queue", "decide", "n-1111111111111111"], env),
            (["queue", "decide", "n-[/x]", "--investigate"], env),
            (["queue", "history", "n-0000000000000000"], env),
            (["queue", "history", "n-1111111111111111"], env),
            check=False)
        with store.begin() as conn:
            recorded = conn.execute(select(func.count()).select_from(review_decision))
            assert recorded.scalar_one() == 0
    finally:
        store.dispose()
    expected = ("référence de la procédure", "exactement une décision",
                "réseau inconnu : n-[/x]", "réseau inconnu : n-0000000000000000")
    for result, message in zip(refused, expected, strict=False):
        assert result.returncode == 2, result
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert result.stdout == ""
    assert refused[-1].returncode == 0
    assert "Aucune décision sur le réseau n-1111111111111111" in refused[-1].stdout


def _environment_without_faisceau() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("FAISCEAU_")}


def _one_scored_network(conn: Connection, network_id: str) -> None:
    now = datetime(2026, 3, 1)
    conn.execute(network.insert().values(id=network_id, created_at=now, updated_at=now,
                                         status="active", ads=2))
    conn.execute(network_score.insert().values(
        network_id=network_id, risk=0.9, trafficking_suspected=True, minor_suspected=False,
        ads=2, indicators="{}", reasons='{"risk": [], "minor": []}', scored_at=now))
