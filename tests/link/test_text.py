"""Slot-masked texts and their MinHash signatures."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from faisceau.link import text as text_sim

TEMPLATE = ("Nouvelle {name} arrivée à {city}, dispo 24/24, appel ou WhatsApp {phone}. "
            "Vraies photos.")


def _signature(text: str, shown: list[tuple[str, str]]) -> np.ndarray:
    blob = text_sim.signatures([text_sim.tokens(text_sim.masked(text, shown))], width=3,
                               permutations=32)[0]
    assert blob is not None
    return text_sim.as_matrix([blob], 32)[0]


def test_a_template_filled_with_other_slots_is_the_same_text() -> None:
    a = TEMPLATE.format(name="Lola", city="Lyon", phone="06 12 34 56 78")
    b = TEMPLATE.format(name="Maria", city="Nantes", phone="07 98 76 54 32")
    sig_a = _signature(a, [("name", "Lola"), ("place", "Lyon"), ("phone", "06 12 34 56 78")])
    sig_b = _signature(b, [("name", "Maria"), ("place", "Nantes"),
                           ("phone", "07 98 76 54 32")])
    assert (sig_a == sig_b).all()


def test_different_wording_is_not_similar() -> None:
    a = _signature("Bonjour je suis Lola, je reçois chez moi dans un cadre calme.", [])
    b = _signature("Massage relaxant proposé en centre-ville, uniquement sur rendez-vous.", [])
    assert (a == b).mean() < 0.2


def test_accents_emoji_and_cjk_are_kept_as_signal() -> None:
    assert text_sim.tokens("Très 💋 belle") == ["très", "💋", "belle"]
    assert text_sim.tokens("新来的女孩") == ["新", "来", "的", "女", "孩"]
    assert text_sim.tokens("新到Saint-Pierre。") == ["新", "到", "saint", "pierre"]
    assert _signature("Très belle 💋 arrivée", []).tolist() != \
        _signature("Tres belle arrivee", []).tolist()


def test_a_text_without_words_has_no_signature() -> None:
    assert text_sim.signatures([[]], width=3, permutations=32) == [None]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=80), min_size=1, max_size=6))
def test_signatures_are_deterministic_and_batch_independent(texts: list[str]) -> None:
    token_lists = [text_sim.tokens(t) for t in texts]
    batch = text_sim.signatures(token_lists, width=3, permutations=16)
    alone = [text_sim.signatures([tokens], width=3, permutations=16)[0]
             for tokens in token_lists]
    assert batch == alone
    for tokens, signature in zip(token_lists, batch, strict=True):
        assert (signature is None) == (not tokens)
