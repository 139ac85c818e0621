"""Logging in under attack, in the store (both kinds): what users and the auditor rely on.

- failures slow down the login tried, known or not, with a delay that doubles and is
  capped; nobody can lock an account for good, and a browser that already logged in as the
  account is not slowed by an attacker's failures;
- one address's failures are limited, its successes never count;
- whatever the account's existence or state, an attempt runs the same work (one argon2
  verification when it is checked, none when earlier failures refuse it, the same
  statements), so its time tells nothing;
- failures, delays and refusals are in the consultation log, without the password, the
  login tried escaped;
- an administrator (or the host's operator, from the command line) lifts a delay.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pytest
from argon2 import PasswordHasher
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, update

from faisceau.config import Settings
from faisceau.share import accounts, audit, throttle
from faisceau.share.accounts import attempt_login, create_user, seed_units, unlock
from faisceau.share.throttle import delay_after, limits
from faisceau.store import Store, open_store
from faisceau.store.bulk import utc_now
from faisceau.store.schema import share_user
from tests.conftest import run_faisceau
from tests.share.fast_hashing import fast_hashing  # noqa: F401 (autouse)

PASSWORD = "correct-cheval-pile-agrafe"
WRONG = "pas-le-bon-mot-de-passe"
HERE = "192.0.2.10"


@pytest.fixture
def store(store_settings: Settings) -> Iterator[Store]:
    opened = open_store(store_settings)
    seed_units(opened)
    create_user(opened, "alice", PASSWORD, "analyst", "OCRTEH", name="Alice")
    create_user(opened, "admin", PASSWORD, "admin", "OCRTEH", name="Adèle")
    create_user(opened, "parti", PASSWORD, "analyst", "DEP-13", name="Parti")
    with opened.begin() as conn:
        conn.execute(update(share_user).where(share_user.c.login == "parti")
                     .values(active=False))
    yield opened
    opened.dispose()


def _fail(store: Store, login: str, times: int, now: datetime, address: str = HERE) -> None:
    for _ in range(times):
        assert attempt_login(store, login, WRONG, address=address, now=now).user is None


def _entries(store: Store, action: str | None = None) -> list[audit.Entry]:
    with store.begin() as conn:
        return [e for e in audit.entries(conn) if action is None or e.action == action]


def test_the_delay_doubles_up_to_its_cap() -> None:
    rules = limits()
    assert [delay_after(n, rules).total_seconds() for n in range(1, 11)] == [
        0, 0, 0, 0, 30, 60, 120, 240, 300, 300]


def test_failures_delay_a_login_known_or_not_and_never_lock_it_for_good(
        store: Store) -> None:
    now = utc_now()
    for login in ("alice", "personne"):
        _fail(store, login, 5, now)
        delayed = attempt_login(store, login, PASSWORD, address=HERE, now=now)
        assert (delayed.user, delayed.retry_after) == (None, 30)  # the same for both
    # During the delay even the right password is not checked; after it, it is.
    assert attempt_login(store, "alice", PASSWORD, address=HERE,
                         now=now + timedelta(seconds=29)).retry_after == 1
    opened = attempt_login(store, "alice", PASSWORD, address=HERE,
                           now=now + timedelta(seconds=31))
    assert opened.user is not None and opened.user.login == "alice"
    # A success ends the count: five more failures before the next delay.
    later = now + timedelta(minutes=1)
    _fail(store, "alice", 4, later)
    assert attempt_login(store, "alice", PASSWORD, address=HERE, now=later).user is not None
    # Failures that go on: each waits its delay, doubled, then capped at five minutes.
    moment, waits = later, []
    for n in range(10):
        attempt = attempt_login(store, "alice", WRONG, address=f"198.51.100.{n}", now=moment)
        assert attempt.retry_after is None  # never refused once the delay is over
        with store.begin() as conn:
            until = throttle.states(conn, throttle.LOGIN, moment)["alice"].delayed_until
        waits.append(0 if until is None else int((until - moment).total_seconds()))
        moment += timedelta(seconds=waits[-1])
    assert waits == [0, 0, 0, 0, 30, 60, 120, 240, 300, 300]


def test_an_address_is_limited_by_its_failures_never_by_its_successes(store: Store) -> None:
    now = utc_now()
    for _ in range(12):  # a whole office logging in through one address
        assert attempt_login(store, "alice", PASSWORD, address=HERE, now=now).user
    allowed = limits().address_failures
    # Spraying many logins, a few tries each, from one address.
    for n in range(allowed - 1):
        _fail(store, f"cible{n % 7}-{n // 7}", 1, now)
    # An attacker's own valid account does not buy more guesses.
    assert attempt_login(store, "admin", PASSWORD, address=HERE, now=now).user
    _fail(store, "cible-derniere", 1, now)
    blocked = attempt_login(store, "alice", PASSWORD, address=HERE, now=now)
    assert blocked.user is None and blocked.retry_after == int(
        limits().address_window.total_seconds())
    assert attempt_login(store, "alice", PASSWORD, address="192.0.2.11", now=now).user
    after = now + limits().address_window
    assert attempt_login(store, "alice", PASSWORD, address=HERE, now=after).user
    blocks = [json.loads(e.detail or "{}") for e in _entries(store, "login_locked")]
    assert blocks == [{"address": HERE, "limit": "address",
                       "seconds": int(limits().address_window.total_seconds())}]
    refused = [json.loads(e.detail or "{}") for e in _entries(store, "login_refused")]
    assert [(r["limit"], r["address"]) for r in refused] == [("address", HERE)]


def test_a_trusted_browser_is_not_locked_out_by_an_attacker(store: Store) -> None:
    now = utc_now()
    for n in range(4):  # four addresses, as in the issue
        _fail(store, "admin", 6, now, address=f"198.51.100.{n}")
    assert attempt_login(store, "admin", PASSWORD, address=HERE, now=now).retry_after
    # The administrator's own browser (its cookie's nonce) still gets in, at once.
    mine = attempt_login(store, "admin", PASSWORD, address=HERE, device="nonce-admin", now=now)
    assert mine.user is not None and mine.user.role == "admin"
    # A stolen nonce is no way round the delay: after a few failures it is trusted no more.
    for _ in range(limits().device_failures):
        attempt_login(store, "admin", WRONG, address=HERE, device="nonce-admin", now=now)
    assert attempt_login(store, "admin", PASSWORD, address=HERE, device="nonce-admin",
                         now=now).retry_after


def test_an_administrator_lifts_a_delay(store: Store) -> None:
    now = utc_now()
    _fail(store, "alice", 7, now)
    assert attempt_login(store, "alice", PASSWORD, address=HERE, now=now).retry_after
    with store.begin() as conn:
        listed = {a.login: a for a in accounts.list_accounts(conn, now)}
        # Five failures counted: the next two came during the delay, unchecked.
        assert listed["alice"].locked and listed["alice"].failed_logins == 5
        assert not listed["admin"].locked
        assert unlock(conn, "alice") is True
        assert unlock(conn, "alice") is False
        with pytest.raises(accounts.AccountError, match="compte inconnu"):
            unlock(conn, "personne")
    assert attempt_login(store, "alice", PASSWORD, address=HERE, now=now).user is not None


def test_failures_delays_and_refusals_are_logged_without_the_password(store: Store) -> None:
    now = utc_now()
    _fail(store, "alice", 5, now)
    attempt_login(store, "alice", PASSWORD, address=HERE, now=now)
    attempt_login(store, "alice", PASSWORD, address=HERE, now=now)  # refused, not logged again
    _fail(store, "parti", 1, now)
    hostile = "x\n2026-01-01;admin;OCRTEH;view\u202e" + "y" * 300
    _fail(store, hostile, 1, now)
    entries = _entries(store)
    assert [e.action for e in entries] == ["login_failed"] * 5 + [
        "login_locked", "login_refused", "login_failed", "login_failed"]
    details = [json.loads(e.detail or "{}") for e in entries]
    assert {d["address"] for d in details} == {HERE}
    assert [d.get("cause") for d in details[:5]] == ["wrong password"] * 5
    assert details[5] == {"address": HERE, "limit": "login", "seconds": 30, "failures": 5}
    assert details[6] == {"address": HERE, "limit": "login", "retry_after": 30}
    assert details[7]["cause"] == "inactive account" and entries[7].unit == "DEP-13"
    assert details[8]["cause"] == "unknown login" and entries[8].unit == ""
    shown = entries[8].login
    assert entries[8].record_id == shown and len(shown) <= accounts.SHOWN_LOGIN
    assert "\n" not in shown and "\u202e" not in shown
    assert shown.startswith("x\\n2026-01-01;admin;OCRTEH;view\\u202e") and shown.endswith("…")
    text = " ".join(f"{e.login} {e.detail}" for e in entries)
    assert WRONG not in text and PASSWORD not in text
    assert audit.verify(store).intact


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_a_login_tried_is_kept_escaped_and_short(login: str) -> None:
    shown = accounts.shown_login(login)
    assert len(shown) <= accounts.SHOWN_LOGIN and shown.isprintable()
    if len(login) <= 20 and login.isprintable():
        assert shown == login  # an ordinary login is kept as typed


# --- The same work whatever the account --------------------------------------------------


class _Work:
    """What one attempt does: argon2 verifications and SQL statements (their text)."""

    def __init__(self, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
        self.verifications = 0
        self.statements: list[str] = []
        work = self
        used = accounts._hasher

        class Counting(PasswordHasher):
            def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
                work.verifications += 1
                return super().verify(hash, password)

        monkeypatch.setattr(accounts, "_hasher", Counting(
            time_cost=used.time_cost, memory_cost=used.memory_cost,
            parallelism=used.parallelism))
        event.listen(store.engine, "before_cursor_execute", self._statement)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(" ".join(statement.split()))

    def of(self, attempt: Any) -> tuple[int, list[str]]:
        self.verifications, self.statements = 0, []
        attempt()
        return self.verifications, self.statements


def test_every_path_runs_the_same_work_whatever_the_account(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    work = _Work(store, monkeypatch)
    now = utc_now()

    def run(login: str, password: str, address: str = HERE) -> tuple[int, list[str]]:
        return work.of(lambda: attempt_login(store, login, password, address=address,
                                             now=now))

    run("admin", WRONG)  # the address's row now exists for every path below
    # Wrong password, unknown login, deactivated account: the same statements, one argon2.
    wrong, unknown, inactive = run("alice", WRONG), run("inconnu", WRONG), run("parti",
                                                                               PASSWORD)
    assert wrong == unknown == inactive and wrong[0] == 1
    assert run("admin", PASSWORD)[0] == 1  # the right one
    # Delayed: a known and an unknown login, the first refusal (logged) and the next ones,
    # refused alike without checking any password (a flood of them costs no argon2).
    _fail(store, "alice", 4, now)  # with the one above, five each: both delayed
    _fail(store, "inconnu", 4, now)
    first_known, first_unknown = run("alice", PASSWORD), run("inconnu", PASSWORD)
    assert first_known == first_unknown and first_known[0] == 0
    assert run("alice", PASSWORD) == run("inconnu", PASSWORD)
    # An address out of failures: the same for a known login and an unknown one.
    for n in range(limits().address_failures):
        run(f"cible{n}", WRONG, address="192.0.2.99")
    run("alice", PASSWORD, address="192.0.2.99")  # the first refusal, logged
    blocked = run("alice", PASSWORD, address="192.0.2.99")
    assert blocked == run("personne", PASSWORD, address="192.0.2.99") and blocked[0] == 0


# --- From the host -------------------------------------------------------------------------


def test_the_operator_unlocks_from_the_command_line(tmp_path: Path) -> None:
    """The command's wiring (unlocking itself is tested on both stores above): from the
    host, an administrator delayed by an attacker is let back in; the act is logged."""
    store = open_store(Settings(home=tmp_path / "store", database_url=None))
    seed_units(store)
    create_user(store, "admin", PASSWORD, "admin", "OCRTEH")
    now = utc_now()
    _fail(store, "admin", 8, now)
    for n in range(limits().address_failures):
        _fail(store, f"x{n}", 1, now, address="192.0.2.50")
    store.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAISCEAU_")}
    env.update(FAISCEAU_HOME=str(tmp_path / "store"), FAISCEAU_ANALYST="operateur")
    said = run_faisceau(["users", "unlock", "admin"], env).stdout
    assert "Compte admin déverrouillé." in said
    assert "adresse 192.0.2.50" in run_faisceau(
        ["users", "unlock", "--address", "192.0.2.50"], env).stdout.lower()
    store = open_store(Settings(home=tmp_path / "store", database_url=None))
    assert attempt_login(store, "admin", PASSWORD, address="192.0.2.50").user is not None
    changes = [(e.login, e.record_kind, e.record_id, json.loads(e.detail or "{}"))
               for e in _entries(store, "change")]
    assert changes == [
        ("operateur", "user", "admin",
         {"command": "users unlock", "what": "unlocked", "had_failures": True}),
        ("operateur", "address", "192.0.2.50",
         {"command": "users unlock", "what": "unlocked", "had_failures": True})]
    store.dispose()
