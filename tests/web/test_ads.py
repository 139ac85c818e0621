"""The ad search and the ad page, through HTTP, on both stores.

What analysts and the data-protection officer rely on: a search finds ads by their words
and filters and links to each ad; the ad page shows every version with its provenance and
what changed, the contacts beside how the ad showed them, the network and a suspected
minor; an ad the viewer may not see is neither listed nor shown (the same 404 as for an ad
that does not exist), for every role, unit and distribution level; each search and each
view is one consultation-log entry, in a chain that stays intact.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import partial
from itertools import product
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, insert, text

from faisceau.config import Settings
from faisceau.ingest.pipeline import Ingestor
from faisceau.score.run import detect_and_score
from faisceau.share import audit
from faisceau.share.access import LEVELS, READERS, ROLES, Distribution, Viewer, can_see
from faisceau.share.accounts import create_user, seed_units
from faisceau.store import Store, open_store
from faisceau.store.bulk import utc_now
from faisceau.store.schema import share_distribution, share_group, share_group_member
from faisceau.web.app import create_app
from tests.web.helpers import log_in

PASSWORD = "mot de passe de test"
OWNER, CENTRAL, IN_GROUP, OUTSIDE = "DEP-13", "OCRTEH", "DEP-75", "DEP-69"
UNITS = (OWNER, CENTRAL, IN_GROUP, OUTSIDE)
GROUP = "marseille-paris"
_login = partial(log_in, password=PASSWORD)
SOURCE = "exemple"
DAY1 = [
    {"ad_id": "a1", "seen_at": "2026-03-02T08:00:00Z", "title": "Massage relaxant",
     "text": "Très douce, à Marseille. Appelez le 06 12 34 56 78.", "location": "13006",
     "phone": "06 12 34 56 78", "name": "Lola", "age": "24 ans"},
    {"ad_id": "a2", "seen_at": "2026-03-02T09:00:00Z", "title": "Massages <b>discrets</b>",
     "text": "tres douce et discrète à Lyon, snap: lola_69", "location": "69007"},
    {"ad_id": "a3", "seen_at": "2026-03-02T10:00:00Z", "title": "Jeune et nouvelle",
     "text": "Nouvelle à Marseille, appelle le 06.12.34.56.78", "location": "13001",
     "name": "Mia", "age": "16 ans"},
]
DAY2 = [
    {**DAY1[0], "seen_at": "2026-03-03T08:00:00Z", "title": "Massage tantrique",
     "phone": "06 98 76 54 32", "text": "Très douce, à Marseille. Appelez le 06 98 76 54 32."},
]


def _write(path: Path, ads: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps({"source": SOURCE, **ad}, ensure_ascii=False) + "\n"
                            for ad in ads), encoding="utf-8")
    return path


@pytest.fixture
def store(store_settings: Settings, tmp_path: Path) -> Iterator[Store]:
    """Two days of ads, linked and scored; two analysts (central office, Marseille)."""
    opened = open_store(store_settings)
    with Ingestor(opened, images=False, workers=1).session() as ingestor:
        ingestor.ingest_files([_write(tmp_path / "jour1.jsonl", DAY1),
                               _write(tmp_path / "jour2.jsonl", DAY2)])
    detect_and_score(opened)
    seed_units(opened)
    for unit in (CENTRAL, OWNER):
        create_user(opened, f"analyst-{unit}".lower(), PASSWORD, "analyst", unit)
    yield opened
    opened.dispose()


@pytest.fixture
def app(store: Store) -> Any:
    return create_app(store.settings)


def _pk(store: Store, ad_id: str) -> int:
    with store.begin() as conn:
        return int(conn.execute(text("SELECT id FROM ad WHERE ad_id = :a"),
                                {"a": ad_id}).scalar_one())


def _network(store: Store, ad_id: str) -> str:
    with store.begin() as conn:
        return str(conn.execute(text(
            "SELECT network_id FROM ad_network n JOIN ad a ON a.id = n.ad_pk "
            "WHERE a.ad_id = :a"), {"a": ad_id}).scalar_one())


def _log(store: Store, login: str | None = None,
         record_kind: str | None = None) -> list[audit.Entry]:
    with store.begin() as conn:
        return list(audit.entries(conn, login=login, record_kind=record_kind))


def _distribute(store: Store, kind: str, record_id: str, level: str) -> None:
    with store.begin() as conn:
        conn.execute(delete(share_distribution))
        conn.execute(insert(share_distribution).values(
            record_kind=kind, record_id=record_id, level=level, owner_unit=OWNER,
            group_name=GROUP if level == "group" else None, set_by="test", set_at=utc_now()))


# --- Search --------------------------------------------------------------------------------


def test_the_search_page_finds_ads_and_links_to_them(store: Store, app: Any) -> None:
    a1, a2, a3 = (_pk(store, a) for a in ("a1", "a2", "a3"))
    with TestClient(app) as web:
        _login(web, "analyst-ocrteh")
        empty = web.get("/annonces")
        assert empty.status_code == 200 and 'name="q"' in empty.text
        assert 'href="/static/annonces.css"' in empty.text
        assert _log(store, login="analyst-ocrteh", record_kind="ad") == []  # nothing read

        page = web.get("/annonces", params={"q": "massages très"})
        assert page.status_code == 200
        assert f'href="/annonces/{a1}"' in page.text and f'href="/annonces/{a2}"' in page.text
        assert f'href="/annonces/{a3}"' not in page.text
        assert "2 annonces" in page.text and "<mark>Massage</mark>" in page.text
        assert "&lt;b&gt;discrets&lt;/b&gt;" in page.text and "<b>discrets" not in page.text

        filtered = web.get("/annonces", params={"telephone": "+33 6 12 34 56 78"})
        assert f'href="/annonces/{a1}"' in filtered.text  # its first version showed it
        assert f'href="/annonces/{a3}"' in filtered.text
        assert f'href="/annonces/{a2}"' not in filtered.text
        narrowed = web.get("/annonces", params={"telephone": "0612345678", "du": "2026-03-03"})
        assert f'href="/annonces/{a1}"' not in narrowed.text  # not that number on day 2
        by_handle = web.get("/annonces", params={"pseudo": "@lola_69"})
        assert f'href="/annonces/{a2}"' in by_handle.text
        wrong = web.get("/annonces", params={"q": "massage", "du": "hier"})
        assert wrong.status_code == 200 and "date « du » invalide" in wrong.text

        api = web.get("/api/annonces", params={"q": "massage", "departement": "13"}).json()
        assert [h["ad_pk"] for h in api["hits"]] == [a1] and api["total"] == 1
        assert api["hits"][0]["ad"] == "exemple:a1" and api["filters"] == {"departement": "13"}
        marked = [s["text"] for s in api["hits"][0]["title_segments"] if s["match"]]
        assert marked == ["Massage"]
        assert web.get("/api/annonces", params={"du": "pas une date"}).status_code == 422
        assert web.get("/api/annonces", params={"limite": 0}).status_code == 422

        first = web.get("/api/annonces", params={"q": "douce", "limite": 1}).json()
        second = web.get("/api/annonces", params={"q": "douce", "limite": 1, "page": 2}).json()
        assert first["total"] == second["total"] == 2
        assert {first["hits"][0]["ad_pk"], second["hits"][0]["ad_pk"]} == {a1, a2}
        nav = web.get("/annonces", params={"q": "douce", "page": "1"})
        assert "page 1 sur 1" not in nav.text  # one page of 50: no page links
    searches = _log(store, login="analyst-ocrteh", record_kind="ad")
    assert all(e.action == "search" and e.record_id == "recherche" for e in searches)
    first_search = json.loads(searches[0].detail or "{}")
    # Ads are logged by their one identifier, source:ad_id, as in the views' entries.
    assert first_search["query"] == "massages très" and sorted(first_search["ads"]) == [
        "exemple:a1", "exemple:a2"]
    api_search = next(json.loads(e.detail or "{}") for e in searches
                      if json.loads(e.detail or "{}")["filters"] == {"departement": "13"})
    assert api_search["ads"] == ["exemple:a1"] and api_search["query"] == "massage"
    # One entry per search that read the store (the invalid date read nothing).
    assert len(searches) == 8
    assert audit.verify(store).intact


# --- The ad page ---------------------------------------------------------------------------


def test_the_ad_page_shows_versions_provenance_changes_contacts_and_network(
        store: Store, app: Any) -> None:
    a1, a3 = _pk(store, "a1"), _pk(store, "a3")
    network_id = _network(store, "a1")
    with TestClient(app) as web:
        _login(web, "analyst-ocrteh")
        page = web.get(f"/annonces/{a1}")
        assert page.status_code == 200
        html = page.text
        assert "Annonce exemple:a1" in html and "Massage tantrique" in html
        assert "jour1.jsonl, ligne 1" in html and "jour2.jsonl, ligne 1" in html
        assert "Massage relaxant → Massage tantrique" in html
        assert "+33612345678" in html and "+33698765432" in html
        assert "06 12 34 56 78" in html  # as the ad showed it
        assert f'href="/reseaux/{network_id}"' in html
        assert "Mineur suspecté" not in html

        detail = web.get(f"/api/annonces/{a1}").json()
        assert (detail["ad"], detail["sightings"], detail["current_version"]) == (
            "exemple:a1", 2, 2)
        first, second = detail["versions"]
        assert (first["file"], first["line"], first["current"]) == ("jour1.jsonl", 1, False)
        assert (second["file"], second["line"], second["current"]) == ("jour2.jsonl", 1, True)
        changes = {c["field"]: c for c in second["changes"]}
        assert set(changes) == {"titre", "texte", "contacts"}
        assert changes["contacts"]["added"] == ["+33698765432"]
        assert changes["contacts"]["removed"] == ["+33612345678"]
        phones = {c["value"]: c for c in detail["contacts"] if c["kind"] == "phone"}
        assert phones["+33612345678"]["versions"] == [1]
        assert "06 12 34 56 78" in phones["+33612345678"]["shown"]
        assert detail["network_id"] == network_id

        minor = web.get(f"/annonces/{a3}")
        assert "Mineur suspecté" in minor.text and "inférieur à 18 ans" in minor.text
        assert web.get(f"/api/annonces/{a3}").json()["minor"]

        unknown = web.get("/api/annonces/999999")
        assert unknown.status_code == 404 and unknown.json() == {"detail": "Annonce introuvable."}
        assert web.get("/annonces/999999").status_code == 404
        assert web.get("/annonces/pas-un-nombre").status_code == 404
        assert web.get("/annonces/²").status_code == 404
        assert web.get("/api/annonces/0").status_code == 422

        network = web.get(f"/reseaux/{network_id}")
        assert f'href="/annonces/{a1}"' in network.text
    views = [e for e in _log(store, login="analyst-ocrteh", record_kind="ad")
             if e.action == "view"]
    # Logged under the one identifier of an ad, as users see it.
    assert [e.record_id for e in views] == ["exemple:a1", "exemple:a1", "exemple:a3",
                                            "exemple:a3"]


def test_the_network_link_is_only_given_to_who_may_see_the_network(store: Store,
                                                                   app: Any) -> None:
    a1 = _pk(store, "a1")
    _distribute(store, "network", _network(store, "a1"), "own_unit")
    with TestClient(app) as web:
        _login(web, "analyst-ocrteh")
        detail = web.get(f"/api/annonces/{a1}").json()
        assert detail["network_id"] is None
        assert "aucun réseau visible" in web.get(f"/annonces/{a1}").text
    with TestClient(app) as web:
        _login(web, "analyst-dep-13")
        assert web.get(f"/api/annonces/{a1}").json()["network_id"] == _network(store, "a1")


# --- Need-to-know --------------------------------------------------------------------------


def test_no_role_unit_or_level_leaks_an_ad(store: Store, app: Any) -> None:
    a1, a2 = _pk(store, "a1"), _pk(store, "a2")
    for role, unit in product(ROLES, UNITS):
        if (role, unit) not in (("analyst", CENTRAL), ("analyst", OWNER)):
            create_user(store, f"{role}-{unit}".lower(), PASSWORD, role, unit)
    with store.begin() as conn:
        conn.execute(insert(share_group).values(name=GROUP, created_at=utc_now()))
        conn.execute(insert(share_group_member).values(group_name=GROUP, unit=IN_GROUP))
    checked = 0
    for role, unit in product(ROLES, UNITS):
        viewer = Viewer("x", role, unit,
                        frozenset({GROUP}) if unit == IN_GROUP else frozenset())
        with TestClient(app) as web:
            _login(web, f"{role}-{unit}".lower())  # need-to-know is decided per request
            for level in (None, *LEVELS):
                if level is None:
                    with store.begin() as conn:
                        conn.execute(delete(share_distribution))
                else:
                    _distribute(store, "ad", "exemple:a1", level)
                shared = Distribution(level or "all_units", OWNER if level else CENTRAL,
                                      GROUP if level == "group" else None)
                sees = can_see(viewer, shared)
                what = (level, role, unit)
                search = web.get("/api/annonces", params={"q": "massage douce"})
                page_search = web.get("/annonces", params={"q": "massage douce"})
                page = web.get(f"/annonces/{a1}")
                api = web.get(f"/api/annonces/{a1}")
                unknown = web.get("/api/annonces/999999")
                checked += 1
                if role not in READERS:
                    assert search.status_code == page_search.status_code == 403, what
                    assert page.status_code == api.status_code == 403, what
                    assert "exemple:a1" not in page.text + api.text + search.text, what
                    continue
                hits = [h["ad_pk"] for h in search.json()["hits"]]
                assert a2 in hits, what  # an ad with the default distribution
                assert (a1 in hits) == sees, what
                assert search.json()["total"] == (2 if sees else 1), what
                assert (f'href="/annonces/{a1}"' in page_search.text) == sees, what
                if sees:
                    assert page.status_code == api.status_code == 200, what
                    assert "exemple:a1" in page.text, what
                else:
                    assert page.status_code == api.status_code == 404, what
                    assert api.json() == unknown.json(), what
                    assert "exemple:a1" not in page.text, what
    assert checked == (len(LEVELS) + 1) * len(ROLES) * len(UNITS)
    denied = [e for e in _log(store) if e.action == "denied" and e.record_kind == "ad"]
    assert {json.loads(e.detail or "{}")["why"] for e in denied} == {"role", "need-to-know",
                                                                     "unknown"}
    assert any(e.record_id == "recherche" for e in denied)  # the auditor's search refused
    assert audit.verify(store).intact


def test_a_store_indexed_before_this_version_is_searchable(store: Store, app: Any) -> None:
    with store.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("INSERT INTO ad_fts (ad_fts) VALUES ('delete-all')"))
        conn.execute(text("DELETE FROM ad_search"))
    with TestClient(app) as web:
        _login(web, "analyst-ocrteh")
        found = web.get("/api/annonces", params={"q": "massages"}).json()
        assert {h["ad"] for h in found["hits"]} == {"exemple:a1", "exemple:a2"}
