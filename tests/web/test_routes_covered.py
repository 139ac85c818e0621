"""Every route of the application is under an authorisation test, and none is forgotten.

The role × unit × distribution-level matrices live beside each family of pages (networks,
ads, cases and entities, administration, the journal). This test walks the application's
routes and checks that each one is in the table below, with the test module that tries it
under every role and, for records, every distribution level; and that the module does call
it. A new route fails here until someone says how it is protected and tests it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from faisceau.config import Settings
from faisceau.web.app import create_app

HERE = Path(__file__).parent
NETWORKS, ADS, ENTITIES = "test_authorisation.py", "test_ads.py", "test_entities.py"
ADMIN, JOURNAL, APP = "test_admin.py", "test_journal.py", "test_app.py"
DASHBOARD = "test_dashboard.py"
SESSIONS = "test_sessions.py"

# (method, path) -> the module whose matrix tries it. "public": no session needed.
COVERED = {
    ("GET", "/openapi.json"): "public",
    ("GET", "/connexion"): "public",
    ("POST", "/connexion"): APP,
    ("POST", "/deconnexion"): APP,
    ("GET", "/api/moi"): APP,
    ("GET", "/mot-de-passe"): SESSIONS,  # one's own password: every account
    ("POST", "/mot-de-passe"): SESSIONS,
    ("GET", "/"): DASHBOARD,  # totals only: every account
    ("GET", "/api/tableau"): DASHBOARD,
    ("GET", "/file"): NETWORKS,
    ("GET", "/api/file"): NETWORKS,
    ("GET", "/reseaux/{network_id}"): NETWORKS,
    ("GET", "/api/reseaux/{network_id}"): NETWORKS,
    ("POST", "/reseaux/{network_id}/decision"): NETWORKS,
    ("POST", "/api/reseaux/{network_id}/decision"): NETWORKS,
    ("GET", "/annonces"): ADS,
    ("GET", "/api/annonces"): ADS,
    ("GET", "/annonces/{ad_pk}"): ADS,
    ("GET", "/api/annonces/{ad_pk}"): ADS,
    ("GET", "/dossiers"): ENTITIES,
    ("GET", "/api/dossiers"): ENTITIES,
    ("GET", "/dossiers/{case_id}"): ENTITIES,
    ("GET", "/api/dossiers/{case_id}"): ENTITIES,
    ("GET", "/api/dossiers/{case_id}/export.ftm"): ENTITIES,
    ("POST", "/dossiers/{case_id}/motif"): ENTITIES,
    ("GET", "/entites/{entity_id}"): ENTITIES,
    ("GET", "/api/entites/{entity_id}"): ENTITIES,
    ("POST", "/entites/{entity_id}/motif"): ENTITIES,
    ("GET", "/api/graphe/voisins"): ENTITIES,
    ("GET", "/api/graphe/chemin"): ENTITIES,
    ("GET", "/journal"): JOURNAL,
    ("GET", "/journal/verification"): JOURNAL,
    ("GET", "/api/journal"): JOURNAL,
    ("GET", "/api/journal/verification"): JOURNAL,
    ("GET", "/api/journal/export.csv"): JOURNAL,
}
ADMIN_PREFIXES = ("/admin", "/api/admin")


def _walk(routes: Iterable[Any]) -> Iterator[tuple[str, str]]:
    for route in routes:
        if hasattr(route, "original_router"):  # an included router
            yield from _walk(route.original_router.routes)
        elif getattr(route, "methods", None):
            for method in sorted(route.methods - {"HEAD"}):
                yield method, route.path


def _called(module: str, path: str) -> bool:
    """Whether the test module names the path (its parameters as any value)."""
    text = (HERE / module).read_text(encoding="utf-8")
    fixed = re.split(r"\{[^}]+\}", path)
    pattern = r"[^\"'\s]*".join(re.escape(part) for part in fixed)
    return re.search(pattern, text) is not None


def test_every_route_is_tried_by_an_authorisation_test(tmp_path: Path) -> None:
    app = create_app(Settings(home=tmp_path / "store", database_url=None))
    routes = set(_walk(app.routes))
    admin = {r for r in routes if r[1].startswith(ADMIN_PREFIXES)}
    assert admin, "no administration route: the table below is out of date"
    assert routes - admin == set(COVERED), (
        f"not in the table: {sorted(routes - admin - set(COVERED))}; "
        f"gone: {sorted(set(COVERED) - routes)}")
    for (method, path), module in {**COVERED, **{r: ADMIN for r in admin}}.items():
        if module != "public":
            assert _called(module, path), f"{method} {path} is not tried in {module}"
