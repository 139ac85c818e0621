"""``faisceau units | users | audit``: units and accounts, and the consultation log for the
auditor (verify its chain, list it, export it)."""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from faisceau.cli.common import consulted, fail, opened_store, out, user_errors
from faisceau.share.access import ROLES
from faisceau.share.accounts import (
    AccountError,
    add_user,
    list_users,
    reset_password,
    seed_units,
    unlock,
    unlock_address,
)
from faisceau.share.audit import FIELDS, csv_row, entries, verify
from faisceau.store.schema import share_unit

units_app = typer.Typer(help="Units: the central office and the territorial units.",
                        no_args_is_help=True)
users_app = typer.Typer(help="Accounts: a role and a unit each.", no_args_is_help=True)
audit_app = typer.Typer(help="The consultation log (who saw what, when, why).",
                        no_args_is_help=True)


@units_app.command("seed")
def units_seed() -> None:
    """Create the central office and one territorial unit per département (idempotent)."""
    with user_errors(), opened_store() as store:
        added = seed_units(store)
    out.print(f"{added} unités créées.")


@units_app.command("list")
def units_list() -> None:
    """The units."""
    with user_errors(), opened_store() as store, store.begin() as conn:
        rows = conn.execute(share_unit.select().order_by(share_unit.c.code)).all()
    table = Table(title="Unités")
    for column in ("code", "nom", "type", "département"):
        table.add_column(column)
    for code, name, kind, dep in rows:
        table.add_row(code, Text(name), kind, dep or "")
    out.print(table)


PasswordStdin = Annotated[bool, typer.Option(
    "--password-stdin", help="Read the password from standard input (else "
    "FAISCEAU_PASSWORD, else a prompt).")]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return os.environ.get("FAISCEAU_PASSWORD") or typer.prompt(
        "Mot de passe", hide_input=True, confirmation_prompt=True)


@users_app.command("add")
def users_add(
    login: Annotated[str, typer.Argument(help="The login")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}")],
    unit: Annotated[str, typer.Option(help="The unit's code (OCRTEH, DEP-75...)")],
    name: Annotated[str | None, typer.Option(help="Full name")] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Create an account (password hashed with argon2id: at least 12 characters, hard to
    guess, without the login or the name)."""
    password = _password(password_stdin)
    with user_errors(), opened_store() as store, store.begin() as conn:
        try:
            user = add_user(conn, login, password, role, unit, name)
        except AccountError as exc:
            raise fail(str(exc)) from None
        consulted(conn, "change", "user", user.login, {
            "what": "created", "role": user.role, "unit": user.unit, "name": user.name})
    out.print(Text(f"Compte {user.login} créé : {user.role}, {user.unit}."))


@users_app.command("password")
def users_password(
    login: Annotated[str, typer.Argument(help="The login")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Reset an account's password (the same policy); every session of the account ends and
    its login delay is lifted. Logged as a change under the operator's name."""
    password = _password(password_stdin)
    with user_errors(), opened_store() as store, store.begin() as conn:
        try:
            ended = reset_password(conn, login, password)
        except AccountError as exc:
            raise fail(str(exc)) from None
        consulted(conn, "change", "user", login, {"what": "password reset"})
    out.print(Text(f"Mot de passe du compte {login} changé ; sessions fermées : {ended}."))


@users_app.command("unlock")
def users_unlock(
    login: Annotated[str | None, typer.Argument(help="The login")] = None,
    address: Annotated[str | None, typer.Option(
        help="Lift an address's block instead (its failed logins)")] = None,
) -> None:
    """Lift the delay that failed logins put on an account (or on a client address): from
    the host, this always lets an administrator back in. Logged as a change."""
    if (login is None) == (address is None):
        raise fail("nommer un compte ou une adresse (--address), l'un ou l'autre")
    with user_errors(), opened_store() as store, store.begin() as conn:
        try:
            had = unlock(conn, login) if login is not None else unlock_address(
                conn, str(address))
        except AccountError as exc:
            raise fail(str(exc)) from None
        kind, record = ("user", login) if login is not None else ("address", str(address))
        consulted(conn, "change", kind, record, {"what": "unlocked", "had_failures": had})
    what = f"compte {login}" if login is not None else f"adresse {address}"
    out.print(Text(f"{what.capitalize()} déverrouillé"
                   f"{'' if had else ' (aucun échec en cours)'}."))


@users_app.command("list")
def users_list() -> None:
    """The accounts (never their passwords)."""
    with user_errors(), opened_store() as store, store.begin() as conn:
        users = list_users(conn)
    table = Table(title="Comptes")
    for column in ("identifiant", "nom", "rôle", "unité", "actif"):
        table.add_column(column)
    for u in users:
        table.add_row(u.login, Text(u.name), u.role, u.unit, "oui" if u.active else "non")
    out.print(table)


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the log's hash chain; exit status 1 if an entry was changed or removed."""
    with user_errors(), opened_store() as store, store.begin() as conn:
        result = verify(conn)
    if result.broken_at is None:
        out.print(f"Journal intègre : {result.entries} entrées, chaînage vérifié.")
        return
    out.print(Text(f"Journal ALTÉRÉ à l'entrée {result.broken_at} : {result.reason}.",
                   style="bold red"))
    raise typer.Exit(1)


@audit_app.command("export")
def audit_export(
    out_file: Annotated[Path, typer.Option("--out", help="CSV file")],
    login: Annotated[str | None, typer.Option(help="Only this user's consultations")] = None,
    record: Annotated[str | None, typer.Option(help="Only this record (its id)")] = None,
) -> None:
    """The log as CSV (UTF-8, `;`), with each entry's hashes, for the auditor."""
    with user_errors(), opened_store() as store, store.begin() as conn, \
            open(out_file, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["id", *FIELDS, "prev_hash", "hash"])
        count = 0
        for e in entries(conn, login=login, record_id=record):
            writer.writerow(csv_row(e))
            count += 1
    out.print(f"{count} entrées exportées vers {out_file}")


retention_app = typer.Typer(help="Retention: erase case-file people and ads whose time "
                            "is up.",
                            no_args_is_help=True)


@retention_app.command("apply")
def retention_apply(
    erase: Annotated[bool, typer.Option(
        "--erase", help="Erase for real (by default, only say what would be erased).")]
    = False,
    today: Annotated[str | None, typer.Option(help="Reference date (ISO), default today")]
    = None,
) -> None:
    """Apply the retention periods of share/retention.toml to case-file people and to
    monitoring's ads (erased ads leave networks, which are linked and scored again)."""
    from datetime import date

    from faisceau.share.retention import apply_ad_retention, apply_retention

    with user_errors(), opened_store() as store:
        try:
            when = date.fromisoformat(today) if today else None
        except ValueError:
            raise fail(f"date illisible : {today}") from None
        summary = apply_retention(store, when, dry_run=not erase)
        ads = apply_ad_retention(store, when, dry_run=not erase)
    due = ", ".join(f"{c} {n}" for c, n in sorted(summary.due.items())) or "aucune"
    out.print(Text(f"Fiches arrivées à échéance : {due} ; gardées car la même personne est "
                   f"dans un dossier vivant : {summary.kept_as_resolved}."))
    out.print(f"Annonces arrivées à échéance : {ads.due} (dont {ads.due_decided} de réseaux "
              "retenus pour enquête).")
    if summary.dry_run:
        out.print("Rien n'a été effacé (faisceau retention apply --erase pour effacer).")
    else:
        out.print(f"Effacées : {summary.erased_entities} entités, "
                  f"{summary.erased_statements} déclarations.")
        out.print(f"Annonces effacées : {ads.due} ({ads.erased_versions} versions) ; réseaux "
                  f"devenus vides : {ads.expired_networks}.")
