"""Invented identifiers for the world behind the ads: names, e-mail addresses, street
addresses, vehicle plates, IBANs (with valid check digits), SIREN numbers.

Everything is drawn from the lexicon ``data/identities.json`` with the caller's random
generator, so the same generator gives the same identities. Nothing here names a real person,
account or company: bank codes are invented (``999xx``), SIREN numbers start with ``000``
(never allocated), names are common given names and surnames combined at random.
"""

from __future__ import annotations

import random
import string
from functools import cache
from importlib import resources
from typing import Any

import orjson

# Letters of the French registration system (SIV): no I, O or U.
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTVWXYZ"
# Countries whose accounts are IBANs here; others are reached by money-transfer services.
IBAN_COUNTRIES = frozenset({"FR", "RO", "BG", "BR", "DO", "ES", "BE", "DE"})
_ALNUM = string.digits + string.ascii_uppercase


@cache
def lexicon() -> dict[str, Any]:
    """The identities lexicon, read once."""
    path = resources.files("faisceau.synth") / "data" / "identities.json"
    return dict(orjson.loads(path.read_bytes()))


def name_group(country: str | None) -> str:
    return str(lexicon()["country_group"].get(country or "", "other"))


def given_name(rng: random.Random, country: str | None, female: bool) -> str:
    group = lexicon()["name_groups"][name_group(country)]
    return str(rng.choice(group["female" if female else "male"]))


def surname(rng: random.Random, country: str | None) -> str:
    return str(rng.choice(lexicon()["name_groups"][name_group(country)]["surnames"]))


def email(rng: random.Random, first: str, last: str) -> str:
    """An address at a reserved ``.example`` domain, in one of the usual shapes."""
    def clean(text: str) -> str:
        table = str.maketrans("àâäéèêëîïôöùûüçñíóúãõăâșțşţ", "aaaeeeeiioouuucnioaoaaastst")
        return "".join(ch for ch in text.lower().translate(table) if ch.isalnum())

    f, s = clean(first) or "contact", clean(last) or "mail"
    shape = rng.randrange(4)
    if shape == 0:
        local = f"{f}.{s}"
    elif shape == 1:
        local = f"{f}{s}{rng.randrange(1, 99)}"
    elif shape == 2:
        local = f"{f[0]}{s}{rng.randrange(1980, 2010)}"
    else:
        local = f"{f}_{rng.randrange(100, 9999)}"
    return f"{local}@{rng.choice(lexicon()['email_domains'])}"


def street(rng: random.Random) -> str:
    lex = lexicon()
    kind, name = rng.choice(lex["street_types"]), rng.choice(lex["street_names"])
    return f"{rng.randint(1, 120)} {kind} {name}"


# -- vehicles -------------------------------------------------------------------------------

def plate_fr(rng: random.Random) -> str:
    """A plate in the SIV format AA-123-AA (no I, O, U; not the reserved SS and WW series)."""
    while True:
        head = "".join(rng.choice(PLATE_LETTERS) for _ in range(2))
        if head not in ("SS", "WW"):
            break
    tail = "".join(rng.choice(PLATE_LETTERS) for _ in range(2))
    return f"{head}-{rng.randint(1, 999):03d}-{tail}"


def plate(rng: random.Random, country: str) -> str:
    """A plate as the country writes it (French SIV for France and unknown countries)."""
    letters = string.ascii_uppercase
    if country == "RO":
        county = rng.choice(["B", "CJ", "IS", "TM", "CT", "BV"])
        digits = rng.randint(10, 99) if county != "B" else rng.randint(100, 999)
        return f"{county} {digits} {''.join(rng.choice(letters) for _ in range(3))}"
    if country == "BG":
        cyr_latin = "ABEKMHOPCTYX"
        return (f"{rng.choice(['CA', 'CB', 'PB', 'B', 'A'])} {rng.randint(1000, 9999)} "
                f"{''.join(rng.choice(cyr_latin) for _ in range(2))}")
    if country == "ES":
        consonants = "BCDFGHJKLMNPRSTVWXYZ"
        return f"{rng.randint(0, 9999):04d} {''.join(rng.choice(consonants) for _ in range(3))}"
    if country == "BE":
        return (f"{rng.randint(1, 2)}-{''.join(rng.choice(letters) for _ in range(3))}-"
                f"{rng.randint(1, 999):03d}")
    if country == "DE":
        district = rng.choice(["M", "K", "F", "S"])
        return f"{district}-{''.join(rng.choice(letters) for _ in range(2))} {rng.randint(1, 9999)}"
    return plate_fr(rng)


# -- bank accounts --------------------------------------------------------------------------

def _to_digits(text: str) -> str:
    return "".join(str(_ALNUM.index(ch)) for ch in text.upper())


def iban_check(country: str, bban: str) -> str:
    """The two ISO 13616 check digits of ``country`` + ``bban``."""
    remainder = int(_to_digits(bban + country + "00")) % 97
    return f"{98 - remainder:02d}"


def iban_valid(iban: str) -> bool:
    """ISO 13616 mod-97 check (format only: not whether the account exists)."""
    text = iban.replace(" ", "").upper()
    if len(text) < 15 or not text[:2].isalpha() or not text[2:4].isdigit():
        return False
    if any(ch not in _ALNUM for ch in text):
        return False
    return int(_to_digits(text[4:] + text[:4])) % 97 == 1


def rib_key(bank: str, branch: str, account: str) -> str:
    """The French RIB key (clé RIB) of a bank code, branch code and account number."""
    letters = {ch: str(v) for ch, v in zip(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "12345678912345678923456789", strict=True)}
    digits = "".join(letters.get(ch, ch) for ch in account.upper())
    return f"{97 - (89 * int(bank) + 15 * int(branch) + 3 * int(digits)) % 97:02d}"


def _es_check(digits: str) -> str:
    weights = (1, 2, 4, 8, 5, 10, 9, 7, 3, 6)
    value = 11 - sum(w * int(d) for w, d in zip(weights, digits.zfill(10), strict=True)) % 11
    return str({11: 0, 10: 1}.get(value, value))


def _digits(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(n))


def bban(rng: random.Random, country: str, bank_code: str) -> str:
    """A basic bank account number in the country's IBAN layout, national checks included."""
    if country == "FR":
        branch, account = _digits(rng, 5), _digits(rng, 11)
        return bank_code + branch + account + rib_key(bank_code, branch, account)
    if country == "RO":
        return bank_code + _digits(rng, 16)
    if country == "BG":
        return bank_code + _digits(rng, 4) + rng.choice(["10", "15", "20"]) + _digits(rng, 8)
    if country == "BR":
        return bank_code + _digits(rng, 5) + _digits(rng, 10) + "C1"
    if country == "DO":
        return bank_code + _digits(rng, 20)
    if country == "ES":
        branch, account = _digits(rng, 4), _digits(rng, 10)
        return (bank_code + branch + _es_check("00" + bank_code + branch) + _es_check(account)
                + account)
    if country == "BE":
        head = bank_code + _digits(rng, 7)
        check = int(head) % 97 or 97
        return f"{head}{check:02d}"
    if country == "DE":
        return bank_code + _digits(rng, 10)
    raise ValueError(f"no IBAN layout for {country}")


def iban(rng: random.Random, country: str, bank_code: str) -> str:
    """A synthetic IBAN whose check digits (and national key, where there is one) are valid."""
    body = bban(rng, country, bank_code)
    return country + iban_check(country, body) + body


# -- companies ------------------------------------------------------------------------------

def luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def siren(rng: random.Random) -> str:
    """A nine-digit SIREN with a valid Luhn key, in the never-allocated ``000`` series."""
    body = "000" + _digits(rng, 5)
    for last in "0123456789":
        if luhn_ok(body + last):
            return body + last
    raise AssertionError("unreachable: one Luhn digit always fits")
