"""``python -m faisceau``: the same as the ``faisceau`` command."""

from faisceau.cli.main import main

main()
