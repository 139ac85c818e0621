"""Units and accounts: the central office and one unit per département (seeded from the
official list of départements), accounts with a role and a unit, passwords hashed with
argon2id, and a lock after repeated failed logins."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from faisceau.normalise.places import departements
from faisceau.share.access import ROLES, Viewer, groups_of, policy
from faisceau.store import Store
from faisceau.store.bulk import as_datetime, iso_utc, utc_now
from faisceau.store.schema import share_unit, share_user

MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
MIN_PASSWORD = 12
LOGIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
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


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"mot de passe trop court (au moins {MIN_PASSWORD} caractères)")


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
    _check_password(password)
    _check_unit(conn, unit)
    if not LOGIN.match(login):
        raise AccountError("identifiant invalide : 1 à 100 caractères, lettres, chiffres, "
                           "« . », « @ », « - » ou « _ », sans espace")
    if conn.execute(select(share_user.c.id).where(share_user.c.login == login)).first():
        raise AccountError(f"identifiant déjà pris : {login}")
    conn.execute(share_user.insert().values(
        login=login, name=name or login, password_hash=_hasher.hash(password), role=role,
        unit=unit, active=True, failed_logins=0, locked_until=None,
        created_at=utc_now()))
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


def authenticate(store: Store, login: str, password: str,
                 now: datetime | None = None) -> User | None:
    """The user if the password is right and the account active and not locked; failures
    are counted, and the account locks for ``LOCK_MINUTES`` after ``MAX_FAILED_LOGINS``."""
    now = now or utc_now()
    with store.begin() as conn:
        row = conn.execute(select(share_user.c.password_hash, share_user.c.active,
                                  share_user.c.failed_logins, share_user.c.locked_until)
                           .where(share_user.c.login == login)).first()
        if row is None:
            _hasher.hash(password)  # same time as for a known login: no account probing
            return None
        stored, active, failed, locked_until = row
        if not active or (locked_until is not None and locked_until > now):
            return None
        try:
            _hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            failed += 1
            lock = now + timedelta(minutes=LOCK_MINUTES) if failed >= MAX_FAILED_LOGINS \
                else None
            conn.execute(update(share_user).where(share_user.c.login == login).values(
                failed_logins=0 if lock else failed, locked_until=lock))
            return None
        values: dict[str, object] = {"failed_logins": 0, "locked_until": None}
        if _hasher.check_needs_rehash(stored):
            values["password_hash"] = _hasher.hash(password)
        conn.execute(update(share_user).where(share_user.c.login == login).values(**values))
        return get_user(conn, login)


@dataclass(frozen=True)
class Account:
    """An account as the administration lists it (never its password)."""

    login: str
    name: str
    role: str
    unit: str
    active: bool
    locked: bool
    failed_logins: int
    created_at: str


def list_accounts(conn: Connection, now: datetime | None = None) -> list[Account]:
    now = now or utc_now()
    rows = conn.execute(select(share_user.c.login, share_user.c.name, share_user.c.role,
                               share_user.c.unit, share_user.c.active,
                               share_user.c.locked_until, share_user.c.failed_logins,
                               share_user.c.created_at).order_by(share_user.c.login))
    out = []
    for login, name, role, unit, active, locked_until, failed, created in rows:
        locked = locked_until is not None and as_datetime(locked_until) > now
        out.append(Account(login, name, role, unit, bool(active), locked, int(failed),
                           iso_utc(created) or ""))
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
    values: dict[str, object] = {"active": active}
    if active:
        values.update(failed_logins=0, locked_until=None)
    conn.execute(update(share_user).where(share_user.c.login == login).values(**values))
    return User(user.login, user.name, user.role, user.unit, active)


def reset_password(conn: Connection, login: str, password: str) -> None:
    """A new password (an administrator's reset), which also lifts a lock."""
    _existing(conn, login)
    _check_password(password)
    conn.execute(update(share_user).where(share_user.c.login == login).values(
        password_hash=_hasher.hash(password), failed_logins=0, locked_until=None))


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
