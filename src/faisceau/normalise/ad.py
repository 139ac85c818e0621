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


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def name_key(name: str) -> str:
    """A pseudonym folded for comparison: case, accents and spacing do not matter."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


class _Collector:
    """Adds values once per (kind, value, field), in reading order."""

    def __init__(self) -> None:
        self.values: list[Value] = []
        self._seen: set[tuple[str, str, str]] = set()

    def add(self, kind: str, field_name: str, found: Iterable[Found] | Found | None) -> None:
        if found is None:
            return
        items = [found] if isinstance(found, Found) else found
        for item in items:
            key = (kind, item.value, field_name)
            if key not in self._seen:
                self._seen.add(key)
                self.values.append(Value(kind, field_name, item))

    def first(self, kind: str) -> Value | None:
        return next((v for v in self.values if v.kind == kind), None)


FREE_TEXT_FINDERS: tuple[tuple[str, Callable[[str], list[Found]]], ...] = (
    ("phone", phones.find_phones),
    ("email", contacts.find_emails),
    ("handle", contacts.find_handles),
    ("age", age.find_ages),
    ("price", prices.find_prices),
    ("origin", origins.find_origins),
    ("place", places.find_places),
)


@functools.lru_cache(maxsize=65_536)
def free_text_values(text: str) -> tuple[tuple[str, Found], ...]:
    """Every value found in one title or text. Cached: titles and templated texts recur
    across ads and versions, and a crawl re-reads the same wording all day."""
    return tuple((kind, found) for kind, finder in FREE_TEXT_FINDERS for found in finder(text))


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
    """All values of one ad version. ``base_dir`` is where image paths are relative to."""
    out = _Collector()
    for text in _strings(content.get("phone")):
        out.add("phone", "phone", phones.find_phones(text))
    for text in _strings(content.get("email")):
        out.add("email", "email", contacts.find_emails(text))
    for text in _strings(content.get("links")):
        out.add("handle", "links", contacts.find_handles(text))
        out.add("phone", "links", phones.find_phones(text))
        out.add("email", "links", contacts.find_emails(text))
    raw_age = content.get("age")
    if raw_age is not None and not isinstance(raw_age, bool):
        out.add("age", "age", age.parse_age(raw_age))
    for text in _strings(content.get("price")):
        out.add("price", "price", prices.find_prices(text))
    for text in _strings(content.get("origin")):
        out.add("origin", "origin", origins.find_origins(text))
    location = content.get("location")
    if isinstance(location, str) and location.strip():
        out.add("place", "location", places.resolve_place(location))
    name = content.get("name")
    if isinstance(name, str) and name.strip():
        out.add("name", "name", Found(name_key(name), name))
    title, text = (t if isinstance(t := content.get(f), str) else "" for f in FREE_TEXT_FIELDS)
    if title or text:
        # One pass over title and text together: every finder has a fixed cost per call.
        # A value belongs to the title when what was shown is written there.
        for kind, found in free_text_values(f"{title}\n{text}" if title and text
                                            else title or text):
            out.add(kind, "title" if title and found.shown in title else "text", found)

    result = NormalisedAd(values=out.values)
    free_text = " ".join(t for f in FREE_TEXT_FIELDS if isinstance(t := content.get(f), str))
    lang = language.detect_language(free_text) if free_text else None
    if lang is not None:
        out.add("language", "text", lang)
        result.language = lang.value
    stated = out.first("age")
    if stated is not None:
        result.age = int(stated.found.value)
    place = out.first("place")
    if place is not None and place.found.detail:
        result.commune = place.found.detail.get("commune_code") or None
        result.departement = place.found.detail.get("departement")
        result.region = place.found.detail.get("region")
    result.images = list(_images(content.get("images"), base_dir, images))
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
            hashes = hash_image(base_dir / path)
        yield position, item, hashes
