"""The quarantine: lines set aside at ingestion, listed, retried once fixed, or dismissed.

An entry is resolved when its line ingests cleanly (the file was fixed and ingested again,
or ``retry`` re-read it), or dismissed by a person with a reason. Entries are never deleted.
An entry of line 0 is about the whole path: a file not read or read only in part (truncated,
not gzip, unreadable), a directory that could not be listed; it is resolved when the path is
read in full. Case-file imports share the table (``intel.casefiles``) and this module's
writer (``open_entries``, ``note_file_problem``, ``clear_file_problems``): an entry's path is
``records.path_text`` of the absolute path, its reason and raw text are kept with control
characters escaped, whoever wrote it. ``retry`` only reads again the paths ingestion of ads
registered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select, tuple_, update

from faisceau.ingest.records import (
    FileProblem,
    absolute,
    escaped_controls,
    path_from_text,
    path_text,
)
from faisceau.store.bulk import utc_now
from faisceau.store.schema import ingest_file, quarantine


@dataclass(frozen=True)
class Entry:
    id: int
    path: str
    line: int
    reason: str
    raw: str
    set_aside_at: datetime
    resolved_at: datetime | None
    resolution: str | None


def list_entries(conn: Connection, *, include_resolved: bool = False,
                 path: str | None = None, limit: int | None = None) -> list[Entry]:
    query = select(quarantine).order_by(quarantine.c.path, quarantine.c.line, quarantine.c.id)
    if not include_resolved:
        query = query.where(quarantine.c.resolved_at.is_(None))
    if path:
        query = query.where(quarantine.c.path == path_text(absolute(Path(path))))
    if limit:
        query = query.limit(limit)
    return [Entry(r.id, r.path, r.line, r.reason, r.raw, r.set_aside_at, r.resolved_at,
                  r.resolution) for r in conn.execute(query)]


def get_entry(conn: Connection, entry_id: int) -> Entry | None:
    rows = conn.execute(select(quarantine).where(quarantine.c.id == entry_id)).all()
    if not rows:
        return None
    r = rows[0]
    return Entry(r.id, r.path, r.line, r.reason, r.raw, r.set_aside_at, r.resolved_at,
                 r.resolution)


def files_to_retry(conn: Connection) -> list[Path]:
    """Paths of ads (files, or directories that could not be listed) with open entries
    that still exist, to be ingested again."""
    rows = conn.execute(
        select(quarantine.c.path).where(quarantine.c.resolved_at.is_(None),
                                        quarantine.c.path.in_(select(ingest_file.c.path)))
        .distinct().order_by(quarantine.c.path))
    paths = [path_from_text(p) for (p,) in rows]
    return [p for p in paths if p.is_file() or p.is_dir()]


def dismiss(conn: Connection, entry_ids: Sequence[int], reason: str) -> int:
    now = datetime.now(UTC).replace(tzinfo=None)
    result = conn.execute(update(quarantine).where(
        quarantine.c.id.in_(list(entry_ids)), quarantine.c.resolved_at.is_(None)
    ).values(resolved_at=now, resolution=f"dismissed: {reason}"))
    return int(result.rowcount or 0)


# -- the writer (ads and case files) ---------------------------------------------------------

def open_entries(conn: Connection, text: str, entries: list[dict[str, Any]]) -> None:
    """Quarantine entries of the path ``text`` (line, line_hash, reason, raw): new ones are
    added, those already there stay as they are, except those resolved by a re-read, which
    are open again (the line, or the file, is bad again). Reason and raw are stored with
    their control characters escaped (``records.escaped_controls``): no NUL, which
    PostgreSQL refuses, and no escape sequence for a terminal that prints them."""
    if not entries:
        return
    keys = list(dict.fromkeys((e["line"], e["line_hash"]) for e in entries))
    known: dict[tuple[int, str], str | None] = {}
    for start in range(0, len(keys), 500):  # bound the statement's parameters
        known.update({(line, digest): resolution for line, digest, resolution in conn.execute(
            select(quarantine.c.line, quarantine.c.line_hash, quarantine.c.resolution).where(
                quarantine.c.path == text,
                tuple_(quarantine.c.line, quarantine.c.line_hash).in_(keys[start:start + 500])))})
    reopened = [key for key, resolution in known.items() if resolution == "re-ingested"]
    for line, digest in reopened:
        conn.execute(update(quarantine).where(
            quarantine.c.path == text, quarantine.c.line == line,
            quarantine.c.line_hash == digest).values(resolved_at=None, resolution=None))
    now = utc_now()
    fresh = {(e["line"], e["line_hash"]): {
        "line": e["line"], "line_hash": e["line_hash"], "path": text, "set_aside_at": now,
        "reason": escaped_controls(e["reason"]), "raw": escaped_controls(e["raw"])}
        for e in entries if (e["line"], e["line_hash"]) not in known}
    if fresh:
        conn.execute(insert(quarantine), list(fresh.values()))


def note_file_problem(conn: Connection, text: str, problem: FileProblem) -> None:
    """The file-level entry (line 0) of the path ``text`` for ``problem``; the path's
    earlier ones, which it replaces, are resolved."""
    digest = hashlib.blake2b(problem.reason.encode(), digest_size=8).hexdigest()
    conn.execute(update(quarantine).where(
        quarantine.c.path == text, quarantine.c.line == 0,
        quarantine.c.line_hash != digest, quarantine.c.resolved_at.is_(None),
    ).values(resolved_at=utc_now(), resolution="re-ingested"))
    open_entries(conn, text, [{"line": 0, "line_hash": digest, "reason": problem.reason,
                               "raw": ""}])


def clear_file_problems(conn: Connection, texts: list[str]) -> None:
    """Paths read (or listed) in full: their file-level entries are resolved."""
    if not texts:
        return
    wanted = set(texts)
    open_ids = [qid for qid, path in conn.execute(
        select(quarantine.c.id, quarantine.c.path).where(
            quarantine.c.line == 0, quarantine.c.resolved_at.is_(None)))
        if path in wanted]
    if open_ids:
        conn.execute(update(quarantine).where(quarantine.c.id.in_(open_ids)).values(
            resolved_at=utc_now(), resolution="re-ingested"))
