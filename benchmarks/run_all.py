"""Run every benchmark in turn and print their figures (`make bench`).

Each script also runs alone; see its docstring for options. The figures recorded in
docs/benchmarks.md come from these scripts.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
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
    ["resolve_febrl.py"],
    ["casefiles_import.py", "--scale", "0.3", "--days", "60", "--seed", "3"],
    ["resolve_people.py"],
    ["leads_quality.py"],
    ["heads_centrality.py", "--scale", "0.3", "--days", "60", "--seed", "3", "--with-ads"],
    ["graph_analysis.py"],
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
