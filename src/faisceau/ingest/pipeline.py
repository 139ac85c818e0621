"""Bulk ingestion of collected ads: one transaction per chunk of lines.

Each chunk is read, checked and compared with the store in a handful of set-based queries;
only the versions never seen before are normalised (in worker processes when there are
many). A sighting is keyed by (ad, moment seen), so a chunk re-read after a crash, or a file
ingested twice, adds nothing: the store is always the result of whole chunks.

Bad data never costs good data. A bad line is set aside in the quarantine (``records``); a
record a normaliser fails on, or the store refuses, is set aside with the reason and the rest
of its chunk goes in; a file that cannot be read, or only in part, is an entry of its own in
the quarantine (line 0) and the run goes on with the next file. Reading the file again once
it is fixed finishes the job, with nothing doubled.

Normalisation workers die with the process that forked them: they inherit its descriptors,
its PostgreSQL connection holding the ingest lock among them, and must never keep it open
after a ``kill -9`` of their parent (``lock``).
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import DataError

from faisceau.ingest import fulltext
from faisceau.ingest.lock import ingest_lock
from faisceau.ingest.quarantine import clear_file_problems, note_file_problem, open_entries
from faisceau.ingest.records import (
    FileList,
    FileReader,
    Record,
    RecordChecker,
    Rejection,
    absolute,
    file_size,
    find_files,
    line_hash,
    path_text,
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
# What the store keeps of an image's SHA-256 given by the collector (the column's width).
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
# prctl(2): ask the kernel for a signal when the parent dies (Linux).
_PR_SET_PDEATHSIG = 1


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
    # Paths not read, or read only in part, and why.
    unread: list[tuple[str, str]] = field(default_factory=list)

    def add(self, other: Summary) -> None:
        for name in ("read", "new_ads", "new_versions", "repeat_sightings", "already_ingested",
                     "set_aside", "resolved"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.rejections.extend(other.rejections)
        self.unread.extend(other.unread)


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


class _RecordsFailed(Exception):
    """Lines of a chunk that cannot go in (line number to reason): the chunk is ingested
    again without them."""

    def __init__(self, reasons: dict[int, str]) -> None:
        super().__init__(f"{len(reasons)} records failed")
        self.reasons = reasons


def _batched(iterable: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while batch := list(islice(iterable, size)):
        yield batch


def _normalise_job(job: tuple[dict[str, Any], str | None, bool]) -> NormalisedAd | str:
    """The ad normalised, or why it could not be (a normaliser's bug must cost one ad, not
    the run)."""
    content, base_dir, images = job
    try:
        return normalise_ad(content, Path(base_dir) if base_dir else None, images=images)
    except Exception as exc:  # any failure: the ad is set aside with it
        return f"normalisation failed: {type(exc).__name__}: {exc}"


def _parent_death_signal() -> bool:
    """Ask the kernel to SIGKILL this process when its parent dies; False where it cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)) == 0
    except (OSError, AttributeError):  # not Linux
        return False


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _die_with_parent(parent: int) -> None:
    """First thing a normalisation worker does: make sure it cannot outlive ``parent``."""
    if not _parent_death_signal():
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


def _store_refusals(store: Store) -> tuple[type[Exception], ...]:
    """What the store raises for a value it refuses (PEP 249's DataError, through
    SQLAlchemy or straight from the driver, which the bulk statements use)."""
    return (DataError, store.engine.dialect.dbapi.DataError)  # type: ignore[union-attr]


def _first_line(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]


class Ingestor:
    """Ingests files into a store. Use as a context manager: it holds the ingest lock."""

    def __init__(self, store: Store, *, images: bool = True, workers: int | None = None,
                 chunk_lines: int = CHUNK_LINES, lock_timeout: float | None = None) -> None:
        self.store = store
        self.images = images
        self.checker = RecordChecker()
        self.chunk_lines = chunk_lines
        self.workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
        self.lock_timeout = lock_timeout
        self._pool: Executor | None = None
        self._refusals = _store_refusals(store)

    @contextmanager
    def session(self) -> Iterator[Ingestor]:
        with ingest_lock(self.store, timeout=self.lock_timeout):
            try:
                yield self
            finally:
                if self._pool is not None:
                    self._pool.shutdown(cancel_futures=True)
                    self._pool = None

    def _normalise(self, jobs: list[tuple[dict[str, Any], str | None, bool]]
                   ) -> list[NormalisedAd | str]:
        if self.workers > 1 and len(jobs) >= PARALLEL_MIN_VERSIONS:
            if self._pool is None:
                # fork after warming up: workers inherit the loaded reference data.
                warm_up()
                gc.freeze()  # keep inherited objects out of the collector: fewer copied pages
                self._pool = ProcessPoolExecutor(
                    self.workers, mp_context=multiprocessing.get_context("fork"),
                    initializer=_die_with_parent, initargs=(os.getpid(),))
            return list(self._pool.map(_normalise_job, jobs, chunksize=64))
        return [_normalise_job(job) for job in jobs]

    def ingest_paths(self, paths: Sequence[Path],
                     progress: Callable[[int], None] | None = None, *,
                     strict: bool = True) -> Summary:
        """Files and directories (``records.find_files``; ``strict``: a path given that
        cannot be read raises ``UnreadablePath``, else it is reported like the others)."""
        return self.ingest_found(find_files(paths, strict=strict), progress)

    def ingest_found(self, found: FileList,
                     progress: Callable[[int], None] | None = None) -> Summary:
        """What ``find_files`` found: its paths not read go to the quarantine, then its
        files are ingested in order."""
        total = Summary(files=len(found.files))
        with self.store.begin() as conn:
            clear_file_problems(conn, [path_text(absolute(d)) for d in found.listed])
            for problem in found.unread:
                text = path_text(absolute(problem.path))
                self._register_path(conn, text)
                note_file_problem(conn, text, problem)
                total.unread.append((text, problem.reason))
        total.add(self.ingest_files(found.files, progress))
        return total

    def ingest_files(self, files: Sequence[Path],
                     progress: Callable[[int], None] | None = None) -> Summary:
        """Files already found, in the given order."""
        total = Summary(files=len(files))
        for path in files:
            total.add(self.ingest_file(path, progress))
        return total

    def ingest_file(self, path: Path, progress: Callable[[int], None] | None = None) -> Summary:
        """One file, chunk by chunk. If it cannot be read to its end, the lines read count
        and the problem is set aside as the file's line 0."""
        path = absolute(path)
        text = path_text(path)
        with self.store.begin() as conn:
            file_id = self._register_path(conn, text)
        summary = Summary()
        open_quarantine = self._open_quarantine(text)
        reader = FileReader(path, self.checker.limits)
        done = 0
        for chunk in _batched(reader.lines(), self.chunk_lines):
            summary.add(self._ingest_chunk(path, file_id, chunk, open_quarantine))
            if progress:
                progress(reader.position - done)
                done = reader.position
        if progress:
            progress(max(file_size(path) - done, 0))
        with self.store.begin() as conn:
            conn.execute(update(ingest_file).where(ingest_file.c.id == file_id)
                         .values(last_ingested_at=bulk.utc_now(), lines=summary.read))
            if reader.problem is None:
                clear_file_problems(conn, [text])
            else:
                note_file_problem(conn, text, reader.problem)
                summary.unread.append((text, reader.problem.reason))
        return summary

    @staticmethod
    def _register_path(conn: Connection, text: str) -> int:
        """The id of a path in ``ingest_file`` (every path ingestion read or tried to:
        ``quarantine retry`` reads again those with open entries)."""
        file_id = conn.execute(select(ingest_file.c.id).where(ingest_file.c.path == text)
                               ).scalar()
        if file_id is None:
            now = bulk.utc_now()
            file_id = conn.execute(insert(ingest_file).values(
                path=text, first_ingested_at=now, last_ingested_at=now, lines=0
            ).returning(ingest_file.c.id)).scalar_one()
        return int(file_id)

    def _open_quarantine(self, text: str) -> dict[int, list[int]]:
        with self.store.begin() as conn:
            rows = conn.execute(select(quarantine.c.id, quarantine.c.line).where(
                quarantine.c.path == text, quarantine.c.resolved_at.is_(None),
                quarantine.c.line > 0))
            entries: dict[int, list[int]] = {}
            for qid, line in rows:
                entries.setdefault(line, []).append(qid)
        return entries

    def _ingest_chunk(self, path: Path, file_id: int, chunk: list[tuple[int, bytes | None]],
                      open_quarantine: dict[int, list[int]]) -> Summary:
        """One chunk in one transaction. Lines that cannot go in are set aside and the rest
        goes in: those a normaliser failed on at once, those the store refuses found by
        halving the chunk (the store does not say which row it refused)."""
        try:
            return self._ingest_lines(path, file_id, chunk, open_quarantine)
        except _RecordsFailed as failed:
            rest = [item for item in chunk if item[0] not in failed.reasons]
            summary = self._refuse(path, [item for item in chunk if item[0] in failed.reasons],
                                   failed.reasons)
        except self._refusals as exc:
            if len(chunk) == 1:
                return self._refuse(path, chunk, {chunk[0][0]: "refused by the store: "
                                                               + _first_line(exc)})
            half = len(chunk) // 2
            summary = self._ingest_chunk(path, file_id, chunk[:half], open_quarantine)
            rest = chunk[half:]
        if rest:
            summary.add(self._ingest_chunk(path, file_id, rest, open_quarantine))
        return summary

    def _refuse(self, path: Path, lines: list[tuple[int, bytes | None]],
                reasons: dict[int, str]) -> Summary:
        """Set these lines aside with their reasons, in a transaction of their own."""
        rejections = [Rejection(number, reasons[number],
                                raw.decode("utf-8", "backslashreplace").rstrip("\r\n")
                                if raw is not None else "") for number, raw in lines]
        hashes = {number: line_hash(raw) for number, raw in lines if raw is not None}
        with self.store.begin() as conn:
            set_aside = self._set_aside(conn, path_text(path), rejections, hashes)
        return Summary(read=len(lines), set_aside=set_aside,
                       rejections=[(path_text(path), r.line, r.reason) for r in rejections])

    def _ingest_lines(self, path: Path, file_id: int, chunk: list[tuple[int, bytes | None]],
                      open_quarantine: dict[int, list[int]]) -> Summary:
        summary = Summary()
        text = path_text(path)
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
                summary.set_aside = self._set_aside(conn, text, rejections, hashes)
                summary.rejections = [(text, r.line, r.reason) for r in rejections]
            if records:
                self._store_records(conn, path, file_id, records, hashes, summary)
                fulltext.index_new(conn)  # in the chunk's transaction: the index follows it
            fixed = [qid for r in records for qid in open_quarantine.get(r.line, [])]
            if fixed:
                conn.execute(update(quarantine).where(quarantine.c.id.in_(fixed)).values(
                    resolved_at=bulk.utc_now(), resolution="re-ingested"))
                summary.resolved = len(fixed)
        for r in records:  # only once committed: a chunk retried must resolve them again
            open_quarantine.pop(r.line, None)
        return summary

    @staticmethod
    def _set_aside(conn: Connection, text: str, rejections: list[Rejection],
                   hashes: dict[int, str]) -> int:
        open_entries(conn, text, [
            {"line": r.line, "line_hash": hashes.get(r.line, "oversized"), "reason": r.reason,
             "raw": r.raw} for r in rejections])
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

        fresh = list(new_versions.values())
        normalised = self._normalise([(v.record.content, str(path.parent), self.images)
                                      for v in fresh])
        failed = {id(v): norm for v, norm in zip(fresh, normalised, strict=True)
                  if isinstance(norm, str)}
        if failed:
            # Every line of a failed version goes: the chunk is ingested again without them.
            raise _RecordsFailed({rec.line: failed[id(ver)] for _st, rec, ver in new_sightings
                                  if id(ver) in failed})
        self._insert_ads(conn, ads)
        self._insert_versions(conn, file_id, fresh,
                              [n for n in normalised if isinstance(n, NormalisedAd)])
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

    def _insert_versions(self, conn: Connection, file_id: int, fresh: list[_NewVersion],
                         normalised: list[NormalisedAd]) -> None:
        if not fresh:
            return
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
                    hashes.sha256 if hashes and hashes.sha256 else _given_sha256(item),
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


def _given_sha256(item: dict[str, Any]) -> str | None:
    """The collector's SHA-256 of an image, if it is one (64 hex digits); anything else
    stays in the record only."""
    given = item.get("sha256")
    return given.lower() if isinstance(given, str) and _SHA256.fullmatch(given) else None


def store_counts(conn: Connection) -> dict[str, int]:
    """Row counts of the main tables, for summaries and tests."""
    tables = {"ads": ad, "versions": ad_version, "sightings": sighting, "values": ad_value,
              "images": ad_image}
    counts = {name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
              for name, t in tables.items()}
    counts["quarantined"] = int(conn.execute(select(func.count()).select_from(quarantine).where(
        quarantine.c.resolved_at.is_(None))).scalar_one())
    return counts
