"""Where faisceau keeps its data, read from the environment.

``FAISCEAU_DATABASE_URL`` (a SQLAlchemy URL) selects a PostgreSQL deployment; without it the
embedded store lives in the directory ``FAISCEAU_HOME`` (default ``./faisceau-data``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = "faisceau-data"
EMBEDDED_DB_NAME = "faisceau.sqlite"


@dataclass(frozen=True)
class Settings:
    """The store location; ``database_url`` wins over ``home`` when both are set."""

    home: Path
    database_url: str | None

    @property
    def url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / EMBEDDED_DB_NAME}"

    @property
    def embedded(self) -> bool:
        return not self.database_url


def settings_from_env(environ: os._Environ[str] | dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    home = Path(env.get("FAISCEAU_HOME") or DEFAULT_HOME)
    return Settings(home=home, database_url=env.get("FAISCEAU_DATABASE_URL") or None)
