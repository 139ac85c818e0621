"""Shared fixtures: a fresh store of each kind (embedded, PostgreSQL) for every test.

Store-level tests take the ``store_settings`` fixture, which runs them once on the embedded
store and once on PostgreSQL at 127.0.0.1:5432 (database ``test``), each test in a schema of
its own. Where no PostgreSQL server answers, the PostgreSQL run is skipped with the reason,
except in CI (``CI`` set), where that is a failure.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from faisceau.config import Settings
from faisceau.store import Store, open_store

PG_SERVER = os.environ.get("FAISCEAU_TEST_PG", "host=127.0.0.1 port=5432 dbname=test")
PG_URL = os.environ.get("FAISCEAU_TEST_PG_URL", "postgresql+psycopg://127.0.0.1:5432/test")
REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def _pg_unavailable() -> str | None:
    try:
        with psycopg.connect(PG_SERVER, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]


@pytest.fixture(scope="session")
def pg_reason() -> str | None:
    return _pg_unavailable()


def require_pg(pg_reason: str | None) -> None:
    """Skip a PostgreSQL test where no server answers; in CI (``CI`` set), fail it."""
    if pg_reason is not None:
        message = f"PostgreSQL at 127.0.0.1:5432 not answering: {pg_reason}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def pg_schema_url(pg_reason: str | None) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a new, empty schema (dropped afterwards)."""
    require_pg(pg_reason)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_SERVER, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_SERVER, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["embedded", "postgresql"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for a fresh store, once per backend."""
    home = tmp_path / "store"
    if request.param == "embedded":
        return Settings(home=home, database_url=None)
    url = request.getfixturevalue("pg_schema_url")
    return Settings(home=home, database_url=url)


@pytest.fixture
def opened(store_settings: Settings) -> Iterator[Store]:
    """A fresh store of each kind, opened (and migrated), disposed afterwards."""
    store = open_store(store_settings)
    try:
        yield store
    finally:
        store.dispose()


@pytest.fixture
def store_env(store_settings: Settings) -> dict[str, str]:
    """The environment that points the ``faisceau`` command at the test's store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAISCEAU_")}
    env["FAISCEAU_HOME"] = str(store_settings.home)
    if store_settings.database_url:
        env["FAISCEAU_DATABASE_URL"] = store_settings.database_url
    env["COLUMNS"] = "200"
    return env


def free_port() -> int:
    """A TCP port free on loopback, for a server a test starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def faisceau_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("faisceau")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "faisceau"]


# Commands that read the store and print (writing only their consultation's log entry and
# checkpoint): run in the test's process, through the same Typer application, which spares a
# second of interpreter start and imports each (most of the command-line tests' time). Every
# command that changes data, forks workers, waits for the writer's lock or reads a password
# keeps its own process, as a user runs it.
READ_ONLY = {("status",), ("export", "ads"), ("export", "networks"), ("quarantine", "list"),
             ("quarantine", "show"), ("ads", "show"), ("networks", "list"),
             ("networks", "show"), ("cases", "list"), ("cases", "show"), ("graph",)}


def _in_process(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``faisceau args`` in this process, with ``env`` as its whole environment."""
    import traceback

    from typer.testing import CliRunner

    from faisceau.cli import common
    from faisceau.cli.main import app

    unset = {k: None for k in os.environ if k not in env}  # the environment is env, only
    width = int(env.get("COLUMNS", "80"))
    saved = common.out.width, common.console.width
    common.out.width = common.console.width = width  # as a process started with COLUMNS
    try:
        result = CliRunner().invoke(app, args, env={**unset, **env}, catch_exceptions=True)
    finally:
        common.out.width, common.console.width = saved
    stderr = result.stderr
    code = result.exit_code
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        assert result.exc_info is not None
        stderr += "".join(traceback.format_exception(*result.exc_info))
        code = 1
    return subprocess.CompletedProcess(["faisceau", *args], code, result.stdout, stderr)


def run_faisceau(args: list[str], env: dict[str, str], cwd: Path | None = None,
                 check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the real ``faisceau`` command; on unexpected failure show its output."""
    if cwd is None and (tuple(args[:1]) in READ_ONLY or tuple(args[:2]) in READ_ONLY):
        result = _in_process(args, env)
    else:
        result = subprocess.run([*faisceau_cmd(), *args], env=env, cwd=cwd,
                                capture_output=True, text=True, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"faisceau {' '.join(args)} exited {result.returncode}\n"
                             f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    return result
