"""``faisceau leads``: where the ads' networks meet the case files, and analysts' decisions.

    faisceau leads find                      # cross-reference (again): idempotent
    faisceau leads list [--all] [--json] [--reason MOTIF]  # undecided leads, strongest first
    faisceau leads show LEAD_ID [--json] [--reason MOTIF]  # evidence ads, entity, decisions

A lead to a sensitive record (a victim, a runaway report, a minor, or what names one) shows
neither the shared value nor the record's name without a reason (``cli.consult``).
    faisceau leads decide LEAD_ID --confirm [--reason TEXT] | --dismiss REASON [--analyst]
"""

from __future__ import annotations

import dataclasses
import sys
from contextlib import AbstractContextManager
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from faisceau.cli.common import analyst_name, opened_store, out, refusals, user_errors
from faisceau.cli.consult import MASKED, Consultation, Reason, consultation, sensitive_records
from faisceau.export import jsonout
from faisceau.intel.leads import (
    Lead,
    LeadDecision,
    LeadError,
    decide,
    find_leads,
    lead_detail,
    lead_queue,
)

leads_app = typer.Typer(help="Leads: ad networks and case-file entities that share a phone, "
                             "an e-mail, a handle, a photo or a name (place and period).",
                        no_args_is_help=True)

KIND_WORDS = {"phone": "téléphone", "email": "e-mail", "handle": "identifiant",
              "image": "photo", "name": "prénom"}
STATUS_WORDS = {"new": "nouvelle", "confirmed": "confirmée", "dismissed": "écartée"}
CATEGORY_WORDS = {"victim": "victime", "suspect": "suspect", "witness": "témoin",
                  "relation": "personne en relation", "runaway": "fugue",
                  "fined_client": "client verbalisé"}
SCHEMA_WORDS = {"UserAccount": "compte en ligne", "Address": "hébergement",
                "Event": "signalement", "Person": "personne", "CourtCase": "affaire",
                "Image": "image", "Document": "document"}


def lead_errors() -> AbstractContextManager[None]:
    """A decision refused (unknown lead, missing reason…): one line, exit status 2."""
    return refusals(LeadError)


def _number(value: float, decimals: int = 2) -> str:
    return f"{value:.{decimals}f}".replace(".", ",")


def _day(lead: Lead) -> str:
    if lead.first_seen is None or lead.last_seen is None:
        return ""
    first, last = f"{lead.first_seen:%Y-%m-%d}", f"{lead.last_seen:%Y-%m-%d}"
    return first if first == last else f"{first} → {last}"


def _entity(lead: Lead) -> str:
    what = CATEGORY_WORDS.get(lead.entity_category or "") or \
        SCHEMA_WORDS.get(lead.entity_schema or "", lead.entity_schema or "entité")
    caption = lead.entity_caption or lead.entity_id
    return f"{caption} ({what}, {lead.entity_id})"


def _status(lead: Lead) -> str:
    text = STATUS_WORDS[lead.status]
    if lead.ads == 0:
        text += ", plus aucune annonce"
    return text


def _when(decision: LeadDecision) -> str:
    return decision.decided_at.strftime("%Y-%m-%d %H:%M UTC")


def describe_decision(decision: LeadDecision) -> str:
    """One French line: what was decided, by whom, when, and why."""
    text = f"{STATUS_WORDS[decision.decision]} par {decision.analyst} le {_when(decision)}"
    return f"{text} : {decision.reason}" if decision.reason else text


@leads_app.command("find")
def leads_find() -> None:
    """Cross-reference the ads' networks with the case files (again): new leads are
    added, the others updated; decisions are kept."""
    with user_errors(), opened_store() as store:
        summary = find_leads(store)
    kinds = ", ".join(f"{KIND_WORDS.get(k, k)} {n}" for k, n in summary.by_kind.items())
    out.print(f"Pistes : {summary.leads}" + (f" ({kinds})" if kinds else ""),
              highlight=False)
    out.print(f"  nouvelles {summary.new}, mises à jour {summary.updated}, inchangées "
              f"{summary.unchanged}, suivies dans un autre réseau {summary.followed}, "
              f"retirées {summary.removed}, gardées sans annonce (décidées) "
              f"{summary.kept_without_ads}", highlight=False)
    out.print(f"  valeurs des dossiers cherchées : {summary.keys} ; durée "
              f"{_number(summary.seconds, 1)} s", highlight=False)


def masked_leads(seen: Consultation, leads: list[Lead]) -> list[tuple[Lead, bool]]:
    """Each lead as it may be printed, and whether it is masked: a lead to a sensitive
    record loses its value and the record's caption (``MASKED`` in their place)."""
    sensitive = sensitive_records(seen.conn, [lead.entity_id for lead in leads])
    seen.detail["leads"] = [lead.id for lead in leads]
    out_leads = []
    for lead in leads:
        if seen.reveals(lead.entity_id, lead.entity_id in sensitive):
            out_leads.append((lead, False))
        else:
            out_leads.append((dataclasses.replace(lead, value=MASKED, entity_caption=MASKED),
                              True))
    return out_leads


def lead_json(lead: Lead, masked: bool) -> dict[str, Any]:
    """The lead for scripts: a masked one has no value nor caption (null), and says so."""
    data = lead.to_dict()
    if masked:
        data["value"] = None
        data["entity"]["caption"] = None
    data["masked"] = masked
    return data


def print_leads(command: str, *, limit: int, include_decided: bool, as_json: bool,
                reason: str | None) -> None:
    """The leads list, as ``leads list`` prints it (``demo`` too, under its own name)."""
    with user_errors(), lead_errors(), consultation(command, "lead", "liste",
                                                    reason=reason) as seen:
        leads = masked_leads(seen, lead_queue(seen.conn, limit=limit,
                                              include_decided=include_decided))
    if as_json:
        for lead, masked in leads:
            sys.stdout.write(jsonout.text(lead_json(lead, masked)) + "\n")
        return
    if not leads:
        out.print("Aucune piste à examiner." if include_decided else
                  "Aucune piste à examiner (pistes déjà décidées : faisceau leads list --all ;"
                  " chercher : faisceau leads find).", highlight=False)
        return
    table = Table(title="Pistes : réseaux d'annonces et dossiers, par force décroissante")
    table.add_column("piste", no_wrap=True)
    table.add_column("force", no_wrap=True)
    table.add_column("réseau", no_wrap=True)
    table.add_column("partagé", min_width=14, overflow="fold")
    table.add_column("entité du dossier, affaire", min_width=14, overflow="fold")
    for lead, _ in leads:
        risk = f"\nrisque {_number(lead.network_risk)}" if lead.network_risk is not None else ""
        table.add_row(Text(f"{lead.id}\n{_status(lead)}"),
                      f"{_number(lead.strength)}\n{lead.ads} ann.",
                      Text(lead.network_id + risk),
                      Text(f"{KIND_WORDS[lead.kind]}\n{lead.value}"),
                      Text(f"{_entity(lead)}\n{lead.case_caption or lead.case_id or '—'}"))
    out.print(table)


@leads_app.command("list")
def leads_list(
    limit: Annotated[int, typer.Option(min=1, help="How many leads.")] = 20,
    include_decided: Annotated[bool, typer.Option(
        "--all", help="Also the leads already decided on, and those no ad shows any more.")]
    = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines, for scripts.")] = False,
    reason: Reason = None,
) -> None:
    """Leads nobody decided on yet, strongest first, then those with more ads."""
    print_leads("leads list", limit=limit, include_decided=include_decided, as_json=as_json,
                reason=reason)


@leads_app.command("show")
def leads_show(
    lead_id: str,
    as_json: Annotated[bool, typer.Option("--json", help="JSON, for scripts.")] = False,
    reason: Reason = None,
) -> None:
    """One lead: its network, the case entity, the ads that show the value, decisions."""
    with user_errors(), lead_errors(), consultation("leads show", "lead", lead_id,
                                                    reason=reason) as seen:
        found = lead_detail(seen.conn, lead_id)
        if found is None:
            raise LeadError(f"piste inconnue : {lead_id}")
        [(lead, masked)] = masked_leads(seen, [found])
    if as_json:
        sys.stdout.write(jsonout.text(lead_json(lead, masked)) + "\n")
        return
    lines = [
        f"Piste {lead.id} : {KIND_WORDS[lead.kind]} « {lead.value} », force "
        f"{_number(lead.strength)}, {_status(lead)}",
        f"Réseau : {lead.network_id}" + (f" (risque {_number(lead.network_risk)}, "
                                           f"{lead.network_ads} annonces)"
                                           if lead.network_risk is not None else ""),
        f"Entité du dossier : {_entity(lead)}",
        f"Affaire : {lead.case_caption or '—'}" + (f" ({lead.case_id})" if lead.case_id else ""),
        f"Annonces qui la montrent : {lead.ads}" + (f", vues {_day(lead)}" if _day(lead) else ""),
    ]
    shown = lead.evidence
    lines.append("Premières annonces : " + (", ".join(shown) if shown else "—"))
    if lead.ads > len(shown):
        lines.append(f"  … et {lead.ads - len(shown)} autres")
    lines.append(f"Trouvée le {lead.found_at:%Y-%m-%d %H:%M} UTC, mise à jour le "
                 f"{lead.updated_at:%Y-%m-%d %H:%M} UTC")
    if lead.decisions:
        lines.append("Décisions :")
        lines += [f"  n° {d.id} : {describe_decision(d)}" for d in lead.decisions]
    else:
        lines.append("Décisions : aucune")
    for line in lines:
        out.print(line, markup=False, highlight=False, soft_wrap=True)


@leads_app.command("decide")
def leads_decide(
    lead_id: str,
    confirm: Annotated[bool, typer.Option("--confirm", help="The lead is right.")] = False,
    dismiss: Annotated[str | None, typer.Option("--dismiss", metavar="REASON",
                                                help="Dismiss it, with the reason.")] = None,
    reason: Annotated[str | None, typer.Option(help="Why (with --confirm).")] = None,
    analyst: Annotated[str | None, typer.Option(
        help="Who decides; default $FAISCEAU_ANALYST, else the session's user.")] = None,
) -> None:
    """Record a decision on a lead (never changed afterwards: a new decision is added)."""
    with user_errors(), lead_errors():
        if confirm == (dismiss is not None):
            raise LeadError("choisir exactement une décision : --confirm ou --dismiss MOTIF")
        if dismiss is not None and reason is not None:
            raise LeadError("le motif d'une piste écartée se donne avec --dismiss MOTIF")
        decision, why = ("confirmed", reason) if confirm else ("dismissed", dismiss)
        name = analyst_name(analyst)
        with opened_store() as store:
            decision_id = decide(store, lead_id, decision, name, why)
            with store.begin() as conn:
                lead = lead_detail(conn, lead_id)
    assert lead is not None
    recorded = next(d for d in lead.decisions if d.id == decision_id)
    out.print(f"Décision n° {decision_id} enregistrée sur la piste {lead_id} : "
              f"{describe_decision(recorded)}.", markup=False, highlight=False, soft_wrap=True)
