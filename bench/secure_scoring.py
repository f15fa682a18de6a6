"""Print secure contribution scoring's figures against today's plaintext scoring.

* Spearman(φ_secure, φ_plaintext) (and of the raw Shapley values) over 8 seeds at K = 5
  and K = 10, d = 30, three validators with 300 holdout rows each, one free-rider and one
  label-flipper among the custodians, from an untrained and from a trained global model;
  whether those two end at φ = 0 and flagged (secure and plaintext);
* time per validator: plaintext :func:`flai.fl.score_contributions` versus the secure
  path (validator prepares and seals its holdout, nodes open it, the three-party protocol
  with nodes in parallel, the validator opens its outputs and computes φ), and the
  per-round steps (custodian uploads, node ingest, norm opening);
* bytes moved per party.

Usage: ``python bench/secure_scoring.py``. Times are best of repeats on a shared 2-core
machine (noise only adds time); the plaintext reference is timed the same way in the same
run. Target: secure ≤ 20× plaintext at K = 5.
"""

from __future__ import annotations

import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import spearmanr
from sklearn.datasets import make_classification
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flai.fl import (
    Dataset,
    Flag,
    FreeRider,
    LabelFlipper,
    LogisticModel,
    RoundConfig,
    ScoringConfig,
    SplitConfig,
    federation_from_split,
    run_round,
    score_contributions,
    split_federated,
)
from flai.mpc.rss3 import Timing, run
from flai.mpc.secure_scoring.config import SecureScoringConfig
from flai.mpc.secure_scoring.estimator import estimator
from flai.mpc.secure_scoring.finalize import cosine_requests, finalize_scores
from flai.mpc.secure_scoring.node import ScoringNode, combine_public
from flai.mpc.secure_scoring.parties import ScoringClient, ScoringValidator
from flai.mpc.secure_scoring.round import secure_score_round

SEEDS = range(8)
D = 30
ROWS = 300
REPEATS = 7
FREE_RIDER, FLIPPER = 1, 2


def _best_ms(fn: Callable[[], Any], repeats: int = REPEATS) -> float:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1e3)
    return min(out)


def _federation(K: int, seed: int) -> tuple[tuple, tuple]:
    X, y = make_classification(
        n_samples=ROWS * 10, n_features=D, n_informative=10, n_redundant=5, random_state=seed
    )
    split = split_federated(
        Dataset(X=X, y=y, name="synthetic"),
        SplitConfig(
            num_custodians=K,
            alpha=0.5,
            min_size=10,
            test_fraction=0.2,
            validation_fraction=0.3,
            num_validators=3,
            seed=seed,
        ),
    )
    return federation_from_split(
        split, behaviours={FREE_RIDER: FreeRider(), FLIPPER: LabelFlipper()}
    )


def _round_inputs(K: int, seed: int, trained: bool) -> tuple[LogisticModel, list, list]:
    custodians, validators = _federation(K, seed)
    cfg = RoundConfig(seed=seed)
    model = LogisticModel.zeros(D)
    t = 0
    if trained:  # two plaintext rounds first: the global model is trained
        for t in range(2):
            model = run_round(
                custodians=custodians,
                validators=validators,
                global_model=model,
                config=cfg,
                round_index=t,
            ).model
        t = 2
    updates = [
        c.behaviour.produce(
            global_model=model,
            data=c.data,
            train=cfg.train,
            rng=np.random.default_rng([seed, t, k]),
        )
        for k, c in enumerate(custodians)
    ]
    return model, updates, [v.holdout for v in validators]


def bench_ranking() -> None:
    print(
        f"== ranking: Spearman(φ_secure, φ_plaintext) per validator, {len(SEEDS)} seeds × 3 "
        f"validators, d = {D}, {ROWS} rows each; custodian {FREE_RIDER} free-rider, "
        f"{FLIPPER} label-flipper"
    )
    header = (
        f"{'K':>3} {'global model':<13} {'φ mean':>7} {'φ median':>8} {'φ min':>6} "
        f"{'SV mean':>7} {'SV min':>6}  {'≥0.95 (φ)':>9}  {'max|Δφ|':>7}  adversaries φ=0 & "
        "flagged (secure / plaintext)"
    )
    print(header)
    for K in (5, 10):
        for trained in (False, True):
            rho_phi, rho_sv, caught_secure, caught_plain, cases = [], [], 0, 0, 0
            gap = 0.0
            for seed in SEEDS:
                base, updates, holdouts = _round_inputs(K, seed, trained)
                result = secure_score_round(base=base, updates=updates, holdouts=holdouts)
                for holdout, secure in zip(holdouts, result.scores, strict=True):
                    plain = score_contributions(
                        base=base,
                        updates=updates,
                        holdout=holdout,
                        config=ScoringConfig(),
                        rng=np.random.default_rng(0),
                    )
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        r = spearmanr(secure.phi, plain.phi)[0]
                    rho_phi.append(1.0 if np.isnan(r) else float(r))
                    rho_sv.append(float(spearmanr(secure.shapley, plain.shapley)[0]))
                    gap = max(gap, float(np.max(np.abs(secure.phi - plain.phi))))
                    cases += 1
                    ok = (
                        Flag.FREE_RIDER in secure.flags[FREE_RIDER]
                        and Flag.POISONER in secure.flags[FLIPPER]
                        and secure.phi[FREE_RIDER] == secure.phi[FLIPPER] == 0.0
                    )
                    caught_secure += ok
                    caught_plain += (
                        Flag.FREE_RIDER in plain.flags[FREE_RIDER]
                        and Flag.POISONER in plain.flags[FLIPPER]
                        and plain.phi[FREE_RIDER] == plain.phi[FLIPPER] == 0.0
                    )
            share = sum(r >= 0.95 for r in rho_phi)
            print(
                f"{K:>3} {'trained' if trained else 'untrained':<13} "
                f"{statistics.mean(rho_phi):7.3f} {statistics.median(rho_phi):8.3f} "
                f"{min(rho_phi):6.3f} {statistics.mean(rho_sv):7.3f} {min(rho_sv):6.3f}  "
                f"{share:>4}/{cases:<4}  {gap:7.3f}  {caught_secure}/{cases} / {caught_plain}/{cases}"
            )


def _secure_timed(
    base: LogisticModel, updates: list, holdouts: list, cfg: SecureScoringConfig
) -> dict[str, float]:
    """One secure round, orchestrated step by step; every step timed per party."""
    nodes = [ScoringNode(index=j, config=cfg) for j in range(3)]
    keys = {n.index: n.public_key for n in nodes}
    out: dict[str, float] = {}
    start = time.perf_counter()
    sealed_updates = [
        ScoringClient(client_id=k, config=cfg, node_public_keys=keys).upload(u.params, round_id=0)
        for k, u in enumerate(updates)
    ]
    out["custodian upload (each)"] = (time.perf_counter() - start) * 1e3 / len(updates)
    ingest = []
    for n in nodes:
        start = time.perf_counter()
        for k, s in enumerate(sealed_updates):
            n.receive_update(s, round_id=0, client_id=k)
        n.begin_round(round_id=0, base=base, clients=range(len(updates)), node_public_keys=keys)
        ingest.append(time.perf_counter() - start)
    start = time.perf_counter()
    parts = [n.open_norms(round_id=0) for n in nodes]
    combine_public(parts)
    out["nodes: ingest uploads (slowest node)"] = max(ingest) * 1e3
    out["norm opening (all nodes + combine)"] = (time.perf_counter() - start) * 1e3
    est = estimator(num_players=len(updates), config=cfg.scoring)
    val_share, node_open, protocol, val_open = [], [], [], []
    opened = []
    for v, holdout in enumerate(holdouts):
        validator = ScoringValidator(validator_id=v, holdout=holdout, config=cfg)
        start = time.perf_counter()
        sealed = validator.share_holdout(base=base, round_id=0, node_public_keys=keys)
        val_share.append(time.perf_counter() - start)
        per_node = []
        for n in nodes:
            start = time.perf_counter()
            n.receive_holdout(sealed, round_id=0, validator_id=v)
            per_node.append(time.perf_counter() - start)
        node_open.append(max(per_node))
        timing = Timing(rounds=[])
        outputs = run(
            [
                n.score(
                    round_id=0,
                    validator_id=v,
                    players=range(len(updates)),
                    validator_public=validator.public_key,
                    est=est,
                )
                for n in nodes
            ],
            timing=timing,
        )
        protocol.append(timing.parallel)
        start = time.perf_counter()
        o = validator.open_outputs(dict(enumerate(outputs)), round_id=0, est=est)
        opened.append(o)
        val_open.append(time.perf_counter() - start)
    wanted = cosine_requests(opened, cfg.scoring)
    start = time.perf_counter()
    cosines: dict[int, float] = {}
    if wanted:
        cparts = [
            n.open_cosines(round_id=0, players=list(range(len(updates))), targets=wanted)
            for n in nodes
        ]
        combine_public(cparts)
        cosines = dict.fromkeys(wanted, 0.0)
    norms = [float(np.linalg.norm(u.params - base.params)) for u in updates]
    for o in opened:
        finalize_scores(o, norms=norms, cosines=cosines, config=cfg.scoring)
    out["cosine opening + φ (all validators)"] = (time.perf_counter() - start) * 1e3
    out["validator: prepare + encode + seal holdout"] = min(val_share) * 1e3
    out["nodes: open holdout (slowest node)"] = min(node_open) * 1e3
    out["nodes: protocol, 4 rounds (in parallel)"] = min(protocol) * 1e3
    out["validator: open outputs"] = min(val_open) * 1e3
    return out


def bench_time_and_bytes() -> None:
    cfg = SecureScoringConfig()
    for K in (5, 10):
        base, updates, holdouts = _round_inputs(K, seed=0, trained=True)
        with threadpool_limits(limits=1):
            plain = _best_ms(
                lambda b=base, u=updates, h=holdouts[0]: score_contributions(
                    base=b,
                    updates=u,
                    holdout=h,
                    config=ScoringConfig(),
                    rng=np.random.default_rng(0),
                )
            )
            samples = [_secure_timed(base, updates, holdouts, cfg) for _ in range(REPEATS)]
        best = {k: min(s[k] for s in samples) for k in samples[0]}
        per_validator = (
            best["validator: prepare + encode + seal holdout"]
            + best["nodes: open holdout (slowest node)"]
            + best["nodes: protocol, 4 rounds (in parallel)"]
            + best["validator: open outputs"]
        )
        per_round = (
            best["custodian upload (each)"]
            + best["nodes: ingest uploads (slowest node)"]
            + best["norm opening (all nodes + combine)"]
            + best["cosine opening + φ (all validators)"]
        ) / len(holdouts)
        print(f"== time, K = {K}, d = {D}, {ROWS} rows per validator, 3 nodes (one BLAS thread)")
        print(f"plaintext score_contributions (per validator)      : {plain:8.3f} ms")
        for name, ms in best.items():
            print(f"  {name:<49}: {ms:8.3f} ms")
        total = per_validator + per_round
        verdict = "holds" if total <= 20 * plain else "does NOT hold"
        print(
            f"SECURE per validator (critical path, nodes parallel): {per_validator:8.3f} ms "
            f"+ per-round share {per_round:.3f} ms = {total:8.3f} ms = {total / plain:5.2f}x "
            f"plaintext" + (f" (≤ 20x {verdict})" if K == 5 else "")
        )
        result = secure_score_round(base=base, updates=updates, holdouts=holdouts, config=cfg)
        print(f"bytes moved per party (K = {K}, 3 validators):")
        print(f"  custodian: scoring upload {result.upload_bytes['custodian-0']:,} B")
        print(
            f"  validator: holdout upload {result.upload_bytes['validator-0']:,} B, "
            f"outputs received ≈ {3 * (16 * (2 * K) + 49):,} B"
        )
        for j, (sent, received) in enumerate(result.node_traffic):
            print(
                f"  node {j}: node-to-node sent {sent:,} B, received {received:,} B "
                f"(3 validators, incl. sealed outputs)"
            )
        print(f"  truncation failure bound for the round: {result.failure_bound:.1e}")


if __name__ == "__main__":
    bench_ranking()
    bench_time_and_bytes()
