"""Alembic environment: runs migrations on the connection faisceau hands over, or on the URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from faisceau.store.schema import declared, metadata

config = context.config
target_metadata = metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite",
                          include_name=declared)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata,
                          render_as_batch=conn.dialect.name == "sqlite",
                          include_name=declared)
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
