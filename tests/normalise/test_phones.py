"""Phone numbers read from ad fields and free text (faisceau.normalise.phones).

All numbers are fictitious: fixed prefixes such as 06 12 34 with made-up last digits.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faisceau.normalise import phones
from faisceau.normalise.model import Found
from faisceau.normalise.phones import find_phones

MOBILE = "+33612345678"


def values(text: str) -> list[str]:
    return [found.value for found in find_phones(text)]


def is_valid(value: str) -> bool:
    return phonenumbers.is_valid_number(phonenumbers.parse(value))


# --- plain numbers and prefixes ----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "06 12 34 56 78",
        "0612345678",
        "06.12.34.56.78",
        "06-12-34-56-78",
        "0612 34 56 78",
        "+33 6 12 34 56 78",
        "+33612345678",
        "+33 (0)6 12 34 56 78",
        "+33 06 12 34 56 78",
        "0033 6 12 34 56 78",
        "00 33 612 345 678",
        "33 6 12 34 56 78",
        "wa.me/33612345678",
        "tel:+33612345678",
    ],
)
def test_plain_formats_and_prefixes(text: str) -> None:
    assert values(text) == [MOBILE]


def test_field_value_is_e164_with_exact_shown_and_detail() -> None:
    found = find_phones("Tel : +33 (0)6 12 34 56 78.")
    assert found == [Found(MOBILE, "+33 (0)6 12 34 56 78", {"region": "FR", "obfuscated": False})]


def test_landline_in_free_text() -> None:
    found = find_phones("Cabinet au 01 23 45 67 89, ouvert de 9h à 18h.")
    assert [(f.value, f.shown) for f in found] == [("+33123456789", "01 23 45 67 89")]


def test_bracket_before_plus_is_part_of_shown() -> None:
    found = find_phones("Appel (+32) 470 12 34 56 svp")
    assert [(f.value, f.shown) for f in found] == [("+32470123456", "(+32) 470 12 34 56")]


# --- obfuscations ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "0 6 1 2 3 4 5 6 7 8",
        "0.6.1.2.3.4.5.6.7.8",
        "0-6-1-2-3-4-5-6-7-8",
        "06/12/34/56/78",
        "06 / 12 / 34 / 56 / 78",
        "0*6*1*2*3*4*5*6*7*8",
        "06_12_34_56_78",
        "06 • 12 • 34 • 56 • 78",
        "06 ❤️ 12 ❤️ 34 ❤️ 56 ❤️ 78",
        "06\u200b12\u200b34\u200b56\u200b78",
        "O6.l2.34.56.78",
        "o6 I2 34 56 78",
        "06 i2 34 56 78",
        "zéro six douze trente-quatre cinquante-six soixante-dix-huit",
        "zero six douze trente quatre cinquante six soixante dix huit",
        "ZÉRO SIX DOUZE TRENTE-QUATRE CINQUANTE-SIX SOIXANTE-DIX-HUIT",
        "Zéro Six Douze Trente-Quatre Cinquante-Six Soixante-Dix-Huit",
        "zéro six un deux trois quatre cinq six sept huit",
        "06 douze 34 5six 78",
        "zéro 6 12 trente-quatre 56 78",
        "0️⃣6️⃣1️⃣2️⃣3️⃣4️⃣5️⃣6️⃣7️⃣8️⃣",
        "0⃣6⃣ 1⃣2⃣ 3⃣4⃣ 5⃣6⃣ 7⃣8⃣",
        "06 1️⃣2️⃣ 34 56 78",
        "０６ １２ ３４ ５６ ７８",
        "٠٦١٢٣٤٥٦٧٨",
        "𝟎𝟔 𝟏𝟐 𝟑𝟒 𝟓𝟔 𝟕𝟖",
        "+33 six douze trente-quatre cinquante-six soixante-dix-huit",
        "+𝟑𝟑 𝟔 𝟏𝟐 𝟑𝟒 𝟓𝟔 𝟕𝟖",
    ],
)
def test_obfuscated_mobile(text: str) -> None:
    found = find_phones(f"Nouvelle en ville, appelez le {text} pour un rendez-vous.")
    assert [f.value for f in found] == [MOBILE]
    assert found[0].shown == text
    assert found[0].detail == {"region": "FR", "obfuscated": True}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "zéro six quatre-vingt-dix-neuf quatre-vingts soixante et onze vingt et un",
            "+33699807121",
        ),
        ("zéro six soixante-dix dix-sept quatre vingt un dix-neuf", "+33670178119"),
        ("zéro six nonante-neuf septante et un octante huitante-deux", "+33699718082"),
        ("zéro six dix / vingt / trente / quarante", "+33610203040"),
    ],
)
def test_french_pairs(text: str, expected: str) -> None:
    assert values(text) == [expected]


def test_text_whose_lowercase_is_longer() -> None:
    # "İ".lower() is two characters: offsets must still point into the original text.
    found = find_phones("İstanbul : zéro six 12 34 56 78, İzmir")
    assert [(f.value, f.shown) for f in found] == [(MOBILE, "zéro six 12 34 56 78")]


def test_letters_only_count_against_digits() -> None:
    # "Il" and "lo" are words here, not 11 and 10.
    assert values("Il est là : lo 06 12 34 56 78") == [MOBILE]
    # A letter glued to a word ends the run: "Tel06" still reads 06 but "Tel" is no digit.
    assert values("Tel06 12 34 56 78") == [MOBILE]


# --- overseas and foreign ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "region"),
    [
        ("0692 12 34 56", "+262692123456", "RE"),
        ("06 93 45 12 34", "+262693451234", "RE"),
        ("+262 692 12 34 56", "+262692123456", "RE"),
        ("0262 30 12 34", "+262262301234", "RE"),
        ("0690 12 34 56", "+590690123456", "GP"),
        ("0696 12 34 56", "+596696123456", "MQ"),
        ("0694 12 34 56", "+594694123456", "GF"),
        ("0639 01 23 45", "+262639012345", "YT"),
    ],
)
def test_overseas_numbers_get_their_own_region(text: str, expected: str, region: str) -> None:
    found = find_phones(f"Dispo sur l'île : {text}")
    assert [(f.value, f.detail["region"] if f.detail else None) for f in found] == [
        (expected, region)
    ]


def test_0692_is_not_a_metropolitan_number() -> None:
    assert not is_valid("+33692123456")  # why the overseas readings exist
    assert values("0692123456") == ["+262692123456"]


@pytest.mark.parametrize(
    ("text", "expected", "region"),
    [
        ("+32 470 12 34 56", "+32470123456", "BE"),
        ("0032 470 12 34 56", "+32470123456", "BE"),
        ("+41 79 123 45 67", "+41791234567", "CH"),
        ("+34 612 34 56 78", "+34612345678", "ES"),
        ("+40 712 345 678", "+40712345678", "RO"),
        ("+55 11 91234-5678", "+5511912345678", "BR"),
        ("+57 310 123 4567", "+573101234567", "CO"),
        ("+86 138 0013 8000", "+8613800138000", "CN"),
        ("+234 803 123 4567", "+2348031234567", "NG"),
        ("+39 06 1234 5678", "+390612345678", "IT"),
        ("+44 7400 123456", "+447400123456", "GB"),
        ("+ 2 1 2 6 1 2 3 4 5 6 7 8", "+212612345678", "MA"),
    ],
)
def test_foreign_numbers(text: str, expected: str, region: str) -> None:
    found = find_phones(f"Contact {text} (WhatsApp)")
    assert [(f.value, f.detail["region"] if f.detail else None) for f in found] == [
        (expected, region)
    ]


def test_variable_length_plan_does_not_swallow_an_age() -> None:
    assert values("+49 30 1234567 22 ans") == ["+49301234567"]


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        ("+49 30 1234567 10115 Berlin", "+4930123456710115"),
        ("+43 1 234567 1010 Wien", "+4312345671010"),
        ("+49 30 123 4567", "+4930123"),
    ],
)
def test_variable_length_plan_never_guesses(text: str, wrong: str) -> None:
    # Valid at several ends and nothing to choose: no number rather than a wrong one.
    assert is_valid(wrong)
    assert wrong not in values(text)


@pytest.mark.parametrize(
    "text",
    [
        "+39 06 1234 5678",  # grouped as phonenumbers formats it
        "0039 06 1234 5678",
        "+39 0 6 1 2 3 4 5 6 7 8",  # the usual length (10) for Italy
        "+39 06.12.34.56.78",
    ],
)
def test_variable_length_plan_read_when_clear(text: str) -> None:
    assert values(text) == ["+390612345678"]


def test_no_national_reading_inside_an_international_number() -> None:
    # "02 1234 5678" alone is a French landline; after "+39" it is not.
    assert "+33212345678" not in values("+39 02 1234 5678")
    assert "+33212345678" not in values("+39 02 1234 5678 0")
    assert values("+33 6 12 34 5 / 06 98 76 54 32") == ["+33698765432"]


def test_availability_after_a_number_is_not_read_as_digits() -> None:
    assert values("+39 345 123 4567 7j/7") == ["+393451234567"]


# --- several numbers, duplicates ---------------------------------------------------------


def test_two_numbers_in_one_chain_of_separators() -> None:
    assert values("06 12 34 56 78 / 07 81 23 45 67") == [MOBILE, "+33781234567"]


def test_same_number_is_returned_once_with_first_shown() -> None:
    found = find_phones("Appelez le 06.12.34.56.78 ou sur WhatsApp +33 6 12 34 56 78")
    assert [(f.value, f.shown) for f in found] == [(MOBILE, "06.12.34.56.78")]


def test_twenty_digit_run_of_two_numbers() -> None:
    assert values("06123456780781234567") == [MOBILE, "+33781234567"]


# --- what is not a phone number ----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Bonjour, nouvelle sur Lyon, douce et coquine, à très vite",
        "Léa, 22 ans, 1m65, 55kg",
        "150€/1h 100/30min 250 roses la nuit",
        "75017 Paris, 69003 Lyon, 13008 Marseille",
        "Disponible le 12/06/2024 de 14h30 à 22h",
        "Du 01/02 au 15/03, 10h-22h, 7j/7, 24h/24",
        "612345678",
        "06 12 34 56 7",
        "06123456789",
        "061234567806",
        "07 12 34 56 78",
        "vingt-deux ans, un mètre soixante-cinq",
        "aucun souci, chacun son tour",
        "+33 6 12 34 56",
        "Réf. 2024-0612-3456",
    ],
)
def test_no_phone(text: str) -> None:
    assert find_phones(text) == []


def test_distractors_around_a_number_are_not_read() -> None:
    text = (
        "Léa 22 ans, nouvelle à Paris 75017. 150€/1h 100/30min. "
        "Tel 06 12 34 56 78 - 23 ans - de 10h à 22h le 12/06/2024."
    )
    assert values(text) == [MOBILE]


@pytest.mark.parametrize(
    "text",
    [
        "le 05.02.2024 0 6 1 2 3 4 5 6 7 8",
        "2024-02-05 zéro six 12 34 56 78",
        "à 09:30 0.6 1.2 3.4 5.6 7.8",
        "06 12 34 56 78 7/7",
        "06 12 34 56 78 24/7",
    ],
)
def test_dates_times_and_opening_hours_next_to_a_number(text: str) -> None:
    assert values(text) == [MOBILE]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("06:12:34:56:78", MOBILE),
        ("06 12:34 56 78", MOBILE),
        ("0 6 . 1 2 . 7/7 . 5 6 . 7 8", "+33612775678"),
    ],
)
def test_time_shapes_inside_a_number_stay_digits(text: str, expected: str) -> None:
    assert values(text) == [expected]


def test_overlapping_readings_are_dropped_rather_than_guessed() -> None:
    # "01/02 06 12 34 56 78": 01 02 06 12 34 and 02 06 12 34 56 are valid landlines too.
    assert set(values("le 01/02 06 12 34 56 78")) <= {MOBILE}


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("06 12 34 56 78", "FR"),
        ("+33 6.12.34.56.78", "FR"),
        ("+32 470 12 34 56", "BE"),
        ("0612345678", "FR"),
        ("0692-12-34-56", "RE"),
    ],
)
def test_plain_number_is_not_marked_obfuscated(text: str, region: str) -> None:
    (found,) = find_phones(text)
    assert found.detail == {"region": region, "obfuscated": False}


# --- properties --------------------------------------------------------------------------

UNITS = ("zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf")
TEENS = ("dix", "onze", "douze", "treize", "quatorze", "quinze", "seize")
TENS = {2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante", 6: "soixante"}
DIGIT_ZEROS = (0x30, 0xFF10, 0x0660, 0x06F0, 0x0966, 0x1D7CE)
SEPARATORS = (" ", ".", "-", "/", " / ", " - ", "", "  ", "_", "*", " • ", " ❤️ ", "\u200b")


def spell(value: int) -> str:
    """French words for 0-99 ("soixante-dix-huit")."""
    if value < 10:
        return UNITS[value]
    if value < 17:
        return TEENS[value - 10]
    if value < 20:
        return f"dix-{UNITS[value - 10]}"
    tens, unit = divmod(value, 10)
    if tens in (7, 9):
        base = "soixante" if tens == 7 else "quatre-vingt"
        return f"{base}-{'et-' if value == 71 else ''}{spell(10 + unit)}"
    if tens == 8:
        return "quatre-vingts" if unit == 0 else f"quatre-vingt-{UNITS[unit]}"
    if unit == 0:
        return TENS[tens]
    return f"{TENS[tens]}-{'et-un' if unit == 1 else UNITS[unit]}"


@st.composite
def written_group(draw: st.DrawFn, digits: str) -> list[tuple[str, str, int]]:
    """One digit group written some way: a list of (text, kind, word value) pieces."""
    style = draw(
        st.sampled_from(["digits", "one_by_one", "letters", "words", "keycaps", "unicode"])
    )
    if style == "digits":
        return [(digits, "digit", -1)]
    if style == "one_by_one":
        return [(d, "digit", -1) for d in digits]
    if style == "letters":
        chars = list(digits)
        # Letters stand for digits only against a real digit: keep the other one.
        index = draw(st.sampled_from([i for i, c in enumerate(chars) if c in "01"] or [-1]))
        if index >= 0:
            chars[index] = draw(st.sampled_from("Oo" if chars[index] == "0" else "lIi"))
        return [("".join(chars), "letter" if index >= 0 else "digit", -1)]
    if style == "keycaps":
        tail = draw(st.sampled_from(["\ufe0f\u20e3", "\u20e3"]))
        return [("".join(d + tail for d in digits), "digit", -1)]
    if style == "unicode":
        zero = draw(st.sampled_from(DIGIT_ZEROS))
        return [("".join(chr(zero + int(d)) for d in digits), "digit", -1)]
    # words: a pair ("douze"), or digit by digit ("un deux"); "06" is "zéro six"
    if digits[0] != "0" and len(digits) == 2 and draw(st.booleans()):
        chunks = [digits]
    else:
        chunks = list(digits)
    pieces = []
    for chunk in chunks:
        word = spell(int(chunk))
        word = draw(st.sampled_from([word, word.replace("-", " "), word.upper()]))
        pieces.append((word, "word", int(chunk) if len(chunk) == 2 else -int(chunk) - 1))
    return pieces


def glue(pieces: list[tuple[str, str, int]], seps: list[str]) -> str:
    """Join pieces; where a reader could not tell them apart (two letters glued, or
    "trente" + "quatre", which French reads as 34), use a visible separator."""
    out = [pieces[0][0]]
    for (before, kind_before, value), (after, kind_after, _), sep in zip(
        pieces[:-1], pieces[1:], seps, strict=True
    ):
        if not sep and before[-1].isalpha() and after[0].isalpha():
            sep = " "
        opens = (value > 0 and value % 10 == 0) or value == -5  # a ten, or "quatre" (vingt)
        if kind_before == kind_after == "word" and opens and not sep.strip(" -"):
            sep = " / "
        out += [sep, after]
    return "".join(out)


@st.composite
def obfuscated_mobile(draw: st.DrawFn) -> tuple[str, str]:
    """(text, E.164) for a fictitious mobile written with random obfuscations."""
    head = draw(st.sampled_from(["61234", "69876", "78123"]))
    tail = draw(st.text("0123456789", min_size=4, max_size=4))
    national = head + tail  # 9 digits after the 0
    prefix = draw(st.sampled_from(["0", "+33 ", "+33", "0033 ", "+33 (0)", "+ 33 "]))
    groups = [national[0], national[1:3], national[3:5], national[5:7], national[7:9]]
    if prefix == "0":
        groups[0] = "0" + groups[0]
    pieces: list[tuple[str, str, int]] = []
    seps: list[str] = []
    between = draw(st.lists(st.sampled_from(SEPARATORS), min_size=4, max_size=4))
    for index, group in enumerate(groups):
        group_pieces = draw(written_group(group))
        inner = " " if group_pieces[0][1] == "word" else draw(st.sampled_from(SEPARATORS))
        if index:
            seps.append(between[index - 1])
        seps += [inner] * (len(group_pieces) - 1)
        pieces += group_pieces
    written = ("" if prefix == "0" else prefix) + glue(pieces, seps)
    context = draw(
        st.sampled_from(["{}", "Tel {}", "Appelez le {} merci", "{}, 25 ans", "Dispo : {} 24/7"])
    )
    return context.format(written), "+33" + national


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(obfuscated_mobile())
def test_any_obfuscation_of_a_mobile_is_read_exactly(case: tuple[str, str]) -> None:
    text, expected = case
    assert is_valid(expected)
    assert values(text) == [expected]


TOKENS = st.sampled_from(
    [
        "0",
        "06",
        "6",
        "33",
        "+",
        "+33",
        "00",
        "(0)",
        "O",
        "l",
        "I",
        "zéro",
        "six",
        "douze",
        "soixante-dix",
        "quatre vingt",
        "et",
        " ",
        "  ",
        ".",
        "-",
        "/",
        "\n",
        "€",
        "ans",
        "0692",
        "1️⃣",
        "２",
        "٣",
        "12/06/2024",
        "75017",
        "14h30",
        "a",
        "Tel:",
    ]
)


@settings(max_examples=300)
@given(st.lists(st.one_of(TOKENS, st.text("0123456789 .-/+", max_size=12)), max_size=40))
def test_only_valid_numbers_come_out(tokens: list[str]) -> None:
    text = "".join(tokens)
    for found in find_phones(text):
        assert is_valid(found.value)
        assert found.value.startswith("+")
        assert found.shown and found.shown in text


@settings(max_examples=300)
@given(st.text())
def test_never_raises_on_any_text(text: str) -> None:
    result = find_phones(text)
    assert isinstance(result, list)
    assert len({found.value for found in result}) == len(result)
    assert all(is_valid(found.value) for found in result)


def test_text_without_digits_skips_the_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    # The cheap pre-check answers alone: the lexicon, regexes and validation are not used.
    def fail() -> None:
        raise AssertionError("pre-check should have answered")

    monkeypatch.setattr(phones, "_lexicon", fail)
    assert find_phones("Douce et coquine, nouvelle en ville, à très vite") == []
    with pytest.raises(AssertionError):
        find_phones("Zéro six douze")  # "zéro" may start a spelled number: read on


# --- the accuracy benchmark, on a smaller sample -----------------------------------------


def _benchmark() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "phones_accuracy.py"
    spec = importlib.util.spec_from_file_location("phones_accuracy", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_accuracy_on_generated_ads() -> None:
    benchmark = _benchmark()
    cases = benchmark.build_cases(count=160, seed=7)
    assert len(cases) == 160
    report = benchmark.evaluate(cases, rounds=1)
    assert report.recall >= 0.98, report.missed[:5]
    assert report.wrong == []
    assert report.invalid == []


# --- quick paths give what the general reading gives -------------------------------------


def _reference_check(country: int, national: str) -> tuple[str, str] | None:
    """Validation through phonenumbers' own is_valid_number, as _check did at first."""
    if not national.isdigit() or len(national) > 16:
        return None
    number = phonenumbers.PhoneNumber(country_code=country, national_number=int(national))
    zeros = len(national) - len(national.lstrip("0"))
    if zeros:
        if zeros == len(national):
            return None
        number.italian_leading_zero = True
        if zeros > 1:
            number.number_of_leading_zeros = zeros
    if not phonenumbers.is_valid_number(number):
        return None
    region = phonenumbers.region_code_for_number(number)
    if region is None:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), region


CALLING_CODES = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


@settings(max_examples=400)
@given(
    st.one_of(st.sampled_from(CALLING_CODES), st.sampled_from([33, 39, 262, 590, 1, 44, 0, 42])),
    st.one_of(
        st.text(alphabet="0123456789", min_size=1, max_size=16),
        st.tuples(st.sampled_from(["6", "7", "1", "9", "06", "00", "3", "8"]),
                  st.text(alphabet="0123456789", min_size=6, max_size=10)).map("".join),
    ),
)
def test_validation_is_phonenumbers(country: int, national: str) -> None:
    assert phones._check.__wrapped__(country, national) == _reference_check(country, national)


def test_validation_of_numbers_in_use() -> None:
    for country, national in [(33, "612345678"), (33, "123456789"), (33, "912345678"),
                              (262, "692123456"), (39, "0612345678"), (39, "3451234567"),
                              (32, "470123456"), (41, "791234567"), (1, "2015550123"),
                              (44, "7400123456"), (55, "11912345678"), (7, "9123456789")]:
        assert phones._check.__wrapped__(country, national) == _reference_check(
            country, national)
        assert phones._check.__wrapped__(country, national) is not None


INTERNATIONAL_FRAGMENTS = [
    "+", "(", "[", " ", "+33", "33", "6", "12", "34", "56", "78", "0", ".", "-", "/", ":",
    " ans", "€", "O", "l", "\u20e3", "\ufe0f", "x", "\n", "24", "2024", "h", "Tel ",
    "+33 6 12 34 56 78", "+33612345678", "+33.7.81.23.45.67", "+33-1-23-45-67-89", "(+33",
    "+33 0 12 34 56 78", "zéro", "00",
]


@settings(max_examples=600)
@given(st.lists(st.sampled_from(INTERNATIONAL_FRAGMENTS), min_size=1, max_size=10).map("".join))
def test_international_shortcut_reads_as_the_general_reading(text: str) -> None:
    quick = find_phones(text)
    original = phones._plain_international
    phones._plain_international = lambda text, start, end: None
    try:
        assert find_phones(text) == quick
    finally:
        phones._plain_international = original


FIELD_FRAGMENTS = [
    "0", "6", "1", "7", "9", "12", "34", "56", "78", " ", ".", "-", "０", "６", "O", "l",
    "06 12 34 56 78", "0612345678", "06.12.34.56.78", "01 23 45 67 89", "+33 6 12 34 56 78",
    "+33612345678", "+", "+33", " ans", "€", "\u20e3", "x", "(", "00",
]


@settings(max_examples=600)
@given(st.lists(st.sampled_from(FIELD_FRAGMENTS), min_size=1, max_size=6).map("".join))
def test_whole_field_shortcut_reads_as_the_loop(text: str) -> None:
    quick = find_phones(text)
    original = phones._whole_number
    phones._whole_number = lambda text: None
    try:
        assert find_phones(text) == quick
    finally:
        phones._whole_number = original
