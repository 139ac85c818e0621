"""The server-rendered pages, in French: login, review queue, network page (the dashboard
is in ``dashboard``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from faisceau.score.review import DECISIONS, ReviewError, french_risk
from faisceau.share.accounts import User, authenticate
from faisceau.web.api import (
    MAX_QUEUE_LIMIT,
    QUEUE_LIMIT,
    decide,
    decision_forms,
    network_view,
    queue_view,
    read_cache,
)
from faisceau.web.charts import bar_chart
from faisceau.web.disclosure import session_reasons
from faisceau.web.maps import circuit_map
from faisceau.web.security import (
    TOO_MANY_LOGINS,
    client_address,
    csrf_token,
    current_user,
    end_session,
    start_session,
    store_of,
)

TEMPLATES = Path(__file__).with_name("templates")
DECISION_WORDS = {"investigate": "à enquêter", "dismissed": "classé sans suite",
                  "known": "déjà connu"}
STATUS_WORDS = {"new": "nouveau", "returned": "revenu", **DECISION_WORDS}
ROLE_WORDS = {"analyst": "analyste", "referent": "référent", "investigator": "enquêteur",
              "auditor": "auditeur", "admin": "administrateur"}
BAD_LOGIN = ("Identifiant ou mot de passe incorrect, ou compte verrouillé après des échecs "
             "répétés.")


def _signed(value: float | None) -> str:
    return "" if value is None else f"{value:+.2f}".replace(".", ",")


def _when(value: str | None) -> str:
    """An ISO UTC time as the interface shows it."""
    if not value:
        return ""
    return value[:16].replace("T", " ") + " UTC" if len(value) > 10 else value


def _templates() -> Jinja2Templates:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    env.filters.update(risk=french_risk, signed=_signed, when=_when)
    env.globals.update(decision_words=DECISION_WORDS, status_words=STATUS_WORDS,
                       role_words=ROLE_WORDS, decisions=DECISIONS)
    return Jinja2Templates(env=env)


templates = _templates()
router = APIRouter(include_in_schema=False)
PageUser = Annotated[User, Depends(current_user)]


def render(request: Request, name: str, context: dict[str, Any] | None = None,
           status_code: int = 200, user: User | None = None) -> HTMLResponse:
    """A page, with what every page needs: the CSRF token, the user, a pending message."""
    full = {"csrf_token": csrf_token(request), "user": user,
            "flash": request.session.pop("flash", None), **(context or {})}
    return templates.TemplateResponse(request, name, full, status_code=status_code,
                                      headers={"Cache-Control": "no-store"})


def _flash(request: Request, kind: str, text: str) -> None:
    request.session["flash"] = {"kind": kind, "text": text}


def _local(path: str | None, default: str = "/") -> str:
    """Only a path of this site to go back to (never another site: //host, \\host)."""
    if path and path.startswith("/") and not path.startswith(("//", "/\\")):
        return path
    return default


# --- Login ---------------------------------------------------------------------------------


@router.get("/connexion", response_class=HTMLResponse)
def login_page(request: Request, suite: str = "/") -> Response:
    if request.session.get("login"):
        return RedirectResponse(_local(suite), status_code=303)
    return render(request, "connexion.html", {"suite": _local(suite), "login": ""})


@router.post("/connexion", response_class=HTMLResponse)
def login(request: Request, identifiant: Annotated[str, Form()] = "",
          mot_de_passe: Annotated[str, Form()] = "",
          suite: Annotated[str, Form()] = "/") -> Response:
    context = {"suite": _local(suite), "login": identifiant}
    if not request.app.state.login_limiter.allow(client_address(request)):
        return render(request, "connexion.html", {**context, "error": TOO_MANY_LOGINS},
                      status_code=429)
    user = authenticate(store_of(request), identifiant.strip(), mot_de_passe) \
        if identifiant.strip() and mot_de_passe else None
    if user is None:
        return render(request, "connexion.html", {**context, "error": BAD_LOGIN},
                      status_code=401)
    start_session(request, user)
    return RedirectResponse(_local(suite), status_code=303)


@router.post("/deconnexion")
def logout(request: Request) -> Response:
    end_session(request)
    _flash(request, "ok", "Vous êtes déconnecté.")
    return RedirectResponse("/connexion", status_code=303)


# --- Pages ---------------------------------------------------------------------------------


@router.get("/file", response_class=HTMLResponse)
def queue_page(request: Request, user: PageUser, tous: bool = False,
               limite: int = QUEUE_LIMIT) -> Response:
    limite = min(max(limite, 1), MAX_QUEUE_LIMIT)
    store = store_of(request)
    entries = queue_view(store, user, limit=limite, include_decided=tous,
                         cache=read_cache(request))
    forms = decision_forms(store, user, [e.network_id for e in entries])
    return render(request, "file.html", {"entries": [e.to_dict() for e in entries], "tous": tous,
                                         "may_decide": any(forms.values()),
                                         "forms": forms}, user=user)


@router.get("/reseaux/{network_id}", response_class=HTMLResponse)
def network_page(request: Request, user: PageUser, network_id: str) -> Response:
    store = store_of(request)
    detail = network_view(store, user, network_id, cache=read_cache(request),
                          reasons=session_reasons(request))
    allowed = decision_forms(store, user, [network_id])[network_id]
    stops = [(c["departement"], f"{c['commune']}, depuis le {_when(c['from'])}")
             for c in detail["circuit"] if c.get("departement")]
    circuit = Markup(circuit_map(stops, title="Circuit du réseau")) if stops else None
    activity = Markup(bar_chart([(a["day"][8:10] + "/" + a["day"][5:7], float(a["ads"]))
                                 for a in detail["activity"]],
                                title="Annonces du réseau vues par jour", unit="annonces"))
    return render(request, "reseau.html", {
        "n": detail, "may_decide": bool(allowed), "allowed": allowed,
        "carte_circuit": circuit,
        "carte_activite": activity,
        "lead_words": {"new": "nouvelle", "confirmed": "confirmée", "dismissed": "écartée"}},
        user=user)


@router.post("/reseaux/{network_id}/decision")
def decision_form(request: Request, user: PageUser, network_id: str,
                  decision: Annotated[str, Form()] = "",
                  motif: Annotated[str, Form()] = "",
                  reference: Annotated[str, Form()] = "",
                  retour: Annotated[str, Form()] = "") -> Response:
    back = _local(retour, f"/reseaux/{network_id}")
    try:
        if decision not in DECISIONS:
            raise ReviewError("choisir une décision : à enquêter, classer sans suite ou "
                              "déjà connu")
        recorded = decide(store_of(request), user, network_id, decision,
                          reason=motif or None,
                          case_ref=(reference or None) if decision == "known" else None)
    except ReviewError as exc:
        _flash(request, "erreur", f"Décision non enregistrée : {exc}.")
        return RedirectResponse(back, status_code=303)
    _flash(request, "ok", f"Décision n° {recorded.id} enregistrée sur le réseau {network_id} : "
                          f"{DECISION_WORDS[recorded.decision]}.")
    return RedirectResponse(back, status_code=303)
