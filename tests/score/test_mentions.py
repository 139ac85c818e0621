"""The capitalised words scoring keeps of each text (``score.features.mentions``)."""

from __future__ import annotations

import re

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from faisceau.normalise.ad import name_key as folded_name
from faisceau.score.features import MAX_MENTIONS, mentions, name_key


def key(word: str) -> int:
    found = name_key(folded_name(word))
    assert found is not None
    return found


def keys(text: str, own: str | None = None) -> list[int]:
    blob = mentions(text, key(own) if own else None)
    return np.frombuffer(blob or b"", dtype="<i8").tolist()


def test_names_said_in_the_text_are_kept_whatever_their_accents_and_case() -> None:
    assert keys("Bonjour, je suis Inès, 24 ans", own="Nina") == [key("Bonjour"), key("ines")]
    # The ad's own pseudonym is not a mention of someone else.
    assert keys("Je suis Nina", own="nina") == [key("Je")]
    assert mentions("rien en minuscules 06 12", None) is None


def _capitalised_runs(text: str) -> list[str]:
    return [m.group() for m in re.finditer(r"[^\W\d_]{2,}", text) if m.group()[0].isupper()]


@given(st.text(max_size=300), st.sampled_from([None, "Lola", "Inès"]))
def test_mentions_are_the_first_distinct_capitalised_words_of_the_text(
        text: str, own: str | None) -> None:
    found = keys(text, own)
    assert len(found) == len(set(found)) <= MAX_MENTIONS
    expected = list(dict.fromkeys(key(w) for w in _capitalised_runs(text)))
    if own:
        assert key(own) not in found
        expected = [k for k in expected if k != key(own)]
    assert found == expected[:MAX_MENTIONS]
