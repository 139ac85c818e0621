"""Rates: an amount of money for a length of time.

Owns ``find_prices``, for the ``price`` field and for free text: "150/1h 100/30min",
"150€ l'heure", "100 roses la demi-heure", "1h 200", "30mn 80e", "nuit 800", "0.5h 100",
"1h30 250", "200 euros/h". Each rate comes back as ``Found("150 EUR/60 min", shown,
{"amount": 150.0, "currency": "EUR", "minutes": 60})``; an amount with a currency but no
duration ("200€") keeps ``minutes`` None and reads "200 EUR".

How it reads: the text is cut into amount tokens and duration tokens, then they are paired.
Ads write either "amount then duration" ("150/1h") or "duration then amount" ("1h 200"),
and mostly keep to one order, so both pairings are tried and the one that pairs more tokens
wins. Two tokens only pair when nothing but separators and small words ("la", "pour",
"de"...) stand between them. A number without a currency is only a price when it pairs with
a duration: on its own it could be anything (an age, a height, part of a phone number).

A night counts as 720 minutes (12 hours): ads never say how long a night is, and one fixed
figure keeps night rates comparable. This and every word list are in ``data/prices.json``.

Speed: most ad texts hold numbers (ages, phone numbers) but no rate; ``_may_hold_rate``
turns them away with a few C-level searches before any token is read.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any, NamedTuple

from faisceau.normalise.model import Found
from faisceau.normalise.text import lower_aligned


@dataclass(frozen=True)
class _Rules:
    numeric_words: re.Pattern[str]  # "1/2h", "½ heure": durations that start like numbers
    hour_units: frozenset[str]
    minute_units: frozenset[str]
    words: re.Pattern[str]  # durations in words, on lower-cased text
    word_hints: tuple[str, ...]
    currencies: dict[str, str]
    prefix_currencies: dict[str, str]
    weak_currencies: frozenset[str]
    weak_currency_min: float
    default_currency: str
    min_amount: float
    max_amount: float
    max_hours: int
    duration_words: dict[str, int]
    time_before: re.Pattern[str]
    gap: re.Pattern[str]
    not_units: frozenset[str]
    cue_units: frozenset[str]  # see _may_hold_rate


def _alternation(words: list[str]) -> str:
    ordered = sorted(words, key=len, reverse=True)
    return "|".join(re.escape(w).replace(r"\ ", r"\s+").replace(r"\-", r"[\-\s]?") for w in ordered)


def _by_first_char(words: list[str]) -> str:
    """Literal words grouped by first character, longest first, as ``_alternation`` writes.

    A pattern that begins with plain literals lets the regex engine skip, in C, every
    position whose character starts no word; this is what keeps a scan of a whole ad cheap.
    """
    groups: dict[str, list[str]] = {}
    for word in sorted(set(words), key=len, reverse=True):
        groups.setdefault(word[0], []).append(_alternation([word[1:]]) if word[1:] else "")
    return "|".join(f"{re.escape(first)}(?:{'|'.join(rest)})" for first, rest in groups.items())


def _fold(word: str) -> str:
    return re.sub(r"[\s\-]+", " ", word.lower().replace("’", "'")).strip()


@functools.cache
def _rules() -> _Rules:
    path = resources.files("faisceau.normalise").joinpath("data", "prices.json")
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    currencies = {k.lower(): v for k, v in data["currencies"].items()}
    # "1/2h", "½h" start like numbers and are read with them; the rest are words.
    numeric_words = [w for w in data["duration_words"] if w[0].isdigit() or w[0] == "½"]
    letter_words = [w.lower() for w in data["duration_words"] if w not in numeric_words]
    slash_hour = ["/h", "/ h", "/hr", "/hour", "/heure", "/hora"]
    gap_words = _alternation(data["gap_words"])
    separators = r"[\s:=/\-–—>→»()*|+]"
    gap = re.compile(rf"{separators}*(?:(?:{gap_words}){separators}*)*", re.IGNORECASE)
    # Units that make a number after which they are written a duration or an amount
    # worth a look (see _may_hold_rate); hour units and weak currencies only for some.
    hour_units = frozenset(u.lower() for u in data["hour_units"])
    weak = frozenset(data["weak_currencies"])
    cue_units = (
        frozenset(u.lower() for u in data["minute_units"]) | frozenset(currencies)
    ) - hour_units - weak
    return _Rules(
        numeric_words=re.compile(rf"(?:{_alternation(numeric_words)})(?![^\W\d_])", re.I),
        hour_units=hour_units,
        minute_units=frozenset(u.lower() for u in data["minute_units"]),
        words=re.compile(_by_first_char(letter_words + slash_hour)),
        # A hint holding another ("hora", "ora") adds nothing to the search.
        word_hints=tuple(h for h in data["word_hints"]
                         if not any(o != h and o in h for o in data["word_hints"])),
        currencies=currencies,
        prefix_currencies=dict(data["prefix_currencies"]),
        weak_currencies=weak,
        weak_currency_min=float(data["weak_currency_min"]),
        default_currency=data["default_currency"],
        min_amount=float(data["min_amount"]),
        max_amount=float(data["max_amount"]),
        max_hours=int(data["max_hours"]),
        duration_words={_fold(k): int(v) for k, v in data["duration_words"].items()},
        time_before=re.compile(
            rf"(?<![^\W\d_])(?:{_alternation(data['time_prepositions'])})\s*$", re.IGNORECASE
        ),
        gap=gap,
        not_units=frozenset(_fold(w) for w in data["not_amount_units"]),
        cue_units=cue_units,
    )


class _Token(NamedTuple):
    start: int
    end: int
    minutes: int | None = None  # set for a duration
    amount: float | None = None  # set for an amount
    currency: str | None = None  # None: the ad named none
    strong: bool = False  # an amount that is a price on its own ("150€", not "150")


# Long digit runs are phone numbers (or IDs): nothing inside them is a price.
# Where tokens may start: a digit, "½" or a currency sign. A long run of digit groups (a
# phone number, an ID) is taken whole, as "run", and skipped: nothing inside it is a price.
_CANDIDATE = re.compile(
    r"[\d½€$£](?:(?P<run>(?<=\d)(?<![\w.,]\d)(?:[\s.\-]?\d){7,}(?!\w))|[\d.,]*)"
)


def find_prices(text: str) -> list[Found]:
    """Rates in ``text``, in the order they appear."""
    if not text:
        return []
    rules = _rules()
    if not _may_hold_rate(text, rules):
        return []  # most ad texts: numbers (ages, phones), but no time or money
    return _read_rates(text, rules)


def _read_rates(text: str, rules: _Rules) -> list[Found]:
    tokens = _tokens(text, rules)
    if not tokens:
        return []
    pairs = _pair(text, tokens, rules)
    paired = {id(t) for pair in pairs for t in pair}
    found: list[tuple[int, Found]] = []
    for first, second in pairs:
        amount, duration = (first, second) if first.amount is not None else (second, first)
        found.append((first.start, _price(text, amount, duration.minutes, first, second, rules)))
    for token in tokens:
        if token.amount is not None and token.strong and id(token) not in paired:
            found.append((token.start, _price(text, token, None, token, token, rules)))
    found.sort(key=lambda pair: pair[0])
    return [item for _, item in found]


# A digit with a word (or an apostrophe) after it, spaces aside; and that word, as _UNIT
# reads it.
_DIGIT_THEN_WORD = re.compile(r"\d(?=\s*(?:[^\W\d_]|['’]))")
_WORD_AFTER = re.compile(r"\s*([^\W\d_]+|['’])")


def _may_hold_rate(text: str, rules: _Rules) -> bool:
    """False only when ``text`` cannot hold a rate, cheaply (most ads name none).

    A rate needs a duration or a currency. Tokens are only made from a currency sign (or
    "½"), a unit of time or money written after a number (an hour of at most
    ``max_hours``, an amount in a weak currency above ``weak_currency_min``: "24h", "6e"
    are none) or, for durations in words, a text holding one of ``word_hints``.
    """
    if "€" in text or "$" in text or "£" in text or "½" in text:
        return True
    for digit in _DIGIT_THEN_WORD.finditer(text):
        end = digit.end()
        unit = _WORD_AFTER.match(text, end)
        word = unit.group(1).lower() if unit else ""
        if word in rules.cue_units:
            return True
        hours = word in rules.hour_units
        if hours or word in rules.weak_currencies:
            start = end - 1
            while start > 0 and text[start - 1].isdecimal():
                start -= 1
            if start > 0 and text[start - 1] in ".,":
                return True  # the decimals of a number: "1.5h", "9,50e"
            value = int(text[start:end])
            if value <= rules.max_hours if hours else value > rules.weak_currency_min:
                return True
    return any(map(lower_aligned(text).__contains__, rules.word_hints))


def _tokens(text: str, rules: _Rules) -> list[_Token]:
    """Amounts and durations, in text order."""
    tokens: list[_Token] = []
    end = 0
    for candidate in _CANDIDATE.finditer(text):
        start = candidate.start()
        if start < end or (start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_.,")):
            continue
        if candidate.group("run"):
            end = candidate.end()
            continue
        token = _number_token(text, start, rules)
        if token is not None:
            tokens.append(token)
            end = token.end
    if not any(t.amount is not None for t in tokens):
        return []  # no amount, no rate: durations in words cannot change that
    low = lower_aligned(text)
    if any(hint in low for hint in rules.word_hints):
        numeric_spans = [(t.start, t.end) for t in tokens]
        for match in rules.words.finditer(low):
            start, stop = match.span()
            if text[start] != "/" and start > 0 and text[start - 1].isalpha():
                continue
            if stop < len(text) and text[stop].isalpha():
                continue
            if any(a < stop and start < b for a, b in numeric_spans):
                continue  # "1 heure": the number already read it
            word = _fold(match.group())
            minutes = 60 if word.startswith("/") else rules.duration_words.get(word, 0)
            if minutes:
                tokens.append(_Token(start, stop, minutes=minutes))
        tokens.sort(key=lambda t: t.start)
    return tokens


def _price(
    text: str,
    amount: _Token,
    minutes: int | None,
    first: _Token,
    last: _Token,
    rules: _Rules,
) -> Found:
    value = amount.amount or 0.0
    currency = amount.currency or rules.default_currency
    shown_amount = f"{value:.2f}".rstrip("0").rstrip(".")
    canonical = f"{shown_amount} {currency}" + (f"/{minutes} min" if minutes else "")
    detail = {"amount": value, "currency": currency, "minutes": minutes}
    return Found(canonical, text[first.start : last.end], detail)


# A number as ads write it (the grouped form only counts before a currency: "1 000 €").
_NUMBER = re.compile(r"(?P<pre>[€$£])?\s*(?P<num>\d{1,5}(?:[.,]\d{1,2})?)(?!\d)")
_THOUSANDS = re.compile(r"[.\u00a0\u202f ](\d{3})(?!\d)")
# What follows a number: a word ("h", "min", "euros", "ans"...) or a sign ("€", "'").
_UNIT = re.compile(r"(\s*)([^\W\d_]+(?:['’][^\W\d_]+)?|[€$£'’])")
# Minutes after an hour: "1h30" glued, or a spaced quarter ("1h 30"; "1h 40" is 40 for
# an hour). What follows must not make them an amount ("1h 30€").
_HOUR_MINUTES = re.compile(r"[0-5]\d(?!\d)|\s(?:15|30|45)(?!\d)")


def _number_token(text: str, start: int, rules: _Rules) -> _Token | None:
    """The amount or duration that starts at ``start``: a number and the unit after it."""
    words = rules.numeric_words.match(text, start)
    if words:  # "1/2h", "½ heure"
        minutes = rules.duration_words.get(_fold(words.group()), 0)
        return _Token(start, words.end(), minutes=minutes) if minutes else None
    number = _NUMBER.match(text, start)
    if number is None:
        return None
    digits = number.group("num")
    end = number.end()
    unit = _UNIT.match(text, end)
    word = unit.group(2).lower() if unit else ""
    if not number.group("pre") and unit and word in rules.hour_units:
        return _hours_token(text, start, digits, unit.end(), rules)
    if not number.group("pre") and unit and word in rules.minute_units and digits.isdigit():
        minutes = int(digits)
        if not 5 <= minutes <= rules.max_hours * 60 or _time_of_day(text, start, rules):
            return None
        return _Token(start, unit.end(), minutes=minutes)
    if len(digits) <= 2 and (grouped := _THOUSANDS.match(text, end)):
        after = _UNIT.match(text, grouped.end())
        if after and after.group(2).lower() in rules.currencies:  # "1 000 €"
            digits, end, unit, word = digits + grouped.group(1), grouped.end(), after, ""
            word = after.group(2).lower()
    return _amount_token(text, start, number.group("pre"), digits, end, unit, word, rules)


def _time_of_day(text: str, start: int, rules: _Rules) -> bool:
    """ "à 11h", "dès 10h": a clock time, not a duration."""
    return rules.time_before.search(text, max(0, start - 16), start) is not None


def _hours_token(text: str, start: int, digits: str, end: int, rules: _Rules) -> _Token | None:
    if _time_of_day(text, start, rules):
        return None
    if not digits.isdigit():  # 0.5h, 1,5 h
        hours = float(digits.replace(",", "."))
        if not 0 < hours <= rules.max_hours:
            return None
        return _Token(start, end, minutes=round(hours * 60))
    hour = int(digits)
    extra = _HOUR_MINUTES.match(text, end)
    if extra:
        after = _UNIT.match(text, extra.end())
        word = after.group(2).lower() if after else ""
        if word in rules.currencies or (
            after and not after.group(1) and word not in rules.minute_units
        ):
            extra = None  # "1h 30€", "1h30x"
        elif word in rules.minute_units and after:
            end = after.end()  # "1h30min"
        if extra:
            end = max(end, extra.end())
    # "10h00", "19h30" are clock times; a duration past the hour is short ("1h30").
    if not 0 < hour <= rules.max_hours or (extra and hour >= 5):
        return None
    if end < len(text) and text[end].isalpha():
        return None
    return _Token(start, end, minutes=hour * 60 + (int(extra.group()) if extra else 0))


def _amount_token(
    text: str,
    start: int,
    pre: str | None,
    digits: str,
    end: int,
    unit: re.Match[str] | None,
    word: str,
    rules: _Rules,
) -> _Token | None:
    amount = float(digits.replace(",", "."))
    if not rules.min_amount <= amount <= rules.max_amount:
        return None
    currency: str | None = rules.prefix_currencies[pre] if pre else None
    strong = bool(pre)
    if unit is not None and word in rules.currencies:
        currency = rules.currencies[word]
        end = unit.end()
        # "80e" is a price, "15e arrondissement" is not: a weak currency never stands alone.
        if word in rules.weak_currencies:
            if amount <= rules.weak_currency_min:
                return None
        else:
            strong = True
    elif not strong and unit is not None and (not unit.group(1) or _fold(word) in rules.not_units):
        # A bare number with a unit of something else ("20 ans", "55 kg", "15 rue") or a
        # letter glued to it ("95C") is not an amount.
        return None
    return _Token(start, end, amount=amount, currency=currency, strong=strong)


def _pair(text: str, tokens: list[_Token], rules: _Rules) -> list[tuple[_Token, _Token]]:
    """Pair amounts with durations, in whichever order pairs more of them."""

    def close(first: _Token, second: _Token) -> bool:
        gap = rules.gap.fullmatch(text, first.end, second.start)
        return gap is not None and second.start - first.end <= 24

    def greedy(amount_first: bool) -> list[tuple[_Token, _Token]]:
        pairs = []
        index = 0
        while index < len(tokens) - 1:
            first, second = tokens[index], tokens[index + 1]
            if (
                (first.amount is not None) == amount_first
                and (second.amount is not None) != amount_first
                and close(first, second)
            ):
                pairs.append((first, second))
                index += 2
            else:
                index += 1
        return pairs

    amount_first, duration_first = greedy(True), greedy(False)
    if len(amount_first) != len(duration_first):
        main = max(amount_first, duration_first, key=len)
    else:
        main = amount_first if tokens[0].amount is not None else duration_first
    # An ad that mostly writes "150/1h" may still end with "nuit 800": pair what is left
    # in the other order, neighbours only.
    used = {id(t) for pair in main for t in pair}
    extra = []
    for first, second in itertools.pairwise(tokens):
        if id(first) in used or id(second) in used:
            continue
        if (first.amount is None) != (second.amount is None) and close(first, second):
            extra.append((first, second))
            used.update((id(first), id(second)))
    return sorted(main + extra, key=lambda pair: pair[0].start)
