"""``faisceau leads``: finding, listing, showing and deciding leads from the command line,
on both stores (the ``leads_app`` sub-command, run as the ``faisceau`` command runs it).

What an analyst relies on: ``find`` says what it found, in French; ``list`` starts with the
strongest lead, ``--json`` gives the same for scripts; ``show`` gives the evidence ads; a
decision is confirmed, takes the lead out of the list and shows with ``--all``; a decision
that cannot be recorded says why on one line, exits with status 2 and records nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from faisceau.cli.common import out
from faisceau.cli.leads import leads_app
from faisceau.config import Settings
from faisceau.intel.casefiles import import_case_files
from faisceau.store import open_store
from tests.intel.test_leads import DAY_1, SOURCE, ingest_and_detect, write_case_files, write_day

REASON = "rapprochement annonces et procédure 2026/SD-59/0001"


@pytest.fixture
def env(store_settings: Settings, store_env: dict[str, str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The store of ``store_env`` with a day of ads detected and case files imported."""
    # The console reads COLUMNS when the command starts (here: when the tests started).
    monkeypatch.setattr(out, "_width", 200)
    store = open_store(store_settings)
    try:
        ingest_and_detect(store, [write_day(tmp_path / "crawl", "2026-03-02", DAY_1)])
        import_case_files(store, [write_case_files(tmp_path / "cases")])
    finally:
        store.dispose()
    return {**store_env, "FAISCEAU_ANALYST": "A. Martin"}


def _run(args: list[str], env: dict[str, str], code: int = 0) -> Result:
    result = CliRunner().invoke(leads_app, args, env=env)
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    return result


def _json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_find_list_show_and_decide(env: dict[str, str]) -> None:
    found = _run(["find"], env).stdout
    assert "Pistes : 5" in found and "téléphone 2" in found and "nouvelles 5" in found
    assert "nouvelles 0" in _run(["find"], env).stdout  # idempotent
    masked = _run(["list"], env).stdout  # the strongest lead is a victim's phone
    assert "+33612345678" not in masked and "identité masquée" in masked
    listed = _run(["list", "--reason", REASON], env).stdout
    assert "+33612345678" in listed and "nouvelle" in listed and "téléphone" in listed
    leads = _json_lines(_run(["list", "--json", "--reason", REASON], env).stdout)
    assert len(leads) == 5 and leads[0]["value"] == "+33612345678"
    top = str(leads[0]["id"])
    assert leads[0]["evidence"] == [f"{SOURCE}:p1", f"{SOURCE}:p2"]
    shown = _run(["show", top, "--reason", REASON], env).stdout
    assert f"{SOURCE}:p1, {SOURCE}:p2" in shown and "Décisions : aucune" in shown
    assert "Procédure 2026/SD-59/0001" in shown
    decided = _run(["decide", top, "--dismiss", "numéro recyclé"], env).stdout
    assert "écartée par A. Martin" in decided and "numéro recyclé" in decided
    assert top not in _run(["list"], env).stdout
    everything = _json_lines(_run(["list", "--all", "--json"], env).stdout)
    assert [lead["id"] for lead in everything][-1] == top
    assert everything[-1]["status"] == "dismissed"
    detail = json.loads(_run(["show", top, "--json"], env).stdout)
    assert [d["reason"] for d in detail["decisions"]] == ["numéro recyclé"]
    confirmed = _run(["decide", top, "--confirm", "--analyst", "B. Durand"], env).stdout
    assert "confirmée par B. Durand" in confirmed
    assert "confirmée" in _run(["list", "--all"], env).stdout


def test_refused_decisions_say_why_and_record_nothing(env: dict[str, str]) -> None:
    _run(["find"], env)
    top = str(_json_lines(_run(["list", "--json"], env).stdout)[0]["id"])
    refused = {
        "piste inconnue : l-inconnue": ["decide", "l-inconnue", "--confirm"],
        "exige un motif": ["decide", top, "--dismiss", "  "],
        "exactement une décision": ["decide", top],
        "exactement une décision ": ["decide", top, "--confirm", "--dismiss", "non"],
        "se donne avec --dismiss": ["decide", top, "--dismiss", "non", "--reason", "x"],
    }
    for message, args in refused.items():
        result = _run(args, env, code=2)
        assert message.strip() in result.stderr and result.stderr.count("\n") == 1
    assert "piste inconnue" in _run(["show", "l-inconnue"], env, code=2).stderr
    detail = json.loads(_run(["show", top, "--json"], env).stdout)
    assert detail["decisions"] == [] and detail["status"] == "new"
