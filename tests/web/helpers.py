"""What the web tests share: logging in through the login form, as a browser does; the SQL
statements a request runs."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def log_in(web: TestClient, login: str, password: str) -> TestClient:
    """Log in through the form (its CSRF token included); the session then holds."""
    form = TOKEN.search(web.get("/connexion").text)
    assert form
    done = web.post("/connexion", data={"identifiant": login, "mot_de_passe": password,
                                        "csrf_token": form.group(1), "suite": "/"},
                    follow_redirects=False)
    assert done.status_code == 303, done.text
    return web


class Statements:
    """Every SQL statement the store's connections run while ``recording``, as their text
    with literal values replaced by ``?`` (so that two requests for different ids compare).

    Installed on the driver's connections, below SQLAlchemy: most reads go through
    ``store.bulk.fetch``, which uses the driver's cursor directly."""

    LITERALS = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b")

    def __init__(self, engine: Engine) -> None:
        self.seen: list[str] = []
        self.recording = False
        event.listen(engine, "checkout", self._install)

    def _note(self, sql: object) -> None:
        if self.recording:
            self.seen.append(" ".join(self.LITERALS.sub("?", str(sql)).split()))

    def _install(self, dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        if isinstance(dbapi_conn, sqlite3.Connection):
            dbapi_conn.set_trace_callback(self._note)
            return
        note = self._note

        class Recording(psycopg.Cursor):
            def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
                note(query if isinstance(query, str) else repr(query))
                return super().execute(query, *args, **kwargs)

        dbapi_conn.cursor_factory = Recording

    def of(self, call: Callable[[], object]) -> list[str]:
        """The statements ``call`` runs."""
        self.seen, self.recording = [], True
        try:
            call()
        finally:
            self.recording = False
        return self.seen
