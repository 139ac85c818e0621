"""What every command shares: the two consoles, opening the store, turning known failures
into one line on standard error with exit status 2, and faisceau's warnings on standard error.

Neither console reads markup nor emoji codes in what it prints: paths, reasons, names and
every other string may come from outside (a file named ``[/]`` once crashed the error line),
so text is printed as it is; styles are given with ``rich.text.Text``. Nor does either let a
control character reach the terminal (an ad, a file name or a quarantined line could carry
an escape sequence that rewrites the screen), nor a bidirectional override that reorders
the line: in strings they are shown as ``\\xNN`` (``\\uNNNN``); in ``Text`` objects, laid
out already, they are dropped.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console, ConsoleOptions, RenderableType
from rich.segment import Segment
from rich.text import Text

from faisceau.evaluate.report import EvaluationInputError
from faisceau.ingest.lock import LockTimeout
from faisceau.ingest.records import UnreadablePath
from faisceau.store import Store, StoreUnavailable, open_store

# What a terminal may act on: C0 controls but tab and newline, DEL, C1 controls; and the
# bidirectional embeddings, overrides and isolates, which reorder what follows them on the
# line (a name could make an analyst read another phone or id than the one printed).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escaped(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(text: str) -> str:
    """``text`` with its control characters written ``\\xNN`` (bidirectional controls
    ``\\uNNNN``)."""
    return _CONTROL.sub(lambda m: _escaped(m[0]), text)


class _PlainConsole(Console):
    """A console that prints text as it is, and no control character."""

    def render_str(self, text: str, **options: Any) -> Text:
        return super().render_str(shown(text), **options)

    def render(self, renderable: RenderableType,
               options: ConsoleOptions | None = None) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            if segment.control is None and _CONTROL.search(segment.text):
                # zero width to Rich, so dropping them keeps the layout
                segment = Segment(_CONTROL.sub("", segment.text), segment.style)
            yield segment


console = _PlainConsole(stderr=True, markup=False, emoji=False)
out = _PlainConsole(markup=False, emoji=False)


def fail(message: str) -> typer.Exit:
    """Print ``message`` as one error line (as text, never read as markup); the caller raises
    what this returns."""
    console.print(Text.assemble(("faisceau: error:", "bold red"), f" {shown(message)}"),
                  soft_wrap=True)
    return typer.Exit(2)


def analyst_name(given: str | None) -> str:
    """Who acts: the analyst named, else $FAISCEAU_ANALYST, else the session's user; with no
    name to be found, one error line and exit status 2."""
    if given is not None:
        return given
    import getpass
    import os

    try:
        return os.environ.get("FAISCEAU_ANALYST") or getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment nor the password base
        raise fail("analyste inconnu : le nommer avec --analyst ou FAISCEAU_ANALYST") from None


@contextmanager
def refusals(*errors: type[Exception]) -> Iterator[None]:
    """A request refused with one of ``errors`` (unknown id, missing reason...): its message
    on one line, as text (it may quote what the user typed), and exit status 2."""
    try:
        yield
    except errors as exc:
        raise fail(str(exc)) from None


def warn(message: str) -> None:
    """One warning line on standard error (the command goes on)."""
    console.print(Text.assemble(("faisceau:", "bold yellow"), f" {shown(message)}"),
                  soft_wrap=True, highlight=False)


class _Warnings(logging.Handler):
    """faisceau's own warnings (a lock waited for...) as ``warn`` lines."""

    def emit(self, record: logging.LogRecord) -> None:
        warn(record.getMessage())


def report_warnings() -> None:
    """Print the warnings of faisceau's modules on standard error (once per process)."""
    logger = logging.getLogger("faisceau")
    if not any(isinstance(h, _Warnings) for h in logger.handlers):
        logger.addHandler(_Warnings(logging.WARNING))


@contextmanager
def user_errors() -> Iterator[None]:
    """Known failures become one line on standard error and exit status 2."""
    try:
        yield
    except (StoreUnavailable, UnreadablePath, EvaluationInputError, LockTimeout) as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(str(exc)) from None


@contextmanager
def opened_store() -> Iterator[Store]:
    report_warnings()  # a wait for the store's lock is said, not silent
    store = open_store()
    try:
        yield store
    finally:
        store.dispose()
