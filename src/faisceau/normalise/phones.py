"""Phone numbers in ads: read through the obfuscations ads use, validated, written as E.164.

Owns ``find_phones``, which works on a dedicated phone field ("06 12 34 56 78") and on free
ad text where ages, prices, postcodes, dates and times sit next to the number. Raw text
never reaches ``phonenumbers.parse``; reading happens in three steps:

1. *atoms*: each digit-like piece of the text. That is a run of Unicode decimal digits
   (full-width too), where the letters O/o stand for 0 and l/I/i for 1 but only inside or
   against such a run ("O6", "l2"); a keycap emoji ("6️⃣"); or a French number word, a
   single digit or a pair 10-99 ("zéro", "douze", "soixante-dix-huit", "quatre vingt dix").
2. *chains*: atoms separated only by short separator gaps (spaces, dots, dashes, slashes,
   symbols, emoji). A letter, a newline, a currency sign, a "+" or a sentence end ("78. 25")
   ends a chain. Dates with a year, times ("09:30") and "24/7" leave the chain, and so does
   its last atom when a unit follows it ("22 ans", "150€", "30min").
3. *candidates*: inside a chain, digit strings that start and end on atom boundaries and
   have the shape of a national French number (0 plus 9 digits) or an international one
   ("+", "00" or "33" then a country code). They are kept only when ``phonenumbers`` says
   the number is valid. A national number that is not valid in metropolitan France is
   tried in the overseas regions and kept when exactly one reading is valid.

Precision comes first: no reading is returned rather than a doubtful one. When two
different valid numbers overlap in a chain and its separators do not clearly pick one, or
when a variable-length plan (DE, AT, IT...) is valid at several ends with nothing to tell
them apart, nothing is returned. After "+33" or "0039", no national reading starts inside
the international number.

Speed: a text without a digit (or "zéro") is dismissed by one C-level search. Otherwise
coarse chains are found by one regex; short ones (most ages, prices, postcodes) are
dismissed there, and numbers written plainly ("06 12 34 56 78", "+33 6 12 34 56 78", a
whole phone field) take shortcuts that read them as the general reading would. Validation
is phonenumbers' is_valid_number with each region's patterns compiled once (a test checks
it against phonenumbers), and cached for a day of numbers.

The lexicon (number words, overseas regions, quantity units) is ``data/phones.json``.
"""

from __future__ import annotations

import bisect
import itertools
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, NamedTuple

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberFormat, PhoneNumberType

from faisceau.normalise.model import Found

__all__ = ["find_phones"]

# Pre-checks, compiled so that ``search`` skips ahead in C: nearly every phone shows at
# least one digit, and a fully spelled French number starts with "zéro".
_ASCII_DIGIT = re.compile(r"[0-9]")
_DIGIT = re.compile(r"\d")
_ZERO_WORD = re.compile(r"[zZ][eEéÉèÈêÊëË][rR][oO]")

# Coarse chains shorter than this cannot hold a phone number (7 digits at least).
_MIN_REGION = 7
# The shortcut: a national number written plainly, with one separator or none.
_PLAIN_NATIONAL = re.compile(r"0[1-9](?P<sep>[ .\-]?)\d\d(?:(?P=sep)\d\d){3}")

_KEYCAP = "\u20e3"
_KEYCAP_TAIL = frozenset("\ufe0f\u20e3")
# A run starts on a digit (so the regex engine can skip ahead in C); letters standing for
# digits are accepted between digits, at the end of a run when no letter follows, and, in
# Python, at the start of a run when no letter precedes.
_RUNS = re.compile(r"\d+(?:[OoIil]+\d+)*(?:[OoIil]+(?![^\W\d_]))?")
# Only when the text holds a keycap: a digit followed by U+20E3 is a keycap atom of its own.
_NOT_KEY = r"(?!\ufe0f?\u20e3)"
_RUNS_WITH_KEYCAPS = re.compile(
    rf"(?P<key>[0-9]\ufe0f?\u20e3)"
    rf"|\d{_NOT_KEY}(?:\d{_NOT_KEY})*(?:[OoIil]+(?:\d{_NOT_KEY})+)*(?:[OoIil]+(?![^\W\d_]))?"
)
_LETTER_DIGITS = {"O": "0", "o": "0", "I": "1", "i": "1", "l": "1"}
_ASCII_LETTER_DIGITS = str.maketrans(_LETTER_DIGITS)
_LETTER = re.compile(r"[^\W\d_]")

# Between two words of one spelled number: a hyphen or a few spaces, never a newline.
_SPACE = r"[ \t\u00a0\u202f]"
_WORD_SEP = rf"(?:{_SPACE}{{0,3}}[-\u2010\u2011]{_SPACE}{{0,3}}|{_SPACE}{{1,3}})"
_WORD_SPLIT = re.compile(r"[\s\-\u2010\u2011]+")

# Gaps of a coarse chain: a superset of the exact gaps below.
_COARSE_GAP = r"(?:[^\w\n\r\v\f\x1c-\x1e\x85\u2028\u2029+\uff0b€$£%&@!?;]|_){0,6}"
# Gaps inside a chain: short, and made of spaces, punctuation, symbols and emoji. ASCII
# characters not listed here ("%", "&", "@", "!", "?", ";", "$", newline...) end a chain,
# as do non-ASCII letters, digits, currency signs and the degree sign.
_MAX_GAP = 6
_GAP_ASCII = frozenset(" \t.-/\\_*|~:,()[]{}'\"=^#<>`")
_GAP_CATEGORIES = frozenset(
    {"Zs", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "So", "Sk", "Sm", "Cf", "Mn"}
)
_NOT_GAP = frozenset("°\uff0b")
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Mn"})
_PLUS = frozenset("+\uff0b")
_BEFORE_PLUS = " \t\u00a0\u202f(["
# "78. 25 ans", "78, 25 ans": punctuation against the atom then a space ends a sentence.
_SENTENCE_BREAK = re.compile(r"[.,:]\s")
_DATE_SEPARATORS = frozenset({"/", ".", "-"})
# Separators of an ordinarily written number; anything else marks an obfuscation.
_PLAIN_KINDS = frozenset({"", " ", ".", "-"})
_BRACKETS = frozenset({"(", ")"})

# E.164 allows 15 digits; one more for a trunk "0" written after the country code.
_MAX_NSN = 16
# The most digits one reading spans: "00", a country code, a national number.
_MAX_DIGITS = 2 + 3 + _MAX_NSN


class _Atom(NamedTuple):
    start: int
    end: int
    digits: str
    plain: bool  # ASCII digits as written in an ordinary number


class _Gap(NamedTuple):
    joins: bool  # the atoms on either side may belong to one number
    kind: str  # the visible separator, spaces folded: "", " ", ".", "-", "/", "❤"...
    plus: int  # offset of a "+" that the gap ends with, or -1


class _Reading(NamedTuple):
    last: int  # index of the last atom read
    value: str  # E.164
    region: str


class _Candidate(NamedTuple):
    first: int  # atom indexes within the chain
    last: int
    value: str
    region: str
    international: bool  # written with "+" or "00"


@dataclass(frozen=True, slots=True)
class _Lexicon:
    # Coarse chains on lowercased text, starting on a digit or on "zéro": the part of every
    # exact chain that can hold a number lies inside one.
    chains: re.Pattern[str]
    zero_chains: re.Pattern[str]
    words: re.Pattern[str]
    word_values: dict[str, int]
    compound_values: dict[tuple[str, str], int]
    and_word: str
    quantity: re.Pattern[str]
    default_region: str
    overseas: tuple[str, ...]


def find_phones(text: str) -> list[Found]:
    """Phone numbers shown in ``text``, as E.164, each once, in reading order.

    ``shown`` is the exact substring read (first occurrence); ``detail`` gives the
    number's ``region`` (ISO code: "FR", "RE", "BE"...) and whether it was
    ``obfuscated``. Only numbers that ``phonenumbers`` deems valid are returned.
    """
    if not text:
        return []
    whole = _whole_number(text)
    if whole is not None:
        return whole
    if not _may_hold_phone(text):
        return []
    lexicon = _lexicon()
    lowered = text.lower()
    chains, zero_chains, words = lexicon.chains, lexicon.zero_chains, lexicon.words
    folded = lowered
    if len(lowered) != len(text):  # "İ" and a few others: offsets would shift
        chains, zero_chains, words = map(_any_case, (chains, zero_chains, words))
        folded = text
    regions = [m.span() for m in chains.finditer(folded) if m.end() - m.start() >= _MIN_REGION]
    if "z" in lowered:
        regions.extend(m.span() for m in zero_chains.finditer(folded))
        regions = _union(regions)
    found: list[Found] = []
    seen: set[str] = set()
    for start, end in regions:
        item = _plain_national(text, start, end, lexicon)
        shortcut = [item] if item is not None else _plain_international(text, start, end)
        if shortcut is not None:
            items = shortcut
        else:
            # Letters standing for digits before the first digit ("O6", "lO6"), and the
            # end of a last keycap, which the coarse chain leaves out.
            while start > 0 and text[start - 1] in _LETTER_DIGITS:
                start -= 1
            while end < len(text) and text[end] in _KEYCAP_TAIL:
                end += 1
            atoms = _digit_atoms(text, start, end)
            if _LETTER.search(folded, start, end) is not None:
                atoms = _with_words(atoms, _word_atoms(folded, start, end, words))
            items = _read_chains(text, _without_dates(text, atoms), lexicon)
        for item in items:
            if item.value not in seen:
                seen.add(item.value)
                found.append(item)
    return found


def _whole_number(text: str) -> list[Found] | None:
    """A phone field is mostly one number written plainly ("06 12 34 56 78", "+33 6 12 34
    56 78"): the text is then the only region, which a shortcut reads as the loop of
    find_phones would (None: leave it to the loop)."""
    if len(text) <= 14 and _PLAIN_NATIONAL.fullmatch(text) is not None:
        item = _plain_national(text, 0, len(text), _lexicon())
        return [item] if item is not None else None
    if text[0] == "+" and len(text) <= 18:
        return _plain_international(text, 1, len(text))
    return None


@lru_cache(maxsize=8)
def _any_case(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """The case-insensitive twin of a lexicon pattern, compiled when first needed."""
    return re.compile(pattern.pattern, re.IGNORECASE)


def _may_hold_phone(text: str) -> bool:
    digit = _ASCII_DIGIT if text.isascii() else _DIGIT
    if digit.search(text) is not None:
        return True
    return ("z" in text or "Z" in text) and _ZERO_WORD.search(text) is not None


def _union(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _plain_national(text: str, start: int, end: int, lexicon: _Lexicon) -> Found | None:
    """The shortcut for a region that is exactly "06 12 34 56 78" (or dotted, dashed, bare).

    It gives what the general reading would, which it leaves any doubt to: a "+" or a
    letter standing for a digit before, or a unit after.
    """
    match = _PLAIN_NATIONAL.fullmatch(text, start, end) if end - start <= 14 else None
    if match is None:
        return None
    if start > 0 and text[start - 1] in _LETTER_DIGITS:
        return None
    if _plus_offset(text[max(0, start - _MAX_GAP) : start]) >= 0:
        return None
    if lexicon.quantity.match(text, end) is not None:
        return None
    shown = match.group()
    separator = match.group("sep")
    reading = _national(shown.replace(separator, "") if separator else shown)
    if reading is None:
        return None
    value, region = reading
    return Found(value, shown, {"region": region, "obfuscated": False})


# The second shortcut: "+33 6 12 34 56 78", "+33.6.12.34.56.78", "+33612345678" (the "+"
# before the region). 33 is the default region's calling code (see _home).
_PLAIN_INTERNATIONAL = re.compile(r"(?P<sep>[ .\-]?)[1-9](?:(?P=sep)[0-9]{2}){4}")


def _plain_international(text: str, start: int, end: int) -> list[Found] | None:
    """The shortcut for a region that is the default country's calling code after a "+",
    then a national number written plainly with one separator or none; None otherwise.

    It gives what the general reading would (tests compare them on such numbers): the
    atoms are plain digit groups that one chain joins, no date or time hides among them,
    and the only reading starts at the calling code. It leaves to the general reading a
    letter standing for a digit or a keycap end against the region, and a unit after it.
    """
    home = _home()
    if home is None or start < 1 or text[start - 1] != "+":
        return None
    code, code_text = home
    if not text.startswith(code_text, start):
        return None
    match = _PLAIN_INTERNATIONAL.fullmatch(text, start + len(code_text), end)
    if match is None:
        return None
    if end < len(text) and (text[end] in _LETTER_DIGITS or text[end] in _KEYCAP_TAIL):
        return None
    if _lexicon().quantity.match(text, end) is not None:
        return None
    reading = _international(code, match.group().replace(match.group("sep"), "")
                             if match.group("sep") else match.group())
    if reading is None:
        return []
    plus = start - 1
    shown_start = plus - 1 if plus > 0 and text[plus - 1] in "([" else plus
    value, region = reading
    return [Found(value, text[shown_start:end], {"region": region, "obfuscated": False})]


@lru_cache(maxsize=1)
def _home() -> tuple[int, str] | None:
    """The default region's calling code, when _plain_international may read it: the code
    must be what _country_code reads at the start of its digits, and no shorter part of a
    grouped national number may have a possible length (else the general reading weighs
    several readings)."""
    code = phonenumbers.country_code_for_region(_lexicon().default_region)
    code_text = str(code)
    lengths = _possible_lengths(code)
    if not code or _country_code(code_text + "612345678", 0) != code:
        return None
    if 9 not in lengths or lengths & {0, 1, 3, 5, 7}:
        return None
    return code, code_text


# --- atoms -------------------------------------------------------------------------------


def _digit_atoms(text: str, start: int, end: int) -> list[_Atom]:
    """Digit runs and keycaps of ``text[start:end]``."""
    keycaps = _KEYCAP in text
    pattern = _RUNS_WITH_KEYCAPS if keycaps else _RUNS
    region_start, region_end = start, end
    atoms: list[_Atom] = []
    # One character past the region, so that look-aheads see what follows it.
    for match in pattern.finditer(text, region_start, region_end + 1):
        start, end = match.span()
        if start >= region_end:
            break
        if keycaps and match.lastgroup == "key":
            atoms.append(_Atom(start, end, text[start], False))
            continue
        # Letters standing for digits at the start of the run ("O6", "lO6"), unless they
        # end a word ("Tel06" keeps only "06").
        first = start
        if start > region_start and text[start - 1] in _LETTER_DIGITS:
            while first > region_start and text[first - 1] in _LETTER_DIGITS:
                first -= 1
            if first > 0 and text[first - 1].isalpha():
                first = start
        run = text[first:end]
        if run.isdigit() and run.isascii():
            digits, plain = run, True
        elif run.isascii():
            digits, plain = run.translate(_ASCII_LETTER_DIGITS), False
        else:
            digits, plain = _unicode_digits(run), False
        if len(digits) == 20:
            halves = _split_double(first, digits)
            if halves:
                atoms.extend(halves)
                continue
        atoms.append(_Atom(first, end, digits, plain))
    return atoms


def _unicode_digits(run: str) -> str:
    out = []
    for char in run:
        letter = _LETTER_DIGITS.get(char)
        out.append(letter if letter is not None else str(unicodedata.decimal(char, 0)))
    return "".join(out)


def _split_double(start: int, digits: str) -> list[_Atom] | None:
    """Two national numbers written as one 20-digit run, when both halves are valid.

    Every character of a run is one digit, so offsets in ``digits`` are offsets in text.
    """
    left, right = digits[:10], digits[10:]
    if left[0] != "0" or right[0] != "0":
        return None
    if _national(left) is None or _national(right) is None:
        return None
    return [_Atom(start, start + 10, left, False), _Atom(start + 10, start + 20, right, False)]


def _word_atoms(folded: str, start: int, end: int, words: re.Pattern[str]) -> list[_Atom]:
    """Number words of ``folded[start:end]`` (the lowercased text, same offsets)."""
    atoms: list[_Atom] = []
    region_end = end
    for match in words.finditer(folded, start, region_end + 1):
        start, end = match.span()
        if start >= region_end:
            break
        digits = _word_digits(match.group())
        if digits:
            atoms.append(_Atom(start, end, digits, False))
    return atoms


def _with_words(atoms: list[_Atom], spelled: list[_Atom]) -> list[_Atom]:
    if not spelled:
        return atoms
    kept: list[_Atom] = []
    for atom in sorted(atoms + spelled):
        if not kept or atom.start >= kept[-1].end:
            kept.append(atom)
    return kept


@lru_cache(maxsize=1024)
def _word_digits(phrase: str) -> str:
    """The digits a matched phrase spells: "soixante-dix-huit" -> "78", "Zéro" -> "0"."""
    lexicon = _lexicon()
    tokens = [t for t in _WORD_SPLIT.split(_fold(phrase)) if t and t != lexicon.and_word]
    total = 0
    index = 0
    while index < len(tokens):
        pair = (tokens[index], tokens[index + 1]) if index + 1 < len(tokens) else None
        if pair is not None and pair in lexicon.compound_values:
            total += lexicon.compound_values[pair]
            index += 2
            continue
        value = lexicon.word_values.get(tokens[index])
        if value is None:
            return ""
        total += value
        index += 1
    if len(tokens) == 1 and total < 10:
        return str(total)
    return f"{total:02d}" if total < 100 else ""


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _without_dates(text: str, atoms: list[_Atom]) -> list[_Atom]:
    """Atoms less those of dates, times and opening hours, which are no digits of a number.

    "05.02.2024 06 12 34 56 78" would otherwise read 05 02 20 24 06, "à 09:30 06 12 34 56
    78" 09 30 06 12 34, and "+39 345 118 2913 24/7" a 12-digit Italian number. Taken out:
    a date with a year ("12/06/2024", "2024-06-12"); a time ("09:30") and "24/7", "7/7",
    "24/24" at the start or the end of a chain only ("06 12:34 56 78" keeps its digits);
    none of them inside a longer run of its own separator ("06:12:34:56:78"). A removed
    atom leaves digits in the gap between its neighbours, which ends the chain.
    """
    if len(atoms) < 2:
        return atoms
    region = text[atoms[0].end : atoms[-1].start]
    if "/" not in region and "." not in region and "-" not in region and ":" not in region:
        return atoms
    gaps = [text[a.end : b.start] for a, b in itertools.pairwise(atoms)]
    dropped: set[int] = set()
    times = []
    for index, gap in enumerate(gaps):
        first, second = atoms[index], atoms[index + 1]
        before = gaps[index - 1] if index else None
        if not (first.plain and second.plain) or before == gap:
            continue
        if gap == ":" or (gap == "/" and _is_availability(first.digits, second.digits)):
            after = gaps[index + 1] if index + 1 < len(gaps) else None
            if after != gap and _is_time_or_availability(first, second, gap):
                times.append(index)
        elif gap in _DATE_SEPARATORS and index + 1 < len(gaps) and gaps[index + 1] == gap:
            third = atoms[index + 2]
            if (index + 2 < len(gaps) and gaps[index + 2] == gap) or not third.plain:
                continue
            day, month, year = first.digits, second.digits, third.digits
            if _is_date(day, month, year) or _is_date(year, month, day):
                dropped.update((index, index + 1, index + 2))
    # A time goes when nothing joins it on one side; one dropped leaves the next one alone
    # on that side ("09:30 22:00 06 12..."), hence a sweep forwards then one backwards.
    for index in times:
        joined = index > 0 and index - 1 not in dropped and _joins(gaps[index - 1])
        if not joined and index not in dropped and index + 1 not in dropped:
            dropped.update((index, index + 1))
    for index in reversed(times):
        joined = index + 2 < len(atoms) and index + 2 not in dropped and _joins(gaps[index + 1])
        if not joined and index not in dropped and index + 1 not in dropped:
            dropped.update((index, index + 1))
    return [a for i, a in enumerate(atoms) if i not in dropped] if dropped else atoms


def _joins(gap: str | None) -> bool:
    return gap is not None and len(gap) <= _MAX_GAP and _short_gap(gap).joins


def _is_availability(first: str, second: str) -> bool:
    return (first, second) in {("24", "7"), ("7", "7"), ("24", "24")}


def _is_time_or_availability(first: _Atom, second: _Atom, gap: str) -> bool:
    if gap == "/":
        return True
    hours, minutes = first.digits, second.digits
    return len(hours) <= 2 and int(hours) <= 23 and len(minutes) == 2 and int(minutes) <= 59


def _is_date(day: str, month: str, year: str) -> bool:
    return (
        len(day) <= 2
        and len(month) <= 2
        and len(year) == 4
        and year[:2] in ("19", "20")
        and 1 <= int(day) <= 31
        and 1 <= int(month) <= 12
    )


# --- chains ------------------------------------------------------------------------------


def _read_chains(text: str, atoms: list[_Atom], lexicon: _Lexicon) -> list[Found]:
    found: list[Found] = []
    if not atoms:
        return found
    first = atoms[0]
    chain = [first]
    kinds = [""]  # kinds[k]: the gap before chain[k]; kinds[0] is unused
    window = max(0, first.start - _MAX_GAP)
    plus = _plus_offset(text[window : first.start])
    plus_at = window + plus if plus >= 0 else -1
    previous_end = first.end
    for atom in atoms[1:]:
        gap_start = previous_end
        between = text[gap_start : atom.start]
        gap = _short_gap(between) if len(between) <= _MAX_GAP else _long_gap(between)
        previous_end = atom.end
        if gap.joins:
            chain.append(atom)
            kinds.append(gap.kind)
            continue
        found.extend(_read_chain(text, chain, kinds, plus_at, lexicon))
        chain, kinds = [atom], [""]
        plus_at = gap_start + gap.plus if gap.plus >= 0 else -1
    found.extend(_read_chain(text, chain, kinds, plus_at, lexicon))
    return found


def _long_gap(gap: str) -> _Gap:
    return _Gap(False, "", _plus_offset(gap))


@lru_cache(maxsize=4096)
def _short_gap(gap: str) -> _Gap:
    plus = _plus_offset(gap)
    if any(c in _PLUS for c in gap) or _SENTENCE_BREAK.match(gap):
        return _Gap(False, "", plus)
    visible = []
    spaced = False
    for char in gap:
        if char in _GAP_ASCII:
            if char in " \t":
                spaced = True
            else:
                visible.append(char)
            continue
        if char.isascii() or char in _NOT_GAP:
            return _Gap(False, "", plus)
        category = unicodedata.category(char)
        if category not in _GAP_CATEGORIES:
            return _Gap(False, "", plus)
        if category == "Zs":
            spaced = True
        elif category not in _INVISIBLE_CATEGORIES:
            visible.append(char)
    if visible:
        kind = "".join(visible)
    elif spaced:
        kind = " "
    else:
        kind = "\u200b" if gap else ""  # only invisible characters: an obfuscation
    return _Gap(True, kind, plus)


def _plus_offset(gap: str) -> int:
    """Where the "+" that ``gap`` ends with is ("+33", "+ 33", "(+33"), or -1."""
    stripped = gap.rstrip(_BEFORE_PLUS)
    if stripped and stripped[-1] in _PLUS:
        return len(stripped) - 1
    return -1


# --- candidates --------------------------------------------------------------------------


def _read_chain(
    text: str, atoms: list[_Atom], kinds: list[str], plus_at: int, lexicon: _Lexicon
) -> list[Found]:
    if lexicon.quantity.match(text, atoms[-1].end) is not None:
        atoms, kinds = atoms[:-1], kinds[:-1]  # "22 ans", "150€": a quantity, not digits
    digits = "".join([a.digits for a in atoms])
    if len(digits) < (7 if plus_at >= 0 else 9):
        return []
    bounds = [0]
    for atom in atoms:
        bounds.append(bounds[-1] + len(atom.digits))
    candidates: list[_Candidate] = []
    first = 0
    while first < len(atoms):
        if atoms[first].digits[0] not in "03" and (first or plus_at < 0):
            first += 1  # no reading starts here: the common case, kept cheap
            continue
        begin = bounds[first]
        head = digits[begin : begin + 2]
        body = begin if first == 0 and plus_at >= 0 else begin + 2 if head == "00" else -1
        country = _country_code(digits, body) if body >= 0 else 0
        if country:
            # After "+33" or "0039", the digits belong to that international number: no
            # other reading starts inside it ("+39 02 1234 5678" is not the French
            # 02 12 34 56 78), nor, when it cannot be read, before the separators change
            # ("+33 6 12 34 / 06 98 76 54 32").
            reading = _read_international(digits, bounds, kinds, first, body, country)
            if reading is not None:
                candidates.append(
                    _Candidate(first, reading.last, reading.value, reading.region, True)
                )
                first = reading.last + 1
            else:
                first = _same_separators_until(kinds, first) + 1
            continue
        if head[:1] == "0":
            reading = _read_national(digits, bounds, first)
        elif head == "33":
            reading = _read_33(digits, bounds, first)
        else:
            reading = None
        if reading is not None:
            candidates.append(_Candidate(first, reading.last, reading.value, reading.region, False))
        first += 1
    if not candidates:
        return []
    found: list[Found] = []
    taken_until = -1
    for cand in sorted(_unambiguous(candidates, kinds)):
        if cand.first <= taken_until:
            continue  # the same number read from an overlapping start ("33 06 ...")
        taken_until = cand.last
        start = atoms[cand.first].start
        if cand.first == 0 and plus_at >= 0:
            # "(+32) 470...": the bracket opened before the "+" belongs to what was shown.
            start = plus_at - 1 if plus_at > 0 and text[plus_at - 1] in "([" else plus_at
        detail = {"region": cand.region, "obfuscated": _obfuscated(atoms, kinds, cand)}
        found.append(Found(cand.value, text[start : atoms[cand.last].end], detail))
    return found


def _same_separators_until(kinds: list[str], first: int) -> int:
    """The last atom joined to ``first`` by the first two kinds of separator after it."""
    opening = set(kinds[first + 1 : first + 3])
    last = first
    while last + 1 < len(kinds) and kinds[last + 1] in opening:
        last += 1
    return last


def _read_national(digits: str, bounds: list[int], first: int) -> _Reading | None:
    target = bounds[first] + 10
    for last in range(first, len(bounds) - 1):
        end = bounds[last + 1]
        if end == target:
            reading = _national(digits[bounds[first] : end])
            return None if reading is None else _Reading(last, *reading)
        if end > target:
            return None
    return None


def _read_33(digits: str, bounds: list[int], first: int) -> _Reading | None:
    """France without the "+": "33 6 12 34 56 78", "33612345678" (as in wa.me links)."""
    begin = bounds[first]
    for last in range(first, len(bounds) - 1):
        end = bounds[last + 1]
        length = end - begin
        if length == 11 or (length == 12 and digits[begin + 2] == "0"):
            reading = _check(33, digits[end - 9 : end])
            if reading is not None:
                return _Reading(last, *reading)
        if length >= 12:
            return None
    return None


def _country_code(digits: str, body: int) -> int:
    """The calling code that ``digits`` has at ``body`` ("33", "262"...), or 0."""
    codes = _country_codes()
    for size in (1, 2, 3):
        code = digits[body : body + size]
        if len(code) == size and code[0] != "0" and int(code) in codes:
            return int(code)
    return 0


def _read_international(
    digits: str, bounds: list[int], kinds: list[str], first: int, body: int, country: int
) -> _Reading | None:
    """A number after "+" or "00": ``body`` is where its ``country`` code starts."""
    national_start = body + len(str(country))
    lengths = _possible_lengths(country)
    readings: list[_Reading] = []
    for last in range(first, len(bounds) - 1):
        national = digits[national_start : bounds[last + 1]]
        size = len(national)
        if size > _MAX_NSN:
            break
        if size in lengths or (national[:1] == "0" and size - 1 in lengths):
            reading = _international(country, national)
            if reading is not None:
                readings.append(_Reading(last, *reading))
    if len({r.value for r in readings}) <= 1:
        return readings[-1] if readings else None
    # Variable-length plans (DE, AT, IT...) are valid at several ends, and nothing tells
    # "+49 30 123 4567" (one number) from "+49 30 1234567 10115" (a postcode after it).
    # The longest is kept when it has the country's usual length (that of phonenumbers'
    # example numbers: 10 digits for "+39 3 4 5 1 2 3 4 5 6 7"), when it is grouped as
    # phonenumbers formats it ("+39 06 1234 5678"), or when it is written uniformly up to
    # a clear end; otherwise no number rather than a wrong one.
    longest = readings[-1]
    national = digits[national_start : bounds[longest.last + 1]]
    if not longest.value.endswith(national):
        return None  # a trunk "0" was dropped: not worth the doubt
    if len(national) in _usual_lengths(country):
        return longest
    after = [k for k in range(first, longest.last + 1) if bounds[k] >= national_start]
    written = frozenset(bounds[k] - national_start for k in after[1:])
    if written == _canonical_breaks(longest.value):
        return longest
    inside = {kinds[k] for k in after[1:]}
    sizes = {bounds[k + 1] - bounds[k] for k in after}
    at_end = longest.last == len(bounds) - 2 or kinds[longest.last + 1] not in inside
    return longest if at_end and len(inside) <= 1 and len(sizes) == 1 else None


@lru_cache(maxsize=512)
def _usual_lengths(country: int) -> frozenset[int]:
    """National number lengths of phonenumbers' example fixed and mobile numbers."""
    lengths = set()
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country, ()):
        for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                lengths.add(len(phonenumbers.national_significant_number(example)))
    return frozenset(lengths)


@lru_cache(maxsize=1024)
def _canonical_breaks(value: str) -> frozenset[int]:
    """Where phonenumbers' international format breaks the national number into groups:
    {2, 6} for "+39 06 1234 5678"."""
    number = phonenumbers.parse(value)  # an E.164 value we made, not text
    formatted = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    groups = re.findall(r"\d+", formatted)[1:]  # without the country code
    breaks, offset = set(), 0
    for group in groups[:-1]:
        offset += len(group)
        breaks.add(offset)
    return frozenset(breaks)


def _unambiguous(candidates: list[_Candidate], kinds: list[str]) -> list[_Candidate]:
    """Candidates that no overlapping candidate reading a different number contradicts,
    or that beat every such candidate and are written with one separator inside and
    clear edges ("le 09:30 06 12 34 56 78" keeps 06 12 34 56 78, not 09 30 06 12 34).
    International readings win over national ones."""
    if len(candidates) == 1:
        return candidates
    size = len(kinds)
    scores = [_score(kinds, c.first, c.last, size) for c in candidates]
    # Candidates come in order of their first atom and span at most _MAX_DIGITS atoms:
    # only a window of them can overlap a given one (long chains stay linear).
    firsts = [c.first for c in candidates]
    kept = []
    for cand, score in zip(candidates, scores, strict=True):
        low = bisect.bisect_left(firsts, cand.first - _MAX_DIGITS)
        high = bisect.bisect_right(firsts, cand.last)
        contested = False
        for index in range(low, high):
            other = candidates[index]
            if other.value == cand.value or other.last < cand.first:
                continue
            # A "00" + country code start outweighs a national reading running into it
            # ("06000 00212 6 12 34 56 78" is Morocco, not 06 00 00 02 12).
            if other.international != cand.international:
                if other.international:
                    break
                continue
            contested = True
            if scores[index] >= score:
                break
        else:
            # Scores of 3 and 4 need one separator inside: mixed separators, as in most
            # obfuscations, say nothing about where a number starts.
            if not contested or score >= 3:
                kept.append(cand)
    return kept


def _score(kinds: list[str], first: int, last: int, size: int) -> int:
    """How well the separators delimit atoms first..last, 0-4: the same separator inside,
    another one (or the chain's end) at either edge."""
    inside = set(kinds[first + 1 : last + 1])
    score = 2 if len(inside) <= 1 else 0
    if first == 0 or kinds[first] not in inside:
        score += 1
    if last == size - 1 or kinds[last + 1] not in inside:
        score += 1
    return score


def _obfuscated(atoms: list[_Atom], kinds: list[str], cand: _Candidate) -> bool:
    chosen = atoms[cand.first : cand.last + 1]
    if not all(a.plain for a in chosen):
        return True  # words, keycaps, letters, non-ASCII digits
    if sum(1 for a in chosen if len(a.digits) == 1) >= 3:
        return True  # digits written one by one
    # The gap after the country code ("+33 6.12...") and brackets ("(0)") are ordinary.
    skip = cand.first + 2 if cand.international else cand.first + 1
    inside = set(kinds[skip : cand.last + 1]) - _BRACKETS
    return not inside <= _PLAIN_KINDS or len(inside - {""}) > 1


# --- validation --------------------------------------------------------------------------


# Validation caches hold a day of numbers: a national crawl shows tens of thousands of
# numbers a day, each again and again, and phonenumbers takes tens of µs to judge one.
_VALIDATION_CACHE = 65_536


@lru_cache(maxsize=_VALIDATION_CACHE)
def _check(country: int, national: str) -> tuple[str, str] | None:
    """(E.164, region) when +country national is a valid number, else None."""
    if not national.isdigit() or len(national) > _MAX_NSN:
        return None
    zeros = len(national) - len(national.lstrip("0"))
    if zeros == len(national):
        return None
    plan = _plan(country)
    if plan is not None:  # a calling code of one region: the usual case, made quick
        only_region, valid = plan
        # phonenumbers' national significant number of the PhoneNumber made below.
        national_number = "0" * zeros + str(int(national))
        if not valid(national_number):
            return None
        return f"+{country}{national_number}", only_region
    number = PhoneNumber(country_code=country, national_number=int(national))
    if zeros:
        # Keep leading zeros (Italy) as written, or "+39 06..." would be read as "+39 6...".
        number.italian_leading_zero = True
        if zeros > 1:
            number.number_of_leading_zeros = zeros
    # is_valid_number(n) is is_valid_number_for_region(n, region_code_for_number(n)):
    # written out, the region (slow to find for codes shared by several) is found once.
    region = phonenumbers.region_code_for_number(number)
    if region is None or not phonenumbers.is_valid_number_for_region(number, region):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164), region


# The number types is_valid_number accepts, in the order phonenumbers tries them.
_NUMBER_TYPES = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number",
                 "pager", "uan", "voicemail", "fixed_line")


@lru_cache(maxsize=512)
def _plan(country: int) -> tuple[str, Callable[[str], bool]] | None:
    """The region of a calling code that has one, and a validator of its national
    significant numbers; None for a calling code shared by several regions.

    phonenumbers' is_valid_number, written out for one region with its patterns compiled
    once: the general description, then any number type (mobile only when its pattern is
    not the fixed line's). phonenumbers recompiles, or looks up, each pattern on every
    call, which made validation the costliest step of reading a new number.
    """
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country)
    if not regions or len(regions) != 1:
        return None
    region = regions[0]
    metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(
        country, region.upper())
    if metadata is None or (region != phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY
                            and country != phonenumbers.country_code_for_valid_region(region)):
        return region, lambda national_number: False
    general = _description(metadata.general_desc)
    descs = [getattr(metadata, kind) for kind in _NUMBER_TYPES]
    if not metadata.same_mobile_and_fixed_line_pattern:
        descs.append(metadata.mobile)
    # Any type will do: types of the same possible lengths are tried as one pattern.
    by_lengths: dict[frozenset[int], list[str]] = {}
    for desc in descs:
        if desc is not None and desc.national_number_pattern:
            by_lengths.setdefault(frozenset(desc.possible_length or ()), []).append(
                desc.national_number_pattern)
    types = [(lengths, re.compile("|".join(f"(?:{p})" for p in patterns)))
             for lengths, patterns in by_lengths.items()]

    def valid(national_number: str) -> bool:
        size = len(national_number)
        if general is None or not _matches(general, national_number, size):
            return False
        return any(_matches(kind, national_number, size) for kind in types)

    return region, valid


def _description(desc: Any) -> tuple[frozenset[int], re.Pattern[str]] | None:
    """A phonenumbers PhoneNumberDesc as (possible lengths, compiled pattern); None when
    it can match nothing (no description, or no pattern)."""
    if desc is None or not desc.national_number_pattern:
        return None
    return frozenset(desc.possible_length or ()), re.compile(desc.national_number_pattern)


def _matches(desc: tuple[frozenset[int], re.Pattern[str]], number: str, size: int) -> bool:
    """phonenumbers' _is_number_matching_desc: no possible lengths means any length."""
    lengths, pattern = desc
    return (not lengths or size in lengths) and pattern.fullmatch(number) is not None


@lru_cache(maxsize=_VALIDATION_CACHE)
def _international(country: int, national: str) -> tuple[str, str] | None:
    reading = _check(country, national)
    if reading is not None:
        return reading
    prefix = _national_prefix(country)  # "+33 (0)6...", "+33 06...": the trunk 0 written
    if prefix and national.startswith(prefix):
        return _check(country, national[len(prefix) :])
    return None


@lru_cache(maxsize=_VALIDATION_CACHE)
def _national(number: str) -> tuple[str, str] | None:
    """A number in French national format: metropolitan first, else one overseas reading."""
    lexicon = _lexicon()
    reading = _in_region(number, lexicon.default_region)
    if reading is not None:
        return reading
    readings = {}
    for region in lexicon.overseas:
        reading = _in_region(number, region)
        if reading is not None and reading[1] in lexicon.overseas:
            readings[reading[0]] = reading
    return next(iter(readings.values())) if len(readings) == 1 else None


def _in_region(number: str, region: str) -> tuple[str, str] | None:
    plan = _region_plan(region)
    if plan is None:
        return None
    country, prefix = plan
    if not number.startswith(prefix):
        return None
    return _check(country, number[len(prefix) :])


@lru_cache(maxsize=64)
def _region_plan(region: str) -> tuple[int, str] | None:
    """(calling code, national prefix) of a region, or None when phonenumbers has none."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None:
        return None
    return phonenumbers.country_code_for_region(region), metadata.national_prefix or ""


@lru_cache(maxsize=1)
def _country_codes() -> frozenset[int]:
    return frozenset(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


@lru_cache(maxsize=512)
def _possible_lengths(country: int) -> frozenset[int]:
    lengths: set[int] = set()
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country, ()):
        metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(country, region)
        if metadata is not None and metadata.general_desc is not None:
            lengths.update(metadata.general_desc.possible_length or ())
    return frozenset(lengths) if lengths else frozenset(range(4, 16))


@lru_cache(maxsize=512)
def _national_prefix(country: int) -> str:
    region = phonenumbers.region_code_for_country_code(country)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(country, region)
    return (metadata.national_prefix or "") if metadata is not None else ""


# --- lexicon -----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    raw = resources.files("faisceau.normalise").joinpath("data", "phones.json")
    data: dict[str, Any] = json.loads(raw.read_text("utf-8"))
    words = data["number_words"]
    word_values: dict[str, int] = {}
    compound_values: dict[tuple[str, str], int] = {}
    for spelling in words["zero"]:
        word_values[_fold(spelling)] = 0
    for group in ("units", "teens", "tens", "tens_taking_teens"):
        for spelling, value in words[group].items():
            parts = _fold(spelling).split("-")
            if len(parts) == 1:
                word_values[parts[0]] = value
            elif len(parts) == 2:
                compound_values[(parts[0], parts[1])] = value
            else:
                raise ValueError(f"phones.json: at most two words per entry: {spelling!r}")
    exact, coarse = _number_words_pattern(words)
    # Letters for digits as in ``_RUNS``, so that "55onze" is 55 then "onze", not "55o".
    run = r"\d+(?:[oil]+\d+)*(?:[oil]+(?![^\W\d_]))?"
    atom = rf"(?:(?:[oil]+(?=\d))?{run}|{coarse})"
    chains = rf"{run}(?:{_COARSE_GAP}{atom})*"
    zero = _first_letter_branches(dict.fromkeys(words["zero"], ""), lookbehind=True)
    zero_chains = rf"{zero}(?![^\W\d_])(?:{_COARSE_GAP}{atom})*"
    units = sorted(data["quantity_units"], key=len, reverse=True)
    quantity = r"[ \t\u00a0\u202f]?(?:" + "|".join(map(re.escape, units)) + r")(?![^\W_])"
    return _Lexicon(
        chains=re.compile(chains),
        zero_chains=re.compile(zero_chains),
        words=re.compile(exact),
        word_values=word_values,
        compound_values=compound_values,
        and_word=_fold(words["and"]),
        quantity=re.compile(quantity, re.IGNORECASE),
        default_region=data["default_region"],
        overseas=tuple(data["overseas_regions"]),
    )


def _number_words_pattern(words: dict[str, Any]) -> tuple[str, str]:
    """The regex for one spelled digit or pair on lowercased text, and its coarse version.

    Longer heads come first ("quatre-vingt" before "quatre"), and a letter may neither
    precede nor follow the phrase, so "cinq" is not read inside "cinquième". A compound
    is as long as it can be: "vingt deux" is 22, "quatre vingt" 80.
    """
    units = _alternatives(words["units"])
    and_word = _spelling(words["and"])
    teen_values = set(words["teens"].values())
    ten = next(w for w, v in words["teens"].items() if v == 10)
    # "dix-sept", "dix-huit", "dix-neuf": the units whose teen has no word of its own.
    after_ten = _alternatives(
        {w: v for w, v in words["units"].items() if 10 + v not in teen_values}
    )
    ten_then = rf"(?:{_WORD_SEP}(?:{after_ten}))?"
    teens = "|".join(
        _spelling(w) + (ten_then if w == ten else "")
        for w in sorted(words["teens"], key=len, reverse=True)
    )
    then = rf"(?:{_WORD_SEP}(?:{and_word}{_WORD_SEP})?"
    heads: dict[str, str] = {}
    for spelling in [*words["zero"], *words["units"]]:
        heads[spelling] = ""
    for spelling in words["teens"]:
        heads[spelling] = ten_then if spelling == ten else ""
    for spelling in words["tens"]:
        heads[spelling] = rf"{then}(?:{units}))?"
    for spelling in words["tens_taking_teens"]:
        heads[spelling] = rf"{then}(?:{teens}|{units}))?"
    end = r"(?![^\W\d_])"
    exact = _first_letter_branches(heads, lookbehind=True)
    # The coarse version, only tried after a gap inside a coarse chain, skips the look-behind.
    coarse = _first_letter_branches(heads, lookbehind=False)
    return exact + end, coarse + end


def _first_letter_branches(heads: dict[str, str], *, lookbehind: bool) -> str:
    """Alternatives grouped under their literal first letter, longest first.

    A literal first letter lets the regex engine skip ahead in C. With ``lookbehind``, the
    letter must not follow another letter: "un" is not read inside "aucun".
    """
    by_letter: dict[str, list[str]] = {}
    for spelling in sorted(heads, key=len, reverse=True):
        rest = _spelling(spelling[1:]) + heads[spelling]
        for letter in {spelling[0].lower(), _fold(spelling[0])}:
            by_letter.setdefault(letter, []).append(rest)
    before = r"(?<![^\W\d_].)" if lookbehind else ""
    branches = [
        rf"{re.escape(letter)}{before}(?:{'|'.join(rests)})"
        for letter, rests in sorted(by_letter.items())
    ]
    return rf"(?:{'|'.join(branches)})"


def _alternatives(spellings: dict[str, int]) -> str:
    return "|".join(_spelling(w) for w in sorted(spellings, key=len, reverse=True))


def _spelling(word: str) -> str:
    """Regex for one lexicon entry: accents optional, hyphen or spaces between words."""
    out = []
    for char in word.lower():
        if char == "-":
            out.append(_WORD_SEP)
            continue
        base = _fold(char)
        out.append(f"[{base}{char}]" if base != char else re.escape(char))
    return "".join(out)
