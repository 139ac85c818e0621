"""Server-side sessions in the store (both kinds): a session ends when it is revoked, idle
or too old, or when its account is deactivated; the store never holds the token itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from faisceau.config import Settings
from faisceau.share import sessions
from faisceau.share.accounts import create_user, reset_password, seed_units, set_active
from faisceau.store import Store, open_store
from faisceau.store.bulk import utc_now
from faisceau.store.schema import share_session
from tests.share.fast_hashing import fast_hashing  # noqa: F401 (autouse)

PASSWORD = "correct-cheval-pile-agrafe"


@pytest.fixture
def store(store_settings: Settings) -> Iterator[Store]:
    opened = open_store(store_settings)
    seed_units(opened)
    create_user(opened, "alice", PASSWORD, "analyst", "OCRTEH", name="Alice")
    create_user(opened, "admin", PASSWORD, "admin", "OCRTEH")
    yield opened
    opened.dispose()


def test_a_session_ends_when_idle_or_too_old(store: Store) -> None:
    limits = sessions.timeouts()
    start = utc_now()
    with store.begin() as conn:
        token = sessions.open_session(conn, "alice", "192.0.2.1", start)
        stored = conn.execute(select(share_session.c.token_hash)).scalar_one()
    assert token not in stored and len(stored) == 64  # only its digest
    # Used every twenty minutes, it lives until its absolute end, not a second more.
    moment = start
    while moment + timedelta(minutes=20) < start + limits.absolute:
        moment += timedelta(minutes=20)
        with store.begin() as conn:
            assert sessions.session_account(conn, token, moment) == (
                "alice", "Alice", "analyst", "OCRTEH"), moment - start
    with store.begin() as conn:
        assert sessions.session_account(conn, token, start + limits.absolute) is None
        # Another, left idle: over at its idle limit.
        idle = sessions.open_session(conn, "alice", None, start)
        assert sessions.session_account(conn, idle, start + limits.idle
                                        - timedelta(seconds=1)) is not None
    with store.begin() as conn:
        late = start + limits.idle - timedelta(seconds=1) + limits.idle
        assert sessions.session_account(conn, idle, late) is None
        assert sessions.session_account(conn, "pas-un-jeton", start) is None


def test_logout_reset_and_deactivation_revoke_sessions(store: Store) -> None:
    now = utc_now()
    with store.begin() as conn:
        one, two = (sessions.open_session(conn, "alice", None, now) for _ in range(2))
        admin = sessions.open_session(conn, "admin", None, now)
        assert sessions.live_sessions(conn, now) == {"alice": 2, "admin": 1}
        assert sessions.end_session(conn, one, "logout", now) is True
        assert sessions.end_session(conn, one, "logout", now) is False
        assert sessions.session_account(conn, one, now) is None
        assert sessions.session_account(conn, two, now) is not None
    with store.begin() as conn:
        assert reset_password(conn, "alice", "un-tout-nouveau-mot-de-passe") == 1
        assert sessions.session_account(conn, two, utc_now()) is None
        three = sessions.open_session(conn, "alice", None, utc_now())
        set_active(conn, "admin", "alice", False)
        assert sessions.session_account(conn, three, utc_now()) is None
        set_active(conn, "admin", "alice", True)  # reactivated: the old session stays ended
        assert sessions.session_account(conn, three, utc_now()) is None
        assert sessions.session_account(conn, admin, utc_now()) is not None
        why = sorted(conn.execute(select(share_session.c.revoked_why)
                                  .where(share_session.c.login == "alice")).scalars())
    assert why == ["deactivated", "logout", "password reset"]
