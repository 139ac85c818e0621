"""Opening the store: engine creation, backend tuning, and migration to the current schema."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from faisceau.config import Settings, settings_from_env

# Run with the store's settings once a ``Store.begin`` transaction has committed.
AfterCommit = Callable[[Settings], None]
_TRANSACTION = "faisceau.transaction"


@dataclass
class _Transaction:
    """What ``Store.begin`` keeps on the connection while its transaction lasts."""

    settings: Settings
    after_commit: dict[str, AfterCommit]


def after_commit(conn: Connection, key: str, action: AfterCommit) -> AfterCommit | None:
    """Have ``action`` run once the ``Store.begin`` transaction ``conn`` is in has committed
    (never if it rolls back), unless an action is registered under ``key`` already in this
    transaction: that one stays. Returns the action registered under ``key`` (for callers to
    add to it), or None, registering nothing, when ``conn`` is not in a ``Store.begin``."""
    transaction: _Transaction | None = conn.info.get(_TRANSACTION)
    if transaction is None:
        return None
    return transaction.after_commit.setdefault(key, action)


def transaction_settings(conn: Connection) -> Settings | None:
    """The settings of the store whose ``Store.begin`` transaction ``conn`` is in, or None."""
    transaction: _Transaction | None = conn.info.get(_TRANSACTION)
    return None if transaction is None else transaction.settings


class StoreUnavailable(RuntimeError):
    """The store cannot be reached or created; the message is one line for the user."""


@dataclass
class Store:
    """An open store: its engine and what kind it is."""

    engine: Engine
    settings: Settings

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction: committed on success, rolled back on any error or kill. What was
        registered with ``after_commit`` runs once it has committed, never otherwise."""
        transaction = _Transaction(self.settings, {})
        with self.engine.begin() as conn:
            conn.info[_TRANSACTION] = transaction
            try:
                yield conn
            finally:
                # The DBAPI connection goes back to the pool: its info must not keep this.
                del conn.info[_TRANSACTION]
        for action in transaction.after_commit.values():
            action(self.settings)

    def dispose(self) -> None:
        self.engine.dispose()


def _tune_sqlite(dbapi_conn: Any, _record: Any) -> None:
    # WAL keeps readers unblocked and, with synchronous=NORMAL, survives a killed process
    # with every committed transaction intact.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=60000")
    cur.execute("PRAGMA cache_size=-65536")  # 64 MiB: bounded memory matters more
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("faisceau.store") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _create_engine(settings: Settings) -> Engine:
    if settings.embedded:
        try:
            settings.home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(
                f"cannot create the store directory {settings.home}: {exc.strerror}"
            ) from exc
        engine = create_engine(settings.url)
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    try:
        return create_engine(settings.url, pool_pre_ping=True)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StoreUnavailable(f"invalid FAISCEAU_DATABASE_URL: {exc}") from exc


def _describe(settings: Settings) -> str:
    if settings.embedded:
        return f"embedded store {settings.home}"
    return "PostgreSQL store (FAISCEAU_DATABASE_URL)"


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration; a no-op when it is already there."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    with engine.begin() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        if current == head:
            return
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def open_store(settings: Settings | None = None, *, upgrade: bool = True) -> Store:
    """Open (and create or migrate if needed) the store the settings point at."""
    settings = settings or settings_from_env()
    engine = _create_engine(settings)
    try:
        if upgrade:
            migrate(engine)
        else:
            with engine.connect():
                pass
    except OperationalError as exc:
        engine.dispose()
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise StoreUnavailable(f"cannot reach the {_describe(settings)}: {detail}") from exc
    return Store(engine=engine, settings=settings)
