"""Per ad version, what scoring reads: its cues, pseudonym, stated age, place and prices.

Computed once per version, like linking's features: ``compute_new`` reads the versions added
since the last run, finds their text cues (one pass of the lexicon pattern per text) and
their value cues (from the values the normaliser stored), and writes one narrow row per
version in ``score_features``. A new day of ads costs its own versions.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Any

import orjson
from sqlalchemy import Connection

from faisceau.score.cues import lexicon, value_cues
from faisceau.store import bulk

BATCH = 20_000
COLUMNS = ("version_id", "ad_pk", "cues", "name_key", "stated_age", "departement",
           "price_hour", "price_half")
# The normalised values scoring reads; the rest of ``ad_value`` is not fetched.
VALUE_KINDS = ("phone", "email", "origin", "price", "name")


def name_key(name: str | None) -> int | None:
    """A stable 63-bit key of a pseudonym as normalised (case and accents folded)."""
    if not name:
        return None
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big") >> 1


def price_of(value: str) -> tuple[int, int] | None:
    """(euros, minutes) of a normalised price ("150 EUR/60 min"); None in another currency."""
    amount, _, rest = value.partition(" ")
    currency, _, duration = rest.partition("/")
    if currency != "EUR":
        return None
    try:
        return round(float(amount)), int(duration.split(" ")[0])
    except ValueError:
        return None


def compute_new(conn: Connection, after_version: int) -> tuple[int, int]:
    """Scoring features of every version with id above ``after_version``; returns the
    highest id seen (``after_version`` when there is none) and how many versions."""
    find_many = lexicon().find_many
    highest, done = after_version, 0
    while True:
        rows = bulk.fetch(
            conn,
            "SELECT id, ad_pk, title, text, age, departement FROM ad_version WHERE id > "
            f"{bulk.mark(conn)} ORDER BY id LIMIT {BATCH}",
            (highest,),
        )
        if not rows:
            return highest, done
        low, high = rows[0][0], rows[-1][0]
        values: dict[int, list[tuple[str, str, str, Any]]] = defaultdict(list)
        mark = bulk.mark(conn)
        kinds = ", ".join(f"'{k}'" for k in VALUE_KINDS)
        for version_id, kind, value, field, detail in bulk.fetch(
            conn,
            f"SELECT version_id, kind, value, field, detail FROM ad_value WHERE version_id >= "
            f"{mark} AND version_id <= {mark} AND kind IN ({kinds})",
            (low, high),
        ):
            parsed = orjson.loads(detail) if detail and kind in ("phone", "email") else None
            values[int(version_id)].append((kind, value, field, parsed))
        text_cues = find_many(["\n".join(t for t in (r[2], r[3]) if t) for r in rows]).tolist()
        out: list[tuple[Any, ...]] = []
        for (version_id, ad_pk, _t, _b, age, departement), mask in zip(rows, text_cues,
                                                                     strict=True):
            found = values.get(int(version_id), [])
            mask |= value_cues(found)
            name = next((v for k, v, _, _ in found if k == "name"), None)
            hour = half = None
            for kind, value, _, _ in found:
                if kind == "price" and (price := price_of(value)) is not None:
                    euros, minutes = price
                    if minutes == 60 and hour is None:
                        hour = euros
                    elif minutes == 30 and half is None:
                        half = euros
            out.append((version_id, ad_pk, int(mask), name_key(name), age, departement,
                        hour, half))
        bulk.insert_rows(conn, "score_features", COLUMNS, out)
        highest = high
        done += len(rows)
