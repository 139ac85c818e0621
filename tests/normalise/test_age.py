"""Stated ages, from the age field and from free text."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from faisceau.normalise.age import MAX_AGE, MIN_AGE, find_ages, parse_age


def ages(text: str) -> list[str]:
    return [f.value for f in find_ages(text)]


@pytest.mark.parametrize(
    ("value", "age"),
    [
        ("19", 19),
        (19, 19),
        ("19 ans", 19),
        ("19ans", 19),
        ("19yo", 19),
        ("19 y.o.", 19),
        ("19 years", 19),
        ("19 years old", 19),
        ("19a", 19),
        ("19 A", 19),
        (" 20 Ans. ", 20),
        ("dix-neuf ans", 19),
        ("Dix neuf", 19),
        ("vingt et un ans", 21),
        ("vingt-et-un", 21),
        ("quatre-vingt-dix-neuf ans", 99),
        ("soixante-douze", 72),
        ("septante-cinq ans", 75),
        ("twenty-two", 22),
        ("veintidós años", 22),
        ("dezanove anos", 19),
        ("douăzeci și unu de ani", 21),
        ("diciannove anni", 19),
        ("Âge : 24", 24),
        ("env. 25", 25),
        ("18+", 18),
        ("16", 16),
        ("seize ans", 16),
        (14, 14),
        (99, 99),
    ],
)
def test_parse_age(value: str | int, age: int) -> None:
    found = parse_age(value)
    assert found is not None
    assert found.value == str(age)
    assert found.detail == {"minor": age < 18}
    assert found.shown == str(value).strip()


def test_minor_is_kept_and_flagged() -> None:
    found = parse_age("16 ans")
    assert found is not None and found.value == "16" and found.detail == {"minor": True}
    assert parse_age("17")
    adult = parse_age("18")
    assert adult is not None and adult.detail == {"minor": False}


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "abc",
        "13",
        13,
        100,
        "100",
        "5 ans",
        -19,
        True,
        False,
        "19.5",
        "moins de 18",
        "1m65",
        "06 12 34 56 78",
        "vingt mille",
        "18-25",
    ],
)
def test_parse_age_refuses(value: str | int | None) -> None:
    assert parse_age(value) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("j'ai 19 ans", ["19"]),
        ("J’ai 19 ans et je suis nouvelle", ["19"]),
        ("Coucou, 19 ans, dispo ce soir", ["19"]),
        ("belle 19yo", ["19"]),
        ("age: 19", ["19"]),
        ("Âge : 19", ["19"]),
        ("âgée de 20 ans", ["20"]),
        ("I am 21", ["21"]),
        ("I'm 21 and new here", ["21"]),
        ("tengo 20 años", ["20"]),
        ("tenho 22 anos", ["22"]),
        ("am 20 de ani", ["20"]),
        ("ho 20 anni", ["20"]),
        ("мне 20 лет", ["20"]),
        ("20岁学生", ["20"]),
        ("nouvelle, 23ans", ["23"]),
        ("j'ai vingt-deux ans", ["22"]),
        ("j'ai 16 ans", ["16"]),
        ("Lola 19 ans, sa copine 22 ans", ["19", "22"]),
    ],
)
def test_find_ages(text: str, expected: list[str]) -> None:
    assert ages(text) == expected


def test_find_ages_shows_what_was_read() -> None:
    (found,) = find_ages("Bonjour, j'ai 19 ans et je suis étudiante")
    assert found.shown == "19 ans"
    assert found.detail == {"minor": False}
    (found,) = find_ages("Hello, I am 21!")
    assert found.shown == "I am 21"


@pytest.mark.parametrize(
    "text",
    [
        "interdit aux moins de 18 ans",
        "réservé aux plus de 18 ans",
        "+ de 18 ans uniquement",
        "depuis 10 ans dans le métier",
        "20 ans d'expérience",
        "il y a 20 ans",
        "20 years ago",
        "pour les 18-25 ans",
        "entre 18 et 25 ans",
        "150€ 1h, 06 12 34 56 78",
        "I am 25 min away",
        "I am 100% real",
        "1h30 200 roses, RDV à 19h",
        "taille 1m65, 55kg, 95C",
        "dispo 24h/24 7j/7",
        "j'ai 20 euros",
        "must be over 21 years",
        "",
    ],
)
def test_find_ages_refuses(text: str) -> None:
    assert ages(text) == []


def test_word_lexicon_covers_every_age_once_per_language() -> None:
    data = json.loads(
        resources.files("faisceau.normalise").joinpath("data", "age.json").read_text("utf-8")
    )
    merged: dict[str, int] = {}
    for language, forms in data["words"].items():
        assert set(forms.values()) == set(range(MIN_AGE, MAX_AGE + 1)), language
        for word, age in forms.items():
            # One spelling, one age, across languages (quinze is 15 in French and Portuguese).
            assert merged.setdefault(word, age) == age, word


# -- properties -----------------------------------------------------------------------------

FIELD_TEMPLATES = [
    "{}",
    "{} ans",
    "{}ans",
    "{}yo",
    "{} y.o.",
    "{} years",
    "{} years old",
    "{}a",
    "{} años",
    "{} anos",
    "{} de ani",
    "{} anni",
    " {} ",
    "{} ANS",
    "Âge : {}",
]
TEXT_TEMPLATES = [
    "j'ai {} ans",
    "Coucou, {} ans, dispo",
    "I am {}",
    "I'm {} years old",
    "tengo {} años",
    "am {} de ani",
    "âgée de {} ans",
    "age: {}",
    "belle {}yo",
    "Nouvelle à Lyon, {} ans. Photos réelles.",
]


@given(st.integers(MIN_AGE, MAX_AGE), st.sampled_from(FIELD_TEMPLATES))
def test_any_age_in_any_field_template_round_trips(age: int, template: str) -> None:
    found = parse_age(template.format(age))
    assert found is not None and found.value == str(age)


@given(st.integers(MIN_AGE, MAX_AGE))
def test_any_age_as_int_round_trips(age: int) -> None:
    found = parse_age(age)
    assert found is not None and found.value == str(age) and found.detail == {"minor": age < 18}


@given(st.integers(MIN_AGE, MAX_AGE), st.sampled_from(TEXT_TEMPLATES))
def test_any_age_in_any_text_template_round_trips(age: int, template: str) -> None:
    assert ages(template.format(age)) == [str(age)]


@given(st.integers().filter(lambda n: not MIN_AGE <= n <= MAX_AGE))
def test_out_of_range_ages_are_refused(age: int) -> None:
    assert parse_age(age) is None
    assert parse_age(f"{age} ans") is None


@given(st.integers(MIN_AGE, MAX_AGE), st.sampled_from(["fr", "en", "es", "pt", "it", "ro"]))
def test_any_age_in_words_round_trips(age: int, language: str) -> None:
    data = json.loads(
        resources.files("faisceau.normalise").joinpath("data", "age.json").read_text("utf-8")
    )
    word = next(w for w, a in data["words"][language].items() if a == age)
    found = parse_age(word)
    assert found is not None and found.value == str(age)


@given(st.text(max_size=300))
def test_never_raises_on_arbitrary_text(text: str) -> None:
    for found in find_ages(text):
        assert MIN_AGE <= int(found.value) <= MAX_AGE
        assert found.shown in text
    result = parse_age(text)
    assert result is None or MIN_AGE <= int(result.value) <= MAX_AGE
