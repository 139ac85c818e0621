"""Units and accounts: the central office and one unit per département (seeded from the
official list of départements), accounts with a role and a unit, passwords hashed with
argon2id under the policy of ``passwords``, and logging in under attack.

Logging in (``attempt_login``) is built so that an attacker learns nothing and locks no one
out:

- failures slow the next attempts per login tried, per address and per browser
  (``throttle``), never a lock that anyone could set on anyone's account;
- every attempt that is checked (unknown login, inactive account, wrong or right password)
  runs exactly one argon2 verification, against the account's hash or a dummy one, so that
  the answer takes the same time whatever the account's existence or state; an attempt
  refused because of earlier failures checks nothing, which takes the same (short) time for
  any login, known or not, as its delay is the login's and not the account's: a flood of
  refused attempts costs the server nothing (each verification takes 64 MiB and tens of
  milliseconds of a core);
- every failure, every delay that starts and the first attempt refused during a delay is
  written to the consultation log (actions ``login_failed``, ``login_locked``,
  ``login_refused``), with the client's address and the login tried (escaped, truncated),
  never the password.

Changing a password (an administrator's reset, the user's own change) or deactivating an
account ends all of its sessions in the same transaction (``sessions.end_sessions``).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from faisceau.normalise.places import departements
from faisceau.share import audit, sessions, throttle
from faisceau.share.access import ROLES, Viewer, groups_of, policy
from faisceau.share.passwords import policy as password_policy
from faisceau.share.passwords import weakness
from faisceau.store import Store
from faisceau.store.bulk import iso_utc, utc_now
from faisceau.store.schema import share_unit, share_user

MIN_PASSWORD = password_policy().min_length
LOGIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
SHOWN_LOGIN = 64  # characters of a login tried that the log keeps
_hasher = PasswordHasher()


class AccountError(ValueError):
    """A refused account operation, in French (the user reads it)."""


@dataclass(frozen=True)
class User:
    login: str
    name: str
    role: str
    unit: str
    active: bool

    def viewer(self, conn: Connection) -> Viewer:
        return Viewer(self.login, self.role, self.unit, groups_of(conn, self.unit))


def territorial_unit(departement: str) -> str:
    return f"DEP-{departement}"


def seed_units(store: Store) -> int:
    """The central office and one territorial unit per département (idempotent); returns
    how many were added."""
    wanted: list[tuple[str, str, str, str | None]] = [
        (policy().central_unit, "Office central (OCRTEH)", "central", None)]
    wanted += [(territorial_unit(code), f"Référent territorial {name} ({code})", "territorial",
                code) for code, name in departements().items()]
    with store.begin() as conn:
        known = set(conn.execute(select(share_unit.c.code)).scalars())
        rows = [dict(code=c, name=n, kind=k, departement=d) for c, n, k, d in wanted
                if c not in known]
        if rows:
            conn.execute(share_unit.insert(), rows)
    return len(rows)


def create_user(store: Store, login: str, password: str, role: str, unit: str,
                name: str | None = None) -> User:
    with store.begin() as conn:
        return add_user(conn, login, password, role, unit, name)


def _check_password(password: str, login: str, name: str) -> None:
    refused = weakness(password, login=login, name=name)
    if refused:
        raise AccountError(refused)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"rôle inconnu : {role} (rôles : {', '.join(ROLES)})")


def _check_unit(conn: Connection, unit: str) -> None:
    if conn.execute(select(share_unit.c.code).where(share_unit.c.code == unit)).first() \
            is None:
        raise AccountError(f"unité inconnue : {unit} (faisceau units seed)")


def add_user(conn: Connection, login: str, password: str, role: str, unit: str,
             name: str | None = None) -> User:
    """``create_user`` in the caller's transaction (the administration logs it there)."""
    _check_role(role)
    _check_unit(conn, unit)
    if not LOGIN.match(login):
        raise AccountError("identifiant invalide : 1 à 100 caractères, lettres, chiffres, "
                           "« . », « @ », « - » ou « _ », sans espace")
    _check_password(password, login, name or "")
    if conn.execute(select(share_user.c.id).where(share_user.c.login == login)).first():
        raise AccountError(f"identifiant déjà pris : {login}")
    conn.execute(share_user.insert().values(
        login=login, name=name or login, password_hash=_hasher.hash(password), role=role,
        unit=unit, active=True, created_at=utc_now()))
    return User(login, name or login, role, unit, True)


def get_user(conn: Connection, login: str) -> User | None:
    row = conn.execute(select(share_user.c.login, share_user.c.name, share_user.c.role,
                              share_user.c.unit, share_user.c.active)
                       .where(share_user.c.login == login)).first()
    return None if row is None else User(*row)


def list_users(conn: Connection) -> list[User]:
    rows = conn.execute(select(share_user.c.login, share_user.c.name, share_user.c.role,
                               share_user.c.unit, share_user.c.active)
                        .order_by(share_user.c.login))
    return [User(*r) for r in rows]


def shown_login(login: str) -> str:
    """A login someone tried, as the log keeps it: control and invisible characters escaped
    (no forged line, no reversed text in an export or a terminal), at most ``SHOWN_LOGIN``
    characters."""
    shown = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in login[:SHOWN_LOGIN + 1])
    return shown if len(shown) <= SHOWN_LOGIN else shown[:SHOWN_LOGIN - 1] + "…"


@cache
def _dummy_hash() -> str:
    """What an unknown login's password is checked against (as long as a real one)."""
    return _hasher.hash(secrets.token_urlsafe(24))


def warm_up() -> None:
    """Make the dummy hash now (a server calls it at start), not on the first attempt."""
    _dummy_hash()


def _verify(stored: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(stored, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class LoginAttempt:
    """What a login attempt gave: the user, or a refusal; ``retry_after`` (seconds) when the
    attempt was not even checked because of earlier failures."""

    user: User | None
    retry_after: int | None = None


def _log_attempt(conn: Connection, login: str, unit: str, action: str,
                 detail: dict[str, object]) -> None:
    shown = shown_login(login)
    audit.record(conn, Viewer(shown, "", unit), action, "user", shown, detail=detail)


def attempt_login(store: Store, login: str, password: str, *, address: str,
                  device: str | None = None, now: datetime | None = None) -> LoginAttempt:
    """Check ``login`` and ``password`` tried from ``address`` (and from the trusted browser
    ``device``, the nonce of its signed cookie for that login, if any), under the throttle's
    limits; failures and delays are logged. One argon2 verification on every path that is
    checked, none on one refused (which is the same for any login)."""
    now = now or utc_now()
    with store.begin() as conn:
        account = conn.execute(select(share_user.c.password_hash, share_user.c.active,
                                      share_user.c.name, share_user.c.role, share_user.c.unit)
                               .where(share_user.c.login == login)).first()
        gate = throttle.reserve(conn, login, address, device, now)
        unit = "" if account is None else str(account.unit)
        if gate.first_refusal:
            _log_attempt(conn, login, unit, "login_refused", {
                "address": address, "limit": gate.refused_by, "retry_after": gate.retry_after})
    if not gate.allowed:
        return LoginAttempt(None, gate.retry_after)
    # Outside the transaction (argon2 takes a while): the attempt is already counted.
    right = _verify(_dummy_hash() if account is None else account.password_hash, password)
    with store.begin() as conn:
        if right and account is not None and account.active:
            throttle.settle(conn, gate, login, address, device, now)
            _rehash_if_needed(conn, login, account.password_hash, password)
            return LoginAttempt(User(login, account.name, account.role, account.unit, True))
        cause = ("unknown login" if account is None else
                 "inactive account" if not account.active else "wrong password")
        _log_failure(conn, login, unit, address, cause, gate)
    return LoginAttempt(None)


def _rehash_if_needed(conn: Connection, login: str, stored: str, password: str) -> None:
    """A hash made with older argon2 parameters is replaced at the next good login."""
    if _hasher.check_needs_rehash(stored):
        conn.execute(update(share_user).where(share_user.c.login == login)
                     .values(password_hash=_hasher.hash(password)))


def _log_failure(conn: Connection, login: str, unit: str, address: str, cause: str,
                 gate: throttle.Gate) -> None:
    """The failure, and the delay or the address block it starts, if any."""
    _log_attempt(conn, login, unit, "login_failed", {
        "address": address, "cause": cause, "failures": gate.failures,
        "trusted_browser": gate.scope == throttle.DEVICE})
    if gate.delay:
        _log_attempt(conn, login, unit, "login_locked", {
            "address": address, "limit": throttle.LOGIN, "seconds": gate.delay,
            "failures": gate.failures})
    if gate.blocks_address:
        _log_attempt(conn, login, unit, "login_locked", {
            "address": address, "limit": throttle.ADDRESS,
            "seconds": int(throttle.limits().address_window.total_seconds())})


def authenticate(store: Store, login: str, password: str, now: datetime | None = None, *,
                 address: str = "local") -> User | None:
    """The user if the password is right and the account active (``attempt_login``)."""
    return attempt_login(store, login, password, address=address, now=now).user


def unlock(conn: Connection, login: str) -> bool:
    """End the delay an account's failures set (an administrator's act, logged by the
    caller); whether there was anything to forget."""
    _existing(conn, login)
    return throttle.clear(conn, throttle.LOGIN, login)


def unlock_address(conn: Connection, address: str) -> bool:
    """Forget a client address's failures (an office behind one address, blocked)."""
    return throttle.clear(conn, throttle.ADDRESS, address.strip())


@dataclass(frozen=True)
class Account:
    """An account as the administration lists it (never its password)."""

    login: str
    name: str
    role: str
    unit: str
    active: bool
    locked: bool  # its attempts wait for a delay that failures set
    failed_logins: int
    created_at: str
    delayed_until: str | None = None
    sessions: int = 0  # live sessions


def list_accounts(conn: Connection, now: datetime | None = None) -> list[Account]:
    now = now or utc_now()
    failures = throttle.states(conn, throttle.LOGIN, now)
    live = sessions.live_sessions(conn, now)
    rows = conn.execute(select(share_user.c.login, share_user.c.name, share_user.c.role,
                               share_user.c.unit, share_user.c.active,
                               share_user.c.created_at).order_by(share_user.c.login))
    out = []
    for login, name, role, unit, active, created in rows:
        state = failures.get(login, throttle.State(0, None))
        out.append(Account(login, name, role, unit, bool(active),
                           state.delayed_until is not None, state.failures,
                           iso_utc(created) or "", iso_utc(state.delayed_until),
                           live.get(login, 0)))
    return out


def _existing(conn: Connection, login: str) -> User:
    user = get_user(conn, login)
    if user is None:
        raise AccountError(f"compte inconnu : {login}")
    return user


def set_active(conn: Connection, by: str, login: str, active: bool) -> User:
    """Deactivate or reactivate an account; its sessions end at its next request (the
    account is read on every request). An administrator cannot deactivate themself: the
    last one would lock everyone out."""
    user = _existing(conn, login)
    if not active and login == by:
        raise AccountError("un administrateur ne peut pas désactiver son propre compte")
    conn.execute(update(share_user).where(share_user.c.login == login).values(active=active))
    if active:
        throttle.clear(conn, throttle.LOGIN, login)
    else:
        sessions.end_sessions(conn, login, "deactivated", utc_now())
    return User(user.login, user.name, user.role, user.unit, active)


def _set_password(conn: Connection, user: User, password: str, why: str) -> int:
    _check_password(password, user.login, user.name)
    conn.execute(update(share_user).where(share_user.c.login == user.login).values(
        password_hash=_hasher.hash(password)))
    throttle.clear(conn, throttle.LOGIN, user.login)
    return sessions.end_sessions(conn, user.login, why, utc_now())


def reset_password(conn: Connection, login: str, password: str) -> int:
    """A new password (an administrator's reset), which also ends the account's delay and
    all of its sessions (returns how many)."""
    return _set_password(conn, _existing(conn, login), password, "password reset")


def change_own_password(store: Store, login: str, current: str, new: str, *,
                        address: str, now: datetime | None = None) -> LoginAttempt:
    """A user's own change: the current password is checked as a login attempt would be
    (throttled, logged); then the new one is set and every session of the account ends.
    Returns the attempt (no user when the current password was refused); a new password
    the policy refuses is refused first (``AccountError``), without trying the current one."""
    with store.begin() as conn:
        user = _existing(conn, login)
    _check_password(new, user.login, user.name)
    attempt = attempt_login(store, login, current, address=address, now=now)
    if attempt.user is not None:
        with store.begin() as conn:
            _set_password(conn, attempt.user, new, "password changed")
    return attempt


def set_role_and_unit(conn: Connection, by: str, login: str, role: str | None = None,
                      unit: str | None = None) -> tuple[User, User]:
    """Change an account's role and/or unit; returns (before, after). An administrator
    cannot take their own administrator role away."""
    before = _existing(conn, login)
    role = role or before.role
    unit = unit or before.unit
    _check_role(role)
    _check_unit(conn, unit)
    if login == by and before.role == "admin" and role != "admin":
        raise AccountError("un administrateur ne peut pas retirer son propre rôle "
                           "d'administrateur")
    conn.execute(update(share_user).where(share_user.c.login == login).values(
        role=role, unit=unit))
    return before, User(before.login, before.name, role, unit, before.active)


# Demo accounts, for the synthetic demo world only (printed by ``faisceau demo``).
DEMO_ACCOUNTS = (
    ("analyste", "analyst", "OCRTEH", "Analyste de l'office central (démo)"),
    ("referent13", "referent", "DEP-13", "Référent territorial Bouches-du-Rhône (démo)"),
    ("enqueteur75", "investigator", "DEP-75", "Enquêteur Paris (démo)"),
    ("auditeur", "auditor", "OCRTEH", "Délégué à la protection des données (démo)"),
    ("admin", "admin", "OCRTEH", "Administrateur (démo)"),
)
DEMO_PASSWORD = "demo-faisceau-2026"


def ensure_demo_accounts(store: Store) -> list[User]:
    """The demo's units and accounts (idempotent); the same password for all, demo only."""
    seed_units(store)
    with store.begin() as conn:
        known = {u.login for u in list_users(conn)}
    for login, role, unit, name in DEMO_ACCOUNTS:
        if login not in known:
            create_user(store, login, DEMO_PASSWORD, role, unit, name)
    with store.begin() as conn:
        return [u for u in list_users(conn) if u.login in {a[0] for a in DEMO_ACCOUNTS}]
