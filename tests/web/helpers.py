"""What the web tests share: logging in through the login form, as a browser does."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

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
