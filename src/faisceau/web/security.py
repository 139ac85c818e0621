"""Sessions, CSRF protection and trusted browsers of the web application.

- Sessions are server-side (``faisceau.share.sessions``): Starlette's signed cookie
  (HttpOnly, SameSite=Lax, ``Secure`` when the application is served over HTTPS) carries a
  random token naming a row of ``share_session``, and the CSRF token. Every request checks
  the row: logout revokes it, a password change or reset and a deactivation revoke all of the
  account's, an idle or too old session ends; a cookie replayed after any of these opens
  nothing. The signing key comes from ``FAISCEAU_SECRET_KEY``, else from the file
  ``secret_key`` in the store's home, created once with a random key (mode 0600).
- CSRF: one random token per session, required on every request that is not a read (form
  field ``csrf_token`` or header ``X-CSRF-Token``); without it, 403.
- Trusted browsers: a successful login leaves a second signed cookie (``faisceau_appareil``,
  sent to ``/connexion`` only) naming the account and a random nonce; that browser's later
  attempts on that account are counted on their own (``faisceau.share.throttle``), so that
  an attacker's failures do not lock the account's owner out.
- Logins are limited per login tried, per address and per browser in the store
  (``faisceau.share.throttle``, ``faisceau.share.accounts.attempt_login``); the client
  address is the socket's (forwarded headers are not trusted).
"""

from __future__ import annotations

import hmac
import os
import secrets
import time
from pathlib import Path

from fastapi import HTTPException, Request
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from faisceau.config import Settings
from faisceau.share import sessions
from faisceau.share.accounts import User
from faisceau.share.passwords import limits
from faisceau.store import Store
from faisceau.store.bulk import utc_now

SECRET_ENV = "FAISCEAU_SECRET_KEY"
SECRET_FILE = "secret_key"
MIN_SECRET = 32
DEVICE_COOKIE = "faisceau_appareil"
DEVICE_SALT = "faisceau-appareil-de-confiance"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSRF_MESSAGE = ("Requête refusée : jeton de sécurité (CSRF) absent ou invalide. "
                "Rechargez la page et recommencez.")


class LoginRequired(Exception):
    """No valid session: pages redirect to the login page, the API answers 401."""


def secret_key(settings: Settings, environ: dict[str, str] | None = None) -> str:
    """The key that signs session cookies: ``FAISCEAU_SECRET_KEY``, else the store home's
    ``secret_key`` file, created with a random key on first use (readable by its owner only).
    """
    env = os.environ if environ is None else environ
    given = env.get(SECRET_ENV)
    if given:
        if len(given) < MIN_SECRET:
            raise ValueError(f"{SECRET_ENV} est trop courte ({MIN_SECRET} caractères au moins)")
        return given
    return _key_file(settings.home / SECRET_FILE)


def _key_file(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another process may be writing it right now
            key = path.read_text("ascii").strip()
            if key:
                return key
            time.sleep(0.01)
        raise ValueError(f"fichier de clé vide : {path}") from None
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key


def client_address(request: Request) -> str:
    return request.client.host if request.client else "inconnu"


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created when the session has none."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def check_csrf(request: Request) -> None:
    """Every request that is not a read carries the session's token (form field or header).
    An application-wide dependency: no route can forget it."""
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get("csrf")
    given: object = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        given = (await request.form()).get(CSRF_FIELD)
    if not (isinstance(expected, str) and expected and isinstance(given, str)
            and hmac.compare_digest(expected.encode(), given.encode())):
        raise HTTPException(403, CSRF_MESSAGE)


def start_session(request: Request, token: str) -> None:
    """A fresh cookie session naming the server-side session ``token`` (a new CSRF token:
    nothing carries over from before)."""
    request.session.clear()
    request.session["sid"] = token
    request.session["csrf"] = secrets.token_urlsafe(32)


def end_session(request: Request) -> None:
    request.session.clear()


def session_token(request: Request) -> str | None:
    token = request.session.get("sid")
    return token if isinstance(token, str) and token else None


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def current_user(request: Request) -> User:
    """The user of the request's live server-side session, their account active; else the
    cookie session is cleared and ``LoginRequired``."""
    token = session_token(request)
    if token is None:
        raise LoginRequired
    with store_of(request).begin() as conn:
        found = sessions.session_account(conn, token, utc_now())
    if found is None:
        end_session(request)
        raise LoginRequired
    return User(*found, True)


# --- Trusted browsers ----------------------------------------------------------------------


def _devices(request: Request) -> URLSafeTimedSerializer:
    devices: URLSafeTimedSerializer = request.app.state.devices
    return devices


def device_serializer(key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(key, salt=DEVICE_SALT)


def _device_days() -> int:
    return int(limits("device")["days"])


def trusted_device(request: Request, login: str) -> str | None:
    """The nonce of this browser's trusted-browser cookie if it names ``login``, else None
    (no cookie, another account, a forged or expired one)."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        data = _devices(request).loads(raw, max_age=_device_days() * 86400)
    except BadSignature:
        return None
    if isinstance(data, dict) and data.get("login") == login and isinstance(
            data.get("nonce"), str):
        return str(data["nonce"])
    return None


def trust_device(request: Request, response: Response, login: str) -> None:
    """Give this browser a trusted-browser cookie for ``login`` (after a successful login)."""
    value = _devices(request).dumps({"login": login, "nonce": secrets.token_urlsafe(18)})
    response.set_cookie(DEVICE_COOKIE, value, max_age=_device_days() * 86400,
                        path="/connexion", httponly=True, samesite="strict",
                        secure=bool(request.app.state.https_only))
