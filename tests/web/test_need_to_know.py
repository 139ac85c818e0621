"""Need-to-know on every view, as an attacker inside the police would try it (issue 14).

A small world on both stores: three networks of ads (one in Marseille, one in Marseille and
Lyon, one in Lyon), a Marseille case with a suspect, a victim and a minor witness whose
phones and names the ads show, and leads between them. Accounts: the central office, the
Marseille and Lyon referents, a Paris analyst, an administrator.

What users rely on:

- an ad given a distribution of its own (by ``source:ad_id``, as the administration takes
  it) is hidden from every view that lists ads: its page, search hits and counts, the
  network page (its id, name, commune, dates, phones, evidence, reasons, timeline, counts),
  the queue's counts, leads' evidence, the link graph; a network whose every ad is hidden
  is hidden;
- a victim's, a minor's names, phones and e-mails appear in no page or API answer without
  a reason, and appear, logged with the reason, with one;
- a territorial unit decides only on networks in its département, and dismisses only those
  wholly in it; a refusal is logged;
- a hidden record and a missing one answer alike, by the same SQL statements.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, text

from faisceau.config import Settings
from faisceau.ingest.pipeline import Ingestor
from faisceau.intel.casefiles import import_case_files
from faisceau.intel.leads import find_leads
from faisceau.intel.people import judge
from faisceau.score.review import history, record_decision
from faisceau.score.run import detect_and_score
from faisceau.share import audit
from faisceau.share.accounts import create_user, seed_units
from faisceau.store import Store, open_store
from faisceau.store.bulk import utc_now
from faisceau.store.schema import network_event
from faisceau.web.app import create_app
from tests.web.helpers import TOKEN, Statements, log_in

PASSWORD = "mot de passe de test"
REASON = "Vérification dans l'enquête 2026/SD-13/0001"
P_A, P_X, P_B, P_C = "+33611111111", "+33622222222", "+33633333333", "+33644444444"
P_MINOR, MAIL_VICTIM, MAIL_MINOR = "+33666666666", "lea.durand@exemple.fr", \
    "zoe.petit@exemple.fr"
ADS = [
    {"ad_id": "a1", "seen_at": "2026-03-02T08:00:00Z", "title": "Massage relaxant",
     "text": "Douce à Marseille, appelle 06 11 11 11 11", "location": "13006",
     "phone": "06 11 11 11 11", "name": "Lola", "age": "24 ans"},
    {"ad_id": "a2", "seen_at": "2026-03-03T08:00:00Z", "title": "Massage détente",
     "text": "Nouvelle à Marseille 06 11 11 11 11", "location": "13001",
     "phone": "06 11 11 11 11", "name": "Lola", "age": "24 ans"},
    # Aix, the only ad with the second phone: what its distribution must hide.
    {"ad_id": "a3", "seen_at": "2026-03-05T08:00:00Z", "title": "Jeune et nouvelle",
     "text": "Lola à Aix, 06 11 11 11 11 ou 06 22 22 22 22", "location": "13090",
     "phone": "06 11 11 11 11", "name": "Lola", "age": "24 ans"},
    {"ad_id": "b1", "seen_at": "2026-03-02T09:00:00Z", "title": "Léa massage",
     "text": "Léa à Marseille 06 33 33 33 33", "location": "13002",
     "phone": "06 33 33 33 33", "name": "Léa"},
    {"ad_id": "b2", "seen_at": "2026-03-03T09:00:00Z", "title": "De passage à Lyon",
     "text": "Léa de passage à Lyon 06 33 33 33 33", "location": "69003",
     "phone": "06 33 33 33 33", "name": "Léa"},
    {"ad_id": "c1", "seen_at": "2026-03-02T10:00:00Z", "title": "Salon à Lyon",
     "text": "Salon Lyon 06 44 44 44 44", "location": "69007", "phone": "06 44 44 44 44",
     "name": "Jade"},
    {"ad_id": "c2", "seen_at": "2026-03-03T10:00:00Z", "title": "Salon Lyon",
     "text": "Salon Lyon 7e 06 44 44 44 44", "location": "69007",
     "phone": "06 44 44 44 44", "name": "Jade"},
]
CASES = ("affaire_id;numero_procedure;unite_code;departement;date_ouverture;statut\n"
         "K1;2026/SD-13/0001;SD-13;13;2026-02-01;ouverte\n")
PEOPLE = ("personne_id;affaire_id;categorie;role;nom;prenom;mineur;telephones;emails\n"
          f"K1-S;K1;suspect;proxénète;Martin;Paul;non;{P_A}|{P_X};\n"
          f"K1-V;K1;victime;;Durand;Léa;non;{P_B};{MAIL_VICTIM}\n"
          f"K1-M;K1;témoin;;Petit;Zoé;oui;{P_MINOR};{MAIL_MINOR}\n")
ACCOUNTS = {"centre": ("analyst", "OCRTEH"), "marseille": ("referent", "DEP-13"),
            "lyon": ("referent", "DEP-69"), "paris": ("analyst", "DEP-75"),
            "admin": ("admin", "OCRTEH")}


@pytest.fixture
def world(store_settings: Settings, tmp_path: Path) -> Iterator[Store]:
    store = open_store(store_settings)
    crawl = tmp_path / "annonces.jsonl"
    crawl.write_text("".join(json.dumps({"source": "exemple", **ad}, ensure_ascii=False)
                             + "\n" for ad in ADS), encoding="utf-8")
    with Ingestor(store, images=False, workers=1).session() as ingestor:
        ingestor.ingest_files([crawl])
    detect_and_score(store)
    csv = tmp_path / "csv"
    csv.mkdir()
    (csv / "cases.csv").write_text(CASES, encoding="utf-8")
    (csv / "people.csv").write_text(PEOPLE, encoding="utf-8")
    import_case_files(store, [csv])
    find_leads(store)
    seed_units(store)
    for login, (role, unit) in ACCOUNTS.items():
        create_user(store, login, PASSWORD, role, unit)
    yield store
    store.dispose()


@pytest.fixture
def app(world: Store) -> Any:
    return create_app(world.settings)


def _web(app: Any, login: str) -> TestClient:
    return log_in(TestClient(app), login, PASSWORD)


def _csrf(web: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": web.get("/api/moi").json()["csrf_token"]}


def _one(store: Store, sql: str, **params: Any) -> Any:
    with store.begin() as conn:
        return conn.execute(text(sql), params).scalar_one()


def _network_of(store: Store, ad_id: str) -> str:
    return str(_one(store, "SELECT an.network_id FROM ad_network an JOIN ad a ON "
                           "a.id = an.ad_pk WHERE a.ad_id = :a", a=ad_id))


def _pk(store: Store, ad_id: str) -> int:
    return int(_one(store, "SELECT id FROM ad WHERE ad_id = :a", a=ad_id))


def _distribute(admin: TestClient, kind: str, record_id: str, level: str,
                owner: str) -> dict[str, Any]:
    done = admin.put("/api/admin/diffusion", headers=_csrf(admin), json={
        "record_kind": kind, "record_id": record_id, "level": level, "owner_unit": owner})
    assert done.status_code == 200, done.text
    return dict(done.json())


def _log(store: Store, login: str) -> list[audit.Entry]:
    with store.begin() as conn:
        return list(audit.entries(conn, login=login))


# --- One identifier for an ad, one filter for every listing of ads ----------------------------


def test_an_ads_own_distribution_hides_it_from_every_view_that_lists_ads(
        world: Store, app: Any) -> None:
    network_a, network_c = _network_of(world, "a1"), _network_of(world, "c1")
    a3 = _pk(world, "a3")
    admin = _web(app, "admin")
    # What users type and see, source:ad_id, is what the checks read.
    assert _distribute(admin, "ad", "exemple:a3", "own_unit", "DEP-13")["record_id"] == \
        "exemple:a3"
    centre, marseille, lyon = _web(app, "centre"), _web(app, "marseille"), _web(app, "lyon")
    missing = centre.get("/api/annonces/999999")
    for path in (f"/api/annonces/{a3}", f"/annonces/{a3}"):
        assert centre.get(path).status_code == 404
    assert centre.get(f"/api/annonces/{a3}").json() == missing.json()
    assert marseille.get(f"/api/annonces/{a3}").status_code == 200
    # The number of the ad's page names the same ad, stored under its one identifier.
    assert _distribute(admin, "ad", str(_pk(world, "c1")), "own_unit", "DEP-69")[
        "record_id"] == "exemple:c1"
    _distribute(admin, "ad", "exemple:c2", "own_unit", "DEP-69")

    # Search: hits and counts are the viewer's own.
    found = centre.get("/api/annonces", params={"q": "Aix"}).json()
    assert (found["total"], found["hits"]) == (0, [])
    assert marseille.get("/api/annonces", params={"q": "Aix"}).json()["total"] == 1
    by_phone = centre.get("/api/annonces", params={"telephone": P_A}).json()
    assert by_phone["total"] == 2 and "exemple:a3" not in json.dumps(by_phone)

    # The network page and its API: nothing of the hidden ad, counts without it.
    seen = centre.get(f"/api/reseaux/{network_a}").json()
    page = centre.get(f"/reseaux/{network_a}").text
    for answer in (json.dumps(seen, ensure_ascii=False), page):
        for trace in ("exemple:a3", "Aix", P_X, "13090", "2026-03-05"):
            assert trace not in answer, trace
    assert seen["ads_count"] == len(seen["ads"]) == 2
    assert P_X not in seen["phones"] and seen["last_seen"].startswith("2026-03-03")
    assert sum(day["ads"] for day in seen["activity"]) == 2
    assert all("exemple:a3" not in r["evidence"]
               for r in seen["score"]["reasons"] + seen["score"]["minor_reasons"])
    # The lead on the second phone rests on the hidden ad alone: it is hidden with it.
    assert [(x["entity_id"], x["ads"]) for x in seen["leads"]] == [("K1-S", 2)]
    whole = marseille.get(f"/api/reseaux/{network_a}").json()
    assert whole["ads_count"] == 3 and P_X in whole["phones"]
    assert sorted(x["ads"] for x in whole["leads"]) == [1, 3]

    # The queue counts the ads the viewer sees; a network of hidden ads only is hidden.
    queue = {e["network_id"]: e for e in centre.get(
        "/api/file", params={"tous": 1, "limite": 500}).json()["entries"]}
    assert queue[network_a]["ads"] == 2 and network_c not in queue
    assert centre.get(f"/api/reseaux/{network_c}").json() == centre.get(
        "/api/reseaux/n-0000000000000000").json()
    assert lyon.get(f"/api/reseaux/{network_c}").status_code == 200

    # The link graph: the network's node counts 2 ads, the hidden ad's phone is no neighbour.
    graph = centre.get("/api/graphe/voisins", params={"entite": f"network:{network_a}"})
    nodes = {n["id"]: n for n in graph.json()["nodes"]}
    assert f"phone:{P_X}" not in nodes and "2 annonces" in nodes[f"network:{network_a}"][
        "label"]
    assert centre.get("/api/graphe/voisins", params={
        "entite": f"network:{network_c}"}).status_code == 404
    theirs = marseille.get("/api/graphe/voisins", params={"entite": f"network:{network_a}"})
    assert "3 annonces" in {n["id"]: n for n in theirs.json()["nodes"]}[
        f"network:{network_a}"]["label"]

    # The case page's and the entity page's leads: the hidden one is not there either.
    case = centre.get("/api/dossiers/K1", params={"motif": REASON}).json()
    assert [x["value"] for x in case["leads"] if x["entity_id"] == "K1-S"] == [P_A]
    suspect = centre.get("/api/entites/K1-S").json()
    assert [x["value"] for x in suspect["leads"]] == [P_A]


def test_a_network_hidden_by_its_distribution_is_hidden_from_the_link_graph(
        world: Store, app: Any) -> None:
    network_c = _network_of(world, "c1")
    _distribute(_web(app, "admin"), "network", network_c, "own_unit", "DEP-69")
    paris, lyon = _web(app, "paris"), _web(app, "lyon")
    refused = paris.get("/api/graphe/voisins", params={"entite": f"network:{network_c}"})
    assert refused.status_code == 404
    around = paris.get("/api/graphe/voisins", params={"entite": f"phone:{P_C}"})
    assert around.status_code == 404 or network_c not in around.text
    shown = lyon.get("/api/graphe/voisins", params={"entite": f"network:{network_c}"})
    assert f"phone:{P_C}" in {n["id"] for n in shown.json()["nodes"]}


def test_a_hidden_network_is_named_by_no_other(world: Store, app: Any) -> None:
    network_a, network_c = _network_of(world, "a1"), _network_of(world, "c1")
    with world.begin() as conn:  # c was decided on, then (say) absorbed by a
        record_decision(conn, network_c, "dismissed", "lyon", reason="salon connu")
        conn.execute(insert(network_event).values(
            at=utc_now(), kind="merged", network_id=network_a, cause="test",
            others=json.dumps([network_c])))
    _distribute(_web(app, "admin"), "network", network_c, "own_unit", "DEP-69")
    paris, lyon = _web(app, "paris"), _web(app, "lyon")
    for path in (f"/reseaux/{network_a}", f"/api/reseaux/{network_a}",
                 "/api/file?tous=1&limite=500", "/file?tous=1"):
        answer = paris.get(path)
        assert answer.status_code == 200 and network_c not in answer.text, path
    theirs = lyon.get(f"/api/reseaux/{network_a}").json()
    assert [d["network_id"] for d in theirs["earlier_decisions"]] == [network_c]


def test_a_leads_own_distribution_hides_it_from_every_page_that_lists_leads(
        world: Store, app: Any) -> None:
    network_a = _network_of(world, "a1")
    lead_id = str(_one(world, "SELECT id FROM intel_lead WHERE value = :v", v=P_X))
    _distribute(_web(app, "admin"), "lead", lead_id, "own_unit", "DEP-13")
    # The change logs what the lead had before: its case entity's distribution.
    change = next(orjson.loads(e.detail or "{}") for e in _log(world, "admin")
                  if e.action == "change")
    assert (change["before"]["level"], change["before"]["owner_unit"]) == (
        "with_central", "DEP-13")
    centre, marseille = _web(app, "centre"), _web(app, "marseille")
    for path in (f"/api/reseaux/{network_a}", "/api/dossiers/K1", "/api/entites/K1-S"):
        assert lead_id not in centre.get(path).text, path
        assert lead_id in marseille.get(path).text, path


# --- Sensitive values ----------------------------------------------------------------------

SENSITIVE = ("Durand", "Léa Durand", P_B, MAIL_VICTIM, "Zoé", "Petit", P_MINOR, MAIL_MINOR)


def _routes(store: Store) -> list[str]:
    """Every route that answers with case-file data (pages and API)."""
    network_b = _network_of(store, "b1")
    return ["/dossiers", "/api/dossiers", "/dossiers/K1", "/api/dossiers/K1",
            "/entites/K1-S", "/api/entites/K1-S", "/entites/K1", "/api/entites/K1",
            f"/reseaux/{network_b}", f"/api/reseaux/{network_b}",
            "/api/graphe/voisins?entite=K1&profondeur=2",
            "/api/graphe/voisins?entite=K1-S&profondeur=2",
            f"/api/graphe/voisins?entite=network:{network_b}&profondeur=2",
            f"/api/graphe/chemin?de=K1-S&a=network:{network_b}",
            "/file", "/api/file?tous=1", "/api/dossiers/K1/export.ftm"]


def _leaks(answer: str) -> list[str]:
    """The sensitive values in an answer (JSON, JSON lines or HTML), as a user reads it."""
    decoded = answer
    if answer.lstrip().startswith(("{", "[")):  # escapes undone: "L\u00e9a" is Léa
        decoded = "\n".join(json.dumps(json.loads(line), ensure_ascii=False)
                            for line in answer.splitlines() if line.strip())
    return [value for value in SENSITIVE if value in decoded]


def test_victims_and_minors_values_appear_nowhere_without_a_reason(
        world: Store, app: Any) -> None:
    centre = _web(app, "centre")
    for path in _routes(world):
        answer = centre.get(path)
        assert answer.status_code in (200, 428), (path, answer.status_code)
        assert _leaks(answer.text) == [], path
    # Nothing was shown with a reason, and what was masked is in the log.
    views = [e for e in _log(world, "centre") if e.action == "view"]
    assert views and all(e.reason is None for e in views)
    case_views = [orjson.loads(e.detail or "{}") for e in views
                  if (e.record_kind, e.record_id) == ("case", "K1")]
    assert case_views and all(set(d["masked"]) >= {"K1-V", "K1-M"} for d in case_views)
    network_views = [orjson.loads(e.detail or "{}") for e in views
                     if e.record_kind == "network"]
    assert network_views and all("K1-V" in d.get("masked", []) for d in network_views)


def test_with_a_reason_they_are_shown_and_the_log_says_with_which(world: Store,
                                                                  app: Any) -> None:
    centre = _web(app, "centre")
    form = TOKEN.search(centre.get("/dossiers/K1").text)
    assert form
    given = centre.post("/dossiers/K1/motif", data={"motif": REASON,
                                                    "csrf_token": form.group(1)},
                        follow_redirects=False)
    assert given.status_code == 303
    shown: set[str] = set()
    for path in _routes(world):
        answer = centre.get(path)
        assert answer.status_code == 200, path
        shown |= set(_leaks(answer.text))
    assert shown == set(SENSITIVE)
    case = centre.get("/api/dossiers/K1").json()
    assert sorted(x["value"] for x in case["leads"] if x["entity_id"] == "K1-V") == [
        P_B, "lea"]
    first, *entries = [e for e in _log(world, "centre")
                       if e.action in ("view", "export") and e.record_id == "K1"
                       and e.record_kind == "case"]
    assert first.reason is None  # the page that asked for the reason
    assert entries and all(e.reason == REASON for e in entries)
    assert all({"K1-V", "K1-M"} <= set(orjson.loads(e.detail or "{}")["with_reason"])
               for e in entries)


def test_a_victim_known_in_two_files_is_masked_with_the_values_of_both(
        world: Store, app: Any, tmp_path: Path) -> None:
    other = tmp_path / "autre"
    other.mkdir()
    (other / "cases.csv").write_text(
        CASES.replace("K1;2026/SD-13/0001", "K2;2026/SD-13/0002"), encoding="utf-8")
    (other / "people.csv").write_text(
        "personne_id;affaire_id;categorie;role;nom;prenom;mineur;telephones;emails\n"
        "K2-V;K2;victime;;Durand;Léa;non;+33677777777;\n", encoding="utf-8")
    import_case_files(world, [other])
    judge(world, "K1-V", "K2-V", "positive", "analyste test")
    centre = _web(app, "centre")
    around = centre.get("/api/graphe/voisins", params={"entite": "K1", "profondeur": 2})
    assert around.status_code == 200
    assert "+33677777777" not in around.text and "Durand" not in around.text
    # The node stands for the person: her other file's phone is one of its neighbours.
    assert any(n["id"].startswith("phone:[masqué") for n in around.json()["nodes"])


# --- Decisions within the territory --------------------------------------------------------


def test_a_territorial_unit_decides_only_within_its_departement(world: Store,
                                                               app: Any) -> None:
    marseille_only, both, lyon_only = (_network_of(world, a) for a in ("a1", "b1", "c1"))
    lyon, marseille, centre = _web(app, "lyon"), _web(app, "marseille"), _web(app, "centre")

    def decide(web: TestClient, network_id: str, decision: str) -> Any:
        return web.post(f"/api/reseaux/{network_id}/decision", headers=_csrf(web),
                        json={"decision": decision, "reason": "vu", "case_ref": "PV-1"})

    refused = decide(lyon, marseille_only, "dismissed")
    assert refused.status_code == 403 and "département" in refused.json()["detail"]
    assert decide(lyon, marseille_only, "investigate").status_code == 403
    # Marseille and Lyon share the second network: either may take it up, neither may drop
    # it for the other.
    assert decide(marseille, both, "dismissed").status_code == 403
    assert decide(lyon, both, "investigate").status_code == 201
    assert decide(marseille, marseille_only, "dismissed").status_code == 201
    assert decide(centre, lyon_only, "dismissed").status_code == 201
    # The page's form offers what the rule allows, and the form is refused the same way.
    page = lyon.get(f"/reseaux/{marseille_only}").text
    assert 'name="decision"' not in page
    token = TOKEN.search(page)
    assert token
    form = lyon.post(f"/reseaux/{marseille_only}/decision", follow_redirects=False, data={
        "decision": "dismissed", "motif": "vu", "csrf_token": token.group(1)})
    assert form.status_code == 403
    both_page = marseille.get(f"/reseaux/{both}").text
    assert 'value="investigate"' in both_page and 'value="dismissed"' not in both_page
    with world.begin() as conn:
        assert [d.analyst for d in history(conn, marseille_only)] == ["marseille"]
        assert [(d.analyst, d.decision) for d in history(conn, both)] == [
            ("lyon", "investigate")]
    denied = [orjson.loads(e.detail or "{}") for e in _log(world, "lyon")
              if e.action == "denied"]
    assert [(d["why"], d["decision"]) for d in denied] == [
        ("decision", "dismissed"), ("decision", "investigate"), ("decision", "dismissed")]


# --- Hidden and missing cost the same ------------------------------------------------------


def test_a_hidden_record_and_a_missing_one_run_the_same_statements(world: Store,
                                                                  app: Any) -> None:
    network_c = _network_of(world, "c1")
    admin = _web(app, "admin")
    _distribute(admin, "case", "K1", "own_unit", "DEP-13")
    _distribute(admin, "network", network_c, "own_unit", "DEP-69")
    _distribute(admin, "ad", "exemple:c1", "own_unit", "DEP-69")
    paris = _web(app, "paris")
    statements = Statements(app.state.store.engine)
    # (hidden, missing) ids of each kind of record page, and the pages that show one.
    kinds: list[tuple[str, str, tuple[str, ...]]] = [
        ("K1", "K9", ("/dossiers/{}", "/api/dossiers/{}", "/api/dossiers/{}/export.ftm")),
        ("K1-S", "K9-S", ("/entites/{}", "/api/entites/{}", "/api/graphe/voisins?entite={}")),
        (network_c, "n-0000000000000000", ("/reseaux/{}", "/api/reseaux/{}")),
        (str(_pk(world, "c1")), "999999", ("/annonces/{}", "/api/annonces/{}"))]
    for hidden_id, missing_id, paths in kinds:
        for path in paths:
            hidden, missing = path.format(hidden_id), path.format(missing_id)
            paris.get(hidden), paris.get(missing)  # caches warm, as in use
            ran_hidden = statements.of(partial(paris.get, hidden))
            ran_missing = statements.of(partial(paris.get, missing))
            assert ran_hidden  # something was measured
            assert ran_hidden == ran_missing, (hidden, missing)
            assert paris.get(hidden).text.replace(hidden_id, "X") == \
                paris.get(missing).text.replace(missing_id, "X"), hidden


def test_every_list_of_reasons_shows_only_the_evidence_the_viewer_may_see() -> None:
    """Scam reasons (issue 15) and any list of reasons added later are filtered as the
    risk and minor reasons are: by name, not by a list someone must remember to extend."""
    from faisceau.share.access import AdScope
    from faisceau.web.api import _score_for

    def reason(*refs: str) -> dict[str, Any]:
        return {"indicator": "x", "label": "x", "evidence": list(refs),
                "evidence_total": len(refs)}

    score = {"risk": 0.1, "reasons": [reason("s:1", "s:2")], "minor_reasons": [],
             "scam_reasons": [reason("s:2", "s:3")], "future_reasons": [reason("s:2")]}
    shown = _score_for(score, AdScope(default=True, refs={"s:2": False}))
    assert shown is not None
    assert "s:2" not in json.dumps(shown)
    assert shown["scam_reasons"] == [{**reason("s:3")}]
    assert shown["future_reasons"][0]["evidence_total"] == 0


def test_a_network_names_no_hidden_ad_of_another_network_in_its_evidence() -> None:
    """Linking keeps, on both networks, the links it refused or cut with an ad of each side
    (issue 15): one of them may be another network's ad the viewer may not see."""
    from faisceau.share.access import AdScope
    from faisceau.web.api import _evidence_for

    rows = [{"kind": "phone", "value": "+33611111111", "ads": ["s:1", "s:2", "s:9"]},
            {"kind": "refused", "value": "persona+text", "ads": ["s:1", "s:9"],
             "detail": {"weights": {"text": 4.2}, "total": 8.0, "needed": 14.6}},
            {"kind": "cut", "value": "persona+text", "ads": ["s:2", "s:5"]}]
    shown = _evidence_for(rows, AdScope(default=True, refs={"s:9": False}))
    assert "s:9" not in json.dumps(shown)
    assert [r["kind"] for r in shown] == ["phone", "cut"]
    assert shown[0]["ads"] == ["s:1", "s:2"]
    everything = AdScope(default=True)
    assert _evidence_for(rows, everything) == rows
