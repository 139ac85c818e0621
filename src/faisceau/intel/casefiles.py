"""Case files into the store: FollowTheMoney JSON lines and the units' CSV layout.

Both formats become the same thing: FtM entities, stored as statements (one per property
value) that keep their provenance: the source named at import (``dataset``), the case and
unit the fact belongs to, the date of the fact, and the file and line it came from. A person
resolved across cases therefore still shows where each value came from.

A record that cannot be read (bad JSON, unknown schema or property, a date that is not one,
an unknown category...) is set aside in ``quarantine`` with its file, line and reason; the
rest goes in. Bad input never costs valid data, as for ads (``ingest.records``): files are
read by ``records.FileReader`` (a truncated gzip keeps its complete lines, a file that is
not gzip or cannot be read is reported), and a file not read in full is an entry of its own
(line 0) while the run goes on with the next; lines are decoded one by one (a byte that is
not UTF-8 costs its line), a CSV line is one record (a quote it leaves open costs that line,
not the rows after it); NUL is dropped from values (PostgreSQL refuses it) but sets aside an
identifier; what a column of the store cannot hold sets its record aside on both stores.
Statements have content-derived ids, so importing a file again changes nothing
but the time it was last seen, and an import killed midway is finished by running it again.
The CSV layout is data: ``csv_layout.yml``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import re
import stat
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from followthemoney import model
from followthemoney.exc import FollowTheMoneyException, InvalidMapping
from followthemoney.mapping import QueryMapping
from followthemoney.proxy import EntityProxy
from followthemoney.statement import Statement
from followthemoney.types import registry
from sqlalchemy import text
from sqlalchemy.engine import Connection

from faisceau.export import safecsv
from faisceau.ingest.quarantine import clear_file_problems, note_file_problem, open_entries
from faisceau.ingest.records import (
    BOM,
    NUL,
    FileReader,
    Limits,
    absolute,
    escaped_controls,
    file_problem,
    load_limits,
    path_text,
    storable,
    without_nul,
)
from faisceau.intel.exchange import check_ftm_line
from faisceau.store import Store
from faisceau.store.bulk import (
    CASE_FILE_TABLES,
    fetch_in,
    note_change,
    refresh_statistics,
    upsert_rows,
    utc_now,
)
from faisceau.store.schema import intel_entity, intel_statement

CHUNK = 20_000
# The FtM keywords faisceau reads (``key:value``), as the synthetic world writes them.
PERSON_CATEGORIES = ("suspect", "victim", "witness", "relation", "runaway", "fined_client")
_PAYMENT_CASE = re.compile(r"affaire: ([^;]+)")
# ASCII digits only: ``\d`` and ``str.isdigit`` also take "²" or Arabic-Indic digits.
_ISO_DATE = re.compile(r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$")
_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_INTEGER = re.compile(r"^[0-9]+$")


@dataclass(frozen=True)
class SetAside:
    """A record that did not go in, and why (in French: analysts read it). ``path`` is as
    the store names it (``records.path_text``); reason and raw are safe to store and print
    (control characters escaped, ``records.escaped_controls``)."""

    path: str
    line: int
    reason: str
    raw: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", escaped_controls(self.reason))
        object.__setattr__(self, "raw", escaped_controls(self.raw))


@dataclass
class ImportSummary:
    files: int = 0
    records: int = 0
    entities: int = 0
    statements: int = 0  # statements read (new or seen again)
    set_aside: list[SetAside] = field(default_factory=list)
    # Paths not read, or read only in part, and why (each also a line-0 quarantine entry).
    unread: list[tuple[str, str]] = field(default_factory=list)


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
        if value and not _INTEGER.match(value):
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


class _Line(NamedTuple):
    """A line of a file: its text, or None with the reason and the raw text shown."""

    number: int
    text: str | None
    reason: str = ""
    raw: str = ""


def _decoded(reader: FileReader) -> Iterator[_Line]:
    """The lines of a file, each decoded on its own (a byte that is not UTF-8 costs its line
    only), its end of line and a leading byte-order mark taken off (editors write one at the
    start of a file, and files joined with ``cat`` carry it mid-file)."""
    limit = reader.limits.max_line_bytes
    for number, raw in reader.lines():
        if raw is None:
            yield _Line(number, None, f"ligne de plus de {limit} octets")
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            yield _Line(number, None, "encodage invalide (UTF-8 attendu) : octet "
                        f"{error.start + 1} de la ligne",
                        raw.decode("utf-8", "backslashreplace").rstrip("\r\n"))
            continue
        yield _Line(number, text.rstrip("\r\n").removeprefix(BOM))


def _parse_record(text: str) -> list[str] | str:
    """The cells of one CSV line, or why it is not one (in French)."""
    try:
        return next(csv.reader([text], delimiter=";", strict=True))
    except csv.Error as error:
        if str(error) == "unexpected end of data":
            return ("guillemet ouvert et jamais fermé sur la ligne (une cellule ne peut pas "
                    "tenir sur plusieurs lignes)")
    try:  # other quoting faults ("a"b) read as they always did, leniently
        return next(csv.reader([text], delimiter=";"))
    except csv.Error as error:  # a carriage return mid-line, a cell over the size limit
        return f"ligne CSV illisible : {error}"


def _csv_records(lines: Iterator[_Line]) -> Iterator[tuple[int, list[str] | str, str]]:
    """(line, cells or why the line was set aside, raw text) for each line that is not
    blank. One line is one record: a quote left open costs its line, where ``csv`` alone
    would read every row after it, to the end of the file, as one cell."""
    for number, line, reason, raw in lines:
        if line is None:
            yield number, reason, raw
        elif line.strip():
            yield number, _parse_record(line), line


def _open_reader(path: Path, reader: FileReader | None) -> FileReader:
    return reader if reader is not None else FileReader(path, _limits())


@cache
def _limits() -> Limits:
    return load_limits()


def read_csv(path: Path, layout: FileLayout, reader: FileReader | None = None
             ) -> Iterator[Read]:
    """Each data row as (line, its entities or the reason it was set aside, raw line). The
    file is read by ``reader`` (by default a new one): its ``problem`` says afterwards
    whether it was read to its end."""
    reader = _open_reader(path, reader)
    handler = _Discarded()
    logger = logging.getLogger("followthemoney.mapping.entity")
    logger.addHandler(handler)
    # A row without a relative has no Family link: FtM logs that as a warning; it is not one.
    propagate, logger.propagate = logger.propagate, False
    try:
        header: list[str] | None = None
        for line, cells, raw in _csv_records(_decoded(reader)):
            if header is None:
                if isinstance(cells, str):
                    yield line, f"en-tête : {cells}", raw
                    return
                header = [storable(c).strip() for c in cells]
                missing = [c for c in _needed_columns(layout) if c not in header]
                if missing:
                    yield line, f"en-tête : colonnes manquantes {', '.join(missing)}", raw
                    return
                continue
            if isinstance(cells, str):
                yield line, cells, raw
                continue
            if len(cells) != len(header):
                yield (line, f"{len(cells)} colonnes au lieu de {len(header)}", raw)
                continue
            # A cell faisceau (synth, exports) quoted against spreadsheets reads as written.
            cells = [safecsv.restore(c) for c in cells]
            yield line, _csv_row(layout, handler, header, cells), raw
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _csv_row(layout: FileLayout, handler: _Discarded, header: list[str], cells: list[str]
             ) -> tuple[list[EntityProxy], str | None] | str:
    """A row's entities and the case it names, or why it is set aside."""
    row: dict[str, str] = {}
    for name, value in zip(header, cells, strict=True):
        if NUL in value:
            if name.endswith("_id"):
                # Dropping it could make two records one.
                return f"colonne « {name} » : caractère NUL dans un identifiant"
            value = storable(value)
        row[name] = value.strip()
    problem = _check(layout, row)
    if problem is not None:
        return problem
    for target, rule in layout.derive:
        row[target] = _derive(rule, row)
    for target, templates in layout.keywords.items():
        row[target] = "|".join(k for k in (_keyword(t, row) for t in templates) if k)
    record = {k: v for k, v in row.items() if v}
    handler.messages.clear()
    try:
        entities = list(layout.mapping.map(record).values())
    except (FollowTheMoneyException, InvalidMapping, ValueError) as error:
        return f"ligne illisible : {error}"
    if handler.messages:
        return "valeur rejetée : " + "; ".join(handler.messages)
    # The row's case: provenance for entities that do not name it (a phone).
    return list[EntityProxy](entities), row.get("affaire_id") or None


def _needed_columns(layout: FileLayout) -> list[str]:
    columns = set(layout.required)
    return sorted(columns)


def _keyword(template: Any, row: Mapping[str, str]) -> str:
    if isinstance(template, str):
        return _fill(template, row)
    return str(template["text"]) if row.get(template["when"]) else ""


# -- FtM JSON lines --------------------------------------------------------------------------


def read_ftm(path: Path, reader: FileReader | None = None) -> Iterator[Read]:
    """Each line as (line, [its entity] or the reason it was set aside, raw line); the
    checks are ``exchange.check_ftm_line``'s (the same as ``faisceau`` applies to any FtM
    file it reads). The file is read by ``reader``, as in ``read_csv``."""
    reader = _open_reader(path, reader)
    for number, line, reason, raw in _decoded(reader):
        if line is None:
            yield number, reason, raw
            continue
        if not line.strip():
            continue
        yield number, _ftm_entity(number, line), line


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)


def _without_escaped_nul(text: str) -> str:
    """The line with NUL (``\\u0000``) dropped from its values, as for ads; a NUL in an
    identifier (the entity's, or one it refers to) keeps it and is the reason given."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return text  # check_ftm_line says what is wrong
    if not isinstance(data, dict):
        return text
    if any(NUL in s for s in _strings(data.get("id"))):
        raise _Unstorable("caractère NUL dans l'identifiant")
    name = data.get("schema")
    schema = model.get(name) if isinstance(name, str) else None
    properties = data.get("properties")
    if schema is not None and isinstance(properties, dict):
        for key, values in properties.items():
            prop = schema.get(key)
            if prop is not None and prop.type == registry.entity and any(
                    NUL in s for s in _strings(values)):
                raise _Unstorable(f"propriété « {key} » : caractère NUL dans un identifiant")
    return json.dumps(without_nul(data), ensure_ascii=False)


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class _Unstorable(Exception):
    """A record the store cannot keep as it is (in French)."""


def _ftm_entity(number: int, text: str) -> tuple[list[EntityProxy], str | None] | str:
    try:
        if "\\u0000" in text:
            text = _without_escaped_nul(text)
        checked = check_ftm_line(number, text)
        if isinstance(checked, str):
            return checked.removeprefix(f"ligne {number} : ")
        for value in _strings(checked):
            if not _encodable(value):  # a lone surrogate (\ud800): no store keeps it
                return f"texte non enregistrable (caractère isolé) : {value[:40]!a}"
        return [model.get_proxy(checked, cleaned=True)], None
    except _Unstorable as error:
        return str(error)
    except (FollowTheMoneyException, ValueError) as error:
        return f"entité illisible : {error}"


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
    directory's name. Every path given is checked first: one that does not exist or cannot
    be read raises ``FileNotFoundError`` before anything is imported. A file found in a
    directory given that cannot be read, or only in part, is reported (``unread``, and a
    quarantine entry of line 0) and the import goes on with the next.
    """
    layouts = csv_layout()
    for path in paths:
        _check_given(path)
    summary = ImportSummary()
    for path in paths:
        for source, read, source_name in _sources(path, layouts):
            summary.files += 1
            name = dataset if dataset is not None else path_text(Path(source_name))
            _import_source(store, source, read, name[:DATASET_WIDTH], summary)
    _fill_provenance(store)
    refresh_statistics(store, CASE_FILE_TABLES)
    return summary


# The width of intel_statement.dataset: a longer source name is cut.
DATASET_WIDTH = int(intel_statement.c.dataset.type.length)  # type: ignore[attr-defined]


def _not_regular(reader: FileReader) -> Iterator[Read]:
    reader.problem = file_problem(reader.path, 0, "not a regular file")
    return iter(())


def _check_given(path: Path) -> None:
    """``FileNotFoundError`` (in French) if ``path`` does not exist or cannot be read."""
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            os.scandir(path).close()
        elif stat.S_ISREG(mode):
            os.close(os.open(path, os.O_RDONLY))
        else:
            raise OSError(0, "ni fichier ni dossier")
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} : introuvable") from None
    except OSError as exc:
        raise FileNotFoundError(f"{path} : illisible ({exc.strerror or exc})") from None


Reading = Callable[[FileReader], Iterable[Read]]


def _sources(path: Path, layouts: Mapping[str, FileLayout]
             ) -> Iterator[tuple[Path, Reading, str]]:
    """(file, how to read it, the source it names by default) for each file of ``path``."""
    if path.is_dir():
        try:
            csvs = sorted(path.glob("*.csv"))
            ftms = sorted(p for p in path.iterdir() if p.name.endswith((".jsonl", ".jsonl.gz")))
        except OSError as exc:  # listed when checked, no longer
            raise FileNotFoundError(f"{path} : illisible ({exc.strerror or exc})") from None
        if not csvs and not ftms:
            raise FileNotFoundError(f"{path} : ni fichier CSV ni fichier FtM (.jsonl)")
        # Cases first: the other files' provenance refers to them.
        order = list(layouts)
        csvs.sort(key=lambda p: order.index(p.stem) if p.stem in order else len(order))
        for found in [*csvs, *ftms]:
            if found.is_file():
                yield from _sources(found, layouts)
            else:  # a directory named like a file, a FIFO (opening it would wait forever)
                yield found, _not_regular, found.parent.name
        return
    if path.suffix == ".csv":
        layout = layouts.get(path.stem)
        if layout is None:
            known = ", ".join(f"{n}.csv" for n in layouts)
            reason = f"fichier CSV inconnu (fichiers connus : {known})"
            name = path_text(Path(path.name))
            yield path, lambda _reader: iter([(1, reason, name)]), path.parent.name
            return
        yield path, lambda reader: read_csv(path, layout, reader), path.parent.name
        return
    yield path, lambda reader: read_ftm(path, reader), path.name.split(".")[0]


def _import_source(store: Store, path: Path, read: Reading, dataset: str,
                   summary: ImportSummary) -> None:
    """One file, in transactions of ``CHUNK`` statements; then its file-level entry: opened
    if it could not be read to its end, resolved if it was."""
    now = utc_now()
    text = path_text(absolute(path))
    origin = path_text(Path(path.name))
    reader = FileReader(path, _limits())
    batch = _Batch()
    for line, result, raw in read(reader):
        summary.records += 1
        rows = result if isinstance(result, str) else _record_rows(
            result, dataset, f"{origin}:{line}", now)
        if isinstance(rows, str):
            batch.set_aside.append(SetAside(text, line, rows, raw))
            continue
        entities, statements = rows
        for entity in entities:
            old = batch.entities.get(entity[0])
            batch.entities[entity[0]] = entity if old is None else _merge_entity_rows(old, entity)
        batch.statements.update(statements)
        if len(batch) >= CHUNK:
            _write(store, batch, summary)
            batch = _Batch()
    _write(store, batch, summary)
    with store.begin() as conn:
        if reader.problem is None:
            clear_file_problems(conn, [text])
        else:
            note_file_problem(conn, text, reader.problem)
            summary.unread.append((text, reader.problem.reason))


def _widths(table: Any, columns: Sequence[str]) -> tuple[tuple[int, str, int], ...]:
    """(position, column, width) of the columns of ``table`` that have a width."""
    return tuple((i, c, int(table.c[c].type.length)) for i, c in enumerate(columns)
                 if getattr(table.c[c].type, "length", None))


def _too_long(row: tuple[Any, ...], widths: tuple[tuple[int, str, int], ...]) -> str | None:
    for i, column, width in widths:
        value = row[i]
        if isinstance(value, str) and len(value) > width:
            return (f"valeur trop longue pour le champ « {column} » ({len(value)} caractères, "
                    f"{width} au plus) : « {value[:40]}… »")
    return None


_ENTITY_WIDTHS = _widths(intel_entity, ENTITY_COLUMNS)
_STATEMENT_WIDTHS = _widths(intel_statement, STATEMENT_COLUMNS)


def _record_rows(result: tuple[list[EntityProxy], str | None], dataset: str, origin: str,
                 now: datetime) -> tuple[list[tuple[Any, ...]], dict[str, tuple[Any, ...]]] | str:
    """A record's entity rows and statement rows, or why the store cannot keep them: a
    value wider than its column (PostgreSQL refuses it, SQLite would keep it), so that both
    stores set the same records aside."""
    proxies, row_case = result
    entities: list[tuple[Any, ...]] = []
    statements: dict[str, tuple[Any, ...]] = {}
    for proxy in proxies:
        if proxy.id is None:
            continue
        keywords = _keywords(proxy)
        case_id = _case_of(proxy, keywords, row_case)
        row_case = row_case or case_id
        entity = _entity_row(proxy, case_id, now)
        problem = _too_long(entity, _ENTITY_WIDTHS)
        if problem:
            return problem
        entities.append(entity)
        first, _ = _dates(proxy)
        for stmt in Statement.from_entity(proxy, dataset):
            if stmt.id is None:
                continue
            row = (stmt.id, proxy.id, proxy.schema.name, stmt.prop, stmt.prop_type, stmt.value,
                   stmt.original_value, dataset, case_id, None, first, origin, now, now)
            problem = _too_long(row, _STATEMENT_WIDTHS)
            if problem:
                return problem
            statements[stmt.id] = row
    return entities, statements


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
    """The quarantine entries of records set aside (``ingest.quarantine.open_entries``, the
    writer ads use too)."""
    by_path: dict[str, list[dict[str, Any]]] = {}
    for r in rejected:
        by_path.setdefault(r.path, []).append({
            "line": r.line, "reason": r.reason, "raw": r.raw,
            "line_hash": hashlib.blake2b(r.raw.encode("utf-8", "backslashreplace"),
                                         digest_size=16).hexdigest()})
    for path, entries in by_path.items():
        open_entries(conn, path, entries)


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
