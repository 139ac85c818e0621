"""Server-side sessions: a signed cookie alone could not be taken back.

A session is a row of ``share_session``: a random token (the cookie carries it, signed; the
store keeps only its SHA-256, so that a copy of the table opens nothing), the account, when
it was opened and last used, when it ends. Every request checks that the session is neither
revoked, idle for ``idle_minutes``, nor older than ``absolute_hours``, and that its account
is active, in one query. Logout revokes the session; a password change or reset and a
deactivation revoke all of the account's (``end_sessions``, called by
``faisceau.share.accounts`` in the same transaction as the change, whatever the path).
Limits in ``accounts.toml``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection

from faisceau.share.passwords import limits as section
from faisceau.store.bulk import as_datetime
from faisceau.store.schema import share_session, share_user

KEEP_ENDED = timedelta(days=1)  # ended sessions stay this long (the administration sees them)


@dataclass(frozen=True)
class Timeouts:
    idle: timedelta
    absolute: timedelta
    touch: timedelta


@cache
def timeouts() -> Timeouts:
    raw = section("session")
    return Timeouts(timedelta(minutes=int(raw["idle_minutes"])),
                    timedelta(hours=int(raw["absolute_hours"])),
                    timedelta(seconds=int(raw["touch_seconds"])))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def open_session(conn: Connection, login: str, address: str | None, now: datetime) -> str:
    """A new session for ``login``; returns its token (for the cookie, never stored)."""
    token = secrets.token_urlsafe(32)
    conn.execute(share_session.insert().values(
        token_hash=_digest(token), login=login, address=(address or "")[:64] or None,
        created_at=now, last_seen=now, expires_at=now + timeouts().absolute))
    conn.execute(delete(share_session).where(share_session.c.expires_at < now - KEEP_ENDED))
    return token


def session_account(conn: Connection, token: str,
                    now: datetime) -> tuple[str, str, str, str] | None:
    """(login, name, role, unit) of the active account whose live session ``token`` names,
    or None; the session's last use is recorded (at most once per ``touch_seconds``)."""
    limits = timeouts()
    digest = _digest(token)
    row = conn.execute(
        select(share_user.c.login, share_user.c.name, share_user.c.role, share_user.c.unit,
               share_session.c.last_seen)
        .join(share_user, share_user.c.login == share_session.c.login)
        .where(share_session.c.token_hash == digest, share_session.c.revoked_at.is_(None),
               share_session.c.expires_at > now,
               share_session.c.last_seen > now - limits.idle,
               share_user.c.active.is_(True))).first()
    if row is None:
        return None
    if as_datetime(row[4]) <= now - limits.touch:
        conn.execute(update(share_session).where(share_session.c.token_hash == digest)
                     .values(last_seen=now))
    return row[0], row[1], row[2], row[3]


def end_session(conn: Connection, token: str, why: str, now: datetime) -> bool:
    """Revoke one session (logout); whether it was live."""
    done = conn.execute(update(share_session).where(
        share_session.c.token_hash == _digest(token), share_session.c.revoked_at.is_(None))
        .values(revoked_at=now, revoked_why=why[:32]))
    return bool(done.rowcount)


def end_sessions(conn: Connection, login: str, why: str, now: datetime) -> int:
    """Revoke every session of ``login`` (password changed or reset, account deactivated);
    how many were live."""
    done = conn.execute(update(share_session).where(
        share_session.c.login == login, share_session.c.revoked_at.is_(None),
        share_session.c.expires_at > now).values(revoked_at=now, revoked_why=why[:32]))
    return int(done.rowcount)


def live_sessions(conn: Connection, now: datetime) -> dict[str, int]:
    """How many live sessions each account has (the administration's list)."""
    rows = conn.execute(select(share_session.c.login, func.count()).where(
        share_session.c.revoked_at.is_(None), share_session.c.expires_at > now,
        share_session.c.last_seen > now - timeouts().idle).group_by(share_session.c.login))
    return {login: int(count) for login, count in rows}
