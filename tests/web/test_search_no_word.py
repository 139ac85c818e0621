"""A search whose text holds no word to look for, through HTTP, on both stores.

What analysts rely on: typing only punctuation ("'", "*"), or only exclusions ("-lola"),
gives the same answer whoever asks and on either store: nothing, with a French note saying
there is no word to search, never the whole national crawl. What an analyst may not see only
narrows a search; it never turns an empty one into a listing. With a filter (département,
phone, handle), exclusions narrow the filter's ads.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, text

from faisceau.config import Settings
from faisceau.ingest.pipeline import Ingestor
from faisceau.share.accounts import create_user, seed_units
from faisceau.store import Store, open_store
from faisceau.store.bulk import utc_now
from faisceau.store.schema import share_distribution
from faisceau.web.app import create_app
from tests.web.helpers import log_in

PASSWORD = "mot de passe de test"
_login = partial(log_in, password=PASSWORD)
ADS = [
    {"ad_id": "a1", "seen_at": "2026-03-02T08:00:00Z", "title": "Massage relaxant",
     "text": "Lola, très douce, à Marseille.", "location": "13006"},
    {"ad_id": "a2", "seen_at": "2026-03-02T09:00:00Z", "title": "Massage",
     "text": "Nouvelle à Marseille, discrète.", "location": "13001"},
    {"ad_id": "a3", "seen_at": "2026-03-02T10:00:00Z", "title": "Rencontre",
     "text": "Mia, à Paris.", "location": "75011"},
    {"ad_id": "a4", "seen_at": "2026-03-02T11:00:00Z", "title": "Massage",
     "text": "Lola à Paris", "location": "75011"},
]
NO_WORD_QUERIES = ["'", "*", "-lola", "-massage -paris", "-", '""', "OU", "« »", "'*' -x"]


@pytest.fixture
def store(store_settings: Settings, tmp_path: Path) -> Iterator[Store]:
    """Four ads; an analyst of the central office and one of Marseille."""
    path = tmp_path / "ads.jsonl"
    path.write_text("".join(json.dumps({"source": "exemple", **ad}, ensure_ascii=False) + "\n"
                            for ad in ADS), encoding="utf-8")
    opened = open_store(store_settings)
    with Ingestor(opened, images=False, workers=1).session() as ingestor:
        ingestor.ingest_files([path])
    seed_units(opened)
    for unit in ("OCRTEH", "DEP-13"):
        create_user(opened, f"analyst-{unit}".lower(), PASSWORD, "analyst", unit)
    yield opened
    opened.dispose()


@pytest.fixture
def app(store: Store) -> Any:
    return create_app(store.settings)


def _pks(store: Store) -> dict[str, int]:
    with store.begin() as conn:
        return {str(a): int(pk) for a, pk in conn.execute(text("SELECT ad_id, id FROM ad"))}


def _restrict(store: Store, ad_id: str) -> None:
    """One ad kept to its unit (Marseille): the central office may no longer see it. An
    ad's distribution names it source:ad_id, as users see it."""
    with store.begin() as conn:
        conn.execute(insert(share_distribution).values(
            record_kind="ad", record_id=f"exemple:{ad_id}", level="own_unit",
            owner_unit="DEP-13",
            group_name=None, set_by="test", set_at=utc_now()))


def _search(web: TestClient, **params: str) -> dict[str, Any]:
    answer = web.get("/api/annonces", params=params)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


@pytest.mark.parametrize("restricted", [False, True])
def test_a_query_with_no_word_finds_nothing_whoever_asks(store: Store, app: Any,
                                                         restricted: bool) -> None:
    if restricted:
        _restrict(store, "a1")
    for login in ("analyst-ocrteh", "analyst-dep-13"):
        with TestClient(app) as web:
            _login(web, login)
            for query in NO_WORD_QUERIES:
                found = _search(web, q=query)
                assert (found["total"], found["hits"], found["more"]) == (0, [], False), (
                    login, query)
                assert len(found["notes"]) == 1 and "mot" in found["notes"][0], found
            page = web.get("/annonces", params={"q": "-lola"})
            assert page.status_code == 200 and found["notes"][0] in page.text


def test_exclusions_narrow_a_filtered_search(store: Store, app: Any) -> None:
    pks = _pks(store)
    _restrict(store, "a2")
    with TestClient(app) as web:
        _login(web, "analyst-dep-13")
        assert {h["ad_id"] for h in _search(web, departement="13")["hits"]} == {"a1", "a2"}
        narrowed = _search(web, q="-lola", departement="13")
        assert [h["ad_id"] for h in narrowed["hits"]] == ["a2"] and narrowed["total"] == 1
        assert _search(web, q="-lola -discrete", departement="13")["hits"] == []
        in_paris = _search(web, q="' * «»", departement="75")  # no word: the filter alone
        assert [h["ad_id"] for h in in_paris["hits"]] == ["a4", "a3"]  # newest first
        assert in_paris["notes"] == []
        page = web.get("/annonces", params={"q": "-lola", "departement": "13"})
        assert "1 annonce" in page.text and f'href="/annonces/{pks["a2"]}"' in page.text
        assert f'href="/annonces/{pks["a1"]}"' not in page.text
    with TestClient(app) as web:
        _login(web, "analyst-ocrteh")
        assert _search(web, q="-lola", departement="13")["hits"] == []  # a2 is not theirs
        assert [h["ad_id"] for h in _search(web, q="-massage", departement="75")["hits"]] == [
            "a3"]
