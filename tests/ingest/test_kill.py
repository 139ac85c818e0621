"""kill -9 in the middle of an ingest, several times: a re-run completes the batch with
nothing lost and nothing doubled, on both stores."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from faisceau.config import Settings
from tests.conftest import faisceau_cmd, run_faisceau


def _sightings(settings: Settings) -> int:
    engine = create_engine(settings.url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT COUNT(*) FROM sighting")).scalar_one())
    except Exception:  # the schema may not exist yet at the very start
        return 0
    finally:
        engine.dispose()


def _kill_when(settings: Settings, args: list[str], env: dict[str, str], at_least: int) -> int:
    """Start an ingest, SIGKILL it once ``at_least`` sightings are committed."""
    proc = subprocess.Popen([*faisceau_cmd(), *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if _sightings(settings) >= at_least:
                break
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the whole group: workers die too
        proc.wait()
    return _sightings(settings)


def test_kill_then_rerun_completes_without_loss_or_duplicates(
        store_settings: Settings, store_env: dict[str, str], tmp_path: Path) -> None:
    world = tmp_path / "world"
    run_faisceau(["synth", "--out", str(world), "--ads-per-day", "3000", "--days", "4",
                  "--corrupt-rate", "0.01", "--single-file", "--seed", "3"], store_env)
    crawl = world / "crawl" / "ads.jsonl"
    args = ["ingest", "ads", str(crawl), "--chunk-lines", "500"]

    # The reference: the same file ingested in one go into a separate embedded store.
    ref_env = {**store_env, "FAISCEAU_HOME": str(tmp_path / "reference")}
    ref_env.pop("FAISCEAU_DATABASE_URL", None)
    run_faisceau(args, ref_env)

    counts = []
    for threshold in (1, 2500, 6000):
        counts.append(_kill_when(store_settings, args, store_env, threshold))
    assert counts[-1] < 12_000 * 0.99, "the ingest finished before it could be killed"
    assert counts == sorted(counts)

    final = run_faisceau(args, store_env).stdout
    assert "déjà ingérées" in final

    def snapshot(env: dict[str, str], name: str) -> tuple[bytes, str, str]:
        out = tmp_path / f"{name}.jsonl"
        run_faisceau(["export", "ads", "--out", str(out)], env)
        status = run_faisceau(["status"], env).stdout
        listed = run_faisceau(["quarantine", "list", "--limit", "0", "--json"], env).stdout
        rows = sorted(
            (e["path"], e["line"], e["reason"]) for e in map(json.loads, listed.splitlines()))
        return out.read_bytes(), status, repr(rows)

    assert snapshot(store_env, "killed") == snapshot(ref_env, "reference")
