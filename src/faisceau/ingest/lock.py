"""One ingest at a time per store: a file lock for the embedded store, an advisory lock on
PostgreSQL. A second ingest waits for the first rather than interleaving chunks with it."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from faisceau.store import Store

# Any constant works; it only has to be the same for every faisceau process.
ADVISORY_KEY = 0x6661697363656175  # "faisceau"


@contextmanager
def ingest_lock(store: Store) -> Iterator[None]:
    if store.dialect == "sqlite":
        lock_path = store.settings.home / "ingest.lock"
        with open(lock_path, "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    with store.engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_KEY})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
            conn.commit()
