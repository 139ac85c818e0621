"""Reading case files back: the list of cases, and one case with its people kept apart by
the categories of Directive (EU) 2016/680 (suspects, victims, witnesses, relations), and
the rest of what the file holds (phones, accounts, vehicles, accommodations, assets...)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy.engine import Connection

from faisceau.store.bulk import fetch, fetch_in, mark

# Directive 2016/680, art. 6: categories of data subjects, shown apart, in this order.
CATEGORY_ORDER = ("suspect", "victim", "witness", "relation")
CATEGORY_LABELS = {"suspect": "suspects / mis en cause", "victim": "victimes",
                   "witness": "témoins", "relation": "personnes en relation",
                   "runaway": "signalements de fugue", "fined_client": "clients verbalisés"}


@dataclass(frozen=True)
class CaseRow:
    case_id: str
    number: str | None
    unit: str | None
    departement: str | None
    status: str | None
    opened: str | None
    closed: str | None
    offences: list[str]
    people: dict[str, int]  # category -> count


@dataclass
class CaseDetail:
    case: CaseRow
    properties: dict[str, list[str]]
    people: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by category
    others: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by schema


def _properties(conn: Connection, entity_ids: list[str]) -> dict[str, dict[str, list[str]]]:
    if not entity_ids:
        return {}
    rows = fetch_in(conn, "SELECT DISTINCT entity_id, prop, value FROM intel_statement",
                    "entity_id", entity_ids)
    out: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for entity_id, prop, value in sorted(rows):
        if prop != "id":
            out[entity_id][prop].append(value)
    return out


def _first(properties: dict[str, list[str]], prop: str) -> str | None:
    values = properties.get(prop)
    return values[0] if values else None


def role_label(code: str | None) -> str | None:
    """A role's French label (the first the CSV layout gives for the code)."""
    if code is None:
        return None
    labels = _role_labels()
    return labels.get(code, code)


@cache
def _role_labels() -> dict[str, str]:
    # casefiles brings followthemoney (seconds to import): only when a label is asked for.
    from faisceau.intel.casefiles import layout_labels

    out: dict[str, str] = {}
    for label, code in layout_labels()["role"].items():
        out.setdefault(code, label)
    return out


def list_cases(conn: Connection) -> list[CaseRow]:
    cases = fetch(conn, "SELECT id, unit, departement, status, first_date, last_date "
                  "FROM intel_entity WHERE schema = 'CourtCase' ORDER BY id", ())
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for case_id, category, n in fetch(
            conn, "SELECT case_id, category, COUNT(*) FROM intel_entity WHERE schema = "
            "'Person' AND case_id IS NOT NULL GROUP BY case_id, category", ()):
        counts[case_id][category or "?"] = int(n)
    props = _properties(conn, [c[0] for c in cases])
    rows = []
    for case_id, unit, departement, status, opened, _last in cases:
        p = props.get(case_id, {})
        rows.append(CaseRow(case_id, _first(p, "caseNumber"), unit, departement,
                            status or _first(p, "status"), opened, _first(p, "closeDate"),
                            list(p.get("category", [])), counts.get(case_id, {})))
    return rows


def case_detail(conn: Connection, case_id: str) -> CaseDetail | None:
    """A case and everything its file holds, or None if the store has no such case."""
    rows = [r for r in list_cases(conn) if r.case_id == case_id]
    if not rows:
        return None
    members = fetch(conn, f"SELECT id, schema, caption, category, role, status, minor, "
                    f"canonical_id FROM intel_entity WHERE case_id = {mark(conn)} ORDER BY id",
                    (case_id,))
    props = _properties(conn, [m[0] for m in members])
    detail = CaseDetail(rows[0], dict(props.get(case_id, {})))
    for entity_id, schema, caption, category, role, status, minor, canonical in members:
        if entity_id == case_id or schema == "CourtCaseParty":
            continue
        item = {"id": entity_id, "caption": caption or entity_id, "role": role_label(role),
                "status": status, "minor": bool(minor), "resolved_as": canonical,
                "properties": {k: v for k, v in props.get(entity_id, {}).items()
                               if k != "keywords"}}
        if schema == "Person":
            detail.people.setdefault(category or "?", []).append(item)
        else:
            detail.others.setdefault(schema, []).append(item)
    detail.people = {c: detail.people[c] for c in sorted(
        detail.people, key=lambda c: CATEGORY_ORDER.index(c) if c in CATEGORY_ORDER else 99)}
    return detail
