"""The ``faisceau`` command line (Typer + Rich): thin commands over the packages below."""
