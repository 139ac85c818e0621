"""The web application through HTTP (FastAPI's TestClient), as a browser or a script uses it.

What users and the data-protection officer rely on: only a logged-in account sees anything;
failed logins are slowed down (tests/web/test_logins.py); no form can be posted from another site
(CSRF); a decision taken on a page is the same decision as on the command line; every view
of a network or of the queue is in the consultation log, whose chain stays intact; a network
the viewer may not see does not exist for them, and the refusal is logged; the auditor reads
the log, not the records; pages load nothing from outside.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import update

from faisceau.config import Settings
from faisceau.ingest.pipeline import Ingestor
from faisceau.score.review import history
from faisceau.score.run import detect_and_score
from faisceau.share import audit
from faisceau.share.accounts import create_user, seed_units
from faisceau.store import Store, open_store
from faisceau.store.schema import share_distribution, share_user
from faisceau.synth.world import Params, write_world
from faisceau.web.app import create_app
from faisceau.web.security import secret_key

PASSWORD = "correct-cheval-pile-agrafe"
USERS = (("alice", "analyst", "OCRTEH"), ("bruno", "analyst", "DEP-13"),
         ("eve", "auditor", "OCRTEH"))
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FAISCEAU_SECRET_KEY", "FAISCEAU_HTTPS_ONLY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    write_world(Params(scale=0.01, days=2, seed=3, images=False), out)
    return out


def _accounts(store: Store) -> None:
    seed_units(store)
    for login, role, unit in USERS:
        create_user(store, login, PASSWORD, role, unit, name=login.capitalize())


@pytest.fixture
def accounts(store_settings: Settings) -> Iterator[Store]:
    """A store with units and accounts only, on each backend."""
    store = open_store(store_settings)
    _accounts(store)
    yield store
    store.dispose()


@pytest.fixture
def scored(store_settings: Settings, world: Path) -> Iterator[Store]:
    """A store with the world ingested, linked and scored, and the accounts."""
    store = open_store(store_settings)
    with Ingestor(store, images=False, workers=1).session() as ingestor:
        ingestor.ingest_paths([world / "crawl"])
    detect_and_score(store)
    _accounts(store)
    yield store
    store.dispose()


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Store]:
    """An embedded store with accounts only: for what does not depend on the backend."""
    store = open_store(Settings(home=tmp_path / "store", database_url=None))
    _accounts(store)
    yield store
    store.dispose()


def client(store: Store, https_only: bool | None = None) -> TestClient:
    return TestClient(create_app(store.settings, https_only=https_only))


def token(html: str) -> str:
    found = TOKEN.search(html)
    assert found, html
    return found.group(1)


def login(web: TestClient, who: str, password: str = PASSWORD) -> Response:
    form = token(web.get("/connexion").text)
    return web.post("/connexion", data={"identifiant": who, "mot_de_passe": password,
                                        "csrf_token": form, "suite": "/"},
                    follow_redirects=False)


def session_token(web: TestClient) -> str:
    return str(web.get("/api/moi").json()["csrf_token"])


# --- Logging in ----------------------------------------------------------------------------


def test_the_right_password_opens_a_session_and_a_wrong_one_does_not(accounts: Store) -> None:
    with client(accounts) as web:
        refused = login(web, "alice", "pas-le-bon-mot-de-passe")
        assert refused.status_code == 401
        assert "Identifiant ou mot de passe incorrect" in refused.text
        assert web.get("/api/moi").status_code == 401
        assert login(web, "personne", PASSWORD).status_code == 401  # same answer

        opened = login(web, "alice")
        assert opened.status_code == 303 and opened.headers["location"] == "/"
        cookie = opened.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
        me = web.get("/api/moi").json()
        assert (me["login"], me["role"], me["unit"]) == ("alice", "analyst", "OCRTEH")
        page = web.get("/")
        assert page.status_code == 200 and "Tableau de bord" in page.text
        assert "Alice · analyste · OCRTEH" in page.text

        out = web.post("/deconnexion", data={"csrf_token": token(page.text)},
                       follow_redirects=False)
        assert out.status_code == 303 and out.headers["location"] == "/connexion"
        assert web.get("/api/moi").status_code == 401
    with client(accounts, https_only=True) as web:
        assert "secure" in login(web, "alice").headers["set-cookie"].lower()
    # A deactivated account loses its open session at once.
    with client(accounts) as web:
        login(web, "alice")
        assert web.get("/api/moi").status_code == 200
        with accounts.begin() as conn:
            conn.execute(update(share_user).where(share_user.c.login == "alice")
                         .values(active=False))
        assert web.get("/api/moi").status_code == 401
        assert web.get("/", follow_redirects=False).status_code == 303


def test_logged_out_pages_redirect_to_login_and_the_api_answers_401(embedded: Store) -> None:
    with client(embedded) as web:
        for path in ("/", "/file", "/reseaux/n-0000000000000000"):
            page = web.get(path, follow_redirects=False)
            assert page.status_code == 303, path
            assert page.headers["location"].startswith("/connexion?suite=")
        for path in ("/api/moi", "/api/file", "/api/reseaux/n-0000000000000000"):
            answer = web.get(path)
            assert answer.status_code == 401 and answer.json()["detail"] == "Connexion requise."
        # After logging in, the user lands where they were going.
        form = token(web.get("/connexion?suite=/file").text)
        landed = web.post("/connexion", data={"identifiant": "alice", "mot_de_passe": PASSWORD,
                                              "csrf_token": form, "suite": "/file"},
                          follow_redirects=False)
        assert landed.headers["location"] == "/file"


def test_a_post_without_the_csrf_token_is_refused(embedded: Store) -> None:
    with client(embedded) as web:
        assert web.post("/connexion", data={"identifiant": "alice",
                                            "mot_de_passe": PASSWORD}).status_code == 403
        assert login(web, "alice").status_code == 303
        good = session_token(web)
        for headers, data in (({}, {"decision": "investigate"}),
                              ({}, {"decision": "investigate", "csrf_token": "faux"}),
                              ({"X-CSRF-Token": "faux"}, {"decision": "investigate"})):
            refused = web.post("/reseaux/n-0000000000000000/decision", data=data,
                               headers=headers)
            assert refused.status_code == 403
            assert "jeton de sécurité (CSRF)" in refused.text
        api = web.post("/api/reseaux/n-0000000000000000/decision",
                       json={"decision": "investigate"})
        assert api.status_code == 403 and "CSRF" in api.json()["detail"]
        assert web.post("/deconnexion").status_code == 403
        assert web.get("/api/moi").status_code == 200  # still logged in
        # With the token, the same request goes through (to an unknown network: 404).
        assert web.post("/api/reseaux/n-0000000000000000/decision",
                        json={"decision": "investigate"},
                        headers={"X-CSRF-Token": good}).status_code == 404


# --- The queue, decisions, the network page ------------------------------------------------


def test_the_queue_shows_one_category_at_a_time(scored: Store) -> None:
    with client(scored) as web:
        login(web, "alice")
        every = web.get("/api/file", params={"tous": 1, "limite": 500}).json()["entries"]
        scams = web.get("/api/file", params={"tous": 1, "limite": 500,
                                             "categorie": "arnaque"}).json()["entries"]
        trafficking = web.get("/api/file", params={"tous": 1, "limite": 500,
                                                   "categorie": "traite"}).json()["entries"]
        assert scams and trafficking
        assert {e["network_id"] for e in scams} == {
            e["network_id"] for e in every if e["scam_suspected"]}
        assert all(e["trafficking_suspected"] for e in trafficking)
        assert web.get("/api/file", params={"categorie": "autre"}).status_code == 422
        page = web.get("/file", params={"categorie": "arnaque", "tous": 1, "limite": 500})
        assert page.status_code == 200 and "escroquerie suspectée" in page.text
        assert all(e["network_id"] in page.text for e in scams)
        # A scam network's page gives the scam's reasons apart, and says which indicators
        # the scam explains (they do not count toward trafficking).
        shown = web.get(f"/reseaux/{scams[0]['network_id']}").text
        assert "<h3>Escroquerie suspectée</h3>" in shown
        assert "expliqué par l&#39;escroquerie" in shown or "expliqué par l'escroquerie" in shown


def test_a_decision_through_the_form_is_recorded_like_on_the_command_line(
        scored: Store) -> None:
    with client(scored) as web:
        login(web, "alice")
        entries = web.get("/api/file?limite=3").json()["entries"]
        assert [e["rank"] for e in entries] == [1, 2, 3]
        first, second = entries[0]["network_id"], entries[1]["network_id"]
        page = web.get("/file")
        assert page.status_code == 200 and first in page.text
        assert entries[0]["reasons"][0]["label"] in page.text

        form = {"csrf_token": token(page.text), "decision": "dismissed", "retour": "/file"}
        missing = web.post(f"/reseaux/{first}/decision", data=form)
        assert "Décision non enregistrée" in missing.text and "exige un motif" in missing.text
        done = web.post(f"/reseaux/{first}/decision",
                        data={**form, "motif": "indépendante <b>vérifiée</b>"})
        assert done.status_code == 200 and "enregistrée sur le réseau" in done.text

        api = web.post(f"/api/reseaux/{second}/decision",
                       json={"decision": "known", "case_ref": "PV-2026-0042"},
                       headers={"X-CSRF-Token": session_token(web)})
        assert api.status_code == 201 and api.json()["analyst"] == "alice"
        refused = web.post(f"/api/reseaux/{second}/decision", json={"decision": "known"},
                           headers={"X-CSRF-Token": session_token(web)})
        assert refused.status_code == 400 and "référence" in refused.json()["detail"]

        shown = [e["network_id"] for e in web.get("/api/file?limite=3").json()["entries"]]
        assert first not in shown and second not in shown
        network = web.get(f"/reseaux/{first}")
        assert "classé sans suite par alice" in network.text
        assert "&lt;b&gt;vérifiée&lt;/b&gt;" in network.text  # user text is escaped
        assert "<b>vérifiée</b>" not in network.text
    with scored.begin() as conn:
        decided = history(conn, first)
        assert [(d.decision, d.analyst, d.reason) for d in decided] == [
            ("dismissed", "alice", "indépendante <b>vérifiée</b>")]
        assert [(d.decision, d.case_ref) for d in history(conn, second)] == [
            ("known", "PV-2026-0042")]


def test_views_are_logged_need_to_know_hides_networks_and_auditors_read_no_record(
        scored: Store) -> None:
    with client(scored) as web:
        login(web, "alice")
        queue = web.get("/api/file?limite=2").json()["entries"]
        top, hidden = queue[0]["network_id"], queue[1]["network_id"]
        page = web.get(f"/reseaux/{top}")
        assert page.status_code == 200 and page.text.count("annonces-exemple:") >= 2
        assert web.get(f"/api/reseaux/{top}").json()["score"]["reasons"][0]["evidence"]

        # Only the owning unit may see this one: for alice it does not exist.
        with scored.begin() as conn:
            conn.execute(share_distribution.insert().values(
                record_kind="network", record_id=hidden, level="own_unit",
                owner_unit="DEP-13", group_name=None, set_by="test", set_at=datetime.now()))
        unknown = web.get("/reseaux/n-0000000000000000")
        denied = web.get(f"/reseaux/{hidden}")
        assert denied.status_code == unknown.status_code == 404
        assert denied.text.replace(hidden, "X") == unknown.text.replace(
            "n-0000000000000000", "X")
        assert web.get(f"/api/reseaux/{hidden}").status_code == 404
        assert hidden not in web.get("/file").text
        html = [web.get(p).text for p in ("/", "/file", f"/reseaux/{top}", "/nulle-part")]
    with client(scored) as web:
        login(web, "bruno")
        assert web.get(f"/reseaux/{hidden}").status_code == 200
    with client(scored) as web:
        login(web, "eve")
        for path in (f"/reseaux/{top}", "/file", f"/api/reseaux/{top}", "/api/file"):
            refused = web.get(path)
            assert refused.status_code == 403 and top not in refused.text, path
        assert web.get("/").status_code == 200  # totals only

    with scored.begin() as conn:
        alice = list(audit.entries(conn, login="alice"))
        assert [(e.action, e.record_kind, e.record_id, e.unit) for e in alice
                if e.record_kind == "network"] == [
            ("view", "network", top, "OCRTEH"), ("view", "network", top, "OCRTEH"),
            # The unknown network is refused as the hidden one is (only the log's "why"
            # tells them apart).
            ("denied", "network", "n-0000000000000000", "OCRTEH"),
            ("denied", "network", hidden, "OCRTEH"), ("denied", "network", hidden, "OCRTEH"),
            ("view", "network", top, "OCRTEH")]
        queue_views = [e for e in alice if e.record_kind == "queue"]
        assert queue_views and all(e.action == "view" for e in queue_views)
        assert top in (queue_views[0].detail or "")
        assert [e.action for e in audit.entries(conn, login="eve")] == ["denied"] * 4
        assert [e.record_id for e in audit.entries(conn, login="bruno")] == [hidden]
        assert audit.verify(scored).intact

    # Nothing is loaded from another site, and the style sheet is served locally.
    assert "/static/faisceau.css" in html[0]
    for text in html:
        assert not EXTERNAL.search(text), EXTERNAL.search(text)
    with client(scored) as web:
        css = web.get("/static/faisceau.css")
        assert css.status_code == 200 and "http" not in css.text
        assert "default-src 'self'" in css.headers["content-security-policy"]


# --- The schema and the secret key ---------------------------------------------------------


def test_the_openapi_schema_describes_the_api(embedded: Store) -> None:
    with client(embedded) as web:
        schema = web.get("/openapi.json").json()
        assert web.get("/docs").status_code == 404  # Swagger UI would load from a CDN
    paths = schema["paths"]
    assert {"/api/file", "/api/reseaux/{network_id}", "/api/reseaux/{network_id}/decision",
            "/api/moi"} <= set(paths)
    assert not [p for p in paths if not p.startswith("/api/")]  # pages are not API
    answer = paths["/api/reseaux/{network_id}"]["get"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"]["$ref"].endswith("/NetworkOut")
    assert "DecisionIn" in str(paths["/api/reseaux/{network_id}/decision"]["post"])
    assert {"QueueOut", "QueueEntryOut", "DecisionOut"} <= set(schema["components"]["schemas"])


def test_the_secret_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", database_url=None)
    key = secret_key(settings, {})
    path = tmp_path / "home" / "secret_key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and len(key) >= 32
    assert secret_key(settings, {}) == key
    given = "k" * 40
    assert secret_key(settings, {"FAISCEAU_SECRET_KEY": given}) == given
    with pytest.raises(ValueError, match="trop courte"):
        secret_key(settings, {"FAISCEAU_SECRET_KEY": "court"})
