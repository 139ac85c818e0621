"""Per ad version, what scoring reads: its cues, pseudonym, stated age, place, prices, and
the capitalised words of its text (``mentions``: a text often says the person's name, which
tells one person under two pseudonyms from two persons).

Computed once per version, from the batches of new versions that linking reads anyway
(``featurise``, a ``link.features.Featuriser``): the text cues of a whole batch at once
(``Lexicon.find_many``), the value cues from the values the normaliser stored, one narrow
row per version in ``score_features``. A new day of ads costs its own versions.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from typing import Any

import numpy as np
import orjson
from sqlalchemy import Connection

from faisceau.link.features import VersionBatch, read_batches, stable_key

__all__ = ["VersionBatch", "compute_new", "featurise"]
from faisceau.normalise.ad import name_key as folded_name
from faisceau.score.cues import FREE_TEXT_FIELDS, ORIGIN_BIT, contact_cues, lexicon
from faisceau.store import bulk

COLUMNS = ("version_id", "ad_pk", "cues", "name_key", "stated_age", "departement",
           "price_hour", "price_half", "mentions")
# Words of two letters or more (no digits), of which those starting with a capital are
# kept: names, places, sentence openings. Only the first few are kept: a name is said
# early, and the column stays narrow.
WORD = re.compile(r"[^\W\d_]{2,}")
MAX_MENTIONS = 8
# The normalised values scoring reads; the rest of ``ad_value`` is not fetched.
VALUE_KINDS = frozenset({"phone", "email", "origin", "price", "name"})


# Pseudonyms, prices and contact details repeat from ad to ad: what is read from each is
# cached (bounded, per process).
CACHE_ENTRIES = 65_536


@functools.lru_cache(maxsize=CACHE_ENTRIES)
def name_key(name: str | None) -> int | None:
    """A stable 63-bit key of a pseudonym as normalised (case and accents folded)."""
    return stable_key(name) if name else None


@functools.lru_cache(maxsize=CACHE_ENTRIES)
def _contact_cues(kind: str, detail: str) -> int:
    return contact_cues(kind, orjson.loads(detail))


def _per_version(values: list[tuple[Any, ...]]) -> dict[int, tuple[int, str | None, int | None,
                                                                 int | None]]:
    """(value cues, name, price for an hour, for half an hour) of each version, in one pass
    over its values (a hot loop: a day of ads has hundreds of thousands of values)."""
    out: dict[int, tuple[int, str | None, int | None, int | None]] = {}
    kinds, free_text, contact, euros = VALUE_KINDS, FREE_TEXT_FIELDS, _contact_cues, _euros
    current, mask, name, hour, half = None, 0, None, None, None
    for version_id, kind, value, _shown, field, detail in values:
        if kind not in kinds:
            continue
        if version_id != current:
            if current is not None:
                out[current] = (mask, name, hour, half)
            current, mask, name, hour, half = version_id, 0, None, None, None
        if kind == "price":
            if value.endswith(" EUR/60 min"):
                hour = hour if hour is not None else euros(value)
            elif value.endswith(" EUR/30 min"):
                half = half if half is not None else euros(value)
        elif kind == "name":
            name = name or value
        elif kind == "origin":
            if field in free_text:
                mask |= ORIGIN_BIT
        elif detail:
            mask |= contact(kind, detail)
    if current is not None:
        out[current] = (mask, name, hour, half)
    return out


@functools.lru_cache(maxsize=CACHE_ENTRIES)
def _euros(value: str) -> int | None:
    try:
        return round(float(value.partition(" ")[0]))
    except ValueError:
        return None


@functools.lru_cache(maxsize=CACHE_ENTRIES)
def _word_key(word: str) -> int | None:
    """``name_key`` of a word read as a name (cached: a day of texts repeats few words)."""
    return name_key(folded_name(word))


def mentions(text: str, own: int | None) -> bytes | None:
    """The keys (as ``name_key`` makes them) of the first capitalised words of ``text``,
    other than the ad's own pseudonym ``own``, distinct, as little-endian int64 bytes;
    None when there are none."""
    keys: list[int] = []
    for word in WORD.findall(text):
        if not word[0].isupper():
            continue
        key = _word_key(word)
        if key is not None and key != own and key not in keys:
            keys.append(key)
            if len(keys) == MAX_MENTIONS:
                break
    return np.asarray(keys, dtype="<i8").tobytes() if keys else None


def featurise(conn: Connection, batch: VersionBatch) -> None:
    """Store the scoring features of one batch of new versions (see ``link.features``)."""
    per_version = _per_version(batch.values)
    texts = ["\n".join(t for t in (v[2], v[3]) if t) for v in batch.versions]
    text_cues = lexicon().find_many(texts).tolist()
    none = (0, None, None, None)
    out: list[tuple[Any, ...]] = []
    for (version_id, ad_pk, _t, _b, age, _commune, departement), mask, text in zip(
            batch.versions, text_cues, texts, strict=True):
        cues, name, hour, half = per_version.get(version_id, none)
        own = name_key(name)
        out.append((version_id, ad_pk, mask | cues, own, age, departement, hour, half,
                    mentions(text, own)))
    bulk.insert_rows(conn, "score_features", COLUMNS, out)
    _count_prices(conn, out)


def _count_prices(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    """Add the batch's prices to the market's histogram (``price_histogram``)."""
    counts: Counter[tuple[str, int, int]] = Counter()
    for row in rows:
        departement, hour, half = row[5] or "", row[6], row[7]
        if hour is not None:
            counts[departement, 60, hour] += 1
        if half is not None:
            counts[departement, 30, half] += 1
    bulk.add_counts(conn, "price_histogram", ("departement", "minutes", "price"), "versions",
                    [(*key, n) for key, n in sorted(counts.items())])


def compute_new(conn: Connection, after_version: int) -> int:
    """Catch up: the scoring features of every version with id above ``after_version``
    (normally computed with linking's, in the same pass: this finds nothing then).
    Returns how many versions."""
    done = 0
    for batch in read_batches(conn, after_version):
        featurise(conn, batch)
        done += len(batch.versions)
    return done
