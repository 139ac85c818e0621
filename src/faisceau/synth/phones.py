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


PLAIN_STYLES = ("spaced", "plain", "dotted", "international")
OBFUSCATED_STYLES = ("dashed", "digits_apart", "letters", "words", "pairs_in_words", "keycaps",
                     "fullwidth", "mixed")


def to_e164(national: str) -> str:
    """A French national number (0XXXXXXXXX) in E.164."""
    return "+33" + national[1:]


def foreign_mobile(rng: random.Random, prefix: str) -> str:
    """A valid-in-form mobile under an international ``prefix`` such as ``+40 7``, in E.164."""
    head = prefix.replace(" ", "")
    country = phonenumbers.parse(head + "0" * 8, None).country_code
    assert country is not None, f"no country code in {prefix}"
    region = phonenumbers.region_code_for_country_code(country)
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assert example is not None, f"no example mobile for {region}"
    length = len(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164))
    for _ in range(200):
        digits = "".join(str(rng.randrange(10)) for _ in range(length - len(head)))
        candidate = head + digits
        if phonenumbers.is_valid_number(phonenumbers.parse(candidate, None)):
            return candidate
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)


def national_or_international(e164: str) -> str | None:
    """The French national form of a +33 number, None for a foreign one."""
    return "0" + e164[3:] if e164.startswith("+33") else None


def render_any(e164: str, national: str | None, style: str, rng: random.Random) -> str:
    """Write any number: French ones in every style, foreign ones as ads do (with prefix)."""
    if national is not None:
        return render(national, style, rng)
    number = phonenumbers.parse(e164, None)
    spaced = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    if style in ("plain",):
        return e164
    if style == "keycaps":
        return "+" + "".join(KEYCAPS[int(d)] for d in e164[1:])
    if style == "digits_apart":
        return "+ " + " ".join(e164[1:])
    if style == "dotted":
        return spaced.replace(" ", ".")
    if style in ("dashed", "mixed", "letters", "words", "pairs_in_words", "fullwidth"):
        return "00" + spaced[1:].replace(" ", "-")
    return spaced
