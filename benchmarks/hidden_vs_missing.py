"""Hidden and missing records, timed: the median answer time of a record the viewer may not
see and of one that does not exist, for each kind of record page (case, entity, network,
ad). They should be the same: a difference tells an attacker which ids exist.

Builds a small synthetic world (crawl and case files) in a temporary directory, an
embedded store unless ``--database-url`` names a PostgreSQL database (its tables are
created there), and asks each page ``--rounds`` times through the application, hidden and
missing in turn, as a Paris analyst who may see none of the records asked:

    .venv/bin/python benchmarks/hidden_vs_missing.py [--rounds 200]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import insert

from _common import machine
from faisceau.config import Settings
from faisceau.ingest.pipeline import Ingestor
from faisceau.intel.casefiles import import_case_files
from faisceau.score.run import detect_and_score
from faisceau.share.accounts import create_user, seed_units
from faisceau.store import open_store
from faisceau.store.bulk import fetch, utc_now
from faisceau.store.schema import share_distribution
from faisceau.synth.behind import write_behind
from faisceau.synth.world import Params, write_world
from faisceau.web.app import create_app
from faisceau.web.security import LoginLimiter

PASSWORD = "mot de passe de mesure"


def _login(web: TestClient, login: str) -> None:
    token = web.get("/connexion").text.split('name="csrf_token" value="', 1)[1].split('"')[0]
    done = web.post("/connexion", data={"identifiant": login, "mot_de_passe": PASSWORD,
                                        "csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303


def _timed_ms(web: TestClient, path: str) -> float:
    start = time.perf_counter()
    answer = web.get(path)
    elapsed = (time.perf_counter() - start) * 1000
    assert answer.status_code == 404, (path, answer.status_code)
    return elapsed


def _medians(web: TestClient, hidden: str, missing: str, rounds: int) -> tuple[float, float]:
    """Median times of both, asked in turn (so that a slow moment weighs on both alike)."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(rounds):
        times[0].append(_timed_ms(web, hidden))
        times[1].append(_timed_ms(web, missing))
    return statistics.median(times[0]), statistics.median(times[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        params = Params(scale=0.01, days=7, seed=1)
        write_world(params, root / "world")
        write_behind(root / "world", params.seed, params.start, params.scale)
        store = open_store(Settings(home=root / "store", database_url=args.database_url))
        with Ingestor(store, images=False, workers=1).session() as ingestor:
            ingestor.ingest_paths([root / "world" / "crawl"])
        detect_and_score(store)
        import_case_files(store, [root / "world" / "intel" / "csv"])
        seed_units(store)
        create_user(store, "paris", PASSWORD, "analyst", "DEP-75")
        with store.begin() as conn:
            case_id, departement = next(
                (str(r[0]), r[1]) for r in fetch(
                    conn, "SELECT id, departement FROM intel_entity WHERE schema = "
                          "'CourtCase' ORDER BY id", ()) if r[1] != "75")
            entity = fetch(conn, "SELECT id FROM intel_entity WHERE case_id = "
                                 f"'{case_id}' AND id <> '{case_id}' ORDER BY id", ())[0][0]
            network_id = fetch(conn, "SELECT id FROM network WHERE status = 'active' "
                                     "ORDER BY ads DESC, id LIMIT 1", ())[0][0]
            ad_pk, source, ad_id = fetch(conn, "SELECT id, source, ad_id FROM ad "
                                               "ORDER BY id LIMIT 1", ())[0]
            for kind, record_id in (("network", network_id), ("ad", f"{source}:{ad_id}")):
                conn.execute(insert(share_distribution).values(
                    record_kind=kind, record_id=record_id, level="own_unit",
                    owner_unit="DEP-13", set_by="mesure", set_at=utc_now()))
        app = create_app(store.settings, login_limiter=LoginLimiter(attempts=100))
        pages = [("dossier", f"/api/dossiers/{case_id}", "/api/dossiers/K-INCONNU"),
                 ("entité", f"/api/entites/{entity}", "/api/entites/E-INCONNUE"),
                 ("réseau", f"/api/reseaux/{network_id}", "/api/reseaux/n-0000000000000000"),
                 ("annonce", f"/api/annonces/{ad_pk}", "/api/annonces/999999999")]
        print(f"# {machine()}")
        print(f"# {store.dialect}, case of département {departement}, {args.rounds} rounds")
        print("| page | hidden (ms, median) | missing (ms, median) | hidden / missing |")
        print("| --- | --- | --- | --- |")
        with TestClient(app) as web:
            _login(web, "paris")
            for name, hidden, missing in pages:
                _medians(web, hidden, missing, 5)  # caches warm, as in use
                hidden_ms, missing_ms = _medians(web, hidden, missing, args.rounds)
                print(f"| {name} | {hidden_ms:.2f} | {missing_ms:.2f} | "
                      f"{hidden_ms / missing_ms:.2f} |")
        store.dispose()


if __name__ == "__main__":
    main()
