"""Contribution scoring inside sMPC: Shapley values of updates on secret-shared holdouts.

001 §3.2, §5.3 (eq. 7) ask validators to score updates on private holdouts "without
revealing data or models to one another". Here neither a validator nor a compute node sees
an individual update or a holdout: custodians secret-share their parameters θ_k, each
validator secret-shares its holdout (prepared as below) among three compute nodes, the
nodes evaluate the coalition game on shares, and only per-validator score vectors and a
few per-update statistics are opened (see *What is opened*).

Utility
    The plaintext game (:class:`flai.fl.CoalitionGame`) values a coalition S by the mean
    log-likelihood of the averaged model θ_S = Σ_{k∈S} a_k θ_k / Σ_{k∈S} a_k on the
    holdout (negative log-loss; a_k uniform or sample counts, public). Secure scoring
    replaces the per-sample loss by its second-order Taylor expansion around the current
    global model θ_0 — a Newton (Laplace) approximation of the holdout likelihood:
    with r_i = (x_i, 1), z_i = r_i·θ_0, p_i = σ(z_i), g_i = p_i − y_i, h_i = p_i(1 − p_i) and
    δ_{k,i} = r_i·(θ_k − θ_0),

        v_i(S) − v_i(∅) ≈ −g_i δ_{S,i} − ½ h_i δ_{S,i}²,   δ_{S,i} = Σ_{k∈S} α_{S,k} δ_{k,i}.

    The validator knows θ_0 and its own rows, so it computes g and h itself and shares
    G̃ = diag(g)·R and H̃ = diag(√h)·R; the nodes never see labels or logits. Around θ_0 the
    expansion is exact to second order (a Taylor expansion at z = 0, log 2 − yz/2 + z²/8,
    penalises confident correct predictions once a model is trained and ranks worse).
    Measured against the plaintext exact Shapley on negative log-loss, see
    ``bench/secure_scoring.py``.

Estimator (public, linear)
    Shapley values are linear in v: SV_k = Σ_S M_{S,k} v(S). With u_{j,i} = √h_i δ_{j,i}
    and l_{j,i} = g_i δ_{j,i}, every per-sample Shapley value is
    φ_{k,i} = −Σ_j A_{kj} l_{j,i} − ½ Σ_{j,l} B_{kjl} u_{j,i} u_{l,i} with public A = Mᵀα and
    B = Mᵀ(α ⊗ α). For uniform a_k, A and B have a closed form for any K (by symmetry each
    entry depends only on how j, l relate to k), so exact Shapley costs O(K²) here, not
    O(2^K); for sample weights they are enumerated up to ``exact_max_players`` and sampled
    over public random permutations beyond. The standard error of SV_k over the holdout
    (for the plaintext's ``SV − z·SE`` credit) needs Σ_i φ_{k,i}², a degree-4 function of
    the inputs, computed on shares too.

Protocol (per validator; :mod:`flai.mpc.rss3`, three nodes, t = 1)
    1. [ũ; l] = [H̃; G̃] · [Δ_1 … Δ_K] — one secure matrix product with truncation (two
       rounds, 2nK elements of 16 bytes per node at most);
    2. φ = −A·l − ½ B(ũ ⊗ ũ), per sample — one secure product with truncation (two
       rounds, nK elements);
    3. S_k = Σ_i φ_{k,i} and W_k = n Σ_i φ_{k,i}² − S_k² are formed locally and opened to
       the validator (one message per node, sealed to it): SV_k = S_k / n,
       SE_k = √(W_k / (n²(n − 1))).

Fixed point and truncation
    Ring Z_{2^128} (:mod:`flai.mpc.ring128`), f = ``frac_bits`` fractional bits for the
    holdout and the updates, F = ``coeff_bits`` for A and B. Step 1 products carry 2f bits
    and are truncated by f; step 2 carries 2f + F and is truncated by f + F; step 3 is exact.
    Truncation is ABY3's Π_trunc1 (no dealer, no preprocessing): each truncated value is off
    by at most one unit 2^-f, except with probability 2^(b + 1 − 128) for a b-bit value.
    The honest bound on b follows from |x| ≤ ``max_feature`` and the update-norm check
    (‖Δ_k‖ ≤ ``checks.max_update_norm``, enforced on the opened norms before scoring):
    :func:`truncation_failure_bound` evaluates it (≈ 2^-50 per validator at the defaults,
    d = 30, K = 10, n = 300). A 64-bit ring would leave under 20 bits of margin.

What is opened, to whom
    - per round, to everyone: ‖Δ_k‖² (exact, at the encoding resolution) for the update
      check (norm bound → rejected) and the free-rider test (‖Δ_k‖ ≤ tolerance); the
      plaintext round reports update norms too;
    - per validator, to that validator only: SV_k and SE_k of the accepted updates (and
      the standalone gains v({k}) − v(∅) when ``lmv_weight`` > 0; and v(N) − v(∅) when the
      estimator is sampled) — the inputs of the plaintext post-processing;
    - per round, to everyone, only for the updates whose cosine decides a flag (some
      validator has −bar ≤ SV_k < −tol): ⟨Δ_k, Δ̄_{−k}⟩ and ‖Δ̄_{−k}‖² (Δ̄_{−k} the weighted
      mean of the other updates), giving 001 §3.2's gradient divergence.
    - per round, to everyone, when the nodes bind each custodian's scoring upload to its
      aggregation upload (:meth:`ScoringNode.consistency_part`): 40 random linear
      combinations of the difference of the two, mod 2^ℓ — all 0 for an honest custodian.
    No coalition utility v(S) with |S| ≥ 2, no logit, no holdout row and no coordinate of
    any update is opened: K scores and K standard errors are aggregates over the whole
    holdout, and with exact Shapley they determine neither the 2^K utilities nor the K(K+1)/2
    moments behind them. The validator then computes φ exactly as
    :func:`flai.fl.score_contributions` does (flags, ``SV − z·SE``, clipping, composite and
    normalisation) with :func:`finalize_scores`, and posts φ on chain as today.

Trust: semi-honest nodes, at most one of three colluding with anyone; the validator learns
what is opened to it; custodians learn nothing.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit

from flai.fl import CheckConfig, Dataset, Flag, LogisticModel, ScoringConfig, composite_phi
from flai.mpc import ring128 as r128
from flai.mpc.channel import Traffic
from flai.mpc.envelope import KeyPair, open_sealed, seal
from flai.mpc.errors import EncodingRangeError, InconsistentUploadError, ProtocolError
from flai.mpc.prg import expand, hkdf
from flai.mpc.replicated import NodeShare
from flai.mpc.rss3 import (
    Outbox,
    SealedInput,
    Share,
    ThreePartyNode,
    Timing,
    combine_additive,
    open_input,
    run,
    seal_input,
)

__all__ = [
    "Estimator",
    "OpenedScores",
    "PublicPart",
    "ScoringClient",
    "ScoringNode",
    "ScoringValidator",
    "SecureRoundResult",
    "SecureScores",
    "SecureScoringConfig",
    "check_consistency",
    "combine_public",
    "cosine_requests",
    "estimator",
    "finalize_scores",
    "secure_score_round",
    "truncation_failure_bound",
]

FloatArray = NDArray[np.float64]
N_NODES = 3


@dataclass(frozen=True)
class SecureScoringConfig:
    """Parameters of secure contribution scoring.

    Attributes
    ----------
    scoring
        The plaintext scoring rules reproduced after opening (coalition weighting,
        confidence bound, flags, composite, normalisation, exact-player limit).
    checks
        The update-norm bound, applied to the opened norms before scoring.
    frac_bits
        f, fractional bits of the shared holdout and updates and of every truncated value.
    coeff_bits
        F, fractional bits of the public estimator coefficients A and B.
    max_feature
        Largest accepted |x| of a holdout feature (the validator's encoder refuses more).
    max_param
        Largest accepted |θ| of an update parameter (the custodian's encoder).
    """

    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    checks: CheckConfig = field(default_factory=CheckConfig)
    frac_bits: int = 16
    coeff_bits: int = 20
    max_feature: float = 64.0
    max_param: float = 64.0

    def __post_init__(self) -> None:
        if not 8 <= self.frac_bits <= 32 or not 8 <= self.coeff_bits <= 32:
            raise ValueError(
                f"frac_bits and coeff_bits must lie in [8, 32], got {self.frac_bits}, "
                f"{self.coeff_bits}"
            )
        if not 0 < self.max_feature <= 2.0**20 or not 0 < self.max_param <= 2.0**20:
            raise ValueError("max_feature and max_param must lie in (0, 2^20]")
        if self.scoring.metric != "neg_log_loss":
            raise ValueError(
                f"secure scoring approximates neg_log_loss, not {self.scoring.metric!r}"
            )


# -------------------------------------------------------------------------- estimator


@dataclass(frozen=True, eq=False)
class Estimator:
    """Public coefficients of the scores as functions of the per-sample moments.

    Row r of the output is Σ_j A[r, j] l_j + Σ_{j,l} B[r, j, l] u_j u_l (mean over samples,
    with the sign of v). Rows: ``shapley`` (K), then ``lmv`` (K, optional), then ``grand``
    (v(N) − v(∅), optional).
    """

    A: FloatArray
    B: FloatArray
    shapley: slice
    lmv: slice | None
    grand: int | None
    exact: bool

    @property
    def rows(self) -> int:
        """Number of output rows."""
        return int(self.A.shape[0])


def _shapley_weights(k_players: int) -> list[Fraction]:
    """w(s) = s!(K − s − 1)!/K! for s = 0 … K − 1."""
    f = [math.factorial(i) for i in range(k_players + 1)]
    return [Fraction(f[s] * f[k_players - s - 1], f[k_players]) for s in range(k_players)]


def _uniform_exact(k_players: int) -> tuple[FloatArray, FloatArray]:
    """Closed-form A, B of exact Shapley for α_{S,j} = 1/|S| (any K, O(K) sums).

    With v(S) = (1/s) Σ_{j∈S} l_j + (1/s²) Σ_{j,l∈S} H_{jl}, SV_k sums w(s)·(v(S ∪ k) − v(S))
    over S ⊆ N∖k; an entry counts the coalitions of each size in which j (and l) appear.
    """
    K = k_players
    w = _shapley_weights(K)
    comb = math.comb

    def total(terms: Sequence[tuple[int, Fraction]]) -> float:
        return float(sum((Fraction(c) * t for c, t in terms), Fraction(0)))

    a_self = total([(comb(K - 1, s), w[s] / (s + 1)) for s in range(K)])
    a_other = total(
        [(comb(K - 2, s - 1), w[s] * (Fraction(1, s + 1) - Fraction(1, s))) for s in range(1, K)]
    )
    b_kkk = total([(comb(K - 1, s), w[s] / (s + 1) ** 2) for s in range(K)])
    b_kkl = total([(comb(K - 2, s - 1), w[s] / (s + 1) ** 2) for s in range(1, K)])
    diff = [Fraction(1, (s + 1) ** 2) - (Fraction(1, s**2) if s else 0) for s in range(K)]
    b_kjj = total([(comb(K - 2, s - 1), w[s] * diff[s]) for s in range(1, K)])
    b_kjl = total([(comb(K - 3, s - 2), w[s] * diff[s]) for s in range(2, K)]) if K >= 3 else 0.0
    A = np.full((K, K), a_other)
    np.fill_diagonal(A, a_self)
    B = np.full((K, K, K), b_kjl)
    for k in range(K):
        B[k, k, :] = b_kkl
        B[k, :, k] = b_kkl
        for j in range(K):
            if j != k:
                B[k, j, j] = b_kjj
        B[k, k, k] = b_kkk
    return A, B


def _alphas(masks: NDArray[np.int64], weights: FloatArray) -> FloatArray:
    bits = ((masks[:, None] >> np.arange(len(weights))) & 1).astype(np.float64)
    a = bits * weights
    total = a.sum(axis=1, keepdims=True)
    total[total == 0] = 1.0
    return np.asarray(a / total, dtype=np.float64)


def _enumerated_exact(weights: FloatArray) -> tuple[FloatArray, FloatArray]:
    """A, B of exact Shapley by enumerating the 2^K coalitions (any public weights)."""
    K = len(weights)
    masks = np.arange(1 << K, dtype=np.int64)
    sizes = np.array([int(m).bit_count() for m in masks])
    w = [float(x) for x in _shapley_weights(K)]
    M = np.zeros((1 << K, K))
    for k in range(K):
        has = ((masks >> k) & 1).astype(bool)
        M[:, k] = np.where(
            has,
            [w[s - 1] if s >= 1 else 0.0 for s in sizes],
            [-w[s] if s < K else 0.0 for s in sizes],
        )
    alpha = _alphas(masks, weights)
    A = M.T @ alpha
    B = np.einsum("sk,sj,sl->kjl", M, alpha, alpha)
    return np.asarray(A), np.asarray(B)


def _sampled(
    weights: FloatArray, permutations: int, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """A, B of permutation-sampling Shapley over ``permutations`` public permutations."""
    K = len(weights)
    A = np.zeros((K, K))
    B = np.zeros((K, K, K))
    for _ in range(permutations):
        perm = rng.permutation(K)
        prefix = np.zeros((K + 1, K))
        for p in range(1, K + 1):
            members = perm[:p]
            prefix[p, members] = weights[members] / weights[members].sum()
        outer = np.einsum("pj,pl->pjl", prefix, prefix)
        A[perm] += prefix[1:] - prefix[:-1]
        B[perm] += outer[1:] - outer[:-1]
    return A / permutations, B / permutations


def estimator(
    *,
    num_players: int,
    config: ScoringConfig,
    num_samples: Sequence[int] | None = None,
    rng: np.random.Generator | None = None,
) -> Estimator:
    """The public estimator rows for ``num_players`` accepted updates.

    Exact whenever the coefficients are computable: always for uniform weighting, up to
    ``config.exact_max_players`` for sample weighting; beyond that, permutation sampling
    with ``config.mc_max_permutations`` public permutations drawn from ``rng`` (the
    plaintext's truncated, adaptive sampling needs coalition values, which stay secret).
    """
    K = num_players
    if K < 1:
        raise ProtocolError("scoring needs at least one accepted update")
    if config.coalition_weighting == "samples":
        if num_samples is None or len(num_samples) != K or min(num_samples) <= 0:
            raise ProtocolError("sample weighting needs a positive sample count per update")
        weights = np.asarray(num_samples, dtype=np.float64)
    else:
        weights = np.ones(K)
    exact = True
    if config.coalition_weighting == "uniform":
        A, B = _uniform_exact(K)
    elif K <= config.exact_max_players:
        A, B = _enumerated_exact(weights)
    else:
        if rng is None:
            raise ProtocolError("sampled Shapley needs a public generator")
        A, B = _sampled(weights, config.mc_max_permutations, rng)
        exact = False
    rows_a, rows_b = [A], [B]
    lmv: slice | None = None
    if config.lmv_weight > 0:
        eye = np.eye(K)
        rows_a.append(eye)
        rows_b.append(np.einsum("kj,kl->kjl", eye, eye))
        lmv = slice(K, 2 * K)
    grand: int | None = None
    if not exact:
        full = weights / weights.sum()
        rows_a.append(full[None, :])
        rows_b.append(np.outer(full, full)[None, :, :])
        grand = sum(len(a) for a in rows_a) - 1
    return Estimator(
        A=np.concatenate(rows_a),
        B=np.concatenate(rows_b),
        shapley=slice(0, K),
        lmv=lmv,
        grand=grand,
        exact=exact,
    )


def truncation_failure_bound(
    *, config: SecureScoringConfig, num_params: int, num_rows: int, est: Estimator
) -> float:
    """Upper bound on the probability that any truncation of one validator's run fails.

    Honest magnitudes: |r_i·Δ| ≤ ‖r_i‖‖Δ‖ ≤ √(d·X² + 1)·N (X = ``max_feature``, N the norm
    bound or, without one, 2·``max_param``·√(d + 1)); |ũ| ≤ that / 2 and |l| ≤ that; a
    per-sample score is at most Σ|A|·|l| + ½Σ|B|·|ũ|². A value below 2^b fails with
    probability ≤ 2^(b + 1 − 128) (SecureML Thm. 1); the bound is the union over all values.
    """
    f, F = config.frac_bits, config.coeff_bits
    norm = config.checks.max_update_norm
    if norm is None:
        norm = 2 * config.max_param * math.sqrt(num_params)
    dot = math.sqrt((num_params - 1) * config.max_feature**2 + 1) * norm
    b1 = math.log2(dot * 2.0 ** (2 * f)) + 1
    per_sample = float(
        np.abs(est.A).sum(axis=1).max() * dot + 0.5 * np.abs(est.B).sum(axis=(1, 2)).max() * dot**2
    )
    b2 = math.log2(per_sample * 2.0 ** (2 * f + F) + 1) + 1
    k = int(est.A.shape[1])
    n1 = 2 * num_rows * k
    n2 = est.rows * num_rows
    return float(n1 * 2.0 ** (b1 + 1 - 128) + n2 * 2.0 ** (b2 + 1 - 128))


# ---------------------------------------------------------------------------- parties


def _update_aad(round_id: int, client_id: int) -> bytes:
    return b"flai/mpc/scoring/update" + struct.pack(">QQ", round_id, client_id)


def _holdout_aad(round_id: int, validator_id: int) -> bytes:
    return b"flai/mpc/scoring/holdout" + struct.pack(">QQ", round_id, validator_id)


def _output_aad(round_id: int, validator_id: int, node: int) -> bytes:
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
            aad=_update_aad(round_id, self.client_id),
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
            aad=_holdout_aad(round_id, self.validator_id),
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
                sealed[j], self._keypair, aad=_output_aad(round_id, self.validator_id, j)
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


@dataclass(frozen=True)
class PublicPart:
    """One node's masked part of a public opening (sum the three parts to open)."""

    node: int
    what: str
    payload: bytes
    count: int


def combine_public(parts: Sequence[PublicPart]) -> list[int]:
    """Open a public value from the three nodes' parts (integers at the parts' scale)."""
    nodes = sorted(p.node for p in parts)
    whats = {(p.what, p.count) for p in parts}
    if nodes != [0, 1, 2] or len(whats) != 1:
        raise ProtocolError(f"a public opening needs one matching part per node, got {nodes}")
    count = parts[0].count
    arrays = [r128.unpack(p.payload, (count,)) for p in sorted(parts, key=lambda p: p.node)]
    return r128.to_ints(combine_additive(arrays))


@dataclass
class _Round:
    base: LogisticModel
    clients: tuple[int, ...]
    weights: FloatArray
    deltas: Share  # K × (d + 1)
    engine: ThreePartyNode
    node_public_keys: dict[int, bytes]
    gram: np.ndarray | None = None


class ScoringNode:
    """A compute node of secure scoring (one of three).

    Holds its shares of the custodians' parameters and of each validator's prepared
    holdout; runs the per-round statistics (local computation plus masked openings) and,
    per validator, the interactive scoring protocol (:meth:`score`, a
    :data:`~flai.mpc.rss3.Step` generator driven with its two peers).
    """

    def __init__(
        self, *, index: int, config: SecureScoringConfig, keypair: KeyPair | None = None
    ) -> None:
        if not 0 <= index < N_NODES:
            raise ProtocolError(f"secure scoring runs on three nodes, got index {index}")
        self.index = index
        self.config = config
        self._keypair = keypair or KeyPair.generate()
        self._updates: dict[tuple[int, int], Share] = {}
        self._holdouts: dict[tuple[int, int], Share] = {}
        self._rounds: dict[int, _Round] = {}
        self.last_traffic = Traffic()
        """Node-to-node bytes of the last :meth:`score` run."""

    @property
    def public_key(self) -> bytes:
        """The node's X25519 public key."""
        return self._keypair.public_bytes

    def receive_update(self, sealed: SealedInput, *, round_id: int, client_id: int) -> None:
        """Open and keep this node's share of a custodian's parameters (once per round)."""
        key = (round_id, client_id)
        if key in self._updates:
            raise ProtocolError(f"client {client_id} already uploaded in round {round_id}")
        self._updates[key] = open_input(
            sealed, node=self.index, keypair=self._keypair, aad=_update_aad(round_id, client_id)
        )

    def receive_holdout(self, sealed: SealedInput, *, round_id: int, validator_id: int) -> None:
        """Open and keep this node's share of a validator's prepared holdout."""
        key = (round_id, validator_id)
        if key in self._holdouts:
            raise ProtocolError(f"validator {validator_id} already shared in round {round_id}")
        self._holdouts[key] = open_input(
            sealed,
            node=self.index,
            keypair=self._keypair,
            aad=_holdout_aad(round_id, validator_id),
        )

    def begin_round(
        self,
        *,
        round_id: int,
        base: LogisticModel,
        clients: Sequence[int],
        node_public_keys: Mapping[int, bytes],
        num_samples: Sequence[int] | None = None,
    ) -> None:
        """Form the shares of Δ_k = θ_k − θ_0 for ``clients`` (in this order)."""
        missing = [k for k in clients if (round_id, k) not in self._updates]
        if missing or not clients:
            raise ProtocolError(f"node {self.index} has no scoring upload from clients {missing}")
        shares = [self._updates[(round_id, k)] for k in clients]
        width = base.params.shape[0]
        if any(s.shape != (1, width) for s in shares):
            raise ProtocolError(f"scoring uploads must hold {width} parameters")
        stacked = Share(
            node=self.index,
            first=np.concatenate([s.first for s in shares], axis=1),
            second=np.concatenate([s.second for s in shares], axis=1),
        )
        theta0 = r128.encode(
            np.tile(base.params, (len(clients), 1)),
            self.config.frac_bits,
            limit=self.config.max_param,
        )
        deltas = stacked.add_public(r128.neg(theta0))
        weighting = self.config.scoring.coalition_weighting
        if weighting == "samples" and (num_samples is None or len(num_samples) != len(clients)):
            raise ProtocolError("sample weighting needs one sample count per client")
        weights = (
            np.asarray(num_samples, dtype=np.float64)
            if weighting == "samples" and num_samples is not None
            else np.ones(len(clients))
        )
        engine = ThreePartyNode(
            index=self.index,
            keypair=self._keypair,
            node_public_keys=dict(node_public_keys),
            session=b"flai/mpc/scoring/round" + struct.pack(">Q", round_id),
        )
        self._rounds[round_id] = _Round(
            base=base,
            clients=tuple(clients),
            weights=weights,
            deltas=deltas,
            engine=engine,
            node_public_keys=dict(node_public_keys),
        )

    def _round(self, round_id: int) -> _Round:
        if round_id not in self._rounds:
            raise ProtocolError(f"node {self.index} has not begun round {round_id}")
        return self._rounds[round_id]

    def _gram(self, rnd: _Round) -> np.ndarray:
        """This node's additive part of the Gram matrix ΔΔᵀ (scale 2f, exact)."""
        if rnd.gram is None:
            transposed = rnd.deltas.map(lambda a: np.ascontiguousarray(a.transpose(0, 2, 1)))
            rnd.gram = ThreePartyNode.cross(rnd.deltas, transposed, r128.matmul)
        return rnd.gram

    def open_norms(self, *, round_id: int) -> PublicPart:
        """Masked part of ‖Δ_k‖² for every client of the round (scale 2f)."""
        rnd = self._round(round_id)
        gram = self._gram(rnd)
        diag = np.ascontiguousarray(np.diagonal(gram, axis1=1, axis2=2))
        part = rnd.engine.open_part(diag)
        return PublicPart(
            node=self.index, what="norms", payload=r128.pack(part), count=len(rnd.clients)
        )

    def open_cosines(
        self, *, round_id: int, players: Sequence[int], targets: Sequence[int]
    ) -> PublicPart:
        """Masked parts of ⟨Δ_k, Σ_{l≠k} a_l Δ_l⟩ and ‖Σ_{l≠k} a_l Δ_l‖² for ``targets``.

        ``players`` are the accepted clients (indices into the round's clients) and
        ``targets`` positions within ``players``; l ranges over the other players (over all
        of them when there is only one, as in the plaintext). Sample counts a_l are
        integers, so both values are exact integers at scale 2f; the cosine
        num / √(‖Δ_k‖²·den) does not depend on the scale or on Σa.
        """
        rnd = self._round(round_id)
        gram = self._gram(rnd)
        K = len(rnd.clients)
        if any(not 0 <= p < K for p in players) or any(not 0 <= t < len(players) for t in targets):
            raise ProtocolError(f"players {list(players)} / targets {list(targets)} out of range")
        a = np.rint(rnd.weights).astype(np.int64)
        values = []
        for t in targets:
            others = np.zeros(K, dtype=np.int64)
            for p in players:
                others[p] = a[p]
            if len(players) > 1:
                others[players[t]] = 0
            row = r128.from_ints(others)  # (2, K)
            num = r128.sum_axis(r128.mul(gram[:, players[t], :], row), axis=0)
            inner = r128.matmul(gram, row[:, :, None])[:, :, 0]  # G·a
            den = r128.sum_axis(r128.mul(inner, row), axis=0)
            values.extend([num, den])
        stacked = np.stack(values, axis=1) if values else r128.zeros((0,))
        part = rnd.engine.open_part(stacked)
        return PublicPart(
            node=self.index, what="cosines", payload=r128.pack(part), count=2 * len(targets)
        )

    def score(
        self,
        *,
        round_id: int,
        validator_id: int,
        players: Sequence[int],
        validator_public: bytes,
        est: Estimator,
    ) -> Generator[Outbox, Mapping[int, bytes], bytes]:
        """This node's side of one validator's scoring; returns its sealed output.

        ``players`` are the accepted clients (indices into the round's clients) the game is
        played over, in the order of ``est``.
        """
        rnd = self._round(round_id)
        key = (round_id, validator_id)
        if key not in self._holdouts:
            raise ProtocolError(f"node {self.index} has no holdout of validator {validator_id}")
        holdout = self._holdouts[key]
        n = holdout.shape[0] // 2
        K = len(players)
        if est.A.shape[1] != K:
            raise ProtocolError(f"estimator for {est.A.shape[1]} players, {K} given")
        f, F = self.config.frac_bits, self.config.coeff_bits
        engine = ThreePartyNode(
            index=self.index,
            keypair=self._keypair,
            node_public_keys=rnd.node_public_keys,
            session=b"flai/mpc/scoring/validator" + struct.pack(">QQ", round_id, validator_id),
            rotation=validator_id,
        )
        idx = list(players)
        deltas_t = rnd.deltas.map(lambda a: np.ascontiguousarray(a[:, idx, :].transpose(0, 2, 1)))
        # 1. [ũ; l] = [H̃; G̃]·Δ, truncated to f bits
        z1 = ThreePartyNode.cross(holdout, deltas_t, r128.matmul)  # 2n × K
        moments = yield from engine.reshare_truncated(z1, f)
        u = moments.map(lambda a: np.ascontiguousarray(a[:, :n, :].transpose(0, 2, 1)))
        lin = moments.map(lambda a: np.ascontiguousarray(a[:, n:, :].transpose(0, 2, 1)))
        # 2. φ_{r,i} = −Σ_j A_rj l_ji − ½ Σ_jl B_rjl u_ji u_li, at 2f + F, truncated by f + F
        R = est.rows
        a_pub = r128.from_ints(np.rint(-est.A * 2.0**F).astype(np.int64))
        b_pub = r128.from_ints(np.rint(-0.5 * est.B.reshape(R * K, K) * 2.0**F).astype(np.int64))
        v = u.map(lambda c: r128.matmul(b_pub, c).reshape(2, R, K, n))  # V_r = B_r u
        u_b = u.map(lambda c: c[:, None, :, :])
        quad = r128.sum_axis(ThreePartyNode.cross(u_b, v), axis=1)  # (R, n) additive
        linear = r128.matmul(a_pub, ThreePartyNode.additive(lin))
        z2 = r128.add(quad, r128.shift_left(linear, f))
        phi = yield from engine.reshare_truncated(z2, f + F)
        # 3. S = Σ_i φ (scale f), W = n Σ_i φ² − S² (scale 2f): local, opened to the validator
        sums = phi.map(lambda c: r128.sum_axis(c, axis=1))
        sq = r128.sum_axis(ThreePartyNode.cross(phi, phi), axis=1)
        sq = r128.mul(sq, r128.from_ints(np.full(R, n, dtype=np.int64)))
        w = r128.sub(sq, ThreePartyNode.cross(sums, sums))[:, est.shapley]
        out = np.concatenate([ThreePartyNode.additive(sums), w], axis=1)
        part = engine.open_part(out)
        self.last_traffic = engine.channels.traffic
        return seal(
            r128.pack(part),
            validator_public,
            aad=_output_aad(round_id, validator_id, self.index),
        )

    def consistency_part(
        self,
        *,
        round_id: int,
        aggregation: Mapping[int, NodeShare],
        challenge: bytes,
        ring_bits: int,
        checks: int = 40,
    ) -> PublicPart:
        """Masked part of ⟨ρ_i, (θ_k mod 2^ℓ) − θ_k^agg⟩ mod 2^ℓ for every client of the round.

        ``aggregation`` maps each client to this node's share of its aggregation upload
        (:meth:`ReplicatedScheme.open`; Z_{2^ℓ}, the same f). Reducing the Z_{2^128}
        components mod 2^ℓ is a sharing of θ_k mod 2^ℓ, so for an honest client every
        opened value is 0 and reveals nothing. For a client whose two uploads differ by
        D ≢ 0, a public ρ drawn after the uploads (``challenge``: e.g. a block hash or the
        hash of all upload envelopes) gives ⟨ρ, D⟩ ≡ 0 with probability ≤ 1/2 (the entry of
        D with the lowest 2-adic valuation, ≤ ℓ − 1), so ``checks`` vectors miss with
        probability ≤ 2^-checks. See :func:`check_consistency`.
        """
        rnd = self._round(round_id)
        if self.config.frac_bits > 63 or not 8 <= ring_bits <= 64:
            raise ProtocolError(f"ring bits {ring_bits} out of range")
        missing = [k for k in rnd.clients if k not in aggregation]
        if missing:
            raise ProtocolError(f"node {self.index} has no aggregation share of {missing}")
        width = rnd.deltas.shape[1]
        rho = r128.from_ints(np.zeros((checks, width), dtype=np.int64))
        rho[0] = _challenge_vectors(challenge, checks, width)
        mask = np.uint64((1 << ring_bits) - 1) if ring_bits < 64 else np.uint64(2**64 - 1)
        theta0 = r128.encode(
            np.tile(rnd.base.params, (len(rnd.clients), 1)),
            self.config.frac_bits,
            limit=self.config.max_param,
        )
        own = ThreePartyNode.additive(rnd.deltas.add_public(theta0))  # component j+1 of θ
        first = (self.index + 1) % N_NODES
        diffs = []
        for i, k in enumerate(rnd.clients):
            agg = aggregation[k]
            if agg.node != self.index or first not in agg.parts or agg.length != width:
                raise ProtocolError(
                    f"aggregation share of client {k} does not fit node {self.index}"
                )
            lifted = np.zeros((2, width), dtype=np.uint64)
            lifted[0] = agg.parts[first] & mask
            diffs.append(r128.sub(own[:, i, :], lifted))
        stacked = np.stack(diffs, axis=1)  # (2, K, d)
        values = r128.matmul(stacked, np.ascontiguousarray(rho.transpose(0, 2, 1)))  # (2, K, m)
        part = rnd.engine.open_part(values.reshape(2, -1))
        part[1] = 0
        part[0] &= mask
        return PublicPart(
            node=self.index,
            what="consistency",
            payload=r128.pack(part),
            count=len(rnd.clients) * checks,
        )

    def forget(self, round_id: int) -> None:
        """Drop every share of ``round_id``."""
        for store in (self._updates, self._holdouts):
            for key in [k for k in store if k[0] == round_id]:
                del store[key]
        self._rounds.pop(round_id, None)


def _challenge_vectors(challenge: bytes, count: int, width: int) -> np.ndarray:
    seed = hkdf(challenge, info=b"flai/mpc/scoring/consistency")
    return expand(seed, count * width, label=b"consistency").reshape(count, width)


def check_consistency(
    parts: Sequence[PublicPart], *, clients: Sequence[int], ring_bits: int, round_id: int
) -> None:
    """Open the consistency values of :meth:`ScoringNode.consistency_part`; all must be 0.

    Raises
    ------
    InconsistentUploadError
        A client whose scoring and aggregation uploads differ (named).
    """
    values = combine_public(parts)
    checks = len(values) // max(len(clients), 1)
    modulus = 1 << ring_bits
    for i, k in enumerate(clients):
        if any(v % modulus for v in values[i * checks : (i + 1) * checks]):
            raise InconsistentUploadError(client=k, round_id=round_id)


# ----------------------------------------------------------------------- post-processing


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


# ---------------------------------------------------------------------------- driver


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
