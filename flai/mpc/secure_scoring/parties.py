"""The input and output parties of secure scoring: custodians and validators.

A custodian (:class:`ScoringClient`) seals its parameters θ_k as a three-party
replicated input; a validator (:class:`ScoringValidator`) prepares its holdout around
the current global model θ_0 (the rows diag(√h)·R and diag(g)·R), seals it, and
reconstructs its scores (:class:`OpenedScores`) from the three nodes' sealed outputs.
The associated data of each message names the round, the party and, for outputs, the
node, so a message is never accepted for another round or party.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit

from flai.fl import Dataset, LogisticModel
from flai.mpc import ring128 as r128
from flai.mpc.envelope import KeyPair, open_sealed
from flai.mpc.errors import EncodingRangeError, ProtocolError
from flai.mpc.rss3 import (
    SealedInput,
    combine_additive,
    seal_input,
)
from flai.mpc.secure_scoring.config import N_NODES, SecureScoringConfig
from flai.mpc.secure_scoring.estimator import Estimator

__all__ = [
    "OpenedScores",
    "ScoringClient",
    "ScoringValidator",
    "holdout_aad",
    "output_aad",
    "update_aad",
]

FloatArray = NDArray[np.float64]


def update_aad(round_id: int, client_id: int) -> bytes:
    """Associated data of custodian ``client_id``'s scoring upload in ``round_id``."""
    return b"flai/mpc/scoring/update" + struct.pack(">QQ", round_id, client_id)


def holdout_aad(round_id: int, validator_id: int) -> bytes:
    """Associated data of validator ``validator_id``'s holdout upload in ``round_id``."""
    return b"flai/mpc/scoring/holdout" + struct.pack(">QQ", round_id, validator_id)


def output_aad(round_id: int, validator_id: int, node: int) -> bytes:
    """Associated data of ``node``'s output sealed to validator ``validator_id``."""
    return b"flai/mpc/scoring/output" + struct.pack(">QQI", round_id, validator_id, node)


class ScoringClient:
    """A custodian: secret-shares its model parameters for scoring (Z_{2^128}, f bits).

    The upload is separate from the aggregation upload (:class:`~flai.mpc.AggregationClient`,
    Z_{2^44}); for d = 30 it is 31 elements of 16 bytes plus the key envelopes.
    """

    def __init__(
        self,
        *,
        client_id: int,
        config: SecureScoringConfig,
        node_public_keys: Mapping[int, bytes],
    ) -> None:
        self.client_id = client_id
        self.config = config
        self._keys = dict(node_public_keys)

    def upload(self, params: np.ndarray, *, round_id: int) -> SealedInput:
        """Encode θ (raising :class:`EncodingRangeError` beyond ``max_param``) and seal it."""
        theta = np.asarray(params, dtype=np.float64).reshape(1, -1)
        encoded = r128.encode(theta, self.config.frac_bits, limit=self.config.max_param)
        return seal_input(
            encoded,
            self._keys,
            aad=update_aad(round_id, self.client_id),
            correction=self.client_id % N_NODES,
        )


@dataclass(frozen=True)
class OpenedScores:
    """What one validator reconstructs from the nodes' outputs.

    Attributes
    ----------
    shapley, standard_errors
        SV_k and SE_k of the accepted updates (secure estimate of the Taylor utility).
    lmv
        Standalone gains v({k}) − v(∅), or ``None`` when the composite does not use them.
    gain
        v(N) − v(∅): ΣSV for an exact estimator, else the opened grand-coalition row.
    exact
        Whether the Shapley coefficients are exact.
    """

    shapley: FloatArray
    standard_errors: FloatArray
    lmv: FloatArray | None
    gain: float
    exact: bool


class ScoringValidator:
    """A validator: prepares and shares its holdout, opens its scores, computes φ."""

    def __init__(
        self,
        *,
        validator_id: int,
        holdout: Dataset,
        config: SecureScoringConfig,
        keypair: KeyPair | None = None,
    ) -> None:
        self.validator_id = validator_id
        self.holdout = holdout
        self.config = config
        self._keypair = keypair or KeyPair.generate()

    @property
    def public_key(self) -> bytes:
        """X25519 public key the nodes seal this validator's outputs to."""
        return self._keypair.public_bytes

    def prepare(self, base: LogisticModel) -> np.ndarray:
        """[diag(√h)·R ; diag(g)·R] at θ_0 = ``base`` (2n × (d + 1), plaintext, local)."""
        self.holdout.require_features(base.num_features)
        X = self.holdout.X
        peak = float(np.max(np.abs(X)))
        if peak > self.config.max_feature:
            raise EncodingRangeError(
                value=peak, limit=self.config.max_feature, what=f"{self.holdout.name} feature"
            )
        rows = np.hstack([X, np.ones((X.shape[0], 1))])
        p = expit(rows @ base.params)
        g = p - self.holdout.y
        h = p * (1.0 - p)
        return np.vstack([np.sqrt(h)[:, None] * rows, g[:, None] * rows])

    def share_holdout(
        self, *, base: LogisticModel, round_id: int, node_public_keys: Mapping[int, bytes]
    ) -> SealedInput:
        """Prepare, encode and seal the holdout for the three nodes."""
        prepared = self.prepare(base)
        encoded = r128.encode(prepared, self.config.frac_bits, limit=self.config.max_feature)
        return seal_input(
            encoded,
            node_public_keys,
            aad=holdout_aad(round_id, self.validator_id),
            correction=self.validator_id % N_NODES,
        )

    def open_outputs(
        self, sealed: Mapping[int, bytes], *, round_id: int, est: Estimator
    ) -> OpenedScores:
        """Reconstruct S and W from the three nodes' sealed parts.

        Raises
        ------
        EnvelopeError
            A part that does not open (wrong key, tampering, another round or validator).
        """
        if set(sealed) != set(range(N_NODES)):
            raise ProtocolError(f"need the outputs of nodes 0..2, got {sorted(sealed)}")
        K = int(est.A.shape[1])
        width = est.rows + K
        parts = []
        for j in range(N_NODES):
            payload = open_sealed(
                sealed[j], self._keypair, aad=output_aad(round_id, self.validator_id, j)
            )
            parts.append(r128.unpack(payload, (width,)))
        total = combine_additive(parts)
        f = self.config.frac_bits
        n = self.holdout.num_samples
        sums = r128.decode(total[:, : est.rows], f) / n
        w = np.array(r128.to_ints(total[:, est.rows :]), dtype=np.float64) / 2.0 ** (2 * f)
        se = np.sqrt(np.maximum(w, 0.0) / (n * n * (n - 1))) if n > 1 else np.zeros(K)
        shapley = sums[est.shapley]
        gain = float(shapley.sum()) if est.grand is None else float(sums[est.grand])
        return OpenedScores(
            shapley=shapley,
            standard_errors=se,
            lmv=None if est.lmv is None else sums[est.lmv],
            gain=gain,
            exact=est.exact,
        )
