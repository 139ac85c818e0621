"""The auditor's pages over the consultation log: what the data-protection officer relies on.

Only auditors read the log; filters find one user's or one record's consultations; a
tampered entry, the newest entries removed and a missing anchor show at verification; the
CSV export holds exactly the filtered entries and is logged in its turn; every reading of
the log is itself in the log.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import text

from faisceau.config import Settings
from faisceau.share import audit
from faisceau.share.access import Viewer
from faisceau.share.accounts import create_user, seed_units
from faisceau.store import Store, open_store
from tests.share.test_log_truncation import as_intruder
from tests.web.test_app import PASSWORD, client, login

ANALYST = Viewer("alice", "analyst", "OCRTEH")
REFERENT = Viewer("bruno", "referent", "DEP-13")


@pytest.fixture
def logged(store_settings: Settings) -> Iterator[Store]:
    """Accounts and a log with a few known entries, on each backend."""
    store = open_store(store_settings)
    seed_units(store)
    for login_, role, unit in (("alice", "analyst", "OCRTEH"), ("bruno", "referent", "DEP-13"),
                               ("eve", "auditor", "OCRTEH"), ("adam", "admin", "OCRTEH")):
        create_user(store, login_, PASSWORD, role, unit, name=login_.capitalize())
    with store.begin() as conn:
        audit.record(conn, ANALYST, "view", "network", "N-1", at=datetime(2026, 3, 1, 9))
        audit.record(conn, REFERENT, "search", "ad", "recherche", detail={"q": "massage"},
                     at=datetime(2026, 3, 2, 10))
        audit.record(conn, ANALYST, "view", "entity", "victime-7", reason="vérification de "
                     "l'identité pour l'audition du 3 mars", at=datetime(2026, 3, 3, 11))
    yield store
    store.dispose()


def _rows(csv_text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(csv_text), delimiter=";"))


def test_only_auditors_read_the_log_and_refusals_are_logged(logged: Store) -> None:
    for who in ("alice", "bruno", "adam"):
        with client(logged) as web:
            login(web, who)
            for path in ("/journal", "/api/journal", "/journal/verification",
                         "/api/journal/verification", "/api/journal/export.csv"):
                response = web.get(path)
                assert response.status_code == 403, (who, path)
                assert "réservé aux auditeurs" in response.text
    with logged.begin() as conn:
        denied = [e for e in audit.entries(conn, record_kind="journal")]
    assert {e.login for e in denied} == {"alice", "bruno", "adam"}
    assert {e.action for e in denied} == {"denied"}


def test_filters_find_a_users_and_a_records_consultations(logged: Store) -> None:
    with client(logged) as web:
        login(web, "eve")
        everything = web.get("/api/journal").json()
        assert everything["total"] == 3
        assert [e["record_id"] for e in everything["entries"]] == ["victime-7", "recherche",
                                                                   "N-1"]  # newest first
        alice = web.get("/api/journal", params={"identifiant": "alice"}).json()
        assert [e["record_id"] for e in alice["entries"]] == ["victime-7", "N-1"]
        reasons = web.get("/api/journal", params={"motifs": "1"}).json()["entries"]
        assert [e["reason"] for e in reasons] == [
            "vérification de l'identité pour l'audition du 3 mars"]
        one_day = web.get("/api/journal", params={"du": "2026-03-02", "au": "2026-03-02"})
        assert [e["record_id"] for e in one_day.json()["entries"]] == ["recherche"]
        searches = web.get("/api/journal", params={"action": "search", "unite": "DEP-13"})
        assert searches.json()["total"] == 1
        assert web.get("/api/journal", params={"du": "hier"}).status_code == 400
        assert web.get("/api/journal", params={"action": "effacer"}).status_code == 400

        paged = web.get("/api/journal", params={"limite": 2}).json()
        assert len(paged["entries"]) == 2 and paged["next_before"] is not None
        rest = web.get("/api/journal", params={"limite": 2, "avant": paged["next_before"]})
        ids = [e["id"] for e in paged["entries"] + rest.json()["entries"]]
        assert len(ids) == len(set(ids))  # pages do not overlap

        page = web.get("/journal", params={"identifiant": "bruno"})
        assert page.status_code == 200
        assert "recherche" in page.text and "victime-7" not in page.text


def test_every_reading_of_the_log_is_logged_and_the_chain_stays_intact(logged: Store) -> None:
    with client(logged) as web:
        login(web, "eve")
        web.get("/journal", params={"identifiant": "alice"})
        verdict = web.get("/api/journal/verification").json()
    assert verdict["intact"] and verdict["broken_at"] is None
    with logged.begin() as conn:
        own = list(audit.entries(conn, login="eve"))
        assert [(e.action, e.record_id) for e in own] == [("view", "lecture"),
                                                          ("view", "verification")]
        assert '"filters":{"login":"alice"}' in (own[0].detail or "")
    assert audit.verify(logged).intact


def test_verification_shows_a_tampered_entry(logged: Store) -> None:
    with logged.begin() as conn:
        target = next(audit.entries(conn, record_id="recherche")).id
    as_intruder(logged, lambda conn: conn.execute(
        text("UPDATE consultation_log SET login = 'quelquun' WHERE id = :i"), {"i": target}))
    with client(logged) as web:
        login(web, "eve")
        page = web.get("/journal/verification")
        assert page.status_code == 200
        assert f"Journal ALTÉRÉ à l'entrée n° {target}" in page.text
        api = web.get("/api/journal/verification").json()
        assert not api["intact"] and api["broken_at"] == target


def test_verification_shows_the_newest_entries_removed(logged: Store) -> None:
    with logged.begin() as conn:
        newest = max(e.id for e in audit.entries(conn))
    as_intruder(logged, lambda conn: conn.execute(
        text("DELETE FROM consultation_log WHERE id = :i"), {"i": newest}))
    with client(logged) as web:
        login(web, "eve")
        page = web.get("/journal/verification")
        assert f"Journal ALTÉRÉ à l'entrée n° {newest}" in page.text
        assert "le journal a été tronqué" in page.text and "Journal intègre" not in page.text
        api = web.get("/api/journal/verification").json()
    assert not api["intact"] and api["broken_at"] == newest
    assert api["anchored_to"] >= newest and api["anchor_problem"] is None


def test_verification_without_its_anchor_vouches_for_nothing(logged: Store) -> None:
    for path in logged.settings.home.glob("audit-*"):
        path.unlink()  # the key and the anchor, as if they had never been written
    with client(logged) as web:
        login(web, "eve")
        page = web.get("/journal/verification")
        assert "Journal NON VÉRIFIABLE : aucun point d&#39;ancrage" in page.text
        assert "Journal intègre" not in page.text
        api = web.get("/api/journal/verification").json()
    assert not api["intact"] and api["broken_at"] is None
    assert api["anchor_problem"] == audit.NO_ANCHOR and api["checkpoints"] == 0


def test_the_csv_export_holds_the_filtered_entries_and_is_logged(logged: Store) -> None:
    with client(logged) as web:
        login(web, "eve")
        response = web.get("/api/journal/export.csv", params={"identifiant": "alice"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = _rows(response.text)
    assert rows[0] == ["id", *audit.FIELDS, "prev_hash", "hash"]
    assert [r[6] for r in rows[1:]] == ["N-1", "victime-7"]  # in order, record ids
    with logged.begin() as conn:
        exported = [e for e in audit.entries(conn, login="eve") if e.action == "export"]
        chain = {e.id: e.hash for e in audit.entries(conn)}
    assert len(exported) == 1 and '"entries":2' in (exported[0].detail or "")
    # The exported hashes are the log's own: the auditor can check them elsewhere.
    assert all(chain[int(r[0])] == r[-1] for r in rows[1:])


def test_the_csv_export_cannot_run_in_a_spreadsheet(logged: Store) -> None:
    """A record id or a reason typed by a user is attacker text: a cell that begins with
    ``=``, ``+``, ``-`` or ``@`` is written quoted (spreadsheets show it as text), and the
    project's reader gives the logged values back, so the hashes can still be checked."""
    from faisceau.export import safecsv

    hostile = ('=HYPERLINK("http://evil.example","clic")', "@SUM(1+1)*cmd|' /C calc'!A0")
    with logged.begin() as conn:
        audit.record(conn, ANALYST, "view", "ad", hostile[0], reason=hostile[1],
                     at=datetime(2026, 3, 4, 9))
    with client(logged) as web:
        login(web, "eve")
        response = web.get("/api/journal/export.csv")
    assert response.status_code == 200
    rows = _rows(response.text)
    assert not [c for r in rows for c in r if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    restored = list(safecsv.reader(io.StringIO(response.text), delimiter=";"))
    assert [(r[6], r[8]) for r in restored if r[6] == hostile[0]] == [hostile]
