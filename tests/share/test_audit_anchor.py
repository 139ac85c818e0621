"""The consultation log's anchor: one signed checkpoint per committed transaction, never for
one rolled back; tampering with the anchor file or the key shows at verification (a line
edited, removed, inserted, moved or forged, a key replaced, lost or re-signed under another
key); a lost anchor or key is never silently created again, a log without one is anchored
by the operator's act (``faisceau audit anchor``); concurrent writers (threads, processes)
keep one chain.
Property tests hold the reader to what it promises on any file: every change but cutting
off the newest lines is reported, and nothing makes it fail otherwise.
"""

from __future__ import annotations

import base64
import logging
import multiprocessing
import string
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import example, given, settings
from hypothesis import strategies as st

from faisceau.config import Settings
from faisceau.share import anchor
from faisceau.share.access import Viewer
from faisceau.share.anchor import AnchorPaths, anchor_paths, read_anchor, signed_line
from faisceau.share.audit import NO_ANCHOR, entries, record, verify
from faisceau.store import Store, open_store
from tests.conftest import run_faisceau

ALICE = Viewer("alice", "analyst", "OCRTEH")
AT = datetime(2026, 3, 1, 9, tzinfo=UTC)


def _lines(paths: AnchorPaths) -> list[bytes]:
    return paths.anchor.read_bytes().splitlines(keepends=True)


def _pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@pytest.fixture
def anchored(store_settings: Settings) -> Iterator[tuple[Store, AnchorPaths]]:
    """A store whose log holds four entries, each committed on its own: four checkpoints."""
    store = open_store(store_settings)
    for n in range(4):
        with store.begin() as conn:
            record(conn, ALICE, "view", "network", f"N-{n}")
    yield store, anchor_paths(store_settings, {})
    store.dispose()


def test_one_checkpoint_per_commit_and_none_for_a_rollback(store_settings: Settings) -> None:
    store = open_store(store_settings)
    paths = anchor_paths(store_settings, {})
    with store.begin() as conn:
        for n in range(3):
            record(conn, ALICE, "view", "network", f"N-{n}")
    with store.begin() as conn:
        first = [e.id for e in entries(conn)]
    # The transaction's last entry is attested; it covers the two before it.
    assert [orjson.loads(line)["id"] for line in _lines(paths)] == [first[-1]]
    with pytest.raises(RuntimeError), store.begin() as conn:
        record(conn, ALICE, "view", "network", "annulée")
        raise RuntimeError("the page failed after logging")
    assert len(_lines(paths)) == 1
    # The next entry may take the rolled-back id again (SQLite): no false alarm.
    with store.begin() as conn:
        record(conn, ALICE, "view", "network", "N-3")
        last = max(e.id for e in entries(conn))
    result = verify(store)
    assert result.intact and result.entries == 4
    assert (result.anchoring.checkpoints, result.anchoring.unanchored) == (2, 0)
    assert result.anchoring.anchored_to == last
    # The key is readable by its owner only, and its public half is published beside it.
    assert paths.key.stat().st_mode & 0o077 == 0
    assert paths.published_key.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    store.dispose()


def test_entries_written_outside_a_store_transaction_show_as_unattested(
        anchored: tuple[Store, AnchorPaths]) -> None:
    store, _ = anchored
    with store.engine.begin() as conn:  # not Store.begin: nothing runs after its commit
        record(conn, ALICE, "view", "network", "N-hors")
    result = verify(store)
    assert result.anchoring.unanchored == 1 and result.anchoring.checkpoints == 4
    assert result.intact  # nothing proves them wrong either


def _other_key_line(paths: AnchorPaths, entry_id: int, entry_hash: str) -> bytes:
    prev = anchor.line_digest(_lines(paths)[-1].rstrip(b"\n"))
    return signed_line(Ed25519PrivateKey.generate(), entry_id, entry_hash, prev, AT)


def _forged_signature(paths: AnchorPaths) -> None:
    lines = _lines(paths)
    body = orjson.loads(lines[-1])
    body["sig"] = orjson.loads(_other_key_line(paths, body["id"], body["hash"]))["sig"]
    paths.anchor.write_bytes(b"".join(lines[:-1]) + orjson.dumps(
        body, option=orjson.OPT_SORT_KEYS) + b"\n")


def _made_up_signature(paths: AnchorPaths) -> bytes:
    """A line that names the right key but was signed by another."""
    body = orjson.loads(_other_key_line(paths, 99, "a" * 64))
    body["key"] = orjson.loads(_lines(paths)[0])["key"]
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS) + b"\n"


def _edit(index: int, field: str, value: object) -> Callable[[AnchorPaths], None]:
    def act(paths: AnchorPaths) -> None:
        lines = _lines(paths)
        body = orjson.loads(lines[index])
        body[field] = value
        lines[index] = orjson.dumps(body, option=orjson.OPT_SORT_KEYS) + b"\n"
        paths.anchor.write_bytes(b"".join(lines))
    return act


def _keep(pick: Callable[[list[bytes]], list[bytes]]) -> Callable[[AnchorPaths], None]:
    def act(paths: AnchorPaths) -> None:
        paths.anchor.write_bytes(b"".join(pick(_lines(paths))))
    return act


def _append(make: Callable[[AnchorPaths], bytes]) -> Callable[[AnchorPaths], None]:
    def act(paths: AnchorPaths) -> None:
        line = make(paths)
        with paths.anchor.open("ab") as handle:
            handle.write(line)
    return act


def _replace_key(paths: AnchorPaths) -> None:
    paths.key.write_bytes(_pem(Ed25519PrivateKey.generate()))


def _resign_under_a_new_key(paths: AnchorPaths) -> None:
    """The whole anchor signed again under a key of the intruder's, who also swaps the
    signing key: only a public key kept elsewhere tells."""
    key = Ed25519PrivateKey.generate()
    prev, rewritten = anchor.GENESIS, []
    for line in _lines(paths):
        body = orjson.loads(line)
        new = signed_line(key, body["id"], body["hash"], prev, AT)
        rewritten.append(new)
        prev = anchor.line_digest(new.rstrip(b"\n"))
    paths.anchor.write_bytes(b"".join(rewritten))
    paths.key.write_bytes(_pem(key))


# What the intruder does to the anchor or the key; what verification says.
TAMPERING: dict[str, tuple[Callable[[AnchorPaths], None], str]] = {
    "a line edited": (_edit(1, "hash", "f" * 64), "la ligne 3 ne suit pas la ligne"),
    "the newest line edited": (_edit(3, "at", "2030-01-01T00:00:00Z"),
                               "la signature de la ligne 4 n'est pas valide"),
    "a line removed": (_keep(lambda ls: ls[:1] + ls[2:]), "la ligne 2 ne suit pas"),
    "the first line removed": (_keep(lambda ls: ls[1:]), "la ligne 1 ne suit pas"),
    "two lines swapped": (_keep(lambda ls: [ls[1], ls[0], *ls[2:]]),
                          "la ligne 1 ne suit pas"),
    "a line inserted twice": (_keep(lambda ls: [*ls[:2], ls[1], *ls[2:]]),
                              "la ligne 3 ne suit pas"),
    "a signature forged": (_forged_signature, "la signature de la ligne 4 n'est pas valide"),
    "a line added under another key": (
        _append(lambda p: _other_key_line(p, 99, "a" * 64)),
        "la ligne 5 est signée par une autre clé"),
    "a line added with a made-up signature": (
        _append(_made_up_signature), "la signature de la ligne 5 n'est pas valide"),
    "a line of garbage": (_append(lambda p: b"n'importe quoi\n"),
                          "ligne 5 illisible"),
    "a write cut short": (_append(lambda p: _lines(p)[0][:40]), "ligne 5 incomplète"),
    "the anchor deleted": (lambda p: p.anchor.unlink(),
                           "fichier d'ancrage introuvable"),
    "the key deleted": (lambda p: p.key.unlink(), "clé de signature du journal introuvable"),
    "the key replaced": (_replace_key, "la ligne 1 est signée par une autre clé"),
}


@pytest.mark.parametrize("tampering", TAMPERING)
def test_tampering_with_the_anchor_or_the_key_shows(anchored: tuple[Store, AnchorPaths],
                                                    tampering: str) -> None:
    store, paths = anchored
    assert verify(store).intact
    act, said = TAMPERING[tampering]
    act(paths)
    result = verify(store)
    assert not result.intact
    assert result.anchoring.problem is not None and said in result.anchoring.problem
    assert result.broken_at is None  # the table itself was left alone


def test_an_anchor_re_signed_under_another_key_fails_against_the_auditors_key(
        anchored: tuple[Store, AnchorPaths], tmp_path: Path) -> None:
    store, paths = anchored
    pinned = tmp_path / "auditeur.pub"
    pinned.write_bytes(paths.published_key.read_bytes())
    _resign_under_a_new_key(paths)
    result = verify(store, public_key=pinned)
    assert not result.intact and result.anchoring.problem is not None
    assert "la ligne 1 est signée par une autre clé" in result.anchoring.problem
    with pytest.raises(anchor.AnchorError, match="clé publique introuvable"):
        anchor.load_public(tmp_path / "absente.pub")


def test_a_lost_anchor_is_never_created_again(anchored: tuple[Store, AnchorPaths],
                                              caplog: pytest.LogCaptureFixture) -> None:
    store, paths = anchored
    paths.anchor.unlink()
    with caplog.at_level(logging.ERROR), store.begin() as conn:
        record(conn, ALICE, "view", "network", "N-après")
    # The entry stands; the checkpoint is refused, loudly, and verification says why.
    assert not paths.anchor.exists()
    assert "fichier d'ancrage du journal introuvable" in caplog.text
    result = verify(store)
    assert result.entries == 5 and not result.intact
    assert result.anchoring.problem is not None
    assert "fichier d'ancrage introuvable" in result.anchoring.problem


def test_a_log_without_anchor_is_anchored_only_by_the_operators_act(
        store_settings: Settings, store_env: dict[str, str],
        caplog: pytest.LogCaptureFixture) -> None:
    # A log kept from before anchoring: its entries, then no key nor anchor file.
    store = open_store(store_settings)
    paths = anchor_paths(store_settings, {})
    with store.begin() as conn:
        record(conn, ALICE, "view", "network", "N-0")
    for path in (paths.key, paths.anchor, paths.published_key):
        path.unlink()
    with caplog.at_level(logging.ERROR), store.begin() as conn:
        record(conn, ALICE, "view", "network", "N-1")
    assert not paths.key.exists() and not paths.anchor.exists()
    assert "faisceau audit anchor" in caplog.text
    assert verify(store).anchoring.problem == NO_ANCHOR
    started = run_faisceau(["audit", "anchor"], store_env)
    assert "Ancrage commencé" in started.stdout
    result = verify(store)
    assert result.intact and result.entries == 3 and result.anchoring.checkpoints == 1
    with store.begin() as conn:
        act = list(entries(conn))[-1]
    assert (act.action, act.record_kind, act.record_id) == ("change", "journal", "ancrage")
    # Once started, never replaced: that would wipe the evidence.
    again = run_faisceau(["audit", "anchor"], store_env, check=False)
    assert again.returncode == 2 and "le journal a déjà un ancrage" in again.stderr
    assert verify(store).intact
    store.dispose()


def test_a_key_lost_with_checkpoints_written_is_not_replaced(
        anchored: tuple[Store, AnchorPaths], caplog: pytest.LogCaptureFixture) -> None:
    store, paths = anchored
    paths.key.unlink()
    before = paths.anchor.read_bytes()
    with caplog.at_level(logging.ERROR), store.begin() as conn:
        record(conn, ALICE, "view", "network", "N-après")
    assert not paths.key.exists() and paths.anchor.read_bytes() == before
    assert "clé de signature du journal introuvable" in caplog.text


def test_concurrent_writers_keep_one_chain(store_settings: Settings) -> None:
    store = open_store(store_settings)
    failures: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for n in range(6):
                with store.begin() as conn:
                    record(conn, ALICE, "view", "network", f"W{worker}-{n}")
        except BaseException as exc:  # reported by the test below
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    result = verify(store)
    assert result.intact and result.entries == 24
    assert (result.anchoring.checkpoints, result.anchoring.unanchored) == (24, 0)
    store.dispose()


def _append_in_a_process(settings: Settings, worker: int) -> None:
    store = open_store(settings)
    for n in range(6):
        with store.begin() as conn:
            record(conn, ALICE, "view", "network", f"P{worker}-{n}")
    store.dispose()


def test_writer_processes_keep_one_chain(store_settings: Settings) -> None:
    open_store(store_settings).dispose()  # migrated before the writers start
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_append_in_a_process, args=(store_settings, w))
               for w in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    store = open_store(store_settings)
    result = verify(store)
    assert result.intact and result.entries == 18
    assert (result.anchoring.checkpoints, result.anchoring.unanchored) == (18, 0)
    store.dispose()


def test_a_write_cut_short_stays_visible_after_the_next_checkpoint(tmp_path: Path) -> None:
    paths = AnchorPaths(key=tmp_path / "k.pem", anchor=tmp_path / "a.jsonl")
    anchor.start_anchor(paths)
    anchor.append_checkpoint(paths, 1, "a" * 64, AT)
    with paths.anchor.open("ab") as handle:
        handle.write(b'{"at":"2026')  # a crash in the middle of a line
    anchor.append_checkpoint(paths, 2, "b" * 64, AT)
    lines = _lines(paths)
    assert len(lines) == 3 and orjson.loads(lines[2])["id"] == 2
    state = read_anchor(paths, lambda batch: None, size=anchor.anchor_size(paths))
    assert state.problem == "ligne 2 illisible" and state.checkpoints == 1


# -- The reader, on any file -----------------------------------------------------------------

_KEY = Ed25519PrivateKey.generate()


def _genuine(count: int = 6) -> list[bytes]:
    prev, lines = anchor.GENESIS, []
    for n in range(1, count + 1):
        line = signed_line(_KEY, n, f"{n:064x}", prev, AT)
        lines.append(line)
        prev = anchor.line_digest(line.rstrip(b"\n"))
    return lines


GENUINE = _genuine()


def _read(data: bytes) -> anchor.AnchorState:
    with tempfile.TemporaryDirectory() as tmp:
        paths = AnchorPaths(key=Path(tmp) / "k.pem", anchor=Path(tmp) / "a.jsonl")
        paths.key.write_bytes(_pem(_KEY))
        paths.anchor.write_bytes(data)
        seen: list[int] = []
        state = read_anchor(paths, lambda batch: seen.extend(c.entry_id for c in batch),
                            size=len(data), batch=2)
        assert len(seen) == state.checkpoints
        return state


def test_the_genuine_anchor_reads_whole() -> None:
    state = _read(b"".join(GENUINE))
    assert (state.problem, state.checkpoints) == (None, 6)
    assert state.newest is not None and state.newest.entry_id == 6


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_byte_changed_is_reported(data: st.DataObject) -> None:
    whole = bytearray(b"".join(GENUINE))
    at = data.draw(st.integers(0, len(whole) - 1))
    whole[at] = data.draw(st.integers(0, 255).filter(lambda b: b != whole[at]))
    assert _read(bytes(whole)).problem is not None


def test_a_signature_spelled_otherwise_is_reported() -> None:
    # Base64 lets the last character before "==" vary without changing the bytes.
    lines = list(GENUINE)
    body = orjson.loads(lines[-1])
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "+/"
    spelled = alphabet[alphabet.index(body["sig"][-3]) ^ 1]
    respelled = body["sig"][:-3] + spelled + "=="
    assert base64.b64decode(respelled) == base64.b64decode(body["sig"])
    lines[-1] = orjson.dumps({**body, "sig": respelled}, option=orjson.OPT_SORT_KEYS) + b"\n"
    state = _read(b"".join(lines))
    assert state.problem is not None and "signature de la ligne 6" in state.problem
    assert state.checkpoints == 5


@settings(max_examples=150, deadline=None)
@given(st.sets(st.integers(0, len(GENUINE) - 1), min_size=1))
def test_removed_lines_are_reported_unless_only_the_newest_are_cut(removed: set[int]) -> None:
    kept = [line for n, line in enumerate(GENUINE) if n not in removed]
    state = _read(b"".join(kept))
    cut_off = removed == set(range(min(removed), len(GENUINE)))
    # Cutting the newest lines is the one change the file cannot show (hence an
    # append-only sink); anything else is reported.
    assert (state.problem is None) is cut_off
    if cut_off:
        assert state.checkpoints == len(kept)


@settings(max_examples=150, deadline=None)
@given(st.permutations(range(len(GENUINE))))
def test_lines_moved_are_reported(order: list[int]) -> None:
    state = _read(b"".join(GENUINE[n] for n in order))
    assert (state.problem is None) is (order == sorted(order))


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=600), st.integers(0, len(GENUINE)))
@example(b"\t", 0)  # JSON reads past the tab: the line read is not the line signed
@example(b" ", 1)
def test_any_bytes_slipped_in_are_reported_without_failing(junk: bytes, where: int) -> None:
    state = _read(b"".join(GENUINE[:where]) + junk + b"".join(GENUINE[where:]))
    assert state.problem is not None and state.checkpoints <= where


def test_the_paths_come_from_the_environment_or_the_home(tmp_path: Path) -> None:
    home = Settings(home=tmp_path / "home", database_url=None)
    assert anchor_paths(home, {}) == AnchorPaths(
        key=tmp_path / "home" / "audit-key.pem", anchor=tmp_path / "home" / "audit-anchor.jsonl")
    given_paths = anchor_paths(home, {"FAISCEAU_AUDIT_KEY": "/srv/cle/journal.pem",
                                      "FAISCEAU_AUDIT_ANCHOR": "/mnt/ancrage/journal.jsonl",
                                      "FAISCEAU_AUDIT_PUBLIC_KEY": "/etc/faisceau/journal.pub"})
    assert given_paths == replace(
        AnchorPaths(key=Path("/srv/cle/journal.pem"), anchor=Path("/mnt/ancrage/journal.jsonl")),
        public_key=Path("/etc/faisceau/journal.pub"))
    assert given_paths.published_key == Path("/srv/cle/journal.pub")
