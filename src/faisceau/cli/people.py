"""``faisceau people``: the people of the case files resolved, the pairs an analyst reviews,
merges and their undoing, and the resolved person with where each value came from. A pair
or a person with a sensitive record (victim, runaway report, minor) is shown masked without
a reason (``cli.consult``)."""

from __future__ import annotations

import dataclasses
import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from faisceau.cli.common import analyst_name, opened_store, out, refusals, user_errors
from faisceau.cli.consult import MASKED, Consultation, Reason, consultation, sensitive_records
from faisceau.export import jsonout
from faisceau.intel.people import (
    CATEGORY_LABELS,
    JUDGEMENT_LABELS,
    Judgement,
    MergedPerson,
    PeopleError,
    ResolutionSummary,
    ReviewItem,
    history,
    judge,
    load_people_settings,
    merged_person,
    resolve_people,
    review_queue,
    unmerge,
)

people_app = typer.Typer(
    help="People of the case files: resolution with Splink, review of uncertain pairs, "
         "merges and their undoing, the resolved person with provenance.",
    no_args_is_help=True)

SOURCE_LABELS = {"splink": "automatique (Splink)", "analyst": "analyste"}
_SHOWN = {"female": "femme", "male": "homme", "minor": "oui", "adult": "non"}


def people_errors() -> AbstractContextManager[None]:
    """A refused request (unknown person, missing reason…): one line, exit status 2."""
    return refusals(PeopleError)


def _number(value: float, digits: int = 3) -> str:
    return f"{value:.{digits}f}".replace(".", ",")


def _count(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return _SHOWN.get(str(value), str(value))


def _json_lines(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        sys.stdout.write(jsonout.text(row) + "\n")


def _say(text: str) -> None:
    out.print(text, markup=False, highlight=False, soft_wrap=True)


# -- resolve ---------------------------------------------------------------------------------


def print_resolution(summary: ResolutionSummary, match: float, review: float) -> None:
    _say(f"Personnes résolues en {_number(summary.seconds, 1)} s : "
         f"{_count(summary.records)} fiches comparées.")
    _say(f"  paires retenues (probabilité ≥ {_number(review, 2)}) : "
         f"{_count(summary.candidates)}, dont {_count(summary.matched)} au-dessus du seuil "
         f"de fusion ({_number(match, 2)})")
    _say(f"  fusions automatiques nouvelles : {_count(summary.merged)} ; retirées : "
         f"{_count(summary.withdrawn)}")
    _say(f"  au-dessus du seuil mais gardées pour un analyste (catégories distinctes ou même "
         f"affaire) : {_count(summary.held)} ; déjà jugées par un analyste : "
         f"{_count(summary.analyst_kept)}")
    _say(f"  personnes résolues : {_count(summary.people)}, dont "
         f"{_count(summary.merged_entities)} fiches rattachées à au moins une autre ; "
         f"identifiants changés : {_count(summary.changed)}")
    _say(f"  paires à examiner : {_count(summary.to_review)}"
         + (" (faisceau people review)" if summary.to_review else ""))


@people_app.command("resolve")
def resolve_command(
    settings_file: Annotated[Path | None, typer.Option(
        "--settings", help="Settings file (default: the shipped people_resolution.toml).")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="The summary as JSON.")] = False,
) -> None:
    """Compare the people of the case files (Splink), merge the sure pairs, queue the
    uncertain ones. Running it again changes nothing."""
    with user_errors(), people_errors():
        try:
            settings = load_people_settings(settings_file)
        except (KeyError, TypeError, ValueError) as exc:
            raise PeopleError(f"réglages illisibles ({settings_file}) : {exc}") from None
        with opened_store() as store:
            summary = resolve_people(store, settings)
    if as_json:
        _json_lines([summary.to_dict()])
        return
    print_resolution(summary, settings.match, settings.review)


# -- review ----------------------------------------------------------------------------------


def _card_line(item: ReviewItem, side: str, masked: bool) -> str:
    card = item.left if side == "left" else item.right
    parts = [card.category_label or "sans catégorie"]
    if card.status and card.status != card.category_label:
        parts.append(card.status)
    if card.role:
        parts.append(card.role)
    if card.case_id:
        parts.append(f"affaire {card.case_id}" + (f" ({card.unit})" if card.unit else ""))
    if card.canonical_id != card.id:
        parts.append(f"déjà rattachée à {card.canonical_id}")
    name = MASKED if masked else card.caption or "sans nom"
    return f"{card.id} : {name} — " + ", ".join(parts)


def masked_review(seen: Consultation,
                  items: list[ReviewItem]) -> list[tuple[ReviewItem, bool]]:
    """Each pair as it may be printed, and whether it is masked. A pair is masked as a whole
    when either record is sensitive: the comparison would otherwise show the sensitive
    record's values through the other's ("identique")."""
    sensitive = sensitive_records(seen.conn, [c.id for i in items for c in (i.left, i.right)])
    out_items = []
    for item in items:
        pair_sensitive = bool({item.left.id, item.right.id} & sensitive)
        shown = [seen.reveals(card.id, pair_sensitive) for card in (item.left, item.right)]
        if all(shown):
            out_items.append((item, False))
            continue
        out_items.append((dataclasses.replace(
            item, left=dataclasses.replace(item.left, caption=None, values={}),
            right=dataclasses.replace(item.right, caption=None, values={}),
            fields=[dataclasses.replace(f, left=None, right=None) for f in item.fields]),
            True))
    return out_items


def review_json(item: ReviewItem, masked: bool) -> dict[str, Any]:
    return {**item.to_dict(), "masked": masked}


def print_review(items: list[tuple[ReviewItem, bool]]) -> None:
    if not items:
        _say("Aucune paire à examiner.")
        return
    for number, (item, masked) in enumerate(items, 1):
        title = (f"{number}. {item.left.id} ↔ {item.right.id} : probabilité "
                 f"{_number(item.probability)}")
        table = Table(title=Text(title), title_justify="left")
        table.add_column("champ")
        table.add_column(Text(item.left.id))
        table.add_column(Text(item.right.id))
        table.add_column("comparaison")
        table.add_column("poids", justify="right")
        for f in item.fields:
            weight = "" if f.weight is None else f"{f.weight:+.1f}".replace(".", ",")
            left, right = (MASKED, MASKED) if masked else (_shown(f.left), _shown(f.right))
            table.add_row(Text(f.label), Text(left), Text(right), Text(f.level), weight)
        out.print(table)
        _say(f"  {_card_line(item, 'left', masked)}")
        _say(f"  {_card_line(item, 'right', masked)}")
        if item.held:
            _say(f"  Non fusionnée automatiquement : {item.held}.")
        _say(f"  Décider : faisceau people judge {item.left.id} {item.right.id} --same | "
             "--different --reason MOTIF | --unsure")
        out.print()


@people_app.command("review")
def review_command(
    limit: Annotated[int, typer.Option(min=1, help="How many pairs.")] = 20,
    category: Annotated[str | None, typer.Option(
        help="Only pairs with a record of this category: suspect, victim, witness, "
             "relation, runaway, fined_client.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines, for scripts.")] = False,
    reason: Reason = None,
) -> None:
    """The pairs waiting for an analyst, most probable first: both records side by side
    and how each field compared."""
    with user_errors(), people_errors():
        if category is not None and category not in CATEGORY_LABELS:
            raise PeopleError(f"catégorie inconnue : {category} (connues : "
                              f"{', '.join(CATEGORY_LABELS)})")
        with consultation("people review", "entity", "revue", reason=reason) as seen:
            items = masked_review(seen, review_queue(seen.conn, limit, category=category))
    if as_json:
        _json_lines([review_json(item, masked) for item, masked in items])
        return
    print_review(items)


# -- judgements ------------------------------------------------------------------------------


def _when(j: Judgement) -> str:
    return j.decided_at.strftime("%Y-%m-%d %H:%M UTC")


def describe(j: Judgement) -> str:
    text = (f"{JUDGEMENT_LABELS[j.judgement]} ({SOURCE_LABELS.get(j.source, j.source)}, "
            f"{j.decided_by}, {_when(j)})")
    if j.probability is not None:
        text += f", probabilité {_number(j.probability)}"
    if j.reason:
        text += f" : {j.reason}"
    return text


def _chosen(same: bool, different: bool, unsure: bool) -> str:
    if same + different + unsure != 1:
        raise PeopleError("choisir exactement un jugement : --same, --different ou --unsure")
    return "positive" if same else "negative" if different else "unsure"


@people_app.command("judge")
def judge_command(
    left: str,
    right: str,
    same: Annotated[bool, typer.Option("--same", help="The same person.")] = False,
    different: Annotated[bool, typer.Option(
        "--different", help="Different people (needs --reason).")] = False,
    unsure: Annotated[bool, typer.Option("--unsure", help="Cannot tell.")] = False,
    reason: Annotated[str | None, typer.Option(help="Why.")] = None,
    analyst: Annotated[str | None, typer.Option(
        help="Who judges; default $FAISCEAU_ANALYST, else the session's user.")] = None,
) -> None:
    """Judge a pair of records (never changed afterwards: a new judgement is added, the
    latest counts); the resolved people are recomputed."""
    with user_errors(), people_errors():
        judgement = _chosen(same, different, unsure)
        name = analyst_name(analyst or None)
        with opened_store() as store:
            recorded = judge(store, left, right, judgement, name, reason)
            with store.begin() as conn:
                person = merged_person(conn, left)
    _say(f"Jugement n° {recorded.id} enregistré sur {recorded.left_id} et {recorded.right_id} : "
         f"{describe(recorded)}.")
    _say(f"{left} appartient à la personne résolue {person.canonical_id} "
         f"({len(person.members)} fiche{'s' if len(person.members) > 1 else ''}).")


@people_app.command("unmerge")
def unmerge_command(
    entity_id: Annotated[str, typer.Argument(metavar="ID")],
    reason: Annotated[str | None, typer.Option(help="Why (required).")] = None,
    analyst: Annotated[str | None, typer.Option(
        help="Who decides; default $FAISCEAU_ANALYST, else the session's user.")] = None,
) -> None:
    """Undo the merges of a record: different from every record it was linked to (the
    earlier judgements stay in the history)."""
    with user_errors(), people_errors():
        if not (reason or "").strip():
            raise PeopleError("défaire une fusion demande un motif (--reason)")
        name = analyst_name(analyst or None)
        with opened_store() as store:
            recorded = unmerge(store, entity_id, name, reason or "")
    others = [j.right_id if j.left_id == entity_id else j.left_id for j in recorded]
    _say(f"Fusion défaite : {entity_id} séparée de {', '.join(others)} "
         f"(jugement{'s' if len(recorded) > 1 else ''} n° "
         f"{', '.join(str(j.id) for j in recorded)}, {name} : {reason}).")


def print_history(entity_id: str, judgements: list[Judgement]) -> None:
    if not judgements:
        _say(f"Aucun jugement sur {entity_id}.")
        return
    table = Table(title=Text(f"Jugements sur {entity_id}"))
    for column in ("n°", "paire", "jugement", "source", "par", "date", "probabilité", "motif"):
        table.add_column(column, no_wrap=column in ("n°", "date"))
    for j in judgements:
        table.add_row(str(j.id), Text(f"{j.left_id} ↔ {j.right_id}"),
                      JUDGEMENT_LABELS[j.judgement], SOURCE_LABELS.get(j.source, j.source),
                      Text(j.decided_by), _when(j),
                      "" if j.probability is None else _number(j.probability),
                      Text(j.reason or ""))
    out.print(table)


@people_app.command("history")
def history_command(
    entity_id: Annotated[str, typer.Argument(metavar="ID")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines, for scripts.")] = False,
) -> None:
    """Every judgement on a pair that includes this record, oldest first."""
    with user_errors(), people_errors(), consultation("people history", "entity",
                                                      entity_id) as seen:
        judgements = history(seen.conn, entity_id)
        seen.shows([entity_id])
        seen.detail["judgements"] = len(judgements)
    if as_json:
        _json_lines([j.to_dict() for j in judgements])
        return
    print_history(entity_id, judgements)


# -- the resolved person ---------------------------------------------------------------------


def _provenance(source: Any) -> str:
    parts = [f"{source.entity_id} ({_category(source.category)})", source.dataset]
    if source.case_id:
        parts.append(f"affaire {source.case_id}")
    if source.unit:
        parts.append(source.unit)
    if source.fact_date:
        parts.append(f"date {source.fact_date}")
    parts.append(source.origin)
    return " · ".join(parts)


def _category(category: str | None) -> str:
    return CATEGORY_LABELS.get(category or "", category or "sans catégorie")


def masked_person(seen: Consultation, person: MergedPerson) -> tuple[MergedPerson, bool]:
    """The person as it may be printed, and whether it is masked: a resolved person with a
    sensitive record is masked as a whole (its records' names and every value)."""
    ids = [m.id for m in person.members] or [person.entity_id]
    sensitive = bool(sensitive_records(seen.conn, ids))
    if all([seen.reveals(i, sensitive) for i in ids]):
        return person, False
    return dataclasses.replace(
        person, values=[],
        members=[dataclasses.replace(m, caption=None) for m in person.members]), True


def print_person(person: MergedPerson, masked: bool = False) -> None:
    count = len(person.members)
    _say(f"Personne résolue {person.canonical_id} : {count} fiche{'s' if count > 1 else ''}, "
         "chacune avec sa catégorie (jamais confondues).")
    members = Table(title="Fiches")
    for column in ("fiche", "catégorie", "statut / rôle", "affaire", "unité", "département",
                   "signalement"):
        members.add_column(column)
    for m in person.members:
        status = " / ".join(x for x in (m.status, m.role) if x)
        reports = ", ".join(f"{r['id']} du {r.get('date') or '?'} ({r.get('departement') or '?'})"
                            for r in m.reports)
        members.add_row(Text(m.id), Text(_category(m.category) + (" (mineur)" if m.minor
                                                                   else "")),
                        Text(status), Text(m.case_id or ""), Text(m.unit or ""),
                        Text(m.departement or ""), Text(reports))
    out.print(members)
    if masked:
        _say(f"Valeurs et provenance : {MASKED}.")
    else:
        values = Table(title="Valeurs et provenance")
        values.add_column("champ")
        values.add_column("valeur")
        values.add_column("provenance (fiche · source · affaire · unité · date · fichier:ligne)")
        for v in person.values:
            values.add_row(Text(v.label), Text(_shown(v.value)),
                           Text("\n".join(_provenance(s) for s in v.sources)))
        out.print(values)
    if person.links:
        _say("Rattachements :")
        for j in person.links:
            _say(f"  {j.left_id} ↔ {j.right_id} : {describe(j)}")


@people_app.command("show")
def show_command(
    entity_id: Annotated[str, typer.Argument(metavar="ID")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON, for scripts.")] = False,
    reason: Reason = None,
) -> None:
    """The resolved person a record belongs to: its records, each value with where it came
    from (source, case, unit, date, file and line), and the judgements that join them."""
    with user_errors(), people_errors(), consultation("people show", "entity", entity_id,
                                                      reason=reason) as seen:
        person, masked = masked_person(seen, merged_person(seen.conn, entity_id))
    if as_json:
        _json_lines([{**person.to_dict(), "masked": masked}])
        return
    print_person(person, masked)


if __name__ == "__main__":  # pragma: no cover - until registered as ``faisceau people``
    people_app(prog_name="faisceau people")
