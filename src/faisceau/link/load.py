"""Reading what linking needs from the store, into the arrays of ``graph.LinkInput``.

Only compact columns are read (identifiers, hashes, stored signatures), straight from the
driver: a national month is a few hundred thousand rows of small integers and bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection

from faisceau.link import text as text_sim
from faisceau.link.graph import LinkInput
from faisceau.link.settings import LinkSettings
from faisceau.store import bulk

_EPOCH = date(1970, 1, 1)


def _days(moments: list[datetime]) -> npt.NDArray[np.int64]:
    """Days since the epoch of each moment."""
    return np.fromiter(((m.date() - _EPOCH).days for m in moments), dtype=np.int64,
                       count=len(moments))


def strong_key(kind: str, value: str) -> str:
    """The identifier a value stands for: a messaging handle that is a phone number
    ("whatsapp:+336...") is that phone."""
    if kind == "handle":
        _, _, handle = value.partition(":")
        if handle.startswith("+") and handle[1:].isdigit():
            return f"phone:{handle}"
    return f"{kind}:{value}"


def _signed(hex_hash: str) -> int:
    value = int(hex_hash, 16)
    return value - (1 << 64) if value >= 1 << 63 else value


@dataclass
class Ads:
    """The ads in position order: primary key, "source:ad_id", first and last seen."""

    pks: list[int]
    refs: list[str]
    first_seen: list[datetime]
    last_seen: list[datetime]


def load_input(conn: Connection, settings: LinkSettings) -> tuple[Ads, LinkInput]:
    """Every ad's linking input: the ads in position order and the arrays."""
    ads = bulk.fetch(
        conn, "SELECT id, first_seen, last_seen, source, ad_id FROM ad ORDER BY id", ())
    pks = [int(r[0]) for r in ads]
    position = {pk: i for i, pk in enumerate(pks)}
    listing = Ads(pks, [f"{r[3]}:{r[4]}" for r in ads], [bulk.as_datetime(r[1]) for r in ads],
                  [bulk.as_datetime(r[2]) for r in ads])

    key_rows = bulk.fetch(conn, "SELECT DISTINCT ad_pk, kind, value FROM link_key", ())
    strong = [r for r in key_rows if r[1] != "image"]
    key_ads = np.fromiter((position[r[0]] for r in strong), dtype=np.int64, count=len(strong))
    keys = [strong_key(r[1], r[2]) for r in strong]

    feature_rows = bulk.fetch(
        conn, "SELECT ad_pk, text_signature, persona, commune FROM link_features "
        "ORDER BY version_id", ())
    version_ads = np.fromiter((position[r[0]] for r in feature_rows), dtype=np.int64,
                              count=len(feature_rows))
    empty = bytes(4 * settings.permutations)
    has_text = np.fromiter((r[1] is not None for r in feature_rows), dtype=np.bool_,
                           count=len(feature_rows))
    signatures = text_sim.as_matrix([bytes(r[1]) if r[1] is not None else empty
                                     for r in feature_rows], settings.permutations)
    personas = np.fromiter((r[2] if r[2] is not None else -1 for r in feature_rows),
                           dtype=np.int64, count=len(feature_rows))

    places = sorted({(r[0], r[3]) for r in feature_rows if r[3] is not None})
    communes: dict[str, int] = {}
    place_ads = np.fromiter((position[p[0]] for p in places), dtype=np.int64,
                            count=len(places))
    place_communes = np.fromiter((communes.setdefault(p[1], len(communes)) for p in places),
                                 dtype=np.int64, count=len(places))

    images = [(r[0], *r[2].split(" ")) for r in key_rows if r[1] == "image"]
    exact_ids: dict[str, int] = {}
    image_ads = np.fromiter((position[r[0]] for r in images), dtype=np.int64,
                            count=len(images))
    image_exact = np.fromiter((exact_ids.setdefault(r[1], len(exact_ids)) for r in images),
                              dtype=np.int64, count=len(images))
    image_phash = np.fromiter((_signed(r[2]) if r[2] else -1 for r in images),
                              dtype=np.int64, count=len(images))
    return listing, LinkInput(
        first_day=_days(listing.first_seen), last_day=_days(listing.last_seen),
        key_ads=key_ads, keys=keys,
        version_ads=version_ads, signatures=signatures, has_text=has_text, personas=personas,
        place_ads=place_ads, place_communes=place_communes,
        image_ads=image_ads, image_exact=image_exact, image_phash=image_phash)
