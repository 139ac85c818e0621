"""kill -9 in the middle of an ingest, several times: a re-run completes the batch with
nothing lost and nothing doubled, on both stores. A kill -9 of the ingest alone (not its
process group) takes its normalisation workers with it, and frees the store's lock; a command
that has to wait for the lock says for what, and may give up."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text

from faisceau.config import Settings
from tests.conftest import PG_SERVER, PG_URL, faisceau_cmd, run_faisceau


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


# --- kill -9 of the parent alone: its workers die with it, the lock is free ---------------------

def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, state) of every process."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        found[int(stat.parent.name)] = (int(fields[1]), fields[0])
    return found


def _alive(pids: list[int]) -> list[int]:
    table = _processes()
    return [p for p in pids if p in table and table[p][1] != "Z"]


def _valid_sightings(path: Path) -> int:
    from faisceau.ingest.records import Record, RecordChecker

    checker = RecordChecker()
    seen = set()
    for number, raw in enumerate(path.read_bytes().splitlines(), 1):
        rec = checker.check(number, raw)
        if isinstance(rec, Record):
            seen.add((rec.source, rec.ad_id, rec.seen_at))
    return len(seen)


def test_kill_9_of_the_parent_alone_kills_its_workers_and_frees_the_lock(
        store_settings: Settings, store_env: dict[str, str], tmp_path: Path) -> None:
    world = tmp_path / "world"
    run_faisceau(["synth", "--out", str(world), "--ads-per-day", "1500", "--days", "2",
                  "--single-file", "--seed", "5"], store_env)
    crawl = world / "crawl" / "ads.jsonl"
    args = [*faisceau_cmd(), "ingest", "ads", str(crawl), "--workers", "2", "--chunk-lines",
            "1000", "--no-images"]
    proc = subprocess.Popen(args, env=store_env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 300
        while not workers and proc.poll() is None and time.monotonic() < deadline:
            workers = [p for p, (parent, _s) in _processes().items() if parent == proc.pid]
            time.sleep(0.05)
        assert workers, "the ingest finished (or never started) its normalisation workers"
        os.kill(proc.pid, signal.SIGKILL)  # the parent only, as an operator's kill -9 does
        proc.wait()
        deadline = time.monotonic() + 30
        while _alive(workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _alive(workers) == [], "workers outlived their parent"
        # the next ingest neither waits for ever nor loses anything
        done = subprocess.run(args, env=store_env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert _sightings(store_settings) == _valid_sightings(crawl)
    finally:
        for pid in _alive(workers):
            os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# --- a waiting command says what it waits for --------------------------------------------------

HOLD = """
import sys, time
from faisceau.store import open_store
from faisceau.ingest.lock import ingest_lock
with ingest_lock(open_store()):
    print("held", flush=True)
    time.sleep(600)
"""


def _hold_lock(env: dict[str, str]) -> subprocess.Popen[str]:
    holder = subprocess.Popen([sys.executable, "-c", HOLD], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline() == "held\n", \
        holder.communicate()
    return holder


def test_an_ingest_that_waits_says_for_what_and_gives_up_when_told(
        store_settings: Settings, store_env: dict[str, str], tmp_path: Path) -> None:
    ads = tmp_path / "ads.jsonl"
    ads.write_text(json.dumps({"ad_id": "a", "source": "s",
                               "seen_at": "2026-03-01T08:00:00Z"}) + "\n")
    holder = _hold_lock(store_env)
    try:
        waited = run_faisceau(["ingest", "ads", str(ads), "--lock-timeout", "1"], store_env,
                              check=False)
        assert waited.returncode == 2
        lines = waited.stderr.splitlines()
        assert lines[0].startswith("faisceau: en attente du verrou d'écriture du stockage")
        assert f"pid {holder.pid}" in lines[0] or f"processus {holder.pid}" in lines[0]
        assert lines[-1].startswith("faisceau: error: verrou d'écriture")
        assert _sightings(store_settings) == 0
    finally:
        holder.kill()  # SIGKILL: the lock goes with it
        holder.wait()
    done = subprocess.run([*faisceau_cmd(), "ingest", "ads", str(ads)], env=store_env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "en attente" not in done.stderr, done.stderr


@pytest.fixture
def other_schema_url(store_env: dict[str, str]) -> Iterator[str]:
    """A second PostgreSQL store on the test's server: a schema of its own."""
    if "FAISCEAU_DATABASE_URL" not in store_env:
        pytest.skip("two PostgreSQL stores on one server")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_SERVER, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_SERVER, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_stores_sharing_a_server_do_not_wait_for_each_other(
        other_schema_url: str, store_env: dict[str, str], tmp_path: Path) -> None:
    holder = _hold_lock({**store_env, "FAISCEAU_DATABASE_URL": other_schema_url})
    try:
        ads = tmp_path / "ads.jsonl"
        ads.write_text(json.dumps({"ad_id": "a", "source": "s",
                                   "seen_at": "2026-03-01T08:00:00Z"}) + "\n")
        done = subprocess.run([*faisceau_cmd(), "ingest", "ads", str(ads)], env=store_env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and "en attente" not in done.stderr, done.stderr
    finally:
        holder.kill()
        holder.wait()
