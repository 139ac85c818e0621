"""Accuracy and speed of ``faisceau.normalise.phones.find_phones`` on obfuscated numbers.

Builds a deterministic set of synthetic phone numbers (French mobiles and landlines,
overseas départements, foreign numbers), writes each in several obfuscated ways (spaced,
dotted, slashed, digit by digit, letters for digits, French number words, keycaps,
full-width and other Unicode digits, mixtures), plants each variant in a short, sober
synthetic ad sentence that also shows an age, a price, a postcode or a time, and checks
what ``find_phones`` reads.

Run: ``.venv/bin/python benchmarks/phones_accuracy.py [--variants N] [--seed S]``

Prints the number of variants, the recall (planted number found), the wrong numbers
(any value other than the planted one), the invalid numbers (values phonenumbers rejects)
and the time per call. Targets: recall >= 0.98, no wrong and no invalid number.
``tests/normalise/test_phones.py`` runs the same generator on a smaller sample.

All numbers are synthetic: fixed fictitious prefixes with random last digits.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import phonenumbers

from faisceau.normalise.model import Found
from faisceau.normalise.phones import find_phones

# --- synthetic numbers -------------------------------------------------------------------

# (region expected, country code, national significant number prefix, total NSN length,
#  how the NSN is grouped when written)
NUMBER_PLANS: tuple[tuple[str, int, str, int, tuple[int, ...]], ...] = (
    ("FR", 33, "61234", 9, (1, 2, 2, 2, 2)),
    ("FR", 33, "69876", 9, (1, 2, 2, 2, 2)),
    ("FR", 33, "75812", 9, (1, 2, 2, 2, 2)),
    ("FR", 33, "12345", 9, (1, 2, 2, 2, 2)),
    ("FR", 33, "49123", 9, (1, 2, 2, 2, 2)),
    ("FR", 33, "55678", 9, (1, 2, 2, 2, 2)),
    ("FR", 33, "24012", 9, (1, 2, 2, 2, 2)),
    ("FR", 33, "97012", 9, (1, 2, 2, 2, 2)),
    ("RE", 262, "69212", 9, (3, 2, 2, 2)),
    ("RE", 262, "69345", 9, (3, 2, 2, 2)),
    ("GP", 590, "69012", 9, (3, 2, 2, 2)),
    ("MQ", 596, "69612", 9, (3, 2, 2, 2)),
    ("BE", 32, "4701", 9, (3, 2, 2, 2)),
    ("CH", 41, "7912", 9, (2, 3, 2, 2)),
    ("ES", 34, "6123", 9, (3, 3, 3)),
    ("RO", 40, "7123", 9, (3, 3, 3)),
    ("BR", 55, "11912", 11, (2, 5, 4)),
    ("CO", 57, "3101", 10, (3, 3, 4)),
    ("CN", 86, "13800", 11, (3, 4, 4)),
    ("NG", 234, "8031", 10, (3, 3, 4)),
    ("GB", 44, "74001", 10, (4, 3, 3)),
    ("MA", 212, "6123", 9, (3, 2, 2, 2)),
    ("DE", 49, "1512", 11, (3, 4, 4)),
    ("IT", 39, "3451", 10, (3, 3, 4)),
    ("IT", 39, "0612", 10, (2, 4, 4)),
)
NATIONAL_FORMAT = frozenset({"FR", "RE", "GP", "MQ"})


@dataclass(frozen=True)
class Number:
    region: str
    country: int
    national: str  # national significant number
    groups: tuple[int, ...]

    @property
    def e164(self) -> str:
        return f"+{self.country}{self.national}"


def synthetic_numbers(rng: random.Random, per_plan: int) -> list[Number]:
    """``per_plan`` valid numbers per plan, each checked against phonenumbers."""
    numbers: list[Number] = []
    for region, country, prefix, length, groups in NUMBER_PLANS:
        made = 0
        for _ in range(per_plan * 50):
            if made == per_plan:
                break
            rest = "".join(rng.choice("0123456789") for _ in range(length - len(prefix)))
            number = Number(region, country, prefix + rest, groups)
            parsed = phonenumbers.parse(number.e164)
            if phonenumbers.is_valid_number(parsed) and (
                phonenumbers.region_code_for_number(parsed) == region
            ):
                numbers.append(number)
                made += 1
        if made < per_plan:
            raise RuntimeError(f"could not make valid numbers for {region} {prefix}")
    return numbers


# --- writing digits ----------------------------------------------------------------------

UNITS = ("zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf")
TEENS = {
    10: "dix",
    11: "onze",
    12: "douze",
    13: "treize",
    14: "quatorze",
    15: "quinze",
    16: "seize",
    17: "dix-sept",
    18: "dix-huit",
    19: "dix-neuf",
}
TENS = {2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante", 6: "soixante"}
UNICODE_ZEROS = (0xFF10, 0x0660, 0x06F0, 0x0966, 0x09E6, 0x0E50, 0x1D7CE, 0x1D7D8)
KEYCAP = "\u20e3"


def spell_pair(value: int, belgian: bool = False) -> str:
    """French spelling of 0-99, hyphenated ("soixante-dix-huit")."""
    if value < 10:
        return UNITS[value]
    if value < 20:
        return TEENS[value]
    tens, unit = divmod(value, 10)
    if belgian and tens in (7, 9):
        base = "septante" if tens == 7 else "nonante"
        return base if unit == 0 else base + ("-et-un" if unit == 1 else f"-{UNITS[unit]}")
    if tens in (7, 9):
        base = "soixante" if tens == 7 else "quatre-vingt"
        return f"{base}-{'et-' if value == 71 else ''}{TEENS[10 + unit]}"
    if tens == 8:
        return "quatre-vingts" if unit == 0 else f"quatre-vingt-{UNITS[unit]}"
    if unit == 0:
        return TENS[tens]
    return f"{TENS[tens]}-{'et-un' if unit == 1 else UNITS[unit]}"


@dataclass
class Piece:
    """One written piece of a number: digits, a spelled word, or letters-for-digits."""

    text: str
    kind: str  # "digit", "word" or "letter"
    value: int = -1  # for words: what the word says
    single: bool = False  # for words: a single digit ("quatre"), not a pair


def word_piece(digits: str, rng: random.Random) -> Piece:
    value = int(digits)
    single = len(digits) == 1
    text = UNITS[value] if single else spell_pair(value, belgian=rng.random() < 0.1)
    if rng.random() < 0.4:
        text = text.replace("-", " ")
    roll = rng.random()
    if roll < 0.2:
        text = text.replace("é", "e")
    elif roll < 0.3:
        text = text.upper()
    elif roll < 0.4:
        text = text.capitalize()
    return Piece(text, "word", value, single)


def word_pieces(digits: str, rng: random.Random) -> list[Piece]:
    """Words for one or two digits; "06" is two words ("zéro six"), as people write it."""
    if len(digits) == 2 and digits[0] == "0":
        return [word_piece("0", rng), word_piece(digits[1], rng)]
    return [word_piece(digits, rng)]


def letters_for_digits(digits: str, rng: random.Random) -> Piece:
    """O/o for 0 and l/I/i for 1, keeping at least one real digit in the piece."""
    chars = list(digits)
    swappable = [i for i, c in enumerate(chars) if c in "01"]
    rng.shuffle(swappable)
    for index in swappable[: max(0, len(chars) - 1)]:
        chars[index] = rng.choice("Oo") if chars[index] == "0" else rng.choice("lIi")
    text = "".join(chars)
    return Piece(text, "letter" if text != digits else "digit")


def render_group(digits: str, style: str, rng: random.Random) -> tuple[list[Piece], str]:
    """Pieces for one digit group and the separator between them."""
    if style == "digits":
        return [Piece(digits, "digit")], ""
    if style == "one_by_one":
        return [Piece(d, "digit") for d in digits], rng.choice([" ", ".", "-", " . ", "*"])
    if style == "letters":
        return [letters_for_digits(digits, rng)], ""
    if style == "words":
        if len(digits) % 2 == 0 and rng.random() < 0.7:
            chunks = [digits[i : i + 2] for i in range(0, len(digits), 2)]
        else:
            chunks = list(digits)
        if len(digits) % 2 and rng.random() < 0.5:
            chunks = [digits[0]] + [digits[i : i + 2] for i in range(1, len(digits), 2)]
        pieces: list[Piece] = []
        for chunk in chunks:
            pieces += word_pieces(chunk, rng)
        return pieces, " "
    if style == "keycaps":
        variant = rng.choice(["\ufe0f" + KEYCAP, KEYCAP])
        return [Piece("".join(d + variant for d in digits), "digit")], ""
    if style == "fullwidth":
        return [Piece("".join(chr(0xFF10 + int(d)) for d in digits), "digit")], ""
    if style == "unicode":
        zero = rng.choice(UNICODE_ZEROS)
        return [Piece("".join(chr(zero + int(d)) for d in digits), "digit")], ""
    if style == "half_words":
        rest = [Piece(digits[2:], "digit")] if len(digits) > 2 else []
        if len(digits) >= 2 and rng.random() < 0.5:
            return [Piece(digits[0], "digit"), *word_pieces(digits[1:2], rng), *rest], ""
        return [*word_pieces(digits[:2], rng), *rest], " "
    raise ValueError(style)


STYLES = (
    "digits",
    "one_by_one",
    "letters",
    "words",
    "keycaps",
    "fullwidth",
    "unicode",
    "half_words",
)
SEPARATORS = (" ", ".", "-", "/", " - ", " / ", "", "  ", "_", "*", " • ", " ❤️ ", "\u200b")
STRONG_SEPARATORS = (" / ", ".", " . ", "/", "*", " | ")


def join(pieces: Sequence[Piece], seps: Sequence[str]) -> str:
    """Pieces joined by ``seps``, changed where a reader could not tell the pieces apart:
    two letters glued together, or "trente" + "quatre" (34, not 30 then 4)."""
    out = [pieces[0].text]
    for before, after, sep in zip(pieces, pieces[1:], seps, strict=False):
        if not sep and before.text[-1:].isalpha() and after.text[:1].isalpha():
            sep = " "
        compound = (
            before.kind == "word"
            and after.kind == "word"
            and (
                (before.value % 10 == 0 and not before.single and before.value > 0)
                or (before.single and before.value == 4)
            )
        )
        if compound and not sep.strip(" -"):
            sep = STRONG_SEPARATORS[len(out) % len(STRONG_SEPARATORS)]
        out += [sep, after.text]
    return "".join(out)


def split_groups(number: Number) -> list[str]:
    groups, start = [], 0
    for size in number.groups:
        groups.append(number.national[start : start + size])
        start += size
    return groups


def obfuscate(number: Number, rng: random.Random, mode: str) -> str:
    """One written form of ``number``. ``mode``: "plain", a style name, or "mixed"."""
    groups = split_groups(number)
    national = number.region in NATIONAL_FORMAT and rng.random() < 0.75
    if national:
        # "0" + first group: "06", "0692"...
        groups = ["0" + groups[0], *groups[1:]]
        prefix = ""
    else:
        prefix = rng.choice(["+", "+", "00", "+ "]) + str(number.country)
        if number.country == 33 and rng.random() < 0.2:
            prefix += rng.choice([" (0)", " 0"])
        prefix += rng.choice([" ", " ", ".", "-", ""])
    if mode == "plain":
        styles = ["digits"] * len(groups)
        seps = [rng.choice([" ", ".", "-", ""])] * (len(groups) - 1)
    elif mode == "mixed":
        styles = [rng.choice(STYLES) for _ in groups]
        seps = [rng.choice(SEPARATORS) for _ in groups[1:]]
    else:
        styles = [mode] * len(groups)
        seps = [rng.choice(SEPARATORS)] * (len(groups) - 1)
    pieces: list[Piece] = []
    joints: list[str] = []
    for index, (group, style) in enumerate(zip(groups, styles, strict=True)):
        group_pieces, inner = render_group(group, style, rng)
        if index:
            joints.append(seps[index - 1])
        joints += [inner] * (len(group_pieces) - 1)
        pieces += group_pieces
    return prefix + join(pieces, joints)


# --- sentences ---------------------------------------------------------------------------

NAMES = ("Lina", "Maëva", "Sofia", "Jade", "Inès", "Chloé", "Nora", "Clara", "Yasmine", "Léa")
PLACES = (
    ("Paris", "75017"),
    ("Lyon", "69003"),
    ("Marseille", "13008"),
    ("Nice", "06000"),
    ("Bordeaux", "33000"),
    ("Lille", "59000"),
    ("Saint-Denis", "97400"),
    ("Pointe-à-Pitre", "97110"),
    ("Toulouse", "31000"),
    ("Nantes", "44000"),
)
TEMPLATES = (
    "{phone}",
    "Tel : {phone}",
    "{name}, {age} ans, nouvelle à {city} ({postcode}). {price}€ la demi-heure. "
    "Contact : {phone}. Disponible de {h1}h à {h2}h.",
    "Bonjour, je suis {name}, {age} ans. Mon numéro : {phone} ; tarif {price}€/1h, {price2}/30min.",
    "{city} {postcode} — appelez le {phone} — {age} ans, discrétion assurée.",
    "Nouvelle sur {city}, {name} {age} ans. Appel au {phone} de {h1}h30 à {h2}h.",
    "{name} ({age} ans) reçoit à {city} {postcode}. {price} roses. Numéro {phone}, pas de SMS.",
    "{phone} - {age} ans - {city}",
    "Pour me joindre {phone}, {price}€ la demi-heure, le {day}/{month}/2024.",
    # Distractors against the number, with nothing but a space between them.
    "{city} {postcode} {phone} 7j/7",
    "Dès {h1}:30 {phone} 24/7",
    "Le {day}.{month}.2024 {phone} {price} roses",
)


@dataclass
class Case:
    text: str
    expected: str
    mode: str
    region: str


def sentence(rng: random.Random, phone: str) -> str:
    city, postcode = rng.choice(PLACES)
    return rng.choice(TEMPLATES).format(
        phone=phone,
        name=rng.choice(NAMES),
        age=rng.randint(19, 45),
        city=city,
        postcode=postcode,
        price=rng.choice((80, 100, 120, 150, 200, 250)),
        price2=rng.choice((60, 80, 100)),
        h1=rng.randint(9, 14),
        h2=rng.randint(18, 23),
        day=f"{rng.randint(1, 28):02d}",
        month=f"{rng.randint(1, 12):02d}",
    )


MODES = ("plain", *STYLES, "mixed", "mixed", "mixed")


def build_cases(count: int = 400, seed: int = 20240611) -> list[Case]:
    """``count`` deterministic cases, cycling through numbers and obfuscation modes."""
    rng = random.Random(seed)
    per_plan = max(1, -(-count // (len(NUMBER_PLANS) * 4)))
    numbers = synthetic_numbers(rng, per_plan)
    rng.shuffle(numbers)
    cases = []
    for index in range(count):
        number = numbers[index % len(numbers)]
        mode = MODES[index % len(MODES)]
        phone = obfuscate(number, rng, mode)
        cases.append(Case(sentence(rng, phone), number.e164, mode, number.region))
    return cases


# --- measuring ---------------------------------------------------------------------------


@dataclass
class Report:
    variants: int = 0
    found: int = 0
    wrong: list[tuple[str, str, str]] = field(default_factory=list)  # text, expected, got
    invalid: list[tuple[str, str]] = field(default_factory=list)  # text, got
    missed: list[Case] = field(default_factory=list)
    missed_by_mode: Counter[str] = field(default_factory=Counter)
    missed_by_region: Counter[str] = field(default_factory=Counter)
    us_per_call: float = 0.0

    @property
    def recall(self) -> float:
        return self.found / self.variants if self.variants else 0.0


def is_valid(value: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(value))
    except phonenumbers.NumberParseException:
        return False


def evaluate(
    cases: Sequence[Case], finder: Callable[[str], list[Found]] = find_phones, rounds: int = 5
) -> Report:
    report = Report(variants=len(cases))
    for case in cases:
        values = [found.value for found in finder(case.text)]
        if case.expected in values:
            report.found += 1
        else:
            report.missed.append(case)
            report.missed_by_mode[case.mode] += 1
            report.missed_by_region[case.region] += 1
        for value in values:
            if value != case.expected:
                report.wrong.append((case.text, case.expected, value))
            if not is_valid(value):
                report.invalid.append((case.text, value))
    # Time per call: the best of a few rounds over the whole set, caches warm (the first
    # pass above filled them), so that other work on the machine weighs less.
    texts = [case.text for case in cases]
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for text in texts:
            finder(text)
        best = min(best, time.perf_counter() - started)
    report.us_per_call = best / len(texts) * 1e6 if texts else 0.0
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=400)
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--show", type=int, default=10, help="misses and errors to print")
    args = parser.parse_args(argv)
    cases = build_cases(args.variants, args.seed)
    report = evaluate(cases)
    print(f"variants         {report.variants}")
    print(f"recall           {report.recall:.4f} ({report.found}/{report.variants})")
    print(f"wrong numbers    {len(report.wrong)}")
    print(f"invalid numbers  {len(report.invalid)}")
    print(f"µs per call      {report.us_per_call:.1f} (best of 5 rounds, warm caches)")
    if report.missed:
        for label, counts in (("mode", report.missed_by_mode), ("region", report.missed_by_region)):
            print(f"missed by {label:7s}" + ", ".join(f"{k}={n}" for k, n in counts.most_common()))
    for case in report.missed[: args.show]:
        print(f"  missed {case.expected} ({case.mode}): {case.text!r}")
    for text, expected, got in report.wrong[: args.show]:
        print(f"  wrong {got} (planted {expected}): {text!r}")
    for text, got in report.invalid[: args.show]:
        print(f"  invalid {got}: {text!r}")
    ok = report.recall >= 0.98 and not report.wrong and not report.invalid
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
