"""Login timing per case: does the answer's time tell whether an account exists, is
deactivated or is delayed? Medians of the real ``POST /connexion`` (in-process, real argon2
parameters) for an unknown login, a wrong password, the right one, a deactivated account, and
a delayed known and unknown login.

The issue measured 2.6 ms for a locked account against 174 ms for an unknown login. Now
every checked case costs one argon2 verification, and a delayed attempt is refused without
any, in the same time whether the login exists or not (its delay is the login's, not the
account's). Small and quick (an embedded store in a temporary
directory by default), e.g.

    .venv/bin/python benchmarks/login_timing.py --rounds 15
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from _common import machine
from faisceau.config import Settings
from faisceau.share.accounts import create_user, seed_units, set_active, unlock
from faisceau.store import Store, open_store
from faisceau.store.bulk import utc_now
from faisceau.store.schema import share_login_throttle
from faisceau.web.app import create_app

PASSWORD = "correct-cheval-pile-agrafe"
WRONG = "pas-le-bon-mot-de-passe"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
# case -> (login, password, expected status)
CASES = {
    "unknown login": ("inconnu", WRONG, 401),
    "wrong password": ("alice", WRONG, 401),
    "right password": ("alice", PASSWORD, 303),
    "deactivated account": ("bruno", PASSWORD, 401),
    "delayed, known login": ("carole", PASSWORD, 429),
    "delayed, unknown login": ("fantome", PASSWORD, 429),
}


def _prepare(store: Store) -> None:
    seed_units(store)
    for login in ("alice", "bruno", "carole"):
        create_user(store, login, PASSWORD, "analyst", "OCRTEH")
    now = utc_now()
    with store.begin() as conn:
        set_active(conn, "admin", "bruno", False)
        for login in ("carole", "fantome"):  # delayed for the whole run, refusal logged
            conn.execute(share_login_throttle.insert().values(
                scope="login", key=login, failures=9, window_start=now,
                not_before=now + timedelta(hours=1), refused=1, updated_at=now))


def _attempt(store: Store, address: str, login: str, password: str, status: int) -> float:
    with TestClient(create_app(store.settings), client=(address, 50000)) as web:
        form = TOKEN.search(web.get("/connexion").text)
        assert form
        started = time.perf_counter()
        answer = web.post("/connexion", data={"identifiant": login, "mot_de_passe": password,
                                              "csrf_token": form.group(1), "suite": "/"},
                          follow_redirects=False)
        elapsed = time.perf_counter() - started
    assert answer.status_code == status, (login, answer.status_code)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL store (emptied schema expected); default: "
                             "an embedded store in a temporary directory")
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as home:
        store = open_store(Settings(home=Path(home), database_url=args.database_url))
        _prepare(store)
        times: dict[str, list[float]] = {case: [] for case in CASES}
        for n in range(args.rounds):
            address = f"192.0.2.{n % 250}"  # one address a round: no address limit
            for case, (login, password, status) in CASES.items():  # interleaved: same drift
                tried = f"{login}-{n}" if case == "unknown login" else login  # never delayed
                times[case].append(_attempt(store, address, tried, password, status))
                if case in ("wrong password", "deactivated account"):
                    with store.begin() as conn:  # failures that must not become a delay
                        unlock(conn, login)
        store.dispose()
    print(f"{'case':<24} {'median ms':>10} {'min ms':>8} {'max ms':>8}  ({args.rounds} rounds)")
    for case, runs in times.items():
        print(f"{case:<24} {statistics.median(runs) * 1000:>10.1f} "
              f"{min(runs) * 1000:>8.1f} {max(runs) * 1000:>8.1f}")


if __name__ == "__main__":
    main()
