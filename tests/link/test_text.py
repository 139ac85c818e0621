"""Slot-masked texts and their MinHash signatures."""

from __future__ import annotations

import re

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


def test_a_value_is_masked_in_capitals_and_a_number_only_whole() -> None:
    # The title in capitals says the same name; an age is masked as a whole number, not
    # inside another number.
    text = text_sim.masked("RENCONTRE AVEC MANON\nManon, 19 ans, 24/24 depuis 2019",
                           [("name", "Manon"), ("age", "19")])
    assert text_sim.tokens(text) == ["rencontre", "avec", "§name", "§name", "§age", "ans",
                                     "24", "24", "depuis", "2019"]


def test_two_ads_of_one_person_under_two_names_write_the_same_masked_text() -> None:
    a = "SARAH - NICE\nHello, c'est Sarah, 19 ans. Sans intermédiaire."
    b = "CHLOÉ - NICE\nHello, c'est Chloé, 19 ans. Sans intermédiaire."
    sig_a = _signature(a, [("name", "Sarah"), ("age", "19")])
    sig_b = _signature(b, [("name", "Chloé"), ("age", "19")])
    assert (sig_a == sig_b).all()


@given(st.lists(st.one_of(st.sampled_from(["19", "ans", "h", "/", " ", "2019", "190"]),
                          st.integers(0, 999).map(str)), max_size=12))
@settings(max_examples=200)
def test_a_number_is_masked_exactly_where_it_stands_whole(parts: list[str]) -> None:
    text = "".join(parts)
    out = text_sim.masked(text, [("age", "19")])
    runs = re.findall(r"\d+", text)
    assert "19" not in re.findall(r"\d+", out)
    # Every other number survives, in order: only whole "19"s became the slot.
    assert re.findall(r"\d+", out) == [r for r in runs if r != "19"]
    assert out.count("§age") == runs.count("19")
