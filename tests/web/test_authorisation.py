"""Every role × endpoint × distribution level, and no leak.

A network is given each distribution level in turn (owned by the Bouches-du-Rhône unit,
shared with a group of Paris); accounts of every role in the owning unit, in the central
office, in Paris (in the group) and in Lyon (not in it) try every page and API route that
shows or changes it. Expected: a reader sees the network exactly when the need-to-know
rule says so; otherwise the answer is the same as for a network that does not exist (no
leak of its existence), or a refusal for roles that read no record; the queue lists it
under the same rule; a decision is only recorded by a deciding role that may see it, and
a dismissal only by the central office or the territorial unit of every one of its ads.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import product

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, insert

from faisceau.config import Settings
from faisceau.ingest.pipeline import Ingestor
from faisceau.score.review import history, queue
from faisceau.score.run import detect_and_score
from faisceau.share.access import LEVELS, READERS, ROLES, Distribution, Viewer, can_see
from faisceau.share.accounts import create_user, seed_units
from faisceau.store import Store, open_store
from faisceau.store.bulk import fetch, utc_now
from faisceau.store.schema import share_distribution, share_group, share_group_member
from faisceau.synth.world import Params, write_world
from faisceau.web.app import create_app
from tests.web.helpers import log_in

PASSWORD = "mot de passe de test"
OWNER, CENTRAL, IN_GROUP, OUTSIDE = "DEP-13", "OCRTEH", "DEP-75", "DEP-69"
GROUP = "marseille-paris"
DECIDERS = ("analyst", "referent")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    root = tmp_path_factory.mktemp("authz")
    write_world(Params(scale=0.01, days=2, seed=3, images=False), root / "world")
    store = open_store(Settings(home=root / "store", database_url=None))
    with Ingestor(store, images=False, workers=1).session() as ingestor:
        ingestor.ingest_paths([root / "world" / "crawl"])
    detect_and_score(store)
    seed_units(store)
    for role, unit in product(ROLES, (OWNER, CENTRAL, IN_GROUP, OUTSIDE)):
        create_user(store, f"{role}-{unit}".lower(), PASSWORD, role, unit)
    with store.begin() as conn:
        conn.execute(insert(share_group).values(name=GROUP, created_at=utc_now()))
        conn.execute(insert(share_group_member).values(group_name=GROUP, unit=IN_GROUP))
    yield store
    store.dispose()


def _distribute(store: Store, network_id: str, level: str) -> None:
    with store.begin() as conn:
        conn.execute(delete(share_distribution))
        conn.execute(insert(share_distribution).values(
            record_kind="network", record_id=network_id, level=level, owner_unit=OWNER,
            group_name=GROUP if level == "group" else None, set_by="test", set_at=utc_now()))


def _may_dismiss(unit: str, departements: set[str]) -> bool:
    """The central office dismisses any network; a territorial unit, one whose every ad is
    in its département (docs/web.md)."""
    return unit == CENTRAL or departements == {unit.removeprefix("DEP-")}


def _logged_in(web: TestClient, login: str) -> str:
    """Logged in; the session's CSRF token."""
    log_in(web, login, PASSWORD)
    return str(web.get("/api/moi").json()["csrf_token"])


def test_no_role_unit_or_level_leaks_a_network(store: Store) -> None:
    with store.begin() as conn:
        network_id = queue(conn, limit=1)[0].network_id
        departements = {str(r[0]) for r in fetch(
            conn, "SELECT v.departement FROM ad_network an JOIN ad a ON a.id = an.ad_pk "
            "JOIN ad_version v ON v.id = a.current_version_id WHERE an.network_id = "
            f"'{network_id}' AND v.departement IS NOT NULL", ())}
    # 80 logins from one test client: the per-address login limit is not what is tested here.
    app = create_app(store.settings)
    checked = 0
    for level in LEVELS:
        _distribute(store, network_id, level)
        shared = Distribution(level, OWNER, GROUP if level == "group" else None)
        for role, unit in product(ROLES, (OWNER, CENTRAL, IN_GROUP, OUTSIDE)):
            viewer = Viewer("x", role, unit, frozenset({GROUP}) if unit == IN_GROUP else
                            frozenset())
            sees = can_see(viewer, shared)
            login = f"{role}-{unit}".lower()
            with TestClient(app) as web:
                csrf = _logged_in(web, login)
                page = web.get(f"/reseaux/{network_id}")
                api = web.get(f"/api/reseaux/{network_id}")
                unknown = web.get("/api/reseaux/n-0000000000000000")
                listed = web.get("/api/file?tous=1&limite=500")
                what = (level, role, unit)
                if role not in READERS:
                    assert page.status_code == api.status_code == 403, what
                    assert listed.status_code == 403, what
                elif sees:
                    assert page.status_code == api.status_code == 200, what
                    assert network_id in page.text, what
                    assert network_id in listed.text, what
                else:
                    # The same answer as for a network that does not exist.
                    assert page.status_code == api.status_code == 404, what
                    assert api.json() == unknown.json(), what
                    assert network_id not in listed.text, what
                decided = web.post(f"/api/reseaux/{network_id}/decision",
                                   json={"decision": "dismissed", "reason": "test"},
                                   headers={"X-CSRF-Token": csrf})
                if role in DECIDERS and sees and _may_dismiss(unit, departements):
                    assert decided.status_code == 201, (what, decided.text)
                else:
                    assert decided.status_code in (403, 404), (what, decided.text)
                    assert network_id not in decided.text or role not in READERS, what
            checked += 1
    assert checked == len(LEVELS) * len(ROLES) * 4
    with store.begin() as conn:
        recorded = history(conn, network_id)
    expected = sum(1 for level, role, unit in product(LEVELS, DECIDERS,
                                                      (OWNER, CENTRAL, IN_GROUP, OUTSIDE))
                   if _may_dismiss(unit, departements)
                   and can_see(Viewer("x", role, unit, frozenset({GROUP}) if unit == IN_GROUP
                                      else frozenset()),
                               Distribution(level, OWNER, GROUP if level == "group" else None)))
    assert len(recorded) == expected
