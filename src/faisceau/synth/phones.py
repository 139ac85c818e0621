"""Synthetic phone numbers and the ways ads write them to dodge filters."""

from __future__ import annotations

import random

import phonenumbers

DIGIT_WORDS = ["zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"]
PAIR_WORDS = {
    10: "dix", 11: "onze", 12: "douze", 13: "treize", 14: "quatorze", 15: "quinze", 16: "seize",
    20: "vingt", 30: "trente", 40: "quarante", 50: "cinquante", 60: "soixante",
}
KEYCAPS = [f"{d}\ufe0f\u20e3" for d in "0123456789"]
STYLES = ("spaced", "plain", "dotted", "dashed", "international", "digits_apart", "letters",
          "words", "pairs_in_words", "keycaps", "fullwidth", "mixed")


def pair_in_words(n: int) -> str:
    """French words for 0..99 as ads spell them in pairs ("soixante-dix-huit")."""
    if n < 10:
        return f"zéro {DIGIT_WORDS[n]}" if n else "zéro zéro"
    if n in PAIR_WORDS:
        return PAIR_WORDS[n]
    if n < 20:
        return f"dix-{DIGIT_WORDS[n - 10]}"
    if n < 70:
        tens, unit = divmod(n, 10)
        return f"{PAIR_WORDS[tens * 10]}-et-un" if unit == 1 else \
            f"{PAIR_WORDS[tens * 10]}-{DIGIT_WORDS[unit]}"
    if n < 80:
        rest = n - 60
        return "soixante-et-onze" if rest == 11 else f"soixante-{pair_in_words(rest)}"
    rest = n - 80
    if rest == 0:
        return "quatre-vingts"
    return f"quatre-vingt-{pair_in_words(rest) if rest >= 10 else DIGIT_WORDS[rest]}"


def french_mobile(rng: random.Random) -> str:
    """A national-format French mobile (10 digits), synthetic but valid in form: drawn again
    until phonenumbers accepts it, so every planted number is one a parser must find."""
    while True:
        number = rng.choice(("06", "07")) + f"{rng.randrange(10**8):08d}"
        if phonenumbers.is_valid_number(phonenumbers.parse(number, "FR")):
            return number


def render(national: str, style: str, rng: random.Random) -> str:
    """Write a 10-digit national number in one of the styles ads use."""
    pairs = [national[i:i + 2] for i in range(0, len(national), 2)]
    if style == "plain":
        return national
    if style == "spaced":
        return " ".join(pairs)
    if style == "dotted":
        return ".".join(pairs)
    if style == "dashed":
        return "-".join(pairs)
    if style == "international":
        return "+33 " + national[1] + " " + " ".join(pairs[1:])
    if style == "digits_apart":
        return " ".join(national)
    if style == "letters":
        swapped = national.replace("0", "O").replace("1", "l")
        return " ".join(swapped[i:i + 2] for i in range(0, len(swapped), 2))
    if style == "words":
        return " ".join(DIGIT_WORDS[int(d)] for d in national)
    if style == "pairs_in_words":
        return "zéro " + DIGIT_WORDS[int(national[1])] + " " + " ".join(
            pair_in_words(int(p)) for p in pairs[1:])
    if style == "keycaps":
        return "".join(KEYCAPS[int(d)] for d in national)
    if style == "fullwidth":
        return " ".join("".join(chr(0xFF10 + int(d)) for d in p) for p in pairs)
    # mixed: each pair in a style of its own
    parts = []
    for p in pairs:
        kind = rng.randrange(4)
        if kind == 0:
            parts.append(p)
        elif kind == 1:
            parts.append(pair_in_words(int(p)) if p[0] != "0" else p)
        elif kind == 2:
            parts.append(p.replace("0", "O").replace("1", "l"))
        else:
            parts.append("".join(KEYCAPS[int(d)] for d in p))
    return " ".join(parts)
