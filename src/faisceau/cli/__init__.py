"""The ``faisceau`` command line (Typer + Rich): thin commands over the packages below.

Every command of ``faisceau`` pays for what this package imports at start, so the heavy
libraries (followthemoney, polars, pandas, duckdb, splink, igraph, scipy) are imported in
the commands that use them, not at the top of a module (``tests/cli/test_startup.py``)."""
