"""The one way faisceau writes CSV: cells that a spreadsheet would run are neutralised.

Names, ad texts and case-file values come from outside; a cell that begins with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return is read by Excel, LibreOffice or Sheets as a
formula (``=HYPERLINK(...)``, ``=cmd|...``: CSV injection). Following OWASP, such a text
cell is written with a single quote in front, which spreadsheets hide and which makes the
cell text. Numbers are left as they are (a negative number is not attacker text).

The rule is reversible, so that a file faisceau re-reads (the units' case-file CSV written by
``faisceau synth``, the audit log export checked against its hashes) gives back the exact
values: a text made of any number of single quotes followed by one of those characters gets
one more quote in front; ``restore`` takes exactly one off such a cell, and leaves every
other cell alone. ``'=x`` is written ``''=x`` and read back ``'=x``.

Every CSV the code base writes goes through ``writer`` (the standard ``csv`` module) or
``write_frame`` (polars, vectorised); ``tests/export/test_safecsv.py`` fails on any other
``csv.writer`` or ``write_csv`` in ``src``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

# polars only for the frames' writers: the command line's audit export and the web journal
# write rows, and should not wait for polars to import (cli/__init__).
if TYPE_CHECKING:
    import polars as pl

#: What a spreadsheet reads as the start of a formula (OWASP's list).
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NEEDS = re.compile(r"'*[=+\-@\t\r]")
_POLARS_NEEDS = r"^'*[=+\-@\t\r]"


def neutralise(value: str) -> str:
    """``value`` as a CSV cell a spreadsheet will not run (see the module's rule)."""
    return "'" + value if _NEEDS.match(value) else value


def restore(value: str) -> str:
    """The value ``neutralise`` was given: one quote less on a neutralised cell."""
    return value[1:] if value.startswith("'") and _NEEDS.match(value, 1) else value


def _cell(value: Any) -> Any:
    return neutralise(value) if isinstance(value, str) else value


class SafeWriter:
    """``csv.writer`` whose text cells are neutralised; other cells are written as
    ``csv`` writes them."""

    def __init__(self, handle: IO[str], **options: Any) -> None:
        self._writer = csv.writer(handle, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(handle: IO[str], **options: Any) -> SafeWriter:
    """A CSV writer on ``handle`` (the options of ``csv.writer``) that neutralises."""
    return SafeWriter(handle, **options)


def reader(handle: Iterable[str], **options: Any) -> Iterable[list[str]]:
    """``csv.reader`` whose cells are restored: the inverse of ``writer``."""
    for row in csv.reader(handle, **options):
        yield [restore(v) for v in row]


def neutralise_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with its text columns neutralised, as polars expressions (no Python per
    row): one anchored regular expression per column."""
    import polars as pl

    text = [name for name, dtype in frame.schema.items()
            if dtype == pl.String or dtype == pl.Categorical or dtype == pl.Enum]
    if not text:
        return frame
    return frame.with_columns(_neutralised(pl.col(name).cast(pl.String)).alias(name)
                              for name in text)


def _neutralised(cell: pl.Expr) -> pl.Expr:
    # An anchored match, then a concatenation where needed: measured faster than a regex
    # replace or a first-character lookup (benchmarks/safecsv_i2.py, docs/benchmarks.md).
    import polars as pl

    return pl.when(cell.str.contains(_POLARS_NEEDS)).then(pl.lit("'") + cell).otherwise(cell)


def write_frame(frame: pl.DataFrame, path: str | Path | IO[bytes],
                **options: Any) -> None:
    """``frame.write_csv(path, **options)``, its text cells neutralised first."""
    neutralise_frame(frame).write_csv(path, **options)
