"""The command line's tests share one small world per store kind and module (``world.py``):
built once, since the commands under test only read it and append to the log."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

from faisceau.config import Settings
from faisceau.store import Store, open_store
from tests.cli import world
from tests.conftest import PG_SERVER, PG_URL, require_pg


@dataclass(frozen=True)
class World:
    settings: Settings
    env: dict[str, str]  # the environment that points ``faisceau`` at it

    def open(self) -> Store:
        return open_store(self.settings)


@pytest.fixture(scope="module", params=["embedded", "postgresql"])
def small_world(request: pytest.FixtureRequest, pg_reason: str | None,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """``world.build`` in a fresh store of each kind (a PostgreSQL schema of its own)."""
    root = tmp_path_factory.mktemp(f"world-{request.param}")
    schema = None
    url = None
    if request.param == "postgresql":
        require_pg(pg_reason)
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_SERVER, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    settings = Settings(home=root / "store", database_url=url)
    try:
        store = open_store(settings)
        try:
            world.build(store, root)
        finally:
            store.dispose()
        env = {k: v for k, v in os.environ.items() if not k.startswith("FAISCEAU_")}
        env.update({"FAISCEAU_HOME": str(settings.home), "COLUMNS": "250",
                    "FAISCEAU_ANALYST": "operateur.test"})
        if url:
            env["FAISCEAU_DATABASE_URL"] = url
        yield World(settings, env)
    finally:
        if schema:
            with psycopg.connect(PG_SERVER, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
