"""Search over ads, one query at a time: the time of the first page of 50 for common words,
with and without a département, a phrase, an exclusion, a phone and a handle.

Runs on a loaded store: by default the one ``web_load.py`` fills (national month in
PostgreSQL), e.g.

    .venv/bin/python benchmarks/search_speed.py \\
        --database-url postgresql+psycopg://127.0.0.1/faisceau_bench
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from _common import machine
from faisceau.config import Settings
from faisceau.ingest.fulltext import search_ads
from faisceau.store import Store, open_store
from faisceau.store.bulk import fetch

DATA = Path(__file__).resolve().parent / "data"
WORDS = ("nouvelle", "disponible", "hôtel", "appartement", "discrète", "photos", "réelle",
         "déplacement")


def _timed(store: Store, query: str = "", **filters: str) -> tuple[float, int, bool]:
    runs = []
    for _ in range(3):
        with store.begin() as conn:
            started = time.perf_counter()
            result = search_ads(conn, query, **filters)
            runs.append(time.perf_counter() - started)
    return min(runs), result.total, result.capped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=DATA / "web-load-home")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    print(machine())
    store = open_store(Settings(home=args.home, database_url=args.database_url))
    with store.begin() as conn:
        ads = int(fetch(conn, "SELECT COUNT(*) FROM ad", ())[0][0])
        phone = fetch(conn, "SELECT value FROM ad_value WHERE kind = 'phone' LIMIT 1", ())
        handle = fetch(conn, "SELECT value FROM ad_value WHERE kind = 'handle' LIMIT 1", ())
    print(f"{store.dialect}, {ads:,} ads; best of 3, first page of 50")
    cases: list[tuple[str, str, dict[str, str]]] = []
    cases += [(f"word « {w} »", w, {}) for w in WORDS]
    cases += [(f"word « {w} », département 75", w, {"departement": "75"}) for w in WORDS]
    cases += [("phrase", '"nouvelle disponible"', {}), ("exclusion", "hôtel -photos", {}),
              ("alternative", "hôtel OU appartement", {})]
    if phone:
        cases.append(("phone", "", {"phone": str(phone[0][0])}))
    if handle:
        cases.append(("handle", "", {"handle": str(handle[0][0])}))
    times = []
    for label, query, filters in cases:
        seconds, total, capped = _timed(store, query, **filters)
        times.append(seconds)
        print(f"  {label:40s} {1000 * seconds:7.1f} ms  {total:5d}{'+' if capped else ' '} ads")
    print(f"median {1000 * statistics.median(times):.1f} ms, max {1000 * max(times):.1f} ms")
    store.dispose()


if __name__ == "__main__":
    main()
