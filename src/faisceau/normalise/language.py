"""The language an ad is written in.

Owns ``detect_language``: ISO 639-1 code of the text's language, with
``detail["confidence"]`` (0..1, a probability among the candidate languages), or None when
the text is too short to judge (fewer than ``min_letters`` letters once digits, punctuation
and symbols are removed). ``shown`` is the text judged, cut after ``max_chars`` characters
so a long ad is not stored twice.

Detector: py3langid (offline, ships its model), restricted to the candidate languages in
``data/language.json``. Chosen over lingua-language-detector after measuring both, same
candidate set, on synthetic short ad texts in 21 languages (fr, en, es, pt, ro, it, de, ru,
uk, bg, zh, pl, nl, hu, th, vi, tr, ar, el, cs, sq), with and without phone/price/emoji
noise, whole and cut to 12, 18 and 25 letters:

- accuracy: equal from 18 letters up (100 % of the set for both); lingua is better only on
  12-letter snippets (85/88 against 79/88), shorter than anything judged here at all;
- speed on a 300-character ad, same machine: lingua 480-620 µs a text; py3langid as used
  here about 47 µs (on the 2-core machine where a regex finding the numbers of the same ad
  takes about 5 µs);
- cost: lingua 2.1 (the last release with wheels for Python 3.11) is a 96 MB wheel, builds
  its models in ~5.6 s and holds ~700 MB resident; py3langid is 4.5 MB, loads in ~0.6 s.

What makes py3langid fast enough: only the first ``max_chars`` (100) characters of the
cleaned text are read (on ad texts, reading more changed no answer), and the restricted
probability table is kept in float32 (the model ships float16, which NumPy multiplies about
twice as slowly). Its features (byte n-grams) are found here rather than by py3langid's
byte-by-byte Python loop, with the same result to the last bit (tests compare the two):
that loop walks an Aho-Corasick automaton of 40 MB, one dependent lookup per byte, and
between the other normalisers' work most lookups miss the CPU cache. The automaton's state
after a byte is the longest suffix read that is a node of its trie, so it depends on the
last ``_MODEL_DEPTH`` bytes only: the features of a word depend on the word and the
``_MODEL_DEPTH - 1`` bytes before it, and are memoised so (ads repeat their words
endlessly). Counting, the float32 product and the softmax are py3langid's own steps.
"""

from __future__ import annotations

import functools
import json
import math
import re
import unicodedata
from array import array
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from faisceau.normalise.model import Found


@dataclass(frozen=True)
class _Settings:
    candidates: tuple[str, ...]
    min_letters: int
    max_chars: int


@functools.cache
def _settings() -> _Settings:
    path = resources.files("faisceau.normalise").joinpath("data", "language.json")
    data = json.loads(path.read_text("utf-8"))
    return _Settings(tuple(data["candidates"]), int(data["min_letters"]), int(data["max_chars"]))


@functools.cache
def _identifier() -> Any:
    """The py3langid identifier, loaded once (about half a second) on first use."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(_settings().candidates))
    table = getattr(identifier, "nb_ptc", None)
    if isinstance(table, np.ndarray) and table.dtype != np.float32:
        identifier.nb_ptc = np.ascontiguousarray(table, dtype=np.float32)
    return identifier


# Length in bytes of py3langid's longest feature, the depth of its automaton's trie: the
# automaton's state after a byte depends on that many bytes at most. A property of the
# model shipped with py3langid, checked against it by tests/normalise/test_language.py.
_MODEL_DEPTH = 6
# Bytes of context a chunk's first features depend on.
_CONTEXT = _MODEL_DEPTH - 1
# Size of the memo of chunks (entries), emptied when full: ten megabytes at most.
_MEMO_MAX = 65_536

# Counts whose log1p is tabled: a feature is counted at most once a byte, and a text read
# has max_chars characters of at most 4 bytes.
_MAX_COUNT = 4096


@dataclass(frozen=True)
class _Model:
    """py3langid's model, shaped for ``_classify``."""

    next_state: Any  # next state at (row base of a state + byte)
    row_base: list[int]  # row base of each state
    feature: list[int]  # the feature a state counts, or -1
    table: np.ndarray  # (feature, language) log-probabilities, candidates only
    prior: np.ndarray  # (language,) log-probabilities
    labels: tuple[str, ...]
    alias_pairs: tuple[tuple[int, int], ...]  # (kept, merged) columns of one label
    padding: bytes  # _CONTEXT bytes that leave the automaton in its start state
    log1p: tuple[float, ...]  # NumPy's float32 log1p of each count a text can have


@functools.cache
def _model() -> _Model:
    identifier = _identifier()
    next_state, row_base = identifier.tk_nextmove, list(identifier._rowbase)
    # A byte that starts no feature keeps the start state: a text's first chunk is read
    # after a context of it, as if from the text's start.
    pad = next(b for b in range(256) if next_state[row_base[0] + b] == 0)
    return _Model(
        next_state=next_state,
        row_base=row_base,
        feature=list(identifier.tk_output),
        table=identifier.nb_ptc,
        prior=np.asarray(identifier.nb_pc, dtype=np.float32),
        labels=tuple(identifier.nb_classes),
        alias_pairs=tuple(identifier._alias_pairs),
        padding=bytes([pad]) * _CONTEXT,
        # py3langid takes np.log1p of the float32 counts; NumPy computes each element on
        # its own, so a table of them gives the same numbers (a test checks it).
        log1p=tuple(np.log1p(np.arange(_MAX_COUNT + 1, dtype=np.float32)).tolist()),
    )


def _walk(model: _Model, data: bytes, skip: int) -> bytes:
    """Features counted at the bytes of ``data`` after its first ``skip``, walking the
    automaton from its start state (py3langid's loop), packed as unsigned ints."""
    next_state, row_base, feature = model.next_state, model.row_base, model.feature
    state = 0
    found = array("I")
    for position, byte in enumerate(data):
        state = next_state[row_base[state] + byte]
        if position >= skip and (index := feature[state]) >= 0:
            found.append(index)
    return found.tobytes()


# Features of chunks already read. A chunk is a word and the space after it; its first
# _CONTEXT features depend on the _CONTEXT bytes before it too. _CHUNKS is keyed by the
# context and the chunk: one lookup a word. A chunk new in that context is put together
# from two memos that repeat more: _HEADS (context and the chunk's first _CONTEXT bytes)
# and _TAILS (the chunk alone, its features after the first _CONTEXT bytes). Features are
# packed in bytes rather than tuples of ints: between other normalisers' work, what this
# touches mostly comes from memory, and packed features are a few cache lines.
_CHUNKS: dict[bytes, bytes] = {}
_HEADS: dict[bytes, bytes] = {}
_TAILS: dict[bytes, bytes] = {}


def _features(model: _Model, data: bytes) -> memoryview:
    """py3langid's features of ``data``, in the order its byte loop counts them."""
    padded = model.padding + data
    chunks = _CHUNKS
    found: list[bytes] = []
    append = found.append
    size = len(data)
    start = 0
    while start < size:
        end = data.find(b" ", start) + 1 or size
        # padded[start:end + _CONTEXT] is the chunk's context, then the chunk.
        key = padded[start : end + _CONTEXT]
        features = chunks.get(key)
        if features is None:
            features = _remember(chunks, key, _new_chunk(model, key))
        append(features)
        start = end
    return memoryview(b"".join(found)).cast("I")


def _new_chunk(model: _Model, key: bytes) -> bytes:
    """The features of a chunk after its context (``key`` is both), from the memos of
    heads and tails."""
    head_key = key[: 2 * _CONTEXT]
    head = _HEADS.get(head_key)
    if head is None:
        head = _remember(_HEADS, head_key, _walk(model, head_key, _CONTEXT))
    if len(key) <= 2 * _CONTEXT:
        return head
    chunk = key[_CONTEXT:]
    tail = _TAILS.get(chunk)
    if tail is None:
        tail = _remember(_TAILS, chunk, _walk(model, chunk, _CONTEXT))
    return head + tail


def _remember(memo: dict[bytes, bytes], key: bytes, features: bytes) -> bytes:
    if len(memo) >= _MEMO_MAX:
        memo.clear()  # a new crawl's words, after a long run: start again
    memo[key] = features
    return features


def _classify(text: str) -> tuple[str, float]:
    """What py3langid's ``LanguageIdentifier.classify`` returns (norm_probs=True), faster.

    Same features in the same order and the same float32 arithmetic: the same answer to
    the last bit. Only the reading of the bytes differs (see the module docstring).
    """
    model = _model()
    if text.isupper():
        text = text.lower()
    data = unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")
    features = _features(model, data)
    if features:
        counts = Counter(features)  # first-seen order, as py3langid's
        size = len(counts)
        index = np.fromiter(counts.keys(), dtype=np.intp, count=size)
        try:
            weights = np.fromiter(map(model.log1p.__getitem__, counts.values()),
                                  dtype=np.float32, count=size)
        except IndexError:  # a count beyond the table: a text longer than ever read
            weights = np.log1p(np.fromiter(counts.values(), dtype=np.float32, count=size))
        scores = weights @ model.table[index]
        scores += model.prior
    else:  # no feature: py3langid scores every language 0, without its prior
        scores = np.zeros(len(model.labels), dtype=np.float32)
    # T = sqrt(bytes), as py3langid calibrates its softmax.
    scores *= 1.0 / math.sqrt(len(data) or 1)
    np.exp(scores - scores.max(), out=scores)
    scores /= scores.sum()
    probabilities = scores.tolist()
    for kept, merged in model.alias_pairs:  # "sr" twice (Latin and Cyrillic): one label
        # py3langid adds in float32. The double sum of two float32 values, rounded to
        # float32, is the same number (53 bits >= 2 x 24 + 2: rounding twice is harmless).
        total = probabilities[kept] + probabilities[merged]
        probabilities[kept] = array("f", (total,))[0]
        probabilities[merged] = 0.0
    best = probabilities.index(max(probabilities))  # the first of equals, as argmax
    return model.labels[best], probabilities[best]


# Numbers, punctuation and emoji say nothing of the language and would only use up the
# characters read: they become spaces. (Links and handles keep their letters: few, and
# cheaper to leave than to find.)
_NOISE = re.compile(r"[\d\W_]+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def detect_language(text: str | None) -> Found | None:
    """The language ``text`` is written in, or None when it is too short to tell."""
    if not text:
        return None
    settings = _settings()
    # Cleaning a little more than is read leaves enough letters, without cleaning it all.
    cleaned = _NOISE.sub(" ", text[: settings.max_chars * 3 // 2]).strip()
    letters = len(cleaned) - cleaned.count(" ")
    if letters < settings.min_letters:
        # One CJK character carries about a word: count it three times.
        letters += 2 * len(_CJK.findall(cleaned))
        if letters < settings.min_letters:
            return None
    language, confidence = _classify(cleaned[: settings.max_chars])
    # What was read: the beginning of the text, not a second copy of a long ad.
    shown = text if len(text) <= settings.max_chars else text[: settings.max_chars] + "…"
    return Found(language, shown, {"confidence": round(confidence, 4)})
