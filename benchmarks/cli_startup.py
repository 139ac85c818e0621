"""What a user waits for before any command of ``faisceau`` starts its work: the time of
``faisceau --help`` and of ``faisceau status`` on an empty embedded store, whole processes
as the shell starts them, median of several runs.

Every command pays the imports of the command-line package; the heavy libraries
(followthemoney, polars, pandas, duckdb, splink, igraph, scipy) are imported only by the
commands that use them (``cli/__init__``). ``--against DIR`` times another checkout's
``src`` directory in turn with this one (e.g. a ``git worktree`` of an older commit), with
the same interpreter and libraries:

    .venv/bin/python benchmarks/cli_startup.py --runs 7
    git worktree add /tmp/before <commit>
    .venv/bin/python benchmarks/cli_startup.py --runs 7 --against /tmp/before/src
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import machine

HERE = Path(__file__).resolve().parent.parent / "src"


def _run(src: Path, args: list[str], home: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(src), "FAISCEAU_HOME": str(home)}
    env.pop("FAISCEAU_DATABASE_URL", None)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "faisceau", *args], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--against", type=Path, help="another checkout's src directory")
    args = parser.parse_args()
    sources = {"this checkout": HERE}
    if args.against is not None:
        sources["--against"] = args.against.resolve()
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        times: dict[tuple[str, str], list[float]] = {}
        for name, src in sources.items():  # compile and warm the caches once
            _run(src, ["--help"], Path(tmp) / name)
        for _ in range(args.runs):  # interleaved, so the machine's load hits both alike
            for name, src in sources.items():
                for command in (["--help"], ["status"]):
                    key = (name, " ".join(command))
                    times.setdefault(key, []).append(_run(src, command, Path(tmp) / name))
    print(f"{'source':<15} {'command':<10} {'median s':>9} {'min s':>7}")
    for (name, command), values in times.items():
        print(f"{name:<15} {command:<10} {statistics.median(values):9.2f} {min(values):7.2f}")


if __name__ == "__main__":
    main()
