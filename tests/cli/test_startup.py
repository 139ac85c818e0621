"""Every ``faisceau`` command starts without the heavy libraries only some commands need:
a user waits for them on ``faisceau --help`` and ``faisceau ads show`` otherwise."""

from __future__ import annotations

import subprocess
import sys

# Each costs from a third of a second to seconds to import, and serves a few commands only.
HEAVY = ("followthemoney", "splink", "pandas", "duckdb", "igraph", "scipy", "leidenalg",
         "polars")


def test_the_command_line_loads_no_heavy_library_until_a_command_needs_it() -> None:
    probe = ("import sys, faisceau.cli.main; "
             f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True).stdout.split()
    assert loaded == []
