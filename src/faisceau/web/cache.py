"""Reads that depend only on the store's content, kept per process until it changes.

The queue and a network's detail are the same for every user until detection, scoring or
a decision changes them; need-to-know and the consultation log are applied per request,
after the cache. An entry is keyed by what was asked and by the stages' change counters
(``store.bulk.changes``: a few rows read on every request), so a new detection run, score
or decision is seen at once. Cached values are shared between requests: never mutate them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy.engine import Connection

from faisceau.store.bulk import changes

T = TypeVar("T")
ENTRIES = 512


class ReadCache:
    def __init__(self, entries: int = ENTRIES) -> None:
        self.entries = entries
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, conn: Connection, key: Hashable, compute: Callable[[], T]) -> T:
        """The value for ``key`` as of the store's current content, computed on a miss
        (with ``conn``'s transaction, so that it sees what the marker saw)."""
        full = (key, changes(conn))
        with self._lock:
            if full in self._items:
                self._items.move_to_end(full)
                self.hits += 1
                return self._items[full]
        value = compute()
        with self._lock:
            self.misses += 1
            self._items[full] = value
            while len(self._items) > self.entries:
                self._items.popitem(last=False)
        return value
