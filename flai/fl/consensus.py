"""The one consensus rule on contribution scores: bit-for-bit the rule of ``TrainingRounds``.

The contract (``_weightedMedian``, ``_slashDeviators``) takes, for every submitter ``i``,
the *lower stake-weighted median* of the validators' 1e18 fixed-point scores — the
smallest score ``x`` such that the validators scoring ``≤ x`` hold at least half the total
stake (``2·cum ≥ total``) — a robust aggregate in the spirit of DIN's median consensus
(004 §5.2) and FLock's stake-weighted voting (003 §VI). A validator whose mean absolute
deviation from the consensus exceeds the tolerance is slashed ``slash_bps`` of its
deposit. Integers throughout, so the off-chain result equals the on-chain one exactly.
The FL engine's round (:func:`flai.fl.run_round`), the pipeline and the test ledgers all
use this module, so the engine's consensus φ and the chain's are the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from flai.fl.errors import ConsensusError

__all__ = [
    "PHI_ONE",
    "lower_weighted_median",
    "mean_abs_deviation",
    "slash_amounts",
    "stake_weighted_median",
]

PHI_ONE = 10**18
"""φ = 1 in the chain's fixed point."""

_V = TypeVar("_V", int, float)


def lower_weighted_median(column: Sequence[_V], stakes: Sequence[int]) -> _V:
    """The smallest value whose validators, with every lower one, hold at least half the
    stake (``2·cum ≥ total``); ties keep the validators' order, as the contract's stable
    insertion sort does. The rule of :func:`stake_weighted_median`, for any numbers."""
    order = sorted(range(len(column)), key=lambda v: column[v])
    total = sum(stakes)
    cum = 0
    for v in order:
        cum += stakes[v]
        if 2 * cum >= total:
            return column[v]
    return column[order[-1]]


def stake_weighted_median(
    scores: Sequence[Sequence[int]], stakes: Sequence[int]
) -> tuple[int, ...]:
    """Consensus φ per submitter: lower stake-weighted median of each column.

    Parameters
    ----------
    scores
        ``scores[v][i]``: validator ``v``'s fixed-point score for submitter ``i``.
    stakes
        Validator deposits (weights), same order as ``scores``.

    Raises
    ------
    ConsensusError
        No validators, ragged rows, a score outside ``[0, 1e18]`` or a negative stake.
    """
    if not scores or len(scores) != len(stakes):
        raise ConsensusError("need one stake per validator and at least one validator")
    width = len(scores[0])
    for row in scores:
        if len(row) != width:
            raise ConsensusError("every validator must score every submitter")
        if any(not 0 <= s <= PHI_ONE for s in row):
            raise ConsensusError(f"scores must lie in [0, {PHI_ONE}]")
    if any(w < 0 for w in stakes):
        raise ConsensusError("stakes must be non-negative")
    return tuple(
        int(lower_weighted_median([row[i] for row in scores], stakes)) for i in range(width)
    )


def mean_abs_deviation(row: Sequence[int], consensus: Sequence[int]) -> int:
    """``⌊Σ|s_i − φ_i| / n⌋`` (1e18 fixed point); 0 for no submitters."""
    if not consensus:
        return 0
    return sum(abs(a - b) for a, b in zip(row, consensus, strict=True)) // len(consensus)


def slash_amounts(
    scores: Sequence[Sequence[int]],
    stakes: Sequence[int],
    consensus: Sequence[int],
    *,
    tolerance: int,
    slash_bps: int,
) -> tuple[int, ...]:
    """Per validator, the deposit slashed: ``stake·bps/10⁴`` if its deviation > tolerance."""
    return tuple(
        (stake * slash_bps) // 10_000 if mean_abs_deviation(row, consensus) > tolerance else 0
        for row, stake in zip(scores, stakes, strict=True)
    )
