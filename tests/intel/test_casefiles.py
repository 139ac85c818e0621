"""Case files into the store: what units and analysts rely on.

- the CSV layout and FtM JSON lines of one world give the same facts;
- a bad row is set aside with its file, line and reason, and the rest goes in;
- importing again adds nothing; every fact keeps its source, case, unit, date and line;
- people stay in their category (suspect, victim, witness, relation).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from faisceau.config import Settings
from faisceau.intel.casefiles import import_case_files
from faisceau.intel.inspect import case_detail, list_cases
from faisceau.intel.picture import combined_graph
from faisceau.store import open_store
from faisceau.store.schema import intel_entity, intel_statement, quarantine
from faisceau.synth.behind import write_behind
from faisceau.synth.world import PRESETS, write_world
from tests.conftest import run_faisceau


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    params = PRESETS["demo"]
    write_world(params, out)
    write_behind(out, params.seed, params.start, params.scale)
    return out


def _facts(conn, dataset: str) -> set[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    rows = conn.execute(select(intel_statement.c.entity_id, intel_statement.c.prop,
                               intel_statement.c.value).where(
        intel_statement.c.dataset == dataset))
    return {tuple(r) for r in rows}


def test_csv_and_ftm_layouts_give_the_same_facts(world: Path, tmp_path: Path) -> None:
    store = open_store(Settings(home=tmp_path / "s", database_url=None))
    csv_summary = import_case_files(store, [world / "intel" / "csv"], "units")
    ftm_summary = import_case_files(store, [world / "intel" / "ftm.jsonl"], "ftm")
    with store.begin() as conn:
        from_csv, from_ftm = _facts(conn, "units"), _facts(conn, "ftm")
    assert csv_summary.set_aside == [] and ftm_summary.set_aside == []
    assert len(from_csv) > 40_000
    assert from_csv == from_ftm


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


PEOPLE_HEADER = ("personne_id;affaire_id;categorie;statut;role;nom;prenom;sexe;date_naissance;"
                 "age_faits;age_annonce;mineur;nationalite;pays_residence;adresse;"
                 "commune_residence;telephones;emails;proche_de;lien\n")
CASES_HEADER = ("affaire_id;numero_procedure;unite_code;unite;force;departement;commune_faits;"
                "type_affaire;cadre;origine;infractions;date_ouverture;date_interpellations;"
                "date_cloture;date_jugement;statut;issue;nb_mis_en_cause;"
                "nb_victimes_identifiees\n")


def _small_files(root: Path) -> Path:
    csv_dir = root / "csv"
    _write(csv_dir / "cases.csv", CASES_HEADER +
           "K1;2026/SD-13/0001;SD-13;Sûreté 13;PN;13;Marseille;réseau;préliminaire;"
           "signalement;traite des êtres humains;2026-02-01;;;;ouverte;en cours;1;1\n")
    _write(csv_dir / "people.csv", PEOPLE_HEADER +
           "K1-P1;K1;suspect;suspect;tête de réseau;Martin;Paul;M;1980-05-02;;;non;fr;FR;;;"
           "+33612345678;;;\n"
           "K1-P2;K1;victime;victime;;Durand;Léa;F;2009-01-03;17;19;oui;fr;FR;;;;;;\n"
           "K1-P3;K1;victime;victime;;Petit;Zoé;F;03/01/2008;;;non;fr;FR;;;;;;\n"
           "K1-P4;K1;inconnue;victime;;Roux;Ana;F;;;;non;;FR;;;;;;\n"
           "K1-P5;K1;témoin;témoin;client;Blanc;Marc;M\n"
           "K1-P6;K1;témoin;témoin;client;Noir;Luc;M;1990-01-01;;;non;fr;FR;;;;;;\n")
    _write(csv_dir / "phones.csv",
           "affaire_id;numero;utilisateur_id;titulaire_declare;type_ligne;source;"
           "premiere_date;derniere_date\n"
           "K1;+33698765432;K1-P1;;prépayée;annonces;2026-01-05;2026-02-01\n")
    return csv_dir


def test_bad_rows_are_set_aside_with_line_and_reason_and_the_rest_goes_in(
        store_settings: Settings, tmp_path: Path) -> None:
    csv_dir = _small_files(tmp_path)
    ftm = _write(tmp_path / "extra.jsonl",
                 '{"id": "X1", "schema": "Person", "properties": {"name": ["Ana Roux"]}}\n'
                 '{"id": "X2", "schema": "Persn", "properties": {}}\n'
                 'not json\n'
                 '{"schema": "Person", "properties": {"name": ["Sans Id"]}}\n'
                 '{"id": "X3", "schema": "Person", "properties": {"colour": ["red"]}}\n')
    store = open_store(store_settings)
    summary = import_case_files(store, [csv_dir, ftm])
    reasons = {(Path(s.path).name, s.line): s.reason for s in summary.set_aside}
    assert set(reasons) == {("people.csv", 4), ("people.csv", 5), ("people.csv", 6),
                            ("extra.jsonl", 2), ("extra.jsonl", 3), ("extra.jsonl", 4),
                            ("extra.jsonl", 5)}
    assert "date_naissance" in reasons[("people.csv", 4)]
    assert "inconnue" in reasons[("people.csv", 5)]
    assert "colonnes" in reasons[("people.csv", 6)]
    assert "Persn" in reasons[("extra.jsonl", 2)]
    assert "colour" in reasons[("extra.jsonl", 5)]
    with store.begin() as conn:
        ids = set(conn.execute(select(intel_entity.c.id)).scalars())
        parked = conn.execute(select(func.count()).select_from(quarantine)).scalar_one()
    assert {"K1", "K1-P1", "K1-P2", "K1-P6", "X1"} <= ids
    assert not {"K1-P3", "K1-P4", "K1-P5", "X2", "X3"} & ids
    assert parked == 7
    # Importing again sets nothing aside twice and adds no fact.
    with store.begin() as conn:
        before = conn.execute(select(func.count()).select_from(intel_statement)).scalar_one()
    import_case_files(store, [csv_dir, ftm])
    with store.begin() as conn:
        after = conn.execute(select(func.count()).select_from(intel_statement)).scalar_one()
        parked = conn.execute(select(func.count()).select_from(quarantine)).scalar_one()
    assert after == before and parked == 7


def test_every_fact_keeps_its_provenance_and_people_their_category(
        store_settings: Settings, tmp_path: Path) -> None:
    csv_dir = _small_files(tmp_path)
    store = open_store(store_settings)
    import_case_files(store, [csv_dir], "SD-13 tableur")
    with store.begin() as conn:
        phones = conn.execute(select(
            intel_statement.c.value, intel_statement.c.dataset, intel_statement.c.case_id,
            intel_statement.c.unit, intel_statement.c.fact_date, intel_statement.c.origin).where(
            intel_statement.c.entity_id == "K1-P1", intel_statement.c.prop == "phone")).all()
        detail = case_detail(conn, "K1")
        cases = list_cases(conn)
    assert sorted(phones) == [
        ("+33612345678", "SD-13 tableur", "K1", "SD-13", "2026-02-01", "people.csv:2"),
        ("+33698765432", "SD-13 tableur", "K1", "SD-13", "2026-02-01", "phones.csv:2")]
    assert detail is not None
    assert list(detail.people) == ["suspect", "victim", "witness"]
    assert [p["id"] for p in detail.people["victim"]] == ["K1-P2"]
    assert detail.people["victim"][0]["minor"] is True
    assert detail.people["suspect"][0]["role"] == "tête de réseau"
    assert cases[0].people == {"suspect": 1, "victim": 1, "witness": 1}


def test_the_combined_graph_joins_people_through_shared_phones(world: Path,
                                                              tmp_path: Path) -> None:
    store = open_store(Settings(home=tmp_path / "s", database_url=None))
    import_case_files(store, [world / "intel" / "csv"])
    with store.begin() as conn:
        nodes, edges = combined_graph(conn)
    assert nodes["id"].is_unique().all()
    ends = set(edges["source"]) | set(edges["target"])
    assert ends <= set(nodes["id"])
    kinds = dict(zip(nodes["id"], nodes["kind"], strict=True))
    # Every case party is an edge from a person to a case.
    party = edges.filter(edges["kind"] == "courtcaseparty")
    assert party.height > 100
    assert {kinds[s] for s in party["source"]} == {"person"}
    assert {kinds[t] for t in party["target"]} == {"case"}
    # Payments are summed per payer and beneficiary.
    payments = edges.filter(edges["kind"] == "payment")
    assert payments["count"].sum() > payments.height


def test_cli_imports_lists_and_shows_cases(store_env: dict[str, str], tmp_path: Path) -> None:
    csv_dir = _small_files(tmp_path)
    result = run_faisceau(["cases", "import", str(csv_dir), "--source", "tableur"], store_env)
    assert "mis de côté : " in result.stdout and "people.csv:4" in result.stdout
    shown = run_faisceau(["cases", "show", "K1"], store_env)
    assert "Suspects" in shown.stdout and "Victimes" in shown.stdout
    assert shown.stdout.index("Suspects") < shown.stdout.index("Victimes")
    unknown = run_faisceau(["cases", "show", "NOPE"], store_env, check=False)
    assert unknown.returncode == 2 and "procédure inconnue" in unknown.stderr
    missing = run_faisceau(["cases", "import", str(tmp_path / "absent")], store_env,
                           check=False)
    assert missing.returncode == 2 and "introuvable" in missing.stderr
    shutil.rmtree(csv_dir)


def test_the_documented_layout_names_every_file_and_required_column() -> None:
    import yaml

    from faisceau.intel.casefiles import csv_layout

    doc = (Path(__file__).resolve().parents[2] / "docs" / "case-files.md").read_text("utf-8")
    raw = yaml.safe_load((Path(__file__).resolve().parents[2] / "src" / "faisceau" / "intel"
                          / "csv_layout.yml").read_text("utf-8"))
    for name, spec in raw["files"].items():
        assert f"`{name}.csv`" in doc
        for column in spec.get("required", []):
            assert f"**{column}**" in doc, (name, column)
    assert set(csv_layout()) == set(raw["files"])


def test_importing_again_keeps_who_a_record_was_resolved_to(store_settings: Settings,
                                                             tmp_path: Path) -> None:
    from faisceau.intel.people import judge

    csv_dir = _small_files(tmp_path)
    store = open_store(store_settings)
    import_case_files(store, [csv_dir])
    judge(store, "K1-P2", "K1-P6", "positive", "analyste-test", "même personne (test)")
    import_case_files(store, [csv_dir])
    with store.begin() as conn:
        canonical = dict(conn.execute(select(intel_entity.c.id, intel_entity.c.canonical_id)
                                      .where(intel_entity.c.id.in_(["K1-P2", "K1-P6"]))).all())
    assert canonical == {"K1-P2": "K1-P2", "K1-P6": "K1-P2"}
