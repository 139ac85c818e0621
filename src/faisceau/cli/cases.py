"""``faisceau cases``: import case files, list them, show one with its people kept apart by
category (victims, runaway reports and minors masked without a reason, ``cli.consult``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from faisceau.cli.common import fail, opened_store, out, user_errors, warn
from faisceau.cli.consult import (
    MASKED,
    Consultation,
    Reason,
    consultation,
    sensitive_records,
)
from faisceau.export import jsonout
from faisceau.intel.inspect import CATEGORY_LABELS, CaseDetail, case_detail, list_cases

if TYPE_CHECKING:
    from faisceau.intel.casefiles import ImportSummary

cases_app = typer.Typer(help="Case files (procédures): import, list, show.",
                        no_args_is_help=True)


def print_import(summary: ImportSummary, *, show: int = 20) -> None:
    table = Table(title="Import des dossiers", show_header=False)
    for label, value in (("fichiers", summary.files), ("enregistrements lus", summary.records),
                         ("entités", summary.entities), ("déclarations", summary.statements),
                         ("mis de côté (quarantaine)", len(summary.set_aside)),
                         ("chemins non lus en entier", len(summary.unread))):
        table.add_row(label, f"{value:,}".replace(",", "\u202f"))
    out.print(table)
    for item in summary.set_aside[:show]:
        out.print(Text(f"  mis de côté : {item.path}:{item.line} : {item.reason}"),
                  soft_wrap=True)
    if len(summary.set_aside) > show:
        out.print(f"  … et {len(summary.set_aside) - show} autres : faisceau quarantine list")
    # As for ads: every file not read in full, on standard error, never cut short; bad input
    # is reported, not a failure (exit status 0).
    for path, reason in summary.unread:
        warn(f"chemin non lu en entier (quarantaine, ligne 0) : {path} : {reason}")


@cases_app.command("import")
def import_command(
    paths: Annotated[list[Path], typer.Argument(help="CSV directories or files, FtM .jsonl")],
    source: Annotated[str | None, typer.Option(
        help="The source named in every fact's provenance (default: the file's name).")]
    = None,
) -> None:
    """Import case files: FtM JSON lines and the units' CSV layout (docs/case-files.md)."""
    from faisceau.intel.casefiles import import_case_files

    with user_errors(), opened_store() as store:
        try:
            summary = import_case_files(store, paths, source)
        except FileNotFoundError as exc:
            raise fail(str(exc)) from None
        print_import(summary)


@cases_app.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
) -> None:
    """The cases, with their unit, status and the people by category."""
    with user_errors(), consultation("cases list", "case", "liste") as seen:
        rows = list_cases(seen.conn)
        seen.shows(r.case_id for r in rows)
    if as_json:
        for row in rows:
            out.file.write(jsonout.text(dataclasses.asdict(row)) + "\n")
        return
    if not rows:
        out.print("Aucune procédure : faisceau cases import DOSSIER")
        return
    table = Table(title="Procédures")
    for column in ("affaire", "numéro", "unité", "dép.", "statut", "ouverte", "personnes"):
        table.add_column(column)
    for r in rows:
        people = ", ".join(f"{n} {CATEGORY_LABELS.get(c, c).split(' /')[0]}"
                           for c, n in sorted(r.people.items()))
        table.add_row(*(Text(v) for v in (r.case_id, r.number or "", r.unit or "",
                                           r.departement or "", r.status or "",
                                           r.opened or "", people)))
    out.print(table)


def masked_case(seen: Consultation, detail: CaseDetail) -> CaseDetail:
    """The case as it may be printed: each person and each other record of the file marked
    ``masked``; a masked one keeps its id, category, role, status and minor flag, and loses
    its caption (None) and its values (``properties``)."""
    items = [i for people in detail.people.values() for i in people]
    items += [i for others in detail.others.values() for i in others]
    sensitive = sensitive_records(seen.conn, [i["id"] for i in items])
    seen.shows([detail.case.case_id])

    def shown(item: dict[str, Any]) -> dict[str, Any]:
        if seen.reveals(item["id"], item["id"] in sensitive):
            return {**item, "masked": False}
        return {**item, "caption": None, "properties": {}, "masked": True}

    return dataclasses.replace(
        detail,
        people={c: [shown(p) for p in people] for c, people in detail.people.items()},
        others={s: [shown(i) for i in items] for s, items in detail.others.items()})


@cases_app.command("show")
def show_command(
    case_id: Annotated[str, typer.Argument(help="The case's id (affaire_id)")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON")] = False,
    reason: Reason = None,
) -> None:
    """One case: its facts, its people by category (kept apart), what the file holds.
    Victims, runaway reports and minors are masked unless a reason is given."""
    with user_errors(), consultation("cases show", "case", case_id, reason=reason) as seen:
        found = case_detail(seen.conn, case_id)
        if found is None:
            raise fail(f"procédure inconnue : {case_id}")
        detail = masked_case(seen, found)
    if as_json:
        out.file.write(jsonout.text(dataclasses.asdict(detail)) + "\n")
        return
    print_case(detail)


def print_case(detail: CaseDetail) -> None:
    c = detail.case
    out.print(Text(f"Procédure {c.number or c.case_id} ({c.case_id}) — {c.unit or '?'}, "
                   f"département {c.departement or '?'}, {c.status or '?'}", style="bold"))
    if c.offences:
        out.print(Text("Infractions : " + " ; ".join(c.offences)))
    for category, people in detail.people.items():
        table = Table(title=Text(CATEGORY_LABELS.get(category, category).capitalize()))
        for column in ("id", "nom", "rôle / statut", "mineur", "téléphones", "résolu comme"):
            table.add_column(column)
        for p in people:
            phones = ", ".join(p["properties"].get("phone", []))
            resolved = "" if p["resolved_as"] == p["id"] else p["resolved_as"]
            table.add_row(Text(p["id"]), Text(p["caption"] or MASKED),
                          Text(" / ".join(x for x in (p["role"], p["status"]) if x)),
                          "oui" if p["minor"] else "", Text(phones), Text(resolved))
        out.print(table)
    for schema, items in sorted(detail.others.items()):
        out.print(Text(f"{schema} : " + ", ".join(f"{i['caption'] or MASKED} ({i['id']})"
                                                for i in items[:20])
                       + (f" … (+{len(items) - 20})" if len(items) > 20 else "")),
                  soft_wrap=True)
