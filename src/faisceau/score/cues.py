"""Cues read in one ad: lexicon hits in its text, and what its normalised values show.

A cue is one bit of an ad version's ``cues`` mask. Text cues come from the lexicons
(``lexicons/*.toml``, one file per language, all applied to every text: language detection
is unreliable on short ads and ads mix languages). Value cues come from what the normaliser
already understood (``contact_cues``; ``features`` adds an origin named in the free text).

Matching looks word n-grams up in a dictionary, on text folded like the entries (lower
case, accents removed), so that a day of ads costs a fraction of a second.
"""

from __future__ import annotations

import enum
import functools
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt


class Cue(enum.IntFlag):
    """The cues an ad can show; the values are bits of ``score_features.cues``.

    Never renumber a cue: the masks are stored. Add new cues at the end.
    """

    THIRD_PERSON = 1 << 0
    YOUTH = 1 << 1
    TRUST = 1 << 2
    HOTEL_RENTAL = 1 << 3
    ROUND_THE_CLOCK = 1 << 4
    MOVEMENT = 1 << 5
    SCAM_PAYMENT = 1 << 6
    OBSCURED_CONTACT = 1 << 7
    FOREIGN_PHONE = 1 << 8
    ORIGIN_EMPHASIS = 1 << 9


# The lexicon sections, by the cue they set.
TEXT_CUES: dict[str, Cue] = {
    "third_person": Cue.THIRD_PERSON,
    "youth": Cue.YOUTH,
    "trust": Cue.TRUST,
    "hotel_rental": Cue.HOTEL_RENTAL,
    "round_the_clock": Cue.ROUND_THE_CLOCK,
    "movement": Cue.MOVEMENT,
    "scam_payment": Cue.SCAM_PAYMENT,
}

# France's numbering plan: metropolitan France and the overseas départements and
# collectivities (phonenumbers' region codes). A number from elsewhere is foreign.
HOME_REGIONS = frozenset({"FR", "RE", "GP", "MQ", "GF", "YT", "PM", "BL", "MF", "NC", "PF",
                          "WF"})
FREE_TEXT_FIELDS = frozenset({"title", "text"})


# Folding is one character table, the same for one text (``str.translate``) and for a batch
# (polars' ``replace_many``, an Aho-Corasick automaton), so that both agree exactly. It is
# Unicode compatibility decomposition without marks, over the blocks where ads write
# letters: Latin with accents, fullwidth forms, styled mathematical letters ("𝐇𝐎𝐓𝐄𝐋"),
# enclosed alphanumerics, letterlike symbols, spaces and punctuation variants.
_FOLDED_BLOCKS = ((0x80, 0x250), (0x0300, 0x0370), (0x1AB0, 0x1B00), (0x1DC0, 0x1F00),
                  (0x2000, 0x2070), (0x20D0, 0x2150), (0x2460, 0x2500), (0xFE20, 0xFE30),
                  (0xFF00, 0xFF70), (0x1D400, 0x1D800))


def _strip_marks(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@functools.cache
def _fold_table() -> dict[str, str]:
    """Every character of the folded blocks whose folded form differs from its lower case."""
    table: dict[str, str] = {}
    for first, end in _FOLDED_BLOCKS:
        for code in range(first, end):
            char = chr(code)
            folded = _strip_marks(char.lower()).lower()
            if folded != char:
                table[char] = folded
    return table


@functools.cache
def _translation() -> dict[int, str]:
    return str.maketrans(_fold_table())


def fold(text: str) -> str:
    """Lower case, accents removed, compatibility forms decomposed ("𝐇𝐎𝐓𝐄𝐋" is "hotel", a
    no-break space a space); emoji and other scripts are kept."""
    lowered = text.lower()
    return lowered if lowered.isascii() else lowered.translate(_translation())


# Words are runs of ASCII letters, digits and "_" once folded; any other character that is
# not a space is a token of its own (punctuation, emoji, each Chinese character). The same
# classes make the boundaries of ``find_many``'s expressions, so both agree exactly.
_WORD = "0-9a-z_"
_SPACE = r"\t\n\x0b\x0c\r "
_TOKEN = re.compile(f"[{_WORD}]+|[^{_WORD}{_SPACE}]")


def _spaceless(char: str) -> bool:
    """A character of a script written without spaces between words (Chinese, Japanese...)
    or a symbol such as an emoji: entries holding one are matched anywhere in the text."""
    return (char.isalnum() and ord(char) >= 0x2E80) or unicodedata.category(char) == "So"


def tokens(text: str) -> list[str]:
    """Words and single other characters of folded text: "24h/24" is ["24h", "/", "24"]."""
    return _TOKEN.findall(text)


@dataclass(frozen=True)
class Lexicon:
    """The entries of every language, by cue, indexed for a fast pass over each text.

    Entries are looked up as word n-grams (a dictionary lookup per word that can start
    one), never as a regular expression alternation, which tries every entry at every
    position and costs about a millisecond per ad."""

    entries: Mapping[str, tuple[tuple[str, str], ...]]  # cue name -> (language, entry)
    phrases: Mapping[str, str]  # folded tokens joined by spaces -> cue name
    heads: frozenset[str]  # every phrase's first words, one, two... up to all of them
    prefixes: Mapping[str, tuple[tuple[tuple[str, ...], str, str], ...]]
    # ^ by first word: (words before the stem, stem, cue) of the entries ending in "*"
    stems: Mapping[str, str]  # stems of one-word entries ending in "*" -> cue
    stem_lengths: tuple[int, ...]
    anywhere: tuple[tuple[str, str], ...]  # (folded entry, cue): matched as substrings
    # One regular expression per cue, for ``find_many``: the same rules, for a whole batch.
    patterns: Mapping[str, str]

    def find_many(self, texts: Sequence[str]) -> npt.NDArray[np.int64]:
        """The cue masks of many texts at once: folded and searched by polars (Rust regular
        expressions, compiled to automata), about 50 times faster than ``find`` one by one,
        with the same result (tested)."""
        if not texts:
            return np.zeros(0, dtype=np.int64)
        import polars as pl  # here: every command line would pay for its import otherwise

        table = _fold_table()
        folded = (pl.Series(texts, dtype=pl.String).str.to_lowercase()
                  .str.replace_many(list(table), list(table.values())))
        masks = np.zeros(len(texts), dtype=np.int64)
        for name, pattern in self.patterns.items():
            hit = folded.str.contains(pattern).fill_null(False).to_numpy()
            masks[hit] |= int(TEXT_CUES[name])
        return masks

    def hits(self, text: str) -> list[tuple[str, str]]:
        """Every (cue name, folded words matched) in ``text``: what an analyst is shown."""
        folded = fold(text)
        found = [(cue, entry) for entry, cue in self.anywhere if entry in folded]
        words = tokens(folded)
        last = len(words)
        for i, word in enumerate(words):
            for n in self.stem_lengths:
                cue = self.stems.get(word[:n])
                if cue is not None:
                    found.append((cue, word))
            if word not in self.heads:
                continue
            phrase, j = word, i
            while True:
                cue = self.phrases.get(phrase)
                if cue is not None:
                    found.append((cue, phrase))
                j += 1
                if j == last:
                    break
                phrase = f"{phrase} {words[j]}"
                if phrase not in self.heads:
                    break
            for before, stem, cue in self.prefixes.get(word, ()):
                k = i + len(before)
                if k < last and tuple(words[i:k]) == before and words[k].startswith(stem):
                    found.append((cue, " ".join(words[i : k + 1])))
        return list(dict.fromkeys(found))

    def find(self, text: str) -> Cue:
        """The text cues of ``text``."""
        found = Cue(0)
        for cue, _ in self.hits(text):
            found |= TEXT_CUES[cue]
        return found


def build_lexicon(files: Iterable[Mapping[str, Any]]) -> Lexicon:
    """One lexicon from parsed lexicon files (see ``lexicons/fr.toml`` for the rules); an
    unknown cue section or an empty entry is an error."""
    entries: dict[str, list[tuple[str, str]]] = {name: [] for name in TEXT_CUES}
    phrases: dict[str, str] = {}
    prefixes: list[tuple[tuple[str, ...], str, str]] = []
    anywhere: list[tuple[str, str]] = []
    for data in files:
        language = str(data.get("language", "?"))
        for name, items in dict(data.get("cues", {})).items():
            if name not in TEXT_CUES:
                raise ValueError(f"lexicon {language}: unknown cue {name!r}")
            for item in items:
                folded = fold(str(item)).strip()
                if not folded.rstrip("*"):
                    raise ValueError(f"lexicon {language}: empty entry in {name}")
                entries[name].append((language, str(item)))
                if any(_spaceless(c) for c in folded):
                    if (folded, name) not in anywhere:
                        anywhere.append((folded, name))
                elif folded.endswith("*"):
                    words = tokens(folded.rstrip("*"))
                    if (prefix := (tuple(words[:-1]), words[-1], name)) not in prefixes:
                        prefixes.append(prefix)
                else:
                    phrases.setdefault(" ".join(tokens(folded)), name)
    heads = {" ".join(words[:n]) for words in (p.split(" ") for p in phrases)
             for n in range(1, len(words) + 1)}
    by_first: dict[str, list[tuple[tuple[str, ...], str, str]]] = {}
    stems: dict[str, str] = {}
    for before, stem, name in prefixes:
        if before:
            by_first.setdefault(before[0], []).append((before, stem, name))
            heads.add(before[0])
        else:
            stems.setdefault(stem, name)
    patterns: dict[str, list[str]] = {}
    for phrase, name in phrases.items():
        patterns.setdefault(name, []).append(_regex(phrase.split(" "), whole=True))
    for before, stem, name in prefixes:
        patterns.setdefault(name, []).append(_regex([*before, stem], whole=False))
    for entry, name in anywhere:
        patterns.setdefault(name, []).append(re.escape(entry))
    return Lexicon({k: tuple(v) for k, v in entries.items()}, phrases, frozenset(heads),
                   {k: tuple(v) for k, v in by_first.items()}, stems,
                   tuple(sorted({len(stem) for stem in stems})), tuple(anywhere),
                   {name: "|".join(sorted(items, key=len, reverse=True))
                    for name, items in patterns.items()})


def _is_word(token: str) -> bool:
    return bool(re.fullmatch(f"[{_WORD}]+", token))


def _regex(words: list[str], *, whole: bool) -> str:
    """The regular expression of a phrase of tokens that says what ``Lexicon.hits`` does:
    it starts at a token's start, its words are apart, punctuation may touch them, and a
    whole phrase ends at a token's end (a "*" entry's last word may go on)."""
    # Classes of ASCII only: Unicode classes (\w, \W) make these expressions 500 times
    # slower in polars' engine.
    out = f"(?:^|[^{_WORD}])" if _is_word(words[0]) else ""
    for previous, word in zip([None, *words[:-1]], words, strict=True):
        if previous is not None:
            joint = "+" if _is_word(previous) and _is_word(word) else "*"
            out += f"[{_SPACE}]{joint}"
        out += re.escape(word)
    if whole and _is_word(words[-1]):
        out += f"(?:[^{_WORD}]|$)"
    return f"(?:{out})"


@functools.cache
def lexicon() -> Lexicon:
    """The lexicons shipped with faisceau (``faisceau/score/lexicons/*.toml``)."""
    folder = resources.files("faisceau.score") / "lexicons"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".toml")),
                   key=lambda f: f.name)
    return build_lexicon(tomllib.loads(f.read_text(encoding="utf-8")) for f in files)


OBSCURED_BIT = int(Cue.OBSCURED_CONTACT)
FOREIGN_BIT = int(Cue.FOREIGN_PHONE)
ORIGIN_BIT = int(Cue.ORIGIN_EMPHASIS)


def contact_cues(kind: str, detail: Mapping[str, Any]) -> int:
    """Cues of a phone or e-mail from its normalised detail: hidden, or foreign."""
    found = OBSCURED_BIT if detail.get("obfuscated") else 0
    if kind == "phone" and detail.get("region") not in (None, *HOME_REGIONS):
        found |= FOREIGN_BIT
    return found


def names(mask: int) -> list[str]:
    """The names of the cues in ``mask``, in bit order (``"third_person"``...)."""
    return [str(cue.name).lower() for cue in Cue if mask & cue]
