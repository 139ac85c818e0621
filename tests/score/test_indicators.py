"""Indicators and their combination, on small hand-made inputs whose answer is known."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pytest

from faisceau.link import text as text_sim
from faisceau.link.settings import load_settings as load_link_settings
from faisceau.normalise.ad import name_key as folded_name
from faisceau.score.combine import combine, contribution_factors, sigmoid
from faisceau.score.cues import Cue
from faisceau.score.features import mentions, name_key
from faisceau.score.indicators import (
    ScoringInput,
    dense,
    evaluate,
    first_shown_elsewhere,
    medians_of,
    price_medians,
)
from faisceau.score.settings import load_settings

SETTINGS = load_settings()
LINK_SETTINGS = load_link_settings()
PERMUTATIONS, BANDS = 32, 8


@dataclass
class Ad:
    network: int
    name: str | None = "lola"
    day: int = 0
    cues: int = 0
    age: int = 30
    departement: str | None = "75"
    hour: int = 150
    half: int = 100
    keys: list[str] = field(default_factory=lambda: ["phone:+33600000001"])
    images: list[str] = field(default_factory=list)
    text: str = ""


def scoring_input(ads: list[Ad]) -> ScoringInput:
    """The arrays of ``ScoringInput`` for a list of ads (one version each)."""
    names = {n: i for i, n in enumerate(sorted({a.name for a in ads if a.name}))}
    places = {d: i for i, d in enumerate(sorted({a.departement for a in ads if a.departement}))}
    keys = sorted({k for a in ads for k in a.keys})
    images = sorted({k for a in ads for k in a.images})
    key_rows = [(p, keys.index(k)) for p, a in enumerate(ads) for k in a.keys]
    image_rows = [(p, images.index(k)) for p, a in enumerate(ads) for k in a.images]
    blobs = text_sim.signatures([text_sim.tokens(a.text) for a in ads], width=3,
                                permutations=PERMUTATIONS)
    empty = bytes(4 * PERMUTATIONS)

    def ints(values: list[int]) -> np.ndarray:
        return np.asarray(values, dtype=np.int64)

    # What featurisation keeps of each text (its capitalised words), read back as scoring
    # does: the words that are pseudonyms of the data.
    key_of = {name_key(folded_name(n)): i for n, i in names.items()}
    said = [(p, key_of[k]) for p, a in enumerate(ads)
            for k in np.frombuffer(mentions(a.text, name_key(folded_name(a.name))
                                            if a.name else None) or b"", dtype="<i8").tolist()
            if k in key_of]

    departements = [a.departement for a in ads]
    histogram = [(a.departement or "", minutes, price, 1) for a in ads
                 for minutes, price in ((60, a.hour), (30, a.half)) if price > 0]
    medians = price_medians(histogram, SETTINGS.indicator("low_price").param("min_local_ads"))
    median_hour, median_half = medians_of(medians, departements)

    return ScoringInput(
        network=ints([a.network for a in ads]), networks=max(a.network for a in ads) + 1,
        first_day=ints([20_000 + a.day for a in ads]), cues=ints([a.cues for a in ads]),
        name=ints([names[a.name] if a.name else -1 for a in ads]),
        stated_age=ints([a.age for a in ads]),
        departement=ints([places[a.departement] if a.departement else -1 for a in ads]),
        price_hour=ints([a.hour for a in ads]), price_half=ints([a.half for a in ads]),
        median_hour=median_hour, median_half=median_half,
        key_ads=ints([r[0] for r in key_rows]), key_ids=ints([r[1] for r in key_rows]),
        key_is_phone=np.asarray([k.startswith("phone:") for k in keys], dtype=np.bool_),
        image_ads=ints([r[0] for r in image_rows]), image_ids=ints([r[1] for r in image_rows]),
        image_stolen=first_shown_elsewhere(ints([r[1] for r in image_rows]),
                                           ints([ads[r[0]].network for r in image_rows]),
                                           ints([ads[r[0]].day for r in image_rows])),
        version_ads=ints(list(range(len(ads)))),
        signatures=text_sim.as_matrix([b or empty for b in blobs], PERMUTATIONS),
        has_text=np.asarray([b is not None for b in blobs], dtype=np.bool_), bands=BANDS,
        near_duplicate=LINK_SETTINGS.min_similarity,
        mention_ads=ints([r[0] for r in said]), mention_names=ints([r[1] for r in said]))


def finding(ads: list[Ad], name: str) -> tuple[list[bool], list[int], list[bool]]:
    result = evaluate(scoring_input(ads), SETTINGS.indicator(name))
    return result.fired.tolist(), result.count.tolist(), result.evidence.tolist()


def test_dense_numbers_values_in_sorted_order() -> None:
    ids, count = dense(np.asarray([40, 7, 40, -3], dtype=np.int64))
    assert ids.tolist() == [2, 1, 2, 0] and count == 3


def test_several_persons_under_one_contact() -> None:
    ads = [Ad(0), Ad(0, day=3),  # one person, her own number
           Ad(1, name="nina"), Ad(1, name="jade"), Ad(1, name="inès"),  # three, one number
           Ad(1, name="inès", keys=["phone:+33600000009"])]
    for ad in ads[2:5]:
        ad.keys = ["phone:+33600000002"]
    fired, count, evidence = finding(ads, "several_persons_per_contact")
    assert fired == [False, True] and count[1] == 3
    assert evidence == [False, False, True, True, True, False]  # the ads of that number


def test_one_person_under_several_phones() -> None:
    ads = [Ad(0, keys=["phone:+33600000001"]), Ad(0, keys=["phone:+33600000002"]),
           Ad(1, name="nina", keys=["phone:+33600000003", "handle:snap:nina_12"])]
    fired, count, _ = finding(ads, "person_several_phones")
    # A handle beside one phone is not a second phone.
    assert fired == [True, False] and count == [2, 1]


def test_circuit_is_counted_per_person_so_size_alone_is_no_circuit() -> None:
    touring = [Ad(0, departement=d, day=day) for d, day in (("75", 0), ("69", 7), ("13", 14))]
    # Three persons, each staying in her own département: a big network, no circuit.
    staying = [Ad(1, name=n, departement=d, keys=[f"phone:+3361{i}"])
               for i, (n, d) in enumerate((("a", "75"), ("b", "69"), ("c", "13")))]
    # Three départements spread over months: no circuit within four weeks.
    slow = [Ad(2, name="z", departement=d, day=day, keys=["phone:+33699"])
            for d, day in (("75", 0), ("69", 60), ("13", 120))]
    fired, count, _ = finding(touring + staying + slow, "circuit")
    assert fired == [True, False, False] and count == [3, 1, 1]


def test_burst_counts_ads_first_seen_on_one_day() -> None:
    ads = [Ad(0, name=f"p{i}", day=5) for i in range(5)] + [Ad(1, day=d) for d in range(6)]
    fired, count, _ = finding(ads, "burst")
    assert fired == [True, False] and count == [5, 1]


def test_templated_texts_need_the_same_template_under_several_persons() -> None:
    template = "nouvelle arrivée pour quelques jours, dispo tout le temps, appel moi vite"
    ads = [Ad(0, name="nina", age=22, text=template), Ad(0, name="jade", age=27, text=template),
           Ad(1, name="lola", text=template), Ad(1, name="lola", text=template),
           Ad(2, name="a", text="je reçois dans un cadre calme et discret sur rendez-vous"),
           Ad(2, name="b", text="bonjour messieurs, merci de me contacter par message")]
    fired, _, evidence = finding(ads, "templated_texts")
    # The same person reusing her text is no template; two different texts are none either.
    assert fired == [True, False, False]
    assert evidence[:2] == [True, True]


def test_shared_photos_across_persons() -> None:
    ads = [Ad(0, name="nina", images=["p1"]), Ad(0, name="jade", images=["p1"]),
           Ad(0, name="inès", images=["p1"]),  # a stock photo of three persons
           Ad(1, images=["p2"]), Ad(1, images=["p2"]),
           Ad(2, name="lina", age=21, images=["p3"]), Ad(2, name="sara", age=27, images=["p3"])]
    fired, _, _ = finding(ads, "shared_photos")
    assert fired == [True, False, True]


def test_one_person_under_two_names_counts_once() -> None:
    # Her own photos and number under two names, the same age: one person.
    two_names = [Ad(0, name="lola", images=["own"]), Ad(0, name="nina", images=["own"])]
    # Her text says her name under another pseudonym ("je suis Lola" as "Nina").
    says = [Ad(1, name="maya", keys=["phone:+33601"], text="Bonjour je suis Clara"),
            Ad(1, name="clara", keys=["phone:+33601"])]
    # Two persons: one number, different ages despite one shared photo; and two others
    # whose only common photo is the stock photo of three.
    two = [Ad(2, name="jade", age=21, images=["x"], keys=["phone:+33602"]),
           Ad(2, name="inès", age=26, images=["x"], keys=["phone:+33602"])]
    stock = [Ad(3, name=n, images=["stock"], keys=["phone:+33603"])
             for n in ("ana", "bea", "cora")]
    data = scoring_input(two_names + says + two + stock)
    person = data.person.tolist()
    assert person[0] == person[1]
    assert person[2] == person[3]
    assert person[4] != person[5]
    assert len(set(person[6:9])) == 3
    fired, count, _ = finding(two_names + says + two + stock, "several_persons_per_contact")
    assert fired == [False, False, True, True] and count[2:] == [2, 3]


def test_one_person_describing_herself_in_the_same_words_under_two_names_counts_once() -> None:
    own = "je reçois seule dans un studio calme, sur rendez-vous, appelez moi"
    # Her own words and age under two names, nothing else in common but her number.
    alias = [Ad(0, name="lola", age=24, text=own), Ad(0, name="nina", age=24, text=own)]
    # Two persons: the same words but ages that differ.
    aged = [Ad(1, name="jade", age=21, text=own, keys=["phone:+33602"]),
            Ad(1, name="inès", age=26, text=own, keys=["phone:+33602"])]
    # A writer describing others (third person): the same words say nothing of who is who.
    third = [Ad(2, name=n, age=24, cues=int(Cue.THIRD_PERSON), keys=["phone:+33603"],
                text="elle reçoit dans un studio calme, appelez pour elle")
             for n in ("ana", "bea")]
    # One template filled for three names of one age: a template, not a person.
    template = [Ad(3, name=n, age=24, text=own, keys=["phone:+33604"])
                for n in ("cora", "dina", "emma")]
    ads = alias + aged + third + template
    person = scoring_input(ads).person.tolist()
    assert person[0] == person[1]
    assert person[2] != person[3]
    assert person[4] != person[5]
    assert len(set(person[6:9])) == 3
    fired, _, _ = finding(ads, "several_persons_per_contact")
    assert fired == [False, True, True, True]


def test_low_prices_are_measured_against_the_local_median_for_the_same_length() -> None:
    local = [Ad(0, name=f"p{i}", hour=200, half=-1, departement="75") for i in range(30)]
    cheap = [Ad(1, hour=100, half=-1, departement="75")]  # half the local hourly median
    fair = [Ad(2, hour=180, half=-1, departement="75")]
    # No hourly price: a half-hour price is compared with half-hour prices only.
    half_only = [Ad(3, hour=-1, half=90, departement="75")]
    # Too few prices in the département: compared with France's median (200 here).
    elsewhere = [Ad(4, hour=110, half=-1, departement="2A")]
    fired, _, _ = finding(local + cheap + fair + half_only + elsewhere, "low_price")
    assert fired == [False, True, False, False, True]


def test_price_medians_are_local_where_the_market_is_large_enough() -> None:
    histogram = [("13", 60, 100, 20), ("75", 60, 300, 4), ("75", 60, 250, 1), ("", 30, 80, 3),
                 ("13", 30, 60, 1)]
    medians = price_medians(histogram, 20)
    assert medians["13"][0] == 100 and "75" not in medians
    hour, half = medians_of(medians, ["13", "75", None])
    assert hour.tolist() == [100, 100, 100]  # France: 20 at 100 and 5 dearer
    assert half.tolist() == [80, 80, 80]  # France: 60, 80, 80, 80 (13 has too few: 1)


@pytest.mark.parametrize("prices", [[(5, 1)], [(5, 1), (7, 1)], [(9, 3), (1, 2)],
                                    [(1, 1), (2, 2), (10, 1)], [(4, 10), (6, 11)]])
def test_the_histogram_median_is_the_median_of_the_prices_it_counts(
        prices: list[tuple[int, int]]) -> None:
    expanded = [p for p, n in prices for _ in range(n)]
    medians = price_medians([("", 60, p, n) for p, n in prices], 1)
    assert medians[""][0] == float(np.median(expanded))


def test_an_ad_level_indicator_fires_from_a_share_of_the_network_ads() -> None:
    third = int(Cue.THIRD_PERSON)
    ads = [Ad(0, cues=third), Ad(0), Ad(0), Ad(0),  # 1 of 4 = the 25 % threshold
           Ad(1, cues=third), *[Ad(1) for _ in range(4)]]  # 1 of 5
    fired, count, _ = finding(ads, "third_person")
    assert fired == [True, False] and count == [1, 1]


def pimp_and_independent() -> list[Ad]:
    pimp_cues = int(Cue.THIRD_PERSON | Cue.TRUST | Cue.HOTEL_RENTAL)
    pimp = [Ad(0, name=n, cues=pimp_cues, age=19, keys=["phone:+33611"])
            for n in ("nina", "jade", "inès")]
    independent = [Ad(1, cues=int(Cue.MOVEMENT | Cue.HOTEL_RENTAL), age=19, keys=["phone:+3362"]),
                   Ad(1, cues=int(Cue.MOVEMENT), age=19, keys=["phone:+3362"])]
    scam = [Ad(2, name=n, cues=int(Cue.SCAM_PAYMENT), keys=["handle:telegram:x"])
            for n in ("a", "b", "c")]
    return pimp + independent + scam


def test_risk_ranks_structure_above_folklore_and_scams_below() -> None:
    scores = combine(scoring_input(pimp_and_independent()), SETTINGS)
    pimp, independent, scam = scores.risk.tolist()
    assert pimp >= SETTINGS.trafficking_threshold > max(independent, scam)
    assert scores.trafficking.tolist() == [True, False, False]
    # Movement language points away: the independent worker is below the base risk.
    assert independent < sigmoid(SETTINGS.intercept)


def test_risk_is_the_logistic_of_the_fired_weights() -> None:
    data = scoring_input(pimp_and_independent())
    scores = combine(data, SETTINGS)
    fired = [i for i in SETTINGS.indicators if scores.findings[i.name].fired[0]]
    expected = sigmoid(SETTINGS.intercept + sum(i.weight for i in fired))
    assert scores.risk[0] == pytest.approx(expected)


def test_contributions_add_up_to_the_change_from_the_base_risk() -> None:
    scores = combine(scoring_input(pimp_and_independent()), SETTINGS)
    factors = contribution_factors(scores, SETTINGS)
    for network in range(3):
        # The weight each fired indicator carries there (none where a scam explains it).
        fired = [float(scores.weights[i.name][network]) for i in SETTINGS.indicators
                 if scores.findings[i.name].fired[network]]
        parts = [w * factors[network] for w in fired]
        assert fired and math.fsum(parts) == pytest.approx(scores.risk[network] - scores.base)
        # Each part has the sign of its weight: what points away from trafficking lowers it,
        # what is only shown (weight 0) contributes nothing.
        assert all(p * w > 0 or p == w == 0 for p, w in zip(parts, fired, strict=True))


def test_minor_suspicion_needs_an_age_at_the_limit_and_a_second_sign() -> None:
    ads = [*pimp_and_independent(),
           Ad(3, age=19, cues=int(Cue.YOUTH), keys=["phone:+3363"]),  # youth words
           Ad(4, age=16, keys=["phone:+3364"]),  # stated under 18
           Ad(5, age=21, cues=int(Cue.YOUTH), keys=["phone:+3365"])]  # over the limit
    scores = combine(scoring_input(ads), SETTINGS)
    assert scores.ad_minor.tolist() == [True, True, True,  # suspected network, age 19
                                        False, False,  # age 19 alone: an adult, likely
                                        False, False, False,
                                        True, True, False]
    assert scores.minor_why.tolist()[8:10] == [2, 1]
    assert scores.minor.tolist() == [True, False, False, True, True, False]


def test_nothing_to_score_gives_empty_findings() -> None:
    empty = scoring_input([Ad(0)])
    nothing = np.zeros(0, dtype=np.int64)
    for name in ("network", "first_day", "cues", "name", "stated_age", "departement",
                 "price_hour", "price_half", "key_ads", "key_ids", "image_ads", "image_ids",
                 "version_ads"):
        setattr(empty, name, nothing)
    empty.median_hour = empty.median_half = np.zeros(0)
    empty.signatures = empty.signatures[:0]
    empty.has_text = empty.has_text[:0]
    empty.networks = 0
    scores = combine(empty, SETTINGS)
    assert len(scores.risk) == 0 and len(scores.ad_minor) == 0


def test_every_indicator_of_the_catalogue_has_a_function_and_a_rationale() -> None:
    data = scoring_input(pimp_and_independent())
    for indicator in SETTINGS.indicators:
        result = evaluate(data, indicator)
        assert result.fired.shape == (data.networks,)
        assert indicator.rationale and indicator.label


@pytest.mark.parametrize("cues", [
    # Every folklore cue at once, with an obscured number.
    ("hotel_rental", "round_the_clock", "foreign_phone", "circuit", "burst",
     "obscured_contact", "age_at_limit"),
    # A foreign independent worker who names her origin, uses her own foreign number,
    # hides it, tours, receives at hotels and says she is always available.
    ("origin_emphasis", "foreign_phone", "obscured_contact", "circuit", "hotel_rental",
     "round_the_clock", "age_at_limit"),
])
def test_no_single_worker_is_flagged_on_folklore_or_origin_alone(cues: tuple[str, ...]) -> None:
    # A guard on the catalogue: editing weights must keep these under the threshold.
    log_odds = SETTINGS.intercept + sum(SETTINGS.indicator(c).weight for c in cues)
    assert sigmoid(log_odds) < SETTINGS.trafficking_threshold


def test_a_photo_shown_first_elsewhere_marks_the_thief_never_the_owner() -> None:
    def ints(values: list[int]) -> np.ndarray:
        return np.asarray(values, dtype=np.int64)

    # Photo 0: shown by network 0 on day 1, copied by network 1 on day 5 and network 2 on
    # day 1 (the same day as the owner: no way to tell, not marked). Photo 1: network 1
    # alone. Row of an ad without a network (-1): ignored.
    stolen = first_shown_elsewhere(ints([0, 0, 0, 0, 1, 0]), ints([0, 1, 1, 2, 1, -1]),
                                   ints([1, 5, 9, 1, 0, 0]))
    assert stolen.tolist() == [False, True, True, False, False, False]


def scam_operation(*, extra_cues: int = 0) -> list[Ad]:
    """Three stolen identities under one messaging handle, paid in advance: photos that
    three independent workers (networks 0-2) showed first."""
    owners = [Ad(i, name=n, day=0, images=[f"photo-{n}"]) for i, n in
              enumerate(("ana", "bea", "cora"))]
    scam = [Ad(3, name=n, day=4, cues=int(Cue.SCAM_PAYMENT) | extra_cues,
               keys=["handle:telegram:offers"], images=[f"photo-{n}"])
            for n in ("ana", "bea", "cora")]
    return owners + scam


def test_a_scam_is_its_own_category_and_its_structure_is_not_trafficking() -> None:
    scores = combine(scoring_input(scam_operation()), SETTINGS)
    assert scores.scam is not None
    assert scores.scam.tolist() == [False, False, False, True]
    # One contact for three names, shared photos... all explained by the scam: no weight.
    assert scores.findings["several_persons_per_contact"].fired[3]
    assert scores.weights["several_persons_per_contact"][3] == 0.0
    assert not scores.trafficking[3]
    assert scores.risk[3] <= scores.base
    # The owners of the photos are not marked as thieves.
    assert not scores.findings["stolen_photos"].fired[:3].any()


def test_a_scam_with_exploitation_beyond_the_scam_stays_suspected_of_trafficking() -> None:
    beyond = int(Cue.THIRD_PERSON | Cue.TRUST | Cue.YOUTH | Cue.HOTEL_RENTAL)
    scores = combine(scoring_input(scam_operation(extra_cues=beyond)), SETTINGS)
    assert scores.scam is not None and scores.scam[3] and scores.trafficking[3]


def test_one_weak_scam_marker_alone_is_no_scam() -> None:
    # Photos shown first elsewhere, but a phone to call: not a scam (a reused photo).
    reused = [Ad(0, name="ana", images=["p"]), Ad(1, name="eva", day=3, images=["p"])]
    # A messaging handle only, own photos: a worker who prefers messages.
    messages = [Ad(2, name="lia", keys=["handle:telegram:lia"], images=["q"])]
    scores = combine(scoring_input(reused + messages), SETTINGS)
    assert scores.findings["stolen_photos"].fired.tolist() == [False, True, False]
    assert scores.findings["messaging_only"].fired.tolist() == [False, False, True]
    assert scores.scam is not None and not scores.scam.any()
