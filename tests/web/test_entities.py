"""Case and entity pages, their API and link analysis, through HTTP, on both stores.

What investigators, analysts and the data-protection officer rely on:

- a unit sees the case files it may see (need-to-know: every role x unit x level), and a
  case or entity outside it answers exactly as one that does not exist;
- a person resolved across two cases shows, to a unit that may see one case only, that
  case's record and values, under that record's id, never the other case's;
- a path between two entities never goes through a record the viewer may not see;
- a victim, a minor or a runaway report is shown only with a reason, which is logged;
- every view of a case, an entity or a graph query is in the consultation log;
- the graph kept in memory follows the store when it changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import partial
from itertools import product
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, insert

from faisceau.config import Settings
from faisceau.intel.casefiles import import_case_files
from faisceau.intel.people import judge
from faisceau.share import audit
from faisceau.share.access import (
    LEVELS,
    READERS,
    ROLES,
    Distribution,
    Viewer,
    can_see,
    entity_distributions,
)
from faisceau.share.accounts import create_user, seed_units
from faisceau.store import Store, open_store
from faisceau.store.bulk import utc_now
from faisceau.store.schema import (
    intel_lead,
    network,
    share_distribution,
    share_group,
    share_group_member,
)
from faisceau.web.app import create_app
from tests.web.helpers import TOKEN, log_in

PASSWORD = "mot de passe de test"
OWNER, CENTRAL, IN_GROUP, OUTSIDE = "DEP-13", "OCRTEH", "DEP-75", "DEP-69"
GROUP = "marseille-paris"
_logged_in = partial(log_in, password=PASSWORD)
REASON = "Vérification dans l'enquête 2026/SD-13/0001"

CASES = ("affaire_id;numero_procedure;unite_code;unite;force;departement;commune_faits;"
         "type_affaire;cadre;origine;infractions;date_ouverture;date_interpellations;"
         "date_cloture;date_jugement;statut;issue;nb_mis_en_cause;nb_victimes_identifiees\n"
         "K1;2026/SD-13/0001;SD-13;Sûreté 13;PN;13;Marseille;réseau;préliminaire;signalement;"
         "traite des êtres humains;2026-02-01;;;;ouverte;en cours;2;1\n"
         "K2;2026/SD-69/0007;SD-69;Sûreté 69;PN;69;Lyon;réseau;préliminaire;signalement;"
         "proxénétisme aggravé;2026-03-01;;;;ouverte;en cours;2;0\n")
PEOPLE_HEADER = ("personne_id;affaire_id;categorie;statut;role;nom;prenom;sexe;date_naissance;"
                 "age_faits;age_annonce;mineur;nationalite;pays_residence;adresse;"
                 "commune_residence;telephones;emails;proche_de;lien\n")
# Phones: A is K1-P3's and K2-P2's, B is K2-P2's and K1-P5's; so a path from A to B goes
# through K2-P2 for whoever sees K2, and only through K1's own records otherwise.
PHONE_A, PHONE_B, PHONE_K2 = "+33622222222", "+33633333333", "+33699999999"
PEOPLE = (PEOPLE_HEADER +
          "K1-P1;K1;suspect;suspect;;Martin;Paul;M;1980-05-02;;;non;fr;FR;;;+33612345678;;;\n"
          "K1-P2;K1;victime;victime;;Durand;Léa;F;2009-01-03;17;19;oui;fr;FR;;;;;;\n"
          f"K1-P3;K1;témoin;témoin;;Blanc;Marc;M;1990-01-01;;;non;fr;FR;;;{PHONE_A};;;\n"
          f"K1-P5;K1;suspect;suspect;;Roux;Jean;M;1985-03-03;;;non;fr;FR;;;{PHONE_B};;;\n"
          f"K2-P1;K2;suspect;suspect;;Martin;Paul;M;1980-05-02;;;non;fr;FR;;;{PHONE_K2};;;\n"
          f"K2-P2;K2;suspect;suspect;;Bernard;Hugo;M;1975-07-07;;;non;fr;FR;;;"
          f"{PHONE_A}|{PHONE_B};;;\n")
EXTRA_CASE = ("affaire_id;numero_procedure;unite_code;unite;force;departement;commune_faits;"
              "type_affaire;cadre;origine;infractions;date_ouverture;date_interpellations;"
              "date_cloture;date_jugement;statut;issue;nb_mis_en_cause;"
              "nb_victimes_identifiees\n"
              "K3;2026/SD-13/0002;SD-13;Sûreté 13;PN;13;Aix;réseau;préliminaire;signalement;"
              "proxénétisme;2026-04-01;;;;ouverte;en cours;1;0\n")
EXTRA_PEOPLE = (PEOPLE_HEADER +
                f"K3-P1;K3;suspect;suspect;;Petit;Noé;M;1999-09-09;;;non;fr;FR;;;{PHONE_A};;;\n")


# Accounts most tests use (password hashing is slow: the matrix adds the others itself).
BASIC_ACCOUNTS = (("analyst", OWNER), ("analyst", CENTRAL), ("analyst", IN_GROUP),
                  ("analyst", OUTSIDE), ("referent", OWNER), ("investigator", OWNER),
                  ("investigator", OUTSIDE))


def _write(root: Path, cases: str, people: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "cases.csv").write_text(cases, encoding="utf-8")
    (root / "people.csv").write_text(people, encoding="utf-8")
    return root


@pytest.fixture
def store(store_settings: Settings, tmp_path: Path) -> Iterator[Store]:
    """Two cases (Marseille, Lyon), a person resolved across both, accounts of every role in
    the owning unit, the central office, a unit of the sharing group and another unit."""
    store = open_store(store_settings)
    summary = import_case_files(store, [_write(tmp_path / "csv", CASES, PEOPLE)], "tableur")
    assert summary.set_aside == []
    judge(store, "K1-P1", "K2-P1", "positive", "analyste test")
    seed_units(store)
    for role, unit in BASIC_ACCOUNTS:
        create_user(store, f"{role}-{unit}".lower(), PASSWORD, role, unit)
    with store.begin() as conn:
        conn.execute(insert(share_group).values(name=GROUP, created_at=utc_now()))
        conn.execute(insert(share_group_member).values(group_name=GROUP, unit=IN_GROUP))
    yield store
    store.dispose()


def _app(store: Store) -> Any:
    app = create_app(store.settings)
    return app


def _distribute(store: Store, kind: str, record_id: str, level: str) -> None:
    with store.begin() as conn:
        conn.execute(delete(share_distribution))
        conn.execute(insert(share_distribution).values(
            record_kind=kind, record_id=record_id, level=level, owner_unit=OWNER,
            group_name=GROUP if level == "group" else None, set_by="test", set_at=utc_now()))


def _log(store: Store, login: str) -> list[audit.Entry]:
    with store.begin() as conn:
        return list(audit.entries(conn, login=login))


def _viewer(role: str, unit: str) -> Viewer:
    return Viewer("x", role, unit, frozenset({GROUP}) if unit == IN_GROUP else frozenset())


def _clients_of_every_role(store: Store) -> dict[tuple[str, str], TestClient]:
    """A logged-in client for every role in the owning unit, the central office, a unit of
    the sharing group and another unit."""
    for role, unit in product(ROLES, (OWNER, CENTRAL, IN_GROUP, OUTSIDE)):
        if (role, unit) not in BASIC_ACCOUNTS:
            create_user(store, f"{role}-{unit}".lower(), PASSWORD, role, unit)
    app = _app(store)
    return {(role, unit): _logged_in(TestClient(app), f"{role}-{unit}".lower())
            for role, unit in product(ROLES, (OWNER, CENTRAL, IN_GROUP, OUTSIDE))}


# --- Need-to-know ----------------------------------------------------------------------------


def test_no_role_unit_or_level_leaks_a_case_or_its_people(store: Store) -> None:
    clients = _clients_of_every_role(store)
    for level in LEVELS:
        _distribute(store, "case", "K1", level)
        shared = Distribution(level, OWNER, GROUP if level == "group" else None)
        for (role, unit), web in clients.items():
            what = (level, role, unit)
            sees = can_see(_viewer(role, unit), shared)
            case = web.get("/api/dossiers/K1")
            page = web.get("/dossiers/K1")
            person = web.get("/api/entites/K1-P3")
            person_page = web.get("/entites/K1-P3")
            listed = web.get("/api/dossiers")
            if role not in READERS:
                assert {case.status_code, page.status_code, person.status_code,
                        person_page.status_code, listed.status_code} == {403}, what
                continue
            listed_ids = [c["case_id"] for c in listed.json()["cases"]]
            if sees:
                assert case.status_code == page.status_code == 200, what
                assert person.status_code == person_page.status_code == 200, what
                assert "K1" in listed_ids, what
                assert "Marc Blanc" in person_page.text and "Marc Blanc" in page.text, what
            else:
                # Exactly the answer for a case or an entity that does not exist.
                assert case.status_code == page.status_code == 404, what
                assert case.json() == web.get("/api/dossiers/K9").json(), what
                assert person.status_code == person_page.status_code == 404, what
                assert person.json() == web.get("/api/entites/K9-P9").json(), what
                assert "K1" not in listed_ids and "Blanc" not in person_page.text, what
            # Lyon's case keeps its default (the owning unit and the central office).
            assert ("K2" in listed_ids) == (unit in (OUTSIDE, CENTRAL)), what
    # Refusals are logged, once per refused read, with why.
    denied = [e for e in _log(store, f"analyst-{OUTSIDE}".lower()) if e.action == "denied"]
    assert {(e.record_kind, e.record_id) for e in denied} >= {("case", "K1"),
                                                               ("entity", "K1-P3")}
    # A hidden record and a missing one answer alike; only the log tells them apart.
    assert {(e.record_id, orjson.loads(e.detail or "{}")["why"]) for e in denied} == {
        ("K1", "need-to-know"), ("K1-P3", "need-to-know"), ("K9", "unknown"),
        ("K9-P9", "unknown")}
    auditor = [e for e in _log(store, f"auditor-{OWNER}".lower()) if e.action == "denied"]
    assert auditor and all(orjson.loads(e.detail or "{}")["why"] == "role" for e in auditor)


def test_an_entity_follows_its_case_unless_it_has_a_distribution_of_its_own(
        store: Store) -> None:
    _distribute(store, "case", "K1", "all_units")
    with store.begin() as conn:
        conn.execute(insert(share_distribution).values(
            record_kind="entity", record_id="K1-P3", level="own_unit", owner_unit=OWNER,
            set_by="test", set_at=utc_now()))
        seen = entity_distributions(conn, ["K1-P1", "K1-P3", "K2-P2", "K1"])
    assert seen["K1-P1"] == Distribution("all_units", OWNER)
    assert seen["K1-P3"] == Distribution("own_unit", OWNER)
    assert seen["K2-P2"] == Distribution("with_central", "DEP-69")
    app = _app(store)
    paris = _logged_in(TestClient(app), f"analyst-{IN_GROUP}".lower())
    assert paris.get("/api/entites/K1-P1").status_code == 200
    assert paris.get("/api/entites/K1-P3").status_code == 404
    case = paris.get("/api/dossiers/K1").json()
    shown = [p["id"] for group in ("suspects", "victims", "witnesses", "others")
             for p in case[group]]
    assert "K1-P1" in shown and "K1-P3" not in shown
    assert PHONE_A not in orjson.dumps(case).decode()
    # Nor is it counted among the case's witnesses (K1 has no other).
    row = next(c for c in paris.get("/api/dossiers").json()["cases"] if c["case_id"] == "K1")
    assert row["witnesses"] == 0 and case["case"]["witnesses"] == 0
    # Nor does the export name it, not even as the party of a link the case holds.
    export = paris.get("/api/dossiers/K1/export.ftm", params={"motif": REASON})
    assert export.status_code == 200 and "K1-P1" in export.text
    assert "K1-P3" not in export.text and "Blanc" not in export.text


def test_a_person_across_two_cases_shows_only_the_cases_the_viewer_may_see(
        store: Store) -> None:
    app = _app(store)
    marseille = _logged_in(TestClient(app), f"analyst-{OWNER}".lower())
    lyon = _logged_in(TestClient(app), f"investigator-{OUTSIDE}".lower())
    central = _logged_in(TestClient(app), f"analyst-{CENTRAL}".lower())

    everything = central.get("/api/entites/K1-P1").json()
    assert [m["id"] for m in everything["members"]] == ["K1-P1", "K2-P1"]
    phones = {v["value"]: v["sources"] for v in everything["values"] if v["prop"] == "phone"}
    assert set(phones) == {"+33612345678", PHONE_K2}
    assert phones[PHONE_K2][0]["case_id"] == "K2"
    assert phones[PHONE_K2][0]["origin"] == "people.csv:6"
    assert phones[PHONE_K2][0]["dataset"] == "tableur"

    mine = marseille.get("/api/entites/K1-P1").json()
    assert [m["id"] for m in mine["members"]] == ["K1-P1"]
    assert PHONE_K2 not in orjson.dumps(mine).decode()
    assert "K2" not in orjson.dumps(mine).decode()
    # From Marseille, the other case's record does not exist.
    assert marseille.get("/api/entites/K2-P1").status_code == 404

    theirs = lyon.get("/api/entites/K2-P1").json()
    # Shown under Lyon's own record, never under the id of Marseille's (the canonical one).
    assert theirs["node"] == "K2-P1"
    assert "K1" not in orjson.dumps(theirs).decode()
    page = lyon.get("/entites/K2-P1").text
    assert "K1-P1" not in page and PHONE_K2 in page and "people.csv:6" in page


# --- Link analysis ---------------------------------------------------------------------------


def _ids(graph: dict[str, Any]) -> list[str]:
    return [n["id"] for n in graph["nodes"]]


def test_neighbours_and_paths_stay_inside_what_the_viewer_may_see(store: Store) -> None:
    app = _app(store)
    marseille = _logged_in(TestClient(app), f"analyst-{OWNER}".lower())
    central = _logged_in(TestClient(app), f"analyst-{CENTRAL}".lower())

    wide = central.get("/api/graphe/chemin", params={"de": f"phone:{PHONE_A}",
                                                     "a": f"phone:{PHONE_B}"}).json()
    assert wide["found"]
    assert set(_ids(wide)) == {f"phone:{PHONE_A}", "K2-P2", f"phone:{PHONE_B}"}
    assert {e["label"] for e in wide["edges"]} == {"utilise"}

    narrow = marseille.get("/api/graphe/chemin", params={"de": f"phone:{PHONE_A}",
                                                         "a": f"phone:{PHONE_B}"}).json()
    assert narrow["found"]
    assert set(_ids(narrow)) == {f"phone:{PHONE_A}", "K1-P3", "K1", "K1-P5",
                                 f"phone:{PHONE_B}"}
    assert "K2" not in orjson.dumps(narrow).decode()

    around = marseille.get("/api/graphe/voisins",
                           params={"entite": "K1-P1", "profondeur": 2}).json()
    assert "K1-P1" in _ids(around) and "K1" in _ids(around)
    assert not [i for i in _ids(around) if "K2" in i or PHONE_K2 in i]
    wider = central.get("/api/graphe/voisins", params={"entite": "K2-P1"}).json()
    # Central sees the person under its resolved id, with both cases and both phones.
    assert {"K1-P1", "K1", "K2", f"phone:{PHONE_K2}"} <= set(_ids(wider))

    # An entity outside need-to-know is unknown to the graph as well.
    for params in ({"entite": "K2-P2"}, {"entite": f"phone:{PHONE_K2}"},
                   {"entite": "inconnu"}):
        refused = marseille.get("/api/graphe/voisins", params=params)
        assert refused.status_code == 404 and refused.json() == {
            "detail": "Entité introuvable."}
    assert marseille.get("/api/graphe/chemin",
                         params={"de": "K1-P1", "a": "K2-P2"}).status_code == 404
    assert marseille.get("/api/graphe/voisins",
                         params={"entite": "K1-P1", "profondeur": 3}).status_code == 422

    logged = [e for e in _log(store, f"analyst-{OWNER}".lower())
              if e.record_kind == "graph" and e.action == "view"]
    assert logged[0].record_id == f"chemin:phone:{PHONE_A}:phone:{PHONE_B}"
    assert set(orjson.loads(logged[0].detail or "{}")["nodes"]) == set(_ids(narrow))
    assert any(e.record_kind == "graph" and e.action == "denied"
               for e in _log(store, f"analyst-{OWNER}".lower()))


def test_the_graph_is_kept_and_rebuilt_when_the_store_changes(store: Store,
                                                              tmp_path: Path) -> None:
    app = _app(store)
    with TestClient(app) as client:
        web = _logged_in(client, f"analyst-{OWNER}".lower())
        before = web.get("/api/graphe/voisins", params={"entite": f"phone:{PHONE_A}"}).json()
        cache = app.state.entity_graph
        assert cache.builds == 1
        web.get("/api/graphe/voisins", params={"entite": "K1-P1"})
        assert cache.builds == 1  # kept
        import_case_files(store, [_write(tmp_path / "more", EXTRA_CASE, EXTRA_PEOPLE)])
        after = web.get("/api/graphe/voisins", params={"entite": f"phone:{PHONE_A}"}).json()
        assert cache.builds == 2
        assert "K3-P1" in _ids(after) and "K3-P1" not in _ids(before)
        # A restriction applies at once, and without rebuilding the combined graph.
        with store.begin() as conn:
            conn.execute(delete(share_distribution))
            conn.execute(insert(share_distribution).values(
                record_kind="case", record_id="K3", level="own_unit", owner_unit="DEP-01",
                set_by="test", set_at=utc_now()))
        hidden = web.get("/api/graphe/voisins", params={"entite": f"phone:{PHONE_A}"}).json()
        assert "K3-P1" not in _ids(hidden) and cache.builds == 2


# --- Sensitive views -------------------------------------------------------------------------


def test_a_victim_is_shown_only_with_a_reason_and_the_reason_is_logged(store: Store) -> None:
    app = _app(store)
    web = _logged_in(TestClient(app), f"analyst-{OWNER}".lower())
    login = f"analyst-{OWNER}".lower()

    def victim_node() -> dict[str, Any]:
        graph = web.get("/api/graphe/voisins", params={"entite": "K1"}).json()
        return next(n for n in graph["nodes"] if n["id"] == "K1-P2")

    # In the graph too, the victim is a masked node until a reason is given.
    assert victim_node()["masked"] and "Durand" not in victim_node()["label"]
    missing = web.get("/api/entites/K1-P2")
    assert missing.status_code == 428 and "Motif de consultation requis" in missing.json()[
        "detail"]
    assert web.get("/api/entites/K1-P2", params={"motif": "trop"}).status_code == 428
    assert not [e for e in _log(store, login) if e.record_id == "K1-P2"]

    shown = web.get("/api/entites/K1-P2", params={"motif": REASON})
    assert shown.status_code == 200 and shown.json()["caption"] == "Léa Durand"
    # One reason covers the person for the rest of the session; each view logs it.
    assert web.get("/api/entites/K1-P2").status_code == 200
    views = [e for e in _log(store, login) if e.record_id == "K1-P2" and e.action == "view"]
    assert [e.reason for e in views] == [REASON, REASON]
    assert victim_node()["label"] == "Léa Durand"
    # Another session must give its own reason.
    other = _logged_in(TestClient(app), f"referent-{OWNER}".lower())
    assert other.get("/api/entites/K1-P2").status_code == 428
    assert other.get("/api/entites/K1-P2",
                     headers={"X-Motif-Consultation": "controle qualite du fichier"}
                     ).status_code == 200

    # The page asks for the reason in a form (with the CSRF token), then shows the person.
    pages = _logged_in(TestClient(app), f"investigator-{OWNER}".lower())
    form = pages.get("/entites/K1-P2")
    assert form.status_code == 200 and "Motif de consultation" in form.text
    assert "Durand" not in form.text
    token = TOKEN.search(form.text)
    assert token
    short = pages.post("/entites/K1-P2/motif", data={"motif": "court",
                                                     "csrf_token": token.group(1)})
    assert short.status_code == 400 and "Durand" not in short.text
    assert pages.post("/entites/K1-P2/motif",
                      data={"motif": REASON}).status_code == 403  # no CSRF token
    done = pages.post("/entites/K1-P2/motif", data={"motif": REASON,
                                                    "csrf_token": token.group(1)},
                      follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/entites/K1-P2"
    page = pages.get("/entites/K1-P2")
    assert "Léa Durand" in page.text and "people.csv:3" in page.text
    assert [e.reason for e in _log(store, f"investigator-{OWNER}".lower())
            if e.record_id == "K1-P2" and e.action == "view"] == [REASON]
    # A hidden entity gets no form: the same 404.
    lyon = _logged_in(TestClient(app), f"analyst-{OUTSIDE}".lower())
    assert lyon.get("/entites/K1-P2").status_code == 404
    assert lyon.get("/api/entites/K1-P2", params={"motif": REASON}).status_code == 404


def test_a_case_masks_its_victims_until_a_reason_is_given(store: Store) -> None:
    with store.begin() as conn:
        now = utc_now()
        conn.execute(insert(network).values(id="n-0000000000000001", created_at=now,
                                            updated_at=now, status="active", ads=0))
        conn.execute(insert(intel_lead).values(
            id="lead-1", network_id="n-0000000000000001", entity_id="K1-P1", case_id="K1",
            kind="phone", value="+33612345678", ads=3, evidence="[]", strength=0.9,
            found_at=now, updated_at=now))
    app = _app(store)
    web = _logged_in(TestClient(app), f"analyst-{OWNER}".lower())
    login = f"analyst-{OWNER}".lower()
    masked = web.get("/api/dossiers/K1").json()
    assert masked["reason_required"] is True
    assert [(p["id"], p["caption"], p["masked"]) for p in masked["victims"]] == [
        ("K1-P2", None, True)]
    assert [p["caption"] for p in masked["suspects"]] == ["Paul Martin", "Jean Roux"]
    assert [w["caption"] for w in masked["witnesses"]] == ["Marc Blanc"]
    assert [(x["network_id"], x["entity_id"]) for x in masked["leads"]] == [
        ("n-0000000000000001", "K1-P1")]
    page = web.get("/dossiers/K1")
    assert "Durand" not in page.text and "identité masquée" in page.text
    assert 'href="/entites/K1-P1"' in page.text
    assert 'href="/reseaux/n-0000000000000001"' in page.text
    token = TOKEN.search(page.text)
    assert token
    done = web.post("/dossiers/K1/motif", data={"motif": REASON,
                                                "csrf_token": token.group(1)},
                    follow_redirects=False)
    assert done.status_code == 303
    shown = web.get("/dossiers/K1")
    assert "Léa Durand" in shown.text
    assert web.get("/api/dossiers/K1").json()["victims"][0]["caption"] == "Léa Durand"
    views = [e for e in _log(store, login) if e.record_kind == "case" and e.record_id == "K1"]
    assert [(e.action, e.reason) for e in views] == [("view", None), ("view", None),
                                                     ("view", REASON), ("view", REASON)]
    listed = web.get("/dossiers")
    assert 'href="/dossiers/K1"' in listed.text and 'href="/dossiers/K2"' not in listed.text
    assert [e.record_id for e in _log(store, login) if e.record_kind == "case"][-1] == "liste"


def test_the_entity_page_lists_links_and_carries_the_graph_without_inline_script(
        store: Store) -> None:
    app = _app(store)
    web = _logged_in(TestClient(app), f"analyst-{CENTRAL}".lower())
    page = web.get("/entites/K1-P3")
    assert page.status_code == 200
    assert 'href="/entites/K2-P2"' not in page.text  # not a neighbour: through the phone
    assert PHONE_A in page.text and 'href="/dossiers/K1"' in page.text
    assert 'id="graphe" data-node="K1-P3"' in page.text
    assert '<script src="/static/vendor/cytoscape.min.js"' in page.text
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text)  # no inline script
    assert not re.search(r"\sstyle=", page.text)
    assert web.get("/static/graphe.js").status_code == 200
    assert web.get("/static/graphe.css").status_code == 200
    entries = [e for e in _log(store, f"analyst-{CENTRAL}".lower())
               if e.record_kind == "entity" and e.record_id == "K1-P3"]
    assert len(entries) == 1 and entries[0].action == "view"
    assert f"phone:{PHONE_A}" in orjson.loads(entries[0].detail or "{}")["neighbours"]


def test_a_store_without_case_files_answers_not_found(store_settings: Settings) -> None:
    store = open_store(store_settings)
    seed_units(store)
    create_user(store, "analyst-ocrteh", PASSWORD, "analyst", CENTRAL)
    web = _logged_in(TestClient(_app(store)), "analyst-ocrteh")
    assert web.get("/api/dossiers").json() == {"cases": []}
    assert "Aucun dossier consultable" in web.get("/dossiers").text
    for path in ("/api/graphe/voisins?entite=0", "/api/graphe/chemin?de=a&a=b",
                 "/api/entites/0", "/api/dossiers/0"):
        assert web.get(path).status_code == 404, path
    store.dispose()


# --- Exporting a case ------------------------------------------------------------------------
# The same need-to-know as its page, a reason when it holds a victim, only its own records
# (never the values another file holds on the same person), and the export in the log.

EXPORT_URL = "/api/dossiers/K1/export.ftm"


def _entities(text: str) -> dict[str, dict]:  # type: ignore[type-arg]
    return {e["id"]: e for e in map(orjson.loads, text.splitlines())}


def test_the_export_holds_the_cases_own_records_with_a_reason_and_is_logged(
        store: Store) -> None:
    login = f"analyst-{OWNER}".lower()
    web = _logged_in(TestClient(_app(store)), login)
    refused = web.get(EXPORT_URL)
    assert refused.status_code == 428 and "motif" in refused.json()["detail"].lower()
    done = web.get(EXPORT_URL, params={"motif": REASON})
    assert done.status_code == 200
    assert "attachment" in done.headers["content-disposition"]
    entities = _entities(done.text)
    assert {"K1", "K1-P1", "K1-P2", "K1-P3", "K1-P5"} <= set(entities)
    assert not [i for i in entities if i.startswith("K2")]
    # K1-P1 is resolved to K2-P1 (the same man): his Lyon phone stays in Lyon's file.
    assert PHONE_K2 not in done.text
    assert entities["K1-P2"]["schema"] == "Person"
    assert any("people.csv" in o for o in entities["K1-P2"].get("origin", []))
    with store.begin() as conn:
        exported = [e for e in audit.entries(conn, login=login) if e.action == "export"]
    assert [(e.record_kind, e.record_id, e.reason) for e in exported] == [("case", "K1", REASON)]
    again = web.get(EXPORT_URL)  # the reason holds for the session, as on the page
    assert again.status_code == 200


def test_no_role_unit_or_level_exports_what_it_may_not_see(store: Store) -> None:
    clients = _clients_of_every_role(store)
    for level in LEVELS:
        _distribute(store, "case", "K1", level)
        shared = Distribution(level, OWNER, GROUP if level == "group" else None)
        for (role, unit), web in clients.items():
            answer = web.get(EXPORT_URL, params={"motif": REASON})
            missing = web.get("/api/dossiers/INCONNU/export.ftm", params={"motif": REASON})
            what = (level, role, unit)
            if role not in READERS:
                assert answer.status_code == 403, what
            elif can_see(_viewer(role, unit), shared):
                assert answer.status_code == 200 and "K1-P1" in answer.text, what
            else:
                assert answer.status_code == 404, what
                assert answer.json() == missing.json(), what
