"""The command line's consultations are in the log: the operator's shows and exports of
personal data are written with who (the analyst's name), what and when, as the web's are."""

from __future__ import annotations

from pathlib import Path

from faisceau.config import Settings
from faisceau.intel.casefiles import import_case_files
from faisceau.share import audit
from faisceau.store import open_store
from tests.conftest import run_faisceau


def test_shows_and_exports_on_the_command_line_are_logged(
        store_settings: Settings, store_env: dict[str, str], tmp_path: Path) -> None:
    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    (csv_dir / "cases.csv").write_text(
        "affaire_id;numero_procedure;unite_code;date_ouverture;statut\n"
        "C1;2026/SD-13/1;SD-13;2026-01-01;ouverte\n", encoding="utf-8")
    (csv_dir / "people.csv").write_text(
        "personne_id;affaire_id;categorie;role;nom;prenom\n"
        "C1-S;C1;suspect;proxénète;Martin;Paul\n", encoding="utf-8")
    store = open_store(store_settings)
    import_case_files(store, [csv_dir])
    env = {**store_env, "FAISCEAU_ANALYST": "operateur.test"}
    run_faisceau(["cases", "show", "C1"], env)
    run_faisceau(["people", "show", "C1-S"], env)
    run_faisceau(["export", "ftm", "--out", str(tmp_path / "out.jsonl")], env)
    run_faisceau(["export", "i2", "--out", str(tmp_path / "i2")], env)
    run_faisceau(["graph", "neighbours", "C1-S"], env)
    refused = run_faisceau(["cases", "show", "INCONNU"], env, check=False)
    assert refused.returncode == 2
    with store.begin() as conn:
        entries = list(audit.entries(conn, login="operateur.test"))
        assert audit.verify(store).intact
    store.dispose()
    seen = [(e.action, e.record_kind, e.record_id) for e in entries]
    assert seen == [("view", "case", "C1"), ("view", "entity", "C1-S"),
                    ("export", "case", "*"), ("export", "graph", "*"),
                    ("view", "graph", "C1-S")]
    assert all(e.unit == "OCRTEH" for e in entries)
    assert str(tmp_path / "out.jsonl") in (entries[2].detail or "")
