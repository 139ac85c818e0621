"""One writer at a time per store: ingest, detect and leads take turns, rather than
interleave their chunks.

The lock belongs to the process that took it and to no other, so that killing that process,
even with ``kill -9``, frees it:

- on the embedded store, a POSIX record lock (``lockf``) on ``FAISCEAU_HOME/ingest.lock``: a
  forked child does not inherit it (a ``flock`` lock, by contrast, belongs to the open file,
  which every forked normalisation worker shares: orphaned workers kept it for ever);
- on PostgreSQL, a session advisory lock. Forked workers inherit the connection's socket
  and would keep the session open; they die with their parent (``pipeline``), which closes it.

The PostgreSQL key is the store's own (its database and schema): stores sharing a server do
not wait for each other. A process that has to wait says so once, as a warning on the
``faisceau.ingest.lock`` logger (standard error in the command): which lock, held by which
process, since when; then it waits, for ever or ``timeout`` seconds (``LockTimeout``).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, text

from faisceau.store import Store

log = logging.getLogger(__name__)

# The first half of every faisceau advisory key ("fais"); the second half is the store's.
ADVISORY_CLASS = 0x66616973
# How often a waiter with a timeout tries again, in seconds.
POLL_SECONDS = 0.2
# A lockf lock is the process's: its threads take turns here first (and only the outermost
# holder touches the file, since closing any descriptor of it would drop the process's lock).
_threads: dict[str, threading.RLock] = {}
_held: dict[str, tuple[int, int]] = {}  # lock file -> (descriptor, depth)
_registry = threading.Lock()


class LockTimeout(RuntimeError):
    """The lock was not free within the time allowed; the message is one line for the user."""


def _holder_label() -> dict[str, Any]:
    return {"pid": os.getpid(), "host": socket.gethostname(),
            "since": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "command": " ".join(Path(a).name if i == 0 else a
                                for i, a in enumerate(sys.argv[:3]))}


def _describe_holder(holder: dict[str, Any] | None) -> str:
    if not holder:  # the holder has not written its name yet
        return "par un autre processus"
    who = f"par le processus {holder.get('pid', '?')}"
    if holder.get("host"):
        who += f" sur {holder['host']}"
    if holder.get("command"):
        who += f" ({holder['command']})"
    if holder.get("since"):
        who += f" depuis le {holder['since']}"
    return who


def _waiting(what: str, holder: str, timeout: float | None) -> None:
    then = ("la commande reprendra dès qu'il sera libéré" if timeout is None
            else f"abandon dans {timeout:g} s s'il ne l'est pas")
    log.warning("en attente du verrou d'écriture %s, tenu %s ; %s", what, holder, then)


def _give_up(what: str, timeout: float) -> LockTimeout:
    return LockTimeout(f"verrou d'écriture {what} toujours tenu après {timeout:g} s "
                       "(--lock-timeout) : rien n'a été écrit")


@contextmanager
def ingest_lock(store: Store, *, timeout: float | None = None) -> Iterator[None]:
    """Hold the store's writer lock; wait for it (saying so) if another process holds it."""
    if store.dialect == "sqlite":
        with _embedded_lock(store.settings.home / "ingest.lock", timeout):
            yield
    else:
        with _advisory_lock(store, timeout):
            yield


# --- Embedded store ---------------------------------------------------------------------------

@contextmanager
def _embedded_lock(path: Path, timeout: float | None) -> Iterator[None]:
    key = str(path)
    with _registry:
        thread_lock = _threads.setdefault(key, threading.RLock())
    if not thread_lock.acquire(timeout=-1 if timeout is None else timeout):
        raise _give_up(f"du stockage {path.parent}", timeout or 0)
    try:
        if key in _held:  # this thread holds it already
            fd, depth = _held[key]
            _held[key] = (fd, depth + 1)
        else:
            _held[key] = (_lock_file(path, timeout), 1)
        try:
            yield
        finally:
            fd, depth = _held[key]
            if depth > 1:
                _held[key] = (fd, depth - 1)
            else:
                del _held[key]
                _unlock_file(fd)
    finally:
        thread_lock.release()


def _try_lockf(fd: int) -> bool:
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EAGAIN):
            return False
        raise
    return True


def _lock_file(path: Path, timeout: float | None) -> int:
    """The descriptor of ``path``, locked; who holds it is written in it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if not _try_lockf(fd):
            what = f"du stockage {path.parent}"
            _waiting(what, _describe_holder(_read_holder(fd)), timeout)
            if timeout is None:
                fcntl.lockf(fd, fcntl.LOCK_EX)
            else:
                deadline = time.monotonic() + timeout
                while not _try_lockf(fd):
                    if time.monotonic() >= deadline:
                        raise _give_up(what, timeout)
                    time.sleep(POLL_SECONDS)
        os.ftruncate(fd, 0)
        os.pwrite(fd, orjson.dumps(_holder_label()), 0)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _read_holder(fd: int) -> dict[str, Any] | None:
    try:
        holder = orjson.loads(os.pread(fd, 4096, 0) or b"null")
    except (OSError, orjson.JSONDecodeError):
        return None
    return holder if isinstance(holder, dict) else None


def _unlock_file(fd: int) -> None:
    try:
        os.ftruncate(fd, 0)
        fcntl.lockf(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


# --- PostgreSQL -------------------------------------------------------------------------------

def store_key(database: str, schema: str) -> int:
    """The second half of the store's advisory key: its database and schema, hashed into a
    positive 32-bit integer."""
    digest = hashlib.blake2b(f"{database}/{schema}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") & 0x7FFFFFFF


def _try_advisory(conn: Connection, key: int) -> bool:
    got = conn.execute(text("SELECT pg_try_advisory_lock(:a, :b)"),
                       {"a": ADVISORY_CLASS, "b": key}).scalar_one()
    conn.commit()
    return bool(got)


def _advisory_holder(conn: Connection, key: int) -> str:
    row = conn.execute(text(
        "SELECT a.pid, a.application_name, a.state_change "
        "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
        "AND l.classid = CAST(:a AS oid) AND l.objid = CAST(:b AS oid)"),
        {"a": ADVISORY_CLASS, "b": key}).first()
    conn.commit()
    if row is None:  # released meanwhile, or not visible to this role
        return "par une autre session"
    who = f"par « {row.application_name} »" if row.application_name else "par une session"
    who += f" (session {row.pid} du serveur"
    if row.state_change is not None:
        who += f", depuis le {row.state_change.astimezone(UTC):%Y-%m-%d %H:%M:%S UTC}"
    return who + ")"


@contextmanager
def _advisory_lock(store: Store, timeout: float | None) -> Iterator[None]:
    with store.engine.connect() as conn:
        database, schema = conn.execute(
            text("SELECT current_database(), current_schema()")).one()
        conn.commit()
        key = store_key(database, schema or "")
        if not _try_advisory(conn, key):
            what = f"du stockage PostgreSQL (base {database}, schéma {schema})"
            _waiting(what, _advisory_holder(conn, key), timeout)
            if timeout is None:
                conn.execute(text("SELECT pg_advisory_lock(:a, :b)"),
                             {"a": ADVISORY_CLASS, "b": key})
                conn.commit()
            else:
                deadline = time.monotonic() + timeout
                while not _try_advisory(conn, key):
                    if time.monotonic() >= deadline:
                        raise _give_up(what, timeout)
                    time.sleep(POLL_SECONDS)
        # Who holds the lock, for those who wait for it (63 characters at most); the
        # session's state_change, its last statement, says since when.
        label = _holder_label()
        conn.execute(text("SELECT set_config('application_name', :name, false)"), {
            "name": f"{label['command']} pid {label['pid']} {label['host']}"[:63]})
        conn.commit()
        try:
            yield
        finally:
            # The connection goes back to the pool: it no longer names a holder.
            conn.execute(text("SELECT pg_advisory_unlock(:a, :b), "
                              "set_config('application_name', '', false)"),
                         {"a": ADVISORY_CLASS, "b": key})
            conn.commit()
