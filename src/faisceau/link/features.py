"""Per ad version, what linking compares beyond stored values: computed once, kept.

A new day of ads costs its own versions: ``compute_new`` reads the versions added since
the last run (``ad_version.id`` grows), masks and shingles their texts in one vectorised
batch, and stores a row per version in ``link_features`` and its identifiers and photos in
``link_key`` (narrow copies: detection reads them for every ad on each run). Later stages
featurise the same batches (``Featuriser``), so that new versions are read once.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
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


def stable_key(text: str) -> int:
    """A 63-bit key of ``text``, the same in every process and run (stored, compared)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") >> 1


def persona_key(name: str | None, age: int | None) -> int | None:
    """A stable 63-bit key of the persona an ad presents (name and stated age)."""
    return stable_key(f"{name}\x1f{age}") if name else None


@dataclass
class VersionBatch:
    """New ad versions and their normalised values, read once for every featuriser.

    ``versions``: (id, ad_pk, title, text, stated age, commune, département), by id;
    ``values``: (version_id, kind, value, shown, field, detail) in version order, then the
    order the values were read in; ``detail`` only for phones and e-mails (whether they were
    obfuscated, a phone's region), else None."""

    versions: list[tuple[Any, ...]]
    values: list[tuple[Any, ...]]
    images: list[tuple[Any, ...]]  # (version_id, sha256, phash)


# What later stages compute per version from the same batch (scoring's cues): called in
# the transaction that stores linking's features, so that both stay in step.
Featuriser = Callable[[Connection, VersionBatch], None]


def read_batches(conn: Connection, after_version: int) -> Iterator[VersionBatch]:
    """The versions with id above ``after_version``, in batches, with their values."""
    highest = after_version
    while True:
        mark = bulk.mark(conn)
        versions = bulk.fetch(
            conn,
            "SELECT id, ad_pk, title, text, age, commune, departement FROM ad_version "
            f"WHERE id > {mark} ORDER BY id LIMIT {BATCH}",
            (highest,),
        )
        if not versions:
            return
        low, high = versions[0][0], versions[-1][0]
        values = bulk.fetch(
            conn,
            "SELECT version_id, kind, value, shown, field, CASE WHEN kind IN ('phone', "
            f"'email') THEN detail END FROM ad_value WHERE version_id >= {mark} AND "
            f"version_id <= {mark} ORDER BY version_id, id",
            (low, high),
        )
        images = bulk.fetch(
            conn,
            f"SELECT version_id, sha256, phash FROM ad_image WHERE version_id >= {mark} "
            f"AND version_id <= {mark} AND sha256 IS NOT NULL",
            (low, high),
        )
        yield VersionBatch(versions, values, images)
        highest = high


def compute_new(conn: Connection, after_version: int, settings: LinkSettings,
                also: Sequence[Featuriser] = ()) -> tuple[int, int]:
    """Features of every version with id above ``after_version``; returns the highest id
    seen (``after_version`` when there is none) and how many versions. ``also`` run on
    each batch too."""
    highest, done = after_version, 0
    for batch in read_batches(conn, after_version):
        shown: dict[int, list[tuple[str, str]]] = defaultdict(list)
        names: dict[int, str] = {}
        ad_of = {r[0]: r[1] for r in batch.versions}
        keys: list[tuple[Any, ...]] = []
        for version_id, kind, value, shown_text, _field, _detail in batch.values:
            if kind in MASKED_KINDS:
                # An age is its number, however shown ("19a", "19 ans", "19yo"): the words
                # around it are the writer's.
                masked_as = value if kind == "age" and value.isdigit() else shown_text
                shown[version_id].append((kind, masked_as))
            if kind == "name" and version_id not in names:
                names[version_id] = value
            elif kind in STRONG_KINDS:
                keys.append((version_id, ad_of[version_id], kind, value))
        keys.extend((version_id, ad_of[version_id], "image", f"{sha} {phash or ''}")
                    for version_id, sha, phash in batch.images)
        token_lists = []
        for version_id, _ad_pk, title, body, *_ in batch.versions:
            whole = "\n".join(t for t in (title, body) if t)
            token_lists.append(text_sim.tokens(text_sim.masked(whole, shown[version_id])))
        signatures = text_sim.signatures(token_lists, width=settings.shingle_words,
                                         permutations=settings.permutations)
        out: list[tuple[Any, ...]] = [
            (version_id, ad_pk, signature, persona_key(names.get(version_id), age), commune)
            for (version_id, ad_pk, _t, _b, age, commune, _d), signature
            in zip(batch.versions, signatures, strict=True)
        ]
        bulk.insert_rows(conn, "link_features",
                         ("version_id", "ad_pk", "text_signature", "persona", "commune"), out)
        bulk.insert_rows(conn, "link_key", ("version_id", "ad_pk", "kind", "value"), keys)
        for featurise in also:
            featurise(conn, batch)
        highest = batch.versions[-1][0]
        done += len(batch.versions)
    return highest, done
