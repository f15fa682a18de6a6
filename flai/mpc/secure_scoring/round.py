"""One secure scoring round in one process: K custodians, V validators, three nodes.

:func:`secure_score_round` composes the parties of :mod:`flai.mpc.secure_scoring`: the
custodians upload, the nodes open the norms and reject over-norm updates, each validator
shares its holdout and the nodes score it, the cosines a flag depends on are opened, and
each validator finalises its φ. Every party is a separate object exchanging only sealed
bytes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from flai.fl import Dataset, LogisticModel
from flai.mpc.errors import ProtocolError
from flai.mpc.rss3 import (
    Timing,
    run,
)
from flai.mpc.secure_scoring.config import N_NODES, SecureScoringConfig, truncation_failure_bound
from flai.mpc.secure_scoring.estimator import estimator
from flai.mpc.secure_scoring.finalize import SecureScores, cosine_requests, finalize_scores
from flai.mpc.secure_scoring.node import ScoringNode, combine_public
from flai.mpc.secure_scoring.parties import OpenedScores, ScoringClient, ScoringValidator

__all__ = [
    "SecureRoundResult",
    "secure_score_round",
]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class SecureRoundResult:
    """Everything one in-process secure scoring round produced.

    Attributes
    ----------
    accepted
        Indices (into the round's updates) that passed the opened norm check.
    norms
        ‖Δ_k‖ of every update (opened).
    scores
        Per validator, its :class:`SecureScores` over the accepted updates.
    opened
        Per validator, what was opened to it.
    cosines
        Player (accepted index) → opened cosine.
    failure_bound
        :func:`truncation_failure_bound` of each validator's run.
    timing
        Per validator, the nodes' local time per communication round.
    node_traffic
        Bytes each node sent and received between nodes.
    upload_bytes
        Bytes of each custodian's and each validator's sealed upload.
    """

    accepted: tuple[int, ...]
    norms: FloatArray
    scores: tuple[SecureScores, ...]
    opened: tuple[OpenedScores, ...]
    cosines: Mapping[int, float]
    failure_bound: float
    timing: tuple[Timing, ...]
    node_traffic: tuple[tuple[int, int], ...]
    upload_bytes: Mapping[str, int]


def _cosine(num: int, den: int, norm_sq: int) -> float:
    """cos = num / √(‖Δ_k‖²·den), all three at scale 2f (0 when a vector is zero)."""
    if den <= 0 or norm_sq <= 0:
        return 0.0
    return float(np.clip(num / math.sqrt(float(den) * float(norm_sq)), -1.0, 1.0))


def secure_score_round(
    *,
    base: LogisticModel,
    updates: Sequence[LogisticModel],
    holdouts: Sequence[Dataset],
    config: SecureScoringConfig | None = None,
    num_samples: Sequence[int] | None = None,
    round_id: int = 0,
    rng: np.random.Generator | None = None,
) -> SecureRoundResult:
    """Run secure scoring in-process: K custodians, V validators, three compute nodes.

    Every party is a separate object exchanging only sealed bytes; the nodes' protocol
    runs through :func:`flai.mpc.rss3.run`. ``rng`` draws the public permutations of a
    sampled estimator (only used beyond ``exact_max_players`` with sample weighting).
    """
    cfg = config or SecureScoringConfig()
    if not updates or not holdouts:
        raise ProtocolError("need at least one update and one holdout")
    nodes = [ScoringNode(index=j, config=cfg) for j in range(N_NODES)]
    keys = {n.index: n.public_key for n in nodes}
    upload_bytes: dict[str, int] = {}
    for k, update in enumerate(updates):
        sealed = ScoringClient(client_id=k, config=cfg, node_public_keys=keys).upload(
            update.params, round_id=round_id
        )
        upload_bytes[f"custodian-{k}"] = sealed.size
        for node in nodes:
            node.receive_update(sealed, round_id=round_id, client_id=k)
    validators = [
        ScoringValidator(validator_id=v, holdout=h, config=cfg) for v, h in enumerate(holdouts)
    ]
    clients = list(range(len(updates)))
    for node in nodes:
        node.begin_round(
            round_id=round_id,
            base=base,
            clients=clients,
            node_public_keys=keys,
            num_samples=num_samples,
        )
    scale = 2.0 ** (2 * cfg.frac_bits)
    norm_ints = combine_public([n.open_norms(round_id=round_id) for n in nodes])
    norms = np.sqrt(np.maximum(np.array(norm_ints, dtype=np.float64), 0.0) / scale)
    bound = cfg.checks.max_update_norm
    accepted = tuple(k for k in clients if bound is None or norms[k] <= bound)
    if not accepted:
        raise ProtocolError("no update passed the norm check")
    counts = None if num_samples is None else [num_samples[k] for k in accepted]
    est = estimator(num_players=len(accepted), config=cfg.scoring, num_samples=counts, rng=rng)
    for v, val in enumerate(validators):
        sealed = val.share_holdout(base=base, round_id=round_id, node_public_keys=keys)
        upload_bytes[f"validator-{v}"] = sealed.size
        for node in nodes:
            node.receive_holdout(sealed, round_id=round_id, validator_id=v)
    opened: list[OpenedScores] = []
    timings: list[Timing] = []
    traffic = [[0, 0] for _ in nodes]
    failure = 0.0
    for v, val in enumerate(validators):
        timing = Timing(rounds=[])
        outputs = run(
            [
                n.score(
                    round_id=round_id,
                    validator_id=v,
                    players=accepted,
                    validator_public=val.public_key,
                    est=est,
                )
                for n in nodes
            ],
            timing=timing,
        )
        timings.append(timing)
        for j, n in enumerate(nodes):
            traffic[j][0] += n.last_traffic.total_sent + len(outputs[j])  # type: ignore[arg-type]
            traffic[j][1] += n.last_traffic.total_received
        opened.append(
            val.open_outputs(
                {j: outputs[j] for j in range(N_NODES)},  # type: ignore[misc]
                round_id=round_id,
                est=est,
            )
        )
        failure += truncation_failure_bound(
            config=cfg,
            num_params=base.params.shape[0],
            num_rows=val.holdout.num_samples,
            est=est,
        )
    accepted_norms = norms[list(accepted)]
    wanted = cosine_requests(opened, cfg.scoring)
    cosines: dict[int, float] = {}
    if wanted:
        parts = [n.open_cosines(round_id=round_id, players=accepted, targets=wanted) for n in nodes]
        values = combine_public(parts)
        for i, k in enumerate(wanted):
            cosines[k] = _cosine(values[2 * i], values[2 * i + 1], norm_ints[accepted[k]])
    scores = tuple(
        finalize_scores(o, norms=accepted_norms.tolist(), cosines=cosines, config=cfg.scoring)
        for o in opened
    )
    return SecureRoundResult(
        accepted=accepted,
        norms=norms,
        scores=scores,
        opened=tuple(opened),
        cosines=cosines,
        failure_bound=failure,
        timing=tuple(timings),
        node_traffic=tuple((s, r) for s, r in traffic),
        upload_bytes=upload_bytes,
    )
