"""The batch cue finder agrees with the one-text finder; contact cues read the normaliser."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from faisceau.score.cues import Cue, contact_cues, fold, lexicon, names

ENTRIES = sorted({entry for items in lexicon().entries.values() for _, entry in items})
NOISE = ["", " ", "  ", "\n", ",", ".", "/", "%", "'", "-", "é", "É", "ş", "🍭", "服务",
         "x", "ado", "rable", "24", "h", "𝐇𝐎𝐓𝐄𝐋", "\u00a0", "\u0301", "İ", "ß", "_", "7"]


@st.composite
def ad_like_texts(draw: st.DrawFn) -> str:
    """Texts made of lexicon entries (upper-cased or not), noise that sits at word
    boundaries, and arbitrary text: where a batch finder and a one-text finder differ."""
    parts = draw(st.lists(st.one_of(
        st.sampled_from(ENTRIES).map(lambda e: e.rstrip("*")),
        st.sampled_from(ENTRIES).map(lambda e: e.rstrip("*").upper()),
        st.sampled_from(NOISE),
        st.text(max_size=6),
    ), max_size=8))
    return "".join(parts)


@settings(max_examples=300, deadline=None)
@given(st.lists(ad_like_texts(), min_size=1, max_size=20))
def test_batch_finder_agrees_with_one_text_finder(texts: list[str]) -> None:
    finder = lexicon()
    assert finder.find_many(texts).tolist() == [int(finder.find(t)) for t in texts]


def test_batch_finder_reads_every_cue_of_an_ad() -> None:
    masks = lexicon().find_many([
        "Ma copine Léa est dispo 24h/24 à l'HÔTEL, vraies photos, petite et jeune.",
        "Je suis de passage à Lyon. Paiement par coupon PCS avant le rendez-vous.",
        "Rencontre respectueuse à Nantes, sur rendez-vous.",
        "",
    ])
    assert names(masks[0]) == ["third_person", "youth", "trust", "hotel_rental",
                               "round_the_clock"]
    assert names(masks[1]) == ["movement", "scam_payment"]
    assert masks[2] == 0 and masks[3] == 0


def test_fold_decomposes_styled_and_accented_letters() -> None:
    assert fold("𝐇𝐎𝐓𝐄𝐋 Élodie, ÇA, ţară\u00a0x") == "hotel elodie, ca, tara x"
    assert fold("e\u0301te\u0301") == "ete"  # accents typed as separate marks


def test_contact_cues_read_obfuscation_and_foreign_numbers() -> None:
    assert contact_cues("phone", {"region": "FR", "obfuscated": True}) == Cue.OBSCURED_CONTACT
    assert contact_cues("phone", {"region": "BR", "obfuscated": False}) == Cue.FOREIGN_PHONE
    assert contact_cues("email", {"obfuscated": True}) == Cue.OBSCURED_CONTACT


def test_contact_cues_ignore_what_does_not_point_anywhere() -> None:
    # An overseas département is in France's numbering plan: not a foreign number.
    assert contact_cues("phone", {"region": "RE", "obfuscated": False}) == 0
    assert contact_cues("phone", {"region": None, "obfuscated": False}) == 0
    assert contact_cues("email", {"obfuscated": False}) == 0
