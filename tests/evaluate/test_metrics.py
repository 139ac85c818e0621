"""Evaluation metrics (faisceau.evaluate.metrics): hand-computed cases and properties."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from faisceau.evaluate.metrics import (
    Ratio,
    Share,
    Spread,
    bcubed,
    contingency,
    false_minor_rate,
    kind_flag_rate,
    majority_controller,
    minor_recall,
    precision,
    rate_ratio,
    rates_by,
    recall,
    roc_auc,
    share,
    spread,
    top_k_precision,
    top_networks,
)

labels = st.lists(st.sampled_from("abcdef"), min_size=1, max_size=40)
paired = st.integers(min_value=1, max_value=40).flatmap(
    lambda n: st.tuples(st.lists(st.integers(0, 5), min_size=n, max_size=n),
                        st.lists(st.sampled_from("xyzw"), min_size=n, max_size=n)))
scores = st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])
scored = st.lists(st.tuples(scores, st.booleans()), max_size=40)


def naive_bcubed(predicted: list[object], true: list[object]) -> tuple[float, float]:
    """The definition, item by item, in O(n²)."""
    n = len(predicted)
    precision = recall = Fraction(0)
    for i in range(n):
        same_cluster = [j for j in range(n) if predicted[j] == predicted[i]]
        same_class = [j for j in range(n) if true[j] == true[i]]
        both = [j for j in same_cluster if true[j] == true[i]]
        precision += Fraction(len(both), len(same_cluster))
        recall += Fraction(len(both), len(same_class))
    return float(precision / n), float(recall / n)


def naive_auc(rows: list[tuple[float, bool]]) -> float | None:
    """Every (positive, negative) pair: 1 if the positive scores higher, ½ on a tie."""
    positives = [s for s, label in rows if label]
    negatives = [s for s, label in rows if not label]
    if not positives or not negatives:
        return None
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


# --- B-cubed -----------------------------------------------------------------------------


def test_bcubed_hand_computed_one_big_cluster() -> None:
    # true A A A B, all predicted in one cluster:
    # precision = (3·3/4 + 1·1/4) / 4 = 10/16; recall = (3·3/3 + 1·1/1) / 4 = 1
    result = bcubed(contingency([1, 1, 1, 1], ["A", "A", "A", "B"]))
    assert result is not None
    assert result.precision == pytest.approx(10 / 16)
    assert result.recall == 1.0
    assert result.f1 == pytest.approx(10 / 13)  # 2·(5/8)·1 / (5/8 + 1)


def test_bcubed_hand_computed_split_and_merge() -> None:
    # true A A A B B, predicted 1 1 2 2 2: cells (1,A)=2 (2,A)=1 (2,B)=2
    # precision = (4/2 + 1/3 + 4/3) / 5 = 11/15; recall = (4/3 + 1/3 + 4/2) / 5 = 11/15
    result = bcubed(contingency([1, 1, 2, 2, 2], ["A", "A", "A", "B", "B"]))
    assert result is not None
    assert result.precision == pytest.approx(11 / 15)
    assert result.recall == pytest.approx(11 / 15)
    assert result.f1 == pytest.approx(11 / 15)


def test_bcubed_singletons_have_full_precision() -> None:
    result = bcubed(contingency(range(4), ["A", "A", "B", "B"]))
    assert result is not None
    assert result.precision == 1.0
    assert result.recall == pytest.approx(0.5)  # every item finds half of its class


def test_bcubed_of_nothing_is_undefined() -> None:
    assert bcubed({}) is None
    assert bcubed({("n", "c"): 0}) is None


def test_bcubed_refuses_negative_counts() -> None:
    with pytest.raises(ValueError):
        bcubed({("n", "c"): -1})


@given(labels)
def test_bcubed_against_itself_is_exactly_one(true: list[str]) -> None:
    renamed = [f"cluster-{label}" for label in true]  # names differ, partition is the same
    assert bcubed(contingency(renamed, true)) == (1.0, 1.0, 1.0)


@given(paired)
def test_bcubed_matches_the_definition(pair: tuple[list[int], list[str]]) -> None:
    predicted, true = pair
    result = bcubed(contingency(predicted, true))
    assert result is not None
    expected_p, expected_r = naive_bcubed(list(predicted), list(true))
    assert result.precision == pytest.approx(expected_p)
    assert result.recall == pytest.approx(expected_r)
    assert 0 < result.precision <= 1 and 0 < result.recall <= 1 and 0 < result.f1 <= 1
    assert min(result.precision, result.recall) <= result.f1
    assert result.f1 <= max(result.precision, result.recall)


@given(paired, st.randoms())
def test_bcubed_ignores_order_of_items(pair: tuple[list[int], list[str]],
                                       rnd: random.Random) -> None:
    predicted, true = pair
    rows = list(zip(predicted, true, strict=True))
    rnd.shuffle(rows)
    shuffled = bcubed(contingency([p for p, _ in rows], [t for _, t in rows]))
    assert shuffled == pytest.approx(bcubed(contingency(predicted, true)))


@given(paired)
def test_bcubed_swapping_sides_swaps_precision_and_recall(
        pair: tuple[list[int], list[str]]) -> None:
    predicted, true = pair
    forward = bcubed(contingency(predicted, true))
    backward = bcubed(contingency(true, predicted))
    assert forward is not None and backward is not None
    assert forward.precision == pytest.approx(backward.recall)
    assert forward.recall == pytest.approx(backward.precision)


# --- ROC AUC -----------------------------------------------------------------------------


def test_auc_hand_computed_with_a_tie() -> None:
    # positives 0.9, 0.5; negatives 0.5, 0.1: pairs 1 + 1 + ½ + 1 out of 4
    rows = [(0.9, True), (0.5, True), (0.5, False), (0.1, False)]
    assert roc_auc(contingency([s for s, _ in rows], [lab for _, lab in rows])) == 0.875


def test_auc_perfect_inverted_and_constant() -> None:
    assert roc_auc({(0.9, True): 3, (0.1, False): 5}) == 1.0
    assert roc_auc({(0.1, True): 3, (0.9, False): 5}) == 0.0
    assert roc_auc({(0.5, True): 3, (0.5, False): 5}) == 0.5


def test_auc_undefined_with_an_empty_class() -> None:
    assert roc_auc({}) is None
    assert roc_auc({(0.3, True): 4}) is None
    assert roc_auc({(0.3, False): 4, (0.2, True): 0}) is None


def test_auc_refuses_nan() -> None:
    with pytest.raises(ValueError):
        roc_auc({(float("nan"), True): 1, (0.2, False): 1})


@given(scored)
def test_auc_matches_pairwise_definition(rows: list[tuple[float, bool]]) -> None:
    result = roc_auc(contingency([s for s, _ in rows], [lab for _, lab in rows]))
    expected = naive_auc(rows)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected)
        assert result is not None and 0.0 <= result <= 1.0


@given(scored)
def test_auc_reversing_scores_gives_complement(rows: list[tuple[float, bool]]) -> None:
    forward = roc_auc(contingency([s for s, _ in rows], [lab for _, lab in rows]))
    backward = roc_auc(contingency([-s for s, _ in rows], [lab for _, lab in rows]))
    if forward is None:
        assert backward is None
    else:
        assert backward == pytest.approx(1 - forward)


@given(scored)
def test_auc_invariant_under_monotone_rescaling(rows: list[tuple[float, bool]]) -> None:
    plain = roc_auc(contingency([s for s, _ in rows], [lab for _, lab in rows]))
    squashed = roc_auc(contingency([s * s / 2 for s, _ in rows], [lab for _, lab in rows]))
    assert plain == squashed


# --- ranking -----------------------------------------------------------------------------


def test_top_networks_by_risk_then_id() -> None:
    risks = {"n3": 0.5, "n1": 0.9, "n2": 0.9, "n4": 0.1}
    assert top_networks(risks, 3) == ["n1", "n2", "n3"]
    assert top_networks(risks, 10) == ["n1", "n2", "n3", "n4"]
    assert top_networks(risks, 0) == []


@given(st.dictionaries(st.text(max_size=3), scores, max_size=30), st.integers(0, 35),
       st.randoms())
def test_top_networks_is_prefix_of_full_ranking_whatever_the_order(
        risks: dict[str, float], k: int, rnd: random.Random) -> None:
    full = sorted(risks, key=lambda n: (-risks[n], n))
    items = list(risks.items())
    rnd.shuffle(items)
    assert top_networks(dict(items), k) == full[:k]


def test_majority_controller_counts_and_breaks_ties_conservatively() -> None:
    trafficking = {"P1", "N1"}
    assert majority_controller({"P1": 3, "I1": 1}, trafficking) == "P1"
    assert majority_controller({"P1": 2, "I1": 2}, trafficking) == "I1"  # ambiguous: no hit
    assert majority_controller({"N1": 2, "P1": 2}, trafficking) == "N1"  # smallest id
    assert majority_controller({}, trafficking) is None
    assert majority_controller({"I1": 0}, trafficking) is None


def test_top_k_precision() -> None:
    assert top_k_precision([True, False, True, True], 3) == Share(2, 3)
    assert top_k_precision([True], 3) == Share(1, 3)  # fewer ranked than k: misses
    assert top_k_precision([True], 0).value is None


# --- shares and ratios -------------------------------------------------------------------


def test_share() -> None:
    assert share([True, False, False, True]) == Share(2, 4)
    assert share([True, False, False, True]).value == 0.5
    assert share([]).value is None


def test_minor_recall_and_false_minor_rate() -> None:
    assert minor_recall({(True, True): 3, (True, False): 1, (False, True): 7}) == Share(3, 4)
    assert minor_recall({(False, True): 2}).value is None
    cells = {("independent", True): 1, ("independent", False): 9, ("pimp", True): 5}
    assert false_minor_rate(cells) == Share(1, 10)


def test_rates_by_group() -> None:
    cells = {("french", True): 1, ("french", False): 3, ("foreign", True): 2}
    assert rates_by(cells) == {"french": Share(1, 4), "foreign": Share(2, 2)}


def test_rate_ratio_cases() -> None:
    assert rate_ratio(Share(1, 2), Share(1, 4)) == Ratio(2.0, None)
    assert rate_ratio(Share(0, 2), Share(1, 4)) == Ratio(0.0, None)
    assert rate_ratio(Share(0, 2), Share(0, 4)) == Ratio(None, "both_zero")
    assert rate_ratio(Share(1, 2), Share(0, 4)) == Ratio(None, "infinite")
    assert rate_ratio(Share(1, 2), Share(0, 0)) == Ratio(None, "no_ads")
    assert rate_ratio(Share(0, 0), Share(1, 2)) == Ratio(None, "no_ads")


@given(st.integers(0, 50), st.integers(1, 50), st.integers(1, 50), st.integers(1, 50))
def test_rate_ratio_is_ratio_of_rates(a: int, b: int, c: int, d: int) -> None:
    numerator, denominator = Share(min(a, b), b), Share(min(c, d), d)
    result = rate_ratio(numerator, denominator)
    assert numerator.value is not None and denominator.value is not None
    assert result.value == pytest.approx(numerator.value / denominator.value)


def test_recall_and_precision() -> None:
    cells = {(True, True): 3, (True, False): 1, (False, True): 2, (False, False): 10}
    assert recall(cells) == Share(3, 4)
    assert precision(cells) == Share(3, 5)
    assert recall({(False, True): 2}).value is None  # no true positives to find
    assert precision({(True, False): 2}).value is None  # nothing predicted


def test_kind_flag_rate() -> None:
    cells = {("scam", True): 1, ("scam", False): 3, ("pimp", True): 5}
    assert kind_flag_rate(cells, "scam") == Share(1, 4)
    assert kind_flag_rate(cells, "pimp") == Share(5, 5)
    assert kind_flag_rate(cells, "network").value is None


def test_spread_hand_computed() -> None:
    rates = {"FR": Share(4, 400), "BR": Share(6, 300), "ES": Share(5, 250),
             "TH": Share(9, 50)}  # TH has too few ads to count
    # FR 1 %, BR 2 %, ES 2 %: BR and ES tie for highest, BR first by name
    assert spread(rates, 200) == Spread("BR", "FR", 3, Ratio(2.0, None))
    assert spread(rates, 50) == Spread("TH", "FR", 4, Ratio(18.0, None))
    assert spread(rates, 300) == Spread("BR", "FR", 2, Ratio(2.0, None))


def test_spread_undefined_cases() -> None:
    assert spread({"FR": Share(1, 500)}, 200) == Spread(None, None, 1,
                                                        Ratio(None, "too_few_groups"))
    assert spread({}, 0) == Spread(None, None, 0, Ratio(None, "too_few_groups"))
    assert spread({"FR": Share(0, 0), "BR": Share(0, 0)}, 0).groups == 0  # empty: never
    zero = spread({"FR": Share(0, 300), "BR": Share(0, 200)}, 200)
    assert zero == Spread("BR", "FR", 2, Ratio(None, "both_zero"))  # equal: two names
    assert spread({"FR": Share(0, 300), "BR": Share(3, 200)}, 200) == Spread(
        "BR", "FR", 2, Ratio(None, "infinite"))


@given(st.dictionaries(st.sampled_from(["BR", "CN", "ES", "FR", "RO"]),
                       st.tuples(st.integers(0, 30), st.integers(1, 30)), min_size=2),
       st.integers(0, 30))
def test_spread_is_highest_over_lowest_rate_whatever_the_order(
        raw: dict[str, tuple[int, int]], min_total: int) -> None:
    rates = {group: Share(min(hits, total), total) for group, (hits, total) in raw.items()}
    result = spread(rates, min_total)
    assert spread(dict(reversed(list(rates.items()))), min_total) == result
    counted = {g: Fraction(s.hits, s.total) for g, s in rates.items() if s.total >= min_total}
    assert result.groups == len(counted)
    if len(counted) < 2:
        assert result.ratio.note == "too_few_groups"
        return
    assert result.highest is not None and result.lowest is not None
    assert counted[result.highest] == max(counted.values())
    assert counted[result.lowest] == min(counted.values())
    if min(counted.values()) > 0:
        assert result.ratio.value == pytest.approx(
            float(max(counted.values()) / min(counted.values())))
