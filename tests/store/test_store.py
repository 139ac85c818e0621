"""The store opens, migrates and matches the declared schema, on both backends."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from faisceau.config import Settings, settings_from_env
from faisceau.store import bulk, open_store
from faisceau.store.engine import alembic_config
from faisceau.store.schema import declared, metadata


def test_migrations_build_exactly_the_declared_schema(store_settings: Settings) -> None:
    store = open_store(store_settings)
    try:
        with store.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_name": declared})
            diff = compare_metadata(context, metadata)
        assert diff == [], "schema.py changed without a migration"
        tables = set(inspect(store.engine).get_table_names())
        assert {"ad", "ad_version", "sighting", "ad_value", "ad_image", "quarantine",
                "ingest_file"} <= tables
    finally:
        store.dispose()


def test_opening_twice_keeps_the_data_and_downgrade_upgrade_round_trips(
        store_settings: Settings) -> None:
    store = open_store(store_settings)
    with store.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO ingest_file (path, first_ingested_at, last_ingested_at, lines) "
            "VALUES ('x', '2026-01-01 00:00:00', '2026-01-01 00:00:00', 3)")
    store.dispose()
    again = open_store(store_settings)
    with again.begin() as conn:
        assert conn.exec_driver_sql("SELECT lines FROM ingest_file").scalar_one() == 3
    cfg = alembic_config(again.settings.url)
    with again.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert "ad" not in inspect(again.engine).get_table_names()
    again.dispose()
    third = open_store(store_settings)
    assert "ad" in inspect(third.engine).get_table_names()
    third.dispose()


def test_embedded_store_is_created_on_first_use(tmp_path) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "a" / "b"
    settings = settings_from_env({"FAISCEAU_HOME": str(home)})
    assert settings.embedded and not home.exists()
    store = open_store(settings)
    store.dispose()
    assert (home / "faisceau.sqlite").is_file()


def test_database_url_wins_over_home() -> None:
    settings = settings_from_env({"FAISCEAU_HOME": "/x",
                                  "FAISCEAU_DATABASE_URL": "postgresql+psycopg://h/db"})
    assert not settings.embedded and settings.url == "postgresql+psycopg://h/db"
    assert settings_from_env({}).url.endswith("faisceau-data/faisceau.sqlite")


def test_counts_add_up_across_batches_and_keys(store_settings: Settings) -> None:
    store = open_store(store_settings)
    keys = ("departement", "minutes", "price")
    with store.begin() as conn:
        bulk.add_counts(conn, "price_histogram", keys, "versions",
                        [("75", 60, 150, 2), ("75", 30, 100, 1)])
    with store.begin() as conn:
        bulk.add_counts(conn, "price_histogram", keys, "versions",
                        [("75", 60, 150, 3), ("", 60, 150, 1)])
        rows = sorted(tuple(r) for r in conn.execute(text(
            "SELECT departement, minutes, price, versions FROM price_histogram")))
    store.dispose()
    assert rows == [("", 60, 150, 1), ("75", 30, 100, 1), ("75", 60, 150, 5)]
