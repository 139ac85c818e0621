"""Leads through the public API, on both stores: ads and case files that meet.

A small hand-made world: a few ads (one crawl file per day) and case files in the units'
CSV layout, so that each expectation is known exactly:

- a case phone shown by two ads gives one lead on their network, with both ads as evidence
  in time order; a phone written as a WhatsApp handle counts; a handle and an e-mail too;
- a victim's given name gives a lead only on ads of the case's département, within the
  case's period, with her stated age;
- running again changes nothing; new ads update the counts; decisions stay, and a lead
  follows its ads when their network is absorbed by another;
- a decision on an unknown lead, or a dismissal without a reason, is refused; decisions
  are only ever appended.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from faisceau.config import Settings
from faisceau.ingest.pipeline import Ingestor
from faisceau.intel.casefiles import import_case_files
from faisceau.intel.leads import (
    CASE_IDENTIFIER,
    UNSUSPECTED_FACTOR,
    VICTIM_NAME_AGE,
    LeadError,
    decide,
    find_leads,
    lead_detail,
    lead_queue,
    leads_for_entity,
    leads_for_network,
)
from faisceau.score.run import detect_and_score
from faisceau.store import Store, bulk, open_store

SOURCE = "annonces-test"


def _ad(ad_id: str, seen_at: str, **content: Any) -> dict[str, Any]:
    return {"ad_id": ad_id, "source": SOURCE, "seen_at": seen_at,
            "url": f"https://annonces.example/a/{ad_id}", **content}


# Texts differ enough that no ad is linked to another by wording.
DAY_1 = [
    _ad("p1", "2026-03-02T10:00:00Z", name="Léa", age=23, location="Lyon",
        phone="06 12 34 56 78", text="Léa, douce et souriante, reçoit en appartement."),
    _ad("p2", "2026-03-02T11:00:00Z", name="Léa", age=23, location="Lyon",
        phone="06.12.34.56.78", text="Nouvelle en ville, discrétion assurée, appelez."),
    _ad("w1", "2026-03-02T12:00:00Z", name="Inès", age=25, location="Nantes",
        links=["WhatsApp: +33 6 99 88 77 66"], text="Massage relaxant le soir uniquement."),
    _ad("h1", "2026-03-02T13:00:00Z", name="Zoé", age=24, location="Marseille",
        links=["snap: zoe_123"], text="Étudiante sympathique disponible ce week-end."),
    _ad("e1", "2026-03-02T14:00:00Z", name="Mila", age=26, location="Bordeaux",
        email="Mila.Contact@mail.example", text="Rendez-vous courtois, pas de SMS."),
    _ad("n1", "2026-03-05T09:00:00Z", name="NINA", age=21, location="Lille",
        phone="06 11 22 33 44", text="Première fois sur le site, venez vite."),
    _ad("n2", "2026-03-05T09:30:00Z", name="Nina", age=21, location="Lyon",
        phone="06 55 44 33 22", text="Quartier calme, parking facile à côté."),
    _ad("n3", "2026-03-05T10:00:00Z", name="Nina", age=30, location="Lille",
        phone="06 10 20 30 40", text="Femme mûre et élégante, vous attend."),
]
DAY_2 = [
    _ad("p3", "2026-03-06T10:00:00Z", name="Léa", age=23, location="Lyon",
        phone="0612345678", text="De retour pour quelques jours seulement."),
]

CASE_FILES = {
    "cases.csv": [
        "affaire_id;numero_procedure;unite_code;departement;date_ouverture;date_cloture;statut",
        "C1;2026/SD-59/0001;SD-59;59;2026-02-01;;ouverte",
        # Closed long before the ads, and opened long after them: not their period.
        "C2;2025/SD-59/0002;SD-59;59;2025-01-10;2025-06-30;clôturée",
        "C3;2026/SD-59/0003;SD-59;59;2026-11-20;;ouverte",
    ],
    "people.csv": [
        "personne_id;affaire_id;categorie;statut;nom;prenom;age_annonce;telephones;emails",
        "C1-P1;C1;victime;victime présumée;;Nína;21;;",
        "C1-P2;C1;suspect;suspect;Moreau;Karim;;;mila.contact@mail.example",
        "C2-P1;C2;victime;victime présumée;;Nina;21;;",
        "C3-P1;C3;victime;victime présumée;;Nina;21;;",
    ],
    "phones.csv": [
        "affaire_id;numero;utilisateur_id;source",
        "C1;+33612345678;C1-P1;annonces",
        "C1;+33699887766;C1-P2;annonces",
    ],
    "online_accounts.csv": [
        "compte_en_ligne_id;affaire_id;service;pseudo;titulaire_id",
        "C1-U1;C1;Snapchat;zoe_123;C1-P2",
    ],
}


def write_day(directory: Path, day: str, ads: list[dict[str, Any]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"ads-{day}.jsonl"
    path.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in ads), "utf-8")
    return path


def write_case_files(directory: Path, files: dict[str, list[str]] | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, lines in (files or CASE_FILES).items():
        (directory / name).write_text("\n".join(lines) + "\n", "utf-8")
    return directory


def ingest_and_detect(store: Store, paths: list[Path], images: bool = False) -> None:
    with Ingestor(store, images=images, workers=1).session() as ingestor:
        ingestor.ingest_paths(paths)
    detect_and_score(store)


@pytest.fixture
def store(store_settings: Settings, tmp_path: Path) -> Iterator[Store]:
    """The first day of ads, detected, and the case files imported."""
    opened = open_store(store_settings)
    ingest_and_detect(opened, [write_day(tmp_path / "crawl", "2026-03-02", DAY_1)])
    summary = import_case_files(opened, [write_case_files(tmp_path / "cases")])
    assert summary.set_aside == []
    try:
        yield opened
    finally:
        opened.dispose()


def _network_of(store: Store, ad_id: str) -> str:
    with store.begin() as conn:
        rows = bulk.fetch(conn, "SELECT n.network_id FROM ad_network n JOIN ad a "
                                f"ON a.id = n.ad_pk WHERE a.ad_id = {bulk.mark(conn)}", (ad_id,))
    return str(rows[0][0])


def _suspected(store: Store, network_id: str) -> bool:
    with store.begin() as conn:
        rows = bulk.fetch(conn, "SELECT trafficking_suspected FROM network_score "
                                f"WHERE network_id = {bulk.mark(conn)}", (network_id,))
    return bool(rows[0][0])


def _leads(store: Store) -> dict[tuple[str, str, str], Any]:
    """Every lead by (entity, kind, value)."""
    with store.begin() as conn:
        leads = lead_queue(conn, limit=None, include_decided=True)
    table = {(lead.entity_id, lead.kind, lead.value): lead for lead in leads}
    assert len(table) == len(leads), "one lead per entity, kind and value here"
    return table


def test_case_identifiers_shown_by_ads_give_leads_on_their_network(store: Store) -> None:
    summary = find_leads(store)
    leads = _leads(store)
    phone = leads[("C1-P1", "phone", "+33612345678")]
    assert phone.network_id == _network_of(store, "p1") == _network_of(store, "p2")
    assert phone.case_id == "C1" and phone.ads == 2 and phone.strength == CASE_IDENTIFIER
    assert phone.evidence == [f"{SOURCE}:p1", f"{SOURCE}:p2"]  # in time order
    assert phone.first_seen is not None and f"{phone.first_seen:%Y-%m-%d %H}" == "2026-03-02 10"
    # A phone given as a WhatsApp handle is that phone.
    whatsapp = leads[("C1-P2", "phone", "+33699887766")]
    assert whatsapp.network_id == _network_of(store, "w1")
    assert whatsapp.evidence == [f"{SOURCE}:w1"]
    handle = leads[("C1-U1", "handle", "snapchat:zoe_123")]
    assert (handle.network_id, handle.ads, handle.strength) == (
        _network_of(store, "h1"), 1, CASE_IDENTIFIER)
    email = leads[("C1-P2", "email", "mila.contact@mail.example")]
    assert email.network_id == _network_of(store, "e1") and email.evidence == [f"{SOURCE}:e1"]
    assert summary.new == summary.leads == len(leads)
    assert summary.by_kind["phone"] == 2 and summary.by_kind["handle"] == 1


def test_a_name_needs_the_case_departement_and_period(store: Store) -> None:
    find_leads(store)
    names = {key: lead for key, lead in _leads(store).items() if key[1] == "name"}
    # Only n1: same département (Lille, 59) as case C1, within its period, same stated age,
    # the given name folded ("Nína" in the file, "NINA" in the ad). n2 is in Lyon, n3 shows
    # another age; cases C2 (closed in 2025) and C3 (opened in November) are out of period.
    assert list(names) == [("C1-P1", "name", "nina")]
    lead = names[("C1-P1", "name", "nina")]
    assert lead.network_id == _network_of(store, "n1") and lead.evidence == [f"{SOURCE}:n1"]
    factor = 1.0 if _suspected(store, lead.network_id) else UNSUSPECTED_FACTOR
    assert lead.strength == pytest.approx(VICTIM_NAME_AGE * factor)
    assert lead.strength < CASE_IDENTIFIER


def test_running_again_is_idempotent_and_new_ads_update_counts(
        store: Store, tmp_path: Path) -> None:
    find_leads(store)
    before = {k: lead.to_dict() for k, lead in _leads(store).items()}
    again = find_leads(store)
    assert (again.new, again.updated, again.removed) == (0, 0, 0)
    assert again.unchanged == len(before)
    assert {k: lead.to_dict() for k, lead in _leads(store).items()} == before
    phone = before[("C1-P1", "phone", "+33612345678")]
    decision = decide(store, phone["id"], "confirmed", "A. Martin", "même numéro")
    ingest_and_detect(store, [write_day(tmp_path / "crawl", "2026-03-06", DAY_2)])
    later = find_leads(store)
    assert later.updated == 1 and later.new == 0
    after = _leads(store)[("C1-P1", "phone", "+33612345678")]
    assert after.id == phone["id"] and after.ads == 3
    assert after.evidence == [f"{SOURCE}:p1", f"{SOURCE}:p2", f"{SOURCE}:p3"]
    assert [d.id for d in after.decisions] == [decision] and after.status == "confirmed"


def test_a_lead_follows_its_ads_into_the_network_that_absorbs_theirs(
        store_settings: Settings, tmp_path: Path) -> None:
    day_1 = [_ad("m1", "2026-03-02T08:00:00Z", name="Sara", age=22, location="Lille",
                 phone="06 01 02 03 04", text="Sara vous reçoit, prenez rendez-vous.")]
    # One persona throughout: a number shown by another persona later would be a number
    # that changed hands, which linking keeps apart.
    day_1 += [_ad(f"q{i}", f"2026-03-02T0{i}:00:00Z", name="Sara", age=22, location="Lille",
                  phone="06 05 06 07 08", text=f"Annonce numéro {i}, appelez-moi vite.")
              for i in (1, 2, 3)]
    day_2 = [_ad("r1", "2026-03-03T08:00:00Z", name="Sara", age=22, location="Lille",
                 phone=["06 01 02 03 04", "06 05 06 07 08"], text="Les deux numéros.")]
    store = open_store(store_settings)
    try:
        ingest_and_detect(store, [write_day(tmp_path / "crawl", "2026-03-02", day_1)])
        import_case_files(store, [write_case_files(tmp_path / "cases", {
            "cases.csv": CASE_FILES["cases.csv"][:2],
            "phones.csv": [CASE_FILES["phones.csv"][0], "C1;+33601020304;C1-P9;annonces"]})])
        find_leads(store)
        (lead,) = _leads(store).values()
        absorbed, absorber = _network_of(store, "m1"), _network_of(store, "q1")
        assert lead.network_id == absorbed != absorber
        decide(store, lead.id, "dismissed", "A. Martin", "à revoir")
        ingest_and_detect(store, [write_day(tmp_path / "crawl", "2026-03-03", day_2)])
        assert _network_of(store, "m1") == _network_of(store, "r1") == absorber
        summary = find_leads(store)
        (followed,) = _leads(store).values()
        assert summary.followed == 1 and summary.new == 0
        assert followed.id == lead.id and followed.network_id == absorber
        assert followed.ads == 2 and followed.status == "dismissed"
        with store.begin() as conn:
            assert [x.id for x in leads_for_network(conn, absorber)] == [lead.id]
            assert leads_for_network(conn, absorbed) == []
    finally:
        store.dispose()


def test_decisions_are_checked_and_only_ever_appended(store: Store) -> None:
    find_leads(store)
    lead = _leads(store)[("C1-U1", "handle", "snapchat:zoe_123")]
    with pytest.raises(LeadError, match="piste inconnue"):
        decide(store, "l-0000000000000000", "confirmed", "A. Martin")
    for reason in (None, "   "):
        with pytest.raises(LeadError, match="exige un motif"):
            decide(store, lead.id, "dismissed", "A. Martin", reason)
    with pytest.raises(LeadError, match="décision inconnue"):
        decide(store, lead.id, "maybe", "A. Martin", "?")
    with pytest.raises(LeadError, match="analyste"):
        decide(store, lead.id, "confirmed", "  ")
    with store.begin() as conn:
        assert lead_detail(conn, lead.id).decisions == []  # type: ignore[union-attr]
    first = decide(store, lead.id, "dismissed", "A. Martin", "homonyme")
    second = decide(store, lead.id, "confirmed", "B. Durand")
    with store.begin() as conn:
        detail = lead_detail(conn, lead.id)
    assert detail is not None
    assert [(d.id, d.decision, d.reason) for d in detail.decisions] == [
        (first, "dismissed", "homonyme"), (second, "confirmed", None)]
    assert detail.status == "confirmed"
    for statement in ("UPDATE intel_lead_decision SET reason = 'x'",
                      "DELETE FROM intel_lead_decision"):
        with pytest.raises(DBAPIError), store.begin() as conn:
            conn.execute(text(statement))


def test_the_queue_lists_undecided_leads_first_strongest_then_largest(store: Store) -> None:
    find_leads(store)
    with store.begin() as conn:
        queue = lead_queue(conn, limit=None)
    order = [(-lead.strength, -lead.ads, lead.id) for lead in queue]
    assert order == sorted(order) and queue[0].kind != "name"
    assert queue[0].ads == 2  # the phone of two ads comes before the identifiers of one
    decide(store, queue[0].id, "confirmed", "A. Martin")
    with store.begin() as conn:
        undecided = lead_queue(conn, limit=None)
        everything = lead_queue(conn, limit=None, include_decided=True)
        by_entity = leads_for_entity(conn, "C1-P2")
        conn.execute(text("UPDATE intel_entity SET canonical_id = 'C1-P1' "
                          "WHERE id IN ('C1-P1', 'C1-P2')"))  # as if resolved as one person
        resolved = leads_for_entity(conn, "C1-P2")
    assert [x.id for x in undecided] == [x.id for x in queue[1:]]
    assert [x.id for x in everything] == [x.id for x in queue[1:]] + [queue[0].id]
    assert {(x.kind, x.value) for x in by_entity} == {
        ("phone", "+33699887766"), ("email", "mila.contact@mail.example")}
    assert {x.entity_id for x in resolved} == {"C1-P1", "C1-P2"}
    with pytest.raises(LeadError), store.begin() as conn:
        lead_queue(conn, limit=0)


def test_a_photo_whose_hash_a_case_file_holds_gives_an_image_lead(
        store_settings: Settings, tmp_path: Path) -> None:
    crawl = tmp_path / "crawl"
    (crawl / "images").mkdir(parents=True)
    Image.new("RGB", (48, 48), (200, 30, 90)).save(crawl / "images" / "a.jpg")
    digest = hashlib.sha256((crawl / "images" / "a.jpg").read_bytes()).hexdigest()
    ads = [_ad("i1", "2026-03-02T10:00:00Z", name="Alba", location="Lyon",
               images=[{"path": "images/a.jpg"}], text="Photo récente et réelle.")]
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps({"id": "C9-I1", "schema": "Image", "properties": {
        "contentHash": [digest], "keywords": ["case:C9"]}}) + "\n", "utf-8")
    store = open_store(store_settings)
    try:
        ingest_and_detect(store, [write_day(crawl, "2026-03-02", ads)], images=True)
        import_case_files(store, [cases])
        find_leads(store)
        (lead,) = _leads(store).values()
    finally:
        store.dispose()
    assert (lead.kind, lead.value, lead.entity_id, lead.case_id) == ("image", digest, "C9-I1",
                                                                     "C9")
    assert lead.evidence == [f"{SOURCE}:i1"]
