"""Text helpers shared by the normalisers."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from faisceau.normalise.text import lower_aligned


def test_lower_case() -> None:
    assert lower_aligned("Lola À PARIS") == "lola à paris"


def test_characters_whose_lower_case_is_longer_are_kept() -> None:
    # "İ".lower() is two characters: offsets would shift.
    assert lower_aligned("İSTANBUL") == "İstanbul"


@given(st.text(max_size=50))
def test_same_length_and_lower_where_it_can_be(text: str) -> None:
    low = lower_aligned(text)
    assert len(low) == len(text)
    for lowered, char in zip(low, text, strict=True):
        assert lowered == (char.lower() if len(char.lower()) == 1 else char)
    assert lower_aligned(text) is low  # kept for the next finder reading the same text
