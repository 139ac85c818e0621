"""The quarantine: lines set aside at ingestion, listed, retried once fixed, or dismissed.

An entry is resolved when its line ingests cleanly (the file was fixed and ingested again,
or ``retry`` re-read it), or dismissed by a person with a reason. Entries are never deleted.
An entry of line 0 is about the whole path: a file not read or read only in part (truncated,
not gzip, unreadable), a directory that could not be listed; it is resolved when the path is
read in full. Case-file imports share the table (``intel.casefiles``); ``retry`` only reads
again the paths ingestion of ads registered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, select, update

from faisceau.ingest.records import absolute, path_from_text, path_text
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
