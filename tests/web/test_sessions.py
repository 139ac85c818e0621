"""Sessions that can be taken back (both stores): a session cookie copied before logout, a
password change or reset, or a deactivation opens nothing afterwards; an idle session ends;
every account changes its own password (``/mot-de-passe``) under the policy, which ends its
other sessions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from faisceau.config import Settings
from faisceau.share.accounts import authenticate, create_user, seed_units
from faisceau.share.sessions import timeouts
from faisceau.store import Store, open_store
from faisceau.store.bulk import utc_now
from faisceau.web import security
from faisceau.web.app import SESSION_COOKIE, create_app
from tests.share.fast_hashing import fast_hashing  # noqa: F401 (autouse)
from tests.web.test_app import login, token

PASSWORD = "correct-cheval-pile-agrafe"
NEW = "ecluse-parapluie-mandarine-sextant"
ROLES = ("analyst", "referent", "investigator", "auditor", "admin")


@pytest.fixture
def store(store_settings: Settings) -> Iterator[Store]:
    opened = open_store(store_settings)
    seed_units(opened)
    for role in ROLES:
        create_user(opened, role, PASSWORD, role, "OCRTEH", name=role.capitalize())
    yield opened
    opened.dispose()


def client(store: Store) -> TestClient:
    return TestClient(create_app(store.settings))


@pytest.fixture
def browsers(store: Store) -> Iterator[Callable[..., TestClient]]:
    """Open browsers logged in as someone, all closed at the end of the test."""
    with ExitStack() as stack:

        def logged_in(who: str, password: str = PASSWORD) -> TestClient:
            web = stack.enter_context(client(store))
            assert login(web, who, password).status_code == 303
            return web

        yield logged_in


def replay(store: Store, cookie: str | None) -> int:
    """What a copied session cookie opens, from another browser."""
    assert cookie
    with client(store) as other:
        other.cookies.set(SESSION_COOKIE, cookie)
        return other.get("/api/moi").status_code


def _csrf(web: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": web.get("/api/moi").json()["csrf_token"]}


def test_a_cookie_replayed_after_logout_opens_nothing(
        store: Store, browsers: Callable[..., TestClient]) -> None:
    web = browsers("analyst")
    copied = web.cookies.get(SESSION_COOKIE)
    assert replay(store, copied) == 200
    out = web.post("/deconnexion", data={"csrf_token": token(web.get("/").text)},
                   follow_redirects=False)
    assert out.status_code == 303 and web.get("/api/moi").status_code == 401
    assert replay(store, copied) == 401
    # The login page no longer takes the copied cookie for a session either.
    with client(store) as other:
        other.cookies.set(SESSION_COOKIE, str(copied))
        assert other.get("/connexion", follow_redirects=False).status_code == 200


def test_a_password_reset_or_a_deactivation_ends_every_session(
        store: Store, browsers: Callable[..., TestClient]) -> None:
    admin = browsers("admin")
    first, second = browsers("analyst"), browsers("analyst")
    copied = first.cookies.get(SESSION_COOKIE)
    reset = admin.post("/api/admin/comptes/analyst/mot-de-passe", headers=_csrf(admin),
                       json={"password": NEW})
    assert reset.status_code == 200
    for web in (first, second):
        assert web.get("/api/moi").status_code == 401
    assert replay(store, copied) == 401
    assert admin.get("/api/moi").status_code == 200  # the administrator's own goes on
    again = browsers("analyst", NEW)
    copied = again.cookies.get(SESSION_COOKIE)
    off = admin.post("/api/admin/comptes/analyst/activation", headers=_csrf(admin),
                     json={"active": False})
    assert off.status_code == 200
    admin.post("/api/admin/comptes/analyst/activation", headers=_csrf(admin),
               json={"active": True})
    assert replay(store, copied) == 401  # reactivated: the old session stays ended


def test_an_idle_session_ends(browsers: Callable[..., TestClient],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    web = browsers("referent")
    start = utc_now()
    monkeypatch.setattr(security, "utc_now", lambda: start + timedelta(minutes=20))
    assert web.get("/api/moi").status_code == 200  # used: its idle time starts again
    monkeypatch.setattr(security, "utc_now",
                        lambda: start + timedelta(minutes=20) + timeouts().idle
                        + timedelta(seconds=1))
    assert web.get("/api/moi").status_code == 401
    assert web.get("/", follow_redirects=False).headers["location"].startswith("/connexion")


@pytest.mark.parametrize("role", ROLES)
def test_every_account_changes_its_own_password(
        store: Store, browsers: Callable[..., TestClient], role: str) -> None:
    web, other = browsers(role), browsers(role)
    copied = web.cookies.get(SESSION_COOKIE)
    page = web.get("/mot-de-passe")
    assert page.status_code == 200 and "Changer de mot de passe" in page.text
    assert 'href="/mot-de-passe"' in web.get("/").text

    def change(current: str, new: str, confirm: str | None = None) -> str:
        answer = web.post("/mot-de-passe", data={
            "csrf_token": token(web.get("/mot-de-passe").text), "actuel": current,
            "nouveau": new, "confirmation": new if confirm is None else confirm},
            follow_redirects=False)
        return f"{answer.status_code} {answer.headers.get('location', '')}{answer.text}"

    assert change("pas-le-bon-mot-de-passe", NEW).startswith("400")
    assert "Mot de passe actuel incorrect." in change("pas-le-bon-mot-de-passe", NEW)
    assert "trop facile à deviner" in change(PASSWORD, "password1234")
    assert "ne doit pas contenir l&#39;identifiant" in change(PASSWORD, f"{role}-{NEW}")
    assert "diffèrent" in change(PASSWORD, NEW, confirm=NEW + "x")
    assert authenticate(store, role, PASSWORD) is not None  # nothing changed so far
    assert change(PASSWORD, NEW).startswith("303 /")
    # This browser goes on in a new session; every other one, and the copied cookie, end.
    assert web.get("/api/moi").json()["login"] == role
    assert "vos autres sessions sont fermées" in web.get("/").text
    assert other.get("/api/moi").status_code == 401
    assert replay(store, copied) == 401
    assert authenticate(store, role, PASSWORD) is None
    assert authenticate(store, role, NEW) is not None
    # Without a session: to the login page; without the CSRF token: refused.
    with client(store) as nobody:
        assert nobody.get("/mot-de-passe", follow_redirects=False).status_code == 303
        assert nobody.post("/mot-de-passe", data={"actuel": NEW, "nouveau": PASSWORD,
                                                  "confirmation": PASSWORD},
                           follow_redirects=False).status_code == 403
    assert web.post("/mot-de-passe", data={"actuel": NEW, "nouveau": PASSWORD,
                                           "confirmation": PASSWORD}).status_code == 403
