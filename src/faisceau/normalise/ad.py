"""Normalising one collected ad: every normaliser applied to the fields it understands.

The result lists each value with the field it came from; the ingest pipeline adds the ad
version, which completes the provenance. Pure function of the record (and image files), so
it can run in worker processes.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faisceau.normalise import age, contacts, language, origins, phones, places, prices
from faisceau.normalise.images import ImageHashes, hash_image
from faisceau.normalise.model import Found

FREE_TEXT_FIELDS = ("title", "text")
# Entries per normalisation cache, per process: bounded, since every worker holds its own.
CACHE_ENTRIES = 16_384


@dataclass(slots=True)
class Value:
    """A normalised value and the field of the ad version it was read from."""

    kind: str
    field: str
    found: Found


@dataclass(slots=True)
class NormalisedAd:
    values: list[Value] = field(default_factory=list)
    age: int | None = None
    language: str | None = None
    commune: str | None = None
    departement: str | None = None
    region: str | None = None
    images: list[tuple[int, dict[str, Any], ImageHashes | None]] = field(default_factory=list)


def field_strings(value: Any) -> list[str]:
    """The strings of a field that may hold one string or a list of them."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


@functools.lru_cache(maxsize=CACHE_ENTRIES)
def name_key(name: str) -> str:
    """A pseudonym folded for comparison: case, accents and spacing do not matter."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


class _Collector:
    """Adds values once per (kind, value, field), in reading order, and notes the first
    age and place read."""

    __slots__ = ("age", "place", "seen", "values")

    def __init__(self) -> None:
        self.values: list[Value] = []
        self.seen: set[tuple[str, str, str]] = set()
        self.age: Found | None = None
        self.place: Found | None = None

    def add(self, kind: str, field_name: str, items: Iterable[Found]) -> None:
        for item in items:
            key = (kind, item.value, field_name)
            if key not in self.seen:
                self.seen.add(key)
                self.values.append(Value(kind, field_name, item))
                if kind == "age" and self.age is None:
                    self.age = item
                elif kind == "place" and self.place is None:
                    self.place = item


FREE_TEXT_FINDERS: tuple[tuple[str, Callable[[str], list[Found]]], ...] = (
    ("phone", phones.find_phones),
    ("email", contacts.find_emails),
    ("handle", contacts.find_handles),
    ("age", age.find_ages),
    ("price", prices.find_prices),
    ("origin", origins.find_origins),
    ("place", places.find_places),
)


@functools.lru_cache(maxsize=CACHE_ENTRIES)
def free_text_values(text: str) -> tuple[tuple[str, Found], ...]:
    """Every value found in one title or text. Cached: titles and templated texts recur
    across ads and versions, and a crawl re-reads the same wording all day."""
    return tuple((kind, found) for kind, finder in FREE_TEXT_FINDERS for found in finder(text))


def _place_field(text: str) -> list[Found]:
    found = places.resolve_place(text)
    return [found] if found is not None else []


def _age_field(text: str) -> list[Found]:
    found = age.parse_age(text)
    return [found] if found is not None else []


# Dedicated fields repeat far more than free text: a person's phone, price list, location,
# origin and links come back in each of her ads, and a site offers few ways of writing a
# price. What a field's string holds is cached by kind and string, as free text's is.
FIELD_FINDERS: dict[str, Callable[[str], list[Found]]] = {
    "phone": phones.find_phones,
    "email": contacts.find_emails,
    "handle": contacts.find_handles,
    "age": _age_field,
    "price": prices.find_prices,
    "origin": origins.find_origins,
    "place": _place_field,
}


@functools.lru_cache(maxsize=CACHE_ENTRIES)
def field_values(kind: str, text: str) -> tuple[Found, ...]:
    """The values of ``kind`` in one string of a dedicated field (see ``FIELD_FINDERS``)."""
    return tuple(FIELD_FINDERS[kind](text))


def warm_up() -> None:
    """Load every normaliser's reference data now (before worker processes are forked, so
    they share it instead of each loading its own)."""
    normalise_ad({
        "title": "Lola, 25 ans, Paris 17", "location": "Lyon 7ème", "age": "25 ans",
        "text": "Brésilienne à Marseille, 150€/1h. Tel 06 12 34 56 78, snap: lola_75, "
                "lola@example.fr. Je suis disponible cette semaine, appelez-moi.",
        "phone": "06 12 34 56 78", "price": "150/1h", "origin": "brésilienne",
        "links": ["t.me/lola"], "email": "lola@example.fr",
    }, None)


def normalise_ad(content: dict[str, Any], base_dir: Path | None, *,
                 images: bool = True) -> NormalisedAd:
    """All values of one ad version. ``base_dir`` is the crawl folder: image paths are
    relative to it, and no image outside it is read (``images.hash_image``)."""
    out = _Collector()
    add = out.add
    get = content.get
    for text in field_strings(get("phone")):
        add("phone", "phone", field_values("phone", text))
    for text in field_strings(get("email")):
        add("email", "email", field_values("email", text))
    for text in field_strings(get("links")):
        add("handle", "links", field_values("handle", text))
        add("phone", "links", field_values("phone", text))
        add("email", "links", field_values("email", text))
    raw_age = get("age")
    if isinstance(raw_age, str):
        add("age", "age", field_values("age", raw_age))
    elif raw_age is not None and not isinstance(raw_age, bool):
        stated_age = age.parse_age(raw_age)
        if stated_age is not None:
            add("age", "age", (stated_age,))
    for text in field_strings(get("price")):
        add("price", "price", field_values("price", text))
    for text in field_strings(get("origin")):
        add("origin", "origin", field_values("origin", text))
    location = get("location")
    if isinstance(location, str) and location.strip():
        add("place", "location", field_values("place", location))
    name = get("name")
    if isinstance(name, str) and name.strip():
        add("name", "name", (Found(name_key(name), name),))
    title, text = (t if isinstance(t := get(f), str) else "" for f in FREE_TEXT_FIELDS)
    if title or text:
        # One pass over title and text together: every finder has a fixed cost per call.
        # A value belongs to the title when what was shown is written there.
        for kind, found in free_text_values(f"{title}\n{text}" if title and text
                                            else title or text):
            add(kind, "title" if title and found.shown in title else "text", (found,))

    result = NormalisedAd(values=out.values)
    free_text = " ".join(t for f in FREE_TEXT_FIELDS if isinstance(t := get(f), str))
    lang = language.detect_language(free_text) if free_text else None
    if lang is not None:
        add("language", "text", (lang,))
        result.language = lang.value
    if out.age is not None:
        result.age = int(out.age.value)
    place = out.place
    if place is not None and place.detail:
        result.commune = place.detail.get("commune_code") or None
        result.departement = place.detail.get("departement")
        result.region = place.detail.get("region")
    result.images = list(_images(get("images"), base_dir, images))
    return result


def _images(
    items: Any, base_dir: Path | None, hash_files: bool
) -> Iterable[tuple[int, dict[str, Any], ImageHashes | None]]:
    if not isinstance(items, list):
        return
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        path = item.get("path")
        hashes = None
        if hash_files and isinstance(path, str) and path and base_dir is not None:
            hashes = hash_image(base_dir, path)
        yield position, item, hashes
