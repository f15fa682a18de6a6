"""In-process deployment of the session protocol: nodes, dealer and users in one process.

:func:`open_offsets` is the once-per-model step (deal [b'], open δ = θ − b' among the
nodes); :class:`MaskedInference` starts the nodes on a shared model, hands out users with
sessions and masks, and runs the online path for tests and benchmarks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from flai.mpc.envelope import KeyPair
from flai.mpc.errors import ThresholdError
from flai.mpc.inference.masks import MaskDealer
from flai.mpc.inference.node import MaskedInferenceNode
from flai.mpc.inference.params import InferenceConfig, ModelPart, share_params
from flai.mpc.inference.user import InferenceUser
from flai.mpc.replicated import ReplicatedScheme

__all__ = [
    "MaskedInference",
    "open_offsets",
]


def open_offsets(
    nodes: Sequence[MaskedInferenceNode], dealer: MaskDealer, *, scheme: ReplicatedScheme
) -> np.ndarray:
    """Once per model: deal [b'], open δ = θ − b' among ``nodes`` and give it to each."""
    b_shares = dealer.offsets()
    delta = scheme.reconstruct([n.offset(b_shares[n.index]) for n in nodes])
    for n in nodes:
        n.set_offset(delta)
    return delta


@dataclass
class MaskedInference:
    """In-process deployment of the session protocol: nodes, dealer, users."""

    config: InferenceConfig
    nodes: Sequence[MaskedInferenceNode]
    dealer: MaskDealer
    weight_scale: float
    num_features: int
    model_id: bytes = b""

    @classmethod
    def from_parts(
        cls,
        parts: Mapping[int, ModelPart],
        *,
        config: InferenceConfig | None = None,
        model_id: bytes = b"",
        keypairs: Mapping[int, KeyPair] | None = None,
    ) -> MaskedInference:
        """Start nodes on already shared parameters (e.g. from :mod:`flai.mpc.conversion`)."""
        cfg = config or InferenceConfig()
        keys = keypairs or {j: KeyPair.generate() for j in range(cfg.n_nodes)}
        nodes = [
            MaskedInferenceNode(
                index=j, config=cfg, model=parts[j], keypair=keys[j], model_id=model_id
            )
            for j in range(cfg.n_nodes)
        ]
        first = parts[0]
        dealer = MaskDealer(config=cfg, length=first.params.length)
        open_offsets(nodes, dealer, scheme=cfg.scheme)
        return cls(
            config=cfg,
            nodes=nodes,
            dealer=dealer,
            weight_scale=first.weight_scale,
            num_features=first.num_features,
            model_id=model_id,
        )

    @classmethod
    def deploy(
        cls, *, coef: np.ndarray, intercept: float, config: InferenceConfig | None = None
    ) -> MaskedInference:
        """Share a plaintext model among fresh nodes (the owner forgets its plaintext)."""
        cfg = config or InferenceConfig()
        return cls.from_parts(share_params(coef, intercept, config=cfg), config=cfg)

    def user(self, keypair: KeyPair | None = None, *, masks: int = 0) -> InferenceUser:
        """A user with sessions to every node and ``masks`` masks issued to it."""
        user = InferenceUser(
            config=self.config,
            keypair=keypair or KeyPair.generate(),
            node_public_keys={n.index: n.public_key for n in self.nodes},
            weight_scale=self.weight_scale,
            num_features=self.num_features,
            model_id=self.model_id,
        )
        for j, hello in user.connect().items():
            self.nodes[j].accept(hello)
        if masks:
            self.provision(user, masks)
        return user

    def provision(self, user: InferenceUser, count: int) -> None:
        """Offline phase: issue ``count`` masks to ``user`` and its parts to every node."""
        clear, parts = self.dealer.issue(user=user.public_key, count=count)
        user.add_masks(clear)
        for node in self.nodes:
            node.add_masks(parts[node.index])

    def predict_logit(
        self, user: InferenceUser, x: np.ndarray, *, available_nodes: Iterable[int] | None = None
    ) -> np.ndarray:
        """The whole online path: seal, evaluate on each available node, open, reconstruct."""
        active = list(range(self.config.n_nodes) if available_nodes is None else available_nodes)
        if len(active) < self.config.threshold + 1:
            raise ThresholdError(
                available=len(active), required=self.config.threshold + 1, what="compute nodes"
            )
        query_id, sealed = user.query(x, nodes=active)
        answers = {j: self.nodes[j].evaluate(sealed[j]) for j in active}
        return user.logits(query_id, answers)
