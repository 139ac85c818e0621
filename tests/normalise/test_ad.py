"""One ad normalised: every normaliser on the fields it understands, cached or not."""

from __future__ import annotations

from typing import Any

import pytest

from faisceau.normalise import age, contacts, language, origins, phones, places, prices
from faisceau.normalise.ad import (
    FREE_TEXT_FIELDS,
    FREE_TEXT_FINDERS,
    Value,
    field_values,
    free_text_values,
    name_key,
    normalise_ad,
)
from faisceau.normalise.model import Found

# Invented ads, written as sites show them, with the odd field a crawl brings back.
ADS: list[dict[str, Any]] = [
    {"title": "Lola, 25 ans, Paris 17", "location": "Lyon 7ème", "age": "25 ans",
     "text": "Brésilienne à Marseille, 150€/1h. Tel 06 12 34 56 78, snap: lola_75, "
             "lola@example.fr. Je suis disponible cette semaine, appelez-moi.",
     "phone": "06 12 34 56 78", "price": "150/1h", "origin": "brésilienne",
     "links": ["t.me/lola"], "email": "lola@example.fr", "name": "Lola"},
    {"title": "Nina à Pau", "text": "Nina, indépendante, de passage à Pau cette semaine. "
     "Contact zéro sept six trois six deux huit neuf trois un.", "age": 31,
     "phone": "+33 6 12 34 56 79", "price": ["nuit 800", "1h 200"], "location": "64000",
     "links": ["https://wa.me/33612345679", "insta: nina.pau"], "name": "Nina "},
    {"title": "", "text": "Hola, soy Carla, 22 años, independiente en 31000. Citas por "
     "teléfono ０６ １２ ３４ ５６ ８０.", "age": True, "origin": "FR", "location": "  "},
    {"title": "Sofia dominicaine 13001", "text": None, "age": "dix-neuf ans",
     "phone": ["06.12.34.56.81", 612345682], "price": None, "links": "snap: sofia_13"},
    {"text": "Hi, I am Léa, 26, in Nîmes this week. Appointments only: +33 6 12 34 56 83. "
     "200 euros/h", "age": 26.0, "origin": ["latina", 3], "email": "lea [at] mail . fr"},
    {"title": "Rencontre à Saint-Denis (93)", "text": "Nouvelle, 20 ans, 1m65, 55 kg. "
     "Rdv à 11h. 06 12 34 56 78", "location": "Saint-Denis 974", "phone": "06 12 34 56 78"},
    {},
]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _reference(content: dict[str, Any]) -> list[tuple[str, str, Found]]:
    """The values of an ad as normalise_ad read them before its caches: every finder
    called on every field, each (kind, value, field) once, in reading order."""
    values: list[tuple[str, str, Found]] = []
    seen: set[tuple[str, str, str]] = set()

    def add(kind: str, field: str, found: Any) -> None:
        for item in [found] if isinstance(found, Found) else found or []:
            if (kind, item.value, field) not in seen:
                seen.add((kind, item.value, field))
                values.append((kind, field, item))

    for text in _strings(content.get("phone")):
        add("phone", "phone", phones.find_phones(text))
    for text in _strings(content.get("email")):
        add("email", "email", contacts.find_emails(text))
    for text in _strings(content.get("links")):
        add("handle", "links", contacts.find_handles(text))
        add("phone", "links", phones.find_phones(text))
        add("email", "links", contacts.find_emails(text))
    raw_age = content.get("age")
    if raw_age is not None and not isinstance(raw_age, bool):
        add("age", "age", age.parse_age(raw_age))
    for text in _strings(content.get("price")):
        add("price", "price", prices.find_prices(text))
    for text in _strings(content.get("origin")):
        add("origin", "origin", origins.find_origins(text))
    location = content.get("location")
    if isinstance(location, str) and location.strip():
        add("place", "location", places.resolve_place(location))
    name = content.get("name")
    if isinstance(name, str) and name.strip():
        add("name", "name", Found(name_key(name), name))
    title, text = (t if isinstance(t := content.get(f), str) else "" for f in FREE_TEXT_FIELDS)
    if title or text:
        both = f"{title}\n{text}" if title and text else title or text
        for kind, finder in FREE_TEXT_FINDERS:
            for found in finder(both):
                add(kind, "title" if title and found.shown in title else "text", found)
    free_text = " ".join(t for f in FREE_TEXT_FIELDS if isinstance(t := content.get(f), str))
    if free_text:
        add("language", "text", language.detect_language(free_text))
    return values


@pytest.mark.parametrize("content", ADS)
def test_values_are_those_of_every_finder(content: dict[str, Any]) -> None:
    free_text_values.cache_clear()
    field_values.cache_clear()
    expected = [Value(kind, field, found) for kind, field, found in _reference(content)]
    assert normalise_ad(content, None, images=False).values == expected
    # Read again, from the caches of fields and free text: the same values.
    assert normalise_ad(content, None, images=False).values == expected


def test_ad_level_summary() -> None:
    result = normalise_ad(ADS[0], None, images=False)
    assert result.age == 25
    assert result.language == "fr"
    assert (result.commune, result.departement, result.region) == ("69387", "69", "84")
    assert normalise_ad(ADS[1], None, images=False).age == 31
    assert normalise_ad({}, None, images=False).values == []


def test_a_field_read_once_serves_every_ad_that_shows_it() -> None:
    field_values.cache_clear()
    first = normalise_ad({"phone": "06 12 34 56 78", "price": "1h 180"}, None, images=False)
    second = normalise_ad({"phone": "06 12 34 56 78", "price": "1h 180"}, None, images=False)
    assert first.values == second.values
    assert field_values.cache_info().hits == 2
