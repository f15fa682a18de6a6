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

Modules
    :mod:`~flai.mpc.secure_scoring.config` (parameters, truncation failure bound),
    :mod:`~flai.mpc.secure_scoring.estimator` (the public coefficients A, B),
    :mod:`~flai.mpc.secure_scoring.parties` (custodian and validator),
    :mod:`~flai.mpc.secure_scoring.node` (compute node, public openings, upload
    consistency), :mod:`~flai.mpc.secure_scoring.finalize` (φ and flags from the opened
    values) and :mod:`~flai.mpc.secure_scoring.round` (one round in one process). The
    public names are exported by :mod:`flai.mpc`.
"""
