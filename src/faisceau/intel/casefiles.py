"""Case files into the store: FollowTheMoney JSON lines and the units' CSV layout.

Both formats become the same thing: FtM entities, stored as statements (one per property
value) that keep their provenance: the source named at import (``dataset``), the case and
unit the fact belongs to, the date of the fact, and the file and line it came from. A person
resolved across cases therefore still shows where each value came from.

A record that cannot be read (bad JSON, unknown schema or property, a date that is not one,
an unknown category...) is set aside in ``quarantine`` with its file, line and reason; the
rest goes in. Statements have content-derived ids, so importing a file again changes nothing
but the time it was last seen, and an import killed midway is finished by running it again.
The CSV layout is data: ``csv_layout.yml``.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import logging
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import IO, Any

import yaml
from followthemoney import model
from followthemoney.exc import FollowTheMoneyException, InvalidMapping
from followthemoney.mapping import QueryMapping
from followthemoney.proxy import EntityProxy
from followthemoney.statement import Statement
from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from faisceau.export import safecsv
from faisceau.intel.exchange import check_ftm_line
from faisceau.store import Store
from faisceau.store.bulk import (
    CASE_FILE_TABLES,
    fetch_in,
    insert_rows,
    note_change,
    refresh_statistics,
    upsert_rows,
    utc_now,
)
from faisceau.store.schema import quarantine

CHUNK = 20_000
# The FtM keywords faisceau reads (``key:value``), as the synthetic world writes them.
PERSON_CATEGORIES = ("suspect", "victim", "witness", "relation", "runaway", "fined_client")
_PAYMENT_CASE = re.compile(r"affaire: ([^;]+)")
_ISO_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


@dataclass(frozen=True)
class SetAside:
    """A record that did not go in, and why (in French: analysts read it)."""

    path: str
    line: int
    reason: str
    raw: str


@dataclass
class ImportSummary:
    files: int = 0
    records: int = 0
    entities: int = 0
    statements: int = 0  # statements read (new or seen again)
    set_aside: list[SetAside] = field(default_factory=list)


# A record read: (line, its entities and the case its row names, or why it was set aside, the
# raw line).
Read = tuple[int, tuple[list[EntityProxy], str | None] | str, str]


# -- the CSV layout --------------------------------------------------------------------------


@dataclass(frozen=True)
class FileLayout:
    name: str
    columns: tuple[str, ...] | None
    required: tuple[str, ...]
    dates: tuple[str, ...]
    numbers: tuple[str, ...]
    integers: tuple[str, ...]
    booleans: tuple[str, ...]
    codes: Mapping[str, Mapping[str, str]]  # column -> label -> code
    derive: tuple[tuple[str, Mapping[str, Any]], ...]
    keywords: Mapping[str, tuple[Any, ...]]  # target field -> templates
    mapping: QueryMapping


@cache
def _layout_file() -> dict[str, Any]:
    return dict(yaml.safe_load(
        (resources.files(__package__) / "csv_layout.yml").read_text("utf-8")))


def layout_labels() -> dict[str, dict[str, str]]:
    """The French labels of the layout's controlled lists (table -> label -> code)."""
    return dict(_layout_file()["labels"])


@cache
def csv_layout() -> dict[str, FileLayout]:
    """The shipped layout, one entry per file name (without ``.csv``)."""
    raw = _layout_file()
    labels = raw["labels"]
    layouts = {}
    for name, spec in raw["files"].items():
        derive = []
        for target, rule in (spec.get("derive") or {}).items():
            derive.append((target, {"template": rule} if isinstance(rule, str) else rule))
        keywords = {"_keywords": tuple(spec.get("keywords", ()))}
        if "event_keywords" in spec:
            keywords["_event_keywords"] = tuple(spec["event_keywords"])
        query = {"csv_url": f"{name}.csv", "entities": spec["entities"]}
        layouts[name] = FileLayout(
            name=name, columns=None, required=tuple(spec.get("required", ())),
            dates=tuple(spec.get("dates", ())), numbers=tuple(spec.get("numbers", ())),
            integers=tuple(spec.get("integers", ())), booleans=tuple(spec.get("booleans", ())),
            codes={col: labels[table] for col, table in (spec.get("codes") or {}).items()},
            derive=tuple(derive), keywords=keywords,
            mapping=_mapping(query))
    return layouts


def _mapping(query: dict[str, Any]) -> QueryMapping:
    # Vehicle:owner is deprecated in FtM 4 (an Ownership is preferred) but is what the units'
    # files and the synthetic FtM layout use; it still reads and writes.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return model.make_mapping(query)


def _fill(template: str, row: Mapping[str, str]) -> str:
    """``{column}`` replaced by the row's values; empty if any of them is empty."""
    out = template
    for ref in re.findall(r"{([^}]+)}", template):
        value = row.get(ref, "")
        if not value:
            return ""
        out = out.replace("{" + ref + "}", value)
    return out


def _derive(rule: Mapping[str, Any], row: Mapping[str, str]) -> str:
    if "when" in rule and not row.get(rule["when"]):
        return ""
    if "unless" in rule and row.get(rule["unless"]):
        return ""
    for column, value in (rule.get("when_equals") or {}).items():
        if row.get(f"{column}@label", row.get(column)) != value:
            return ""
    for column, value in (rule.get("unless_equals") or {}).items():
        if row.get(f"{column}@label", row.get(column)) == value:
            return ""
    if "column" in rule:
        value = row.get(rule["column"], "")
        if "after" in rule:
            return value.split(rule["after"], 1)[1] if rule["after"] in value else ""
        return value
    return _fill(rule["template"], row)


def _check(layout: FileLayout, row: dict[str, str]) -> str | None:
    """The first problem with a row, in French, or None; codes and booleans are normalised."""
    for column in layout.required:
        if not row.get(column):
            return f"colonne « {column} » vide"
    for column in layout.dates:
        value = row.get(column)
        if value and not _ISO_DATE.match(value):
            return f"colonne « {column} » : date non ISO « {value} » (attendu AAAA-MM-JJ)"
    for column in layout.numbers:
        value = row.get(column)
        if value and not _NUMBER.match(value):
            return f"colonne « {column} » : nombre illisible « {value} » (point décimal)"
    for column in layout.integers:
        value = row.get(column)
        if value and not value.isdigit():
            return f"colonne « {column} » : entier illisible « {value} »"
    for column in layout.booleans:
        value = row.get(column, "")
        if value not in ("", "oui", "non"):
            return f"colonne « {column} » : « {value} » n'est ni oui ni non"
        row[column] = "oui" if value == "oui" else ""
    for column, codes in layout.codes.items():
        value = row.get(column)
        if value:
            if value not in codes:
                known = ", ".join(sorted(codes))
                return f"colonne « {column} » : valeur inconnue « {value} » (connues : {known})"
            row[f"{column}@label"] = value
            row[column] = codes[value]
    return None


class _Discarded(logging.Handler):
    """Collects the values FtM's mapping rejects, so that they set the row aside instead of
    vanishing into a log."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "Discard" in record.getMessage():
            self.messages.append(record.getMessage())


def read_csv(path: Path, layout: FileLayout) -> Iterator[Read]:
    """Each data row as (line, its entities or the reason it was set aside, raw line)."""
    handler = _Discarded()
    logger = logging.getLogger("followthemoney.mapping.entity")
    logger.addHandler(handler)
    # A row without a relative has no Family link: FtM logs that as a warning; it is not one.
    propagate, logger.propagate = logger.propagate, False
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            # A cell faisceau (synth) wrote quoted against spreadsheets reads as written.
            reader = csv.reader(handle, delimiter=";")
            header = next(reader, None)
            if header is None:
                return
            missing = [c for c in _needed_columns(layout) if c not in header]
            if missing:
                yield 1, f"en-tête : colonnes manquantes {', '.join(missing)}", ";".join(header)
                return
            for read in reader:
                line = reader.line_num
                cells = [safecsv.restore(c) for c in read]
                raw = ";".join(cells)
                if len(cells) != len(header):
                    yield (line, f"{len(cells)} colonnes au lieu de {len(header)}", raw)
                    continue
                row = {name: value.strip() for name, value in zip(header, cells, strict=True)}
                problem = _check(layout, row)
                if problem is not None:
                    yield line, problem, raw
                    continue
                for target, rule in layout.derive:
                    row[target] = _derive(rule, row)
                for target, templates in layout.keywords.items():
                    row[target] = "|".join(k for k in (_keyword(t, row) for t in templates) if k)
                record = {k: v for k, v in row.items() if v}
                handler.messages.clear()
                try:
                    entities = list(layout.mapping.map(record).values())
                except (FollowTheMoneyException, InvalidMapping, ValueError) as error:
                    yield line, f"ligne illisible : {error}", raw
                    continue
                if handler.messages:
                    yield line, "valeur rejetée : " + "; ".join(handler.messages), raw
                    continue
                # The row's case: provenance for entities that do not name it (a phone).
                yield line, (list[EntityProxy](entities), row.get("affaire_id") or None), raw
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _needed_columns(layout: FileLayout) -> list[str]:
    columns = set(layout.required)
    return sorted(columns)


def _keyword(template: Any, row: Mapping[str, str]) -> str:
    if isinstance(template, str):
        return _fill(template, row)
    return str(template["text"]) if row.get(template["when"]) else ""


# -- FtM JSON lines --------------------------------------------------------------------------


def _open_binary(path: Path) -> IO[bytes]:
    if path.suffix == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def read_ftm(path: Path) -> Iterator[Read]:
    """Each line as (line, [its entity] or the reason it was set aside, raw line); the
    checks are ``exchange.check_ftm_line``'s (the same as ``faisceau`` applies to any FtM
    file it reads)."""
    with _open_binary(path) as handle:
        for number, raw_bytes in enumerate(handle, start=1):
            raw = raw_bytes.decode("utf-8", errors="replace").rstrip("\n")
            if not raw.strip():
                continue
            try:
                text = raw_bytes.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as error:
                yield number, f"encodage invalide (UTF-8 attendu) : {error.reason}", raw
                continue
            checked = check_ftm_line(number, text)
            if isinstance(checked, str):
                yield number, checked.removeprefix(f"ligne {number} : "), raw
                continue
            yield number, ([model.get_proxy(checked, cleaned=True)], None), raw


# -- into the store --------------------------------------------------------------------------


def _keywords(proxy: EntityProxy) -> dict[str, str]:
    out: dict[str, str] = {}
    for keyword in proxy.get("keywords", quiet=True):
        key, _, value = keyword.partition(":")
        out.setdefault(key, value if _ else "yes")
    return out


def _case_of(proxy: EntityProxy, keywords: Mapping[str, str],
             row_case: str | None) -> str | None:
    if proxy.schema.is_a("CourtCase"):
        return proxy.id
    if "case" in keywords:
        return keywords["case"]
    if proxy.schema.is_a("CourtCaseParty"):
        return proxy.first("case", quiet=True)
    if row_case:
        return row_case
    if proxy.schema.is_a("Payment"):
        for description in proxy.get("description", quiet=True):
            found = _PAYMENT_CASE.search(description)
            if found:
                return found.group(1).strip()
    return None


def _dates(proxy: EntityProxy) -> tuple[str | None, str | None]:
    """When the fact happened: a payment's date, a case's opening, a stay's dates. A
    person's or company's own dates (birth, incorporation) are not the date of the facts."""
    if proxy.schema.is_a("LegalEntity"):
        return None, None
    start = proxy.temporal_start
    end = proxy.temporal_end
    first = start[1][:10] if start else None
    last = end[1][:10] if end else first
    return first, last


def _entity_row(proxy: EntityProxy, case_id: str | None, now: datetime) -> tuple[Any, ...]:
    keywords = _keywords(proxy)
    category = keywords.get("category") if proxy.schema.is_a("Person") else None
    caption: str | None = proxy.caption
    if proxy.schema.is_a("Person") and not any(
            proxy.has(p) for p in ("name", "firstName", "lastName")):
        caption = None  # a partial record (a phone of a known person): keep the real name
    first, last = _dates(proxy)
    unit = keywords.get("unit")
    return (proxy.id, proxy.schema.name, caption, category, keywords.get("role"),
            keywords.get("status") or (proxy.first("status", quiet=True) or None),
            "minor" in keywords, case_id, unit, keywords.get("departement"), first, last,
            proxy.id, now)


ENTITY_COLUMNS = ("id", "schema", "caption", "category", "role", "status", "minor", "case_id",
                  "unit", "departement", "first_date", "last_date", "canonical_id",
                  "updated_at")
STATEMENT_COLUMNS = ("id", "entity_id", "schema", "prop", "prop_type", "value",
                     "original_value", "dataset", "case_id", "unit", "fact_date", "origin",
                     "first_seen", "last_seen")


_MINOR, _FIRST, _LAST = (ENTITY_COLUMNS.index(c) for c in ("minor", "first_date", "last_date"))


class _Batch:
    def __init__(self) -> None:
        self.statements: dict[str, tuple[Any, ...]] = {}
        self.entities: dict[str, tuple[Any, ...]] = {}
        self.set_aside: list[SetAside] = []

    def __len__(self) -> int:
        return len(self.statements) + len(self.set_aside)


def _merge_entity_rows(old: tuple[Any, ...], new: tuple[Any, ...]) -> tuple[Any, ...]:
    """Two records of one entity (a person and her phones, or a corrected re-import): the
    newer one's values where it has them, the older one's elsewhere."""
    merged = [b if b not in (None, "") else a for a, b in zip(old, new, strict=True)]
    merged[_MINOR] = bool(old[_MINOR] or new[_MINOR])
    merged[_FIRST] = min((d for d in (old[_FIRST], new[_FIRST]) if d), default=None)
    merged[_LAST] = max((d for d in (old[_LAST], new[_LAST]) if d), default=None)
    return tuple(merged)


def import_case_files(store: Store, paths: Sequence[Path], dataset: str | None = None) -> \
        ImportSummary:
    """Import FtM JSON lines files and CSV directories (or single CSV files of the layout).

    ``dataset`` names the source in every statement's provenance; by default the file's or
    directory's name.
    """
    layouts = csv_layout()
    summary = ImportSummary()
    for path in paths:
        for source, reader, source_name in _sources(path, layouts):
            summary.files += 1
            _import_source(store, source, reader, dataset or source_name, summary)
    _fill_provenance(store)
    refresh_statistics(store, CASE_FILE_TABLES)
    return summary


def _sources(path: Path, layouts: Mapping[str, FileLayout]) -> Iterator[
        tuple[Path, Iterable[Read], str]]:
    if not path.exists():
        raise FileNotFoundError(f"{path} : introuvable")
    if path.is_dir():
        csvs = sorted(path.glob("*.csv"))
        ftms = sorted(p for p in path.iterdir() if p.name.endswith((".jsonl", ".jsonl.gz")))
        if not csvs and not ftms:
            raise FileNotFoundError(f"{path} : ni fichier CSV ni fichier FtM (.jsonl)")
        # Cases first: the other files' provenance refers to them.
        order = list(layouts)
        csvs.sort(key=lambda p: order.index(p.stem) if p.stem in order else len(order))
        for csv_path in csvs:
            yield from _sources(csv_path, layouts)
        for ftm_path in ftms:
            yield from _sources(ftm_path, layouts)
        return
    if path.suffix == ".csv":
        layout = layouts.get(path.stem)
        if layout is None:
            known = ", ".join(f"{n}.csv" for n in layouts)
            reason = f"fichier CSV inconnu (fichiers connus : {known})"
            yield path, iter([(1, reason, path.name)]), path.parent.name
            return
        yield path, read_csv(path, layout), path.parent.name
        return
    yield path, read_ftm(path), path.name.split(".")[0]


def _import_source(store: Store, path: Path,
                   records: Iterable[Read],
                   dataset: str, summary: ImportSummary) -> None:
    now = utc_now()
    batch = _Batch()
    for line, result, raw in records:
        summary.records += 1
        if isinstance(result, str):
            batch.set_aside.append(SetAside(str(path), line, result, raw))
            continue
        proxies, row_case = result
        for proxy in proxies:
            if proxy.id is None:
                continue
            keywords = _keywords(proxy)
            case_id = _case_of(proxy, keywords, row_case)
            row_case = row_case or case_id
            entity = _entity_row(proxy, case_id, now)
            old = batch.entities.get(proxy.id)
            batch.entities[proxy.id] = entity if old is None else _merge_entity_rows(old, entity)
            first, _ = _dates(proxy)
            for stmt in Statement.from_entity(proxy, dataset):
                if stmt.id is None:
                    continue
                batch.statements[stmt.id] = (
                    stmt.id, proxy.id, proxy.schema.name, stmt.prop,
                    stmt.prop_type, stmt.value, stmt.original_value, dataset, case_id, None,
                    first, f"{path.name}:{line}", now, now)
        if len(batch) >= CHUNK:
            _write(store, batch, summary)
            batch = _Batch()
    _write(store, batch, summary)


def _write(store: Store, batch: _Batch, summary: ImportSummary) -> None:
    """One transaction: the statements, the entities they describe, what was set aside."""
    with store.begin() as conn:
        upsert_rows(conn, "intel_statement", "id", STATEMENT_COLUMNS,
                    list(batch.statements.values()), update=("last_seen",))
        _upsert_entities(conn, list(batch.entities.values()))
        _set_aside(conn, batch.set_aside)
    summary.statements += len(batch.statements)
    summary.entities += len(batch.entities)
    summary.set_aside.extend(batch.set_aside)


def _upsert_entities(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    """Insert new entities; for known ones, fill what the new record knows and the old did
    not, and widen the dates. The resolved person (``canonical_id``) is never updated: it is
    resolution's, not the import's."""
    if not rows:
        return
    existing = {r[0]: r for r in fetch_in(
        conn, f"SELECT {', '.join(ENTITY_COLUMNS)} FROM intel_entity", "id",
        [r[0] for r in rows])}
    merged = []
    for row in rows:
        old = existing.get(row[0])
        if old is not None:
            row = _merge_entity_rows(tuple(old), row)
        merged.append(row)
    upsert_rows(conn, "intel_entity", "id", ENTITY_COLUMNS, merged,
                update=[c for c in ENTITY_COLUMNS if c not in ("id", "canonical_id")])
    note_change(conn, "case_files")


def _set_aside(conn: Connection, rejected: list[SetAside]) -> None:
    if not rejected:
        return
    known = {(r[0], r[1], r[2]) for r in conn.execute(select(
        quarantine.c.path, quarantine.c.line, quarantine.c.line_hash).where(
        quarantine.c.path.in_({r.path for r in rejected})))}
    now = utc_now()
    rows = []
    for r in rejected:
        line_hash = hashlib.blake2b(r.raw.encode(), digest_size=16).hexdigest()
        if (r.path, r.line, line_hash) not in known:
            known.add((r.path, r.line, line_hash))
            rows.append((r.path, r.line, line_hash, r.reason, r.raw, now))
    insert_rows(conn, "quarantine", ("path", "line", "line_hash", "reason", "raw",
                                     "set_aside_at"), rows)


@cache
def link_schemata() -> tuple[str, ...]:
    """Schemata that are links between two entities (Ownership, Family, UnknownLink...)."""
    return tuple(sorted(name for name, schema in model.schemata.items() if schema.edge))


def _fill_provenance(store: Store) -> None:
    """Statements and entities learn their case's unit and département, and a statement
    with no date of its own takes its case's opening date: set-based, after each import,
    because a file may name a case before the cases' file is read. A link with no case of
    its own (an FtM Ownership) takes the case of an entity it links."""
    links = ", ".join(f"'{name}'" for name in link_schemata())
    with store.begin() as conn:
        conn.execute(text(
            "UPDATE intel_entity SET case_id = (SELECT MIN(e.case_id) FROM intel_statement r "
            "JOIN intel_entity e ON e.id = r.value WHERE r.entity_id = intel_entity.id "
            # `|| ''` keeps SQLite off the (prop_type, value) index, which would scan every
            # entity-valued statement for each link instead of the link's own statements.
            f"AND r.prop_type || '' = 'entity') WHERE case_id IS NULL AND schema IN ({links})"))
        conn.execute(text(
            "UPDATE intel_statement SET case_id = (SELECT e.case_id FROM intel_entity e "
            "WHERE e.id = intel_statement.entity_id) "
            f"WHERE case_id IS NULL AND schema IN ({links})"))
        conn.execute(text(
            "UPDATE intel_entity SET unit = (SELECT c.unit FROM intel_entity c "
            "WHERE c.id = intel_entity.case_id), departement = COALESCE(departement, "
            "(SELECT c.departement FROM intel_entity c WHERE c.id = intel_entity.case_id)) "
            "WHERE unit IS NULL AND case_id IS NOT NULL"))
        conn.execute(text(
            "UPDATE intel_statement SET unit = (SELECT c.unit FROM intel_entity c "
            "WHERE c.id = intel_statement.case_id), fact_date = COALESCE(fact_date, "
            "(SELECT c.first_date FROM intel_entity c WHERE c.id = intel_statement.case_id)) "
            "WHERE unit IS NULL AND case_id IS NOT NULL"))
