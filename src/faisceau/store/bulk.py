"""Set-based reads and writes for the hot paths, one statement per chunk whatever its size.

A list of keys is passed as one parameter (a JSON array read with ``json_each`` on SQLite,
an array with ``= ANY`` on PostgreSQL) and rows are read straight from the driver: compiling
thousands of bound parameters and building ORM-style rows would cost more than the query.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection

_temp_names = itertools.count()


def _in_list(conn: Connection, column: str) -> str:
    if conn.dialect.name == "sqlite":
        return f"{column} IN (SELECT value FROM json_each(?))"
    return f"{column} = ANY(%s)"


def _param(conn: Connection, values: Sequence[Any]) -> Any:
    if conn.dialect.name == "sqlite":
        return orjson.dumps(list(values)).decode()
    return list(values)


def mark(conn: Connection) -> str:
    return "?" if conn.dialect.name == "sqlite" else "%s"


def as_datetime(value: Any) -> datetime:
    """The driver's value of a DateTime column: SQLite hands back text."""
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def utc_now() -> datetime:
    """Now, as the store keeps moments: UTC, without offset."""
    return datetime.now(UTC).replace(tzinfo=None)


def iso_utc(value: Any) -> str | None:
    """A stored moment (or the driver's text of one) as ISO 8601 with "Z"; None stays None."""
    return as_datetime(value).isoformat() + "Z" if value is not None else None


def fetch(conn: Connection, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Rows as the driver gives them (tuples), in the connection's transaction."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


# Keys per statement for the helpers below: one JSON array or one PostgreSQL array each.
KEYS_PER_STATEMENT = 50_000


def fetch_in(conn: Connection, select: str, column: str,
             values: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Rows of ``select`` (a SELECT without WHERE) whose ``column`` is one of ``values``,
    a statement per chunk of keys."""
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(values), KEYS_PER_STATEMENT):
        chunk = values[start : start + KEYS_PER_STATEMENT]
        rows += fetch(conn, f"{select} WHERE {_in_list(conn, column)}", (_param(conn, chunk),))
    return rows


def delete_in(conn: Connection, table: str, column: str, values: Sequence[Any]) -> None:
    """Delete the rows of ``table`` whose ``column`` is one of ``values``."""
    for start in range(0, len(values), KEYS_PER_STATEMENT):
        chunk = values[start : start + KEYS_PER_STATEMENT]
        conn.exec_driver_sql(f"DELETE FROM {table} WHERE {_in_list(conn, column)}",
                             (_param(conn, chunk),))


def ads_by_key(conn: Connection, source: str, ad_ids: Sequence[str]) -> list[tuple[Any, ...]]:
    """(id, ad_id, first_seen, last_seen, sightings, versions, current_version_id)."""
    sql = ("SELECT id, ad_id, first_seen, last_seen, sightings, versions, current_version_id "
           f"FROM ad WHERE source = {mark(conn)} AND {_in_list(conn, 'ad_id')}")
    return fetch(conn, sql, (source, _param(conn, ad_ids)))


def versions_of(conn: Connection, ad_pks: Sequence[int]) -> list[tuple[Any, ...]]:
    """(id, ad_pk, content_hash, first_seen, last_seen, sightings) of these ads' versions."""
    sql = ("SELECT id, ad_pk, content_hash, first_seen, last_seen, sightings FROM ad_version "
           f"WHERE {_in_list(conn, 'ad_pk')}")
    return fetch(conn, sql, (_param(conn, ad_pks),))


def sightings_of(conn: Connection, ad_pks: Sequence[int], low: datetime,
                 high: datetime) -> list[tuple[Any, ...]]:
    """(ad_pk, seen_at) of these ads seen between ``low`` and ``high`` inclusive."""
    m = mark(conn)
    sql = (f"SELECT ad_pk, seen_at FROM sighting WHERE {_in_list(conn, 'ad_pk')} "
           f"AND seen_at >= {m} AND seen_at <= {m}")
    return fetch(conn, sql, (_param(conn, ad_pks), low, high))


def line_hashes(conn: Connection, file_id: int, first: int, last: int) -> dict[int, str]:
    """Line number to line hash of the sightings already read from this file's lines."""
    m = mark(conn)
    sql = (f"SELECT line, line_hash FROM sighting WHERE file_id = {m} "
           f"AND line >= {m} AND line <= {m}")
    return {int(line): str(digest) for line, digest in fetch(conn, sql, (file_id, first, last))}


def _datetime_text(value: datetime) -> str:
    return value.isoformat(" ", "microseconds")


# The text form SQLAlchemy itself stores for DateTime on SQLite, so both paths agree.
# SQLAlchemy converts its own parameters before they reach the driver: this only serves
# the raw statements below.
sqlite3.register_adapter(datetime, _datetime_text)


def allocate_ids(conn: Connection, table: str, count: int) -> list[int]:
    """``count`` fresh primary keys for ``table``.

    On SQLite the caller must hold the ingest lock (single writer); on PostgreSQL the
    table's sequence hands them out, safe under any concurrency.
    """
    if count <= 0:
        return []
    if conn.dialect.name == "sqlite":
        top = conn.exec_driver_sql(f"SELECT COALESCE(MAX(id), 0) FROM {table}").scalar_one()
        return list(range(int(top) + 1, int(top) + 1 + count))
    rows = conn.exec_driver_sql(
        f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
        "FROM generate_series(1, %s)", (count,)).all()
    return [int(r[0]) for r in rows]


def insert_rows(conn: Connection, table: str, columns: Sequence[str],
                rows: Sequence[Sequence[Any]]) -> None:
    """Append rows: ``executemany`` on SQLite, ``COPY`` on PostgreSQL."""
    if not rows:
        return
    names = ", ".join(columns)
    raw = conn.connection.driver_connection
    if conn.dialect.name == "sqlite":
        marks = ", ".join("?" * len(columns))
        cursor = raw.cursor()  # type: ignore[union-attr]
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
        cursor.close()
        return
    with raw.cursor() as cursor, cursor.copy(  # type: ignore[union-attr]
            f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _copy_to_temp(cursor: Any, table: str, names: str, rows: Sequence[Sequence[Any]],
                  prefix: str) -> str:
    """PostgreSQL: a temporary table shaped like ``table`` (the ``names`` columns), filled by
    one COPY; returns its name. It is dropped at commit."""
    temp = f"_{prefix}_{table}_{next(_temp_names)}"
    cursor.execute(f"CREATE TEMP TABLE {temp} ON COMMIT DROP AS "
                   f"SELECT {names} FROM {table} WITH NO DATA")
    with cursor.copy(f"COPY {temp} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    return temp


def update_rows(conn: Connection, table: str, key: str, columns: Sequence[str],
                rows: Sequence[Sequence[Any]]) -> None:
    """Set ``columns`` of the rows whose ``key`` is the last item of each row."""
    if not rows:
        return
    raw = conn.connection.driver_connection
    if conn.dialect.name == "sqlite":
        sets = ", ".join(f"{c} = ?" for c in columns)
        cursor = raw.cursor()  # type: ignore[union-attr]
        cursor.executemany(f"UPDATE {table} SET {sets} WHERE {key} = ?", rows)
        cursor.close()
        return
    # PostgreSQL: one COPY into a temporary table, then one set-based UPDATE.
    names = ", ".join([*columns, key])
    with raw.cursor() as cursor:  # type: ignore[union-attr]
        temp = _copy_to_temp(cursor, table, names, rows, "upd")
        sets = ", ".join(f"{c} = s.{c}" for c in columns)
        cursor.execute(f"UPDATE {table} AS t SET {sets} FROM {temp} AS s WHERE t.{key} = s.{key}")


def upsert_rows(conn: Connection, table: str, key: str, columns: Sequence[str],
                rows: Sequence[Sequence[Any]], update: Sequence[str]) -> None:
    """Insert rows, or set ``update`` columns of those whose ``key`` exists already."""
    if not rows:
        return
    names = ", ".join(columns)
    sets = ", ".join(f"{c} = excluded.{c}" for c in update)
    raw = conn.connection.driver_connection
    if conn.dialect.name == "sqlite":
        marks = ", ".join("?" * len(columns))
        cursor = raw.cursor()  # type: ignore[union-attr]
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks}) "
                           f"ON CONFLICT ({key}) DO UPDATE SET {sets}", rows)
        cursor.close()
        return
    # PostgreSQL: one COPY into a temporary table, then one set-based upsert.
    with raw.cursor() as cursor:  # type: ignore[union-attr]
        temp = _copy_to_temp(cursor, table, names, rows, "ups")
        cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {temp} "
                       f"ON CONFLICT ({key}) DO UPDATE SET {sets}")


def add_counts(conn: Connection, table: str, keys: Sequence[str], counter: str,
               rows: Sequence[Sequence[Any]]) -> None:
    """Add to ``counter`` of the rows whose ``keys`` are given (inserting those that are
    missing): each row is the key values then the amount."""
    if not rows:
        return
    names = ", ".join([*keys, counter])
    conflict = (f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {counter} = "
                f"{table}.{counter} + excluded.{counter}")
    raw = conn.connection.driver_connection
    if conn.dialect.name == "sqlite":
        cursor = raw.cursor()  # type: ignore[union-attr]
        marks = ", ".join("?" * (len(keys) + 1))
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks}) {conflict}", rows)
        cursor.close()
        return
    # PostgreSQL: one COPY into a temporary table, then one set-based insert.
    with raw.cursor() as cursor:  # type: ignore[union-attr]
        temp = _copy_to_temp(cursor, table, names, rows, "add")
        cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {temp} {conflict}")


def serialise(conn: Connection, name: str) -> None:
    """Writers named ``name`` one at a time until the transaction ends, each reading what
    the previous one committed: a transaction-scoped advisory lock on PostgreSQL; on SQLite,
    a first write statement, which takes the database's write lock for the transaction."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext(%s))", (name,))
    else:
        conn.exec_driver_sql("UPDATE detect_state SET runs = runs WHERE 1 = 0")


# The tables each bulk stage fills; their statistics are refreshed when it ends.
MONITORING_TABLES = ("ad", "ad_version", "sighting", "ad_value", "ad_image", "link_features",
                     "link_key", "network", "ad_network", "network_evidence", "network_event",
                     "score_features", "ad_minor", "network_score")
CASE_FILE_TABLES = ("intel_statement", "intel_entity")


def refresh_statistics(store: Any, tables: Sequence[str]) -> None:
    """Refresh the planner's statistics of tables a bulk stage has just filled.

    PostgreSQL plans with what it last sampled: after a first bulk load, a table it still
    believes empty gets nested loops over a million rows (a network page took 0.9 s instead
    of 10 ms on a national month), until autovacuum comes by. ANALYZE samples a bounded
    number of rows, so its cost does not grow with the history. SQLite's ``PRAGMA
    optimize`` does the same where it judges it useful."""
    with store.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            for table in tables:
                conn.exec_driver_sql(f"ANALYZE {table}")
        else:
            conn.exec_driver_sql("PRAGMA optimize")
        conn.commit()


STAGES = ("networks", "scores", "decisions", "case_files", "people", "leads")


def note_change(conn: Connection, stage: str) -> None:
    """Count one change by ``stage`` in the caller's transaction (``store_change``): readers
    that keep derived data in memory compare these counters to know when to rebuild."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage: {stage}")
    conn.exec_driver_sql(
        f"INSERT INTO store_change (stage, version, changed_at) VALUES ({mark(conn)}, 1, "
        f"{mark(conn)}) ON CONFLICT (stage) DO UPDATE SET version = store_change.version + 1, "
        "changed_at = excluded.changed_at", (stage, utc_now()))


def changes(conn: Connection) -> tuple[tuple[str, int], ...]:
    """Every stage's change counter, in order: equal tuples, nothing changed."""
    return tuple((str(stage), int(version)) for stage, version in fetch(
        conn, "SELECT stage, version FROM store_change ORDER BY stage", ()))
