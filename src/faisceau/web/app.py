"""Assembling the web application: the store, sessions, CSRF, pages, API and error pages.

``create_app`` opens the store the settings point at (the environment's by default) and
returns a FastAPI application; ``faisceau serve`` runs it with uvicorn. Settings read from
the environment: ``FAISCEAU_SECRET_KEY`` (see ``security.secret_key``) and
``FAISCEAU_HTTPS_ONLY`` (``1``: the session cookie is only sent over HTTPS; set it whenever
the application is reached through HTTPS, as it must be outside a workstation).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from faisceau import __version__
from faisceau.config import Settings, settings_from_env
from faisceau.share.accounts import warm_up
from faisceau.share.sessions import timeouts
from faisceau.store import open_store
from faisceau.web import admin, ads, api, dashboard, entities, journal, pages
from faisceau.web.security import (
    LoginRequired,
    check_csrf,
    device_serializer,
    end_session,
    secret_key,
)

STATIC = Path(__file__).with_name("static")
HTTPS_ENV = "FAISCEAU_HTTPS_ONLY"
SESSION_COOKIE = "faisceau_session"
LOGIN_REQUIRED = "Connexion requise."
ERROR_TITLES = {400: "Requête invalide", 401: "Connexion requise", 403: "Accès refusé",
                404: "Page introuvable", 405: "Méthode non autorisée",
                429: "Trop de requêtes"}
# Everything the pages load comes from this site: no CDN, no inline script.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def _https_only(given: bool | None) -> bool:
    if given is not None:
        return given
    return os.environ.get(HTTPS_ENV, "").strip().lower() in ("1", "true", "yes", "oui")


def _is_api(request: Request) -> bool:
    return request.url.path == "/api" or request.url.path.startswith("/api/")


def create_app(settings: Settings | None = None, *, https_only: bool | None = None) -> FastAPI:
    """The web application on the store ``settings`` point at (the environment's if None).
    """
    settings = settings or settings_from_env()
    key = secret_key(settings)
    store = open_store(settings)
    https = _https_only(https_only)
    warm_up()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            store.dispose()

    app = FastAPI(
        title="faisceau", version=__version__, lifespan=lifespan,
        description="Plateforme de renseignement criminel contre la traite des êtres humains : "
                    "API de la file d'examen et des réseaux (session et jeton CSRF requis).",
        # Swagger UI and ReDoc load their scripts from a CDN: only the schema is served.
        docs_url=None, redoc_url=None,
        dependencies=[Depends(check_csrf)])
    app.state.store = store
    app.state.https_only = https
    app.state.devices = device_serializer(key)

    @app.middleware("http")
    async def security_headers(request: Request,
                               call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    # Added last, so outermost: every handler, error pages included, has the session.
    # The cookie lives as long as a session may; the store decides whether it still does.
    app.add_middleware(SessionMiddleware, secret_key=key, session_cookie=SESSION_COOKIE,
                       max_age=int(timeouts().absolute.total_seconds()), same_site="lax",
                       https_only=https)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: LoginRequired) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": LOGIN_REQUIRED}, status_code=401,
                                headers={"WWW-Authenticate": "Cookie"})
        end_session(request)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/connexion?suite={quote(target, safe='/')}",
                                status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else ERROR_TITLES.get(
            exc.status_code, "Erreur")
        if exc.status_code == 404 and detail == "Not Found":
            detail = "Cette page n'existe pas."
        elif exc.status_code == 405 and detail == "Method Not Allowed":
            detail = "Méthode non autorisée."
        if _is_api(request):
            return JSONResponse({"detail": detail}, status_code=exc.status_code,
                                headers=exc.headers)
        return pages.render(request, "erreur.html",
                            {"title": ERROR_TITLES.get(exc.status_code, "Erreur"),
                             "message": detail},
                            status_code=exc.status_code)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(api.router)
    for module in (dashboard, ads, entities, admin, journal):
        app.include_router(module.router)
    app.include_router(pages.router)
    return app
