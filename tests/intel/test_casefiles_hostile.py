"""Hostile and broken case files, on both stores: bad input never costs valid data.

Each case below once stopped the whole import (a traceback, or a store refusing a value), or
lost valid rows, or stored what the other store would not; now every valid record goes in,
every bad one is in the quarantine with its file and line, a file read only in part is
reported (line 0) and the import goes on with the next file.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from faisceau.config import Settings
from faisceau.intel.casefiles import ImportSummary, import_case_files
from faisceau.store import Store, open_store
from faisceau.store.schema import intel_entity, intel_statement, quarantine
from tests.ingest.test_hostile import _as_unprivileged

PEOPLE_HEADER = ("personne_id;affaire_id;categorie;statut;role;nom;prenom;sexe;date_naissance;"
                 "age_faits;age_annonce;mineur;nationalite;pays_residence;adresse;"
                 "commune_residence;telephones;emails;proche_de;lien")


def _person(pid: str, nom: str = "Martin", birth: str = "1980-05-02", age: str = "") -> str:
    return f"{pid};K1;suspect;suspect;;{nom};Paul;M;{birth};{age};;non;fr;FR;;;;;;"


def _ftm(eid: str, name: str = "Nom", **extra: object) -> str:
    return json.dumps({"id": eid, "schema": "Person", "properties": {"name": [name]}, **extra},
                      ensure_ascii=False)


def _write(path: Path, lines: list[str | bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n"
                              for x in lines))
    return path


def _people_csv(directory: Path, rows: list[str | bytes]) -> Path:
    return _write(directory / "people.csv", [PEOPLE_HEADER, *rows])


def _ids(store: Store) -> set[str]:
    with store.begin() as conn:
        return set(conn.execute(select(intel_entity.c.id)).scalars())


def _entries(store: Store) -> dict[tuple[str, int], tuple[str, str]]:
    """(file name, line) -> (reason, raw) of the open quarantine entries."""
    with store.begin() as conn:
        rows = conn.execute(select(quarantine.c.path, quarantine.c.line, quarantine.c.reason,
                                   quarantine.c.raw).where(quarantine.c.resolved_at.is_(None)))
        return {(Path(r.path).name, r.line): (r.reason, r.raw) for r in rows}


@pytest.fixture
def store(store_settings: Settings) -> Store:
    return open_store(store_settings)


# -- FtM JSON lines ---------------------------------------------------------------------------

def test_nul_is_dropped_from_values_and_sets_aside_an_identifier(
        store: Store, tmp_path: Path) -> None:
    # Before: PostgreSQL refused the whole import (DataError); SQLite kept "N\x001" as an id.
    ftm = _write(tmp_path / "nul.jsonl", [
        _ftm("P1", "Ana\\u0000 Roux").replace("\\\\u0000", "\\u0000"),
        '{"id": "N\\u00001", "schema": "Person", "properties": {"name": ["Zoé"]}}',
        '{"id": "L1", "schema": "Ownership", "properties": {"owner": ["P\\u00001"]}}',
        _ftm("P2")])
    summary = import_case_files(store, [ftm])
    assert _ids(store) == {"P1", "P2"}
    with store.begin() as conn:
        names = set(conn.execute(select(intel_statement.c.value).where(
            intel_statement.c.entity_id == "P1", intel_statement.c.prop == "name")).scalars())
    assert names == {"Ana Roux"}
    reasons = {s.line: s.reason for s in summary.set_aside}
    assert set(reasons) == {2, 3} and "NUL" in reasons[2] and "owner" in reasons[3]
    assert set(_entries(store)) == {("nul.jsonl", 2), ("nul.jsonl", 3)}


def test_a_raw_nul_or_escape_sequence_is_quarantined_escaped(
        store: Store, tmp_path: Path) -> None:
    # Before: PostgreSQL refused the quarantine entry itself (the NUL), losing every valid
    # line of the file; SQLite stored the terminal's escape sequences as they were.
    ftm = _write(tmp_path / "raw.jsonl", [
        _ftm("P1"), b'{"id": "Q\x00", "schema": "Person"}',
        b'{"id": "E\x1b]0;title\x07\x1b[2J", oops', b"\x9b2J [bold]x[/]", _ftm("P2")])
    import_case_files(store, [ftm])
    assert _ids(store) == {"P1", "P2"}
    entries = _entries(store)
    assert set(entries) == {("raw.jsonl", 2), ("raw.jsonl", 3), ("raw.jsonl", 4)}
    assert entries[("raw.jsonl", 2)][1] == '{"id": "Q\\x00", "schema": "Person"}'
    assert entries[("raw.jsonl", 3)][1] == '{"id": "E\\x1b]0;title\\x07\\x1b[2J", oops'
    for reason, raw in entries.values():
        assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in reason + raw)


def test_a_truncated_gzip_keeps_its_complete_lines_and_a_bad_one_the_next_files(
        store: Store, tmp_path: Path) -> None:
    # Before: EOFError (truncated) and BadGzipFile (not gzip) ended the import: no line of
    # the truncated file and nothing of the files after it went in.
    folder = tmp_path / "dossier"
    whole = gzip.compress("".join(_ftm(f"G{i}", os.urandom(8).hex()) + "\n"
                                  for i in range(300)).encode())
    (folder / "a-trunc.jsonl.gz").parent.mkdir()
    (folder / "a-trunc.jsonl.gz").write_bytes(whole[: len(whole) * 6 // 10])
    _write(folder / "b-notgzip.jsonl.gz", [_ftm("NG1")])
    _write(folder / "c-last.jsonl", [_ftm("Z1")])
    summary = import_case_files(store, [folder])
    ids = _ids(store)
    read = {i for i in ids if i.startswith("G")}
    assert "Z1" in ids and "NG1" not in ids
    assert 100 < len(read) < 300 and read == {f"G{i}" for i in range(len(read))}
    unread = {Path(p).name: reason for p, reason in summary.unread}
    assert unread["a-trunc.jsonl.gz"] == (f"read up to line {len(read)}, then: the "
                                          "compressed data stops before its end (truncated file)")
    assert unread["b-notgzip.jsonl.gz"].startswith("not read: bad gzip data")
    assert set(_entries(store)) == {("a-trunc.jsonl.gz", 0), ("b-notgzip.jsonl.gz", 0)}
    # the file written again whole: the rest goes in, its entry is resolved
    (folder / "a-trunc.jsonl.gz").write_bytes(whole)
    (folder / "b-notgzip.jsonl.gz").write_bytes(gzip.compress((_ftm("NG1") + "\n").encode()))
    assert import_case_files(store, [folder]).unread == []
    assert {f"G{i}" for i in range(300)} | {"NG1", "Z1"} <= _ids(store)
    assert _entries(store) == {}


def test_a_byte_order_mark_mid_file_and_bad_utf8_cost_nothing_and_one_line(
        store: Store, tmp_path: Path) -> None:
    # Before: a BOM on a line other than the first set it aside (files joined with cat).
    ftm = _write(tmp_path / "bom.jsonl", [b"\xef\xbb\xbf" + _ftm("P1").encode(),
                                         b"\xef\xbb\xbf" + _ftm("P2").encode(),
                                         b'{"id": "U\xff", "schema": "Person"}', _ftm("P3")])
    summary = import_case_files(store, [ftm])
    assert _ids(store) == {"P1", "P2", "P3"}
    assert [(s.line, s.raw) for s in summary.set_aside] == [
        (3, '{"id": "U\\xff", "schema": "Person"}')]


def test_numbers_and_nesting_json_cannot_hold_cost_their_line(
        store: Store, tmp_path: Path) -> None:
    # Before: an integer of 5,000 digits (ValueError) or deep nesting (RecursionError)
    # escaped the JSON check and ended the import.
    ftm = _write(tmp_path / "big.jsonl", [
        _ftm("P1", n=2**70),  # beyond 64 bits, in an extra key: kept
        '{"id": "B1", "schema": "Person", "n": 1' + "0" * 5000 + "}",
        '{"id": "D1", "schema": "Person", "n": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"id": "S1", "schema": "Person", "properties": {"name": ["\\ud800"]}}',
        _ftm("P2")])
    summary = import_case_files(store, [ftm])
    assert _ids(store) == {"P1", "P2"}
    reasons = {s.line: s.reason for s in summary.set_aside}
    assert set(reasons) == {2, 3, 4}
    assert "JSON illisible" in reasons[2] and "RecursionError" in reasons[3]
    assert "non enregistrable" in reasons[4]


def test_dates_far_out_of_range_are_set_aside_on_both_stores(
        store: Store, tmp_path: Path) -> None:
    # A guard (FtM already refuses these): year 9999 with an offset, year 0.
    ftm = _write(tmp_path / "dates.jsonl", [
        '{"id": "D1", "schema": "Payment", "properties": {"date": '
        '["9999-12-31T23:59:59-14:00"], "amount": ["1"]}}',
        '{"id": "D2", "schema": "Payment", "properties": {"date": ["0000-01-01"]}}',
        '{"id": "D3", "schema": "Payment", "properties": {"date": ["2026-03-01T23:00:00+14:00"],'
        ' "amount": ["123456789012345678901234567890"]}}'])
    csv_dir = tmp_path / "csv"
    _people_csv(csv_dir, [_person("A1", birth="0000-01-01"), _person("A2", birth="9999-12-31"),
                          _person("A3", age="123456789012345678901234567890")])
    summary = import_case_files(store, [ftm, csv_dir])
    assert {"D3", "A3"} <= _ids(store) and not {"D1", "D2", "A1", "A2"} & _ids(store)
    assert {(Path(s.path).name, s.line) for s in summary.set_aside} == {
        ("dates.jsonl", 1), ("dates.jsonl", 2), ("people.csv", 2), ("people.csv", 3)}


def test_a_value_wider_than_its_column_is_set_aside_on_both_stores(
        store: Store, tmp_path: Path) -> None:
    # Before: PostgreSQL refused the import (value too long for varchar); SQLite kept it.
    ftm = _write(tmp_path / "wide.jsonl", [
        _ftm("P1"), _ftm("W" * 200),
        '{"id": "K1", "schema": "Person", "properties": {"name": ["x"], '
        '"keywords": ["departement:12345"]}}', _ftm("P2")])
    summary = import_case_files(store, [ftm])
    assert _ids(store) == {"P1", "P2"}
    reasons = {s.line: s.reason for s in summary.set_aside}
    assert set(reasons) == {2, 3} and "« id »" in reasons[2] and "departement" in reasons[3]


def test_a_file_name_that_is_not_utf8_is_kept_escaped(store: Store, tmp_path: Path) -> None:
    # Before: its name (a lone surrogate in Python) reached the store as the source and the
    # origin of every statement, and neither store can encode it.
    name = os.fsdecode(b"caf\xe9.jsonl")
    ftm = _write(tmp_path / name, [_ftm("P1"), "pas du JSON"])
    import_case_files(store, [ftm])
    assert _ids(store) == {"P1"}
    with store.begin() as conn:
        provenance = set(conn.execute(select(intel_statement.c.origin,
                                             intel_statement.c.dataset)).all())
    assert provenance == {("caf\\xe9.jsonl:1", "caf\\xe9")}
    assert set(_entries(store)) == {("caf\\xe9.jsonl", 2)}


# -- CSV ---------------------------------------------------------------------------------------

def test_an_unclosed_quote_costs_its_line_not_the_rows_after_it(
        store: Store, tmp_path: Path) -> None:
    # Before: csv read from the quote to the end of the file as one cell: A3 and A4 were
    # lost under one entry "2 colonnes au lieu de 20".
    csv_dir = tmp_path / "csv"
    _people_csv(csv_dir, [_person("A1"), _person("A2", nom='"Mart;in'), _person("A3"),
                          _person("A4"), _person("A5", nom="Mar\rtin")])
    summary = import_case_files(store, [csv_dir])
    assert {i for i in _ids(store) if "-" not in i} == {"A1", "A3", "A4"}
    reasons = {s.line: s.reason for s in summary.set_aside}
    assert set(reasons) == {3, 6}
    assert "guillemet" in reasons[3] and "illisible" in reasons[6]


def test_a_csv_line_that_is_not_utf8_costs_that_line(store: Store, tmp_path: Path) -> None:
    # Before: UnicodeDecodeError ended the import (the file was decoded as a whole).
    csv_dir = tmp_path / "csv"
    _people_csv(csv_dir, [_person("A1"), _person("A2", nom="Mart\xe9in").encode("latin-1"),
                          _person("A3")])
    summary = import_case_files(store, [csv_dir])
    assert {i for i in _ids(store) if "-" not in i} == {"A1", "A3"}
    assert [(s.line, s.reason) for s in summary.set_aside] == [
        (3, "encodage invalide (UTF-8 attendu) : octet 28 de la ligne")]


def test_nul_in_a_csv_value_is_dropped_and_in_an_identifier_sets_the_row_aside(
        store: Store, tmp_path: Path) -> None:
    # Before: PostgreSQL refused the import (DataError); SQLite kept "A3\x00" as an id.
    csv_dir = tmp_path / "csv"
    _write(csv_dir / "people.csv", [b"\xef\xbb\xbf" + PEOPLE_HEADER.encode(), _person("A1"),
                                    _person("A2", nom="Ma\x00rtin"), _person("A3\x00"),
                                    b"\xef\xbb\xbf" + _person("A4").encode()])
    summary = import_case_files(store, [csv_dir])
    assert {i for i in _ids(store) if "-" not in i} == {"A1", "A2", "A4"}
    assert [(s.line, s.raw) for s in summary.set_aside] == [
        (4, _person("A3\\x00"))]
    with store.begin() as conn:
        names = set(conn.execute(select(intel_statement.c.value).where(
            intel_statement.c.entity_id == "A2", intel_statement.c.prop == "lastName")).scalars())
    assert names == {"Martin"}


def test_a_huge_cell_costs_its_line(store: Store, tmp_path: Path) -> None:
    # Before: a cell over csv.field_size_limit raised csv.Error and ended the import.
    csv_dir = tmp_path / "csv"
    _people_csv(csv_dir, [_person("A1"), _person("A2", nom="x" * (csv.field_size_limit() + 1)),
                          _person("A3")])
    summary = import_case_files(store, [csv_dir])
    assert {i for i in _ids(store) if "-" not in i} == {"A1", "A3"}
    assert [(s.line, s.reason, s.raw) for s in summary.set_aside] == [
        (3, "ligne de plus de 1048576 octets", "")]


def test_digits_that_are_not_ascii_are_no_integer(store: Store, tmp_path: Path) -> None:
    # Before: "²".isdigit() is True: the age went to FtM, which refused it (or kept it).
    csv_dir = tmp_path / "csv"
    _people_csv(csv_dir, [_person("A1", age="²"), _person("A2", age="١٢"), _person("A3", age="12")])
    summary = import_case_files(store, [csv_dir])
    assert [(s.line, s.reason) for s in summary.set_aside] == [
        (2, "colonne « age_faits » : entier illisible « ² »"),
        (3, "colonne « age_faits » : entier illisible « ١٢ »")]


# -- through the command ----------------------------------------------------------------------

def test_the_command_reports_bad_files_goes_on_and_exits_0(
        store_env: dict[str, str], tmp_path: Path) -> None:
    # Before: an unreadable file in the directory ended the import with exit status 2, and
    # the files after it were never read.
    folder = tmp_path / "dossier [/]x"
    _write(folder / "a-locked.jsonl", [_ftm("L1")])
    _write(folder / "b-[bold]markup[red].jsonl", [_ftm("M1"), "{oops"])
    _write(folder / "c-notgzip.jsonl.gz", [_ftm("NG1")])
    _write(folder / "d-last.jsonl", [_ftm("Z1")])
    (folder / "a-locked.jsonl").chmod(0)
    try:
        result = _as_unprivileged(["cases", "import", str(folder)], store_env)
    finally:
        (folder / "a-locked.jsonl").chmod(0o644)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    said = [line for line in result.stderr.splitlines() if "non lu en entier" in line]
    assert len(said) == 2
    assert f"{folder / 'a-locked.jsonl'} : not read: Permission denied" in said[0]
    assert f"{folder / 'c-notgzip.jsonl.gz'} : not read: bad gzip data" in said[1]
    assert f"mis de côté : {folder / 'b-[bold]markup[red].jsonl'}:2 : JSON invalide" \
        in result.stdout


# -- fuzz --------------------------------------------------------------------------------------

_garbage_bytes = st.binary(max_size=60).map(lambda b: b.replace(b"\n", b" "))
_garbage_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=5).filter(lambda k: k != "schema"), inner, max_size=3),
    max_leaves=6).map(lambda v: json.dumps(v).encode())
_garbage_csv = st.text(st.characters(codec="utf-8", exclude_characters="\n"), max_size=60).filter(
    lambda t: t.count(";") < 19).map(lambda t: t.encode("utf-8", "surrogatepass"))
_lines = st.lists(st.tuples(st.booleans(), _garbage_bytes | _garbage_json), min_size=1,
                  max_size=12)
_csv_lines = st.lists(st.tuples(st.booleans(), _garbage_csv | _garbage_bytes.filter(
    lambda b: b.count(b";") < 19)), min_size=1, max_size=12)


def _blank(line: bytes) -> bool:
    """What the readers skip: a line that decodes to nothing but spaces (and a BOM)."""
    try:
        return not line.decode("utf-8").removeprefix("\ufeff").strip()
    except UnicodeDecodeError:
        return False


class _Fuzz:
    """One store per backend for every example: each example writes files of its own."""

    def __init__(self, store: Store, root: Path) -> None:
        self.store, self.root = store, root

    def check(self, kind: str, lines: list[tuple[bool, bytes]], gz: bool, cut: float) -> None:
        tag = uuid.uuid4().hex[:8]
        folder = self.root / tag
        folder.mkdir()
        valid, content = {}, []
        for number, (good, garbage) in enumerate(lines, start=1 + (kind == "csv")):
            if good:
                valid[number] = f"{tag}-{number}"
                record = (_person(valid[number]) if kind == "csv"
                          else _ftm(valid[number], "Nom ¤ " + tag))
                content.append(record.encode())
            else:
                content.append(garbage)
        if kind == "csv":
            path = _write(folder / "people.csv", [PEOPLE_HEADER.encode(), *content])
        else:
            data = b"".join(x + b"\n" for x in content)
            path = folder / ("x.jsonl.gz" if gz else "x.jsonl")
            path.write_bytes(gzip.compress(data)[: max(10, int(len(gzip.compress(data)) * cut))]
                             if gz else data)
        summary: ImportSummary = import_case_files(self.store, [path])
        entries = {line for (name, line) in _entries_of(self.store, path)}
        ids = _ids(self.store)
        lines_read = len(content) + (kind == "csv")
        if summary.unread:  # a truncated gzip: read up to a line, said with the file
            (where, reason), = summary.unread
            assert where == str(path) and 0 in entries
            lines_read = int(reason.split()[4].rstrip(",")) if reason.startswith("read") else 0
        first = 1 + (kind == "csv")
        for number, (good, garbage) in enumerate(lines, start=first):
            if number > lines_read:
                break
            if good:
                assert valid[number] in ids, (number, summary.set_aside)
            elif not _blank(garbage):
                assert number in entries, (number, garbage, summary.set_aside)
        assert all(s.path == str(path) for s in summary.set_aside)


def _entries_of(store: Store, path: Path) -> set[tuple[str, int]]:
    with store.begin() as conn:
        return {(p, line) for p, line in conn.execute(
            select(quarantine.c.path, quarantine.c.line).where(
                quarantine.c.path == str(path), quarantine.c.resolved_at.is_(None)))}


@pytest.fixture
def fuzz(store_settings: Settings, tmp_path: Path) -> _Fuzz:
    return _Fuzz(open_store(store_settings), tmp_path)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(lines=_lines, gz=st.booleans(), cut=st.floats(0.3, 1.0))
def test_fuzz_ftm_lines(fuzz: _Fuzz, lines: list[tuple[bool, bytes]], gz: bool,
                        cut: float) -> None:
    fuzz.check("ftm", lines, gz, cut)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(lines=_csv_lines)
def test_fuzz_csv_rows(fuzz: _Fuzz, lines: list[tuple[bool, bytes]]) -> None:
    fuzz.check("csv", lines, False, 1.0)


def test_a_fifo_or_a_directory_named_like_a_case_file_is_reported(
        store: Store, tmp_path: Path) -> None:
    # Before: a FIFO named x.jsonl made the import wait forever; a directory named
    # people.csv ended it (IsADirectoryError).
    folder = tmp_path / "dossier"
    _write(folder / "z-last.jsonl", [_ftm("Z1")])
    os.mkfifo(folder / "a-fifo.jsonl")
    (folder / "people.csv").mkdir()
    summary = import_case_files(store, [folder])
    assert _ids(store) == {"Z1"}
    assert sorted((Path(p).name, reason) for p, reason in summary.unread) == [
        ("a-fifo.jsonl", "not read: not a regular file"),
        ("people.csv", "not read: not a regular file")]
    assert set(_entries(store)) == {("a-fifo.jsonl", 0), ("people.csv", 0)}
