"""The consultation log shows truncation and rewriting, on both stores: an intruder with the
database owner's rights (append-only triggers out of the way) deletes the newest entries,
deletes one user's entries and recomputes every hash after them, rewrites an entry and
recomputes the hashes, or empties the table (TRUNCATE on PostgreSQL). The hash chain alone
passes all of these; the signed checkpoints outside the database catch each one, name the
first entry concerned, and ``faisceau audit verify`` exits 1 on them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from faisceau.config import Settings
from faisceau.share.access import Viewer
from faisceau.share.audit import FIELDS, GENESIS, entries, entry_hash, record, verify
from faisceau.store import Store, open_store
from tests.conftest import run_faisceau

ALICE = Viewer("alice", "analyst", "OCRTEH")
BRUNO = Viewer("bruno", "referent", "DEP-13")


def as_intruder(store: Store, act: Callable[[Connection], None]) -> None:
    """Run ``act`` with the log's append-only triggers out of the way, as the database's
    owner can (and put them back, as a careful intruder would)."""
    with store.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE consultation_log DISABLE TRIGGER USER"))
            act(conn)
            conn.execute(text("ALTER TABLE consultation_log ENABLE TRIGGER USER"))
            return
        triggers = conn.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name = 'consultation_log'")).all()
        for name, _ in triggers:
            conn.execute(text(f"DROP TRIGGER {name}"))
        act(conn)
        for _, sql in triggers:
            conn.execute(text(sql))


def rechain(conn: Connection) -> None:
    """Recompute every entry's hashes from the first, as if the log had always been so."""
    prev = GENESIS
    for e in list(entries(conn)):
        values = {k: getattr(e, k) for k in FIELDS}
        values["at"] = e.at.replace(microsecond=0).isoformat()
        digest = entry_hash(prev, values)
        conn.execute(text("UPDATE consultation_log SET prev_hash = :p, hash = :h WHERE id = :i"),
                     {"p": prev, "h": digest, "i": e.id})
        prev = digest


def consultations(settings: Settings) -> tuple[Store, list[int]]:
    """A store whose log holds six consultations, each committed on its own (as pages are),
    alternately Alice's and Bruno's; their ids."""
    store = open_store(settings)
    for n in range(6):
        with store.begin() as conn:
            record(conn, ALICE if n % 2 == 0 else BRUNO, "view", "network", f"N-{n}")
    with store.begin() as conn:
        ids = [e.id for e in entries(conn)]
    return store, ids


def delete_newest(ids: list[int]) -> Callable[[Connection], None]:
    def act(conn: Connection) -> None:
        conn.execute(text("DELETE FROM consultation_log WHERE id >= :i"), {"i": ids[-2]})
    return act


def erase_bruno_and_rechain(ids: list[int]) -> Callable[[Connection], None]:
    def act(conn: Connection) -> None:
        conn.execute(text("DELETE FROM consultation_log WHERE login = 'bruno'"))
        rechain(conn)
    return act


def rewrite_and_rechain(ids: list[int]) -> Callable[[Connection], None]:
    def act(conn: Connection) -> None:
        conn.execute(text("UPDATE consultation_log SET record_id = 'N-autre' WHERE id = :i"),
                     {"i": ids[3]})
        rechain(conn)
    return act


def empty(ids: list[int]) -> Callable[[Connection], None]:
    def act(conn: Connection) -> None:
        # On PostgreSQL TRUNCATE fires no row trigger: the owner needs no trick at all.
        statement = "TRUNCATE" if conn.dialect.name == "postgresql" else "DELETE FROM"
        conn.execute(text(f"{statement} consultation_log"))
    return act


# attack, the position of the first entry concerned, what the reason says
ATTACKS = {
    "the newest entries deleted": (delete_newest, 4, "le journal a été tronqué"),
    "one user's entries deleted, hashes recomputed": (
        erase_bruno_and_rechain, 1, "des entrées ont été supprimées"),
    "an entry rewritten, hashes recomputed": (
        rewrite_and_rechain, 3, "le journal a été réécrit jusqu'à cette entrée"),
    "the table emptied": (empty, 0, "le journal a été vidé"),
}


@pytest.mark.parametrize("attack", ATTACKS)
def test_each_attack_is_caught_and_names_the_first_entry(store_settings: Settings,
                                                         attack: str) -> None:
    make, position, why = ATTACKS[attack]
    store, ids = consultations(store_settings)
    assert verify(store).intact
    if attack == "the table emptied" and store.dialect == "postgresql":
        with store.begin() as conn:
            make(ids)(conn)
    else:
        as_intruder(store, make(ids))
    result = verify(store)
    assert not result.intact
    assert result.chained  # the chain alone would have passed
    assert result.broken_at == ids[position]
    assert result.reason is not None and why in result.reason
    assert result.anchoring.problem is None  # the anchor itself is sound


def test_the_command_line_catches_truncation_against_the_auditors_key(
        store_settings: Settings, store_env: dict[str, str], tmp_path: Path) -> None:
    store, ids = consultations(store_settings)
    # The auditor keeps the anchor's public key apart, and exports the log (logged).
    shown = run_faisceau(["audit", "public-key"], store_env).stdout
    pinned = tmp_path / "auditeur.pub"
    pinned.write_text(shown[shown.index("-----BEGIN"):], encoding="ascii")
    run_faisceau(["audit", "export", "--out", str(tmp_path / "journal.csv")], store_env)
    with store.begin() as conn:
        exported = [e for e in entries(conn) if e.record_kind == "journal"]
    assert [(e.action, e.record_id) for e in exported] == [("export", "export")]
    as_intruder(store, delete_newest(ids))
    store.dispose()
    done = run_faisceau(["audit", "verify", "--public-key", str(pinned)], store_env,
                        check=False)
    said = done.stdout + done.stderr
    assert done.returncode == 1, said
    assert f"Journal ALTÉRÉ à l'entrée {ids[-2]}" in said and "tronqué" in said, said
    assert "Journal intègre" not in said
