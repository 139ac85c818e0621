"""``faisceau units | users | audit``: units and accounts, and the consultation log for the
auditor (verify its chain and its anchor, export it, start its anchor, give the anchor's
public key)."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from faisceau.cli.common import fail, opened_store, out, user_errors
from faisceau.cli.consult import consultation
from faisceau.config import settings_from_env
from faisceau.export import safecsv
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
from faisceau.share.anchor import (
    AnchorError,
    anchor_paths,
    fingerprint,
    public_pem,
    start_anchor,
    verification_key,
)
from faisceau.share.audit import FIELDS, Verification, csv_row, entries, verify
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
    with user_errors(), consultation("users add", "user", login, action="change") as act:
        try:
            user = add_user(act.conn, login, password, role, unit, name)
        except AccountError as exc:
            raise fail(str(exc)) from None
        act.detail.update(what="created", role=user.role, unit=user.unit, name=user.name)
    out.print(Text(f"Compte {user.login} créé : {user.role}, {user.unit}."))


@users_app.command("password")
def users_password(
    login: Annotated[str, typer.Argument(help="The login")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Reset an account's password (the same policy); every session of the account ends and
    its login delay is lifted. Logged as a change under the operator's name."""
    password = _password(password_stdin)
    with user_errors(), consultation("users password", "user", login,
                                     action="change") as act:
        try:
            ended = reset_password(act.conn, login, password)
        except AccountError as exc:
            raise fail(str(exc)) from None
        act.detail["what"] = "password reset"
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
    kind, record = ("user", login) if login is not None else ("address", str(address))
    with user_errors(), consultation("users unlock", kind, record, action="change") as act:
        try:
            had = unlock(act.conn, login) if login is not None else unlock_address(
                act.conn, str(address))
        except AccountError as exc:
            raise fail(str(exc)) from None
        act.detail.update(what="unlocked", had_failures=had)
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
def audit_verify(
    public_key: Annotated[Path | None, typer.Option(
        "--public-key", help="The anchor's public key as the auditor keeps it (PEM), instead "
        "of FAISCEAU_AUDIT_PUBLIC_KEY or the signing key's own")] = None,
) -> None:
    """Check the log: its hash chain from the first entry, and every signed checkpoint of its
    anchor against the table. Exit status 1 if an entry was changed or removed, if the log
    was cut short or rewritten, or if that cannot be checked (no anchor, no key, a damaged
    anchor). The verification is logged in its turn."""
    with user_errors(), opened_store() as store:
        result = verify(store, public_key=public_key)
    with user_errors(), consultation("audit verify", "journal", "verification") as seen:
        seen.detail.update({"entries": result.entries, "broken_at": result.broken_at,
                            "anchor_problem": result.anchoring.problem})
    for line, alarm in verdict_lines(result):
        out.print(Text(line, style="bold red" if alarm else ""), soft_wrap=True)
    if not result.intact:
        raise typer.Exit(1)


def verdict_lines(result: Verification) -> list[tuple[str, bool]]:
    """What ``audit verify`` says, line by line, each with whether it is an alarm."""
    a = result.anchoring
    lines: list[tuple[str, bool]] = []
    if result.chained:
        lines.append((f"Chaînage vérifié : {result.entries} entrées depuis la première.", False))
    if result.broken_at is not None:
        lines.append((f"Journal ALTÉRÉ à l'entrée {result.broken_at} : {result.reason}.", True))
    if a.problem is not None:
        lines.append((f"Journal NON VÉRIFIABLE : {a.problem}.", True))
    elif a.anchored_to is not None:
        lines.append((f"Ancrage authentique : {a.checkpoints} points d'ancrage signés ; le dernier "
                      f"({a.anchored_at}) atteste l'entrée n° {a.anchored_to}.", False))
    if a.unanchored:
        lines.append((f"{a.unanchored} entrée(s) postérieure(s) au dernier point d'ancrage, "
                      "pas encore attestée(s) : écrites depuis, ou point d'ancrage non écrit "
                      "(voir les erreurs du service).", False))
    if result.intact:
        lines.append((f"Journal intègre : {result.entries} entrées, chaînage et ancrage "
                      "vérifiés.", False))
    return lines


@audit_app.command("anchor")
def audit_anchor() -> None:
    """Start the anchor of a log that has none (kept from before anchoring, or whose key or
    anchor file was lost, once that is investigated): create the key and the anchor file,
    then log this act, whose checkpoint attests the log as it stands. Refused when a key or
    checkpoints exist."""
    with user_errors(), opened_store() as store:
        try:
            key = start_anchor(anchor_paths(store.settings))
        except AnchorError as exc:
            raise fail(str(exc)) from None
        with consultation("audit anchor", "journal", "ancrage", action="change") as seen:
            seen.detail["key"] = fingerprint(key)
        result = verify(store)
    out.print(Text(f"Ancrage commencé : clé {fingerprint(key)} ; le point d'ancrage atteste "
                   f"l'entrée n° {result.anchoring.anchored_to}. Remettez la clé publique "
                   "(faisceau audit public-key) à l'auditeur."), soft_wrap=True)


@audit_app.command("public-key")
def audit_public_key() -> None:
    """Print the public key that checks the anchor's signatures, for the auditor to keep
    apart and give back with `audit verify --public-key`."""
    paths = anchor_paths(settings_from_env())
    with user_errors():
        try:
            key = verification_key(replace(paths, public_key=None))
        except AnchorError as exc:
            raise fail(f"{exc} (la clé est créée à la première entrée du journal)") from None
    out.print(Text(f"Empreinte : {fingerprint(key)}"))
    out.print(Text(public_pem(key).decode("ascii").rstrip("\n")))


@audit_app.command("export")
def audit_export(
    out_file: Annotated[Path, typer.Option("--out", help="CSV file")],
    login: Annotated[str | None, typer.Option(help="Only this user's consultations")] = None,
    record: Annotated[str | None, typer.Option(help="Only this record (its id)")] = None,
) -> None:
    """The log as CSV (UTF-8, `;`), with each entry's hashes, for the auditor. The export
    is logged in its turn, in the same transaction as the read."""
    with user_errors(), consultation("audit export", "journal", "export",
                                     action="export") as seen, \
            open(out_file, "w", encoding="utf-8", newline="") as handle:
        writer = safecsv.writer(handle, delimiter=";")
        writer.writerow(["id", *FIELDS, "prev_hash", "hash"])
        count = 0
        for e in entries(seen.conn, login=login, record_id=record):
            writer.writerow(csv_row(e))
            count += 1
        seen.detail.update(
            {"filters": {k: v for k, v in (("login", login), ("record_id", record)) if v},
             "entries": count})
    out.print(Text(f"{count} entrées exportées vers {out_file}"))


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
