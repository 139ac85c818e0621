"""The weights of weak evidence (``link.evidence``): what is shared, how common it is, and
what two parts of one controller have in common."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faisceau.link.evidence import (
    Weigher,
    counted_by,
    estimate_m,
    kind_values,
    shared,
    threshold,
)


def ints(values: list[int]) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 7), st.integers(-3, 9)), max_size=40),
       st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), max_size=12))
def test_what_two_groups_share_is_what_they_both_show(rows: list[tuple[int, int]],
                                                        pairs: list[tuple[int, int]]) -> None:
    values = kind_values("x", ints([g for g, _ in rows]), ints([v for _, v in rows]), 8)
    left, right = ints([a for a, _ in pairs]), ints([b for _, b in pairs])
    found = shared(values, left, right)
    shown: dict[int, set[int]] = {}
    for g, v in rows:
        shown.setdefault(g, set()).add(v)
    groups_of: dict[int, set[int]] = {}
    for g, v in rows:
        groups_of.setdefault(v, set()).add(g)
    frequency = {v: len(gs) for v, gs in groups_of.items()}
    for i, (a, b) in enumerate(pairs):
        common = shown.get(a, set()) & shown.get(b, set())
        assert found.count[i] == len(common)
        assert found.rarest(values.per_value)[i] == min((frequency[v] for v in common),
                                                          default=0)
        assert found.commonest(values.per_value)[i] == max((frequency[v] for v in common),
                                                             default=0)


def test_frequencies_count_networks_not_groups() -> None:
    # Value 0 shown by groups 0, 1, 2; groups 0 and 1 are one network.
    values = kind_values("x", ints([0, 1, 2, 2]), ints([0, 0, 0, 1]), 3)
    assert values.per_value.tolist() == [3, 1]
    by_network = counted_by(values, ints([0, 0, 1]), 2)
    assert by_network.per_value.tolist() == [2, 1] and by_network.groups == 2


def test_m_is_how_often_two_parts_of_one_controller_share_a_value() -> None:
    # Ten groups of two parts: in seven, both parts show value 100 + group; in three, each
    # part shows its own value. A part of a group alone does not count.
    part_of_group = ints([g for g in range(10) for _ in range(2)] + [10])
    rows, vals = [], []
    for g in range(10):
        for part in (2 * g, 2 * g + 1):
            rows.append(part)
            vals.append(100 + g if g < 7 else 1000 + part)
    rows.append(20)
    vals.append(100)
    m, parts = estimate_m(part_of_group, ints(rows), ints(vals), default=0.5)
    assert parts == 20 and m == 0.7
    # Too few parts to learn from: the default.
    assert estimate_m(part_of_group[:4], ints(rows[:4]), ints(vals[:4]), 0.5) == (0.5, 4)


def test_a_rare_value_weighs_more_than_a_common_one_and_a_big_group_is_credited_less(
        ) -> None:
    # 1,000 groups; value 0 shown by groups 0 and 1 only, value 1 by 200 groups; group 2
    # shows 30 values.
    groups = [0, 1, *range(2, 202), *[2] * 29]
    vals = [0, 0, *[1] * 200, *range(10, 39)]
    values = kind_values("persona", ints(groups), ints(vals), 1000, independent=True)
    w = Weigher("persona", 0.7, values)
    none = np.zeros(1, dtype=np.bool_)
    rare = w.agreement(ints([1]), ints([2]), ints([0]), ints([1]), none)[0]
    common = w.agreement(ints([1]), ints([200]), ints([3]), ints([4]), none)[0]
    big = w.agreement(ints([1]), ints([200]), ints([2]), ints([4]), none)[0]
    assert rare > common > big
    # Disagreement is negative evidence, weighed by the same m.
    assert w.disagreement(ints([0]), ints([3]))[0] < 0


def test_the_threshold_is_the_log_prior_odds_plus_the_posterior_odds() -> None:
    assert threshold(1000, 0.999) == pytest.approx(math.log(1000) + math.log(999))


def test_personas_in_common_count_several_coincidences_are_rarer_than_one() -> None:
    # Groups 0 and 1 show personas 0-4, each also shown by ten of 1,000 other groups.
    groups = [0] * 5 + [1] * 5 + [2 + 10 * v + k for v in range(5) for k in range(10)]
    vals = [*range(5), *range(5), *[v for v in range(5) for _ in range(10)]]
    values = kind_values("persona", ints(groups), ints(vals), 1000, independent=True)
    w = Weigher("persona", 0.7, values)
    none = np.zeros(1, dtype=np.bool_)
    one, three = (w.agreement(ints([c]), ints([12]), ints([0]), ints([1]), none)[0]
                  for c in (1, 3))
    assert three > one + 3
