"""The dashboard: key figures in the shape of the plan's key-figures page, trends, map.

Figures are aggregates (``faisceau.intel.keyfigures``): no record is shown, so every
logged-in account sees them, the auditor included, and nothing is written to the
consultation log. They are computed once per ``CACHE_SECONDS`` per process: a national
month of ads takes about a second to count, and the dashboard is everyone's first page.
Trends are drawn here as inline SVG (no script: the CSP forbids inline script, and none is
needed), with presentation attributes only (no ``style`` attribute, which the CSP refuses).
"""

from __future__ import annotations

import threading
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from pydantic import BaseModel, Field

from faisceau.intel.keyfigures import KeyFigures, key_figures
from faisceau.share.access import policy
from faisceau.share.accounts import User
from faisceau.web.api import ErrorOut
from faisceau.web.charts import bar_chart, euros, number, percent, share_chart
from faisceau.web.maps import choropleth
from faisceau.web.pages import render, templates
from faisceau.web.security import current_user, store_of

CACHE_SECONDS = 60.0
MONTHS = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
          "nov.", "déc.")

router = APIRouter()
PageUser = Annotated[User, Depends(current_user)]


# --- Models (the OpenAPI schema) -----------------------------------------------------------


class ShareOut(BaseModel):
    code: str = Field(description="code pays ISO, « autres » ou « inconnue »")
    label: str
    count: int
    share: float


class PeriodOut(BaseModel):
    period: str = Field(description="AAAA-MM (mois) ou AAAA (année)")
    cases_opened: int
    networks_dismantled: int
    seized_eur: float


class DayOut(BaseModel):
    day: str
    ads_seen: int
    ads_new: int


class TableauOut(BaseModel):
    computed_at: str
    cases: int
    cases_open: int
    networks_dismantled: int
    suspects: int = Field(description="personnes résolues de catégorie suspect")
    suspects_charged: int = Field(description="dont mis en cause")
    victims: int = Field(description="victimes identifiées (personnes résolues)")
    victims_presumed: int
    victims_minor: int
    victims_french: int
    minor_share: float
    french_share: float
    french_minor_share: float = Field(description="part des mineures parmi les victimes "
                                                  "françaises")
    latin_america_share: float
    nationalities: list[ShareOut]
    assets_identified_eur: float
    seized_eur: float
    seized_central_eur: float
    confiscated_eur: float
    trend_step: str = Field(description="month ou year")
    trend: list[PeriodOut]
    ads: int
    ads_per_day: list[DayOut]
    ads_per_day_mean: float
    ads_by_departement: dict[str, int]
    networks: int
    networks_suspected: int
    networks_minor_suspected: int
    decisions: dict[str, int] = Field(description="dernière décision par réseau")
    networks_decided: int


# --- Figures, cached per process ------------------------------------------------------------

_lock = threading.Lock()


def figures(request: Request) -> KeyFigures:
    """The key figures of this application's store, at most ``CACHE_SECONDS`` old."""
    state = request.app.state
    with _lock:
        cached: tuple[float, KeyFigures] | None = getattr(state, "key_figures", None)
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
    with store_of(request).begin() as conn:
        computed = key_figures(conn, central_unit=policy().central_unit)
    with _lock:
        state.key_figures = (time.monotonic(), computed)
    return computed


# --- Charts ------------------------------------------------------------------------------


def period_label(period: str) -> str:
    """"2026-03" -> "mars 2026"; a year stays itself."""
    if len(period) == 7:
        return f"{MONTHS[int(period[5:7]) - 1]} {period[:4]}"
    return period


def charts(f: KeyFigures) -> dict[str, Markup]:
    step = "mois" if f.trend_step == "month" else "année"
    trend = [(period_label(p.period), p) for p in f.trend]
    days = [(d.day[8:10] + "/" + d.day[5:7], d) for d in f.ads_per_day]
    return {
        "annonces_jour": Markup(bar_chart(
            [(label, float(d.ads_seen)) for label, d in days],
            title="Annonces vues par jour", unit="annonces")),
        "annonces_nouvelles": Markup(bar_chart(
            [(label, float(d.ads_new)) for label, d in days],
            title="Nouvelles annonces par jour", unit="annonces")),
        "procedures": Markup(bar_chart(
            [(label, float(p.cases_opened)) for label, p in trend],
            title=f"Procédures ouvertes par {step}", unit="procédures")),
        "demantelements": Markup(bar_chart(
            [(label, float(p.networks_dismantled)) for label, p in trend],
            title=f"Réseaux démantelés par {step}", unit="réseaux")),
        "saisies": Markup(bar_chart(
            [(label, p.seized_eur) for label, p in trend],
            title=f"Avoirs saisis par {step}", money=True)),
        "nationalites": Markup(share_chart(
            [(s.label, s.share, s.count) for s in f.nationalities],
            title="Victimes identifiées par nationalité")),
        "carte": Markup(choropleth(f.ads_by_departement, title="Annonces par département",
                                   unit="annonces")),
    }


templates.env.filters.update(fr_nombre=number, fr_pourcent=percent, fr_euros=euros)


# --- Routes --------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def dashboard(request: Request, user: PageUser) -> Response:
    f = figures(request)
    decisions = {"investigate": f.decisions.get("investigate", 0),
                 "dismissed": f.decisions.get("dismissed", 0),
                 "known": f.decisions.get("known", 0)}
    return render(request, "tableau.html",
                  {"f": f, "decisions_latest": decisions, **charts(f)}, user=user)


@router.get("/api/tableau", response_model=TableauOut, tags=["api"],
            summary="Le tableau de bord : chiffres clés, tendances, annonces par département",
            responses={401: {"model": ErrorOut, "description": "Connexion requise"}})
def api_dashboard(request: Request, user: PageUser) -> dict[str, Any]:
    return figures(request).to_dict()
