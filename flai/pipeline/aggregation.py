"""The compute nodes' step of a round: φ-weighted FedAvg on replicated shares.

The nodes received each custodian's aggregation shares while scoring
(:func:`flai.pipeline.scoring.score_on_shares`, which rejects a bundle that does not open
and binds them to the scored upload); the available ones compute their part of
Σ c_k·[w_k] over the updates with φ > 0 (:mod:`flai.mpc.secure_aggregation`) and t + 1
partials reconstruct the aggregate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from flai.fl import LogisticModel
from flai.mpc import (
    AggregationNode,
    ProtocolError,
    ThresholdError,
    encode_weights,
    reconstruct_aggregate,
)
from flai.pipeline.errors import PipelineError, ThresholdUnavailableError
from flai.pipeline.roles import Federation

__all__ = ["secure_aggregate"]


def secure_aggregate(
    fed: Federation,
    *,
    round_id: int,
    nodes: Mapping[int, AggregationNode],
    phi: Mapping[str, int],
    available: Sequence[int],
    step: str,
) -> LogisticModel:
    """φ-weighted FedAvg on replicated shares by the ``available`` compute nodes.

    Raises
    ------
    ThresholdUnavailableError
        Fewer than t + 1 nodes available.
    PipelineError
        A credited submitter whose upload the nodes do not hold (φ > 0 only for uploads
        that opened, so this is a consensus that credits a rejected bundle).
    """
    cfg = fed.aggregation
    if len(available) < cfg.threshold + 1:
        raise ThresholdUnavailableError(
            step=step, available=len(available), required=cfg.threshold + 1
        )
    up = {j: node for j, node in nodes.items() if j in set(available)}
    if len(up) < cfg.threshold + 1:
        raise ThresholdUnavailableError(step=step, available=len(up), required=cfg.threshold + 1)
    index = {h.name: h.index for h in fed.hospitals}
    weights = encode_weights(
        {index[n]: w / 10**18 for n, w in phi.items() if w > 0},
        weight_bits=cfg.weight_bits,
    )
    try:
        # Semi-honest nodes (flai/mpc/README.md): each share component is computed by one
        # available holder, not cross-checked by all of them.
        owned = cfg.scheme.assign(up)
        partials = [
            node.weighted_partial(round_id=round_id, weights=weights, components=owned[j])
            for j, node in up.items()
        ]
        params = reconstruct_aggregate(cfg, partials, weights)
    except ThresholdError as exc:
        raise ThresholdUnavailableError(
            step=step, available=exc.available, required=exc.required
        ) from exc
    except ProtocolError as exc:
        raise PipelineError(f"{step}: the compute nodes cannot aggregate: {exc}") from exc
    return LogisticModel(params=params)
