"""Every command that prints personal data is in the consultation log, and sensitive records
are shown only with a reason (Directive (EU) 2016/680, art. 25; ``faisceau.cli.consult``).

What an operator and an auditor rely on, on both stores:

- each consultation is one entry: the operator's name, the central office, the command, the
  record asked for, the records printed and those masked, and the reason when one was given;
- without ``--reason``, nothing that names a victim, a minor or a runaway (name, phone,
  e-mail, handle) is printed, as text or as JSON, and the entry says what was masked; with a
  reason it is printed and the reason is logged;
- an export that holds such records is refused without a reason, and logs nothing;
- a refused request (an unknown id, a reason too short) logs nothing;
- every command of ``faisceau`` is either run here or declared, with why, as printing no
  personal data (``cli/consultations.toml``): a new command cannot be forgotten.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.main
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from faisceau.cli import common
from faisceau.cli.consult import checked_reason, rules, sensitive_records
from faisceau.cli.main import app
from faisceau.config import Settings
from faisceau.intel.leads import lead_queue
from faisceau.share import audit
from faisceau.store import open_store
from faisceau.synth.world import PRESETS, Params
from tests.cli.conftest import World
from tests.cli.world import (
    ACCOUNT,
    MINOR,
    NAMESAKE,
    QUARANTINED_NAME,
    RUNAWAY,
    SECRETS,
    SOURCE,
    SUSPECT,
    SUSPECT_NAME,
    VICTIM,
    VICTIM_PHONE,
)
from tests.conftest import run_faisceau

REASON = "audition de la victime, procédure 2026/SD-59/0001"


@dataclass(frozen=True)
class Consulting:
    """A command run by the logging test: what it logs, and what a reason reveals."""

    command: str  # the command path, as in consultations.toml
    args: tuple[str, ...]  # {lead}, {network}, {entry}, {out}: filled from the world
    kind: str  # the entry's record_kind
    record: str  # the entry's record_id
    sensitive: bool = False  # prints case-file people: masked without a reason
    revealed: str = ""  # printed only with a reason
    action: str = "view"
    export: bool = False  # holds sensitive records: refused without a reason


def _both(command: str, args: tuple[str, ...], kind: str, record: str,
          revealed: str) -> list[Consulting]:
    """The command as text and as JSON (--json): the same rule for both."""
    return [Consulting(command, a, kind, record, sensitive=True, revealed=revealed)
            for a in (args, (*args, "--json"))]


PHONE_NODE = f"phone:{VICTIM_PHONE}"
CONSULTING = [
    Consulting("cases list", ("cases", "list"), "case", "liste"),
    *_both("cases show", ("cases", "show", "C1"), "case", "C1", "Léanore"),
    *_both("people review", ("people", "review"), "entity", "revue", "Léanore"),
    *_both("people show", ("people", "show", VICTIM), "entity", VICTIM, "Léanore"),
    Consulting("people history", ("people", "history", VICTIM), "entity", VICTIM),
    *_both("leads list", ("leads", "list", "--all"), "lead", "liste", VICTIM_PHONE),
    *_both("leads show", ("leads", "show", "{lead}"), "lead", "{lead}", VICTIM_PHONE),
    *_both("graph neighbours", ("graph", "neighbours", VICTIM, "--depth", "2"), "graph",
           VICTIM, "Léanore"),
    *_both("graph path", ("graph", "path", SUSPECT, VICTIM), "graph", f"{SUSPECT},{VICTIM}",
           ""),
    *_both("graph connect", ("graph", "connect", SUSPECT, VICTIM), "graph",
           f"{SUSPECT},{VICTIM}", "Léanore"),
    *_both("graph key-persons", ("graph", "key-persons", "--min-size", "2"), "graph", "*",
           "Sarahine"),
    *_both("graph timeline", ("graph", "timeline", PHONE_NODE), "graph", PHONE_NODE,
           "Léanore"),
    Consulting("networks list", ("networks", "list"), "network", "liste"),
    Consulting("networks show", ("networks", "show", "{network}"), "network", "{network}"),
    Consulting("ads show", ("ads", "show", SOURCE, "p1"), "ad", f"{SOURCE}:p1"),
    Consulting("quarantine list", ("quarantine", "list"), "quarantine", "liste"),
    Consulting("quarantine show", ("quarantine", "show", "{entry}"), "quarantine", "{entry}"),
    Consulting("export ads", ("export", "ads", "--out", "{out}/ads.jsonl"), "ad", "*",
               action="export"),
    Consulting("export networks", ("export", "networks", "--out", "{out}/n.jsonl"), "network",
               "*", action="export"),
    Consulting("export ftm", ("export", "ftm", "--out", "{out}/ftm.jsonl"), "case", "*",
               action="export", export=True),
    Consulting("export gexf", ("export", "gexf", "--out", "{out}/g.gexf"), "graph", "*",
               action="export", export=True),
    Consulting("export graphml", ("export", "graphml", "--out", "{out}/g.graphml"), "graph",
               "*", action="export", export=True),
    Consulting("export i2", ("export", "i2", "--out", "{out}/i2"), "graph", "*",
               action="export", export=True),
]
# Commands whose logging is tested by a test of their own (too heavy for the table).
LOGGED_ELSEWHERE = {"demo": "test_the_demo_logs_the_listings_it_prints"}


# --- Every command is accounted for ---------------------------------------------------------


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[str]:
    subcommands = getattr(command, "commands", None)
    if subcommands is None:
        yield " ".join(path)
        return
    if path and getattr(command, "invoke_without_command", False):
        yield " ".join(path)  # a group that is a command itself (``faisceau queue``)
    for name, sub in subcommands.items():
        yield from _commands(sub, (*path, name))


def unaccounted(application: typer.Typer) -> set[str]:
    """The commands of ``application`` neither declared as printing no personal data nor
    run by this module's logging test."""
    commands = set(_commands(typer.main.get_command(application)))
    logged = {c.command for c in CONSULTING} | set(LOGGED_ELSEWHERE)
    return commands - set(rules().no_personal_data) - logged


def test_every_command_is_logged_or_declared_without_personal_data() -> None:
    commands = set(_commands(typer.main.get_command(app)))
    declared = set(rules().no_personal_data)
    logged = {c.command for c in CONSULTING} | set(LOGGED_ELSEWHERE)
    assert all(name in globals() for name in LOGGED_ELSEWHERE.values())
    assert declared & logged == set(), "a command cannot be both"
    assert unaccounted(app) == set(), (
        "commands that print personal data must go through cli.consult.consultation and be "
        "run by this module's logging test; the others are declared in consultations.toml")
    assert (declared | logged) - commands == set(), "declared commands that do not exist"
    assert {"leads list", "queue", "demo", "graph key-persons"} <= commands


def test_a_new_command_is_caught_until_it_is_accounted_for() -> None:
    probe = typer.Typer()
    probe.command("status")(lambda: None)
    probe.command("victims")(lambda: None)
    group = typer.Typer()
    group.command("list")(lambda: None)
    probe.add_typer(group, name="leads")
    assert unaccounted(probe) == {"victims"}


# --- Running the commands -------------------------------------------------------------------


@pytest.fixture(autouse=True)
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables as wide as a wide terminal's, whatever the terminal the tests run in."""
    monkeypatch.setattr(common.out, "width", 250)


def invoke(args: Sequence[str], world: World) -> Result:
    env: dict[str, str | None] = {"FAISCEAU_DATABASE_URL": None, **world.env}
    return CliRunner().invoke(app, list(args), env=env)


def last_id(world: World) -> int:
    store = world.open()
    try:
        with store.begin() as conn:
            ids = [e.id for e in audit.entries(conn)]
    finally:
        store.dispose()
    return max(ids, default=0)


def entries_after(world: World, before: int) -> list[audit.Entry]:
    store = world.open()
    try:
        with store.begin() as conn:
            found = [e for e in audit.entries(conn) if e.id > before]
        assert audit.verify(store).intact
    finally:
        store.dispose()
    return found


def placeholders(world: World, out: Path) -> dict[str, str]:
    store = world.open()
    try:
        with store.begin() as conn:
            leads = lead_queue(conn, limit=None, include_decided=True)
            entry = conn.exec_driver_sql("SELECT MIN(id) FROM quarantine").scalar()
    finally:
        store.dispose()
    lead = next(x for x in leads if x.entity_id == VICTIM)
    return {"lead": lead.id, "network": lead.network_id, "entry": str(entry), "out": str(out)}


def _leaked(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


@pytest.mark.parametrize("case", CONSULTING, ids=lambda c: " ".join(c.args))
def test_each_consultation_is_logged_and_masks_without_a_reason(
        small_world: World, case: Consulting, tmp_path: Path) -> None:
    filled = placeholders(small_world, tmp_path)
    args = [a.format(**filled) for a in case.args]
    record = case.record.format(**filled)

    before = last_id(small_world)
    plain = invoke(args, small_world)
    if case.export:
        assert plain.exit_code == 2 and "--reason" in plain.stderr, plain.stderr
        assert entries_after(small_world, before) == []
    else:
        assert plain.exit_code == 0, (plain.stdout, plain.stderr, plain.exception)
        [entry] = entries_after(small_world, before)
        detail = json.loads(entry.detail or "{}")
        assert (entry.login, entry.unit, entry.action, entry.record_kind, entry.record_id,
                entry.reason) == ("operateur.test", "OCRTEH", case.action, case.kind, record,
                                  None)
        assert detail["command"] == case.command
        if case.sensitive:
            assert _leaked(plain.stdout) == []
            assert detail["masked"] and not set(detail["masked"]) & set(detail["records"])
            assert "--reason" in plain.stderr
        else:
            assert detail["masked"] == []
    if not (case.sensitive or case.export):
        return

    before = last_id(small_world)
    shown = invoke([*args, "--reason", REASON], small_world)
    assert shown.exit_code == 0, (shown.stdout, shown.stderr, shown.exception)
    [entry] = entries_after(small_world, before)
    detail = json.loads(entry.detail or "{}")
    assert (entry.login, entry.action, entry.record_kind, entry.record_id, entry.reason) == (
        "operateur.test", case.action, case.kind, record, REASON)
    assert detail["command"] == case.command and detail["masked"] == []
    if case.export:
        assert {VICTIM, MINOR, RUNAWAY} <= set(detail["records"])
    else:
        earlier = json.loads(next(e for e in entries_after(small_world, 0)
                                  if e.id == before).detail or "{}")
        assert set(earlier["masked"]) <= set(detail["records"])
    if case.revealed:
        assert case.revealed in shown.stdout and case.revealed not in plain.stdout


def test_the_real_command_logs_under_the_operators_name(small_world: World) -> None:
    before = last_id(small_world)
    masked = run_faisceau(["graph", "key-persons", "--min-size", "2"], small_world.env)
    assert _leaked(masked.stdout) == [] and "identité masquée" in masked.stdout
    assert "--reason MOTIF" in masked.stderr
    [entry] = entries_after(small_world, before)
    detail = json.loads(entry.detail or "{}")
    assert (entry.login, entry.unit, detail["command"], entry.reason) == (
        "operateur.test", "OCRTEH", "graph key-persons", None)
    assert {VICTIM, RUNAWAY} <= set(detail["masked"]) and SUSPECT in detail["records"]


@pytest.mark.parametrize("args, message", [
    (["cases", "show", "INCONNU"], "procédure inconnue"),
    (["leads", "show", "l-inconnue"], "piste inconnue"),
    (["people", "show", "INCONNU"], "personne inconnue"),
    (["graph", "timeline", "INCONNU"], "INCONNU"),
    (["networks", "show", "n-inconnu"], "no network"),
    (["quarantine", "show", "99999"], "no quarantine entry"),
    (["cases", "show", "C1", "--reason", "parce que"], "motif de consultation de 10 à 300"),
    (["cases", "show", "C1", "--reason", "x" * 301], "motif de consultation de 10 à 300"),
])
def test_a_refused_request_says_why_and_logs_nothing(small_world: World, args: list[str],
                                                     message: str) -> None:
    before = last_id(small_world)
    refused = invoke(args, small_world)
    assert refused.exit_code == 2 and message in refused.stderr, refused.stderr
    assert refused.stdout == ""
    assert entries_after(small_world, before) == []


def test_a_blank_reason_is_no_reason(small_world: World) -> None:
    before = last_id(small_world)
    shown = invoke(["cases", "show", "C1", "--reason", "   "], small_world)
    assert shown.exit_code == 0 and _leaked(shown.stdout) == []
    [entry] = entries_after(small_world, before)
    assert entry.reason is None


@pytest.mark.parametrize("args, literal", [
    (["cases", "show", "C1"], SUSPECT_NAME),
    (["people", "show", SUSPECT], SUSPECT_NAME),
    (["graph", "neighbours", SUSPECT], SUSPECT_NAME),
    (["graph", "key-persons", "--min-size", "2"], SUSPECT_NAME),
    (["quarantine", "list"], "[/]hier"),
    (["quarantine", "show", "{entry}"], QUARANTINED_NAME),
])
def test_what_the_store_holds_is_printed_as_it_is_never_as_markup(
        small_world: World, args: list[str], literal: str, tmp_path: Path) -> None:
    filled = placeholders(small_world, tmp_path)
    printed = invoke([a.format(**filled) for a in args], small_world)
    assert printed.exit_code == 0, (printed.stderr, printed.exception)
    assert literal in printed.stdout


def test_sensitive_records_follow_the_resolved_person_and_what_names_it(
        small_world: World) -> None:
    store = small_world.open()
    try:
        with store.begin() as conn:
            found = sensitive_records(conn, [VICTIM, MINOR, ACCOUNT, RUNAWAY, "F1", SUSPECT,
                                             NAMESAKE, "C1", "INCONNU"])
    finally:
        store.dispose()
    # The runaway report's event names the runaway; the account is the victim's.
    assert found == {VICTIM, MINOR, ACCOUNT, RUNAWAY, "F1"}


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=400))
def test_a_reason_is_none_its_words_or_refused(text: str) -> None:
    low, high = rules().min_reason, rules().max_reason
    words = " ".join(text.split())
    try:
        reason = checked_reason(text)
    except typer.Exit as refused:
        assert refused.exit_code == 2 and not low <= len(words) <= high and words
        return
    assert reason == (words or None)
    assert reason is None or (low <= len(reason) <= high and checked_reason(reason) == reason)


def test_the_demo_logs_the_listings_it_prints(store_settings: Settings, tmp_path: Path,
                                               store_env: dict[str, str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    tiny = Params(scale=0.005, days=3, seed=3, images=False, gzip=False)
    monkeypatch.setitem(PRESETS, "demo", tiny)
    env: dict[str, str | None] = {"FAISCEAU_DATABASE_URL": None, **store_env,
                                  "FAISCEAU_ANALYST": "operateur.demo"}
    done = CliRunner().invoke(app, ["demo", "--data", str(tmp_path / "demo")], env=env)
    assert done.exit_code == 0, (done.stdout, done.stderr, done.exception)
    store = open_store(store_settings)
    try:
        with store.begin() as conn:
            entries = list(audit.entries(conn, login="operateur.demo"))
    finally:
        store.dispose()
    seen = [(e.action, e.record_kind, e.record_id, json.loads(e.detail or "{}")["command"])
            for e in entries]
    assert seen == [("view", "network", "liste", "demo"), ("view", "lead", "liste", "demo")]
