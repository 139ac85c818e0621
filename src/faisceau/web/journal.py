"""The consultation log for the auditor: read, filter, verify the chain, export.

Only the auditor role (the data-protection officer and those who answer for the log) reads
it: the log itself names who consulted what, so reading it is personal data too. Each
reading and export is logged in its turn, in the same transaction; a verification just
after it (the anchor must be read before the table, ``audit.verify``).
"""

from __future__ import annotations

import io
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from faisceau.export import safecsv
from faisceau.share import audit
from faisceau.share.accounts import User
from faisceau.store import Store
from faisceau.web.api import refused_role
from faisceau.web.pages import render
from faisceau.web.security import current_user, store_of

AUDITORS = ("auditor",)
PAGE = 100
MAX_PAGE = 1000
NOT_AUDITOR = "Le journal des consultations est réservé aux auditeurs."
ACTION_WORDS = {"view": "consultation", "search": "recherche", "export": "export",
                "denied": "refus", "change": "modification",
                "login_failed": "connexion échouée", "login_locked": "connexion retardée",
                "login_refused": "connexion refusée pendant un délai"}


class EntryOut(BaseModel):
    id: int
    at: str = Field(description="UTC, ISO 8601")
    login: str
    unit: str
    action: str
    record_kind: str
    record_id: str
    detail: str | None
    reason: str | None
    prev_hash: str
    hash: str


class JournalOut(BaseModel):
    total: int = Field(description="entrées correspondant aux filtres")
    entries: list[EntryOut]
    next_before: int | None = Field(description="valeur de « avant » pour la page suivante")


class VerificationOut(BaseModel):
    entries: int
    intact: bool = Field(description="chaînage suivi, points d'ancrage tous vérifiés")
    broken_at: int | None = Field(description="première entrée altérée, manquante ou réécrite")
    reason: str | None
    checkpoints: int = Field(description="points d'ancrage signés lus")
    anchored_to: int | None = Field(description="entrée qu'atteste le dernier point d'ancrage")
    anchored_at: str | None = Field(description="date du dernier point d'ancrage (UTC)")
    unanchored: int = Field(description="entrées postérieures, pas encore attestées")
    anchor_problem: str | None = Field(
        description="pourquoi la troncature ne peut être exclue (pas d'ancrage, clé, ligne "
                    "endommagée), ou null")


class ErrorOut(BaseModel):
    detail: str


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, f"{name} : date attendue au format AAAA-MM-JJ") from None


def journal_filters(identifiant: str | None = None, unite: str | None = None,
                    action: str | None = None, type: str | None = None,
                    enregistrement: str | None = None, du: str | None = None,
                    au: str | None = None, motifs: bool = False) -> audit.Filters:
    """The query string's filters (French names, as the page's form); ``au`` is included."""
    if action and action not in audit.ACTIONS:
        raise HTTPException(400, f"action inconnue : {action}")
    since, until = _day(du, "du"), _day(au, "au")
    return audit.Filters(
        login=identifiant or None, unit=unite or None, action=action or None,
        record_kind=type or None, record_id=enregistrement or None,
        since=datetime.combine(since, datetime.min.time()) if since else None,
        until=datetime.combine(until + timedelta(days=1), datetime.min.time())
        if until else None,
        with_reason=motifs)


Filters = Annotated[audit.Filters, Depends(journal_filters)]
CurrentUser = Annotated[User, Depends(current_user)]


def _checked(conn: Any, user: User, what: str) -> Any:
    """The auditor's viewer; anyone else is refused (logged): None."""
    viewer = user.viewer(conn)
    refused = refused_role(conn, viewer, "journal", what, AUDITORS, NOT_AUDITOR)
    return viewer if refused is None else None


def _described(filters: audit.Filters) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v)
            for k, v in asdict(filters).items() if v not in (None, False)}


def read_journal(store: Store, user: User, filters: audit.Filters, *, limit: int = PAGE,
                 before: int | None = None) -> tuple[list[audit.Entry], int]:
    """A page of the log for an auditor; the reading is logged."""
    with store.begin() as conn:
        viewer = _checked(conn, user, "lecture")
        if viewer is not None:
            found, total = audit.latest(conn, filters, limit=limit, before_id=before)
            audit.record(conn, viewer, "view", "journal", "lecture",
                         detail={"filters": _described(filters),
                                 "entries": [e.id for e in found]})
            return found, total
    raise HTTPException(403, NOT_AUDITOR)


def verify_journal(store: Store, user: User) -> audit.Verification:
    """The chain and the anchor checked for an auditor (``audit.verify``, in a transaction
    of its own: it must read the anchor before the table); the verification is logged."""
    with store.begin() as conn:
        viewer = _checked(conn, user, "verification")
    if viewer is None:
        raise HTTPException(403, NOT_AUDITOR)
    result = audit.verify(store)
    with store.begin() as conn:
        audit.record(conn, viewer, "view", "journal", "verification",
                     detail={"entries": result.entries, "broken_at": result.broken_at,
                             "anchor_problem": result.anchoring.problem})
    return result


def export_journal(store: Store, user: User, filters: audit.Filters) -> str:
    """The matching entries as CSV (``;``, UTF-8), as ``faisceau audit export`` writes it."""
    with store.begin() as conn:
        viewer = _checked(conn, user, "export")
        if viewer is not None:
            buffer = io.StringIO()
            writer = safecsv.writer(buffer, delimiter=";")
            writer.writerow(["id", *audit.FIELDS, "prev_hash", "hash"])
            count = 0
            for e in audit.entries(conn, filters=filters):
                writer.writerow(audit.csv_row(e))
                count += 1
            audit.record(conn, viewer, "export", "journal", "export",
                         detail={"filters": _described(filters), "entries": count})
            return buffer.getvalue()
    raise HTTPException(403, NOT_AUDITOR)


def _entry_out(e: audit.Entry) -> dict[str, Any]:
    return {**{k: getattr(e, k) for k in EntryOut.model_fields if k != "at"},
            "at": e.at.isoformat()}


router = APIRouter()
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Filtre invalide"},
    401: {"model": ErrorOut, "description": "Connexion requise"},
    403: {"model": ErrorOut, "description": "Réservé aux auditeurs"},
}


@router.get("/api/journal", response_model=JournalOut, tags=["api"], responses=ERRORS,
            summary="Le journal des consultations (auditeurs)")
def api_journal(request: Request, user: CurrentUser, filters: Filters,
                limite: Annotated[int, Query(ge=1, le=MAX_PAGE)] = PAGE,
                avant: Annotated[int | None, Query(ge=1, le=2**62)] = None) -> dict[str, Any]:
    found, total = read_journal(store_of(request), user, filters, limit=limite, before=avant)
    return {"total": total, "entries": [_entry_out(e) for e in found],
            "next_before": found[-1].id if len(found) == limite else None}


@router.get("/api/journal/verification", response_model=VerificationOut, tags=["api"],
            responses=ERRORS, summary="Vérifier le chaînage du journal (auditeurs)")
def api_verification(request: Request, user: CurrentUser) -> dict[str, Any]:
    result = verify_journal(store_of(request), user)
    a = result.anchoring
    return {"entries": result.entries, "intact": result.intact,
            "broken_at": result.broken_at, "reason": result.reason,
            "checkpoints": a.checkpoints, "anchored_to": a.anchored_to,
            "anchored_at": a.anchored_at, "unanchored": a.unanchored,
            "anchor_problem": a.problem}


@router.get("/api/journal/export.csv", tags=["api"], responses=ERRORS,
            response_class=Response, summary="Exporter le journal en CSV (auditeurs)")
def journal_csv(request: Request, user: CurrentUser, filters: Filters) -> Response:
    body = export_journal(store_of(request), user, filters)
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition":
                             'attachment; filename="journal-consultations.csv"'})


@router.get("/journal", response_class=HTMLResponse, include_in_schema=False)
def journal_page(request: Request, user: CurrentUser, filters: Filters,
                 avant: int | None = None) -> Response:
    found, total = read_journal(store_of(request), user, filters, before=avant)
    query = {k: v for k, v in request.query_params.items() if k != "avant"}
    return render(request, "journal.html", {
        "entries": found, "total": total, "query": query, "filters": filters,
        "actions": ACTION_WORDS,
        "next_before": found[-1].id if len(found) == PAGE else None}, user=user)


@router.get("/journal/verification", response_class=HTMLResponse, include_in_schema=False)
def verification_page(request: Request, user: CurrentUser) -> Response:
    result = verify_journal(store_of(request), user)
    return render(request, "journal_verification.html", {"result": result}, user=user)
