"""Charts drawn server-side as inline SVG: bars over time, shares. No script (the CSP
forbids inline script, and none is needed) and presentation attributes only (no ``style``
attribute, which the CSP refuses). Numbers are written the French way (``maps``)."""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from faisceau.web.maps import NBSP, format_number

BAR_COLOUR = "#1f4e8c"
AXIS_COLOUR = "#8a8f99"
TEXT_COLOUR = "#222222"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


def number(value: float, decimals: int = 0) -> str:
    return format_number(value, decimals)


def percent(share: float) -> str:
    return f"{format_number(share * 100, 0)}{NBSP}%"


def euros(value: float) -> str:
    return f"{format_number(value, 0)}{NBSP}€"


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
