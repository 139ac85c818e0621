"""The JSON API, and the reads and writes the pages share with it.

Every read of records goes through ``queue_view`` and ``network_view``: need-to-know is
decided there (``faisceau.share.access``) and each consultation is written to the
consultation log in the same transaction as the read. A refusal is logged too, then raised
after the transaction has committed (so that the log keeps it): 403 for a role that does
not read records (the auditor), 404 for a network the viewer may not see, exactly as for a
network that does not exist.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from faisceau.intel.leads import Lead, leads_for_network
from faisceau.link.inspect import network_detail
from faisceau.score.inspect import network_score_detail
from faisceau.score.review import (
    Decision,
    QueueEntry,
    ReviewError,
    earlier_decisions,
    history,
    network_exists,
    queue,
    record_decision,
)
from faisceau.share import audit
from faisceau.share.access import READERS, Viewer, is_sensitive, visible, visible_entities
from faisceau.share.accounts import User
from faisceau.store import Store
from faisceau.store.bulk import fetch, fetch_in, mark
from faisceau.web.cache import ReadCache
from faisceau.web.security import csrf_token, current_user, store_of

# Who may record a review decision: the intelligence analysts of the central office and
# the territorial referents. Investigators and administrators read.
DECIDERS = ("analyst", "referent")
QUEUE_LIMIT = 50
MAX_QUEUE_LIMIT = 500
ROLE_REFUSED = "Votre rôle ne donne pas accès aux dossiers."
NOT_FOUND = "Réseau introuvable."
NOT_DECIDER = "Votre rôle ne permet pas de décider sur un réseau."


# --- Models (the OpenAPI schema) -----------------------------------------------------------


class ReasonOut(BaseModel):
    indicator: str
    label: str
    contribution: float


class DecisionOut(BaseModel):
    id: int
    network_id: str
    decision: Literal["investigate", "dismissed", "known"]
    reason: str | None
    case_ref: str | None
    analyst: str
    decided_at: str
    risk: float
    ads: int
    indicators: dict[str, int]
    minor_suspected: bool


class QueueEntryOut(BaseModel):
    rank: int
    network_id: str
    risk: float
    trafficking_suspected: bool
    minor_suspected: bool
    ads: int
    scored_at: str | None
    status: Literal["new", "returned", "investigate", "dismissed", "known"]
    reasons: list[ReasonOut]
    minor_reasons: list[str]
    changes: list[str]
    decision: DecisionOut | None
    earlier_decisions: list[DecisionOut]


class QueueOut(BaseModel):
    entries: list[QueueEntryOut]


class AdOut(BaseModel):
    ad: str = Field(description="source:identifiant")
    first_seen: str | None
    last_seen: str | None
    name: str | None
    commune: str | None
    departement: str | None


class PersonOut(BaseModel):
    name: str | None
    age: int | None
    ads: int
    photos: list[str]


class CircuitStopOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: str | None = Field(alias="from", serialization_alias="from")
    commune: str
    departement: str | None


class EvidenceOut(BaseModel):
    kind: str
    value: str
    ads: list[Any]
    first_seen: str | None
    last_seen: str | None
    detail: Any = None


class EventOut(BaseModel):
    at: str | None
    data_date: str | None
    kind: str
    others: list[str]
    cause: str | None


class ScoreReasonOut(BaseModel):
    indicator: str
    label: str
    weight: float | None = None
    contribution: float | None = None
    count: int | None = None
    evidence: list[str] = Field(default_factory=list, description="annonces source:identifiant")
    evidence_total: int | None = None


class ScoreOut(BaseModel):
    risk: float
    trafficking_suspected: bool
    minor_suspected: bool
    reasons: list[ScoreReasonOut]
    minor_reasons: list[ScoreReasonOut]
    scored_at: str | None


class ActivityOut(BaseModel):
    day: str = Field(description="AAAA-MM-JJ")
    ads: int = Field(description="annonces du réseau vues ce jour-là")


class NetworkLeadOut(BaseModel):
    id: str
    entity_id: str
    case_id: str | None
    kind: str
    value: str | None = Field(description="masquée pour une victime ou un nom")
    ads: int
    strength: float
    status: str
    entity_category: str | None


class NetworkOut(BaseModel):
    network_id: str
    status: str
    ads_count: int
    first_seen: str | None
    last_seen: str | None
    ads: list[AdOut]
    persons: list[PersonOut]
    phones: list[str]
    handles: list[str]
    emails: list[str]
    circuit: list[CircuitStopOut]
    evidence: list[EvidenceOut]
    events: list[EventOut]
    score: ScoreOut | None
    decisions: list[DecisionOut]
    earlier_decisions: list[DecisionOut]
    activity: list[ActivityOut]
    leads: list[NetworkLeadOut] = Field(
        description="pistes vers les dossiers que le lecteur peut voir")


class DecisionIn(BaseModel):
    decision: Literal["investigate", "dismissed", "known"]
    reason: str | None = Field(None, description="obligatoire pour « dismissed »")
    case_ref: str | None = Field(None, description="obligatoire pour « known »")


class SessionOut(BaseModel):
    login: str
    name: str
    role: str
    unit: str
    csrf_token: str = Field(description="à renvoyer dans l'en-tête X-CSRF-Token")


class ErrorOut(BaseModel):
    detail: str


# --- Reads and writes shared with the pages ------------------------------------------------


class Refused(HTTPException):
    """A refusal already written to the consultation log."""


def read_cache(request: Request) -> ReadCache:
    """This process's cache of reads that depend only on the store's content."""
    cache = getattr(request.app.state, "read_cache", None)
    if cache is None:
        cache = request.app.state.read_cache = ReadCache()
    return cache


def _uncached(_conn: Connection, _key: Any, compute: Any) -> Any:
    return compute()


def refused_role(conn: Connection, viewer: Viewer, kind: str, record_id: str,
                 roles: tuple[str, ...] = READERS,
                 message: str = ROLE_REFUSED) -> Refused | None:
    """None when the viewer's role reads such records; else the 403, logged as a refusal."""
    if viewer.role in roles:
        return None
    audit.record(conn, viewer, "denied", kind, record_id, detail={"why": "role"})
    return Refused(403, message)


def queue_view(store: Store, user: User, *, limit: int = QUEUE_LIMIT,
               include_decided: bool = False, cache: ReadCache | None = None
               ) -> list[QueueEntry]:
    """The review queue as this user may see it; the view is logged with the networks shown.
    """
    cached = cache.get if cache is not None else _uncached
    refused: Refused | None = None
    with store.begin() as conn:
        viewer = user.viewer(conn)
        refused = refused_role(conn, viewer, "queue", "file")
        if refused is None:
            entries = cached(conn, ("queue", limit, include_decided),
                             lambda: queue(conn, limit=limit, include_decided=include_decided))
            shown = set(visible(conn, viewer, "network", [e.network_id for e in entries]))
            entries = [e for e in entries if e.network_id in shown]
            audit.record(conn, viewer, "view", "queue", "file",
                         detail={"networks": [e.network_id for e in entries],
                                 "include_decided": include_decided})
            return entries
    raise refused


def _may_see(conn: Connection, viewer: Viewer, network_id: str) -> Refused | None:
    """None when the viewer may see the network; else the refusal, logged when the network
    exists (an unknown one is only a 404)."""
    refused = refused_role(conn, viewer, "network", network_id)
    if refused is not None:
        return refused
    if not network_exists(conn, network_id):
        return Refused(404, NOT_FOUND)
    if not visible(conn, viewer, "network", [network_id]):
        audit.record(conn, viewer, "denied", "network", network_id,
                     detail={"why": "need-to-know"})
        return Refused(404, NOT_FOUND)
    return None


def _network_content(conn: Connection, network_id: str) -> dict[str, Any]:
    """Everything a network page shows that is the same for every reader (its leads before
    need-to-know)."""
    detail = network_detail(conn, network_id)
    assert detail is not None
    detail["score"] = network_score_detail(conn, network_id)
    detail["decisions"] = [d.to_dict() for d in history(conn, network_id)]
    detail["earlier_decisions"] = [
        d.to_dict() for d in earlier_decisions(conn, [network_id]).get(network_id, [])]
    detail["activity"] = network_activity(conn, network_id)
    detail["all_leads"] = leads_for_network(conn, network_id)
    return detail


def network_view(store: Store, user: User, network_id: str,
                 cache: ReadCache | None = None) -> dict[str, Any]:
    """One network with its score, reasons and decisions; the view is logged."""
    cached = cache.get if cache is not None else _uncached
    with store.begin() as conn:
        viewer = user.viewer(conn)
        refused = _may_see(conn, viewer, network_id)
        if refused is None:
            content = cached(conn, ("network", network_id),
                             lambda: _network_content(conn, network_id))
            detail = {k: v for k, v in content.items() if k != "all_leads"}
            detail["leads"] = _visible_leads(conn, viewer, content["all_leads"])
            audit.record(conn, viewer, "view", "network", network_id,
                         detail={"leads": [lead["id"] for lead in detail["leads"]]}
                         if detail["leads"] else None)
            return detail
    raise refused


def network_activity(conn: Connection, network_id: str) -> list[dict[str, Any]]:
    """How many of the network's ads were seen each day: its timeline."""
    rows = fetch(conn, "SELECT date(s.seen_at), COUNT(DISTINCT s.ad_pk) FROM sighting s "
                 "JOIN ad_network an ON an.ad_pk = s.ad_pk "
                 f"WHERE an.network_id = {mark(conn)} GROUP BY date(s.seen_at) ORDER BY 1",
                 (network_id,))
    return [{"day": str(day)[:10], "ads": int(n)} for day, n in rows]


def _visible_leads(conn: Connection, viewer: Viewer, leads: list[Lead]) -> list[dict[str, Any]]:
    """The network's leads to case entities the viewer may see. A lead's value is masked
    when it is a name, or its entity's data needs a reason (``access.is_sensitive``): that
    reason is asked on the entity's page."""
    seen = set(visible_entities(conn, viewer, sorted({lead.entity_id for lead in leads})))
    minors = {str(r[0]) for r in fetch_in(conn, "SELECT id, minor FROM intel_entity", "id",
                                          sorted(seen)) if r[1]}
    out = []
    for lead in leads:
        if lead.entity_id not in seen:
            continue
        masked = lead.kind == "name" or is_sensitive(lead.entity_category,
                                                     lead.entity_id in minors)
        out.append({"id": lead.id, "entity_id": lead.entity_id, "case_id": lead.case_id,
                    "kind": lead.kind, "value": None if masked else lead.value,
                    "ads": lead.ads, "strength": lead.strength, "status": lead.status,
                    "entity_category": lead.entity_category})
    return out


def decide(store: Store, user: User, network_id: str, decision: str, *,
           reason: str | None = None, case_ref: str | None = None) -> Decision:
    """Record the user's decision on a network they may see (``ReviewError`` when the
    decision itself is refused: missing reason, merged network…)."""
    with store.begin() as conn:
        viewer = user.viewer(conn)
        refused = _may_see(conn, viewer, network_id)
        if refused is None and viewer.role not in DECIDERS:
            refused = Refused(403, NOT_DECIDER)
        if refused is None:
            decision_id = record_decision(conn, network_id, decision, user.login,
                                          reason=reason, case_ref=case_ref)
            return next(d for d in history(conn, network_id) if d.id == decision_id)
    raise refused


# --- Routes --------------------------------------------------------------------------------

CurrentUser = Annotated[User, Depends(current_user)]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Connexion requise"},
    403: {"model": ErrorOut, "description": "Rôle insuffisant ou jeton CSRF absent"},
}

router = APIRouter(prefix="/api", tags=["api"], responses=ERRORS)


@router.get("/moi", response_model=SessionOut, summary="La session : compte et jeton CSRF")
def api_me(request: Request, user: CurrentUser) -> dict[str, Any]:
    return {"login": user.login, "name": user.name, "role": user.role, "unit": user.unit,
            "csrf_token": csrf_token(request)}


@router.get("/file", response_model=QueueOut, summary="La file d'examen")
def api_queue(request: Request, user: CurrentUser, limite: int = QUEUE_LIMIT,
              tous: bool = False) -> dict[str, Any]:
    if not 1 <= limite <= MAX_QUEUE_LIMIT:
        raise HTTPException(400, f"limite entre 1 et {MAX_QUEUE_LIMIT}")
    entries = queue_view(store_of(request), user, limit=limite, include_decided=tous,
                         cache=read_cache(request))
    return {"entries": [e.to_dict() for e in entries]}


@router.get("/reseaux/{network_id}", response_model=NetworkOut, summary="Un réseau",
            responses={404: {"model": ErrorOut, "description": "Réseau introuvable"}})
def api_network(request: Request, user: CurrentUser, network_id: str) -> dict[str, Any]:
    return network_view(store_of(request), user, network_id, cache=read_cache(request))


@router.post("/reseaux/{network_id}/decision", response_model=DecisionOut, status_code=201,
             summary="Décider sur un réseau (en-tête X-CSRF-Token)",
             responses={400: {"model": ErrorOut, "description": "Décision refusée"},
                        404: {"model": ErrorOut, "description": "Réseau introuvable"}})
def api_decide(request: Request, user: CurrentUser, network_id: str,
               body: DecisionIn) -> dict[str, Any]:
    try:
        recorded = decide(store_of(request), user, network_id, body.decision,
                          reason=body.reason, case_ref=body.case_ref)
    except ReviewError as exc:
        raise HTTPException(400, str(exc)) from None
    return recorded.to_dict()
