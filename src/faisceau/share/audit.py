"""The consultation log (Directive (EU) 2016/680, art. 25): who viewed, searched or exported
which personal data, when, and why for sensitive views (victims, minors).

Each entry's ``hash`` is SHA-256 of the previous entry's hash and the entry itself (its
fields as canonical JSON), starting from 64 zeros: changing, removing or inserting an entry
breaks every hash after it, which ``verify`` finds. The store also refuses UPDATE and
DELETE on the table (migration 0005). Entries are appended under a lock so that two writers
cannot both chain onto the same previous entry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from faisceau.share.access import Viewer
from faisceau.store.bulk import fetch, mark, serialise, utc_now

GENESIS = "0" * 64
# "change": an administrator's change to accounts, units, groups or distributions.
# "login_*" (faisceau.share.accounts): a failed login, a delay that starts, an attempt refused.
ACTIONS = ("view", "search", "export", "denied", "change",
           "login_failed", "login_locked", "login_refused")
FIELDS = ("at", "login", "unit", "action", "record_kind", "record_id", "detail", "reason")


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime
    login: str
    unit: str
    action: str
    record_kind: str
    record_id: str
    detail: str | None
    reason: str | None
    prev_hash: str
    hash: str


def entry_hash(prev_hash: str, values: dict[str, Any]) -> str:
    """SHA-256 of the previous hash and the entry's fields (canonical JSON, times in ISO)."""
    canonical = orjson.dumps({k: values[k] for k in FIELDS}, default=str,
                             option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(prev_hash.encode() + canonical).hexdigest()


def record(conn: Connection, viewer: Viewer, action: str, record_kind: str, record_id: str,
           *, detail: Any = None, reason: str | None = None,
           at: datetime | None = None) -> str:
    """Append one entry in the caller's transaction; returns its hash."""
    if action not in ACTIONS:
        raise ValueError(f"action inconnue : {action}")
    serialise(conn, "consultation_log")
    last = fetch(conn, "SELECT hash FROM consultation_log ORDER BY id DESC LIMIT 1", ())
    prev = last[0][0] if last else GENESIS
    values: dict[str, Any] = {
        "at": (at or utc_now()).replace(microsecond=0), "login": viewer.login,
        "unit": viewer.unit, "action": action, "record_kind": record_kind,
        "record_id": record_id,
        "detail": None if detail is None else orjson.dumps(detail, default=str,
                                                           option=orjson.OPT_SORT_KEYS).decode(),
        "reason": reason}
    digest = entry_hash(prev, {**values, "at": values["at"].isoformat()})
    marks = ", ".join([mark(conn)] * (len(FIELDS) + 2))
    conn.exec_driver_sql(
        f"INSERT INTO consultation_log ({', '.join(FIELDS)}, prev_hash, hash) VALUES ({marks})",
        (*[values[k] for k in FIELDS], prev, digest))
    return digest


@dataclass(frozen=True)
class Filters:
    """What the auditor looks for; None is any. Times are UTC, ``until`` excluded."""

    login: str | None = None
    unit: str | None = None
    action: str | None = None
    record_kind: str | None = None
    record_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    with_reason: bool = False


def _where(conn: Connection, filters: Filters) -> tuple[str, tuple[Any, ...]]:
    where: list[str] = []
    params: list[Any] = []
    for column, value in (("login", filters.login), ("unit", filters.unit),
                          ("action", filters.action), ("record_kind", filters.record_kind),
                          ("record_id", filters.record_id)):
        if value is not None:
            where.append(f"{column} = {mark(conn)}")
            params.append(value)
    if filters.since is not None:
        where.append(f"at >= {mark(conn)}")
        params.append(filters.since.replace(tzinfo=None))
    if filters.until is not None:
        where.append(f"at < {mark(conn)}")
        params.append(filters.until.replace(tzinfo=None))
    if filters.with_reason:
        where.append("reason IS NOT NULL")
    return (" WHERE " + " AND ".join(where) if where else ""), tuple(params)


def _entry(row: Any) -> Entry:
    at = row[1] if isinstance(row[1], datetime) else datetime.fromisoformat(str(row[1]))
    return Entry(int(row[0]), at, *row[2:])


def entries(conn: Connection, *, login: str | None = None, record_kind: str | None = None,
            record_id: str | None = None, filters: Filters | None = None) -> Iterator[Entry]:
    """Entries in order, optionally for one user or one record (or any ``filters``)."""
    filters = filters or Filters(login=login, record_kind=record_kind, record_id=record_id)
    where, params = _where(conn, filters)
    sql = (f"SELECT id, {', '.join(FIELDS)}, prev_hash, hash FROM consultation_log{where} "
           "ORDER BY id")
    for row in fetch(conn, sql, params):
        yield _entry(row)


def latest(conn: Connection, filters: Filters, *, limit: int,
           before_id: int | None = None) -> tuple[list[Entry], int]:
    """The ``limit`` latest entries matching ``filters`` (older than ``before_id`` when
    paging back), newest first, and how many match in all."""
    where, params = _where(conn, filters)
    count = int(fetch(conn, f"SELECT COUNT(*) FROM consultation_log{where}", params)[0][0])
    if before_id is not None:
        where += (" AND " if where else " WHERE ") + f"id < {mark(conn)}"
        params = (*params, before_id)
    rows = fetch(conn, f"SELECT id, {', '.join(FIELDS)}, prev_hash, hash FROM consultation_log"
                 f"{where} ORDER BY id DESC LIMIT {int(limit)}", params)
    return [_entry(r) for r in rows], count


def csv_row(e: Entry) -> list[Any]:
    """An entry as a row of the CSV export (after ``id``, the FIELDS, then the hashes)."""
    return [e.id, e.at.isoformat(), e.login, e.unit, e.action, e.record_kind, e.record_id,
            e.detail or "", e.reason or "", e.prev_hash, e.hash]


@dataclass(frozen=True)
class Verification:
    entries: int
    broken_at: int | None  # the first entry whose hash does not follow, or None
    reason: str | None


def verify(conn: Connection) -> Verification:
    """Recompute the chain from the start; the first entry that does not follow is named."""
    prev = GENESIS
    count = 0
    for entry in entries(conn):
        count += 1
        if entry.prev_hash != prev:
            return Verification(count, entry.id, "le chaînage ne suit pas l'entrée précédente")
        values = {k: getattr(entry, k) for k in FIELDS}
        values["at"] = entry.at.replace(microsecond=0).isoformat()
        if entry_hash(prev, values) != entry.hash:
            return Verification(count, entry.id, "le contenu ne correspond pas à son empreinte")
        prev = entry.hash
    return Verification(count, None, None)
