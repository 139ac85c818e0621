"""What every command shares: the two consoles, opening the store, turning known failures
into one line on standard error with exit status 2."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.text import Text

from faisceau.evaluate.report import EvaluationInputError
from faisceau.ingest.records import UnreadablePath
from faisceau.store import Store, StoreUnavailable, open_store

console = Console(stderr=True)
out = Console()


def fail(message: str) -> typer.Exit:
    """Print ``message`` as one error line (as text, never read as markup); the caller raises
    what this returns."""
    console.print(Text.assemble(("faisceau: error:", "bold red"), f" {message}"), soft_wrap=True)
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


@contextmanager
def user_errors() -> Iterator[None]:
    """Known failures become one line on standard error and exit status 2."""
    try:
        yield
    except (StoreUnavailable, UnreadablePath, EvaluationInputError) as exc:
        console.print(f"[bold red]faisceau: error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except OSError as exc:
        console.print(f"[bold red]faisceau: error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


@contextmanager
def opened_store() -> Iterator[Store]:
    store = open_store()
    try:
        yield store
    finally:
        store.dispose()
