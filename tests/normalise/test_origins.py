"""Stated origins mapped to countries and regions."""

from __future__ import annotations

import json
import unicodedata
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from faisceau.normalise import origins as origins_module
from faisceau.normalise.origins import find_origins

LEXICON = json.loads(
    resources.files("faisceau.normalise").joinpath("data", "origins.json").read_text("utf-8")
)


def origins(text: str) -> list[str]:
    return [f.value for f in find_origins(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Brésilienne", "BR"),
        ("brésilien", "BR"),
        ("BRÉSILIENNES", "BR"),
        ("bresilienne", "BR"),
        ("brasileña", "BR"),
        ("brasileira", "BR"),
        ("Brazilian", "BR"),
        ("roumaine", "RO"),
        ("Roumain", "RO"),
        ("rumana", "RO"),
        ("romena", "RO"),
        ("nigériane", "NG"),
        ("Nigerian", "NG"),
        ("nigérienne", "NE"),
        ("française", "FR"),
        ("francesa", "FR"),
        ("FR", "FR"),
        ("fr", "FR"),
        ("RO", "RO"),
        ("colombienne", "CO"),
        ("Vénézuélienne", "VE"),
        ("dominicaine", "DO"),
        ("République dominicaine", "DO"),
        ("ivoirienne", "CI"),
        ("Côte d’Ivoire", "CI"),
        ("camerounaise", "CM"),
        ("bulgare", "BG"),
        ("ukrainienne", "UA"),
        ("chinoise", "CN"),
        ("thaïlandaise", "TH"),
        ("espagnole", "ES"),
        ("portugaise", "PT"),
        ("guinée équatoriale", "GQ"),
        ("latina", "region:latam"),
        ("Latino", "region:latam"),
        ("sud-américaine", "region:latam"),
        ("africaine", "region:africa"),
        ("asiatique", "region:asia"),
        ("asian", "region:asia"),
        ("de l'Est", "region:eastern_europe"),
        ("pays de l’est", "region:eastern_europe"),
        ("est-européenne", "region:eastern_europe"),
        ("antillaise", "region:caribbean"),
        ("maghrébine", "region:maghreb"),
    ],
)
def test_field_values(text: str, expected: str) -> None:
    (found,) = find_origins(text)
    assert found.value == expected
    kind = "region" if expected.startswith("region:") else "country"
    assert found.detail == {"kind": kind}
    assert found.shown == text.strip()


@pytest.mark.parametrize(
    "text",
    [
        "métisse",  # mixed heritage names no country
        "Métisse",
        "eurasienne",
        "congolaise",  # two Congos
        "guyanaise",  # French Guiana or Guyana
        "orientale",
        "arabe",
        "black",
        "exotique",
        "",
        "XX",  # not a country code
        "brune",
    ],
)
def test_ambiguous_or_unknown_map_to_nothing(text: str) -> None:
    assert origins(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Lola, jeune brésilienne de 25 ans, nouvelle à Lyon", ["BR"]),
        ("Jolie fille de l'Est, douce et discrète", ["region:eastern_europe"]),
        ("je suis espagnole, de passage", ["ES"]),
        ("jeune femme russe très douce", ["RU"]),
        ("Sweet French girl in Paris", ["FR"]),
        ("originaire de Côte d'Ivoire", ["CI"]),
        ("franco-brésilienne", ["BR"]),
        ("Roumaine et bulgare, deux amies", ["RO", "BG"]),
        ("Vraie Colombienne 100%", ["CO"]),
    ],
)
def test_free_text(text: str, expected: list[str]) -> None:
    assert origins(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "amour à la grecque",
        "branlette espagnole, fellation, 69",
        "massage thaï et massage chinois",
        "épilation brésilienne",
        "french kiss",
        "je parle français et anglais",
        "Nouvelle à Lyon, je propose espagnole et massage",
        "Strasbourg, région de l'Est",
        "Appartement DE standing, IT ok",  # two-letter codes in text are words
        "bain turc",
    ],
)
def test_practices_and_words_are_not_origins(text: str) -> None:
    assert origins(text) == []


def test_shown_is_original_text() -> None:
    (found,) = find_origins("Bonjour, je suis une BRÉSILIENNE très douce")
    assert found.shown == "BRÉSILIENNE"


def test_lexicon_is_consistent() -> None:
    """One form, one meaning; ambiguous words are not also mapped; codes look like ISO."""
    seen: dict[str, str] = {}
    for entry in LEXICON["entries"]:
        code = entry["code"]
        if entry["kind"] == "country":
            assert len(code) == 2 and code.isupper()
        else:
            assert code.startswith("region:")
        for form in entry["forms"]:
            key = _fold(form)
            assert seen.setdefault(key, code) == code, form
    for word in LEXICON["ambiguous"]:
        assert _fold(word) not in seen, word


def _fold(text: str) -> str:
    bare = unicodedata.normalize("NFKD", text.lower().replace("’", "'"))
    return " ".join("".join(c for c in bare if not unicodedata.combining(c)).split())


FORMS = [
    (form, entry["code"])
    for entry in LEXICON["entries"]
    for form in entry["forms"]
    if form not in LEXICON["practice_forms"]
]


@given(
    st.sampled_from(FORMS),
    st.sampled_from([str.lower, str.upper, str.title, lambda s: s]),
)
def test_every_form_in_a_field_round_trips(item: tuple[str, str], case: object) -> None:
    form, code = item
    text = case(form)  # type: ignore[operator]
    values = origins(text)
    assert values == [code], text


@given(
    st.sampled_from(FORMS),
    st.sampled_from(
        [
            "Nouvelle à Lyon, jeune {} très douce",
            "Je suis {}, photos réelles",
            "{} de 22 ans, dispo ce soir",
        ]
    ),
)
def test_every_form_in_running_text_round_trips(item: tuple[str, str], template: str) -> None:
    form, code = item
    assert code in origins(template.format(form))


@given(st.text(max_size=300))
def test_never_raises(text: str) -> None:
    for found in find_origins(text):
        assert found.detail is not None and found.detail["kind"] in ("country", "region")
        assert found.shown in text


# --- the gate: a text its scan turns away has no token the lexicon could read -------------

GATE_FRAGMENTS = [
    " ", "-", "'", "’", "_", ".", ",", "\n", "de", "l'est", "est", "pays", "franco",
    "brésilienne", "BRESILIENNE", "roumaine", "Roumaine", "latina", "latino", "américaine",
    "sud", "côte", "d'ivoire", "x", "jeune", "femme", "massage", "thaï", "french", "kiss",
    "2", "née", "İ", "afrique", "nord",
]


def _old_gate_passes(text: str) -> bool:
    """The token gate find_origins had before its scan (and still applies after it)."""
    lexicon = origins_module._lexicon()
    low = origins_module._lower_aligned(text)
    words = origins_module._TOKEN.findall(low)
    return not lexicon.gate.isdisjoint(words) or (
        "-" in low
        and not lexicon.gate.isdisjoint([p for w in words if "-" in w for p in w.split("-")])
    )


def _scan_passes(text: str) -> bool:
    lexicon = origins_module._lexicon()
    return lexicon.gate_scan.search(origins_module._lower_aligned(text)) is not None


@given(st.lists(st.sampled_from(GATE_FRAGMENTS), max_size=8).map("".join))
def test_gate_scan_lets_through_every_text_the_token_gate_does(text: str) -> None:
    if _old_gate_passes(text):
        assert _scan_passes(text)


@given(st.text(max_size=40))
def test_gate_scan_lets_through_any_text_the_token_gate_does(text: str) -> None:
    if _old_gate_passes(text):
        assert _scan_passes(text)


def test_gate_scan_turns_away_ordinary_ad_text() -> None:
    assert not _scan_passes("Nouvelle à Lyon, douce et discrète, appelle-moi au 06 12 34 56 78")
    assert _scan_passes("jeune femme brésilienne")
