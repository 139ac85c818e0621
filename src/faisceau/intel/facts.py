"""The case files' facts read back as followthemoney statements, grouped by the resolved
entity they belong to, for exports and for showing a merged entity with where each value
came from."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from followthemoney.statement import Statement
from sqlalchemy import text
from sqlalchemy.engine import Connection

from faisceau.store.bulk import fetch_in, iso_utc

_COLUMNS = ("s.id, s.entity_id, e.canonical_id, s.prop, s.schema, s.value, s.dataset, "
            "s.original_value, s.first_seen, s.last_seen, s.origin, s.case_id, s.unit, "
            "s.fact_date")
BATCH = 20_000


def origin_text(origin: str, case_id: str | None, unit: str | None,
                fact_date: str | None) -> str:
    """The provenance FtM's one ``origin`` field carries: file and line, then case, unit and
    date of the fact when known (``people.csv:12 · affaire C00012 · SD-75 · 2026-03-01``)."""
    parts = [origin]
    if case_id:
        parts.append(f"affaire {case_id}")
    if unit:
        parts.append(unit)
    if fact_date:
        parts.append(fact_date)
    return " · ".join(parts)


def _statement(row: Sequence[object]) -> Statement:
    (sid, entity_id, canonical_id, prop, schema, value, dataset, original, first, last,
     origin, case_id, unit, fact_date) = row
    return Statement(
        id=str(sid), entity_id=str(entity_id), canonical_id=str(canonical_id), prop=str(prop),
        schema=str(schema), value=str(value), dataset=str(dataset),
        original_value=None if original is None else str(original),
        first_seen=iso_utc(first), last_seen=iso_utc(last),
        origin=origin_text(str(origin), case_id, unit, fact_date))  # type: ignore[arg-type]


def all_statements(conn: Connection) -> Iterator[Statement]:
    """Every statement, ordered by resolved entity then source entity, streamed."""
    result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(text(
        f"SELECT {_COLUMNS} FROM intel_statement s JOIN intel_entity e ON e.id = s.entity_id "
        "ORDER BY e.canonical_id, s.entity_id, s.prop, s.value, s.dataset"))
    for row in result:
        yield _statement(row)


def statements_of(conn: Connection, canonical_ids: Sequence[str]) -> list[Statement]:
    """The statements of the given resolved entities (all their source records)."""
    rows = fetch_in(conn, f"SELECT {_COLUMNS} FROM intel_statement s JOIN intel_entity e "
                    "ON e.id = s.entity_id", "e.canonical_id", list(canonical_ids))
    return [_statement(r) for r in sorted(rows, key=lambda r: (r[2], r[1], r[3], r[5], r[6]))]


def statements_of_records(conn: Connection, entity_ids: Sequence[str]) -> list[Statement]:
    """The statements of the given source records, each record its own entity (its
    ``canonical_id`` is its id): what one case file holds, without the values that other
    records resolved to the same person bring from other files."""
    rows = fetch_in(conn, f"SELECT {_COLUMNS} FROM intel_statement s JOIN intel_entity e "
                    "ON e.id = s.entity_id", "s.entity_id", list(entity_ids))
    own = [(*r[:2], r[1], *r[3:]) for r in rows]
    return [_statement(r) for r in sorted(own, key=lambda r: (r[1], r[3], r[5], r[6]))]
