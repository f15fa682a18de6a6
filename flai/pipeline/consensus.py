"""Validator consensus on contribution scores, bit-for-bit the rule of ``TrainingRounds``.

The contract (``_weightedMedian``, ``_slashDeviators``) takes, for every submitter ``i``,
the *lower stake-weighted median* of the validators' 1e18 fixed-point scores — the
smallest score ``x`` such that the validators scoring ``≤ x`` hold at least half the total
stake (``2·cum ≥ total``) — a robust aggregate in the spirit of DIN's median consensus
(004 §5.2) and FLock's stake-weighted voting (003 §VI). A validator whose mean absolute
deviation from the consensus exceeds the tolerance is slashed ``slash_bps`` of its
deposit. Integers throughout, so the off-chain result equals the on-chain one exactly.
With equal stakes and an odd number of validators this is the plain median the FL engine
uses (:func:`flai.fl.run_round`), so the engine's consensus φ and the chain's agree.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["PHI_ONE", "mean_abs_deviation", "slash_amounts", "stake_weighted_median"]

PHI_ONE = 10**18
"""φ = 1 in the chain's fixed point."""


def _weighted_median(column: Sequence[int], stakes: Sequence[int]) -> int:
    order = sorted(range(len(column)), key=lambda v: column[v])  # stable, as the insertion sort
    total = sum(stakes)
    cum = 0
    for v in order:
        cum += stakes[v]
        if 2 * cum >= total:
            return int(column[v])
    return int(column[order[-1]])


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
    ValueError
        No validators, ragged rows, a score outside ``[0, 1e18]`` or a negative stake.
    """
    if not scores or len(scores) != len(stakes):
        raise ValueError("need one stake per validator and at least one validator")
    width = len(scores[0])
    for row in scores:
        if len(row) != width:
            raise ValueError("every validator must score every submitter")
        if any(not 0 <= s <= PHI_ONE for s in row):
            raise ValueError(f"scores must lie in [0, {PHI_ONE}]")
    if any(w < 0 for w in stakes):
        raise ValueError("stakes must be non-negative")
    return tuple(_weighted_median([row[i] for row in scores], stakes) for i in range(width))


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
