"""The consultation log (Directive (EU) 2016/680, art. 25): who viewed, searched or exported
which personal data, when, and why for sensitive views (victims, minors).

Each entry's ``hash`` is SHA-256 of the previous entry's hash and the entry itself (its
fields as canonical JSON), starting from 64 zeros: changing, removing or inserting an entry
breaks every hash after it, which ``verify`` finds. The store also refuses UPDATE and
DELETE on the table (migration 0005). Entries are appended under a lock so that two writers
cannot both chain onto the same previous entry.

The chain alone cannot show its newest entries removed, nor a chain recomputed after rows
were deleted: once a transaction that appended has committed, its last entry is anchored
outside the database (``anchor``), and ``verify`` checks every signed checkpoint against the
table as well as the chain.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from faisceau.config import Settings
from faisceau.share import anchor
from faisceau.share.access import Viewer
from faisceau.store import Store
from faisceau.store.bulk import fetch, fetch_in, mark, serialise, utc_now
from faisceau.store.engine import after_commit, transaction_settings

log = logging.getLogger(__name__)

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
    if not last:
        _start_anchor(conn)
    values: dict[str, Any] = {
        "at": (at or utc_now()).replace(microsecond=0), "login": viewer.login,
        "unit": viewer.unit, "action": action, "record_kind": record_kind,
        "record_id": record_id,
        "detail": None if detail is None else orjson.dumps(detail, default=str,
                                                           option=orjson.OPT_SORT_KEYS).decode(),
        "reason": reason}
    digest = entry_hash(prev, {**values, "at": values["at"].isoformat()})
    marks = ", ".join([mark(conn)] * (len(FIELDS) + 2))
    entry_id = conn.exec_driver_sql(
        f"INSERT INTO consultation_log ({', '.join(FIELDS)}, prev_hash, hash) VALUES ({marks}) "
        "RETURNING id", (*[values[k] for k in FIELDS], prev, digest)).scalar_one()
    pending = after_commit(conn, "audit.anchor", _ToAnchor())
    if isinstance(pending, _ToAnchor):
        pending.add(int(entry_id), digest)
    return digest


def _start_anchor(conn: Connection) -> None:
    """The log's first entry: its anchor and key are created now, before the entry commits
    and under the log's lock, so that every writer after finds them (an existing key is
    kept: ``start_anchor`` never replaces one)."""
    settings = transaction_settings(conn)
    if settings is None:
        return
    paths = anchor.anchor_paths(settings)
    if paths.key.exists():
        return
    try:
        anchor.start_anchor(paths)
    except (anchor.AnchorError, OSError) as exc:
        log.error("journal des consultations : ancrage non créé : %s", exc)


@dataclass
class _ToAnchor:
    """What a transaction appended, to anchor once it has committed: its last entry, which
    covers those before it (one checkpoint per commit)."""

    entry_id: int = 0
    digest: str = ""

    def add(self, entry_id: int, digest: str) -> None:
        self.entry_id, self.digest = entry_id, digest

    def __call__(self, settings: Settings) -> None:
        """The entries stand whatever happens here: a checkpoint that cannot be written is
        reported (and ``verify`` shows the entries left unattested)."""
        try:
            anchor.append_checkpoint(anchor.anchor_paths(settings), self.entry_id,
                                     self.digest)
        except (anchor.AnchorError, OSError) as exc:
            log.error("journal des consultations : point d'ancrage de l'entrée %s non écrit "
                      ": %s", self.entry_id, exc)


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


# Entries read per statement: the log grows without bound, memory must not.
PAGE = 10_000


def entries(conn: Connection, *, login: str | None = None, record_kind: str | None = None,
            record_id: str | None = None, filters: Filters | None = None) -> Iterator[Entry]:
    """Entries in order, optionally for one user or one record (or any ``filters``), read a
    page at a time."""
    filters = filters or Filters(login=login, record_kind=record_kind, record_id=record_id)
    where, params = _where(conn, filters)
    where += (" AND " if where else " WHERE ") + f"id > {mark(conn)}"
    sql = (f"SELECT id, {', '.join(FIELDS)}, prev_hash, hash FROM consultation_log{where} "
           f"ORDER BY id LIMIT {PAGE}")
    after = 0
    while True:
        rows = fetch(conn, sql, (*params, after))
        for row in rows:
            yield _entry(row)
        if len(rows) < PAGE:
            return
        after = int(rows[-1][0])


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
class Anchoring:
    """What the anchor says: its signed checkpoints, the newest (the entry it attests and
    when), the entries after it not yet attested, and why truncation cannot be ruled out,
    if it cannot (no anchor, no key, a damaged or forged line)."""

    checkpoints: int
    anchored_to: int | None
    anchored_at: str | None
    unanchored: int
    problem: str | None


@dataclass(frozen=True)
class Verification:
    entries: int
    chained: bool  # each entry follows the one before, from the first
    broken_at: int | None  # the first entry altered, missing or rewritten, or None
    reason: str | None
    anchoring: Anchoring

    @property
    def intact(self) -> bool:
        """The chain follows and every checkpoint holds, and the anchor could be read."""
        return self.broken_at is None and self.anchoring.problem is None


NO_ANCHOR = "aucun point d'ancrage : la troncature ne peut pas être détectée"


def _verify_chain(conn: Connection) -> tuple[int, int | None, str | None]:
    """Recompute the chain from the start; the first entry that does not follow is named."""
    prev = GENESIS
    count = 0
    for entry in entries(conn):
        count += 1
        if entry.prev_hash != prev:
            return count, entry.id, "le chaînage ne suit pas l'entrée précédente"
        values = {k: getattr(entry, k) for k in FIELDS}
        values["at"] = entry.at.replace(microsecond=0).isoformat()
        if entry_hash(prev, values) != entry.hash:
            return count, entry.id, "le contenu ne correspond pas à son empreinte"
        prev = entry.hash
    return count, None, None


class _Checkpoints:
    """Compares batches of checkpoints with the table; keeps the lowest entry that fails."""

    def __init__(self, conn: Connection, last_id: int) -> None:
        self.conn = conn
        self.last_id = last_id
        self.failed: tuple[int, str] | None = None

    def check(self, batch: list[anchor.Checkpoint]) -> None:
        found = dict(fetch_in(self.conn, "SELECT id, hash FROM consultation_log", "id",
                              sorted({c.entry_id for c in batch})))
        for c in batch:
            held = found.get(c.entry_id)
            if held == c.entry_hash or (self.failed and self.failed[0] <= c.entry_id):
                continue
            signed = f"le point d'ancrage signé du {c.at} (ligne {c.line})"
            if held is not None:
                why = (f"son empreinte n'est plus celle qu'atteste {signed} : le journal a été "
                       "réécrit jusqu'à cette entrée")
            elif c.entry_id > self.last_id:
                why = (f"elle manque alors que {signed} l'atteste : le journal a été tronqué "
                       f"(il s'arrête à l'entrée n° {self.last_id})" if self.last_id else
                       f"elle manque alors que {signed} l'atteste : le journal a été vidé")
            else:
                why = f"elle manque alors que {signed} l'atteste : des entrées ont été supprimées"
            self.failed = (c.entry_id, why)


def verify(store: Store, *, public_key: Path | None = None) -> Verification:
    """Check the log: its chain from the first entry, then every signed checkpoint of its
    anchor against the table (an entry missing or with another hash is named), and count
    the entries after the newest checkpoint. ``public_key``: the auditor's pinned key, in
    place of ``FAISCEAU_AUDIT_PUBLIC_KEY`` or the signing key's own."""
    paths = anchor.anchor_paths(store.settings)
    if public_key is not None:
        paths = replace(paths, public_key=public_key)
    # Sized before the transaction's first read: each checkpoint was written once its entry
    # had committed, so the transaction sees every entry these attest, unless taken away.
    size = anchor.anchor_size(paths)
    with store.begin() as conn:
        count, broken_at, reason = _verify_chain(conn)
        last_id = int(fetch(conn, "SELECT COALESCE(MAX(id), 0) FROM consultation_log", ())[0][0])
        checkpoints = _Checkpoints(conn, last_id)
        state = anchor.read_anchor(paths, checkpoints.check, size=size)
        newest = state.newest
        unanchored = int(fetch(conn, "SELECT COUNT(*) FROM consultation_log WHERE id > "
                               f"{mark(conn)}", (newest.entry_id if newest else 0,))[0][0])
    problem = state.problem
    if problem is None and state.checkpoints == 0 and count > 0:
        problem = NO_ANCHOR
    chained = broken_at is None
    if checkpoints.failed and (broken_at is None or checkpoints.failed[0] < broken_at):
        broken_at, reason = checkpoints.failed
    return Verification(count, chained, broken_at, reason, Anchoring(
        state.checkpoints, newest.entry_id if newest else None,
        newest.at if newest else None, unanchored, problem))
