"""Per ad version, what linking compares beyond stored values: computed once, kept.

A new day of ads costs its own versions: ``compute_new`` reads the versions added since
the last run (``ad_version.id`` grows), masks and shingles their texts in one vectorised
batch, and stores a row per version in ``link_features`` and its identifiers and photos in
``link_key`` (narrow copies: detection reads them for every ad on each run).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Any

from sqlalchemy import Connection

from faisceau.link import text as text_sim
from faisceau.link.settings import LinkSettings
from faisceau.store import bulk

# Values whose wording is a slot of a template, not the writer's style.
MASKED_KINDS = ("name", "age", "place", "phone", "price", "handle", "email", "origin")
# Identifiers that link ads outright.
STRONG_KINDS = ("phone", "email", "handle")
BATCH = 20_000


def persona_key(name: str | None, age: int | None) -> int | None:
    """A stable 63-bit key of the persona an ad presents (name and stated age)."""
    if not name:
        return None
    digest = hashlib.blake2b(f"{name}\x1f{age}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def compute_new(conn: Connection, after_version: int,
                settings: LinkSettings) -> tuple[int, int]:
    """Features of every version with id above ``after_version``; returns the highest id
    seen (``after_version`` when there is none) and how many versions."""
    highest, done = after_version, 0
    while True:
        rows = bulk.fetch(
            conn,
            "SELECT id, ad_pk, title, text, age, commune FROM ad_version WHERE id > "
            f"{bulk.mark(conn)} ORDER BY id LIMIT {BATCH}",
            (highest,),
        )
        if not rows:
            return highest, done
        low, high = rows[0][0], rows[-1][0]
        shown: dict[int, list[tuple[str, str]]] = defaultdict(list)
        names: dict[int, str] = {}
        ad_of = {r[0]: r[1] for r in rows}
        keys: list[tuple[Any, ...]] = []
        mark = bulk.mark(conn)
        for version_id, kind, value, shown_text in bulk.fetch(
            conn,
            f"SELECT version_id, kind, value, shown FROM ad_value WHERE version_id >= {mark} "
            f"AND version_id <= {mark}",
            (low, high),
        ):
            if kind in MASKED_KINDS:
                shown[version_id].append((kind, shown_text))
            if kind == "name" and version_id not in names:
                names[version_id] = value
            elif kind in STRONG_KINDS:
                keys.append((version_id, ad_of[version_id], kind, value))
        for version_id, sha, phash in bulk.fetch(
            conn,
            f"SELECT version_id, sha256, phash FROM ad_image WHERE version_id >= {mark} "
            f"AND version_id <= {mark} AND sha256 IS NOT NULL",
            (low, high),
        ):
            keys.append((version_id, ad_of[version_id], "image", f"{sha} {phash or ''}"))
        token_lists = []
        for version_id, _ad_pk, title, body, _age, _commune in rows:
            whole = "\n".join(t for t in (title, body) if t)
            token_lists.append(text_sim.tokens(text_sim.masked(whole, shown[version_id])))
        signatures = text_sim.signatures(token_lists, width=settings.shingle_words,
                                         permutations=settings.permutations)
        out: list[tuple[Any, ...]] = [
            (version_id, ad_pk, signature, persona_key(names.get(version_id), age), commune)
            for (version_id, ad_pk, _t, _b, age, commune), signature
            in zip(rows, signatures, strict=True)
        ]
        bulk.insert_rows(conn, "link_features",
                         ("version_id", "ad_pk", "text_signature", "persona", "commune"), out)
        bulk.insert_rows(conn, "link_key", ("version_id", "ad_pk", "kind", "value"), keys)
        highest = high
        done += len(rows)
