"""Consensus φ: the contract's lower stake-weighted median and deviation slashing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flai.fl import ConsensusError, mean_abs_deviation, slash_amounts, stake_weighted_median

ONE = 10**18


def test_equal_stakes_odd_validators_is_the_plain_median():
    scores = [[ONE // 2, 0, ONE], [ONE // 4, 7, ONE // 3], [ONE // 3, 5, 0]]
    assert stake_weighted_median(scores, [1, 1, 1]) == (ONE // 3, 5, ONE // 3)


def test_lower_median_for_an_even_split():
    # two validators with equal stake: 2·cum ≥ total already at the lower score
    assert stake_weighted_median([[10], [20]], [5, 5]) == (10,)


def test_a_majority_stake_decides():
    scores = [[ONE], [0], [0]]
    assert stake_weighted_median(scores, [300, 100, 100]) == (ONE,)
    assert stake_weighted_median(scores, [200, 100, 101]) == (0,)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, ONE), min_size=1, max_size=7).flatmap(
        lambda col: st.tuples(
            st.just(col), st.lists(st.integers(1, 10**6), min_size=len(col), max_size=len(col))
        )
    )
)
def test_weighted_median_definition(data):
    column, stakes = data
    (m,) = stake_weighted_median([[x] for x in column], stakes)
    total = sum(stakes)
    below_or_equal = sum(w for x, w in zip(column, stakes, strict=True) if x <= m)
    strictly_below = sum(w for x, w in zip(column, stakes, strict=True) if x < m)
    assert m in column
    assert 2 * below_or_equal >= total  # at least half the stake at or below m
    assert 2 * strictly_below < total  # m is the smallest such score


def test_equal_stakes_match_the_middle_score_for_three():
    rng = np.random.default_rng(3)
    for _ in range(20):
        scores = rng.integers(0, ONE, size=(3, 5)).tolist()
        middle = tuple(sorted(col)[1] for col in zip(*scores, strict=True))
        assert stake_weighted_median(scores, [7, 7, 7]) == middle


def test_deviation_and_slashing():
    consensus = (ONE // 2, ONE // 2)
    honest, rogue = [ONE // 2, ONE // 2 + 10], [ONE, 0]
    assert mean_abs_deviation(honest, consensus) == 5
    assert mean_abs_deviation(rogue, consensus) == ONE // 2
    cuts = slash_amounts(
        [honest, rogue], [1000, 1000], consensus, tolerance=ONE // 10, slash_bps=1000
    )
    assert cuts == (0, 100)


def test_rejects_malformed_inputs():
    with pytest.raises(ConsensusError, match="every validator"):
        stake_weighted_median([[1, 2], [1]], [1, 1])
    with pytest.raises(ConsensusError, match="lie in"):
        stake_weighted_median([[ONE + 1]], [1])
    with pytest.raises(ConsensusError, match="one stake per validator"):
        stake_weighted_median([], [])
