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
from faisceau.share import sessions
from faisceau.share.accounts import (
    MIN_PASSWORD,
    AccountError,
    LoginAttempt,
    User,
    attempt_login,
    change_own_password,
)
from faisceau.store.bulk import utc_now
from faisceau.web.api import (
    MAX_QUEUE_LIMIT,
    QUEUE_CATEGORIES,
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
    LoginRequired,
    client_address,
    csrf_token,
    current_user,
    end_session,
    session_token,
    start_session,
    store_of,
    trust_device,
    trusted_device,
)

TEMPLATES = Path(__file__).with_name("templates")
DECISION_WORDS = {"investigate": "à enquêter", "dismissed": "classé sans suite",
                  "known": "déjà connu"}
STATUS_WORDS = {"new": "nouveau", "returned": "revenu", **DECISION_WORDS}
ROLE_WORDS = {"analyst": "analyste", "referent": "référent", "investigator": "enquêteur",
              "auditor": "auditeur", "admin": "administrateur"}
# The same answer whether the account exists, is deactivated or the password is wrong.
BAD_LOGIN = "Identifiant ou mot de passe incorrect."
BAD_CURRENT = "Mot de passe actuel incorrect."


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


def _wait(seconds: int) -> str:
    """A neutral "try again later" (the same for any login, known or not)."""
    when = f"{seconds} s" if seconds < 120 else f"{(seconds + 59) // 60} min"
    return (f"Trop de tentatives échouées pour cet identifiant ou depuis cette adresse : "
            f"réessayez dans {when}.")


def _too_many(request: Request, name: str, context: dict[str, Any],
              attempt: LoginAttempt, user: User | None = None) -> Response:
    seconds = attempt.retry_after or 1
    page = render(request, name, {**context, "error": _wait(seconds)}, status_code=429,
                  user=user)
    page.headers["Retry-After"] = str(seconds)
    return page


def _open_session(request: Request, user: User, back: str) -> Response:
    """A new server-side session for the user, its cookie, and this browser trusted."""
    with store_of(request).begin() as conn:
        token = sessions.open_session(conn, user.login, client_address(request), utc_now())
    start_session(request, token)
    response = RedirectResponse(back, status_code=303)
    trust_device(request, response, user.login)
    return response


def _logged_in(request: Request) -> bool:
    try:
        current_user(request)
    except LoginRequired:
        return False
    return True


@router.get("/connexion", response_class=HTMLResponse)
def login_page(request: Request, suite: str = "/") -> Response:
    if _logged_in(request):
        return RedirectResponse(_local(suite), status_code=303)
    return render(request, "connexion.html", {"suite": _local(suite), "login": ""})


@router.post("/connexion", response_class=HTMLResponse)
def login(request: Request, identifiant: Annotated[str, Form()] = "",
          mot_de_passe: Annotated[str, Form()] = "",
          suite: Annotated[str, Form()] = "/") -> Response:
    name = identifiant.strip()
    context = {"suite": _local(suite), "login": name}
    if not name or not mot_de_passe:
        return render(request, "connexion.html", {**context, "error": BAD_LOGIN},
                      status_code=401)
    attempt = attempt_login(store_of(request), name, mot_de_passe,
                            address=client_address(request),
                            device=trusted_device(request, name))
    if attempt.retry_after is not None:
        return _too_many(request, "connexion.html", context, attempt)
    if attempt.user is None:
        return render(request, "connexion.html", {**context, "error": BAD_LOGIN},
                      status_code=401)
    return _open_session(request, attempt.user, _local(suite))


@router.post("/deconnexion")
def logout(request: Request) -> Response:
    token = session_token(request)
    if token is not None:
        with store_of(request).begin() as conn:
            sessions.end_session(conn, token, "logout", utc_now())
    end_session(request)
    _flash(request, "ok", "Vous êtes déconnecté.")
    return RedirectResponse("/connexion", status_code=303)


@router.get("/mot-de-passe", response_class=HTMLResponse)
def password_page(request: Request, user: PageUser) -> Response:
    return render(request, "mot_de_passe.html", {"min_password": MIN_PASSWORD}, user=user)


@router.post("/mot-de-passe", response_class=HTMLResponse)
def password_change(request: Request, user: PageUser,
                    actuel: Annotated[str, Form()] = "",
                    nouveau: Annotated[str, Form()] = "",
                    confirmation: Annotated[str, Form()] = "") -> Response:
    """The user's own change: every session of the account ends, this one is reopened."""
    context: dict[str, Any] = {"min_password": MIN_PASSWORD}
    if nouveau != confirmation:
        return render(request, "mot_de_passe.html", {
            **context, "error": "Les deux saisies du nouveau mot de passe diffèrent."},
            status_code=400, user=user)
    try:
        attempt = change_own_password(store_of(request), user.login, actuel, nouveau,
                                      address=client_address(request))
    except AccountError as exc:
        return render(request, "mot_de_passe.html", {
            **context, "error": f"Mot de passe refusé : {exc}."}, status_code=400, user=user)
    if attempt.retry_after is not None:
        return _too_many(request, "mot_de_passe.html", context, attempt, user=user)
    if attempt.user is None:
        return render(request, "mot_de_passe.html", {**context, "error": BAD_CURRENT},
                      status_code=400, user=user)
    response = _open_session(request, attempt.user, "/")
    _flash(request, "ok", "Mot de passe changé : vos autres sessions sont fermées.")
    return response


# --- Pages ---------------------------------------------------------------------------------


@router.get("/file", response_class=HTMLResponse)
def queue_page(request: Request, user: PageUser, tous: bool = False,
               limite: int = QUEUE_LIMIT, categorie: str | None = None) -> Response:
    limite = min(max(limite, 1), MAX_QUEUE_LIMIT)
    categorie = categorie if categorie in QUEUE_CATEGORIES else None
    store = store_of(request)
    entries = queue_view(store, user, limit=limite, include_decided=tous,
                         cache=read_cache(request),
                         only=QUEUE_CATEGORIES[categorie] if categorie else None)
    forms = decision_forms(store, user, [e.network_id for e in entries])
    return render(request, "file.html", {"entries": [e.to_dict() for e in entries], "tous": tous,
                                         "categorie": categorie,
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
