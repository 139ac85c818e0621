"""French full-text search over ads, on both stores.

What analysts rely on: a word finds an ad whatever its accents and ending ("massages",
"très" / "tres"); both stores find the same ads for the same query; filters (département,
dates, phone and handle however they are typed) narrow the ads; each ad comes once; what a
new day of ingest brings is found at once, what came before still is, and nothing is indexed
twice or again on a re-run; any text typed into the search box is a valid query.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text

from faisceau.config import Settings
from faisceau.ingest import fulltext
from faisceau.ingest.fulltext import (
    departement_code,
    handle_values,
    highlight,
    index_new,
    parse_query,
    phone_values,
    search_ads,
    terms,
)
from faisceau.ingest.pipeline import Ingestor
from faisceau.store import Store, open_store
from tests.conftest import PG_SERVER, require_pg

SOURCE = "exemple"
DAY1 = [
    {"ad_id": "a1", "seen_at": "2026-03-02T08:00:00Z", "title": "Massage relaxant",
     "text": "Très doux, à Marseille. Appelez le 06 12 34 56 78.", "location": "13006",
     "phone": "06 12 34 56 78"},
    {"ad_id": "a2", "seen_at": "2026-03-02T09:00:00Z", "title": "Massages",
     "text": "tres douce et discrète à Lyon, snap: lola_69", "location": "69007"},
    {"ad_id": "a3", "seen_at": "2026-03-02T10:00:00Z", "title": "Rencontre",
     "text": "Femme câline, reçoit en appartement privé à Paris.", "location": "75011"},
    {"ad_id": "a4", "seen_at": "2026-03-02T11:00:00Z", "title": "Une œuvre d'art",
     "text": "Привет, Наташа, à Paris.", "location": "75011"},
]
DAY2 = [
    # a1 changes its text: a new version; a2 is seen again unchanged; a5 is new.
    {**DAY1[0], "seen_at": "2026-03-03T08:00:00Z", "title": "Massage tantrique"},
    {**DAY1[1], "seen_at": "2026-03-03T09:00:00Z"},
    {"ad_id": "a5", "seen_at": "2026-03-03T12:00:00Z", "title": "Massage thaï",
     "text": "Nouvelle à Nice, discrète.", "location": "06000"},
]


def _write(path: Path, ads: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps({"source": SOURCE, **ad}, ensure_ascii=False) + "\n"
                            for ad in ads), encoding="utf-8")
    return path


def _ingest(store: Store, *paths: Path) -> None:
    with Ingestor(store, images=False, workers=1).session() as ingestor:
        ingestor.ingest_files(list(paths))


@pytest.fixture
def days(tmp_path: Path) -> tuple[Path, Path]:
    return _write(tmp_path / "day1.jsonl", DAY1), _write(tmp_path / "day2.jsonl", DAY2)


@pytest.fixture
def store(store_settings: Settings, days: tuple[Path, Path]) -> Iterator[Store]:
    """Day 1 ingested."""
    opened = open_store(store_settings)
    _ingest(opened, days[0])
    yield opened
    opened.dispose()


def found(conn: Connection, query: str = "", **filters: Any) -> set[str]:
    result = search_ads(conn, query, **filters)
    ids = [h.ad_id for h in result.hits]
    assert len(ids) == len(set(ids)), "an ad comes once"
    return set(ids)


def _counts(conn: Connection) -> tuple[int, int, int]:
    versions = conn.execute(text("SELECT COUNT(*) FROM ad_version")).scalar_one()
    indexed = conn.execute(text("SELECT COUNT(DISTINCT version_id) FROM ad_search")).scalar_one()
    rows = conn.execute(text("SELECT COUNT(*) FROM ad_search")).scalar_one()
    return int(versions), int(indexed), int(rows)


def _fts_documents(conn: Connection) -> int:
    """Documents the store's full-text index itself holds."""
    if conn.dialect.name == "sqlite":
        return int(conn.execute(text("SELECT COUNT(*) FROM ad_fts_docsize")).scalar_one())
    return int(conn.execute(text("SELECT COUNT(*) FROM ad_search WHERE terms IS NOT NULL"))
               .scalar_one())


# --- Words, accents, endings ---------------------------------------------------------------


def test_accents_case_and_endings_are_folded() -> None:
    assert terms("Très") == terms("tres") == terms("TRES")
    assert terms("massages") == terms("massage") == terms("Massage")
    assert terms("câlines") == terms("caline")
    assert terms("œuvre") == terms("oeuvre")
    assert terms("l'été") == terms("l ete") and len(terms("l’été")) == 2
    assert terms("massage") != terms("message")
    assert terms("Привет") == terms("привет") != terms("Наташа")


def test_a_word_finds_an_ad_whatever_its_accents_and_ending(store: Store) -> None:
    with store.begin() as conn:
        for query in ("massages", "massage", "MASSAGE"):
            assert found(conn, query) == {"a1", "a2"}, query
        for query in ("très", "tres", "TRÈS"):
            assert found(conn, query) == {"a1", "a2"}, query
        assert found(conn, "câline") == found(conn, "caline") == {"a3"}
        assert found(conn, "oeuvre") == found(conn, "œuvres") == {"a4"}
        assert found(conn, "привет") == {"a4"}
        assert found(conn, "message") == set()
        assert found(conn, "zzzz") == set()


def test_query_language_phrases_exclusions_and_alternatives(store: Store) -> None:
    with store.begin() as conn:
        assert found(conn, "massages discrètes") == {"a2"}
        assert found(conn, "massage marseille") == {"a1"}
        assert found(conn, '"massage relaxant"') == {"a1"}
        assert found(conn, '"relaxant massage"') == set()
        assert found(conn, "massage -lyon") == {"a1"}
        assert found(conn, 'massage -"tres douce"') == {"a1"}
        assert found(conn, "relaxant OU rencontre") == {"a1", "a3"}
        assert found(conn, "relaxant ou rencontre paris") == {"a3"}
        # Nothing to look for: nothing read, and a note says why.
        for typed, note in (("", fulltext.NO_WORD), ("«  » -- !! ", fulltext.NO_WORD),
                            ("'", fulltext.NO_WORD), ("*", fulltext.NO_WORD),
                            ("-massage", fulltext.EXCLUSIONS_ALONE),
                            ("-lola -\"tres douce\"", fulltext.EXCLUSIONS_ALONE)):
            nothing = search_ads(conn, typed, hidden_ads=[10**9], only_ads=None)
            assert (nothing.hits, nothing.total, nothing.notes) == ([], 0, [note]), typed
        # With a filter, exclusions narrow its ads; a text with no word leaves them be.
        assert found(conn, "-caline", departement="75") == {"a4"}
        assert found(conn, '-"œuvre d\'art" -x', departement="75") == {"a3"}
        ignored = search_ads(conn, "* '", departement="75")
        assert {h.ad_id for h in ignored.hits} == {"a3", "a4"} and ignored.notes == []


def test_the_snippet_marks_the_words_found(store: Store) -> None:
    with store.begin() as conn:
        hit = search_ads(conn, "très massages").hits
    first = next(h for h in hit if h.ad_id == "a1")
    assert [s.text for s in first.title if s.match] == ["Massage"]
    assert [s.text for s in first.snippet if s.match] == ["Très"]
    assert "".join(s.text for s in first.snippet) == DAY1[0]["text"]


# --- Filters -------------------------------------------------------------------------------


def test_filters_narrow_the_ads(store: Store, days: tuple[Path, Path]) -> None:
    with store.begin() as conn:
        assert found(conn, "massage", departement="13") == {"a1"}
        assert found(conn, departement="75") == {"a3", "a4"}
        assert found(conn, departement="6") == set()
        for typed in ("06 12 34 56 78", "+33 6 12 34 56 78", "0612345678", "06.12.34.56.78"):
            assert found(conn, phone=typed) == {"a1"}, typed
        assert found(conn, "massage", phone="06 12 34 56 79") == set()
        for typed in ("snap: lola_69", "lola_69", "@lola_69", "LOLA_69"):
            assert found(conn, handle=typed) == {"a2"}, typed
        assert found(conn, handle="lola") == set()  # a handle is matched whole
        assert found(conn, handle="l_la_69") == set()  # "_" is not a wildcard
        unknown = search_ads(conn, phone="12")
        assert unknown.hits == [] and unknown.notes == ["numéro de téléphone non reconnu"]
        assert search_ads(conn, departement="xyz").notes
    _ingest(store, days[1])
    with store.begin() as conn:
        day2: dict[str, Any] = {"seen_from": date(2026, 3, 3), "seen_to": date(2026, 3, 3)}
        assert found(conn, "à", **day2) == {"a1", "a2", "a5"}
        assert found(conn, "à", seen_to=date(2026, 3, 2)) == {"a1", "a2", "a3", "a4"}
        assert found(conn, departement="75", seen_from=date(2026, 3, 3)) == set()
        # Dates alone would list a whole day of the country: they only narrow.
        alone = search_ads(conn, **day2)
        assert alone.hits == [] and alone.notes
        assert found(conn, "massage", **day2) == {"a1", "a2", "a5"}
        # The version that said "relaxant" was only seen on day 1.
        assert found(conn, "relaxant", **day2) == set()
        assert found(conn, "relaxant", seen_from=date(2026, 3, 2),
                     seen_to=date(2026, 3, 2)) == {"a1"}
        assert found(conn, "massage", departement="06") == {"a5"}


# --- Incremental indexing ------------------------------------------------------------------


def test_a_new_day_is_indexed_at_ingest_and_nothing_twice(store: Store,
                                                          days: tuple[Path, Path]) -> None:
    with store.begin() as conn:
        versions, indexed, rows = _counts(conn)
        assert versions == indexed == rows == _fts_documents(conn) == 4
        assert index_new(conn) == 0
        assert found(conn, "tantrique") == set() and found(conn, "thai") == set()
    _ingest(store, days[1])
    with store.begin() as conn:
        assert _counts(conn) == (6, 6, 6) and _fts_documents(conn) == 6
        assert index_new(conn) == 0
        assert found(conn, "tantrique") == {"a1"}
        assert found(conn, "thaï") == {"a5"}
        assert found(conn, "relaxant") == {"a1"}  # an earlier version still finds its ad
        assert found(conn, "massages") == {"a1", "a2", "a5"}
        old = search_ads(conn, "relaxant").hits[0]
        new = search_ads(conn, "tantrique").hits[0]
        assert (old.version_no, old.current) == (1, False)
        assert (new.version_no, new.current) == (2, True)
    # A re-run of ingest adds nothing, to the store or to the index.
    _ingest(store, *days)
    with store.begin() as conn:
        assert _counts(conn) == (6, 6, 6) and _fts_documents(conn) == 6
        assert index_new(conn) == 0


def test_a_store_with_ads_but_no_index_is_indexed_on_demand(store: Store) -> None:
    with store.begin() as conn:
        before = {q: found(conn, q) for q in ("massage", "paris", "très")}
        if conn.dialect.name == "sqlite":
            conn.execute(text("INSERT INTO ad_fts (ad_fts) VALUES ('delete-all')"))
        conn.execute(text("DELETE FROM ad_search"))
    with store.begin() as conn:
        assert fulltext.pending(conn) and found(conn, "massage") == set()
        assert index_new(conn, batch=3) == 4  # in batches
        assert not fulltext.pending(conn)
        assert {q: found(conn, q) for q in before} == before


# --- Order, paging, counts, need-to-know ---------------------------------------------------


def test_order_paging_cap_and_excluded_ads(store: Store, days: tuple[Path, Path],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    _ingest(store, days[1])
    with store.begin() as conn:
        # Without words: the most recently seen first.
        assert [h.ad_id for h in search_ads(conn, departement="75").hits] == ["a4", "a3"]
        listed = [h.ad_id for h in search_ads(conn, "à").hits]
        assert sorted(listed) == ["a1", "a2", "a3", "a4", "a5"]
        pages = [h.ad_id for offset in range(0, 5, 2)
                 for h in search_ads(conn, "à", limit=2, offset=offset).hits]
        assert pages == listed
        ranked = search_ads(conn, "massage")
        assert ranked.total == 3 and not ranked.capped
        scores = [h.score for h in ranked.hits]
        assert scores == sorted(scores, reverse=True)
        monkeypatch.setattr(fulltext, "COUNT_CAP", 2)
        capped = search_ads(conn, "massage")
        assert (capped.total, capped.capped, len(capped.hits)) == (2, True, 3)
        pks = {h.ad_id: h.ad_pk for h in ranked.hits}
        assert found(conn, "massage", hidden_ads=[pks["a1"]]) == {"a2", "a5"}
        assert found(conn, "massage", only_ads=[pks["a1"]]) == {"a1"}
        assert found(conn, "massage", only_ads=[]) == set()


def test_a_common_word_is_ranked_among_its_newest_matches_and_counted_in_full(
        store: Store, days: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    _ingest(store, days[1])
    with store.begin() as conn:
        every = search_ads(conn, "à")
        newest = conn.execute(text("SELECT version_id FROM ad_search ORDER BY version_id DESC "
                                   "LIMIT 2")).scalars().all()
        monkeypatch.setattr(fulltext, "RANKED_CANDIDATES", 2)
        bounded = search_ads(conn, "à")
    assert bounded.total == every.total == 5  # the count does not depend on the bound
    if store.dialect == "postgresql":  # SQLite ranks every match (FTS5's own bm25)
        assert {h.version_id for h in bounded.hits} == set(newest)
    else:
        assert len(bounded.hits) == 5


# --- Any text is a query -------------------------------------------------------------------

WORD = re.compile(r"^[a-z0-9]{1,60}$")


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_any_text_folds_into_plain_words_and_highlights_back(typed: str) -> None:
    words = terms(typed)
    assert all(WORD.match(w) for w in words)
    whole = highlight(typed, frozenset(words), whole=True)
    assert "".join(s.text for s in whole) == unicodedata.normalize("NFC", typed)
    assert isinstance(highlight(typed, frozenset(words)), list)


@given(st.text(max_size=120))
@settings(max_examples=200, deadline=None)
def test_any_text_in_the_filters_is_understood_or_refused(typed: str) -> None:
    assert all(v.startswith("+") for v in phone_values(typed))
    assert all(re.fullmatch(r"[a-z]+:\S+", h) for h in handle_values(typed))
    code = departement_code(typed)
    assert code is None or len(code) in (2, 3)


QUERY_TEXT = st.text(st.characters(codec="utf-8"), max_size=200) | st.lists(
    st.sampled_from(['"', "-", "OU", "or", "massage", "très", " ", "NOT", "AND", "*", "(",
                     ")", ":", "'", "^", "<->", "&", "|", "!", "\\", "NEAR", "\x00"]),
    max_size=30).map("".join)


@given(QUERY_TEXT)
@settings(max_examples=300, deadline=None)
def test_any_text_is_a_valid_query_for_sqlite(typed: str) -> None:
    parsed = parse_query(typed)
    assert len([w for g in parsed.groups for p in g for w in p]) <= fulltext.MAX_QUERY_TERMS
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(terms, tokenize='unicode61')")
    db.execute("INSERT INTO t VALUES ('massag tre doux')")
    if parsed:
        db.execute("SELECT rowid FROM t WHERE t MATCH ?", (parsed.fts5(),)).fetchall()
    if parsed.excluded:
        db.execute("SELECT rowid FROM t WHERE t MATCH ?", (parsed.excluded_fts5(),)).fetchall()


# --- Both stores, one answer ------------------------------------------------------------------

MORE = [
    {"ad_id": "b1", "seen_at": "2026-03-03T13:00:00Z", "title": "Massage massage",
     "text": "Lola, douce douce, très très discrète. Marseille ou Paris.", "location": "13001"},
    {"ad_id": "b2", "seen_at": "2026-03-03T14:00:00Z", "title": "Nouvelle à Paris",
     "text": "Massage relaxant, pas tantrique. Tel 06 12 34 56 78", "location": "75011",
     "phone": "06 12 34 56 78"},
    {"ad_id": "b3", "seen_at": "2026-03-03T15:00:00Z", "title": "Наташа",
     "text": "Привет! 100 roses, 24h/24, l'été à Nice.", "location": "06000"},
]
QUERY_WORDS = ["massage", "massages", "très", "tres", "douce", "discrète", "marseille",
               "paris", "lola", "nouvelle", "à", "relaxant", "tantrique", "thaï", "привет",
               "наташа", "24h", "100", "l'été", "ete", "zzz", "pas", "ou"]
QUERY_MARKS = ['"', "-", "OU", "OR", "*", "'", "(", ")", ":", "^", "NOT", "AND", "NEAR", "!",
               "&", "|", "<->", "\\", "«", "»", "\x00", "-\"", "\"-"]
MIXED_QUERY = st.lists(st.sampled_from(QUERY_WORDS + QUERY_MARKS), max_size=12).flatmap(
    lambda items: st.lists(st.sampled_from([" ", "", "  "]), min_size=len(items),
                           max_size=len(items)).map(
        lambda gaps: "".join(i + g for i, g in zip(items, gaps, strict=True))))
FILTERS = st.fixed_dictionaries({
    "departement": st.sampled_from([None, "13", "75", "6", "xyz"]),
    "phone": st.sampled_from([None, None, "0612345678", "12"]),
    "handle": st.sampled_from([None, None, "lola_69"]),
    "seen_from": st.sampled_from([None, date(2026, 3, 3)]),
})
RESTRICTIONS = st.tuples(st.sets(st.sampled_from(["a1", "a3", "b1", "b3"]), max_size=2),
                         st.none() | st.sets(st.sampled_from(["a1", "a2", "b1", "b2"])))


@pytest.fixture
def both(tmp_path: Path, pg_schema_url: str,
         days: tuple[Path, Path]) -> Iterator[tuple[Store, Store]]:
    """The same two days and a third file, ingested into each store."""
    more = _write(tmp_path / "day2b.jsonl", MORE)
    stores = (open_store(Settings(home=tmp_path / "embedded", database_url=None)),
              open_store(Settings(home=tmp_path / "pg", database_url=pg_schema_url)))
    for opened in stores:
        _ingest(opened, *days, more)
    yield stores
    for opened in stores:
        opened.dispose()


def _answer(store: Store, typed: str, filters: dict[str, Any],
            restrictions: tuple[set[str], set[str] | None]) -> tuple[Any, ...]:
    """What a search answers, with ads named (ids differ between stores)."""
    hidden, only = restrictions
    with store.begin() as conn:
        pks = {str(a): int(pk) for a, pk in conn.execute(text("SELECT ad_id, id FROM ad"))}
        result = search_ads(conn, typed, **filters, limit=50,
                            hidden_ads=[pks[a] for a in hidden],
                            only_ads=None if only is None else [pks[a] for a in only])
    ads = [(h.ad_id, h.version_no) for h in result.hits]
    in_order = ads if not parse_query(typed) else sorted(a for a, _v in ads)
    return result.total, result.capped, result.notes, in_order


@given(typed=QUERY_TEXT | MIXED_QUERY, filters=FILTERS, restrictions=RESTRICTIONS)
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_both_stores_answer_any_query_alike(both: tuple[Store, Store], typed: str,
                                            filters: dict[str, Any],
                                            restrictions: tuple[set[str], set[str] | None]
                                            ) -> None:
    """Any text, filters and need-to-know: the same count, notes and ads on both stores
    (and, without a word to rank by, the same order and versions); never an error."""
    embedded, postgresql = (_answer(s, typed, filters, restrictions) for s in both)
    assert embedded == postgresql


def test_no_word_answers_alike_with_or_without_need_to_know(
        both: tuple[Store, Store]) -> None:
    """The issue's case: "'", "*", "-lola" found every ad on the store where the viewer had
    an ad hidden, and none on the other."""
    cases: list[tuple[set[str], set[str] | None]] = [({"a1"}, None), (set(), None),
                                                     (set(), {"a2"})]
    for store in both:
        for typed in ("'", "*", "-lola", "- * '"):
            for restrictions in cases:
                total, _capped, notes, ads = _answer(store, typed, {}, restrictions)
                assert (total, ads) == (0, []) and len(notes) == 1, (typed, restrictions)


@pytest.fixture(scope="module")
def pg(pg_reason: str | None) -> Iterator[psycopg.Connection]:
    require_pg(pg_reason)
    conn = psycopg.connect(PG_SERVER, connect_timeout=3, autocommit=True)
    yield conn
    conn.close()


def test_long_texts_make_valid_tsvectors(pg: psycopg.Connection) -> None:
    words = terms("massage très doux " * 7_000)
    lexemes = pg.execute("SELECT array_length(tsvector_to_array(%s::tsvector), 1)",
                         (fulltext._tsvector(words),)).fetchone()
    assert lexemes == (3,)
    found = pg.execute("SELECT %s::tsvector @@ %s::tsquery",
                       (fulltext._tsvector(words), parse_query('"tres doux"').tsquery()))
    assert found.fetchone() == (True,)


@given(typed=QUERY_TEXT)
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_text_is_a_valid_query_for_postgresql(pg: psycopg.Connection, typed: str) -> None:
    parsed = parse_query(typed)
    if parsed:
        pg.execute("SELECT %s::tsvector @@ %s::tsquery",
                   ("'massag':1 'tre':2", parsed.tsquery())).fetchall()
    if parsed.excluded:
        pg.execute("SELECT %s::tsvector @@ %s::tsquery",
                   ("'massag':1 'tre':2", parsed.excluded_tsquery())).fetchall()
