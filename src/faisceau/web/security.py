"""Sessions, CSRF protection and the login rate limit of the web application.

- Sessions are Starlette's signed cookies (HttpOnly, SameSite=Lax, ``Secure`` when the
  application is served over HTTPS). The key comes from ``FAISCEAU_SECRET_KEY``, else from
  the file ``secret_key`` in the store's home, created once with a random key (mode 0600).
  The cookie holds the login and the CSRF token only; the account is read again from the
  store on every request, so that a deactivated account loses its session at once.
- CSRF: one random token per session, required on every request that is not a read (form
  field ``csrf_token`` or header ``X-CSRF-Token``); without it, 403.
- Login: at most ``LOGIN_ATTEMPTS`` attempts per client address in ``LOGIN_WINDOW`` seconds
  (an in-memory sliding window, per process), on top of the account lock of
  ``faisceau.share.accounts.authenticate``.
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from fastapi import HTTPException, Request

from faisceau.config import Settings
from faisceau.share.accounts import User, get_user
from faisceau.store import Store

SECRET_ENV = "FAISCEAU_SECRET_KEY"
SECRET_FILE = "secret_key"
MIN_SECRET = 32
LOGIN_ATTEMPTS = 10
LOGIN_WINDOW = 300.0  # seconds
SESSION_HOURS = 10  # a working day; the cookie expires after it
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSRF_MESSAGE = ("Requête refusée : jeton de sécurité (CSRF) absent ou invalide. "
                "Rechargez la page et recommencez.")
TOO_MANY_LOGINS = ("Trop de tentatives de connexion depuis cette adresse : "
                   "réessayez dans quelques minutes.")


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


class LoginLimiter:
    """At most ``attempts`` per key (the client address) in any ``window`` seconds."""

    def __init__(self, attempts: int = LOGIN_ATTEMPTS, window: float = LOGIN_WINDOW,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.attempts = attempts
        self.window = window
        self.clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count one attempt; False when the key already used its attempts in the window."""
        now = self.clock()
        with self._lock:
            times = self._seen.setdefault(key, deque())
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.attempts:
                return False
            times.append(now)
            # Forget idle addresses so that the table does not grow without bound.
            if len(self._seen) > 10_000:
                for other in [k for k, v in self._seen.items()
                              if not v or v[-1] <= now - self.window]:
                    del self._seen[other]
            return True


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


def start_session(request: Request, user: User) -> None:
    """A fresh session for the user (a new CSRF token: nothing carries over from before)."""
    request.session.clear()
    request.session["login"] = user.login
    request.session["csrf"] = secrets.token_urlsafe(32)


def end_session(request: Request) -> None:
    request.session.clear()


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def current_user(request: Request) -> User:
    """The logged-in, active user, read from the store; else ``LoginRequired``."""
    login = request.session.get("login")
    if not isinstance(login, str) or not login:
        raise LoginRequired
    with store_of(request).begin() as conn:
        user = get_user(conn, login)
    if user is None or not user.active:
        end_session(request)
        raise LoginRequired
    return user
