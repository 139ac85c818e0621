"""Bulk ingestion of collected ads: one transaction per chunk of lines.

Each chunk is read, checked and compared with the store in a handful of set-based queries;
only the versions never seen before are normalised (in worker processes when there are
many). A sighting is keyed by (ad, moment seen), so a chunk re-read after a crash, or a file
ingested twice, adds nothing: the store is always the result of whole chunks.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, func, insert, select, tuple_, update

from faisceau.ingest import fulltext
from faisceau.ingest.lock import ingest_lock
from faisceau.ingest.records import (
    Record,
    RecordChecker,
    Rejection,
    expand_paths,
    line_hash,
    open_lines,
    read_lines,
)
from faisceau.normalise.ad import NormalisedAd, normalise_ad, warm_up
from faisceau.store import Store, bulk
from faisceau.store.schema import (
    ad,
    ad_image,
    ad_value,
    ad_version,
    ingest_file,
    quarantine,
    sighting,
)

CHUNK_LINES = 5_000
AD_COLUMNS = ("id", "source", "ad_id", "first_seen", "last_seen", "sightings", "versions")
VERSION_COLUMNS = ("id", "ad_pk", "version_no", "content_hash", "first_seen", "last_seen",
                   "sightings", "file_id", "line", "record", "title", "text", "name", "age",
                   "language", "commune", "departement", "region")
SIGHTING_COLUMNS = ("ad_pk", "seen_at", "version_id", "file_id", "line", "line_hash")
VALUE_COLUMNS = ("version_id", "kind", "value", "shown", "field", "detail")
IMAGE_COLUMNS = ("version_id", "position", "path", "url", "sha256", "phash", "dhash", "width",
                 "height", "error")
# Below this many new versions in a chunk, worker processes cost more than they save.
PARALLEL_MIN_VERSIONS = 400


@dataclass
class Summary:
    """What a run of ingest did; every count is of lines (sightings)."""

    files: int = 0
    read: int = 0
    new_ads: int = 0
    new_versions: int = 0
    repeat_sightings: int = 0
    already_ingested: int = 0
    set_aside: int = 0
    resolved: int = 0
    rejections: list[tuple[str, int, str]] = field(default_factory=list)

    def add(self, other: Summary) -> None:
        for name in ("read", "new_ads", "new_versions", "repeat_sightings", "already_ingested",
                     "set_aside", "resolved"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.rejections.extend(other.rejections)


@dataclass(slots=True)
class _AdState:
    pk: int | None
    first_seen: datetime
    last_seen: datetime
    sightings: int
    versions: int
    current_version: Any  # int pk, or a _NewVersion until inserted
    changed: bool = False


@dataclass(slots=True)
class _NewVersion:
    ad: _AdState
    record: Record
    version_no: int
    first_seen: datetime
    last_seen: datetime
    sightings: int = 1
    pk: int | None = None


@dataclass(slots=True)
class _VersionState:
    pk: int
    first_seen: datetime
    last_seen: datetime
    sightings: int
    changed: bool = False



def _batched(iterable: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while batch := list(islice(iterable, size)):
        yield batch


def _normalise_job(job: tuple[dict[str, Any], str | None, bool]) -> NormalisedAd:
    content, base_dir, images = job
    return normalise_ad(content, Path(base_dir) if base_dir else None, images=images)


class Ingestor:
    """Ingests files into a store. Use as a context manager: it holds the ingest lock."""

    def __init__(self, store: Store, *, images: bool = True, workers: int | None = None,
                 chunk_lines: int = CHUNK_LINES) -> None:
        self.store = store
        self.images = images
        self.checker = RecordChecker()
        self.chunk_lines = chunk_lines
        self.workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
        self._pool: Executor | None = None

    @contextmanager
    def session(self) -> Iterator[Ingestor]:
        with ingest_lock(self.store):
            try:
                yield self
            finally:
                if self._pool is not None:
                    self._pool.shutdown(cancel_futures=True)
                    self._pool = None

    def _normalise(self, jobs: list[tuple[dict[str, Any], str | None, bool]]) -> list[NormalisedAd]:
        if self.workers > 1 and len(jobs) >= PARALLEL_MIN_VERSIONS:
            if self._pool is None:
                # fork after warming up: workers inherit the loaded reference data.
                warm_up()
                gc.freeze()  # keep inherited objects out of the collector: fewer copied pages
                self._pool = ProcessPoolExecutor(self.workers,
                                                 mp_context=multiprocessing.get_context("fork"))
            return list(self._pool.map(_normalise_job, jobs, chunksize=64))
        return [_normalise_job(job) for job in jobs]

    def ingest_paths(self, paths: Sequence[Path],
                     progress: Callable[[int], None] | None = None) -> Summary:
        """Files and directories, expanded with ``expand_paths``."""
        return self.ingest_files(expand_paths(paths), progress)

    def ingest_files(self, files: Sequence[Path],
                     progress: Callable[[int], None] | None = None) -> Summary:
        """Files already expanded, in the given order."""
        total = Summary(files=len(files))
        for path in files:
            total.add(self.ingest_file(path, progress))
        return total

    def ingest_file(self, path: Path, progress: Callable[[int], None] | None = None) -> Summary:
        path = path.resolve()
        file_id = self._register_file(path)
        summary = Summary()
        open_quarantine = self._open_quarantine(path)
        with open(path, "rb") as disk, open_lines(path, disk) as stream:
            lines = read_lines(stream, self.checker.limits.max_line_bytes)
            done = 0
            for chunk in _batched(lines, self.chunk_lines):
                part = self._ingest_chunk(path, file_id, chunk, open_quarantine)
                summary.add(part)
                if progress:
                    position = disk.tell()
                    progress(position - done)
                    done = position
        with self.store.begin() as conn:
            conn.execute(update(ingest_file).where(ingest_file.c.id == file_id)
                         .values(last_ingested_at=bulk.utc_now(), lines=summary.read))
        return summary

    def _register_file(self, path: Path) -> int:
        with self.store.begin() as conn:
            found = conn.execute(select(ingest_file.c.id).where(ingest_file.c.path == str(path)))
            file_id = found.scalar()
            if file_id is None:
                now = bulk.utc_now()
                file_id = conn.execute(insert(ingest_file).values(
                    path=str(path), first_ingested_at=now, last_ingested_at=now, lines=0
                ).returning(ingest_file.c.id)).scalar_one()
        return int(file_id)

    def _open_quarantine(self, path: Path) -> dict[int, list[int]]:
        with self.store.begin() as conn:
            rows = conn.execute(select(quarantine.c.id, quarantine.c.line).where(
                quarantine.c.path == str(path), quarantine.c.resolved_at.is_(None)))
            entries: dict[int, list[int]] = {}
            for qid, line in rows:
                entries.setdefault(line, []).append(qid)
        return entries

    def _ingest_chunk(self, path: Path, file_id: int, chunk: list[tuple[int, bytes | None]],
                      open_quarantine: dict[int, list[int]]) -> Summary:
        summary = Summary()
        hashes = {number: line_hash(raw) for number, raw in chunk if raw is not None}
        with self.store.begin() as conn:
            known = bulk.line_hashes(conn, file_id, chunk[0][0], chunk[-1][0])
            records: list[Record] = []
            rejections: list[Rejection] = []
            for number, raw in chunk:
                if raw is not None and known.get(number) == hashes[number]:
                    summary.read += 1
                    summary.already_ingested += 1
                    continue
                checked = self.checker.check(number, raw)
                if checked is None:
                    continue
                summary.read += 1
                if isinstance(checked, Rejection):
                    rejections.append(checked)
                else:
                    records.append(checked)
            if rejections:
                summary.set_aside = self._set_aside(conn, path, rejections, hashes)
                summary.rejections = [(str(path), r.line, r.reason) for r in rejections]
            if records:
                self._store_records(conn, path, file_id, records, hashes, summary)
                fulltext.index_new(conn)  # in the chunk's transaction: the index follows it
            fixed = [qid for r in records for qid in open_quarantine.pop(r.line, [])]
            if fixed:
                conn.execute(update(quarantine).where(quarantine.c.id.in_(fixed)).values(
                    resolved_at=bulk.utc_now(), resolution="re-ingested"))
                summary.resolved = len(fixed)
        return summary

    def _set_aside(self, conn: Connection, path: Path, rejections: list[Rejection],
                   hashes: dict[int, str]) -> int:
        now = bulk.utc_now()
        rows = [{"path": str(path), "line": r.line, "line_hash": hashes.get(r.line, "oversized"),
                 "reason": r.reason, "raw": r.raw, "set_aside_at": now} for r in rejections]
        keys = [(r["line"], r["line_hash"]) for r in rows]
        known = set(conn.execute(
            select(quarantine.c.line, quarantine.c.line_hash).where(
                quarantine.c.path == str(path),
                tuple_(quarantine.c.line, quarantine.c.line_hash).in_(keys))).all())
        fresh = [r for r in rows if (r["line"], r["line_hash"]) not in known]
        if fresh:
            conn.execute(insert(quarantine), fresh)
        return len(rejections)

    def _store_records(self, conn: Connection, path: Path, file_id: int, records: list[Record],
                       hashes: dict[int, str], summary: Summary) -> None:
        ads = self._load_ads(conn, records)
        known_pks = [s.pk for s in ads.values() if s.pk is not None]
        versions = self._load_versions(conn, known_pks)
        seen = self._load_sightings(conn, known_pks, records)

        new_versions: dict[tuple[tuple[str, str], str], _NewVersion] = {}
        new_sightings: list[tuple[_AdState, Record, Any]] = []
        for rec in records:
            key = (rec.source, rec.ad_id)
            state = ads.get(key)
            if state is None:
                state = _AdState(None, rec.seen_at, rec.seen_at, 0, 0, None)
                ads[key] = state
                summary.new_ads += 1
            sighting_key = (state.pk if state.pk is not None else id(state), rec.seen_at)
            if sighting_key in seen:
                summary.already_ingested += 1
                continue
            seen.add(sighting_key)
            version: Any = versions.get((state.pk, rec.content_hash)) if state.pk else None
            if version is None:
                version = new_versions.get((key, rec.content_hash))
            if version is None:
                state.versions += 1
                version = _NewVersion(state, rec, state.versions, rec.seen_at, rec.seen_at)
                new_versions[(key, rec.content_hash)] = version
                if state.versions > 1:
                    summary.new_versions += 1
            else:
                version.sightings += 1
                version.first_seen = min(version.first_seen, rec.seen_at)
                version.last_seen = max(version.last_seen, rec.seen_at)
                if isinstance(version, _VersionState):
                    version.changed = True
                summary.repeat_sightings += 1
            if state.sightings == 0 or rec.seen_at >= state.last_seen:
                state.current_version = version
            state.first_seen = min(state.first_seen, rec.seen_at)
            state.last_seen = max(state.last_seen, rec.seen_at)
            state.sightings += 1
            state.changed = True
            new_sightings.append((state, rec, version))

        self._insert_ads(conn, ads)
        self._insert_versions(conn, path, file_id, list(new_versions.values()))
        bulk.insert_rows(conn, "sighting", SIGHTING_COLUMNS, [
            (st.pk, rec.seen_at, ver.pk, file_id, rec.line, hashes[rec.line])
            for st, rec, ver in new_sightings])
        self._update_aggregates(conn, ads, versions)

    def _load_ads(self, conn: Connection, records: list[Record]) -> dict[tuple[str, str], _AdState]:
        by_source: dict[str, set[str]] = {}
        for rec in records:
            by_source.setdefault(rec.source, set()).add(rec.ad_id)
        ads: dict[tuple[str, str], _AdState] = {}
        for source, ids in by_source.items():
            for pk, ad_id, first, last, count, nversions, current in bulk.ads_by_key(
                    conn, source, sorted(ids)):
                ads[(source, ad_id)] = _AdState(pk, bulk.as_datetime(first),
                                                bulk.as_datetime(last), count, nversions, current)
        return ads

    def _load_versions(self, conn: Connection, ad_pks: list[int]) -> dict[tuple[int, str], Any]:
        if not ad_pks:
            return {}
        return {(ad_pk, chash): _VersionState(pk, bulk.as_datetime(first), bulk.as_datetime(last),
                                               count)
                for pk, ad_pk, chash, first, last, count in bulk.versions_of(conn, ad_pks)}

    def _load_sightings(self, conn: Connection, ad_pks: list[int],
                        records: list[Record]) -> set[tuple[Any, datetime]]:
        if not ad_pks:
            return set()
        low = min(r.seen_at for r in records)
        high = max(r.seen_at for r in records)
        return {(pk, bulk.as_datetime(seen_at))
                for pk, seen_at in bulk.sightings_of(conn, ad_pks, low, high)}

    def _insert_ads(self, conn: Connection, ads: dict[tuple[str, str], _AdState]) -> None:
        # Inserted without aggregates: _update_aggregates writes them once versions have ids.
        fresh = [(key, st) for key, st in ads.items() if st.pk is None]
        for (_key, st), pk in zip(fresh, bulk.allocate_ids(conn, "ad", len(fresh)), strict=True):
            st.pk = pk
        bulk.insert_rows(conn, "ad", AD_COLUMNS, [
            (st.pk, key[0], key[1], st.first_seen, st.last_seen, 0, 0) for key, st in fresh])

    def _insert_versions(self, conn: Connection, path: Path, file_id: int,
                         fresh: list[_NewVersion]) -> None:
        if not fresh:
            return
        base = str(path.parent)
        normalised = self._normalise([(v.record.content, base, self.images) for v in fresh])
        for ver, pk in zip(fresh, bulk.allocate_ids(conn, "ad_version", len(fresh)), strict=True):
            ver.pk = pk
        rows, values, images = [], [], []
        for ver, norm in zip(fresh, normalised, strict=True):
            content = ver.record.content
            rows.append((
                ver.pk, ver.ad.pk, ver.version_no, ver.record.content_hash, ver.first_seen,
                ver.last_seen, ver.sightings, file_id, ver.record.line,
                ver.record.content_json.decode("utf-8"), _text(content.get("title")),
                _text(content.get("text")), _text(content.get("name")), norm.age, norm.language,
                norm.commune, norm.departement, norm.region,
            ))
            for v in norm.values:
                detail = orjson.dumps(v.found.detail).decode() if v.found.detail else None
                values.append((ver.pk, v.kind, v.found.value, v.found.shown, v.field, detail))
            for position, item, hashes in norm.images:
                images.append((
                    ver.pk, position, item.get("path"), item.get("url"),
                    hashes.sha256 if hashes and hashes.sha256 else item.get("sha256"),
                    hashes.phash if hashes else None, hashes.dhash if hashes else None,
                    hashes.width if hashes else None, hashes.height if hashes else None,
                    hashes.error if hashes else None,
                ))
        bulk.insert_rows(conn, "ad_version", VERSION_COLUMNS, rows)
        bulk.insert_rows(conn, "ad_value", VALUE_COLUMNS, values)
        bulk.insert_rows(conn, "ad_image", IMAGE_COLUMNS, images)

    def _update_aggregates(self, conn: Connection, ads: dict[tuple[str, str], _AdState],
                           versions: dict[tuple[int, str], Any]) -> None:
        bulk.update_rows(conn, "ad_version", "id", ("first_seen", "last_seen", "sightings"), [
            (v.first_seen, v.last_seen, v.sightings, v.pk)
            for v in versions.values() if v.changed])
        bulk.update_rows(
            conn, "ad", "id",
            ("first_seen", "last_seen", "sightings", "versions", "current_version_id"),
            [(st.first_seen, st.last_seen, st.sightings, st.versions,
              st.current_version if isinstance(st.current_version, int)
              else st.current_version.pk, st.pk)
             for st in ads.values() if st.changed])


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def store_counts(conn: Connection) -> dict[str, int]:
    """Row counts of the main tables, for summaries and tests."""
    tables = {"ads": ad, "versions": ad_version, "sightings": sighting, "values": ad_value,
              "images": ad_image}
    counts = {name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
              for name, t in tables.items()}
    counts["quarantined"] = int(conn.execute(select(func.count()).select_from(quarantine).where(
        quarantine.c.resolved_at.is_(None))).scalar_one())
    return counts
