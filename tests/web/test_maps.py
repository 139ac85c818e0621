"""The département choropleth: valid SVG, one shape per département, colours, escaping."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from faisceau.web.maps import (
    _YLGNBU,
    NO_DATA_COLOUR,
    choropleth,
    departement_codes,
    format_number,
)

SVG = "{http://www.w3.org/2000/svg}"


def _paths(svg: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)
    return {p.attrib["data-code"]: p for p in root.iter(f"{SVG}path")}


def _values() -> dict[str, float]:
    # Every département but the Lozère, increasing with its position in the list.
    return {code: float(i) for i, code in enumerate(departement_codes()) if code != "48"}


def test_outlines_cover_every_departement() -> None:
    codes = departement_codes()
    assert len(codes) == 101
    assert {"01", "2A", "2B", "75", "95", "971", "972", "973", "974", "976"} <= set(codes)
    assert "20" not in codes


def test_svg_parses_with_one_path_per_departement() -> None:
    svg = choropleth(_values(), title="Faits par département", unit="faits")
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    paths = list(root.iter(f"{SVG}path"))
    assert len(paths) == 101
    assert len({p.attrib["data-code"] for p in paths}) == 101
    # Self-contained: no script, no link to anything outside.
    assert "<script" not in svg and "href" not in svg and " id=" not in svg


def test_colours_follow_values() -> None:
    values = _values()
    paths = _paths(choropleth(values, title="t"))
    palette = _YLGNBU[5]
    top = max(values, key=values.__getitem__)
    bottom = min(values, key=values.__getitem__)
    assert paths[top].attrib["fill"] == palette[-1]
    assert paths[bottom].attrib["fill"] == palette[0]
    rank = {colour: i for i, colour in enumerate(palette)}
    ordered = sorted(values, key=values.__getitem__)
    classes = [rank[paths[code].attrib["fill"]] for code in ordered]
    assert classes == sorted(classes)  # never lighter for a higher value
    assert set(classes) == set(range(5))


def test_linear_scale_and_outlier() -> None:
    values = {"75": 1000.0, "13": 10.0, "69": 5.0, "33": 1.0}
    paths = _paths(choropleth(values, title="t", scale="linear", legend_steps=3))
    palette = _YLGNBU[3]
    assert paths["75"].attrib["fill"] == palette[-1]
    assert {paths[c].attrib["fill"] for c in ("13", "69", "33")} == {palette[0]}


def test_missing_departement_is_grey_with_french_title() -> None:
    paths = _paths(choropleth({**_values(), "971": 1234.5}, title="t", unit="faits"))
    lozere = paths["48"]
    assert lozere.attrib["fill"] == NO_DATA_COLOUR
    assert lozere.findtext(f"{SVG}title") == "Lozère (48) : pas de données"
    assert paths["971"].findtext(f"{SVG}title") == "Guadeloupe (971) : 1\u00a0234,5\u00a0faits"


def test_codes_are_normalised_and_junk_ignored() -> None:
    values = {"1": 3.0, "2a": 2.0, "99": 5.0, "2B": float("nan"), "75": float("inf")}
    paths = _paths(choropleth(values, title="t"))
    assert paths["01"].attrib["fill"] != NO_DATA_COLOUR
    assert paths["2A"].attrib["fill"] != NO_DATA_COLOUR
    assert paths["2B"].attrib["fill"] == NO_DATA_COLOUR
    assert paths["75"].attrib["fill"] == NO_DATA_COLOUR


def test_hostile_text_is_escaped() -> None:
    hostile = '<script>alert("x")</script> & "quotes"'
    svg = choropleth({"75": 1.0}, title=hostile, unit="<b>u</b>")
    assert "<script" not in svg and "<b>" not in svg
    root = ET.fromstring(svg)
    assert root.findtext(f"{SVG}title") == hostile
    assert root.attrib["aria-label"] == hostile
    assert _paths(svg)["75"].findtext(f"{SVG}title") == "Paris (75) : 1\u00a0<b>u</b>"


def test_deterministic() -> None:
    values = _values()
    first = choropleth(values, title="Carte", unit="faits")
    second = choropleth(dict(reversed(list(values.items()))), title="Carte", unit="faits")
    assert first == second


def test_empty_values_all_grey() -> None:
    paths = _paths(choropleth({}, title="t"))
    assert {p.attrib["fill"] for p in paths.values()} == {NO_DATA_COLOUR}


def test_legend_steps_bounds() -> None:
    with pytest.raises(ValueError):
        choropleth({}, title="t", legend_steps=2)
    with pytest.raises(ValueError):
        choropleth({}, title="t", legend_steps=10)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1234.5, "1\u00a0234,5"), (1234567, "1\u00a0234\u00a0567"), (12.0, "12"),
     (0.125, "0,125"), (-3.25, "-3,2"), (0, "0")],
)
def test_format_number(value: float, expected: str) -> None:
    assert format_number(value) == expected


def test_a_circuit_is_drawn_in_order_over_the_static_base_map() -> None:
    from faisceau.web.maps import BASE_MAP, circuit_map

    svg = circuit_map([("75", "Paris"), ("69", "Lyon"), ("13", "Marseille"),
                       ("75", "Paris, à nouveau"), ("99", "hors carte")], title="Circuit")
    root = ET.fromstring(svg)
    ns = SVG
    assert root.find(f".//{ns}image").get("href") == BASE_MAP
    # Only the départements visited are drawn over the base map, once each.
    assert sorted(p.get("data-code") for p in root.iter(f"{ns}path")) == ["13", "69", "75"]
    stops = [g.find(f"{ns}title").text for g in root.iter(f"{ns}g") if g.get("class") == "etape"]
    assert stops == ["1. Paris", "2. Lyon", "3. Marseille", "4. Paris, à nouveau"]
    line = root.find(f".//{ns}polyline").get("points").split()
    assert len(line) == 4 and line[0] == line[3]  # back to Paris, where it began
    assert len(svg) < 20_000  # the page does not carry every outline
    assert circuit_map([], title="Vide").count("<circle") == 0
