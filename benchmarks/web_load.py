"""The web application under load: N concurrent users on loopback, each reading the queue,
network pages, ad searches and entity pages in turn; latency percentiles per page.

A world (ads and case files) is generated, or read from ``--world``; it is ingested,
detected and scored, its case files imported, people resolved and leads found, into the
store (embedded, or PostgreSQL with ``--database-url``); with ``--reuse`` a store loaded by
an earlier run is used as it is. ``faisceau serve --workers W`` then runs on loopback and
``--users`` threads each make requests for ``--seconds``, pausing ``--think`` seconds
between two pages (0: back to back, the worst case). They share one session: logins are
limited per address, and what is measured is the pages.

Target (issue 7): p95 under 300 ms for the queue, network, search and entity pages with 20
concurrent users, on a synthetic national month in PostgreSQL:

    .venv/bin/python benchmarks/web_load.py --world benchmarks/data/national-month \\
        --scale 1 --days 30 --seed 5 \\
        --database-url postgresql+psycopg://127.0.0.1/faisceau_bench --users 20 --seconds 60
    # again, on the loaded store:  ... --reuse
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from _common import add_world_options, empty_store, machine, world_params
from faisceau.config import Settings
from faisceau.ingest.pipeline import Ingestor
from faisceau.intel.casefiles import import_case_files
from faisceau.intel.leads import find_leads
from faisceau.intel.people import resolve_people
from faisceau.score.review import queue
from faisceau.score.run import detect_and_score
from faisceau.share.accounts import create_user, get_user, seed_units
from faisceau.store import Store, open_store
from faisceau.store.bulk import fetch
from faisceau.synth.behind import write_behind
from faisceau.synth.world import Params, write_world

PASSWORD = "mot de passe de charge"
BENCH_USER = "charge"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
# Words an analyst searches for, and départements to filter on.
WORDS = ("massage", "nouvelle", "disponible", "hôtel", "appartement", "week-end", "discrète",
         "photos", "réelle", "déplacement")
DEPARTEMENTS = ("75", "13", "69", "33", "06", "31", "59", "67", "44", "34")
DATA = Path(__file__).resolve().parent / "data"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _ensure_database(url: str) -> None:
    """Create the PostgreSQL database the URL names when it does not exist yet."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    target = make_url(url)
    try:
        create_engine(target).connect().close()
    except OperationalError:
        server = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with server.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
        server.dispose()


def _world(args: argparse.Namespace, params: Params) -> Path:
    world: Path = args.world or DATA / f"web-load-{params.scale}-{params.days}-{params.seed}"
    if not (world / "world.json").exists():
        write_world(params, world)
    if not (world / "intel" / "csv" / "cases.csv").exists():
        write_behind(world, params.seed, params.start, params.scale)
    return world


def _load(store: Store, world: Path) -> None:
    """Everything the pages read: ads, networks, scores, case files, people, leads."""
    empty_store(store)
    started = time.perf_counter()
    with Ingestor(store, images=False).session() as ingestor:
        ingestor.ingest_paths([world / "crawl"])
    print(f"  ingested in {time.perf_counter() - started:.0f} s", flush=True)
    detect_and_score(store)
    print(f"  detected and scored at {time.perf_counter() - started:.0f} s", flush=True)
    import_case_files(store, [world / "intel" / "csv"])
    resolve_people(store)
    find_leads(store)
    print(f"  case files, people and leads at {time.perf_counter() - started:.0f} s",
          flush=True)
    seed_units(store)
    create_user(store, BENCH_USER, PASSWORD, "analyst", "OCRTEH")


def _targets(store: Store) -> dict[str, list[str]]:
    """What the users will ask for: networks at the top of the queue, suspects' entities."""
    with store.begin() as conn:
        networks = [e.network_id for e in queue(conn, limit=500)]
        entities = [str(r[0]) for r in fetch(
            conn, "SELECT id FROM intel_entity WHERE category = 'suspect' AND minor = "
            f"{'false' if store.dialect == 'postgresql' else '0'} ORDER BY id LIMIT 500", ())]
        ads = int(fetch(conn, "SELECT COUNT(*) FROM ad", ())[0][0])
        statements = int(fetch(conn, "SELECT COUNT(*) FROM intel_statement", ())[0][0])
    print(f"store: {ads:,} ads, {statements:,} case-file statements; {len(networks)} networks "
          f"and {len(entities)} suspects to visit")
    return {"networks": networks, "entities": entities}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_world_options(parser)
    parser.add_argument("--world", type=Path, default=None)
    parser.add_argument("--home", type=Path, default=DATA / "web-load-home",
                        help="the store's home (its secret key; the embedded database)")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--reuse", action="store_true",
                        help="use the store as an earlier run loaded it")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--think", type=float, default=0.0,
                        help="seconds a user pauses between two pages")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    print(machine())
    params = world_params(args)
    settings = Settings(home=args.home, database_url=args.database_url)
    if args.database_url:
        _ensure_database(args.database_url)
    if not args.reuse and not args.database_url:
        shutil.rmtree(args.home, ignore_errors=True)  # an embedded store starts afresh
    store = open_store(settings)
    with store.begin() as conn:
        loaded = get_user(conn, BENCH_USER) is not None
    if not (args.reuse and loaded):
        world = _world(args, params)
        print(f"loading {world} (scale {params.scale}, {params.days} days) into "
              f"{store.dialect}", flush=True)
        _load(store, world)
    targets = _targets(store)
    store.dispose()

    port = _free_port()
    env = {**os.environ, "FAISCEAU_HOME": str(settings.home),
           "FAISCEAU_SECRET_KEY": "clé de banc d'essai, assez longue pour servir"}
    if args.database_url:
        env["FAISCEAU_DATABASE_URL"] = args.database_url
    faisceau = Path(sys.executable).with_name("faisceau")
    server = subprocess.Popen([str(faisceau), "serve", "--port", str(port), "--workers",
                               str(args.workers)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        _run(f"http://127.0.0.1:{port}", targets, args)
    finally:
        server.terminate()
        server.wait(timeout=30)


def _run(base: str, targets: dict[str, list[str]], args: argparse.Namespace) -> None:
    for _ in range(600):
        try:
            httpx.get(f"{base}/connexion", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    with httpx.Client(base_url=base, timeout=30) as web:
        form = TOKEN.search(web.get("/connexion").text)
        assert form
        web.post("/connexion", data={"identifiant": BENCH_USER, "mot_de_passe": PASSWORD,
                                     "csrf_token": form.group(1), "suite": "/"})
        cookies = dict(web.cookies)
        pages = ["file", "reseau"]
        if web.get("/annonces").status_code == 200:
            pages.append("recherche")
        if targets["entities"] and web.get(
                f"/entites/{targets['entities'][0]}").status_code == 200:
            pages.append("entite")
    timings: dict[str, list[float]] = {page: [] for page in pages}
    errors: list[str] = []
    deadline = time.perf_counter() + args.seconds

    def url_of(page: str, rng: random.Random) -> str:
        if page == "file":
            return "/file"
        if page == "reseau":
            return f"/reseaux/{rng.choice(targets['networks'])}"
        if page == "recherche":
            return (f"/annonces?q={rng.choice(WORDS)}"
                    + (f"&departement={rng.choice(DEPARTEMENTS)}" if rng.random() < 0.5
                       else ""))
        return f"/entites/{rng.choice(targets['entities'])}"

    def user(index: int) -> None:
        rng = random.Random(index)
        with httpx.Client(base_url=base, timeout=60, cookies=cookies) as web:
            turn = index
            while time.perf_counter() < deadline:
                page = pages[turn % len(pages)]
                url = url_of(page, rng)
                begin = time.perf_counter()
                response = web.get(url)
                elapsed = time.perf_counter() - begin
                if response.status_code != 200:
                    errors.append(f"{url}: {response.status_code}")
                timings[page].append(elapsed)
                turn += 1
                if args.think:
                    time.sleep(rng.uniform(0.5, 1.5) * args.think)

    threads = [threading.Thread(target=user, args=(i,)) for i in range(args.users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = sum(len(v) for v in timings.values())
    print(f"{args.users} concurrent users for {args.seconds:.0f} s on loopback, think time "
          f"{args.think:g} s, {args.workers} worker(s): {total / args.seconds:.1f} requests/s, "
          f"errors: {len(errors)} {errors[:3]}")
    for page, values in timings.items():
        if values:
            median = 1000 * statistics.median(values)
            print(f"  {page:9s} n={len(values):5d}  p50 {median:6.0f} ms"
                  f"  p95 {1000 * _percentile(values, 0.95):6.0f} ms"
                  f"  max {1000 * max(values):6.0f} ms  (target p95 < 300 ms)")


if __name__ == "__main__":
    main()
