"""The password policy, applied wherever a password is set (``faisceau users add`` and
``users password``, the administration's creation and reset, a user's own change).

Length alone let ``aaaaaaaaaaaa``, ``123456789012``, ``password1234`` or twelve spaces
through. A password must now also resist guessing as zxcvbn estimates it (Dropbox's
estimator: repeats, sequences, keyboard patterns, dates, l33t and the most common passwords of
public breaches, English words and names), with French words and this service's vocabulary
added (``common_passwords.toml``), the account's login and name counted as known to an
attacker, and never the login itself inside. Limits in ``accounts.toml``; refusals in
French, saying why.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from zxcvbn import zxcvbn
from zxcvbn.matching import add_frequency_lists

# zxcvbn refuses longer input (its matching is quadratic): a longer password is judged by
# its first characters, which is a lower bound on the whole.
ZXCVBN_MAX = 72
WORDS = re.compile(r"[^\W_]+")
ADVICE = "choisissez par exemple quatre mots sans rapport entre eux, séparés par des tirets"
# What made a password guessable, by zxcvbn's kind of match (dictionary: by list).
CAUSES = {
    "repeat": "des caractères répétés (« aaaa », « abcabc »)",
    "sequence": "une suite de caractères (« abcd », « 1234 »)",
    "spatial": "une suite de touches du clavier",
    "date": "une date",
    "regex": "une année",
    "passwords": "un mot de passe parmi les plus courants",
    "french": "un mot de passe ou un mot courant en français",
    "user_inputs": "l'identifiant, le nom ou le nom du service",
    "dictionary": "un mot du dictionnaire ou un prénom à peine modifié",
    "bruteforce": "trop peu de caractères différents",
}


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int
    max_length: int
    min_score: int


@cache
def _limits() -> dict[str, Any]:
    text = (resources.files(__package__) / "accounts.toml").read_text("utf-8")
    return tomllib.loads(text)


def limits(section: str) -> dict[str, Any]:
    """One section of ``accounts.toml`` (password, login, device, session)."""
    return dict(_limits()[section])


@cache
def policy() -> PasswordPolicy:
    raw = limits("password")
    return PasswordPolicy(int(raw["min_length"]), int(raw["max_length"]),
                          int(raw["min_score"]))


@cache
def _french_words() -> None:
    """Add the French list to zxcvbn's dictionaries (once per process: zxcvbn keeps them in
    a module-level table)."""
    text = (resources.files(__package__) / "common_passwords.toml").read_text("utf-8")
    add_frequency_lists({"french": tomllib.loads(text)["french"]["words"]})


def _known_words(login: str, name: str) -> list[str]:
    """What an attacker knows of the account: its login and name, whole and in parts."""
    words = [w for text in (login, name) for w in [text, *WORDS.findall(text)]]
    return [w.casefold() for w in words if len(w) >= 3]


def _cause(sequence: Sequence[Mapping[str, object]]) -> str:
    """The longest weak part of the password, in French."""
    matches = [m for m in sequence if m["pattern"] != "bruteforce"] or list(sequence)
    worst = max(matches, key=lambda m: len(str(m["token"])))
    kind = str(worst["pattern"])
    if kind == "dictionary":
        kind = str(worst.get("dictionary_name", "dictionary"))
    return CAUSES.get(kind, CAUSES["dictionary"])


def weakness(password: str, *, login: str = "", name: str = "") -> str | None:
    """Why the password is refused (French, for the user), or None if it is good enough."""
    rules = policy()
    if len(password) < rules.min_length:
        return f"mot de passe trop court (au moins {rules.min_length} caractères)"
    if len(password) > rules.max_length:
        return f"mot de passe trop long (au plus {rules.max_length} caractères)"
    if not password.strip():
        return "mot de passe fait uniquement d'espaces"
    folded = password.casefold()
    if len(login) >= 3 and login.casefold() in folded:
        return "le mot de passe ne doit pas contenir l'identifiant"
    if any(part.casefold() in folded for part in WORDS.findall(name) if len(part) >= 4):
        return "le mot de passe ne doit pas contenir le nom du titulaire du compte"
    _french_words()
    result = zxcvbn(password[:ZXCVBN_MAX], user_inputs=_known_words(login, name))
    if int(result["score"]) < rules.min_score:
        cause = _cause(result["sequence"])
        return f"mot de passe trop facile à deviner : il repose sur {cause} ; {ADVICE}"
    return None
