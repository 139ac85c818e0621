"""Failed logins, counted so that they slow an attacker down without locking anyone out.

The former rule (five wrong passwords lock the account for 15 minutes) let anyone lock any
account, administrators included, and answered a locked account faster than an unknown one.
Here, in the store (so that every worker and process shares it, ``share_login_throttle``):

- **per login tried**, whether an account has it or not (the answers say nothing of which
  exist): after ``free_failures`` failures in a row, each further failure makes the next
  attempt wait, a delay that doubles up to ``max_delay``; an attempt during the delay is not
  checked at all. A success ends it.
- **per client address**: at most ``address_failures`` failures in a window; a success
  neither counts nor resets (nine good logins in a row must not be refused, and a valid
  account must not buy an attacker more guesses).
- **per trusted browser** (a signed cookie given at a successful login, see
  ``faisceau.web.security``): its attempts on its own account count only against itself,
  not against the account's delay nor the address, so an attacker who hammers an account
  does not lock its owner out; after ``device_failures`` failures in a row it is trusted no
  more.

An attempt is counted *before* its password is checked (``reserve``), in a short transaction
serialised with every other, and taken back if it succeeds (``settle``): parallel attempts
cannot slip more guesses than the limits through while one is being verified.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.engine import Connection

from faisceau.share.passwords import limits as section
from faisceau.store.bulk import as_datetime, serialise
from faisceau.store.schema import share_login_throttle as throttle

LOGIN, ADDRESS, DEVICE = "login", "address", "device"
KEY_LENGTH = 128
FORGET_AFTER = timedelta(days=1)  # rows idle this long (and not delaying) are deleted


@dataclass(frozen=True)
class Limits:
    free_failures: int
    first_delay: timedelta
    max_delay: timedelta
    address_failures: int
    address_window: timedelta
    device_failures: int


@cache
def limits() -> Limits:
    login, device = section("login"), section("device")
    return Limits(
        int(login["free_failures"]), timedelta(seconds=int(login["first_delay_seconds"])),
        timedelta(seconds=int(login["max_delay_seconds"])), int(login["address_failures"]),
        timedelta(minutes=int(login["address_window_minutes"])), int(device["failures"]))


@dataclass(frozen=True)
class Gate:
    """What the throttle decided for one attempt, before its password is checked."""

    scope: str  # what counts the attempt: DEVICE, or LOGIN (and the address with it)
    refused_by: str | None  # LOGIN or ADDRESS when the attempt is not to be checked
    retry_after: int  # seconds to wait, when refused
    first_refusal: bool  # the first attempt refused since that delay began (it is logged)
    failures: int  # failures counted on the scope's row, this attempt included
    delay: int  # seconds the next attempt waits if this one fails (0: none)
    blocks_address: bool = False  # if this one fails, its address has used its failures

    @property
    def allowed(self) -> bool:
        return self.refused_by is None


@dataclass
class _Row:
    failures: int
    window_start: datetime
    not_before: datetime | None
    refused: int

    def waits(self, now: datetime) -> bool:
        return self.not_before is not None and self.not_before > now


def delay_after(failures: int, rules: Limits) -> timedelta:
    """How long the next attempt waits after ``failures`` failures in a row."""
    if failures < rules.free_failures:
        return timedelta(0)
    doubled = rules.first_delay * 2 ** min(failures - rules.free_failures, 30)
    return min(doubled, rules.max_delay)


def _key(value: str) -> str:
    return value[:KEY_LENGTH]


def _read(conn: Connection, scope: str, key: str, now: datetime) -> _Row:
    row = conn.execute(select(throttle.c.failures, throttle.c.window_start,
                              throttle.c.not_before, throttle.c.refused)
                       .where(throttle.c.scope == scope, throttle.c.key == key)).first()
    if row is None:
        return _Row(0, now, None, 0)
    failures, start, not_before, refused = row
    return _Row(int(failures), as_datetime(start),
                None if not_before is None else as_datetime(not_before), int(refused))


def _write(conn: Connection, scope: str, key: str, row: _Row, now: datetime) -> None:
    values: dict[str, Any] = {"failures": row.failures, "window_start": row.window_start,
                              "not_before": row.not_before, "refused": row.refused,
                              "updated_at": now}
    done = conn.execute(update(throttle).where(throttle.c.scope == scope,
                                               throttle.c.key == key).values(**values))
    if done.rowcount == 0:
        conn.execute(throttle.insert().values(scope=scope, key=key, **values))


def _refuse(conn: Connection, scope: str, key: str, row: _Row, until: datetime,
            now: datetime) -> tuple[int, bool]:
    row.refused += 1
    _write(conn, scope, key, row, now)
    return max(1, int((until - now).total_seconds() + 0.999)), row.refused == 1


def reserve(conn: Connection, login: str, address: str, device: str | None,
            now: datetime, rules: Limits | None = None) -> Gate:
    """Count one attempt on ``login`` from ``address`` (and the browser ``device``, the
    nonce of a valid cookie for that login, if any), or refuse it unchecked."""
    rules = rules or limits()
    serialise(conn, "share_login_throttle")
    if device is not None:
        trusted = _read(conn, DEVICE, _key(device), now)
        if trusted.failures < rules.device_failures:
            trusted.failures += 1
            _write(conn, DEVICE, _key(device), trusted, now)
            return Gate(DEVICE, None, 0, False, trusted.failures, 0)

    by_address = _read(conn, ADDRESS, _key(address), now)
    if by_address.window_start + rules.address_window <= now:
        by_address = _Row(0, now, None, 0)
    if by_address.failures >= rules.address_failures:
        retry, first = _refuse(conn, ADDRESS, _key(address), by_address,
                               by_address.window_start + rules.address_window, now)
        return Gate(LOGIN, ADDRESS, retry, first, by_address.failures, 0)
    by_address.failures += 1
    _write(conn, ADDRESS, _key(address), by_address, now)

    by_login = _read(conn, LOGIN, _key(login), now)
    if by_login.not_before is not None and by_login.waits(now):
        retry, first = _refuse(conn, LOGIN, _key(login), by_login, by_login.not_before, now)
        return Gate(LOGIN, LOGIN, retry, first, by_login.failures, 0)
    by_login.failures += 1
    wait = delay_after(by_login.failures, rules)
    if wait:
        by_login.not_before, by_login.refused = now + wait, 0
    _write(conn, LOGIN, _key(login), by_login, now)
    return Gate(LOGIN, None, 0, False, by_login.failures, int(wait.total_seconds()),
                by_address.failures == rules.address_failures)


def settle(conn: Connection, gate: Gate, login: str, address: str, device: str | None,
           now: datetime) -> None:
    """After a successful attempt: take back what ``reserve`` counted (a success is not a
    failure), ending the login's delay or the browser's count; forget idle rows."""
    if gate.scope == DEVICE and device is not None:
        clear(conn, DEVICE, device)
    else:
        clear(conn, LOGIN, login)
        conn.execute(update(throttle).where(
            throttle.c.scope == ADDRESS, throttle.c.key == _key(address),
            throttle.c.failures > 0).values(failures=throttle.c.failures - 1))
    conn.execute(delete(throttle).where(
        throttle.c.updated_at < now - FORGET_AFTER,
        or_(throttle.c.not_before.is_(None), throttle.c.not_before < now)))


def clear(conn: Connection, scope: str, key: str) -> bool:
    """Forget a login's, an address's or a browser's failures (an administrator's unlock);
    whether there were any."""
    done = conn.execute(delete(throttle).where(throttle.c.scope == scope,
                                               throttle.c.key == _key(key)))
    return bool(done.rowcount)


@dataclass(frozen=True)
class State:
    failures: int
    delayed_until: datetime | None  # when an attempt will be checked again, if it waits


def states(conn: Connection, scope: str, now: datetime) -> dict[str, State]:
    """Every key of a scope with failures or a running delay (the administration's list)."""
    rows = conn.execute(select(throttle.c.key, throttle.c.failures, throttle.c.not_before)
                        .where(throttle.c.scope == scope,
                               or_(throttle.c.failures > 0,
                                   and_(throttle.c.not_before.is_not(None),
                                        throttle.c.not_before > now))))
    out = {}
    for key, failures, not_before in rows:
        until = None if not_before is None else as_datetime(not_before)
        out[key] = State(int(failures), until if until is not None and until > now else None)
    return out
