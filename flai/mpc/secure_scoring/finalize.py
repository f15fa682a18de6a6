"""From the values opened to a validator to φ and flags, by the plaintext rules.

:func:`finalize_scores` applies :func:`flai.fl.score_contributions`'s rules (flags,
``SV − z·SE``, clipping, composite and normalisation) to what secure scoring opened;
:func:`cosine_requests` names the players whose poisoner flag needs their cosine opened.
Pure post-processing on public values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from flai.fl import Flag, ScoringConfig, composite_phi
from flai.mpc.errors import ProtocolError
from flai.mpc.secure_scoring.parties import OpenedScores

__all__ = [
    "SecureScores",
    "cosine_requests",
    "finalize_scores",
]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class SecureScores:
    """One validator's scores, computed from the opened values as the plaintext would.

    Attributes
    ----------
    shapley, standard_errors, lmv
        Opened per accepted update (``lmv`` zeros when unused).
    cosine
        Cosine to the others' mean where it was opened, ``nan`` elsewhere.
    phi
        φ ∈ [0, 1] per accepted update (flagged ones 0).
    flags
        Flags per accepted update.
    """

    shapley: FloatArray
    standard_errors: FloatArray
    lmv: FloatArray
    cosine: FloatArray
    phi: FloatArray
    flags: tuple[frozenset[Flag], ...]


def _poison_bar(opened: OpenedScores, config: ScoringConfig) -> float:
    return config.poison_tolerance + config.poison_relative_tolerance * abs(opened.gain)


def cosine_requests(opened: Sequence[OpenedScores], config: ScoringConfig) -> list[int]:
    """Accepted players whose poisoner flag depends on the cosine for some validator.

    A player needs it when −bar ≤ SV_k < −tol: below −bar it is flagged anyway, at or
    above −tol it cannot be.
    """
    need: set[int] = set()
    for o in opened:
        bar = _poison_bar(o, config)
        for k, sv in enumerate(o.shapley):
            if -bar <= sv < -config.poison_tolerance:
                need.add(k)
    return sorted(need)


def finalize_scores(
    opened: OpenedScores,
    *,
    norms: Sequence[float],
    cosines: Mapping[int, float],
    config: ScoringConfig,
) -> SecureScores:
    """φ and flags from the opened values, by the rules of :func:`flai.fl.score_contributions`.

    Parameters
    ----------
    opened
        The validator's opened SV, SE (and LMV, gain).
    norms
        ‖Δ_k‖ of the accepted updates (opened per round).
    cosines
        Player → cosine, for the players :func:`cosine_requests` asked for.
    config
        The plaintext scoring rules.
    """
    K = len(opened.shapley)
    bar = _poison_bar(opened, config)
    flags: list[frozenset[Flag]] = []
    cosine = np.full(K, np.nan)
    for k in range(K):
        sv = float(opened.shapley[k])
        if k in cosines:
            cosine[k] = cosines[k]
        if norms[k] <= config.free_rider_tolerance:
            flags.append(frozenset({Flag.FREE_RIDER}))
        elif sv < -bar:
            flags.append(frozenset({Flag.POISONER}))
        elif sv < -config.poison_tolerance:
            if k not in cosines:
                raise ProtocolError(f"player {k} needs its cosine opened to be flagged")
            poisoner = cosines[k] < config.poison_cosine
            flags.append(frozenset({Flag.POISONER}) if poisoner else frozenset())
        else:
            flags.append(frozenset())
    credited = np.array([not f for f in flags])
    gmv = opened.shapley - config.confidence_z * opened.standard_errors
    lmv = opened.lmv if opened.lmv is not None else np.zeros(K)
    phi = composite_phi(
        np.where(credited, lmv, 0.0),
        np.where(credited, gmv, 0.0),
        alpha=config.lmv_weight,
        beta=config.gmv_weight,
        normalization=config.normalization,
    )
    return SecureScores(
        shapley=opened.shapley,
        standard_errors=opened.standard_errors,
        lmv=lmv,
        cosine=cosine,
        phi=phi,
        flags=tuple(flags),
    )
