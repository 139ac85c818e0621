"""Names from case files reach the terminal as text: no escape sequence, no Rich markup read,
no bidirectional override that would reorder what the analyst sees, on both stores."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from faisceau.cli.main import app

# CSI (ESC and C1 forms), Rich markup, and a right-to-left override ("blouse" shown reversed).
NAME = "Mo\x1b[2Jreau [bold]x[/] \u202eesuolb"
FIRST = "Karim\x1b[5m\x9b2J"
HIDDEN = ("\x1b", "\x9b", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069")


def test_case_file_names_print_inert(store_env: dict[str, str], tmp_path: Path) -> None:
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "cases.csv").write_text(
        "affaire_id;numero_procedure;unite_code;departement;date_ouverture;statut\n"
        "C1;2026/SD-59/0001;SD-59;59;2026-02-01;ouverte\n", "utf-8")
    (cases / "people.csv").write_text(
        "personne_id;affaire_id;categorie;statut;role;nom;prenom;date_naissance;mineur;"
        "adresse;telephones;emails\n"
        f"S1;C1;suspect;suspect;proxénète;{NAME};{FIRST};1980-01-01;non;;+33699887766;\n"
        f"S2;C1;suspect;suspect;recruteur;\u2067{NAME};{FIRST};1980-01-01;non;;"
        "+33699887767;\n", "utf-8")
    env = {**store_env, "FAISCEAU_ANALYST": "operateur.test", "COLUMNS": "250"}
    runner = CliRunner()
    said = []
    for args in (["cases", "import", str(cases)], ["cases", "show", "C1"],
                 ["people", "resolve"], ["people", "show", "S1"], ["people", "review"]):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 0, (args, result.output)
        said.append(result.output)
    printed = "".join(said)
    assert "[bold]x[/]" in printed  # markup printed as it is
    assert [c for c in HIDDEN if c in printed] == []


def test_a_quarantined_line_prints_without_reordering(store_env: dict[str, str],
                                                      tmp_path: Path) -> None:
    """``quarantine show`` prints the raw line itself (not through Rich): the same rule."""
    crawl = tmp_path / "ads.jsonl"
    crawl.write_text('{"ad_id": "q1", "source": "src", "seen_at": "hier \u202e\x1b[2J", '
                     '"url": "https://annonces.example/q1", "name": "N", "text": "t"}\n',
                     "utf-8")
    env = {**store_env, "FAISCEAU_ANALYST": "operateur.test"}
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", "ads", str(crawl)], env=env).exit_code == 0
    listed = runner.invoke(app, ["quarantine", "list"], env=env)
    shown = runner.invoke(app, ["quarantine", "show", "1"], env=env)
    assert listed.exit_code == shown.exit_code == 0, listed.output + shown.output
    printed = listed.output + shown.output
    assert [c for c in HIDDEN if c in printed] == []
    assert "\\u202e" in shown.output and "\\x1b[2J" in shown.output
