"""The network page beyond its score: its timeline, its circuit, its link graph, and its
leads to the case files, under need-to-know and with victims' values masked.

A network of a small world shares one phone with a suspect and one with a victim of a
Marseille case; the central office and the Marseille unit see both leads (the victim's value
masked), a unit outside the case sees none of them, and nothing of the case leaks to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from faisceau.config import Settings
from faisceau.ingest.pipeline import Ingestor
from faisceau.intel.casefiles import import_case_files
from faisceau.intel.leads import find_leads
from faisceau.link.inspect import network_detail
from faisceau.score.review import queue, record_decision
from faisceau.score.run import detect_and_score
from faisceau.share import audit
from faisceau.share.accounts import create_user, seed_units
from faisceau.store import Store, open_store
from faisceau.store.bulk import fetch
from faisceau.synth.world import Params, write_world
from faisceau.web.app import create_app
from tests.web.test_app import login

PASSWORD = "correct-cheval-pile-agrafe"
CASES = ("affaire_id;numero_procedure;unite_code;departement;date_ouverture;statut\n"
         "K1;2026/SD-13/0001;SD-13;13;2026-02-01;ouverte\n")
PEOPLE = ("personne_id;affaire_id;categorie;role;nom;prenom;mineur;telephones\n"
          "K1-S;K1;suspect;proxénète;Martin;Paul;non;{suspect}\n"
          "K1-V;K1;victime;;Durand;Léa;non;{victim}\n")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    write_world(Params(scale=0.01, days=3, seed=3, images=False), out)
    return out


@pytest.fixture
def linked(store_settings: Settings, world: Path, tmp_path: Path) -> Iterator[tuple[Store, str]]:
    store = open_store(store_settings)
    with Ingestor(store, images=False, workers=1).session() as ingestor:
        ingestor.ingest_paths([world / "crawl"])
    detect_and_score(store)
    with store.begin() as conn:
        network_id, phones = next(
            (e.network_id, detail["phones"]) for e in queue(conn, limit=200)
            if len((detail := network_detail(conn, e.network_id) or {}).get("phones", [])) >= 2)
    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    (csv_dir / "cases.csv").write_text(CASES, encoding="utf-8")
    (csv_dir / "people.csv").write_text(
        PEOPLE.format(suspect=phones[0], victim=phones[1]), encoding="utf-8")
    import_case_files(store, [csv_dir])
    find_leads(store)
    seed_units(store)
    for name, unit in (("centre", "OCRTEH"), ("marseille", "DEP-13"), ("lyon", "DEP-69")):
        create_user(store, name, PASSWORD, "analyst", unit)
    yield store, network_id
    store.dispose()


def _network(store: Store, who: str, network_id: str) -> tuple[dict[str, Any], str]:
    app = create_app(store.settings)
    with TestClient(app) as web:
        login(web, who)
        api = web.get(f"/api/reseaux/{network_id}")
        page = web.get(f"/reseaux/{network_id}")
    assert api.status_code == page.status_code == 200
    return api.json(), page.text


def test_leads_follow_need_to_know_and_mask_victims(linked: tuple[Store, str]) -> None:
    store, network_id = linked
    for who in ("centre", "marseille"):
        detail, page = _network(store, who, network_id)
        leads = {lead["entity_id"]: lead for lead in detail["leads"]
                 if lead["case_id"] == "K1"}
        assert set(leads) == {"K1-S", "K1-V"}, who
        assert leads["K1-S"]["value"] == detail["phones"][0]
        assert leads["K1-V"]["value"] is None  # a victim's phone: behind the reason form
        assert 'href="/entites/K1-S"' in page and "masquée" in page
        assert detail["phones"][1] not in page.split("Pistes vers les dossiers")[1].split(
            "</table>")[0]
    detail, page = _network(store, "lyon", network_id)
    assert [lead for lead in detail["leads"] if lead["case_id"] == "K1"] == []
    assert "K1-S" not in page and "K1-V" not in page and "/dossiers/K1" not in page


def test_the_timeline_counts_the_networks_ads_seen_each_day(linked: tuple[Store, str]) -> None:
    store, network_id = linked
    detail, page = _network(store, "centre", network_id)
    with store.begin() as conn:
        days = sorted({str(r[0])[:10] for r in fetch(
            conn, "SELECT s.seen_at FROM sighting s JOIN ad_network an ON an.ad_pk = s.ad_pk "
            f"WHERE an.network_id = '{network_id}'", ())})
    assert [a["day"] for a in detail["activity"]] == days
    assert all(1 <= a["ads"] <= detail["ads_count"] for a in detail["activity"])
    assert "Annonces du réseau vues par jour" in page
    assert f'data-node="network:{network_id}"' in page  # the link graph starts there
    if detail["circuit"]:
        assert 'class="carte-circuit"' in page


def test_a_cached_network_page_shows_a_decision_taken_elsewhere_at_once(
        linked: tuple[Store, str]) -> None:
    store, network_id = linked
    app = create_app(store.settings)
    with TestClient(app) as web:
        login(web, "centre")
        first = web.get(f"/api/reseaux/{network_id}").json()
        again = web.get(f"/api/reseaux/{network_id}").json()
        assert again == first and app.state.read_cache.hits >= 1
        with store.begin() as conn:  # on the command line, say: not through this process
            record_decision(conn, network_id, "known", "analyste", case_ref="2026/SD-13/0001")
        after = web.get(f"/api/reseaux/{network_id}").json()
        queued = web.get("/api/file", params={"tous": 1, "limite": 500}).json()["entries"]
    assert [d["decision"] for d in after["decisions"]] == ["known"]
    assert next(e for e in queued if e["network_id"] == network_id)["status"] == "known"
    with store.begin() as conn:
        views = [e for e in audit.entries(conn, login="centre") if e.record_id == network_id]
    assert len(views) == 3  # every view is logged, cached or not


def test_a_lead_to_a_minor_is_masked_like_a_victims(linked: tuple[Store, str]) -> None:
    store, network_id = linked
    with store.begin() as conn:  # the suspect turns out to be a minor
        conn.execute(text("UPDATE intel_entity SET minor = :t WHERE id = 'K1-S'"), {"t": True})
    detail, _page = _network(store, "centre", network_id)
    lead = next(lead for lead in detail["leads"] if lead["entity_id"] == "K1-S")
    assert lead["value"] is None
