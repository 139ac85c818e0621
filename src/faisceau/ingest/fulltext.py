"""French full-text search over ads, the same on both stores, indexed incrementally.

Words are read the same way for the index and for queries, in Python, so that both stores
find the same ads: Unicode-normalised, case- and accent-folded ("Très" and "tres" are one
word), then stemmed with the Snowball French stemmer ("massages" and "massage" are one
word). A word in another script is kept whole, written as ASCII (its UTF-8 in hex), so that
the same word still finds itself. The stemmed words of an ad version's title and text go to
``ad_search.terms``, indexed by the store: an FTS5 table on SQLite (``ad_fts``, whose
tokenizer only splits on the spaces put there), a tsvector written position by position
and a GIN index on PostgreSQL (no text parser involved, so no difference between stores).

Indexing is incremental: versions are indexed once, in id order, and the highest indexed
``version_id`` is how far indexing has read. Ingest indexes each chunk's new versions in
the chunk's own transaction (``index_new``), so the index is always the result of whole
chunks; a search first indexes anything a store migrated with data has not indexed yet.

Queries (``parse_query``) are words, all required; ``"quoted words"`` must follow each
other; ``-word`` excludes; ``OU`` (or ``OR``) between two words accepts either; any other
character only separates words, so no text typed is a syntax error on either store (every
word reaches FTS5 quoted and the tsquery as a lexeme). Filters: the matching version's
département, phone or handle shown, and a sighting of that version within the dates.
A search needs a word to look for or one of the first three filters: dates, exclusions and
the caller's need-to-know only narrow, so a text with no word (``'``, ``*``, ``-lola``) and
no filter finds nothing, with a note saying why, whoever asks and on both stores; with a
filter, exclusions leave out the filter's ads that hold them.

Each ad comes once, with its best-matching version, ordered by relevance (BM25 on SQLite,
ts_rank on PostgreSQL: the same ads, ordered alike but not identically), then by when it
was last seen (without a word: by last sighting alone, identically); counts stop at
``COUNT_CAP``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

import orjson
import snowballstemmer
from sqlalchemy import Connection

from faisceau.normalise.contacts import find_handles
from faisceau.normalise.phones import find_phones
from faisceau.store.bulk import (
    as_datetime,
    delete_in,
    fetch,
    fetch_in,
    insert_rows,
    mark,
    serialise,
)

# A word: a run of letters and digits (an apostrophe, a hyphen or "_" separates words).
_WORD = re.compile(r"[^\W_]+")
_FOLD = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss", "ø": "o",
                       "Ø": "o", "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "ı": "i"})
# Words longer than this are cut: no real word is, and both stores bound a word's length.
MAX_WORD = 60
# PostgreSQL keeps positions up to 16383; later words are indexed without one.
_MAX_POSITION = 16_383
# Query terms beyond this many are ignored: each costs an index lookup.
MAX_QUERY_TERMS = 16
MAX_QUERY_CHARS = 500
COUNT_CAP = 1_000
# PostgreSQL ranks the newest matching versions only, this many: ranking reads each
# version's terms, and a common word matches a national month's every other ad (0.15 s for
# the 30,000 of "hôtel"; 0.03 s once bounded). Filters narrow before the bound applies.
RANKED_CANDIDATES = 5_000
# Versions indexed per statement when catching up on a large store.
INDEX_BATCH = 20_000
# What a search that reads nothing says (a search needs a word or a filter naming ads); a
# note means that nothing was read. A text with no word beside a filter is not one: the
# filter's ads are listed.
_ADD = "ajoutez un mot, un département, un téléphone ou un pseudonyme"
NO_WORD = f"aucun mot à rechercher : {_ADD}"
EXCLUSIONS_ALONE = f"des mots exclus seuls ne suffisent pas : {_ADD}"
# Dates alone would list a whole day's ads of the country.
DATES_ALONE = f"les dates seules ne suffisent pas : {_ADD}"
SNIPPET_BEFORE = 60
SNIPPET_AFTER = 160
_STEMMER = snowballstemmer.stemmer("french")
_OR_WORDS = frozenset({"ou", "or"})
_USERNAME = re.compile(r"@?([a-z0-9][a-z0-9_.\-]{0,63})")


# --- Words ---------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Lower case, ligatures spelled out, accents removed."""
    # Casefolded again after compatibility decomposition: "𝑨" only becomes "A" there.
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD).casefold())
    decomposed = unicodedata.normalize("NFKD", decomposed.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=500_000)
def stem(word: str) -> str:
    """The index form of one folded word (the stemmer is slow; words repeat)."""
    if not word.isascii():
        return ("u" + word.encode("utf-8").hex())[:MAX_WORD]
    if word.isdigit():
        return word[:MAX_WORD]
    return str(_STEMMER.stemWord(word))[:MAX_WORD]


@lru_cache(maxsize=500_000)
def _forms(word: str) -> tuple[str, ...]:
    """The index forms of one word as written (a word may fold into several: "ﬁ" or the
    "l’été" of a text whose apostrophe folds away); cached, as words repeat."""
    return tuple(stem(w) for w in _WORD.findall(fold(word)))


def _spans(text: str) -> list[tuple[int, int, tuple[str, ...]]]:
    """Each word of ``text`` as it is written (start, end) with its index forms."""
    return [(m.start(), m.end(), forms) for m in _WORD.finditer(text)
            if (forms := _forms(m.group()))]


def terms(text: str) -> list[str]:
    """The index forms of the words of ``text``, in order."""
    out: list[str] = []
    for word in _WORD.findall(unicodedata.normalize("NFC", text)):
        out += _forms(word)
    return out


def _document(title: str | None, text: str | None) -> list[str]:
    return terms(title or "") + terms(text or "")


def _tsvector(words: list[str]) -> str:
    """A tsvector literal with each word's positions (the words are [a-z0-9]+); words past
    the last position PostgreSQL keeps are indexed without one."""
    positions: dict[str, list[str]] = {}
    for i, word in enumerate(words[:_MAX_POSITION], start=1):
        found = positions.get(word)
        if found is None:
            positions[word] = [str(i)]
        elif len(found) < 256:
            found.append(str(i))
    for word in words[_MAX_POSITION:]:
        positions.setdefault(word, [])
    return " ".join(f"'{w}':{','.join(p)}" if p else f"'{w}'" for w, p in positions.items())


# --- Queries -------------------------------------------------------------------------------

Phrase = tuple[str, ...]


@dataclass(frozen=True)
class TextQuery:
    """A parsed query: every group is required, one phrase of a group suffices, and no
    excluded phrase may appear."""

    groups: tuple[tuple[Phrase, ...], ...] = ()
    excluded: tuple[Phrase, ...] = ()

    def __bool__(self) -> bool:
        """Whether there is a word to look for (exclusions alone only narrow a filter)."""
        return bool(self.groups)

    @property
    def words(self) -> frozenset[str]:
        """The index forms a result is highlighted on."""
        return frozenset(w for group in self.groups for phrase in group for w in phrase)

    def fts5(self) -> str:
        """As an FTS5 MATCH expression (every word quoted: no operator can be injected)."""
        required = " AND ".join("(" + " OR ".join(_fts5_phrase(p) for p in g) + ")"
                                for g in self.groups)
        if not self.excluded:
            return required
        return f"({required}) NOT ({self.excluded_fts5()})"

    def tsquery(self) -> str:
        """As a tsquery literal (lexemes given as they are: no parser, no dictionary)."""
        required = " & ".join("(" + " | ".join(_ts_phrase(p) for p in g) + ")"
                              for g in self.groups)
        if not self.excluded:
            return required
        return f"{required} & !({self.excluded_tsquery()})"

    def excluded_fts5(self) -> str:
        """The excluded phrases, any of them, as an FTS5 MATCH expression."""
        return " OR ".join(_fts5_phrase(p) for p in self.excluded)

    def excluded_tsquery(self) -> str:
        """The excluded phrases, any of them, as a tsquery literal."""
        return " | ".join(_ts_phrase(p) for p in self.excluded)


def _fts5_phrase(words: Phrase) -> str:
    return '"' + " ".join(words) + '"'


def _ts_phrase(words: Phrase) -> str:
    return "(" + " <-> ".join(f"'{w}'" for w in words) + ")"


_ITEM = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"]+)')


def parse_query(text: str) -> TextQuery:
    """The words a user typed, as a query (any text is accepted; what holds no word to look
    for, only punctuation or exclusions, is a false query, whose exclusions may still narrow
    a filter)."""
    groups: list[list[Phrase]] = []
    excluded: list[Phrase] = []
    pending_or = False
    count = 0
    for match in _ITEM.finditer(text[:MAX_QUERY_CHARS]):
        quoted = match.group(2) is not None
        negative = bool(match.group(1) if quoted else match.group(3))
        raw = match.group(2) if quoted else match.group(4)
        if not quoted and not negative and raw.casefold() in _OR_WORDS:
            pending_or = bool(groups)
            continue
        words = tuple(terms(unicodedata.normalize("NFC", raw)))
        if not words or count >= MAX_QUERY_TERMS:
            continue
        words = words[:MAX_QUERY_TERMS - count]
        count += len(words)
        if negative:
            excluded.append(words)
        elif pending_or:
            groups[-1].append(words)
        else:
            groups.append([words])
        pending_or = False
    return TextQuery(tuple(tuple(dict.fromkeys(g)) for g in groups),
                     tuple(dict.fromkeys(excluded)))


# --- Filters -------------------------------------------------------------------------------


def phone_values(given: str) -> list[str]:
    """The phone numbers (E.164, as ``ad_value`` keeps them) in what the user typed."""
    return [f.value for f in find_phones(given.replace("\x00", "")[:100])]


def handle_values(given: str) -> list[str]:
    """What the user typed as a handle, as ``ad_value`` keeps handles (``service:handle``):
    the service's when one is named ("snap: lola_75", "t.me/lola_75"), else the username
    in every known service ("lola_75", "@lola_75")."""
    given = given.replace("\x00", "")[:200].strip()
    found = [f.value for f in find_handles(given)]
    if found:
        return found
    bare = _USERNAME.fullmatch(fold(given))
    name = bare.group(1).rstrip(".-") if bare else ""
    return [f"{service}:{name}" for service in _services()] if name else []


@lru_cache(maxsize=1)
def _services() -> tuple[str, ...]:
    data = orjson.loads((resources.files("faisceau.normalise") / "data" /
                         "handle_services.json").read_bytes())
    return tuple(sorted(data["services"]))


def departement_code(given: str) -> str | None:
    """A département code as the store keeps it ("1" → "01", "2a" → "2A"), or None."""
    code = given.strip().upper()
    if code.isdigit() and 1 <= len(code) <= 3:
        return code.zfill(2)
    if code in ("2A", "2B"):
        return code
    return None


# --- Indexing ------------------------------------------------------------------------------


def _last_indexed(conn: Connection) -> int:
    rows = fetch(conn, "SELECT MAX(version_id) FROM ad_search", ())
    return int(rows[0][0] or 0)


def _last_version(conn: Connection) -> int:
    rows = fetch(conn, "SELECT MAX(id) FROM ad_version", ())
    return int(rows[0][0] or 0)


def pending(conn: Connection) -> bool:
    """Whether some ad version is not indexed yet (two index lookups)."""
    return _last_version(conn) > _last_indexed(conn)


def index_new(conn: Connection, *, batch: int = INDEX_BATCH) -> int:
    """Index every ad version not indexed yet, in the caller's transaction; returns how
    many. Indexing writers take turns, so no version is indexed twice."""
    if not pending(conn):
        return 0
    serialise(conn, "ad_search")
    done = 0
    after = _last_indexed(conn)
    m = mark(conn)
    while True:
        rows = fetch(conn, f"SELECT id, ad_pk, departement, title, text FROM ad_version "
                     f"WHERE id > {m} ORDER BY id LIMIT {m}", (after, batch))
        if not rows:
            return done
        if conn.dialect.name == "postgresql":
            out = [(vid, pk, dep, _tsvector(_document(title, text)))
                   for vid, pk, dep, title, text in rows]
            insert_rows(conn, "ad_search", ("version_id", "ad_pk", "departement", "terms"), out)
        else:
            out = [(vid, pk, dep, " ".join(_document(title, text)))
                   for vid, pk, dep, title, text in rows]
            insert_rows(conn, "ad_search", ("version_id", "ad_pk", "departement", "terms"), out)
            conn.connection.driver_connection.executemany(  # type: ignore[union-attr]
                "INSERT INTO ad_fts (rowid, terms) VALUES (?, ?)",
                [(vid, words) for vid, _pk, _dep, words in out])
        done += len(rows)
        after = int(rows[-1][0])
        if len(rows) < batch:
            return done


def forget(conn: Connection, version_ids: Sequence[int]) -> None:
    """Take these versions out of the index, in the caller's transaction (retention)."""
    if not version_ids:
        return
    if conn.dialect.name == "sqlite":
        # An external-content FTS5 table forgets a row when told its old terms.
        for chunk in range(0, len(version_ids), 500):
            ids = list(version_ids[chunk:chunk + 500])
            conn.exec_driver_sql(
                "INSERT INTO ad_fts (ad_fts, rowid, terms) SELECT 'delete', version_id, terms "
                f"FROM ad_search WHERE version_id IN ({', '.join('?' * len(ids))})", tuple(ids))
    delete_in(conn, "ad_search", "version_id", list(version_ids))


# --- Searching -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    text: str
    match: bool


@dataclass
class AdHit:
    """One ad found, with the version that matched."""

    ad_pk: int
    source: str
    ad_id: str
    version_id: int
    version_no: int
    current: bool
    title: list[Segment]
    snippet: list[Segment]
    name: str | None
    commune: str | None
    departement: str | None
    first_seen: datetime
    last_seen: datetime
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"ad_pk": self.ad_pk, "ad": f"{self.source}:{self.ad_id}",
                "source": self.source, "ad_id": self.ad_id, "version": self.version_no,
                "current": self.current,
                "title": "".join(s.text for s in self.title),
                "title_segments": [s.__dict__ for s in self.title],
                "snippet": [s.__dict__ for s in self.snippet],
                "name": self.name, "commune": self.commune, "departement": self.departement,
                "first_seen": self.first_seen.isoformat() + "Z",
                "last_seen": self.last_seen.isoformat() + "Z", "score": round(self.score, 6)}


@dataclass
class SearchResult:
    hits: list[AdHit] = field(default_factory=list)
    total: int = 0  # ads found, up to COUNT_CAP
    capped: bool = False  # more than COUNT_CAP
    notes: list[str] = field(default_factory=list)  # what was not understood, in French


def _as_bounds(seen_from: date | None, seen_to: date | None) -> tuple[datetime | None,
                                                                         datetime | None]:
    low = datetime.combine(seen_from, time()) if seen_from else None
    high = datetime.combine(seen_to + timedelta(days=1), time()) if seen_to else None
    return low, high


def search_ads(conn: Connection, query: str | TextQuery = "", *,
               departement: str | None = None, seen_from: date | None = None,
               seen_to: date | None = None, phone: str | None = None,
               handle: str | None = None, limit: int = 50, offset: int = 0,
               hidden_ads: Sequence[int] = (),
               only_ads: Sequence[int] | None = None) -> SearchResult:
    """Ads whose title and text match ``query`` and whose version meets the filters: one
    row per ad with its best-matching version, by relevance then last sighting.

    A search needs a word to look for or a filter that names ads (département, phone,
    handle); without either it reads nothing and says so (``notes``). Dates, exclusions
    ("-word") and the caller's need-to-know (``hidden_ads`` left out and, when given, only
    ``only_ads`` considered) only narrow: whatever they are, a query with no word and no
    filter finds nothing, on both stores.
    """
    parsed = query if isinstance(query, TextQuery) else parse_query(query or "")
    result = SearchResult()
    dialect = conn.dialect.name
    m = mark(conn)
    where: list[str] = []
    params: list[Any] = []
    if departement:
        code = departement_code(departement)
        if code is None:
            result.notes.append(f"département « {departement[:10]} » inconnu")
            return result
        where.append(f"s.departement = {m}")
        params.append(code)
    for kind, given, read, unknown in (
            ("phone", phone, phone_values, "numéro de téléphone non reconnu"),
            ("handle", handle, handle_values, "pseudonyme non reconnu")):
        if not given:
            continue
        values = read(given)
        if not values:
            result.notes.append(unknown)
            return result
        where.append(f"s.version_id IN (SELECT version_id FROM ad_value WHERE kind = '{kind}' "
                     f"AND {_in(conn, 'value')})")
        params.append(_array(conn, values))
    if not parsed and not where:
        result.notes.append(_nothing_to_search(parsed, bool(seen_from or seen_to)))
        return result
    if not parsed and parsed.excluded:
        where.append(_excluding(conn))
        params.append(parsed.excluded_tsquery() if dialect == "postgresql"
                      else parsed.excluded_fts5())
    low, high = _as_bounds(seen_from, seen_to)
    if low or high:
        dates = ["g.ad_pk = s.ad_pk", "g.version_id = s.version_id"]
        if low:
            dates.append(f"g.seen_at >= {m}")
            params.append(low)
        if high:
            dates.append(f"g.seen_at < {m}")
            params.append(high)
        where.append("EXISTS (SELECT 1 FROM sighting g WHERE " + " AND ".join(dates) + ")")
    if hidden_ads:
        where.append(f"NOT {_in(conn, 's.ad_pk')}")
        params.append(_array(conn, list(hidden_ads)))
    if only_ads is not None:
        where.append(_in(conn, "s.ad_pk"))
        params.append(_array(conn, list(only_ads)))

    if parsed:
        if dialect == "postgresql":
            source = (f"SELECT s.ad_pk, s.version_id, s.terms FROM ad_search s "
                      f"WHERE s.terms @@ {m}::tsquery")
            params[:0] = [parsed.tsquery()]
        else:
            # CROSS JOIN keeps the full-text index outermost: driven from the département
            # index instead, SQLite would evaluate the MATCH once per row.
            source = (f"SELECT s.ad_pk, s.version_id, -bm25(ad_fts) AS score FROM ad_fts "
                      f"CROSS JOIN ad_search s ON s.version_id = ad_fts.rowid "
                      f"WHERE ad_fts MATCH {m}")
            params[:0] = [parsed.fts5()]
        source += "".join(f" AND {w}" for w in where)
        counted_source, count_params = source, list(params)
        if dialect == "postgresql":
            source = (f"SELECT ad_pk, version_id, ts_rank(terms, {m}::tsquery) AS score FROM "
                      f"({source} ORDER BY s.version_id DESC LIMIT {RANKED_CANDIDATES}) r")
            params.insert(0, parsed.tsquery())
    else:
        source = ("SELECT s.ad_pk, s.version_id, 0.0 AS score FROM ad_search s WHERE "
                  + " AND ".join(where))
        counted_source, count_params = source, list(params)
    best = (f"WITH c AS ({source}), b AS (SELECT ad_pk, version_id, score, ROW_NUMBER() OVER "
            "(PARTITION BY ad_pk ORDER BY score DESC, version_id DESC) AS n FROM c) ")
    page = fetch(conn, best + "SELECT b.ad_pk, b.version_id, b.score FROM b "
                 "JOIN ad a ON a.id = b.ad_pk WHERE b.n = 1 "
                 f"ORDER BY b.score DESC, a.last_seen DESC, a.id DESC LIMIT {m} OFFSET {m}",
                 (*params, max(limit, 0), max(offset, 0)))
    counted = fetch(conn, f"WITH c AS ({counted_source}) SELECT COUNT(*) FROM "
                    f"(SELECT DISTINCT ad_pk FROM c LIMIT {COUNT_CAP + 1}) t",
                    tuple(count_params))
    total = int(counted[0][0])
    result.total, result.capped = min(total, COUNT_CAP), total > COUNT_CAP
    result.hits = _hits(conn, page, parsed)
    return result


def _nothing_to_search(parsed: TextQuery, dated: bool) -> str:
    """Why a search with no word to look for and no filter reads nothing, in French."""
    if parsed.excluded:
        return EXCLUSIONS_ALONE
    return DATES_ALONE if dated else NO_WORD


def _excluding(conn: Connection) -> str:
    """The condition that a version holds none of the excluded phrases (bound as one
    parameter: an FTS5 expression, or a tsquery literal)."""
    m = mark(conn)
    if conn.dialect.name == "sqlite":
        return f"s.version_id NOT IN (SELECT rowid FROM ad_fts WHERE ad_fts MATCH {m})"
    return f"NOT COALESCE(s.terms @@ {m}::tsquery, FALSE)"


def _in(conn: Connection, column: str) -> str:
    if conn.dialect.name == "sqlite":
        return f"{column} IN (SELECT value FROM json_each(?))"
    return f"{column} = ANY(%s)"


def _array(conn: Connection, values: list[Any]) -> Any:
    if conn.dialect.name == "sqlite":
        return orjson.dumps(values).decode()
    return values


def _hits(conn: Connection, page: list[tuple[Any, ...]], parsed: TextQuery) -> list[AdHit]:
    if not page:
        return []
    version_ids = [int(r[1]) for r in page]
    versions = {int(r[0]): r for r in fetch_in(
        conn, "SELECT v.id, v.version_no, v.title, v.text, v.name, v.commune, v.departement, "
        "a.id, a.source, a.ad_id, a.first_seen, a.last_seen, a.current_version_id "
        "FROM ad_version v JOIN ad a ON a.id = v.ad_pk", "v.id", version_ids)}
    words = parsed.words
    hits = []
    for _ad_pk, version_id, score in page:
        (vid, version_no, title, text, name, commune, dep, pk, source, ad_id, first, last,
         current) = versions[int(version_id)]
        hits.append(AdHit(
            ad_pk=int(pk), source=source, ad_id=ad_id, version_id=int(vid),
            version_no=int(version_no), current=current == vid,
            title=highlight(title or "", words, whole=True),
            snippet=highlight(text or "", words), name=name, commune=commune,
            departement=dep, first_seen=as_datetime(first), last_seen=as_datetime(last),
            score=float(score or 0.0)))
    return hits


def highlight(text: str, words: frozenset[str], *, whole: bool = False) -> list[Segment]:
    """``text`` (or, unless ``whole``, an extract around its first match) cut into segments,
    the words of the query marked."""
    text = unicodedata.normalize("NFC", text)
    spans = [(s, e) for s, e, forms in _spans(text) if words and any(f in words
                                                                        for f in forms)]
    start, end = 0, len(text)
    if not whole:
        first = spans[0][0] if spans else 0
        start = max(0, first - SNIPPET_BEFORE)
        if start > 0:
            space = text.find(" ", start, first)
            start = space + 1 if space != -1 else start
        end = min(len(text), start + SNIPPET_BEFORE + SNIPPET_AFTER)
        if end < len(text):
            space = text.rfind(" ", start, end)
            end = space if space > start else end
    segments: list[Segment] = []
    if start > 0:
        segments.append(Segment("…", False))
    position = start
    for s, e in spans:
        if s < start or e > end:
            continue
        if s > position:
            segments.append(Segment(text[position:s], False))
        segments.append(Segment(text[s:e], True))
        position = e
    if end > position:
        segments.append(Segment(text[position:end], False))
    if end < len(text):
        segments.append(Segment("…", False))
    return segments
