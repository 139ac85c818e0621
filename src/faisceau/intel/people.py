"""The people of the case files resolved: which Person entities are the same human being.

The records are the store's Person entities (``intel_entity``), their values read from the
statements (``intel_statement``) and normalised for Splink (``person_records``). Splink
(``faisceau.intel.resolve``, settings in ``people_resolution.toml``) scores the pairs;
``resolve_people`` keeps those worth a look in ``intel_candidate`` and records a positive
judgement (source ``splink``) for each pair at or above the match threshold, except:

- a pair an analyst has judged keeps the analyst's judgement, whatever Splink says;
- a pair whose records belong to categories that Directive (EU) 2016/680 (article 6) keeps
  apart is never merged automatically: it waits in the review queue. Categories merge
  automatically only within a family (``FAMILIES``): victims with runaway reports' minors
  (a runaway minor found in the ads is a presumed victim, and both are people the units
  protect), suspects with suspects, witnesses with witnesses, relatives with relatives,
  fined clients with fined clients. A victim and a suspect (a victim who recruits), a
  witness and a suspect, a fined client and a witness: an analyst decides;
- two records of one case are presumed two people (a case file lists each person once):
  such a pair waits for an analyst too.

Judgements are append-only (``intel_judgement``); a pair's judgement is its latest row.
The resolved person of every Person entity (``intel_entity.canonical_id``) is the connected
component of the current positive pairs, named by its smallest id (code-point order), and
is recomputed after each run and each judgement. Undoing a merge (``unmerge``) is adding
negative judgements: the history stays.
"""

from __future__ import annotations

import math
import re
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from faisceau.intel.resolve import ResolutionSettings, load_settings, resolve
from faisceau.store import Store
from faisceau.store.bulk import (
    as_datetime,
    fetch,
    fetch_in,
    insert_rows,
    mark,
    note_change,
    serialise,
    update_rows,
    utc_now,
)

JUDGEMENTS = ("positive", "negative", "unsure")
SPLINK = "splink"
ANALYST = "analyst"

# Categories that may be merged automatically with each other (Directive 2016/680, art. 6:
# suspects, victims, witnesses and other parties are kept distinct). Across families, only
# an analyst merges.
FAMILIES: Mapping[str, str] = {
    "victim": "protected", "runaway": "protected", "suspect": "suspect",
    "witness": "witness", "relation": "relation", "fined_client": "fined_client"}
CATEGORY_LABELS: Mapping[str, str] = {
    "suspect": "suspect / mis en cause", "victim": "victime", "witness": "témoin",
    "relation": "personne en relation", "runaway": "mineur signalé en fugue",
    "fined_client": "client verbalisé"}
JUDGEMENT_LABELS: Mapping[str, str] = {
    "positive": "même personne", "negative": "personnes différentes", "unsure": "incertain"}

# The statements a record is made of, and the ages kept in keywords.
_PROPS = ("firstName", "lastName", "birthDate", "gender", "nationality", "phone", "email",
          "address")
_AGE_KEYWORDS = ("age_at_facts", "stated_age", "age")
# Keywords that are the entity's own columns (category, case...): not shown as values.
_ENTITY_KEYWORDS = ("category", "case", "status", "role", "minor", "unit", "departement")
_POSTCODE = re.compile(r"\b(\d{5})\b")
_SPACES = re.compile(r"[\s\-'’.]+")
# Any constant works; it only has to be the same for every faisceau process.


class PeopleError(ValueError):
    """A request that cannot be carried out; the message is one line, in French."""


def load_people_settings(path: Path | None = None) -> ResolutionSettings:
    """The shipped settings (``people_resolution.toml``), or another file of that shape."""
    if path is not None:
        return load_settings(path)
    shipped = resources.files(__package__) / "people_resolution.toml"
    with resources.as_file(shipped) as local:
        return load_settings(local)


# -- records ---------------------------------------------------------------------------------


def normal_name(value: str | None) -> str | None:
    """Lower case, without accents, one space between words: ``Mickaël`` → ``mickael``."""
    if not value:
        return None
    decomposed = unicodedata.normalize("NFKD", value)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", bare).strip().casefold() or None


def normal_birth_date(value: str | None) -> str | None:
    """An ISO date as is; a year alone (or a year and month) as the year: ``YYYY``."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return value
    if re.fullmatch(r"\d{4}(-\d{2})?", value):
        return value[:4]
    return None


def departement_of(address: str | None) -> str | None:
    """The département of an address's postcode (``97180`` → ``971``, Corsica ``2A``/``2B``)."""
    found = _POSTCODE.search(address or "")
    if found is None:
        return None
    code = found.group(1)
    if code.startswith("20"):
        return "2A" if code < "20200" else "2B"
    return code[:3] if code[:2] in ("97", "98") else code[:2]


def _most_common(values: Iterable[str | None]) -> str | None:
    counts = Counter(v for v in values if v)
    if not counts:
        return None
    return min(counts, key=lambda v: (-counts[v], v))


def person_records(conn: Connection, ids: Sequence[str] | None = None
                   ) -> list[dict[str, Any]]:
    """One record per Person entity (or per one of ``ids``), its fields normalised for
    Splink: ``record_id``, ``given_name``, ``surname`` (lower case, no accents),
    ``birth_date`` (ISO, or ``YYYY`` when the files give a year alone), ``gender``,
    ``nationality``, ``minor`` (``minor``/``adult``), ``phones`` and ``emails`` (sorted
    lists, or None), ``departement`` (of the address's postcode, else of the runaway report
    or of the case), and, not compared, ``category`` and ``case_id``."""
    entity_sql = "SELECT id, category, case_id, departement, minor, schema FROM intel_entity"
    props = ", ".join(f"'{p}'" for p in _PROPS)
    statement_sql = ("SELECT s.entity_id, s.prop, s.value FROM intel_statement s "
                     "JOIN intel_entity e ON e.id = s.entity_id AND e.schema = 'Person' "
                     f"AND s.prop IN ({props})")
    if ids is None:
        entities = fetch(conn, f"{entity_sql} WHERE schema = 'Person'", ())
        statements = fetch(conn, statement_sql, ())
    else:
        entities = [r for r in fetch_in(conn, entity_sql, "id", list(ids)) if r[5] == "Person"]
        statements = fetch_in(conn, statement_sql, "s.entity_id", list(ids))
    values: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for entity_id, prop, value in sorted(statements):
        values[entity_id][prop].append(value)
    reported = {person: departement for person, _, departement
                in _reports(conn, None if ids is None else list(ids))}
    records = []
    for entity_id, category, case_id, departement, minor, _ in sorted(entities):
        own = values.get(entity_id, {})
        phones = sorted(set(own.get("phone", ())))
        emails = sorted({e.strip().lower() for e in own.get("email", ())})
        residence = _most_common(departement_of(a) for a in own.get("address", ()))
        records.append({
            "record_id": entity_id,
            "given_name": _most_common(normal_name(v) for v in own.get("firstName", ())),
            "surname": _most_common(normal_name(v) for v in own.get("lastName", ())),
            "birth_date": _most_common(normal_birth_date(v) for v in own.get("birthDate", ())),
            "gender": _most_common(own.get("gender", ())),
            "nationality": _most_common(v.lower() for v in own.get("nationality", ())),
            "minor": "minor" if minor else "adult",
            "phones": phones or None,
            "emails": emails or None,
            "departement": residence or reported.get(entity_id) or departement,
            "category": category,
            "case_id": case_id,
        })
    return records


def _reports(conn: Connection, people: Sequence[str] | None = None
             ) -> list[tuple[str, str, str | None]]:
    """(person, event, département) of the reports (runaway reports) that involve people."""
    select = ("SELECT s.value, s.entity_id, e.departement FROM intel_statement s "
              "JOIN intel_entity e ON e.id = s.entity_id AND s.prop = 'involved' "
              "AND e.schema = 'Event'")
    if people is None:
        rows = fetch(conn, select, ())
    else:
        rows = fetch_in(conn, select, "s.value", list(people))
    return [(str(r[0]), str(r[1]), r[2]) for r in rows]


# -- judgements ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Judgement:
    """One row of ``intel_judgement``: a decision on a pair (``left_id < right_id``)."""

    id: int
    left_id: str
    right_id: str
    judgement: str  # positive, negative, unsure
    probability: float | None
    source: str  # splink, analyst
    decided_by: str
    decided_at: datetime
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["decided_at"] = as_datetime(self.decided_at).isoformat() + "Z"
        return out


_JUDGEMENT_COLUMNS = ("id", "left_id", "right_id", "judgement", "probability", "source",
                      "decided_by", "decided_at", "reason")


def _judgement(row: Sequence[Any]) -> Judgement:
    return Judgement(int(row[0]), row[1], row[2], row[3],
                     None if row[4] is None else float(row[4]), row[5], row[6],
                     as_datetime(row[7]), row[8])


def current_judgements(conn: Connection) -> dict[tuple[str, str], Judgement]:
    """Each judged pair's current judgement: its latest row."""
    columns = ", ".join(f"j.{c}" for c in _JUDGEMENT_COLUMNS)
    rows = fetch(conn, f"SELECT {columns} FROM intel_judgement j JOIN (SELECT MAX(id) AS id "
                       "FROM intel_judgement GROUP BY left_id, right_id) m ON m.id = j.id", ())
    return {(r[1], r[2]): _judgement(r) for r in rows}


def recompute_canonical_ids(conn: Connection) -> int:
    """Every Person entity's ``canonical_id`` = the smallest id (code-point order) of its
    connected component under the current positive judgements; returns how many changed.
    Written in bulk, only where it changed."""
    people = {r[0]: r[1] for r in fetch(
        conn, "SELECT id, canonical_id FROM intel_entity WHERE schema = 'Person'", ())}
    parent = {p: p for p in people}

    def root(node: str) -> str:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for (left, right), judgement in current_judgements(conn).items():
        if judgement.judgement == "positive" and left in parent and right in parent:
            a, b = root(left), root(right)
            if a != b:
                parent[max(a, b)] = min(a, b)
    now = utc_now()
    rows = [(canonical, now, entity_id) for entity_id, old in people.items()
            if (canonical := root(entity_id)) != old]
    update_rows(conn, "intel_entity", "id", ("canonical_id", "updated_at"), rows)
    if rows:
        note_change(conn, "people")
    return len(rows)


def _people(conn: Connection, ids: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    """id -> (caption, category, role, status, minor, case_id, unit, departement,
    canonical_id) of those of ``ids`` that are Person entities."""
    rows = fetch_in(conn, "SELECT id, caption, category, role, status, minor, case_id, unit, "
                          "departement, canonical_id, schema FROM intel_entity", "id",
                    sorted(set(ids)))
    return {r[0]: tuple(r[1:10]) for r in rows if r[10] == "Person"}


def _require_people(conn: Connection, ids: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    known = _people(conn, ids)
    for entity_id in ids:
        if entity_id not in known:
            raise PeopleError(f"personne inconnue : {entity_id}")
    return known


def _pair(left: str, right: str) -> tuple[str, str]:
    if left == right:
        raise PeopleError(f"une fiche ne se compare pas à elle-même : {left}")
    return (left, right) if left < right else (right, left)


def _insert_judgement(conn: Connection, pair: tuple[str, str], judgement: str,
                      probability: float | None, source: str, decided_by: str,
                      decided_at: datetime, reason: str | None) -> Judgement:
    m = mark(conn)
    values = (pair[0], pair[1], judgement, probability, source, decided_by, decided_at, reason)
    sql = (f"INSERT INTO intel_judgement ({', '.join(_JUDGEMENT_COLUMNS[1:])}) "
           f"VALUES ({', '.join([m] * len(values))})")
    if conn.dialect.name == "postgresql":
        row = fetch(conn, sql + " RETURNING id", values)[0]
        new_id = int(row[0])
    else:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql, values)
            new_id = int(cursor.lastrowid)
        finally:
            cursor.close()
    return Judgement(new_id, pair[0], pair[1], judgement, probability, source, decided_by,
                     decided_at, reason)


def _candidate_probability(conn: Connection, pair: tuple[str, str]) -> float | None:
    m = mark(conn)
    rows = fetch(conn, f"SELECT probability FROM intel_candidate WHERE left_id = {m} "
                       f"AND right_id = {m}", pair)
    return float(rows[0][0]) if rows else None


def _checked_analyst(analyst: str) -> str:
    name = (analyst or "").strip()
    if not name:
        raise PeopleError("analyste inconnu : le nommer (--analyst ou FAISCEAU_ANALYST)")
    if name.lower() == SPLINK:
        raise PeopleError(f"« {SPLINK} » est réservé aux décisions automatiques")
    return name


def judge(store: Store, left: str, right: str, judgement: str, analyst: str,
          reason: str | None = None, *, now: datetime | None = None) -> Judgement:
    """An analyst's judgement on a pair (``positive``: the same person, ``negative``:
    different people, with a reason, ``unsure``), appended; then the canonical ids are
    recomputed. Any pair of Person entities may be judged, found by Splink or not."""
    if judgement not in JUDGEMENTS:
        raise PeopleError(f"jugement inconnu : {judgement} (positive, negative ou unsure)")
    name = _checked_analyst(analyst)
    why = (reason or "").strip() or None
    if judgement == "negative" and why is None:
        raise PeopleError("un jugement « personnes différentes » demande un motif (--reason)")
    pair = _pair(left, right)
    with store.begin() as conn:
        serialise(conn, "intel_judgement")
        _require_people(conn, pair)
        recorded = _insert_judgement(conn, pair, judgement, _candidate_probability(conn, pair),
                                     ANALYST, name, now or utc_now(), why)
        recompute_canonical_ids(conn)
    return recorded


def unmerge(store: Store, entity_id: str, analyst: str, reason: str, *,
            now: datetime | None = None) -> list[Judgement]:
    """Undo the merges of an entity: a negative judgement (by the analyst, with the reason)
    on every pair that positively links it to another entity; then the canonical ids are
    recomputed. The earlier judgements stay in the history."""
    name = _checked_analyst(analyst)
    why = (reason or "").strip()
    if not why:
        raise PeopleError("défaire une fusion demande un motif (--reason)")
    with store.begin() as conn:
        serialise(conn, "intel_judgement")
        _require_people(conn, [entity_id])
        links = sorted(pair for pair, j in current_judgements(conn).items()
                       if j.judgement == "positive" and entity_id in pair)
        if not links:
            raise PeopleError(f"{entity_id} n'est fusionnée avec aucune autre fiche")
        when = now or utc_now()
        recorded = [_insert_judgement(conn, pair, "negative", _candidate_probability(conn, pair),
                                      ANALYST, name, when, why) for pair in links]
        recompute_canonical_ids(conn)
    return recorded


def history(conn: Connection, entity_id: str) -> list[Judgement]:
    """Every judgement on a pair that includes the entity, oldest first."""
    _require_people(conn, [entity_id])
    m = mark(conn)
    rows = fetch(conn, f"SELECT {', '.join(_JUDGEMENT_COLUMNS)} FROM intel_judgement "
                       f"WHERE left_id = {m} OR right_id = {m} ORDER BY id",
                 (entity_id, entity_id))
    return [_judgement(r) for r in rows]


# -- resolution ------------------------------------------------------------------------------


FIELD_LABELS: Mapping[str, str] = {
    "given_name": "prénom", "surname": "nom", "birth_date": "date de naissance",
    "gender": "sexe", "nationality": "nationalité", "minor": "mineur",
    "phones": "téléphones", "emails": "courriels", "departement": "département"}
# French names of the comparison levels, by kind and level (Splink's gamma).
_LEVELS: Mapping[str, Mapping[int, str]] = {
    "name": {4: "identique", 3: "très proche", 2: "proche", 1: "ressemblant", 0: "différent"},
    "birth": {4: "identique", 3: "une faute de frappe", 2: "année seule, la même",
              1: "à un an près", 0: "différente"},
    "exact": {1: "identique", 0: "différent"},
    "array": {1: "au moins une valeur commune", 0: "aucune valeur commune"},
}


def _level_label(kind: str, level: int, splink_label: str | None) -> str:
    if level == -1:
        return "inconnu d'un côté"
    return _LEVELS.get(kind, {}).get(level) or splink_label or str(level)


@dataclass(frozen=True)
class _Scored:
    pair: tuple[str, str]
    probability: float
    detail: dict[str, Any]


def _held(left: Mapping[str, Any], right: Mapping[str, Any]) -> str | None:
    """Why a pair may not be merged automatically, in French, or None."""
    categories = (left.get("category"), right.get("category"))
    if None in categories or "" in categories:
        return "catégorie inconnue : seul un analyste peut rapprocher une fiche sans catégorie"
    families = {FAMILIES.get(str(c), str(c)) for c in categories}
    if len(families) > 1:
        labels = " / ".join(CATEGORY_LABELS.get(c or "", c or "sans catégorie")
                            for c in categories)
        return (f"catégories distinctes ({labels}) : la directive 2016/680 les tient "
                "séparées, seul un analyste peut rapprocher ces fiches")
    if left.get("case_id") and left.get("case_id") == right.get("case_id"):
        return (f"même affaire ({left['case_id']}) : un dossier nomme en principe chaque "
                "personne une fois")
    return None


def _score(records: Sequence[Mapping[str, Any]], settings: ResolutionSettings,
           threads: int | None) -> list[_Scored]:
    """Splink's pairs at or above the review threshold, with each field's comparison."""
    if len(records) < 2:
        return []
    fields = list(settings.comparisons)
    unknown = [f for f in fields if f not in records[0]]
    if unknown:
        raise PeopleError(f"réglages : champ(s) inconnu(s) {', '.join(unknown)} (champs : "
                          f"{', '.join(f for f in records[0] if f != 'record_id')})")
    import pandas as pd

    frame = pd.DataFrame([{k: r[k] for k in ("record_id", *fields)} for r in records])
    result = resolve({"people": frame}, settings, threads=threads, detail=True, quiet=True)
    pairs = pd.concat([result.matches, result.to_review], ignore_index=True)
    by_id = {r["record_id"]: r for r in records}
    scored = []
    for row in pairs.to_dict("records"):
        pair = _pair(str(row["record_id_l"]), str(row["record_id_r"]))
        compared = []
        for name in fields:
            level = int(row[f"gamma_{name}"])
            factor = float(row.get(f"bf_{name}", 1.0)) * float(row.get(f"bf_tf_adj_{name}", 1.0))
            compared.append({
                "field": name, "level": level,
                "label": _level_label(settings.comparisons[name]["kind"], level,
                                      result.levels.get(name, {}).get(level)),
                "weight": round(math.log2(factor), 3) if factor > 0 else None})
        left, right = by_id[pair[0]], by_id[pair[1]]
        scored.append(_Scored(pair, float(row["match_probability"]), {
            "match_weight": round(float(row["match_weight"]), 3), "fields": compared,
            "held": _held(left, right)}))
    return sorted(scored, key=lambda s: s.pair)


def _write_candidates(conn: Connection, scored: Sequence[_Scored]) -> None:
    """Replace the candidates by these pairs; an unchanged pair keeps its row (and the time
    it was first found), so that a run that finds the same pairs writes nothing."""
    existing = {(r[0], r[1]): (float(r[2]), r[3], r[4]) for r in fetch(
        conn, "SELECT left_id, right_id, probability, detail, found_at FROM intel_candidate",
        ())}
    now = utc_now()
    fresh = {s.pair: (s.probability, orjson.dumps(s.detail, option=orjson.OPT_SORT_KEYS)
                      .decode()) for s in scored}
    stale = [pair for pair, (probability, detail, _) in existing.items()
             if pair not in fresh or abs(fresh[pair][0] - probability) > 1e-9
             or fresh[pair][1] != detail]
    _delete_pairs(conn, "intel_candidate", stale)
    keep_found = {pair: existing[pair][2] for pair in stale if pair in existing}
    insert_rows(conn, "intel_candidate", ("left_id", "right_id", "probability", "detail",
                                          "found_at"),
                [(pair[0], pair[1], probability, detail,
                  as_datetime(keep_found[pair]) if pair in keep_found else now)
                 for pair, (probability, detail) in sorted(fresh.items())
                 if pair not in existing or pair in keep_found])


def _delete_pairs(conn: Connection, table: str, pairs: Sequence[tuple[str, str]]) -> None:
    if not pairs:
        return
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            f"DELETE FROM {table} t USING (SELECT unnest(%s::text[]) AS l, "
            "unnest(%s::text[]) AS r) d WHERE t.left_id = d.l AND t.right_id = d.r",
            ([p[0] for p in pairs], [p[1] for p in pairs]))
        return
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(f"DELETE FROM {table} WHERE left_id = ? AND right_id = ?", pairs)
    finally:
        cursor.close()


@dataclass(frozen=True)
class ResolutionSummary:
    records: int  # Person entities compared
    candidates: int  # pairs at or above the review threshold, kept in intel_candidate
    matched: int  # of which at or above the match threshold
    merged: int  # positive judgements written by this run
    withdrawn: int  # automatic merges this run no longer supports (negative, by splink)
    held: int  # pairs at or above the match threshold kept for an analyst
    analyst_kept: int  # pairs at or above the match threshold an analyst had judged
    to_review: int  # the review queue after the run
    people: int  # resolved people (distinct canonical ids)
    merged_entities: int  # Person entities resolved with at least one other
    changed: int  # canonical ids changed by this run
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def resolve_people(store: Store, settings: ResolutionSettings | None = None, *,
                   decided_by: str = SPLINK, threads: int | None = None
                   ) -> ResolutionSummary:
    """Resolve the store's people: candidates replaced, automatic merges judged (never over
    an analyst's judgement, never across the Directive's categories nor within a case),
    canonical ids recomputed. Running it again on the same store changes nothing."""
    started = time.perf_counter()
    settings = settings or load_people_settings()
    with store.begin() as conn:
        records = person_records(conn)
    scored = _score(records, settings, threads)
    with store.begin() as conn:
        serialise(conn, "intel_judgement")
        _write_candidates(conn, scored)
        current = current_judgements(conn)
        automatic = {s.pair: s for s in scored
                     if s.probability >= settings.match and s.detail["held"] is None}
        now = utc_now()
        rows: list[tuple[Any, ...]] = []
        merged, withdrawn, kept = 0, 0, 0
        for pair, found in sorted(automatic.items()):
            judged = current.get(pair)
            if judged is not None and judged.source != SPLINK:
                kept += 1
            elif judged is None or judged.judgement != "positive":
                merged += 1
                rows.append((*pair, "positive", found.probability, SPLINK, decided_by, now,
                             f"probabilité {_decimal(found.probability)} ≥ seuil de fusion "
                             f"{_decimal(settings.match)}"))
        probabilities = {s.pair: s for s in scored}
        for pair, judged in sorted(current.items()):
            if judged.source == SPLINK and judged.judgement == "positive" \
                    and pair not in automatic:
                withdrawn += 1
                still = probabilities.get(pair)
                if still is None:
                    why = "fusion automatique retirée : paire plus trouvée"
                elif still.detail["held"]:
                    why = f"fusion automatique retirée : {still.detail['held']}"
                else:
                    why = (f"fusion automatique retirée : probabilité "
                           f"{_decimal(still.probability)} sous le seuil "
                           f"{_decimal(settings.match)}")
                rows.append((*pair, "negative", still.probability if still else None,
                             SPLINK, decided_by, now, why))
        insert_rows(conn, "intel_judgement", _JUDGEMENT_COLUMNS[1:], rows)
        changed = recompute_canonical_ids(conn)
        queue = len(_queue_pairs(conn))
        people, merged_entities = _resolved_counts(conn)
    return ResolutionSummary(
        records=len(records), candidates=len(scored),
        matched=sum(1 for s in scored if s.probability >= settings.match), merged=merged,
        withdrawn=withdrawn,
        held=sum(1 for s in scored if s.probability >= settings.match and s.detail["held"]),
        analyst_kept=kept, to_review=queue, people=people, merged_entities=merged_entities,
        changed=changed, seconds=round(time.perf_counter() - started, 3))


def _decimal(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".").replace(".", ",")


def _resolved_counts(conn: Connection) -> tuple[int, int]:
    rows = fetch(conn, "SELECT canonical_id, COUNT(*) FROM intel_entity WHERE schema = 'Person' "
                       "GROUP BY canonical_id", ())
    return len(rows), sum(int(n) for _, n in rows if int(n) > 1)


# -- the review queue ------------------------------------------------------------------------


def _queue_pairs(conn: Connection) -> list[tuple[str, str, float, str, datetime]]:
    """Candidates awaiting an analyst: no judgement, or only Splink's that is not a merge
    (an automatic merge withdrawn). Most probable first."""
    current = current_judgements(conn)
    rows = fetch(conn, "SELECT left_id, right_id, probability, detail, found_at "
                       "FROM intel_candidate", ())
    waiting = []
    for left, right, probability, detail, found_at in rows:
        judged = current.get((left, right))
        if judged is None or (judged.source == SPLINK and judged.judgement != "positive"):
            waiting.append((left, right, float(probability), detail, as_datetime(found_at)))
    return sorted(waiting, key=lambda r: (-r[2], r[0], r[1]))


@dataclass(frozen=True)
class PersonCard:
    """One Person entity as an analyst sees it in the queue."""

    id: str
    caption: str | None
    category: str | None
    category_label: str | None
    role: str | None
    status: str | None
    minor: bool
    case_id: str | None
    unit: str | None
    departement: str | None
    canonical_id: str
    values: dict[str, Any]  # the compared fields, normalised as compared


@dataclass(frozen=True)
class FieldComparison:
    field: str
    label: str  # French name of the field
    left: Any
    right: Any
    level: str  # French: identique, différent, inconnu d'un côté...
    weight: float | None  # its contribution to the match weight (bits)


@dataclass(frozen=True)
class ReviewItem:
    left: PersonCard
    right: PersonCard
    probability: float
    match_weight: float | None
    fields: list[FieldComparison]
    held: str | None  # why it was not merged automatically, when it was not for its score
    found_at: datetime

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["found_at"] = self.found_at.isoformat() + "Z"
        return out


def _cards(conn: Connection, ids: Sequence[str]) -> dict[str, PersonCard]:
    known = _people(conn, ids)
    records = {r["record_id"]: r for r in person_records(conn, sorted(known))}
    cards = {}
    for entity_id, (caption, category, role, status, minor, case_id, unit, departement,
                    canonical) in known.items():
        record = records.get(entity_id, {})
        cards[entity_id] = PersonCard(
            entity_id, caption, category, CATEGORY_LABELS.get(category or ""), role, status,
            bool(minor), case_id, unit, departement, canonical,
            {k: v for k, v in record.items() if k not in ("record_id", "category", "case_id")})
    return cards


def review_queue(conn: Connection, limit: int | None = 50, *,
                 category: str | None = None) -> list[ReviewItem]:
    """The pairs waiting for an analyst, most probable first (only those with a record of
    ``category``, when given): both records side by side and how each field compared."""
    waiting = _queue_pairs(conn)
    if category is not None:
        ids = sorted({i for r in waiting for i in r[:2]})
        of_category = {i for i, row in _people(conn, ids).items() if row[1] == category}
        waiting = [r for r in waiting if r[0] in of_category or r[1] in of_category]
    waiting = waiting[:limit] if limit is not None else waiting
    cards = _cards(conn, sorted({i for r in waiting for i in r[:2]}))
    items = []
    for left, right, probability, detail_text, found_at in waiting:
        if left not in cards or right not in cards:
            continue  # an entity gone since the last run
        detail = orjson.loads(detail_text)
        fields = [FieldComparison(c["field"], FIELD_LABELS.get(c["field"], c["field"]),
                                  cards[left].values.get(c["field"]),
                                  cards[right].values.get(c["field"]), c["label"],
                                  c.get("weight"))
                  for c in detail.get("fields", [])]
        items.append(ReviewItem(cards[left], cards[right], probability,
                                detail.get("match_weight"), fields, detail.get("held"),
                                found_at))
    return items


# -- the resolved person ---------------------------------------------------------------------


PROP_LABELS: Mapping[str, str] = {
    "name": "nom complet", "firstName": "prénom", "lastName": "nom",
    "birthDate": "date de naissance", "gender": "sexe", "nationality": "nationalité",
    "country": "pays", "address": "adresse", "phone": "téléphone", "email": "courriel",
    "age_at_facts": "âge au moment des faits", "stated_age": "âge annoncé",
    "age": "âge au signalement", "keywords": "mots-clés"}
_PROP_ORDER = tuple(PROP_LABELS)


@dataclass(frozen=True)
class Source:
    """Where a value came from: the entity (and its category) that holds it, the source
    named at import, the case and unit, the date of the fact, the file and line."""

    entity_id: str
    category: str | None
    dataset: str
    case_id: str | None
    unit: str | None
    fact_date: str | None
    origin: str


@dataclass(frozen=True)
class Value:
    prop: str
    label: str
    value: str
    sources: list[Source]


@dataclass(frozen=True)
class Member:
    """A Person entity of the resolved person, with its own category: categories are never
    merged into one."""

    id: str
    caption: str | None
    category: str | None
    category_label: str | None
    role: str | None
    status: str | None
    minor: bool
    case_id: str | None
    unit: str | None
    departement: str | None
    reports: list[dict[str, Any]]  # the reports (runaway) that name this entity


@dataclass(frozen=True)
class MergedPerson:
    entity_id: str  # as asked
    canonical_id: str
    members: list[Member]
    values: list[Value]
    links: list[Judgement]  # the current positive judgements that hold the members together

    @property
    def categories(self) -> list[tuple[str | None, str | None]]:
        """(category, case) of each member, as many as there are: never one category."""
        return [(m.category, m.case_id) for m in self.members]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["links"] = [j.to_dict() for j in self.links]
        return out


def merged_person(conn: Connection, entity_id: str) -> MergedPerson:
    """The resolved person an entity belongs to: every member entity's statements, each
    value with where it came from, each member with its own category."""
    canonical = _require_people(conn, [entity_id])[entity_id][8]
    m = mark(conn)
    ids = [r[0] for r in fetch(conn, "SELECT id FROM intel_entity WHERE schema = 'Person' AND "
                                     f"canonical_id = {m} ORDER BY id", (canonical,))]
    if entity_id not in ids:  # canonical ids not recomputed yet: the entity alone
        ids = [entity_id]
    known = _people(conn, ids)
    reports: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for person, event, departement in _reports(conn, ids):
        reports[person].append({"id": event, "departement": departement})
    dates = {r[0]: r[1] for r in fetch_in(conn, "SELECT id, first_date FROM intel_entity", "id",
                                          sorted({e["id"] for v in reports.values()
                                                  for e in v}))}
    members = []
    for member_id in ids:
        caption, category, role, status, minor, case_id, unit, departement, _ = known[member_id]
        own = sorted(reports.get(member_id, []), key=lambda e: str(e["id"]))
        for report in own:
            report["date"] = dates.get(report["id"])
        members.append(Member(member_id, caption, category, CATEGORY_LABELS.get(category or ""),
                              role, status, bool(minor), case_id, unit, departement, own))
    categories = {m.id: m.category for m in members}
    grouped: dict[tuple[str, str], list[Source]] = defaultdict(list)
    for (owner, prop, value, dataset, case_id, unit, fact_date, origin) in sorted(fetch_in(
            conn, "SELECT entity_id, prop, value, dataset, case_id, unit, fact_date, origin "
                  "FROM intel_statement", "entity_id", ids), key=lambda r: tuple(map(str, r))):
        if prop == "id":
            continue
        if prop == "keywords":
            key, colon, rest = value.partition(":")
            if key in _ENTITY_KEYWORDS:
                continue
            if colon and key in _AGE_KEYWORDS:
                prop, value = key, rest
        grouped[(prop, value)].append(Source(owner, categories.get(owner), dataset, case_id,
                                             unit, fact_date, origin))
    order = {p: i for i, p in enumerate(_PROP_ORDER)}
    values = [Value(prop, PROP_LABELS.get(prop, prop), value, sources)
              for (prop, value), sources in sorted(
                  grouped.items(), key=lambda kv: (order.get(kv[0][0], len(order)), kv[0]))]
    links = sorted((j for pair, j in current_judgements(conn).items()
                    if j.judgement == "positive" and pair[0] in known and pair[1] in known),
                   key=lambda j: j.id)
    return MergedPerson(entity_id, canonical, members, values, links)
