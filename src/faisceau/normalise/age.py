"""Stated ages: the ``age`` field and ages written in free text.

Owns ``parse_age`` (the field: ``19``, ``"19 ans"``, ``"19yo"``, ``"dix-neuf ans"``, ``"19a"``)
and ``find_ages`` (free text: "j'ai 19 ans", "âgée de 20 ans", "I am 21", "tengo 20 años",
"am 20 de ani"). The value is the age in years as a string; ``detail["minor"]`` says whether
it is under 18.

Ages from 14 to 99 are kept. Ages under 18 are kept on purpose: a stated 16 is a minor signal,
the most important thing an ad can say. Under 14 is refused because in ad text such a number
is almost never the person's age ("10 ans d'expérience" aside, which is refused anyway).

Free text is full of numbers followed by "ans" that are not ages: limits ("interdit aux
moins de 18 ans"), durations ("depuis 10 ans", "20 ans d'expérience"), ranges ("18-25 ans").
The phrases that rule a number out are data, in ``data/age.json``, with the units, lead-ins and
ages written in words.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources

from faisceau.normalise.model import Found
from faisceau.normalise.text import lower_aligned

MIN_AGE = 14
MAX_AGE = 99


@dataclass(frozen=True)
class _AgeRules:
    words: dict[str, int]  # folded number words -> age
    unit_scan: re.Pattern[str]  # on lower-cased text; boundaries checked in code
    lead_scan: re.Pattern[str]  # idem
    cjk_units: frozenset[str]
    unit_after: re.Pattern[str]
    negative_before: re.Pattern[str]
    negative_after: re.Pattern[str]
    field: re.Pattern[str]
    trailing_unit: re.Pattern[str]


def _alternation(words: list[str]) -> str:
    escaped = (re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))
    return "|".join(escaped)


def _by_first_char(words: list[str]) -> str:
    """Literal words grouped by first character, longest first, spaces as ``\\s+``.

    A pattern that begins with plain literals lets the regex engine skip, in C, every
    position whose character starts no word; this is what keeps a scan of a whole ad cheap.
    """
    groups: dict[str, list[str]] = {}
    for word in sorted(set(words), key=len, reverse=True):
        groups.setdefault(word[0], []).append(re.escape(word[1:]).replace(r"\ ", r"\s+"))
    return "|".join(f"{re.escape(first)}(?:{'|'.join(rest)})" for first, rest in groups.items())


@functools.cache
def _rules() -> _AgeRules:
    path = resources.files("faisceau.normalise").joinpath("data", "age.json")
    data = json.loads(path.read_text("utf-8"))
    words: dict[str, int] = {}
    for forms in data["words"].values():
        words.update(forms)
    units = [u.lower() for u in data["units"]]
    # Units written in letters need word boundaries ("19 ans", not "19 ansa"); CJK units
    # are followed by more CJK letters ("20岁的"), so they get none.
    cjk = frozenset(u for u in units if all(ord(c) >= 0x2E80 for c in u))
    word_unit = rf"(?<![^\W\d_])(?:{_alternation(units)})(?![^\W\d_])"
    unit = rf"(?:{word_unit}|{_alternation(sorted(cjk))})" if cjk else word_unit
    # A range ("18-25 ans", "entre 18 et 25 ans") names no one's age.
    range_before = r"\d\s*(?:-|–|à|a|et|to|and|y|e|ou|or|/)\s*"
    return _AgeRules(
        words=words,
        unit_scan=re.compile(_by_first_char(units)),
        lead_scan=re.compile(_by_first_char([w.lower() for w in data["lead_ins"]])),
        cjk_units=cjk,
        unit_after=re.compile(rf"\s*{unit}", re.IGNORECASE),
        negative_before=re.compile(
            rf"(?:(?<![^\W\d_])(?:{_alternation(data['negative_before'])})|{range_before})\s*$",
            re.IGNORECASE,
        ),
        negative_after=re.compile(
            rf"\s*(?:{_alternation(data['negative_after'])})(?![^\W\d_])|\s*\+",
            re.IGNORECASE,
        ),
        field=re.compile(
            rf"(\d{{2}})\s*(?:(?:{_alternation(units + data['field_units'])})\.?)?\s*\.?",
            re.IGNORECASE,
        ),
        trailing_unit=re.compile(rf"\s*(?:{unit})\s*\.?$", re.IGNORECASE),
    )


def _fold(text: str) -> str:
    """Lower case, no accents, hyphens as spaces: the form ``data/age.json`` keys use."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_WORD.findall(bare))


_WORD = re.compile(r"[^\W\d_]+")
# After a lead-in ("j'ai", "I am", "âge :"): a two-digit number that is not a time or price.
_LEAD_NUMBER = re.compile(r"\s*[:=]?\s*(?<![\d.,])(\d{2})(?![\d.,:/'’h]|\s*(?:%|€|\$|£))")
_NUMBER_BEFORE = re.compile(r"(?<![\d.,:/+€$£-])(\d{2})\s*$")
_WORDS_BEFORE = re.compile(r"(?:[^\W\d_]+[\s\-‐]+){0,3}[^\W\d_]+\s*$")
# After a number given without a unit: things that make it a price, time or measure.
_NOT_AN_AGE_AFTER = re.compile(
    r"\s*(?:h\b|min|mn|cm|kg|m\b|e\b|eur|euro|rose|x\b|fois|times|%|€|\$|£|\+)",
    re.IGNORECASE,
)
# How far back to look for a number, words or a ruling-out phrase.
_LOOKBACK = 48


def _found(age: int, shown: str) -> Found:
    return Found(str(age), shown, {"minor": age < 18})


def parse_age(value: str | int | None) -> Found | None:
    """The age the ``age`` field states, or None when it states none (or one out of range)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return _found(value, str(value)) if MIN_AGE <= value <= MAX_AGE else None
    if not isinstance(value, str):
        return None
    shown = value.strip()
    if not shown:
        return None
    rules = _rules()
    match = rules.field.fullmatch(shown)
    if match:
        age = int(match.group(1))
        return _found(age, shown) if MIN_AGE <= age <= MAX_AGE else None
    in_words = rules.words.get(_fold(rules.trailing_unit.sub("", shown)))
    if in_words is not None:
        return _found(in_words, shown)
    ages = find_ages(shown)
    if ages:
        return _found(int(ages[0].value), shown)
    # Last resort, still safe in a field meant for an age: one two-digit number, with a few
    # words around it ("env. 25", "18+"), and nothing that makes it a limit.
    lone = re.fullmatch(r"(\D{0,16}?)(?<![\d\-−])(\d{2})(?!\d)\D{0,16}", shown)
    if lone and not rules.negative_before.search(lone.group(1)):
        age = int(lone.group(2))
        if MIN_AGE <= age <= MAX_AGE:
            return _found(age, shown)
    return None


def find_ages(text: str) -> list[Found]:
    """Ages stated in free text, in the order they appear."""
    if not text:
        return []
    rules = _rules()
    low = lower_aligned(text)
    hits: dict[int, Found] = {}  # by start of the number: one age per place in the text
    for unit in rules.unit_scan.finditer(low):
        start, end = unit.span()
        if start > 0 and text[start - 1].isalpha():
            continue  # "dans", "sans": not the unit "ans"
        if end < len(text) and text[end].isalpha() and unit.group() not in rules.cjk_units:
            continue
        found = _age_before_unit(text, start, end, rules)
        if found is not None:
            hits.setdefault(found[0], found[1])
    for lead in rules.lead_scan.finditer(low):
        if lead.start() > 0 and text[lead.start() - 1].isalpha():
            continue
        number = _LEAD_NUMBER.match(text, lead.end())
        if number is None:
            continue
        start = number.start(1)
        if start in hits or rules.unit_after.match(text, number.end(1)):
            continue  # followed by a unit: the unit pass ruled on it already
        if _NOT_AN_AGE_AFTER.match(text, number.end(1)):
            continue
        age = int(number.group(1))
        if MIN_AGE <= age <= MAX_AGE:
            hits[start] = _found(age, text[lead.start() : number.end(1)])
    return [hits[start] for start in sorted(hits)]


def _age_before_unit(
    text: str, unit_start: int, unit_end: int, rules: _AgeRules
) -> tuple[int, Found] | None:
    window_start = max(0, unit_start - _LOOKBACK)
    before = text[window_start:unit_start]
    age: int | None = None
    start = 0
    number = _NUMBER_BEFORE.search(before)
    if number:
        age, start = int(number.group(1)), window_start + number.start(1)
    else:
        words = _WORDS_BEFORE.search(before)
        if words:
            age, start = _age_in_words(before, words, window_start, rules)
    if age is None or not MIN_AGE <= age <= MAX_AGE:
        return None
    if rules.negative_before.search(text[max(0, start - _LOOKBACK) : start]):
        return None
    if rules.negative_after.match(text, unit_end):
        return None
    return start, _found(age, text[start:unit_end])


def _age_in_words(
    before: str, words: re.Match[str], offset: int, rules: _AgeRules
) -> tuple[int | None, int]:
    """The longest run of trailing words that spells an age ("vingt et un", "dix-neuf")."""
    tokens = list(_WORD.finditer(before, words.start()))
    for count in range(min(4, len(tokens)), 0, -1):
        first = tokens[-count]
        age = rules.words.get(_fold(before[first.start() : tokens[-1].end()]))
        if age is not None:
            return age, offset + first.start()
    return None, 0
