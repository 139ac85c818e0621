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
from collections.abc import Sequence
from typing import Annotated, Any
from xml.sax.saxutils import escape, quoteattr

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from pydantic import BaseModel, Field

from faisceau.intel.keyfigures import KeyFigures, key_figures
from faisceau.share.access import policy
from faisceau.share.accounts import User
from faisceau.web.api import ErrorOut
from faisceau.web.maps import NBSP, choropleth, format_number
from faisceau.web.pages import render, templates
from faisceau.web.security import current_user, store_of

CACHE_SECONDS = 60.0
MONTHS = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
          "nov.", "déc.")
BAR_COLOUR = "#1f4e8c"
AXIS_COLOUR = "#8a8f99"
TEXT_COLOUR = "#222222"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"

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


# --- Formatting and charts -----------------------------------------------------------------


def number(value: float, decimals: int = 0) -> str:
    return format_number(value, decimals)


def percent(share: float) -> str:
    return f"{format_number(share * 100, 0)}{NBSP}%"


def euros(value: float) -> str:
    return f"{format_number(value, 0)}{NBSP}€"


def period_label(period: str) -> str:
    """"2026-03" -> "mars 2026"; a year stays itself."""
    if len(period) == 7:
        return f"{MONTHS[int(period[5:7]) - 1]} {period[:4]}"
    return period


def _n(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def bar_chart(points: Sequence[tuple[str, float]], *, title: str, unit: str = "",
              money: bool = False, labels_every: int | None = None) -> str:
    """A vertical bar chart as a self-contained ``<svg>``: one bar per point (label,
    value), each with a ``<title>`` read on hover and by screen readers."""
    width, height, left, bottom, top = 720.0, 260.0, 30.0, 40.0, 46.0
    inner_w, inner_h = width - left - 10, height - top - bottom
    peak = max((v for _, v in points), default=0.0) or 1.0
    shown = (lambda v: euros(v)) if money else (lambda v: f"{number(v)}{NBSP}{unit}".strip())
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(width)} {_n(height)}" '
           f'role="img" aria-label={quoteattr(title)} class="graphique" font-family="{FONT}">',
           f"<title>{escape(title)}</title>",
           f'<text x="4" y="22" font-size="16" font-weight="600" fill="{TEXT_COLOUR}">'
           f"{escape(title)}</text>",
           f'<line x1="{_n(left)}" y1="{_n(top + inner_h)}" x2="{_n(width - 10)}" '
           f'y2="{_n(top + inner_h)}" stroke="{AXIS_COLOUR}"/>',
           f'<line x1="{_n(left - 4)}" y1="{_n(top)}" x2="{_n(width - 10)}" y2="{_n(top)}" '
           f'stroke="{AXIS_COLOUR}" stroke-dasharray="3 3"/>',
           f'<text x="{_n(left)}" y="{_n(top - 5)}" font-size="11" fill="{TEXT_COLOUR}">'
           f"max. {escape(shown(peak if any(v for _, v in points) else 0))}</text>",
           f'<text x="{_n(left - 6)}" y="{_n(top + inner_h)}" font-size="11" '
           f'text-anchor="end" fill="{TEXT_COLOUR}">0</text>']
    if not points:
        out.append(f'<text x="{_n(left + 10)}" y="{_n(top + inner_h / 2)}" font-size="13" '
                   f'fill="{TEXT_COLOUR}">Pas de données</text>')
    step = inner_w / max(len(points), 1)
    every = labels_every or max(1, round(len(points) / 8))
    out.append(f'<g fill="{BAR_COLOUR}">')
    for i, (label, value) in enumerate(points):
        h = inner_h * value / peak
        x = left + i * step + step * 0.1
        out.append(f'<rect x="{_n(x)}" y="{_n(top + inner_h - h)}" width="{_n(step * 0.8)}" '
                   f'height="{_n(h)}"><title>{escape(f"{label} : {shown(value)}")}</title>'
                   "</rect>")
    out.append("</g>")
    out.append(f'<g font-size="11" text-anchor="middle" fill="{TEXT_COLOUR}">')
    for i, (label, _) in enumerate(points):
        if i % every == 0 or (i == len(points) - 1 and len(points) < 4):
            out.append(f'<text x="{_n(left + (i + 0.5) * step)}" y="{_n(height - 22)}">'
                       f"{escape(label)}</text>")
    out.append("</g></svg>")
    return "\n".join(out)


def share_chart(shares: Sequence[tuple[str, float, int]], *, title: str) -> str:
    """Horizontal bars of shares (label, share 0-1, count), with their percentage."""
    row, left, width = 26.0, 190.0, 720.0
    height = 36.0 + row * max(len(shares), 1)
    bar_w = width - left - 120
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(width)} {_n(height)}" '
           f'role="img" aria-label={quoteattr(title)} class="graphique" font-family="{FONT}">',
           f"<title>{escape(title)}</title>",
           f'<text x="4" y="22" font-size="16" font-weight="600" fill="{TEXT_COLOUR}">'
           f"{escape(title)}</text>"]
    if not shares:
        out.append(f'<text x="4" y="52" font-size="13" fill="{TEXT_COLOUR}">'
                   "Pas de données</text>")
    for i, (label, share, count) in enumerate(shares):
        y = 36.0 + i * row
        text = f"{percent(share)} ({number(count)})"
        out.append(f'<text x="{_n(left - 8)}" y="{_n(y + 15)}" font-size="13" '
                   f'text-anchor="end" fill="{TEXT_COLOUR}">{escape(label)}</text>'
                   f'<rect x="{_n(left)}" y="{_n(y + 3)}" width="{_n(max(bar_w * share, 1))}" '
                   f'height="{_n(row - 8)}" fill="{BAR_COLOUR}"><title>'
                   f"{escape(f'{label} : {text}')}</title></rect>"
                   f'<text x="{_n(left + bar_w * share + 6)}" y="{_n(y + 15)}" font-size="13" '
                   f'fill="{TEXT_COLOUR}">{escape(text)}</text>')
    out.append("</svg>")
    return "\n".join(out)


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
