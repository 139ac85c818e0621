"""Set-based lookups for the ingestion hot path, one query per chunk whatever its size.

A list of keys is passed as one parameter (a JSON array read with ``json_each`` on SQLite,
an array with ``= ANY`` on PostgreSQL) and rows are read straight from the driver: compiling
thousands of bound parameters and building ORM-style rows would cost more than the query.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Sequence
from datetime import datetime
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


def fetch(conn: Connection, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Rows as the driver gives them (tuples), in the connection's transaction."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


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
    temp = f"_upd_{table}_{next(_temp_names)}"
    names = ", ".join([*columns, key])
    with raw.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(f"CREATE TEMP TABLE {temp} ON COMMIT DROP AS "
                       f"SELECT {names} FROM {table} WITH NO DATA")
        with cursor.copy(f"COPY {temp} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
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
    temp = f"_ups_{table}_{next(_temp_names)}"
    with raw.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(f"CREATE TEMP TABLE {temp} ON COMMIT DROP AS "
                       f"SELECT {names} FROM {table} WITH NO DATA")
        with cursor.copy(f"COPY {temp} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
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
    temp = f"_add_{table}_{next(_temp_names)}"
    with raw.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(f"CREATE TEMP TABLE {temp} ON COMMIT DROP AS "
                       f"SELECT {names} FROM {table} WITH NO DATA")
        with cursor.copy(f"COPY {temp} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {temp} {conflict}")
