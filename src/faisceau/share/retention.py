"""Retention: erase case-file people whose time is up, per category (``retention.toml``).

A person record is due when its category's period has run from its case's closing date
(people of open cases are kept), or, for reports outside cases, from the report's date. A
record resolved to the same person as a record still kept is kept too: the person is still
in a live file. Erasing removes the record's statements and its entity row, the links that
name it (case party, family, ownership...) and its leads; judgements stay (they name ids
only). ``apply_retention(..., dry_run=True)`` says what would go without touching anything.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources

from sqlalchemy.engine import Connection

from faisceau.intel.casefiles import link_schemata
from faisceau.store import Store
from faisceau.store.bulk import delete_in, fetch, fetch_in


@dataclass(frozen=True)
class RetentionRules:
    case_files: Mapping[str, int]  # category -> years after the case closed
    reports: Mapping[str, int]  # category -> years after the report


@cache
def rules() -> RetentionRules:
    raw = tomllib.loads((resources.files(__package__) / "retention.toml").read_text("utf-8"))
    return RetentionRules({k: int(v) for k, v in raw["case_files"].items()},
                          {k: int(v) for k, v in raw["reports"].items()})


@dataclass
class RetentionSummary:
    due: dict[str, int] = field(default_factory=dict)  # category -> records
    kept_as_resolved: int = 0  # due, but the same person is in a live file
    erased_entities: int = 0
    erased_statements: int = 0
    dry_run: bool = True


def _years_before(today: date, years: int) -> str:
    try:
        return today.replace(year=today.year - years).isoformat()
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28).isoformat()


def due_records(conn: Connection, today: date,
                settings: RetentionRules | None = None) -> tuple[dict[str, str], set[str]]:
    """(record id -> category) of the person records whose time is up, and the ids kept
    because they are resolved to a person still kept."""
    settings = settings or rules()
    closed = {r[0]: r[1] for r in fetch(
        conn, "SELECT entity_id, MAX(value) FROM intel_statement WHERE schema = 'CourtCase' "
        "AND prop = 'closeDate' GROUP BY entity_id", ())}
    people = fetch(conn, "SELECT id, category, case_id, canonical_id FROM intel_entity "
                   "WHERE schema = 'Person'", ())
    report_dates = {r[0]: r[1] for r in fetch(
        conn, "SELECT s.value, MAX(COALESCE(e.last_date, e.first_date)) FROM intel_statement s "
        "JOIN intel_entity e ON e.id = s.entity_id WHERE s.prop IN ('involved', 'entity') "
        "GROUP BY s.value", ())}
    due: dict[str, str] = {}
    for pid, category, case_id, _canonical in people:
        if category in settings.case_files and case_id:
            ended = closed.get(case_id)
            limit = _years_before(today, settings.case_files[category])
            if ended and ended[:10] < limit:
                due[pid] = category
        elif category in settings.reports:
            when = report_dates.get(pid)
            if when and when[:10] < _years_before(today, settings.reports[category]):
                due[pid] = category
    canonical_of = {pid: canonical for pid, _category, _case, canonical in people}
    members: dict[str, list[str]] = {}
    for pid, canonical in canonical_of.items():
        members.setdefault(canonical, []).append(pid)
    kept = {pid for pid in due
            if any(other not in due for other in members[canonical_of[pid]])}
    return {pid: c for pid, c in due.items() if pid not in kept}, kept


def apply_retention(store: Store, today: date | None = None, *, dry_run: bool = True,
                    settings: RetentionRules | None = None) -> RetentionSummary:
    today = today or date.today()
    summary = RetentionSummary(dry_run=dry_run)
    with store.begin() as conn:
        due, kept = due_records(conn, today, settings)
        summary.kept_as_resolved = len(kept)
        for category in due.values():
            summary.due[category] = summary.due.get(category, 0) + 1
        if dry_run or not due:
            return summary
        ids = sorted(due)
        # The links that name an erased person (case party, family, ownership) go with it.
        naming = {r[0] for r in fetch_in(conn, "SELECT entity_id, prop_type FROM "
                                         "intel_statement", "value", ids) if r[1] == "entity"}
        schemata = dict(fetch_in(conn, "SELECT id, schema FROM intel_entity", "id",
                                 sorted(naming - set(ids))))
        links = sorted(i for i, schema in schemata.items() if schema in link_schemata())
        doomed = ids + links
        summary.erased_statements = sum(int(r[0]) for r in fetch_in(
            conn, "SELECT COUNT(*) FROM intel_statement", "entity_id", doomed))
        delete_in(conn, "intel_statement", "entity_id", doomed)
        delete_in(conn, "intel_entity", "id", doomed)
        delete_in(conn, "intel_lead", "entity_id", ids)
        summary.erased_entities = len(doomed)
    return summary
