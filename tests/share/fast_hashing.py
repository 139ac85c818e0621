"""A cheap argon2 for tests that log in many times (the delays, limits and counts they test
do not depend on its cost; ``benchmarks/login_timing.py`` measures the real one)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

from faisceau.share import accounts


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Import it into a test module to make its argon2 cheap (``autouse`` there)."""
    monkeypatch.setattr(accounts, "_hasher",
                        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    accounts._dummy_hash.cache_clear()
    yield
    accounts._dummy_hash.cache_clear()
