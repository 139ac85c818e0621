"""Stated origins: nationality words mapped to countries or regions.

Owns ``find_origins``, for the ``origin`` field ("Brésilienne", "latina", "FR") and for free
text ("jeune roumaine", "fille de l'Est"). Values are ISO 3166-1 alpha-2 codes ("BR",
``detail["kind"] == "country"``) or regions written ``region:NAME`` ("region:latam",
"region:africa", "region:asia", "region:eastern_europe"...; ``kind == "region"``).

The lexicon is ``data/origins.json``: French, English, Spanish and Portuguese forms
(masculine, feminine, plural) and country names; case and accents do not matter. Words that
name no single country or region are listed there too, mapped to nothing on purpose, each with
its reason: "métisse" (mixed heritage says nothing of a country), "congolaise" (two Congos),
"orientale", "arabe", "black"... They are read and skipped, never guessed.

Ad vocabulary makes some nationality words names of sexual practices or products
("amour à la grecque", "espagnole", "french kiss", "massage thaï", "épilation brésilienne"),
so: a word right after a practice cue ("à la", "massage"...) is never an origin; and the words
listed as ``practice_forms`` count in running text only next to a cue that they describe the
person ("je suis espagnole", "jeune femme russe", "French girl"). A short field (three words
or fewer) is taken at its word. A bare two-letter code ("FR") is only read when it is the
whole field: in text, "DE" or "IT" are just words.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from typing import Any

from faisceau.normalise.model import Found
from faisceau.normalise.text import lower_aligned

# Up to this many words, a text is a field ("Espagnole", "latina", "FR"), not running text.
_FIELD_WORDS = 3


_TOKEN = re.compile(r"[^\W_]+(?:['\-][^\W_]+)*")


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _spellings(phrase: str) -> set[str]:
    """A phrase as it is looked up: lower case, with its accents and without them.

    Texts are only lower-cased (cheap, and offsets stay those of the text), so the lexicon
    carries both spellings: "brésilienne" as written, "bresilienne" as typed in capitals.
    """
    low = phrase.lower().replace("’", "'")
    return {" ".join(_TOKEN.findall(low)), " ".join(_TOKEN.findall(_strip_accents(low)))}


def _lower_aligned(text: str) -> str:
    """``text`` in lower case, character for character, so match offsets fit ``text``."""
    return lower_aligned(text).replace("’", "'")


@dataclass(frozen=True)
class _Lexicon:
    phrases: dict[str, tuple[str, str] | None]  # folded phrase -> (value, kind); None: ambiguous
    max_words: int
    starts: frozenset[str]  # first words of phrases of more than one word
    gate: frozenset[str]  # the rarest word of each phrase: a text without any has no origin
    firsts: frozenset[str]  # every word that can begin a reading
    codes: dict[str, str]  # "fr" -> "FR", for a field that is just a code
    gate_scan: re.Pattern[str]  # the longest run of letters of each gate word, whole
    practice: frozenset[str]
    negative_before: frozenset[str]
    negative_after: frozenset[str]
    positive_before: frozenset[str]
    positive_after: frozenset[str]


_RUN_SPLIT = re.compile(r"['\-]")
_NOT_AFTER_LETTER = r"(?<![^\W_]{})"


def _trie_pattern(words: set[str], guard: str = "") -> str:
    """One regex alternative per first character, then a trie of the rest: the engine
    tries few characters at each position. ``guard`` (a pattern with ``{}`` for the first
    character) is checked after the first character, so that the pattern starts with it."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def rest(node: dict[str, Any]) -> str:
        branches = [re.escape(c) + rest(child) for c, child in sorted(node.items()) if c]
        if not branches:
            return ""
        if "" in node:
            return f"(?:{'|'.join(branches)})?"
        return branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"

    return "|".join(re.escape(c) + guard.format(re.escape(c)) + rest(child)
                    for c, child in sorted(trie.items()))


@functools.cache
def _lexicon() -> _Lexicon:
    path = resources.files("faisceau.normalise").joinpath("data", "origins.json")
    data = json.loads(path.read_text("utf-8"))
    phrases: dict[str, tuple[str, str] | None] = {}
    codes: dict[str, str] = {}
    for entry in data["entries"]:
        value, kind = entry["code"], entry["kind"]
        if kind == "country":
            codes[value.lower()] = value
        for form in entry["forms"]:
            phrases.update(dict.fromkeys(_spellings(form), (value, kind)))
    for word in data["ambiguous"]:
        phrases.update(dict.fromkeys(_spellings(word)))

    def folded(key: str) -> frozenset[str]:
        return frozenset(s for w in data[key] for s in _spellings(w))

    # The longest word of a phrase is the least common one ("l'est" in "pays de l'est",
    # not "de"), so the gate lets few texts through for nothing.
    gate = {max(reversed(p.split(" ")), key=len) for p in phrases}
    # A gate word is a token or a hyphenated token's part: its longest run of letters
    # (without "'" or "-") is then a whole run of the text, which one search can find.
    runs = {max(_RUN_SPLIT.split(word), key=len) for word in gate}
    return _Lexicon(
        gate=frozenset(gate),
        gate_scan=re.compile(rf"(?:{_trie_pattern(runs, guard=_NOT_AFTER_LETTER)})(?![^\W_])"),
        firsts=frozenset(p.split(" ")[0] for p in phrases),
        phrases=phrases,
        max_words=max(len(p.split(" ")) for p in phrases),
        starts=frozenset(p.split(" ")[0] for p in phrases if " " in p),
        codes=codes,
        practice=folded("practice_forms"),
        negative_before=folded("negative_before"),
        negative_after=folded("negative_after"),
        positive_before=folded("positive_before"),
        positive_after=folded("positive_after"),
    )


def find_origins(text: str) -> list[Found]:
    """Origins stated in ``text``, in the order they appear."""
    if not text:
        return []
    lexicon = _lexicon()
    stripped = text.strip()
    if len(stripped) == 2 and stripped.isalpha():
        code = lexicon.codes.get(stripped.lower())
        if code:
            return [Found(code, stripped, {"kind": "country"})]
        hit = lexicon.phrases.get(stripped.lower())  # "UK" is a word, not a code
        return [Found(hit[0], stripped, {"kind": hit[1]})] if hit else []
    low = _lower_aligned(text)
    # Most ads name no origin: one search says so in C, before the text is tokenised.
    if lexicon.gate_scan.search(low) is None:
        return []
    words = _TOKEN.findall(low)
    if lexicon.gate.isdisjoint(words) and (
        "-" not in low
        or lexicon.gate.isdisjoint([p for w in words if "-" in w for p in w.split("-")])
    ):
        return []
    tokens = list(_TOKEN.finditer(low))
    field = len(words) <= _FIELD_WORDS
    found: list[Found] = []
    next_free = 0
    for index in [i for i, w in enumerate(words) if w in lexicon.firsts or "-" in w]:
        if index < next_free:
            continue  # inside a phrase already read ("pays de l'est")
        length, hit = _longest_phrase(words, index, lexicon)
        if length == 0 and "-" in words[index]:
            # "franco-brésilienne": read the parts of a hyphenated word on their own.
            for part in words[index].split("-"):
                part_hit = lexicon.phrases.get(part)
                if part_hit is not None and _is_origin(words, index, 1, part, field, lexicon):
                    found.append(_found(part_hit, text, tokens[index]))
            continue
        if length == 0:
            continue
        phrase = " ".join(words[index : index + length])
        if hit is not None and _is_origin(words, index, length, phrase, field, lexicon):
            span = text[tokens[index].start() : tokens[index + length - 1].end()]
            found.append(Found(hit[0], span, {"kind": hit[1]}))
        next_free = index + length
    return found


def _found(hit: tuple[str, str], text: str, token: re.Match[str]) -> Found:
    return Found(hit[0], text[token.start() : token.end()], {"kind": hit[1]})


def _longest_phrase(
    words: list[str], index: int, lexicon: _Lexicon
) -> tuple[int, tuple[str, str] | None]:
    """Length of the longest lexicon phrase starting at ``index`` (0: none) and its meaning."""
    if words[index] in lexicon.starts:
        for length in range(min(lexicon.max_words, len(words) - index), 1, -1):
            phrase = " ".join(words[index : index + length])
            if phrase in lexicon.phrases:
                return length, lexicon.phrases[phrase]
    if words[index] in lexicon.phrases:
        return 1, lexicon.phrases[words[index]]
    return 0, None


def _is_origin(
    words: list[str], index: int, length: int, phrase: str, field: bool, lexicon: _Lexicon
) -> bool:
    before1 = words[index - 1] if index >= 1 else ""
    before2 = " ".join(words[index - 2 : index]) if index >= 2 else ""
    after = index + length
    after1 = words[after] if after < len(words) else ""
    after2 = " ".join(words[after : after + 2]) if after + 1 < len(words) else ""
    if before1 in lexicon.negative_before or before2 in lexicon.negative_before:
        return False
    if after1 in lexicon.negative_after:
        return False
    if phrase not in lexicon.practice or field:
        return True
    # A practice word in running text: only with a cue that it describes the person.
    window = words[max(0, index - 3) : index]
    return (
        any(w in lexicon.positive_before for w in window)
        or before2 in lexicon.positive_before
        or after1 in lexicon.positive_after
        or after2 in lexicon.positive_after
    )
