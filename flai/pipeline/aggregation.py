"""The compute nodes' step of a round: φ-weighted FedAvg on replicated shares.

Each custodian's bundle carries its update as replicated shares sealed to the compute
nodes (:class:`flai.mpc.AggregationClient`); the available nodes open the shares of the
updates with φ > 0, each computes its part of Σ c_k·[w_k] (:mod:`flai.mpc.secure_aggregation`)
and t + 1 partials reconstruct the aggregate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from flai.fl import LogisticModel
from flai.mpc import (
    AggregationNode,
    EnvelopeError,
    ProtocolError,
    ThresholdError,
    encode_weights,
    reconstruct_aggregate,
)
from flai.pipeline.codec import decode_bundle
from flai.pipeline.errors import PipelineError, ThresholdUnavailableError
from flai.pipeline.roles import Federation

__all__ = ["secure_aggregate"]


def secure_aggregate(
    fed: Federation,
    *,
    round_id: int,
    bundles: Mapping[str, bytes],
    phi: Mapping[str, int],
    available: Sequence[int],
    step: str,
) -> LogisticModel:
    """φ-weighted FedAvg on replicated shares by the ``available`` compute nodes.

    Raises
    ------
    ThresholdUnavailableError
        Fewer than t + 1 nodes available.
    """
    cfg = fed.aggregation
    if len(available) < cfg.threshold + 1:
        raise ThresholdUnavailableError(
            step=step, available=len(available), required=cfg.threshold + 1
        )
    nodes = {
        n.index: AggregationNode(index=n.index, config=cfg, keypair=n.keypair)
        for n in fed.compute_nodes
        if n.index in available
    }
    index = {h.name: h.index for h in fed.hospitals}
    for name, weight in phi.items():
        if weight <= 0:
            continue
        try:
            _, _, sealed = decode_bundle(bundles[name])
            for node in nodes.values():
                node.receive(sealed, round_id=round_id, client_id=index[name])
        except (EnvelopeError, ProtocolError, ValueError, KeyError) as exc:
            raise PipelineError(
                f"{step}: the compute nodes cannot open the shares of {name}: {exc}"
            ) from exc
    weights = encode_weights(
        {index[n]: w / 10**18 for n, w in phi.items() if w > 0},
        weight_bits=cfg.weight_bits,
    )
    try:
        # Semi-honest nodes (flai/mpc/README.md): each share component is computed by one
        # available holder, not cross-checked by all of them.
        owned = cfg.scheme.assign(nodes)
        partials = [
            node.weighted_partial(round_id=round_id, weights=weights, components=owned[j])
            for j, node in nodes.items()
        ]
        params = reconstruct_aggregate(cfg, partials, weights)
    except ThresholdError as exc:
        raise ThresholdUnavailableError(
            step=step, available=exc.available, required=exc.required
        ) from exc
    return LogisticModel(params=params)
