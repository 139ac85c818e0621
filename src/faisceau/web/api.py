"""The JSON API of the review queue and networks, and the reads and writes the pages share
with it.

Every read goes through ``faisceau.web.consult`` (need-to-know decided by
``faisceau.share.access``, sensitive values masked, the consultation logged in the same
transaction): 403 for a role that does not read records (the auditor), 404 for a network
the viewer may not see, exactly as for a network that does not exist. A network is shown
from the ads the viewer may see: its ads, persons, identifiers, circuit, evidence,
timeline, its reasons' evidence and its ad counts leave the hidden ones out (a network
whose every ad is hidden is hidden). A decision is recorded only when
``access.decision_refusal`` allows it (a territorial unit decides within its département);
a refusal is logged as ``denied``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from faisceau.intel.leads import Lead, leads_for_network
from faisceau.link.inspect import network_detail
from faisceau.score.inspect import network_score_detail
from faisceau.score.review import (
    DECISIONS,
    Decision,
    QueueEntry,
    ReviewError,
    earlier_decisions,
    history,
    queue,
    record_decision,
)
from faisceau.share import audit
from faisceau.share.access import (
    DECIDERS,
    HIDDEN,
    MISSING,
    NOT_DECIDER,
    VISIBLE,
    AdScope,
    ad_scope,
    allowed_decisions,
    decision_refusal,
    network_visibility,
    shown_evidence,
    visible_ad_counts,
    visible_networks,
)
from faisceau.share.accounts import User
from faisceau.store import Store
from faisceau.store.bulk import fetch, mark
from faisceau.web.cache import ReadCache
from faisceau.web.consult import (
    ROLE_REFUSED,
    NotThere,
    Reading,
    Refused,
    consult,
    leads_seen,
    refused_role,
)
from faisceau.web.security import csrf_token, current_user, store_of

__all__ = ["DECIDERS", "NOT_DECIDER", "ROLE_REFUSED", "Refused", "refused_role"]

QUEUE_LIMIT = 50
MAX_QUEUE_LIMIT = 500
NOT_FOUND = "Réseau introuvable."


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
    scam_suspected: bool = False
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
    explained_by: str | None = Field(None, description="« scam » : expliqué par l'escroquerie")
    count: int | None = None
    evidence: list[str] = Field(default_factory=list, description="annonces source:identifiant")
    evidence_total: int | None = None


class ScoreOut(BaseModel):
    risk: float
    trafficking_suspected: bool
    minor_suspected: bool
    scam_suspected: bool = False
    reasons: list[ScoreReasonOut]
    minor_reasons: list[ScoreReasonOut]
    scam_reasons: list[ScoreReasonOut] = Field(default_factory=list)
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


def read_cache(request: Request) -> ReadCache:
    """This process's cache of reads that depend only on the store's content."""
    cache = getattr(request.app.state, "read_cache", None)
    if cache is None:
        cache = request.app.state.read_cache = ReadCache()
    return cache


def _uncached(_conn: Connection, _key: Any, compute: Any) -> Any:
    return compute()


# Evidence rows about a pair of groups (``link.detect``): they may name another network's ad.
PAIR_EVIDENCE = frozenset({"corroborated", "cut", "refused"})
# The queue's categories as the web says them (``score.review.CATEGORIES``).
QUEUE_CATEGORIES = {"traite": "trafficking", "arnaque": "scam", "mineur": "minor"}


def queue_view(store: Store, user: User, *, limit: int = QUEUE_LIMIT,
               include_decided: bool = False, cache: ReadCache | None = None,
               only: str | None = None) -> list[QueueEntry]:
    """The review queue as this user may see it (each network's ads counted as the user
    sees them); the view is logged with the networks shown."""
    cached = cache.get if cache is not None else _uncached

    def read(reading: Reading) -> list[QueueEntry]:
        conn = reading.conn
        entries: list[QueueEntry] = cached(
            conn, ("queue", limit, include_decided, only),
            lambda: queue(conn, limit=limit, include_decided=include_decided, only=only))
        ids = [e.network_id for e in entries]
        shown = set(visible_networks(conn, reading.viewer, reading.ads, ids))
        counts = visible_ad_counts(conn, reading.ads, {e.network_id: e.ads for e in entries})
        # Cached entries are shared between requests: changed copies, never the originals.
        entries = [e if counts[e.network_id] == e.ads else replace(e, ads=counts[e.network_id])
                   for e in entries if e.network_id in shown]
        hidden = _hidden_networks(reading, [d.network_id for e in entries
                                            for d in e.earlier_decisions])
        entries = [replace(e, earlier_decisions=[d for d in e.earlier_decisions
                                                 if d.network_id not in hidden])
                   if any(d.network_id in hidden for d in e.earlier_decisions) else e
                   for e in entries]
        reading.detail = {"networks": [e.network_id for e in entries],
                          "include_decided": include_decided, "only": only}
        return entries

    return consult(store, user, "queue", "file", read)


def _network(reading: Reading, network_id: str) -> None:
    """Nothing when the viewer may see the network; else ``NotThere`` (hidden and missing
    alike, from the same statements)."""
    answer = network_visibility(reading.conn, reading.viewer, reading.ads,
                                [network_id])[network_id]
    if answer != VISIBLE:
        raise NotThere(NOT_FOUND, "unknown" if answer == MISSING else "need-to-know")


def _hidden_networks(reading: Reading, ids: list[str]) -> set[str]:
    """Which of the networks an answer names (merged, split, absorbed with their decisions)
    the viewer may not see: named nowhere, as if they did not exist."""
    if not ids:
        return set()
    answers = network_visibility(reading.conn, reading.viewer, reading.ads, sorted(set(ids)))
    return {n for n, answer in answers.items() if answer == HIDDEN}


def _network_content(conn: Connection, network_id: str,
                     hidden_ads: frozenset[int] = frozenset()) -> dict[str, Any]:
    """Everything a network page shows that is the same for every reader who may not see
    the same ``hidden_ads`` (its leads before need-to-know)."""
    detail = network_detail(conn, network_id, hidden_ads=hidden_ads)
    assert detail is not None
    detail["score"] = network_score_detail(conn, network_id)
    detail["decisions"] = [d.to_dict() for d in history(conn, network_id)]
    detail["earlier_decisions"] = [
        d.to_dict() for d in earlier_decisions(conn, [network_id]).get(network_id, [])]
    detail["activity"] = network_activity(conn, network_id, hidden_ads)
    detail["all_leads"] = leads_for_network(conn, network_id)
    return detail


def _score_for(score: dict[str, Any] | None, scope: AdScope) -> dict[str, Any] | None:
    """The score's reasons with only the evidence ads the viewer may see."""
    if score is None or scope.unrestricted:
        return score
    out = dict(score)
    # Every list of reasons, whatever its name: a new kind of reason cannot show evidence
    # the viewer may not see.
    for key in [k for k in score if k.endswith("reasons")]:
        reasons = []
        for reason in score[key]:
            kept, total = shown_evidence(scope, reason.get("evidence", []),
                                         reason.get("evidence_total"))
            reasons.append({**reason, "evidence": kept, "evidence_total": total})
        out[key] = reasons
    return out


def _evidence_for(evidence: list[dict[str, Any]], scope: AdScope) -> list[dict[str, Any]]:
    """The evidence rows with only the ads the viewer may see. A row about a pair of groups
    (a link made, cut or refused, which may name an ad of another network) is shown whole
    or not at all: half of it would say that something hidden was compared."""
    if scope.unrestricted:
        return evidence
    out = []
    for row in evidence:
        kept = scope.visible_refs(row["ads"])
        if len(kept) == len(row["ads"]):
            out.append(row)
        elif kept and row["kind"] not in PAIR_EVIDENCE:
            out.append({**row, "ads": kept})
    return out


def network_view(store: Store, user: User, network_id: str, cache: ReadCache | None = None,
                 reasons: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One network with its score, reasons and decisions, from the ads the user may see;
    the view is logged."""
    cached = cache.get if cache is not None else _uncached

    def read(reading: Reading) -> dict[str, Any]:
        conn, scope = reading.conn, reading.ads
        _network(reading, network_id)
        content = cached(conn, ("network", network_id),
                         lambda: _network_content(conn, network_id))
        hidden = frozenset(a["pk"] for a in content["ads"] if not scope.sees_pk(a["pk"]))
        if hidden:
            content = cached(conn, ("network", network_id, hidden),
                             lambda: _network_content(conn, network_id, hidden))
        detail = {k: v for k, v in content.items() if k != "all_leads"}
        detail["score"] = _score_for(content["score"], scope)
        detail["evidence"] = _evidence_for(content["evidence"], scope)
        detail["leads"] = _visible_leads(reading, content["all_leads"])
        hidden_networks = _hidden_networks(reading, [
            *(o for e in content["events"] for o in e["others"]),
            *(d["network_id"] for d in content["earlier_decisions"])])
        if hidden_networks:
            detail["events"] = [{**e, "others": [o for o in e["others"]
                                                 if o not in hidden_networks]}
                                for e in content["events"]]
            detail["earlier_decisions"] = [d for d in content["earlier_decisions"]
                                           if d["network_id"] not in hidden_networks]
        reading.detail = {"leads": [lead["id"] for lead in detail["leads"]]} \
            if detail["leads"] else {}
        return detail

    return consult(store, user, "network", network_id, read, reasons=reasons)


def network_activity(conn: Connection, network_id: str,
                     hidden_ads: frozenset[int] = frozenset()) -> list[dict[str, Any]]:
    """How many of the network's ads (but ``hidden_ads``) were seen each day: its timeline."""
    join = ("FROM sighting s JOIN ad_network an ON an.ad_pk = s.ad_pk "
            f"WHERE an.network_id = {mark(conn)}")
    if not hidden_ads:
        rows = fetch(conn, f"SELECT date(s.seen_at), COUNT(DISTINCT s.ad_pk) {join} "
                     "GROUP BY date(s.seen_at) ORDER BY 1", (network_id,))
        return [{"day": str(day)[:10], "ads": int(n)} for day, n in rows]
    pairs = fetch(conn, f"SELECT date(s.seen_at), s.ad_pk {join} GROUP BY date(s.seen_at), "
                  "s.ad_pk", (network_id,))
    days = Counter(str(day)[:10] for day, pk in pairs if int(pk) not in hidden_ads)
    return [{"day": day, "ads": n} for day, n in sorted(days.items())]


def _visible_leads(reading: Reading, leads: list[Lead]) -> list[dict[str, Any]]:
    """The network's leads the viewer may see, values masked as their records' are
    (``consult.leads_seen``)."""
    return leads_seen(reading, [
        {"id": x.id, "entity_id": x.entity_id, "case_id": x.case_id, "kind": x.kind,
         "value": x.value, "ads": x.ads, "strength": x.strength, "status": x.status,
         "entity_category": x.entity_category, "network_id": x.network_id,
         "evidence": x.evidence} for x in leads])


def decide(store: Store, user: User, network_id: str, decision: str, *,
           reason: str | None = None, case_ref: str | None = None) -> Decision:
    """Record the user's decision on a network they may see and may decide on
    (``access.decision_refusal``: 403, logged as ``denied``); ``ReviewError`` when the
    decision itself is refused (missing reason, merged network…)."""
    refused: Refused | None = None
    with store.begin() as conn:
        viewer = user.viewer(conn)
        refused = refused_role(conn, viewer, "network", network_id)
        if refused is None:
            answer = network_visibility(conn, viewer, ad_scope(conn, viewer),
                                        [network_id])[network_id]
            if answer != VISIBLE:
                audit.record(conn, viewer, "denied", "network", network_id, detail={
                    "why": "unknown" if answer == MISSING else "need-to-know",
                    "decision": decision})
                refused = Refused(404, NOT_FOUND)
        if refused is None:
            why = decision_refusal(conn, viewer, network_id, decision)
            if why is not None:
                audit.record(conn, viewer, "denied", "network", network_id,
                             detail={"why": "decision", "decision": decision, "rule": why})
                refused = Refused(403, why)
        if refused is None:
            decision_id = record_decision(conn, network_id, decision, user.login,
                                          reason=reason, case_ref=case_ref)
            return next(d for d in history(conn, network_id) if d.id == decision_id)
    raise refused


def decision_forms(store: Store, user: User, network_ids: list[str]) -> dict[str, list[str]]:
    """The decisions the user may take on each network (what its forms offer)."""
    with store.begin() as conn:
        return allowed_decisions(conn, user.viewer(conn), DECISIONS, network_ids)


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
              tous: bool = False,
              categorie: Literal["traite", "arnaque", "mineur"] | None = None,
              ) -> dict[str, Any]:
    if not 1 <= limite <= MAX_QUEUE_LIMIT:
        raise HTTPException(400, f"limite entre 1 et {MAX_QUEUE_LIMIT}")
    entries = queue_view(store_of(request), user, limit=limite, include_decided=tous,
                         cache=read_cache(request),
                         only=QUEUE_CATEGORIES[categorie] if categorie else None)
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
