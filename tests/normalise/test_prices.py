"""Rates: amounts paired with durations."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from faisceau.normalise import prices
from faisceau.normalise.prices import find_prices


def values(text: str) -> list[str]:
    return [f.value for f in find_prices(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("150/1h 100/30min", ["150 EUR/60 min", "100 EUR/30 min"]),
        ("150€ l'heure", ["150 EUR/60 min"]),
        ("150 € de l’heure", ["150 EUR/60 min"]),
        ("100 roses la demi-heure", ["100 EUR/30 min"]),
        ("1h 200", ["200 EUR/60 min"]),
        ("30mn 80e", ["80 EUR/30 min"]),
        ("nuit 800", ["800 EUR/720 min"]),
        ("la nuit : 1 000 €", ["1000 EUR/720 min"]),
        ("0.5h 100", ["100 EUR/30 min"]),
        ("1,5h 200", ["200 EUR/90 min"]),
        ("1h30 250", ["250 EUR/90 min"]),
        ("200 euros/h", ["200 EUR/60 min"]),
        ("200€", ["200 EUR"]),
        ("€150 / 1h", ["150 EUR/60 min"]),
        ("½h 80", ["80 EUR/30 min"]),
        ("2 heures 300 roses", ["300 EUR/120 min"]),
        ("99,50 € la demi heure", ["99.5 EUR/30 min"]),
        ("1 heure : 150 euros", ["150 EUR/60 min"]),
        ("150 EUR per hour", ["150 EUR/60 min"]),
        ("$200/hr", ["200 USD/60 min"]),
        ("nuit complète 1000€", ["1000 EUR/720 min"]),
        (
            "30min: 80€ / 1h: 150€ / nuit 800€",
            ["80 EUR/30 min", "150 EUR/60 min", "800 EUR/720 min"],
        ),
        (
            "Tarifs : 30 min 100 / 1h 180 / 2h 300",
            ["100 EUR/30 min", "180 EUR/60 min", "300 EUR/120 min"],
        ),
        ("150€, 1h 200€", ["150 EUR", "200 EUR/60 min"]),
        ("dispo à 11h, 150€", ["150 EUR"]),
        ("Paris 15e, 1h 150", ["150 EUR/60 min"]),
        ("j'ai 20 ans, 1h 200", ["200 EUR/60 min"]),
        ("06 12 34 56 78 1h 200", ["200 EUR/60 min"]),
        ("1h 30€", ["30 EUR/60 min"]),
        ("1h30 1000 15 min: 21€", ["1000 EUR/90 min", "21 EUR/15 min"]),
        (
            "Tarifs: 150/1h 100/30min, nuit 800.",
            ["150 EUR/60 min", "100 EUR/30 min", "800 EUR/720 min"],
        ),
        (
            "Nouvelle à Lyon, 23 ans. Dispo de 10h à 22h, 7j/7. 1h 150 roses, 30 min 100. "
            "Tel 06 12 34 56 78.",
            ["150 EUR/60 min", "100 EUR/30 min"],
        ),
    ],
)
def test_find_prices(text: str, expected: list[str]) -> None:
    assert values(text) == expected


def test_quarter_after_hour_is_minutes() -> None:
    assert values("1h 30 200€") == ["200 EUR/90 min"]
    assert values("1h 30€") == ["30 EUR/60 min"]
    assert values("1h 40") == ["40 EUR/60 min"]  # only quarters read as minutes when spaced


def test_detail_and_shown() -> None:
    (found,) = find_prices("Tarifs: 100 roses la demi-heure, merci")
    assert found.value == "100 EUR/30 min"
    assert found.shown == "100 roses la demi-heure"
    assert found.detail == {"amount": 100.0, "currency": "EUR", "minutes": 30}
    (alone,) = find_prices("cadeau 200€")
    assert alone.detail == {"amount": 200.0, "currency": "EUR", "minutes": None}
    assert alone.shown == "200€"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "06 12 34 56 78",
        "+33 6 12 34 56 78",
        "0612345678",
        "19 ans",
        "j'ai 22 ans",
        "1m65 55kg 95C",
        "dispo 24h/24 7j/7",
        "RDV 10h00",
        "de 10h à 22h",
        "Paris 15e arrondissement",
        "150",
        "Appelle-moi, bisous",
        "1h",
        "75012 Paris",
    ],
)
def test_not_prices(text: str) -> None:
    assert values(text) == []


# -- properties -----------------------------------------------------------------------------

DURATIONS = {
    15: ["15min", "15 min", "quart d'heure"],
    20: ["20min", "20 mn"],
    30: ["30min", "30 min", "30mn", "0.5h", "0,5h", "demi-heure", "1/2h", "½h"],
    45: ["45min", "45 minutes"],
    60: ["1h", "1 h", "60min", "1 heure", "l'heure"],
    90: ["1h30", "1h30min", "90 min", "1.5h"],
    120: ["2h", "2 heures", "120 min"],
    180: ["3h", "3 hours"],
    720: ["nuit", "night", "la nuit"],
}
AMOUNT_FIRST = [
    "{a}/{d}",
    "{a}€/{d}",
    "{a} € {d}",
    "{a} euros {d}",
    "{a} roses la {d}",
    "{a}€ pour {d}",
    "€{a} / {d}",
    "{a} EUR {d}",
]
DURATION_FIRST = [
    "{d} {a}",
    "{d}: {a}€",
    "{d} = {a} €",
    "{d} -> {a} roses",
    "{d} : {a} euros",
    "{d} {a}e",
]
duration_text = st.sampled_from(sorted(DURATIONS)).flatmap(
    lambda minutes: st.tuples(st.just(minutes), st.sampled_from(DURATIONS[minutes]))
)


# "1h 30" reads as 90 minutes (see test_quarter_after_hour_is_minutes): after an hour, a bare
# amount of 30 or 45 is ambiguous by nature, so the properties leave those two out.
amount = st.integers(21, 5000).filter(lambda a: a not in (30, 45))


def _render(template: str, amount: int, duration: str) -> str:
    # "la" before a duration that already has its article would read "la la nuit".
    if duration.startswith(("la ", "l'")):
        template = template.replace(" la {d}", " {d}")
    return template.format(a=amount, d=duration)


@given(
    amount,
    duration_text,
    st.sampled_from(AMOUNT_FIRST + DURATION_FIRST),
    st.sampled_from(["", "Tarifs: ", "Bonjour, mes tarifs ", "💋 "]),
    st.sampled_from(["", ".", " merci", " (non négociable)", " 💋"]),
)
def test_any_rate_in_any_template_round_trips(
    amount: int, duration: tuple[int, str], template: str, before: str, after: str
) -> None:
    minutes, written = duration
    text = before + _render(template, amount, written) + after
    found = find_prices(text)
    assert [(f.detail or {}).get("minutes") for f in found] == [minutes], text
    assert found[0].detail == {"amount": float(amount), "currency": "EUR", "minutes": minutes}


@given(
    st.lists(st.tuples(amount, duration_text), min_size=2, max_size=4),
    st.sampled_from([AMOUNT_FIRST[:3], DURATION_FIRST[:3]]),
    st.sampled_from([" ", " / ", ", ", " | ", "\n"]),
)
def test_lists_of_rates_in_one_order_round_trip(
    rates: list[tuple[int, tuple[int, str]]], templates: list[str], separator: str
) -> None:
    text = separator.join(
        _render(templates[i % len(templates)], amount, written)
        for i, (amount, (_, written)) in enumerate(rates)
    )
    expected = [(float(amount), minutes) for amount, (minutes, _) in rates]
    found = [((f.detail or {})["amount"], (f.detail or {})["minutes"]) for f in find_prices(text)]
    assert found == expected, text


@given(st.integers(10, 20000), st.sampled_from(["{}€", "{} €", "{} euros", "€{}", "{} roses"]))
def test_any_amount_with_a_currency_is_a_price(amount: int, template: str) -> None:
    (found,) = find_prices("cadeau " + template.format(amount))
    assert found.detail == {"amount": float(amount), "currency": "EUR", "minutes": None}


@given(st.integers(14, 99), st.sampled_from(["{} ans", "j'ai {} ans", "{}yo", "{} years old"]))
def test_ages_are_not_prices(age: int, template: str) -> None:
    assert values(template.format(age)) == []


@given(st.from_regex(r"0[67]( ?\d\d){4}", fullmatch=True))
def test_phone_numbers_are_not_prices(phone: str) -> None:
    assert values(f"Appelez le {phone} merci") == []


@given(st.text(max_size=300))
def test_never_raises_on_arbitrary_text(text: str) -> None:
    for found in find_prices(text):
        assert found.detail is not None and found.detail["amount"] > 0
        assert found.shown in text


# --- the pre-check: a text it turns away holds no rate ------------------------------------

FRAGMENTS = [
    "1", "2", "5", "10", "12", "13", "20", "24", "25", "30", "45", "80", "100", "150", "1 000",
    "0.5", "1,5", "9,50", "½", "1/2", "/", " ", "  ", "-", ":", ".", ",", "'", "’", "€", "$",
    "£", "h", "H", "min", "MN", "mn", "e", "E", "eur", "euros", "roses", "ans", "kg", "heure",
    "heures", "l'heure", "la", "demi", "nuit", "NUIT", "night", "hora", "ora", "stunde", "x",
    "pour", "de", "à", "dès", "vers", "rue", "\n", "tel", "06 12 34 56 78", "jour", "1h30",
    "24h/24", "30'", "2h", "lei", "chf", "usd", "İ",
]


@given(st.lists(st.sampled_from(FRAGMENTS), max_size=10).map("".join))
def test_text_turned_away_holds_no_rate(text: str) -> None:
    rules = prices._rules()
    if not prices._may_hold_rate(text, rules):
        assert prices._read_rates(text, rules) == []


@given(st.text(max_size=60))
def test_any_text_turned_away_holds_no_rate(text: str) -> None:
    rules = prices._rules()
    if not prices._may_hold_rate(text, rules):
        assert prices._read_rates(text, rules) == []


@pytest.mark.parametrize("text", ["Lola, 24 ans, dispo 24h/24 au 06 12 34 56 78",
                                  "Marseille 6e, jolie brune", "1m65, 55 kg, 90C"])
def test_pre_check_turns_away_ordinary_ad_text(text: str) -> None:
    assert not prices._may_hold_rate(text, prices._rules())
