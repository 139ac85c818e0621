"""Logging in to the web application under attack (both stores), as the issue tried it.

What users rely on: good logins are never refused however many; wrong passwords slow the
login tried down with the same answer whether the account exists or not, and never lock its
owner out of a browser that already logged in; an administrator lifts a delay from the
accounts page (logged); the auditor sees failed logins, delays and refusals in the journal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from httpx import Response
from hypothesis import given, settings
from hypothesis import strategies as st

from faisceau.config import Settings
from faisceau.share import audit
from faisceau.share.accounts import create_user, seed_units
from faisceau.store import Store, open_store
from faisceau.web.app import create_app
from faisceau.web.security import DEVICE_COOKIE, device_serializer, trusted_device
from tests.share.fast_hashing import fast_hashing  # noqa: F401 (autouse)
from tests.web.test_app import token

PASSWORD = "correct-cheval-pile-agrafe"
WRONG = "pas-le-bon-mot-de-passe"
ROLES = ("analyst", "referent", "investigator", "auditor", "admin")


@pytest.fixture
def store(store_settings: Settings) -> Iterator[Store]:
    opened = open_store(store_settings)
    seed_units(opened)
    for role in ROLES:
        create_user(opened, role, PASSWORD, role, "OCRTEH", name=role.capitalize())
    create_user(opened, "admin2", PASSWORD, "admin", "OCRTEH", name="Second")
    yield opened
    opened.dispose()


def browser(store: Store, address: str = "192.0.2.10") -> TestClient:
    return TestClient(create_app(store.settings), client=(address, 50000))


def attempt(web: TestClient, login: str, password: str) -> Response:
    form = token(web.get("/connexion").text)
    return web.post("/connexion", data={"identifiant": login, "mot_de_passe": password,
                                        "csrf_token": form, "suite": "/"},
                    follow_redirects=False)


def _error(page: Response) -> str:
    found = re.search(r'<p class="message erreur" role="alert">([^<]*)</p>', page.text)
    assert found, page.text
    return found.group(1)


def test_good_logins_are_never_refused_however_many(store: Store) -> None:
    with browser(store) as web:
        for _ in range(12):  # nine in a row were refused with 429
            assert attempt(web, "analyst", PASSWORD).status_code == 303
            web.post("/deconnexion", data={"csrf_token": token(web.get("/").text)})


def test_wrong_passwords_slow_the_login_down_with_one_answer_known_or_not(
        store: Store) -> None:
    answers = {}
    for login in ("analyst", "personne"):
        with browser(store) as web:
            failed = [attempt(web, login, WRONG) for _ in range(5)]
            assert {r.status_code for r in failed} == {401}
            delayed = attempt(web, login, PASSWORD)  # the right one, for the account
            answers[login] = (_error(failed[0]), delayed.status_code, _error(delayed),
                              delayed.headers.get("retry-after"))
            assert web.get("/api/moi").status_code == 401
    assert answers["analyst"] == answers["personne"] == (
        "Identifiant ou mot de passe incorrect.", 429,
        "Trop de tentatives échouées pour cet identifiant ou depuis cette adresse : "
        "réessayez dans 30 s.", "30")
    with browser(store, "192.0.2.77") as web:  # another login: not delayed
        assert attempt(web, "referent", PASSWORD).status_code == 303


def test_attackers_cannot_lock_out_administrators_who_logged_in_before(store: Store) -> None:
    trusted = {}
    for login in ("admin", "admin2"):
        with browser(store) as web:
            opened = attempt(web, login, PASSWORD)
            assert opened.status_code == 303
            assert f"{DEVICE_COOKIE}=" in opened.headers["set-cookie"]
            trusted[login] = web.cookies.get(DEVICE_COOKIE)
    # Four addresses hammer every account, as in the issue.
    for n in range(4):
        with browser(store, f"198.51.100.{n}") as attacker:
            for login in (*ROLES, "admin2"):
                for _ in range(3):
                    attempt(attacker, login, WRONG)
    with browser(store, "198.51.100.9") as attacker:
        assert attempt(attacker, "admin", PASSWORD).status_code == 429  # no cookie: delayed
    for login in ("admin", "admin2"):
        with browser(store, "198.51.100.0") as web:  # even from a blocked address
            web.cookies.set(DEVICE_COOKIE, trusted[login], path="/connexion")
            assert attempt(web, login, PASSWORD).status_code == 303, login
            assert web.get("/api/moi").json()["role"] == "admin"
    # The cookie is the account's own: another account's, or a forged one, counts for nothing.
    with browser(store, "192.0.2.20") as web:
        web.cookies.set(DEVICE_COOKIE, trusted["admin2"], path="/connexion")
        assert attempt(web, "analyst", PASSWORD).status_code == 429
        forged = device_serializer("une-autre-clef-que-celle-du-serveur").dumps(
            {"login": "admin", "nonce": "devine"})
        web.cookies.set(DEVICE_COOKIE, forged, path="/connexion")
        assert attempt(web, "admin", PASSWORD).status_code == 429


def test_an_administrator_unlocks_an_account_from_the_accounts_page(store: Store) -> None:
    with browser(store, "203.0.113.5") as attacker:
        for _ in range(6):
            attempt(attacker, "analyst", WRONG)
        assert attempt(attacker, "analyst", PASSWORD).status_code == 429
    with browser(store) as admin:
        assert attempt(admin, "admin", PASSWORD).status_code == 303
        page = admin.get("/admin/comptes").text
        assert "connexion retardée jusqu'à" in page and "5 échec(s) de connexion" in page
        assert "/admin/comptes/analyst/deverrouillage" in page
        assert "/admin/comptes/referent/deverrouillage" not in page  # nothing to lift
        done = admin.post("/admin/comptes/analyst/deverrouillage",
                          data={"csrf_token": token(page)}, follow_redirects=False)
        assert done.status_code == 303
        assert "Compte analyst déverrouillé." in admin.get("/admin/comptes").text
        listed = {a["login"]: a for a in admin.get("/api/admin/comptes").json()}
        assert (listed["analyst"]["locked"], listed["analyst"]["failed_logins"]) == (False, 0)
        csrf = admin.get("/api/moi").json()["csrf_token"]
        api = admin.post("/api/admin/comptes/referent/deverrouillage",
                         headers={"X-CSRF-Token": csrf})
        assert api.status_code == 200 and api.json()["locked"] is False
        unknown = admin.post("/api/admin/comptes/personne/deverrouillage",
                             headers={"X-CSRF-Token": csrf})
        assert unknown.status_code == 400 and unknown.json()["detail"] == (
            "compte inconnu : personne")
    with browser(store, "203.0.113.5") as web:
        assert attempt(web, "analyst", PASSWORD).status_code == 303
    with store.begin() as conn:
        changes = [(e.login, e.record_id, json.loads(e.detail or "{}"))
                   for e in audit.entries(conn) if e.action == "change"]
    assert changes == [("admin", "analyst", {"what": "unlocked", "had_failures": True}),
                       ("admin", "referent", {"what": "unlocked", "had_failures": False})]


def test_the_auditor_sees_failed_logins_delays_and_refusals(store: Store) -> None:
    with browser(store, "203.0.113.7") as attacker:
        for _ in range(6):
            attempt(attacker, "admin", WRONG)
        attempt(attacker, "inconnu<script>", WRONG)
    with browser(store) as auditor:
        assert attempt(auditor, "auditor", PASSWORD).status_code == 303
        page = auditor.get("/journal?action=login_failed")
        assert page.status_code == 200
        assert page.text.count("connexion échouée") >= 6  # five on admin, one unknown
        assert "203.0.113.7" in page.text and WRONG not in page.text
        assert "inconnu&lt;script&gt;" in page.text and "inconnu<script>" not in page.text
        options = re.findall(r'<option value="(login_\w+)"[^>]*>([^<]+)</option>', page.text)
        assert options == [("login_failed", "connexion échouée"),
                           ("login_locked", "connexion retardée"),
                           ("login_refused", "connexion refusée pendant un délai")]
        locked = auditor.get("/api/journal?action=login_locked").json()["entries"]
        assert [(e["login"], json.loads(e["detail"])["seconds"]) for e in locked] == [
            ("admin", 30)]
        refused = auditor.get("/api/journal?action=login_refused&identifiant=admin").json()
        assert refused["total"] == 1


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_a_trusted_browser_cookie_is_only_ever_one_the_server_signed_for_that_login(
        value: str) -> None:
    app = SimpleNamespace(state=SimpleNamespace(devices=device_serializer("k" * 40)))

    def request(cookie: str) -> Request:
        return Request({"type": "http", "app": app, "headers": [
            (b"cookie", f"{DEVICE_COOKIE}={cookie}".encode("utf-8", "surrogateescape"))]})

    assert trusted_device(request(value), "admin") is None  # any text: nothing, no error
    signed = app.state.devices.dumps({"login": "admin", "nonce": value})
    assert trusted_device(request(signed), "admin") == value
    assert trusted_device(request(signed), "admin2") is None
