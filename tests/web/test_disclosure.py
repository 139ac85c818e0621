"""The masking of sensitive values in answers (``faisceau.web.disclosure``), as properties.

Whatever the text around it, a masked value (in any case, with or without its accents)
never survives; a text that holds none is left exactly as it was; answers are copied only
where something was masked.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from faisceau.web.disclosure import _Matcher, _walk, fold, mask_token

LETTERS = "abcdefghijklmnopqrstuvwxyzéèêëàâîïôöùûüçÿæœ"
NAMES = st.text(alphabet=LETTERS, min_size=3, max_size=12)
# What may stand beside a value in a text: anything but a letter or a digit.
SEPARATORS = st.text(alphabet=" ,.;:()[]/-+'\"\n\t«»", min_size=1, max_size=3)
TEXTS = st.text(max_size=60)


def _unaccented(value: str) -> str:
    return "".join(unicodedata.normalize("NFD", c)[0] for c in value)


@st.composite
def written(draw: st.DrawFn, value: str) -> str:
    """``value`` as a page may write it: any case, accents kept or dropped."""
    form = draw(st.sampled_from([value, value.upper(), value.title(), _unaccented(value)]))
    return form


@given(st.text(max_size=200))
def test_folding_keeps_one_character_for_each(text: str) -> None:
    assert len(fold(text)) == len(text)


@given(NAMES, st.data(), TEXTS, SEPARATORS, SEPARATORS, TEXTS)
def test_a_masked_value_never_survives_in_a_text(value: str, data: st.DataObject,
                                                 before: str, left: str, right: str,
                                                 after: str) -> None:
    shown = data.draw(written(value))
    masked = _Matcher([value])(f"{before}{left}{shown}{right}{after}")
    assert mask_token(value) in masked
    # No word of the answer is the value any longer (it may be part of a longer word).
    assert re.search(rf"(?<!\w){re.escape(fold(value))}(?!\w)", fold(masked)) is None


@given(NAMES, st.data())
def test_a_masked_value_as_a_whole_field_becomes_its_token(value: str,
                                                          data: st.DataObject) -> None:
    assert _Matcher([value])(data.draw(written(value))) == mask_token(value)


@given(st.lists(NAMES, min_size=1, max_size=5), TEXTS)
def test_a_text_without_masked_values_is_left_as_it_was(values: list[str], text: str) -> None:
    folded = fold(text)
    values = [v for v in values if fold(v) not in folded]
    if values:
        assert _Matcher(values)(text) == text


def test_short_values_are_masked_as_whole_fields_only() -> None:
    matcher = _Matcher(["Li"])
    assert matcher("li") == mask_token("Li")
    assert matcher("Li Wei, Lina") == "Li Wei, Lina"


@dataclass(frozen=True)
class Row:
    name: str
    count: int


@given(st.recursive(st.text(max_size=10) | st.integers(),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=20))
def test_an_answer_without_masked_values_is_not_copied(answer: object) -> None:
    assert _walk(answer, lambda s: s) is answer


def test_every_string_of_an_answer_is_masked_keys_and_dataclasses_too() -> None:
    answer = {"Durand": [Row("Léa Durand", 1), ("phone:+33612345678", 2)], "n": 3}
    out = _walk(answer, _Matcher(["Durand", "+33612345678"]))
    flat = repr(out)
    assert "Durand" not in flat and "+33612345678" not in flat
    assert out["n"] == 3 and isinstance(next(iter(out.values())), list)


def test_parts_of_a_name_are_masked_as_whole_fields_not_in_a_namesakes_name() -> None:
    matcher = _Matcher(["Léa Dupont", "+33612345678"], whole_only=["Léa", "Dupont"])
    assert matcher("Jordan Dupont") == "Jordan Dupont"  # a suspect, namesake of the victim
    assert matcher("LEA") == mask_token("Léa")  # an ad's name field
    assert "Dupont" not in matcher("virement de Léa Dupont, 06 12 34 56 78")


@given(st.lists(NAMES, min_size=1, max_size=40, unique=True), st.data())
def test_replacements_find_what_each_text_would(values: list[str],
                                                data: st.DataObject) -> None:
    texts = data.draw(st.lists(st.one_of(TEXTS, st.sampled_from(values).map(
        lambda v: f"chez {v}, le 3")), max_size=30))
    matcher = _Matcher(values[: len(values) // 2 + 1], whole_only=values[len(values) // 2:])
    expected = {t: matcher(t) for t in texts if matcher(t) != t}
    assert matcher.replacements(set(texts)) == expected
