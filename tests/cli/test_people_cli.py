"""``faisceau people``: resolution, review, judgements and the resolved person from the
command line, on both stores.

What an analyst relies on: ``resolve`` merges the sure pairs and says how many wait;
``review`` shows both records side by side and why a pair was not merged; ``judge`` and
``unmerge`` are recorded with who and why, and ``history`` shows them; ``show`` gives every
value with where it came from and each record's own category; a request that cannot be
carried out says why on one line, exits with status 2 and records nothing.

The sub-application is driven in-process (Typer's runner), so that the test does not
depend on where it is registered in the ``faisceau`` command.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from faisceau.cli import common
from faisceau.cli.people import people_app
from faisceau.config import Settings
from faisceau.intel.casefiles import import_case_files
from faisceau.store import open_store
from tests.intel.test_people import RUNAWAY, SUSPECT, VICTIM, WITNESS, write_case_files


@pytest.fixture(scope="module")
def case_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_case_files(tmp_path_factory.mktemp("people-cli"))


Env = dict[str, str | None]
REASON = "vérification du rapprochement fugue et procédure"


@pytest.fixture
def env(case_files: Path, store_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Env:
    """The environment of a store (either kind) holding the case files; None unsets. Tables
    as wide as a wide terminal's, whatever the terminal the tests run in."""
    monkeypatch.setattr(common.out, "width", 250)
    store = open_store(store_settings)
    try:
        import_case_files(store, [case_files], "units")
    finally:
        store.dispose()
    return {"FAISCEAU_HOME": str(store_settings.home),
            "FAISCEAU_DATABASE_URL": store_settings.database_url,
            "FAISCEAU_ANALYST": "analyste-test"}


def _run(args: list[str], env: Env, code: int = 0) -> Result:
    result = CliRunner().invoke(people_app, args, env=env)
    assert result.exit_code == code, (args, result.stdout, result.stderr, result.exception)
    return result


def _lines(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_resolve_review_judge_show_unmerge_and_history(env: Env) -> None:
    resolved = _run(["resolve"], env).stdout
    assert "fusions automatiques nouvelles : 1" in resolved
    assert "paires à examiner : 2" in resolved

    queue = _lines(_run(["review", "--json"], env))
    pairs = {(i["left"]["id"], i["right"]["id"]): i for i in queue}
    assert (VICTIM, RUNAWAY) not in pairs  # merged, not waiting
    waiting = pairs[(SUSPECT, WITNESS)]
    assert "catégories distinctes" in waiting["held"]
    fields = {f["field"]: f for f in waiting["fields"]}
    assert fields["birth_date"]["left"] == fields["birth_date"]["right"] == "1990-01-02"
    assert fields["birth_date"]["level"] == "identique"
    assert [(i["left"]["id"], i["right"]["id"]) for i in _lines(
        _run(["review", "--json", "--category", "witness"], env))] == [(SUSPECT, WITNESS)]
    text = _run(["review"], env).stdout
    assert f"{SUSPECT} ↔ {WITNESS}" in text and "Non fusionnée automatiquement" in text
    assert f"faisceau people judge {SUSPECT} {WITNESS}" in text

    judged = _run(["judge", WITNESS, SUSPECT, "--same", "--analyst", "alice"], env).stdout
    assert f"sur {SUSPECT} et {WITNESS} : même personne (analyste, alice" in judged
    assert f"personne résolue {SUSPECT} (2 fiches)" in judged
    person = _lines(_run(["show", WITNESS, "--json"], env))[0]
    assert person["canonical_id"] == SUSPECT
    assert [(m["id"], m["category"]) for m in person["members"]] == [
        (SUSPECT, "suspect"), (WITNESS, "witness")]

    masked = _run(["show", RUNAWAY], env).stdout  # a minor, and a victim: needs a reason
    assert "identité masquée" in masked and "2009-03-14" not in masked
    assert "mineur signalé en fugue" in masked
    shown = _run(["show", RUNAWAY, "--reason", REASON], env).stdout
    for expected in ("victime", "mineur signalé en fugue", "people.csv:2",
                     "runaway_reports.csv:2", "affaire C00001", "SD-59", "F0000001 du 2026-01-05"):
        assert expected in shown, expected

    values = {(v["prop"], v["value"]): v["sources"]
              for v in _lines(_run(["show", RUNAWAY, "--json", "--reason", REASON],
                                   env))[0]["values"]}
    assert [(s["entity_id"], s["category"], s["case_id"], s["unit"], s["origin"])
            for s in values[("birthDate", "2009-03-14")]] == [
        (VICTIM, "victim", "C00001", "SD-59", "people.csv:2"),
        (RUNAWAY, "runaway", None, None, "runaway_reports.csv:2")]

    undone = _run(["unmerge", RUNAWAY, "--reason", "homonyme", "--analyst", "bob"], env)
    assert f"Fusion défaite : {RUNAWAY} séparée de {VICTIM}" in undone.stdout
    steps = _lines(_run(["history", RUNAWAY, "--json"], env))
    assert [(s["judgement"], s["source"], s["decided_by"], s["reason"]) for s in steps][1:] == [
        ("negative", "analyst", "bob", "homonyme")]
    assert (steps[0]["judgement"], steps[0]["source"]) == ("positive", "splink")
    assert "personnes différentes" in _run(["history", RUNAWAY], env).stdout
    assert _lines(_run(["show", RUNAWAY, "--json"], env))[0]["canonical_id"] == RUNAWAY
    again = _run(["resolve", "--json"], env)
    assert _lines(again)[0]["merged"] == 0  # the analyst's judgement stands


@pytest.mark.parametrize("args, message", [
    (["show", "F9999999-P"], "personne inconnue : F9999999-P"),
    (["judge", VICTIM, RUNAWAY, "--different"], "demande un motif"),
    (["judge", VICTIM, RUNAWAY], "choisir exactement un jugement"),
    (["judge", VICTIM, RUNAWAY, "--same", "--unsure"], "choisir exactement un jugement"),
    (["judge", VICTIM, VICTIM, "--same"], "elle-même"),
    (["unmerge", VICTIM], "demande un motif"),
    (["unmerge", VICTIM, "--reason", "rien à défaire"], "n'est fusionnée avec aucune"),
    (["history", "nobody"], "personne inconnue : nobody"),
    (["review", "--category", "victime"], "catégorie inconnue : victime"),
])
def test_refusals_are_one_line_and_record_nothing(env: Env, args: list[str],
                                                  message: str) -> None:
    result = _run(args, env, code=2)
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert result.stdout == ""
    assert _run(["history", VICTIM, "--json"], env).stdout == ""
