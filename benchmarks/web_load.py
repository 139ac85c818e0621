"""The web application under load: N concurrent users on loopback, each logged in, reading
the queue page and network pages in turn; latency percentiles per page.

A world is generated, ingested, detected and scored into the store (embedded, or PostgreSQL
with ``--database-url``), an account is created, ``faisceau serve --workers W`` runs on
loopback, and ``--users`` threads each make requests for ``--seconds`` (sharing one
session: logins are limited per address, and what is measured is the pages).

Target (issue 7): p95 under 300 ms for the queue, network, search and entity pages with 20
concurrent users, on a synthetic national month in PostgreSQL. Search and entity pages do
not exist yet: this measures the queue and network pages.

    .venv/bin/python benchmarks/web_load.py --scale 0.3 --days 30 --seed 3 \\
        --database-url postgresql+psycopg://127.0.0.1/test --users 20 --seconds 30
"""

from __future__ import annotations

import argparse
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from _common import add_world_options, empty_store, machine, world_params
from faisceau.config import Settings
from faisceau.ingest.pipeline import Ingestor
from faisceau.score.review import queue
from faisceau.score.run import detect_and_score
from faisceau.share.accounts import create_user, seed_units
from faisceau.store import open_store
from faisceau.synth.world import write_world

PASSWORD = "mot de passe de charge"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_world_options(parser)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    print(machine())
    params = world_params(args)
    with tempfile.TemporaryDirectory() as tmp:
        world = Path(tmp) / "world"
        write_world(params, world)
        settings = Settings(home=Path(tmp) / "store", database_url=args.database_url)
        store = open_store(settings)
        empty_store(store)
        started = time.perf_counter()
        with Ingestor(store, images=False).session() as ingestor:
            ingestor.ingest_paths(sorted((world / "crawl").rglob("*.jsonl*")))
        detect_and_score(store)
        seed_units(store)
        create_user(store, "charge", PASSWORD, "analyst", "OCRTEH")
        with store.begin() as conn:
            networks = [e.network_id for e in queue(conn, limit=500)]
        print(f"world (scale {params.scale}, {params.days} days) in {store.dialect}: "
              f"{time.perf_counter() - started:.0f} s to load; {len(networks)} networks "
              "at the top of the queue")
        port = _free_port()
        env = {**os.environ, "FAISCEAU_HOME": str(settings.home),
               "FAISCEAU_SECRET_KEY": "clé de banc d'essai, assez longue pour servir"}
        if args.database_url:
            env["FAISCEAU_DATABASE_URL"] = args.database_url
        faisceau = Path(sys.executable).with_name("faisceau")
        server = subprocess.Popen([str(faisceau), "serve", "--port", str(port), "--workers",
                                   str(args.workers)], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                login_page = httpx.get(f"{base}/connexion", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        with httpx.Client(base_url=base, timeout=30) as web:
            form = TOKEN.search(web.get("/connexion").text)
            assert form and login_page.status_code == 200
            web.post("/connexion", data={"identifiant": "charge", "mot_de_passe": PASSWORD,
                                         "csrf_token": form.group(1), "suite": "/"})
            cookies = dict(web.cookies)
        timings: dict[str, list[float]] = {"file": [], "reseau": []}
        errors: list[str] = []
        deadline = time.perf_counter() + args.seconds

        def user(index: int) -> None:
            rng = random.Random(index)
            with httpx.Client(base_url=base, timeout=30, cookies=cookies) as web:
                turn = 0
                while time.perf_counter() < deadline:
                    page, url = (("file", "/file") if turn % 4 == 0 else
                                 ("reseau", f"/reseaux/{rng.choice(networks)}"))
                    begin = time.perf_counter()
                    response = web.get(url)
                    elapsed = time.perf_counter() - begin
                    if response.status_code != 200:
                        errors.append(f"{url}: {response.status_code}")
                    timings[page].append(elapsed)
                    turn += 1

        threads = [threading.Thread(target=user, args=(i,)) for i in range(args.users)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        server.terminate()
        server.wait(timeout=30)
        print(f"{args.users} concurrent users for {args.seconds:.0f} s on loopback, "
              f"{args.workers} worker(s), errors: {len(errors)}")
        for page, values in timings.items():
            if values:
                median = 1000 * statistics.median(values)
                print(f"  {page:7s} n={len(values):5d}  p50 {median:6.0f} ms"
                      f"  p95 {1000 * _percentile(values, 0.95):6.0f} ms"
                      f"  max {1000 * max(values):6.0f} ms  (target p95 < 300 ms)")
        store.dispose()


if __name__ == "__main__":
    main()
