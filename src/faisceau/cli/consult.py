"""The one path for every command that prints personal data: read, mask, log, then print.

The command line is the operator's access to the whole store (no need-to-know filter), but
each of its consultations is logged like the web's (Directive (EU) 2016/680, art. 25): under
the operator's name (``common.analyst_name``), for the central office. A command that prints
personal data reads inside ``consultation``:

- the read and the log entry are one transaction, committed before anything is printed: what
  was printed was logged, and a refused request (an unknown id) logs nothing;
- a sensitive record (``share.access.is_sensitive``: a victim, a runaway report, a minor of
  any category, a resolved person holding one, and the records that name such a person) has
  its identifying values masked unless the operator gives a reason (``--reason``):
  ``Consultation.reveals`` is the one decision, and the entry lists the records shown and
  those masked, with the reason;
- every command that prints no personal data is listed, with why, in ``consultations.toml``;
  ``tests/cli/test_consultations.py`` fails for a command that is neither listed there nor
  run by its logging test.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Annotated, Any

import typer
from rich.text import Text
from sqlalchemy.engine import Connection

from faisceau.cli.common import analyst_name, console, fail, opened_store
from faisceau.share import audit
from faisceau.share.access import Viewer, is_sensitive, policy
from faisceau.store.bulk import fetch, fetch_in

# What a masked value reads as, as on the web's pages.
MASKED = "identité masquée"

Reason = Annotated[str | None, typer.Option(
    "--reason", metavar="MOTIF",
    help="Why you consult sensitive records (victims, runaway reports, minors): with it "
         "they are shown and the reason is logged; without it they are masked.")]


@dataclass(frozen=True)
class Rules:
    min_reason: int
    max_reason: int
    no_personal_data: Mapping[str, str]  # command -> why it prints none


@cache
def rules() -> Rules:
    raw = tomllib.loads((resources.files(__package__) / "consultations.toml")
                        .read_text("utf-8"))
    return Rules(int(raw["reason"]["min_length"]), int(raw["reason"]["max_length"]),
                 dict(raw["no_personal_data"]))


def checked_reason(text: str | None) -> str | None:
    """The reason given, with its spaces collapsed; None when none was given. One that is
    too short to mean anything (or too long) is refused on one line, exit status 2."""
    if text is None or not text.strip():
        return None
    reason = " ".join(text.split())
    low, high = rules().min_reason, rules().max_reason
    if not low <= len(reason) <= high:
        raise fail(f"motif de consultation de {low} à {high} caractères "
                   f"({len(reason)} donnés)")
    return reason


@dataclass
class Consultation:
    """What one command read, in its transaction (``conn``), and what it may print."""

    conn: Connection
    command: str
    reason: str | None
    detail: dict[str, Any] = field(default_factory=dict)
    _shown: dict[str, None] = field(default_factory=dict)
    _masked: dict[str, None] = field(default_factory=dict)
    _notes: list[Text] = field(default_factory=list)

    def shows(self, record_ids: Iterable[str]) -> None:
        """Records the command prints that are not sensitive (networks, ads, cases...)."""
        for record_id in record_ids:
            self._shown[record_id] = None

    def reveals(self, record_id: str, sensitive: bool) -> bool:
        """Whether the record's identifying values may be printed: a sensitive one only with
        a reason. Either way the record is noted for the log (shown, or masked)."""
        if sensitive and self.reason is None:
            self._masked[record_id] = None
            return False
        self._shown[record_id] = None
        return True

    def reveals_all(self, sensitive: Iterable[str]) -> None:
        """For an export, which cannot be masked without corrupting it for the tool that
        reads it: refused (one line, exit status 2) when it holds sensitive records and no
        reason was given; else those records are noted as shown, with the reason."""
        held = sorted(sensitive)
        if held and self.reason is None:
            raise fail(f"l'export contient {len(held)} personne(s) sensible(s) (victimes, "
                       "signalements de fugue, mineurs) : donner un motif avec --reason "
                       "MOTIF (journalisé)")
        self.shows(held)

    def note(self, text: str) -> None:
        """A line for standard error, printed once the entry is written (like the rest)."""
        self._notes.append(Text(text, style="dim"))

    @property
    def shown(self) -> list[str]:
        return list(self._shown)

    @property
    def masked(self) -> list[str]:
        return list(self._masked)


@contextmanager
def consultation(command: str, record_kind: str, record_id: str, *,
                 reason: str | None = None, action: str = "view") -> Iterator[Consultation]:
    """Read in the block (``Consultation.conn``), deciding what is shown with ``reveals``;
    the entry is appended in the same transaction when the block ends without error, and the
    command prints after the block. ``command`` is the command as typed (``leads list``)."""
    why = checked_reason(reason)
    with opened_store() as store, store.begin() as conn:
        done = Consultation(conn, command, why)
        yield done
        # The read may have left the connection streaming (``intel.facts.all_statements``
        # sets ``stream_results`` on it, and PostgreSQL cannot DECLARE a cursor for an
        # INSERT): the entry is an ordinary statement.
        conn.execution_options(stream_results=False, yield_per=None)
        viewer = Viewer(analyst_name(None), "operator", policy().central_unit)
        # A change (an account created, unlocked...) reads no records: its entry says what
        # changed, not which records were shown.
        read = {} if action == "change" else {"records": done.shown, "masked": done.masked}
        audit.record(conn, viewer, action, record_kind, record_id, reason=why,
                     detail={"command": command, **read, **done.detail})
    if done.masked:
        done.note(f"{len(done.masked)} fiche(s) sensible(s) masquée(s) (victimes, "
                  "signalements de fugue, mineurs) : --reason MOTIF pour les afficher, "
                  "consultation journalisée avec le motif.")
    for line in done._notes:
        console.print(line, soft_wrap=True)


# --- Which records are sensitive -------------------------------------------------------------


def sensitive_records(conn: Connection, ids: Sequence[str]) -> set[str]:
    """The case-file records among ``ids`` whose data needs a reason: a person whose
    resolved person holds a sensitive record (a victim merged with a suspect is still a
    victim), or any other record that names such a person (a victim's online account, a
    runaway report's event)."""
    asked = sorted(set(ids))
    rows = fetch_in(conn, "SELECT id, schema, canonical_id FROM intel_entity", "id", asked)
    person_of = {r[0]: r[2] for r in rows if r[1] == "Person"}
    others = [r[0] for r in rows if r[1] != "Person"]
    named = fetch_in(conn, "SELECT entity_id, value FROM intel_statement", "entity_id", others)
    referred = sorted({value for _, value in named})
    people = {r[0]: r[2] for r in fetch_in(
        conn, "SELECT id, schema, canonical_id FROM intel_entity", "id", referred)
        if r[1] == "Person"}
    flagged = _sensitive_resolved(conn, sorted({*person_of.values(), *people.values()}))
    out = {rid for rid, canonical in person_of.items() if canonical in flagged}
    out |= {owner for owner, value in named if people.get(value) in flagged}
    return out


def _sensitive_resolved(conn: Connection, canonical_ids: Sequence[str]) -> set[str]:
    rows = fetch_in(conn, "SELECT canonical_id, category, minor FROM intel_entity",
                    "canonical_id", list(canonical_ids))
    return {str(r[0]) for r in rows if is_sensitive(r[1], r[2])}


def sensitive_people(conn: Connection) -> set[str]:
    """The resolved ids (``canonical_id``) of every sensitive person: the graph's person
    nodes to mask."""
    rows = fetch(conn, "SELECT canonical_id, category, minor FROM intel_entity "
                 "WHERE schema = 'Person'", ())
    return {str(r[0]) for r in rows if is_sensitive(r[1], r[2])}
