"""Texts as sets of shingles, compared by MinHash, vectorised over many texts at once.

What an ad's text says about who wrote it is its wording, not its slots: a network's
template filled with another name, age, city, phone or price is still the same template.
``masked`` replaces every value the normalisers found (by what the ad showed) with the name
of its kind; ``tokens`` keeps accents, emoji and non-Latin scripts, which are signal (a
Chinese template, an emoji signature), and cuts CJK runs into characters since those
scripts do not separate words.

MinHash signatures are computed for a whole batch with numpy: one array of shingle hashes,
one pass per permutation, a segmented minimum per text. (datasketch computes one text at a
time in Python, which costs more than all of detection's other work.)
"""

from __future__ import annotations

import functools
import re
import unicodedata
import zlib
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

SignatureArray = npt.NDArray[np.uint32]

_CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
# A slot, a CJK character alone (those scripts do not separate words), a word, a symbol.
_TOKEN = re.compile(rf"§[a-z]+|[{_CJK_CHARS}]|[^\W{_CJK_CHARS}]+|[^\w\s]")
_MIX1 = np.uint64(0x9E3779B97F4A7C15)
_MIX2 = np.uint64(0xC2B2AE3D27D4EB4F)
_SHIFT = np.uint64(32)


def masked(text: str, shown: Iterable[tuple[str, str]]) -> str:
    """``text`` with each shown value replaced by ``§kind``, longest values first (a phone
    written inside a longer handle goes with the handle).

    A value is found as written, in capitals or in lower case (a title in capitals says
    the same name); a bare number only as a whole number, so that an age of 19 is masked
    in "19 ans" and not inside "19h" or another number's digits."""
    numbers: dict[str, str] = {}
    for kind, value in sorted(shown, key=lambda item: -len(item[1])):
        if len(value) < 2:
            continue
        if value.isdigit():
            numbers.setdefault(value, kind)
            continue
        slot = f" §{kind} "
        if value in text:
            text = text.replace(value, slot)
        upper, lower = value.upper(), value.lower()
        if upper != value and upper in text:
            text = text.replace(upper, slot)
        if lower != value and lower in text:
            text = text.replace(lower, slot)
    for number, kind in numbers.items():
        text = _whole_number_masked(text, number, kind)
    return text


def _whole_number_masked(text: str, number: str, kind: str) -> str:
    """``text`` with ``number`` replaced by ``§kind`` where no digit touches it (str.find
    rather than a regular expression: this runs for most versions of every batch)."""
    start = text.find(number)
    while start != -1:
        end = start + len(number)
        if (start == 0 or not text[start - 1].isdigit()) and (
                end == len(text) or not text[end].isdigit()):
            slot = f" §{kind} "
            text = text[:start] + slot + text[end:]
            start = text.find(number, start + len(slot))
        else:
            start = text.find(number, end)
    return text


def tokens(text: str) -> list[str]:
    """Words, emoji and symbols of ``text``, case-folded; punctuation is dropped, CJK is cut
    into characters."""
    return [t for t in _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())
            if len(t) > 1 or not _is_punctuation(t)]


@functools.lru_cache(maxsize=4096)
def _is_punctuation(char: str) -> bool:
    return unicodedata.category(char).startswith("P")


def _token_hash(token: str) -> int:
    data = token.encode()
    return zlib.crc32(data) | (zlib.adler32(data) << 32)


def _shingle_hashes(texts: Sequence[Sequence[str]], width: int
                    ) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]:
    """The hashes of every ``width``-token shingle of the non-empty texts, in text order,
    and how many each text has (a text shorter than ``width`` is one shingle of all its
    tokens). One array pass for the whole batch: per-text numpy calls would cost more."""
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    # Each distinct token is hashed once per batch.
    vocabulary: dict[str, int] = {}
    ids = np.fromiter((vocabulary.setdefault(w, len(vocabulary)) for t in texts for w in t),
                      dtype=np.int64, count=int(lengths.sum()))
    hashes = np.fromiter((_token_hash(w) for w in vocabulary), dtype=np.uint64,
                         count=len(vocabulary))
    words = hashes[ids]
    starts = np.cumsum(lengths) - lengths
    counts = np.where(lengths >= width, lengths - width + 1, np.minimum(lengths, 1))
    with np.errstate(over="ignore"):
        windows = max(len(words) - width + 1, 0)
        combined = words[:windows].copy()
        for offset in range(1, width):
            combined = combined * _MIX1 + words[offset : windows + offset]
        # Shingle k of a text starts at its token k.
        text_of = np.repeat(np.arange(len(texts)), counts)
        position = starts[text_of] + (np.arange(len(text_of))
                                      - np.repeat(np.cumsum(counts) - counts, counts))
        long_enough = lengths[text_of] >= width
        out = np.empty(len(text_of), dtype=np.uint64)
        out[long_enough] = combined[position[long_enough]]
        for row in np.flatnonzero(~long_enough).tolist():
            value = np.uint64(0)
            start = int(position[row])
            for token in words[start : start + int(lengths[text_of[row]])]:
                value = value * _MIX1 + token
            out[row] = value
    return out, counts


def _permutations(count: int) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    # Fixed seed: signatures are stored and compared across runs.
    rng = np.random.default_rng(20240607)
    a = rng.integers(1, 2**63, size=count, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 2**63, size=count, dtype=np.uint64)
    return a, b


def signatures(texts: Sequence[Sequence[str]], *, width: int,
               permutations: int) -> list[bytes | None]:
    """The MinHash signature of each token list (``permutations`` uint32 values, as bytes),
    or ``None`` for a text without tokens."""
    present = [i for i, words in enumerate(texts) if words]
    result: list[bytes | None] = [None] * len(texts)
    if not present:
        return result
    shingles, counts = _shingle_hashes([texts[i] for i in present], width)
    starts = np.cumsum(counts) - counts
    a, b = _permutations(permutations)
    sig = np.empty((len(present), permutations), dtype=np.uint32)
    with np.errstate(over="ignore"):
        for j in range(permutations):
            hashed = ((shingles * a[j] + b[j]) ^ _MIX2) >> _SHIFT
            sig[:, j] = np.minimum.reduceat(hashed, starts).astype(np.uint32)
    for row, index in enumerate(present):
        result[index] = sig[row].tobytes()
    return result


def as_matrix(blobs: Sequence[bytes], permutations: int) -> SignatureArray:
    """Stored signatures back as an (n, permutations) array."""
    if not blobs:
        return np.empty((0, permutations), dtype=np.uint32)
    return np.frombuffer(b"".join(blobs), dtype="<u4").reshape(len(blobs), permutations)


def band_keys(matrix: SignatureArray, bands: int) -> npt.NDArray[np.uint64]:
    """(n, bands) keys: two texts sharing a key agree on a whole band of their signature."""
    n, width = matrix.shape
    rows = width // bands
    shaped = matrix[:, : rows * bands].reshape(n, bands, rows).astype(np.uint64)
    keys: npt.NDArray[np.uint64] = np.zeros((n, bands), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for r in range(rows):
            keys = (keys * _MIX1 + shaped[:, :, r]).astype(np.uint64, copy=False)
        keys = (keys * _MIX2 + np.arange(bands, dtype=np.uint64)).astype(np.uint64, copy=False)
    return keys


def similarity(matrix: SignatureArray, left: npt.NDArray[np.int64],
               right: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Estimated Jaccard similarity of the pairs (left[i], right[i]) of rows."""
    if len(left) == 0:
        return np.empty(0)
    return (matrix[left] == matrix[right]).mean(axis=1)
