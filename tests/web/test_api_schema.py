"""schemathesis against the application's OpenAPI schema: requests generated from the schema,
logged in as a central-office analyst with the session's CSRF token, never get a server
error (5xx), and the responses fit the schema's status codes and content types."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from faisceau.config import Settings
from faisceau.ingest.pipeline import Ingestor
from faisceau.score.run import detect_and_score
from faisceau.share.accounts import create_user, seed_units
from faisceau.store import open_store
from faisceau.synth.world import Params, write_world
from faisceau.web.app import create_app

PASSWORD = "mot de passe de test"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def app_and_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict]]:
    root: Path = tmp_path_factory.mktemp("schema")
    write_world(Params(scale=0.01, days=2, seed=3, images=False), root / "world")
    store = open_store(Settings(home=root / "store", database_url=None))
    with Ingestor(store, images=False, workers=1).session() as ingestor:
        ingestor.ingest_paths([root / "world" / "crawl"])
    detect_and_score(store)
    seed_units(store)
    create_user(store, "analyste", PASSWORD, "analyst", "OCRTEH")
    app = create_app(store.settings)
    with TestClient(app) as web:
        form = TOKEN.search(web.get("/connexion").text)
        assert form
        web.post("/connexion", data={"identifiant": "analyste", "mot_de_passe": PASSWORD,
                                     "csrf_token": form.group(1), "suite": "/"})
        csrf = web.get("/api/moi").json()["csrf_token"]
        yield app, {"cookies": dict(web.cookies), "headers": {"X-CSRF-Token": csrf}}
    store.dispose()


def test_no_server_error(app_and_session: tuple[Any, dict]) -> None:
    app, session = app_and_session
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 4  # /api/moi, /api/file, /api/reseaux/{id}, its decision
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def no_server_error(case: Any) -> None:
            response = case.call(cookies=session["cookies"], headers=session["headers"])
            case.validate_response(response, checks=[not_a_server_error])

        no_server_error()
