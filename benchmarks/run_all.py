"""Run every benchmark in turn and print their figures (`make bench`).

Each script also runs alone; see its docstring for options. The figures recorded in
docs/benchmarks.md come from these scripts.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCH_DB = "postgresql+psycopg://127.0.0.1/faisceau_bench"
SCRIPTS = [
    ["phones_accuracy.py"],
    ["places_accuracy.py"],
    ["normalise_speed.py"],
    ["ingest_throughput.py"],
    ["ingest_memory.py"],
    ["synth_throughput.py"],
    ["detect_throughput.py"],
    ["detect_vs_infoshield.py"],
    ["weak_evidence.py"],
    ["score_quality.py"],
    ["linking_quality.py", "--sizes", "small,demo,national-day"],
    ["resolve_febrl.py"],
    ["casefiles_import.py", "--scale", "0.3", "--days", "60", "--seed", "3"],
    ["resolve_people.py"],
    ["leads_quality.py"],
    ["heads_centrality.py", "--scale", "0.3", "--days", "60", "--seed", "3", "--with-ads"],
    ["graph_analysis.py"],
    # The web application on a national month in PostgreSQL (loaded once, then reused).
    ["web_load.py", "--world", "data/national-month", "--scale", "1", "--days", "30",
     "--seed", "5", "--database-url", BENCH_DB, "--users", "20", "--seconds", "60",
     "--think", "0.5", "--reuse"],
    ["web_load.py", "--database-url", BENCH_DB, "--users", "20", "--seconds", "60", "--reuse"],
    ["search_speed.py", "--database-url", BENCH_DB],
]


def main() -> int:
    failed = 0
    for script, *args in SCRIPTS:
        path = HERE / script
        if not path.exists():
            continue
        print(f"\n=== {script} {' '.join(args)}", flush=True)
        failed += subprocess.call([sys.executable, str(path), *args], cwd=HERE) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
