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
twice as slowly).
"""

from __future__ import annotations

import functools
import json
import re
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
    language, confidence = _identifier().classify(cleaned[: settings.max_chars])
    # What was read: the beginning of the text, not a second copy of a long ad.
    shown = text if len(text) <= settings.max_chars else text[: settings.max_chars] + "…"
    return Found(str(language), shown, {"confidence": round(float(confidence), 4)})
