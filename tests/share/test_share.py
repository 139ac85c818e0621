"""Need-to-know, accounts and the consultation log: what the data-protection officer and
every user rely on.

- the access rule, for every role and distribution level, from inside and outside the
  owning unit, the central office and a sharing group;
- passwords are never stored, wrong ones delay the next attempt after five tries
  (tests/share/test_logins.py tries the rest);
- the consultation log chains its entries: the store refuses to change them, and a forged
  or altered entry is found by ``audit verify``.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import product

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from faisceau.config import Settings
from faisceau.share.access import LEVELS, READERS, ROLES, Distribution, Viewer, can_see
from faisceau.share.accounts import (
    AccountError,
    authenticate,
    create_user,
    seed_units,
)
from faisceau.share.audit import GENESIS, record, verify
from faisceau.store import open_store
from faisceau.store.bulk import utc_now
from faisceau.store.schema import consultation_log, share_unit, share_user
from tests.conftest import run_faisceau

OWNER, OTHER, CENTRAL = "DEP-13", "DEP-75", "OCRTEH"


def _expected(role: str, unit: str, in_group: bool, level: str) -> bool:
    if role not in READERS:
        return False
    if unit == OWNER:
        return True
    return {"own_unit": False, "all_units": True, "with_central": unit == CENTRAL,
            "group": in_group}[level]


@pytest.mark.parametrize(("role", "unit", "in_group", "level"),
                         list(product(ROLES, (OWNER, OTHER, CENTRAL), (False, True), LEVELS)))
def test_need_to_know_for_every_role_unit_and_level(role: str, unit: str, in_group: bool,
                                                    level: str) -> None:
    viewer = Viewer("x", role, unit, frozenset({"marseille-paris"} if in_group else ()))
    shared = Distribution(level, OWNER, "marseille-paris" if level == "group" else None)
    assert can_see(viewer, shared) is _expected(role, unit, in_group, level)


def test_accounts_hash_passwords_and_delay_after_five_failures(
        store_settings: Settings) -> None:
    store = open_store(store_settings)
    assert seed_units(store) == 102  # the central office and 101 départements
    assert seed_units(store) == 0
    create_user(store, "analyste1", "un mot de passe long", "analyst", CENTRAL)
    with store.begin() as conn:
        stored = conn.execute(select(share_user.c.password_hash)).scalar_one()
        units = conn.execute(select(share_unit.c.code)).scalars().all()
    assert "un mot de passe long" not in stored and stored.startswith("$argon2id$")
    assert {CENTRAL, "DEP-2A", "DEP-976"} <= set(units)
    with pytest.raises(AccountError, match="unité inconnue"):
        create_user(store, "x", "un mot de passe long", "analyst", "DEP-999")
    with pytest.raises(AccountError, match="rôle inconnu"):
        create_user(store, "x", "un mot de passe long", "chef", CENTRAL)
    with pytest.raises(AccountError, match="trop court"):
        create_user(store, "x", "court", "analyst", CENTRAL)

    assert authenticate(store, "analyste1", "un mot de passe long") is not None
    assert authenticate(store, "inconnu", "un mot de passe long") is None
    now = utc_now()
    for _ in range(5):
        assert authenticate(store, "analyste1", "mauvais mot de passe", now) is None
    # Delayed: even the right password is refused, until the delay is over.
    assert authenticate(store, "analyste1", "un mot de passe long", now) is None
    later = now + timedelta(minutes=16)
    assert authenticate(store, "analyste1", "un mot de passe long", later) is not None


def test_the_consultation_log_is_chained_and_append_only(store_settings: Settings) -> None:
    store = open_store(store_settings)
    viewer = Viewer("analyste1", "analyst", CENTRAL)
    with store.begin() as conn:
        first = record(conn, viewer, "view", "network", "n-1")
        record(conn, viewer, "search", "ad", "*", detail={"q": "téléphone"})
        record(conn, viewer, "view", "entity", "C00001-P002", reason="audition du 3 mars")
    result = verify(store)
    with store.begin() as conn:
        prevs = conn.execute(select(consultation_log.c.prev_hash)
                             .order_by(consultation_log.c.id)).scalars().all()
    assert result.entries == 3 and result.intact
    assert prevs[0] == GENESIS and prevs[1] == first
    for statement in ("UPDATE consultation_log SET reason = 'autre'",
                      "DELETE FROM consultation_log"):
        with pytest.raises(DBAPIError), store.begin() as conn:
            conn.execute(text(statement))
    # A forged entry slipped in with a made-up hash breaks the chain from there.
    with store.begin() as conn:
        conn.execute(consultation_log.insert().values(
            at=utc_now(), login="intrus", unit=CENTRAL, action="view", record_kind="network",
            record_id="n-2", prev_hash=GENESIS, hash="f" * 64))
        record(conn, viewer, "view", "network", "n-3")
    result = verify(store)
    assert result.entries == 4 and result.broken_at is not None


def test_cli_creates_accounts_and_verifies_the_log(store_env: dict[str, str]) -> None:
    run_faisceau(["units", "seed"], store_env)
    created = run_faisceau(["users", "add", "referent13", "--role", "referent", "--unit",
                            OWNER], {**store_env, "FAISCEAU_PASSWORD": "un mot de passe long"},
                           check=False)
    assert created.returncode == 0, created.stderr
    listed = run_faisceau(["users", "list"], store_env).stdout
    assert "referent13" in listed and "referent" in listed
    refused = run_faisceau(["users", "add", "x", "--role", "chef", "--unit", OWNER],
                           {**store_env, "FAISCEAU_PASSWORD": "un mot de passe long"},
                           check=False)
    assert refused.returncode == 2 and "rôle inconnu" in refused.stderr
    assert "intègre" in run_faisceau(["audit", "verify"], store_env).stdout


def test_retention_erases_people_whose_time_is_up_and_keeps_live_ones(
        store_settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from faisceau.intel.casefiles import import_case_files
    from faisceau.intel.people import judge
    from faisceau.share.retention import apply_retention
    from faisceau.store.schema import intel_entity, intel_statement

    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    (csv_dir / "cases.csv").write_text(
        "affaire_id;numero_procedure;unite_code;date_ouverture;date_cloture;statut\n"
        "OLD;2014/SD-13/1;SD-13;2014-01-01;2015-06-01;clôturée\n"
        "LIVE;2026/SD-13/2;SD-13;2026-01-01;;ouverte\n", encoding="utf-8")
    (csv_dir / "people.csv").write_text(
        "personne_id;affaire_id;categorie;role;nom;prenom\n"
        "OLD-S;OLD;suspect;proxénète;Martin;Paul\n"
        "OLD-V;OLD;victime;;Durand;Léa\n"
        "OLD-W;OLD;témoin;client;Blanc;Marc\n"
        "OLD-W2;OLD;témoin;voisin;Noir;Luc\n"
        "LIVE-W;LIVE;témoin;voisin;Noir;Luc\n", encoding="utf-8")
    store = open_store(store_settings)
    import_case_files(store, [csv_dir])
    judge(store, "LIVE-W", "OLD-W2", "positive", "analyste-test", "même voisin")
    today = date(2026, 11, 28)
    dry = apply_retention(store, today, dry_run=True)
    assert dry.due == {"witness": 1} and dry.kept_as_resolved == 1
    with store.begin() as conn:
        before = conn.execute(select(intel_entity.c.id)).scalars().all()
    assert "OLD-W" in before
    done = apply_retention(store, today, dry_run=False)
    with store.begin() as conn:
        after = set(conn.execute(select(intel_entity.c.id)).scalars())
        left = conn.execute(select(intel_statement.c.entity_id).where(
            intel_statement.c.entity_id.in_(["OLD-W", "OLD-W-party"]))).all()
    assert done.erased_entities == 2  # the witness and her link to the case
    assert "OLD-W" not in after and "OLD-W-party" not in after and left == []
    assert {"OLD-S", "OLD-V", "OLD-W2", "LIVE-W"} <= after


def test_case_files_belong_to_the_central_office_or_their_departement() -> None:
    from faisceau.share.access import owning_unit

    assert owning_unit("OCRTEH", "13") == CENTRAL
    assert owning_unit("SD-13", "13") == OWNER
    assert owning_unit("BPM-2A", "2A") == "DEP-2A"
    assert owning_unit(None, None) == CENTRAL
