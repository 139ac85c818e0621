"""The cue lexicons (``faisceau/score/lexicons/*.toml``) read through ``faisceau.score.cues``.

What an analyst relies on: a cue fires on the phrases it is meant for, in every language
shipped; it never fires on an ordinary independent worker's ad (a false flag); the synthetic
generator's texts set the cues the synthetic evaluation expects; and matching ignores case
and accents but respects word boundaries.
"""

from __future__ import annotations

import itertools
import json
import random
import tomllib
import unicodedata
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faisceau.score.cues import (
    TEXT_CUES,
    Cue,
    build_lexicon,
    fold,
    lexicon,
    names,
    tokens,
)
from faisceau.synth import phones

LANGUAGES = ("en", "es", "fr", "pt", "ro", "zh")
TEXTS: dict[str, Any] = json.loads(
    (resources.files("faisceau.synth") / "data" / "texts.json").read_text(encoding="utf-8"))
# Cues that would flag an independent worker for something she does not do.
TRAFFICKING_CUES = (Cue.THIRD_PERSON | Cue.YOUTH | Cue.TRUST | Cue.ROUND_THE_CLOCK
                    | Cue.SCAM_PAYMENT)


def find(text: str) -> Cue:
    return lexicon().find(text)


# -- the shipped files ---------------------------------------------------------------------

def test_every_language_is_shipped_and_has_every_cue() -> None:
    entries = lexicon().entries
    assert set(entries) == set(TEXT_CUES)
    for cue, items in entries.items():
        assert {language for language, _ in items} == set(LANGUAGES), cue


def test_each_file_declares_its_language() -> None:
    # The language is what an analyst is told a hit came from.
    folder = resources.files("faisceau.score") / "lexicons"
    found = {}
    for file in folder.iterdir():
        if file.name.endswith(".toml"):
            found[file.name] = tomllib.loads(file.read_text(encoding="utf-8"))["language"]
    assert found == {f"{language}.toml": language for language in LANGUAGES}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_alone_sets_its_cue(language: str) -> None:
    # An entry shadowed by another cue's entry, or one that cannot match itself, never fires.
    lex = lexicon()
    for cue, items in lex.entries.items():
        for entry_language, entry in items:
            if entry_language != language:
                continue
            text = f"… {entry.rstrip('*')} !"
            assert lex.find(text) & TEXT_CUES[cue], (cue, entry, lex.hits(text))


# -- per language: what must and must not set a cue ----------------------------------------

MUST = [
    # English
    ("Lola is new here and she is available tonight.", Cue.THIRD_PERSON),
    ("She’s waiting for you in her room.", Cue.THIRD_PERSON),
    ("We are two girls, call us.", Cue.THIRD_PERSON),
    ("Come with my friend Nina.", Cue.THIRD_PERSON),
    ("Barely legal and sweet.", Cue.YOUTH),
    ("Just turned 18!", Cue.YOUTH),
    ("Young and petite brunette.", Cue.YOUTH),
    ("100% real pics, no fakes.", Cue.TRUST),
    ("Verified photos only.", Cue.TRUST),
    ("Real photos 100%.", Cue.TRUST),
    ("Incall in a hotel near the station.", Cue.HOTEL_RENTAL),
    ("Private Airbnb in the centre.", Cue.HOTEL_RENTAL),
    ("Incall apartment, parking nearby.", Cue.HOTEL_RENTAL),
    ("Available 24/7.", Cue.ROUND_THE_CLOCK),
    ("Open 24hrs, call me.", Cue.ROUND_THE_CLOCK),
    ("Day and night in Lyon.", Cue.ROUND_THE_CLOCK),
    ("NON STOP", Cue.ROUND_THE_CLOCK),
    ("New in town!", Cue.MOVEMENT),
    ("Just arrived in Lyon.", Cue.MOVEMENT),
    ("In town for a few days.", Cue.MOVEMENT),
    ("Small deposit required to book.", Cue.SCAM_PAYMENT),
    ("Gift cards accepted.", Cue.SCAM_PAYMENT),
    ("Pay with Paysafecard before we meet.", Cue.SCAM_PAYMENT),
    ("Prepaid card first.", Cue.SCAM_PAYMENT),
    # Spanish
    ("Ella te espera en su piso.", Cue.THIRD_PERSON),
    ("Somos dos amigas muy simpáticas.", Cue.THIRD_PERSON),
    ("Jovencita recién llegada.", Cue.YOUTH),
    ("Fotos 100% reales, sin engaños.", Cue.TRUST),
    ("Recibo en hotel céntrico.", Cue.HOTEL_RENTAL),
    ("Disponible 24 horas.", Cue.ROUND_THE_CLOCK),
    ("Día y noche.", Cue.ROUND_THE_CLOCK),
    ("De paso por Madrid.", Cue.MOVEMENT),
    ("Pocos días en Sevilla.", Cue.MOVEMENT),
    ("Pago por adelantado con tarjeta regalo.", Cue.SCAM_PAYMENT),
    # Portuguese
    ("Ela está disponível hoje.", Cue.THIRD_PERSON),
    ("Novinha, 18 aninhos.", Cue.YOUTH),
    ("Fotos reais, sem surpresas.", Cue.TRUST),
    ("Atendo em motel ou hotel.", Cue.HOTEL_RENTAL),
    ("Disponível 24h.", Cue.ROUND_THE_CLOCK),
    ("Atendimento 24 horas por dia.", Cue.ROUND_THE_CLOCK),
    ("Poucos dias em Paris.", Cue.MOVEMENT),
    ("Recém chegada na cidade.", Cue.MOVEMENT),
    ("Pix antecipado para reservar.", Cue.SCAM_PAYMENT),
    # Romanian, with comma-below and cedilla letters
    ("Ea te așteaptă.", Cue.THIRD_PERSON),
    ("Suntem două prietene.", Cue.THIRD_PERSON),
    ("Proaspăt majoră.", Cue.YOUTH),
    ("Poze reale, fără surprize.", Cue.TRUST),
    ("Apartament în regim hotelier.", Cue.HOTEL_RENTAL),
    ("Disponibilă non-stop.", Cue.ROUND_THE_CLOCK),
    ("Zi și noapte.", Cue.ROUND_THE_CLOCK),
    ("Zi şi noapte.", Cue.ROUND_THE_CLOCK),
    ("Doar câteva zile în Lyon.", Cue.MOVEMENT),
    ("Plată în avans.", Cue.SCAM_PAYMENT),
    # Chinese: no word boundaries, entries match inside longer phrases
    ("我们有多位美女。", Cue.THIRD_PERSON),
    ("学生妹，刚满18岁。", Cue.YOUTH),
    ("真人真照，照片真实。", Cue.TRUST),
    ("在酒店服务。", Cue.HOTEL_RENTAL),
    ("全天服务，24小时营业。", Cue.ROUND_THE_CLOCK),
    ("新到巴黎，只待几天。", Cue.MOVEMENT),
    ("先付定金。", Cue.SCAM_PAYMENT),
    # French (fr.toml)
    ("Elle vous attend à l'hôtel.", Cue.THIRD_PERSON),
    ("Tout juste majeure.", Cue.YOUTH),
    ("Photos réelles.", Cue.TRUST),
    ("Dispo 24h/24.", Cue.ROUND_THE_CLOCK),
    ("De passage à Lyon.", Cue.MOVEMENT),
    ("Paiement par coupon PCS.", Cue.SCAM_PAYMENT),
]


@pytest.mark.parametrize(("text", "cue"), MUST)
def test_sets_cue(text: str, cue: Cue) -> None:
    assert find(text) & cue, (text, lexicon().hits(text))


MUST_NOT = [
    # A worker speaking of herself in the third person, as some independents do.
    ("Lola is an independent companion; she enjoys good conversation.", Cue.THIRD_PERSON),
    # Booking rules that mention 24 hours are not round-the-clock availability.
    ("Please give 24 hours notice.", Cue.ROUND_THE_CLOCK),
    ("24hrs notice required for outcalls.", Cue.ROUND_THE_CLOCK),
    ("Cancelamento com 24h de antecedência.", Cue.ROUND_THE_CLOCK),
    ("Reserva con 24 horas de antelación.", Cue.ROUND_THE_CLOCK),
    ("Cash only, at the meeting.", Cue.SCAM_PAYMENT),
    ("Young at heart, 45.", Cue.YOUTH),
    ("Canteen and coffee nearby.", Cue.YOUTH),
    ("Living in Lyon for years.", Cue.MOVEMENT),
    ("Clients 18+ only.", Cue.YOUTH),
    # Romanian "fete" is French "fête".
    ("Bonne fête à toutes les mamans.", Cue.THIRD_PERSON),
    ("Joyeuses fêtes, deux semaines de vacances.", Cue.THIRD_PERSON),
    # Words inside longer words.
    ("Adorable et souriante.", Cue.YOUTH),
    ("Parking TOPCS à côté.", Cue.SCAM_PAYMENT),
    ("Appelez-moi, j'adore discuter.", Cue.YOUTH),
    ("The hotelier next door.", Cue.HOTEL_RENTAL),
]


@pytest.mark.parametrize(("text", "cue"), MUST_NOT)
def test_does_not_set_cue(text: str, cue: Cue) -> None:
    assert not find(text) & cue, (text, lexicon().hits(text))


INDEPENDENT_PHRASES = [
    "discreet", "discret", "discrète", "discreto", "discreta", "discretă", "respectful",
    "respectueuse", "respetuoso", "appointments only", "sur rendez-vous", "con cita previa",
    "calm place", "cadre calme", "lugar tranquilo", "independent", "indépendante",
    "independiente", "independente", "independentă", "available", "disponible", "disponível",
    "disponibilă", "Call me", "Text me first", "Appelez-moi", "Llámame", "Liga", "Sună",
    "安静", "独立", "预约",
]


@pytest.mark.parametrize("phrase", INDEPENDENT_PHRASES)
def test_ordinary_independent_phrases_set_no_cue(phrase: str) -> None:
    assert find(f"{phrase}.") == Cue(0), lexicon().hits(phrase)


# -- the synthetic generator's texts --------------------------------------------------------

CITIES = ["Paris", "Lyon", "Marseille", "Toulouse", "Nice", "Nantes", "Strasbourg", "Lille",
          "Tours", "Saint-Denis", "Le Havre", "Aix-en-Provence", "Saint-Étienne", "Pau",
          "Orléans", "Boulogne-Billancourt", "Villeneuve-d'Ascq", "Fort-de-France", "Sète"]
NATIONALS = ["0612345678", "0798765432", "0601020304", "0755667788"]


def slot_values() -> Iterator[dict[str, str]]:
    """Slot values as the generator writes them: one slot varied at a time over its range."""
    base = {"name": "Léa", "age": "24", "city": "Lyon", "origin_word": "roumaine",
            "phone": "06 12 34 56 78", "price": "1h 200", "handle": "t.me/lea_21"}
    rng = random.Random(7)
    variants: dict[str, list[str]] = {
        "name": list(TEXTS["names"]),
        "age": [str(age) for age in range(18, 60)],
        "city": CITIES,
        "origin_word": [*(w for ws in TEXTS["origin_words"].values() for w in ws),
                        *TEXTS["origin_words_en"].values()],
        "phone": [phones.render(national, style, rng)
                  for national in NATIONALS for style in phones.STYLES]
        + ["+40 712 345 678", "0040-712-345-678", "+44 7700 900123"],
        "price": [p for ps in TEXTS["prices"].values() for p in ps],
        "handle": ["t.me/lea_21", "snap: nina.paris", "06 12 34 56 78"],
    }
    yield base
    for slot, values in variants.items():
        for value in values:
            yield {**base, slot: value}


SLOTS = list(slot_values())


def blocks(kind: str, part: str | None = None) -> Iterator[tuple[str, str, str]]:
    """(language, part, block) of one controller kind."""
    for language, parts in TEXTS["blocks"][kind].items():
        for name, options in parts.items():
            if part is None or name == part:
                for block in options:
                    yield language, name, block


def filled(block: str) -> Iterator[str]:
    """Every distinct text of ``block`` with the plausible slot values."""
    return iter(dict.fromkeys(block.format(**slots) for slots in SLOTS))


def test_independent_blocks_set_no_trafficking_cue() -> None:
    lex = lexicon()
    checked = 0
    for language, part, block in blocks("independent"):
        for text in filled(block):
            assert not lex.find(text) & TRAFFICKING_CUES, (language, part, text, lex.hits(text))
            checked += 1
    assert checked > 100


def test_independent_blocks_together_set_no_trafficking_cue() -> None:
    # Whole texts, as the generator joins one block of each part: a cue spanning two blocks.
    lex = lexicon()
    for language, parts in TEXTS["blocks"]["independent"].items():
        for combo in itertools.product(*parts.values()):
            text = " ".join(combo).format(**SLOTS[0])
            assert not lex.find(text) & TRAFFICKING_CUES, (language, text, lex.hits(text))


@pytest.mark.parametrize("kind", ["independent", "network", "pimp"])
def test_touring_blocks_set_their_cue(kind: str) -> None:
    # An independent's touring line is movement; a network's or pimp's is "real photos".
    cue = Cue.MOVEMENT if kind == "independent" else Cue.TRUST
    found = list(blocks(kind, "touring"))
    assert found
    for language, _, block in found:
        for text in filled(block):
            assert find(text) & cue, (language, text, lexicon().hits(text))


def test_network_bodies_set_round_the_clock_or_movement() -> None:
    for language, _, block in blocks("network", "body"):
        for text in filled(block):
            assert find(text) & (Cue.ROUND_THE_CLOCK | Cue.MOVEMENT), (language, text)


def test_scam_bodies_set_scam_payment() -> None:
    found = list(blocks("scam", "body"))
    assert {language for language, _, _ in found} == set(TEXTS["blocks"]["scam"])
    for language, _, block in found:
        assert find(block) & Cue.SCAM_PAYMENT, (language, block, lexicon().hits(block))


# -- matching rules -------------------------------------------------------------------------

def custom(**cues: list[str]) -> Any:
    return build_lexicon([{"language": "xx", "cues": cues}])


def test_build_lexicon_rejects_an_unknown_cue() -> None:
    with pytest.raises(ValueError, match="unknown cue 'bogus'"):
        build_lexicon([{"language": "xx", "cues": {"youth": ["ado"], "bogus": ["x"]}}])


def test_build_lexicon_merges_files_and_keeps_languages() -> None:
    lex = build_lexicon([{"language": "aa", "cues": {"youth": ["ado"]}},
                         {"language": "bb", "cues": {"youth": ["teen"], "trust": ["real"]}}])
    assert lex.entries["youth"] == (("aa", "ado"), ("bb", "teen"))
    assert lex.find("teen, real") == Cue.YOUTH | Cue.TRUST
    assert lex.find("nothing here") == Cue(0)


def test_an_empty_lexicon_finds_nothing() -> None:
    assert build_lexicon([]).find("ado hotel 24/7") == Cue(0)


@pytest.mark.parametrize("entry", ["", "   ", "*", " * "])
def test_empty_entry_is_rejected(entry: str) -> None:
    with pytest.raises(ValueError, match="empty entry"):
        custom(youth=["ado", entry])


@pytest.mark.parametrize(("entry", "text", "matches"), [
    ("ado", "ado", True),
    ("ado", "une ado.", True),
    ("ado", "adorable", False),
    ("ado", "j'adore", False),
    ("ado", "tornado", False),
    ("pcs", "coupon PCS", True),
    ("pcs", "PCS,", True),
    ("pcs", "topcs", False),
    ("pcs", "pcsx", False),
    ("24/7", "dispo 24/7", True),
    ("24/7", "124/75", False),
    ("🍭", "douce🍭🍭", True),
    ("几天", "在巴黎几天。", True),
    ("de passage", "de   passage", True),
    ("de passage", "de\npassage", True),
    ("de passage", "depassage", False),
])
def test_word_boundaries(entry: str, text: str, matches: bool) -> None:
    assert bool(custom(youth=[entry]).find(text)) is matches


def test_tokens_split_words_and_punctuation() -> None:
    assert tokens(fold("Dispo 24h/24, l'Hôtel !")) == ["dispo", "24h", "/", "24", ",", "l",
                                                        "'", "hotel", "!"]


@pytest.mark.parametrize(("text", "matches"), [
    ("jeune", True), ("jeunette", True), ("Jeunes", True), ("jeun", True),
    ("rajeunir", False), ("déjeuner", False),
])
def test_wildcard_matches_any_ending_but_not_inside(text: str, matches: bool) -> None:
    assert bool(custom(youth=["jeun*"]).find(text)) is matches


def test_wildcard_in_shipped_lexicons() -> None:
    assert find("Réel garantie") & Cue.TRUST
    assert find("gift cards only") & Cue.SCAM_PAYMENT
    assert find("Fotos 100% reales") & Cue.TRUST


def test_accents_and_case_are_folded() -> None:
    assert fold("Hôtel") == fold("hotel") == "hotel"
    assert fold("ȘȚĂÂÎ şţ") == "staai st"
    assert find("HÔTEL") == find("hotel") == Cue.HOTEL_RENTAL
    assert find("hotel") == custom(hotel_rental=["hôtel"]).find("HOTEL")


def test_hits_show_the_cue_and_the_folded_words() -> None:
    hits = lexicon().hits("Elle vous attend à l'HÔTEL, 24/7.")
    assert [cue for cue, _ in hits] == ["third_person", "hotel_rental", "round_the_clock"]
    assert hits[:2] == [("third_person", "elle vous attend"), ("hotel_rental", "hotel")]


def test_names_in_bit_order() -> None:
    assert names(Cue.MOVEMENT | Cue.THIRD_PERSON) == ["third_person", "movement"]
    assert names(find("Photos réelles, de passage")) == ["trust", "movement"]
    assert names(0) == []


# -- known limits of the matcher (cues.py): fixing them turns these into failures -----------

def test_styled_capitals_match() -> None:
    assert find("𝐇𝐎𝐓𝐄𝐋") == Cue.HOTEL_RENTAL


def test_latin_entry_glued_to_chinese_matches() -> None:
    assert find("服务24/7") == Cue.ROUND_THE_CLOCK


def test_hits_list_each_match_once() -> None:
    hits = lexicon().hits("Fotos 100% reales.")
    assert len(hits) == len(set(hits))


# -- properties ----------------------------------------------------------------------------

ENTRIES = sorted({entry.rstrip("*") for items in lexicon().entries.values()
                  for _, entry in items})
FILLER = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
AD_TEXT = st.lists(st.one_of(st.sampled_from(ENTRIES), FILLER), max_size=8).map(" ".join)
# Characters without a compatibility decomposition (no "ℍ", "𝐀", "㎒"...).
PLAIN_CHARS = st.characters(codec="utf-8").filter(
    lambda c: unicodedata.normalize("NFKD", c) == unicodedata.normalize("NFD", c))
ACCENTS = ["\u0301", "\u0300", "\u0302", "\u0308", "\u0327", "\u0326", "\u0303", "\u030c"]


def upper_ascii(text: str) -> str:
    return "".join(c.upper() if c.isascii() else c for c in text)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_find_never_raises_and_agrees_with_hits(text: str) -> None:
    found = lexicon().find(text)
    assert names(found) == [n for n in TEXT_CUES if n in {c for c, _ in lexicon().hits(text)}]


@settings(max_examples=200, deadline=None)
@given(AD_TEXT)
def test_find_ignores_ascii_case(text: str) -> None:
    assert lexicon().find(upper_ascii(text)) == lexicon().find(text)


@settings(max_examples=200, deadline=None)
@given(AD_TEXT, st.randoms(use_true_random=False))
def test_find_ignores_accents_on_latin_letters(text: str, rng: random.Random) -> None:
    accented = "".join(c + rng.choice(ACCENTS) if c.isascii() and c.isalpha()
                       and rng.random() < 0.5 else c for c in text)
    accented = unicodedata.normalize("NFC", accented)  # "é" as one character where one exists
    assert lexicon().find(accented) == lexicon().find(text)


@given(st.text(alphabet=PLAIN_CHARS))
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)
