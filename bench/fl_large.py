"""A round with a 1,000,000-parameter model, end to end off-chain, phase by phase.

K = 10 custodians (one label-flipper, one free-rider) on a deterministic hashed
bag-of-tokens task (:func:`flai.fl.hashed_features_dataset`: 20,000 samples, d = 10^6
sparse features), 3 validators, 3 compute nodes (t = 1). Phases: data, local training,
update checks, Shapley scoring (exact, K = 10, per validator), secure φ-weighted
aggregation on replicated shares (:mod:`flai.mpc`: client uploads, node ingest, node
combine with one copy per component, reconstruction), metric. Then the same round through
:func:`flai.fl.run_round` (plaintext aggregation) as a cross-check, three more rounds for
the learning curve, and a central scikit-learn fit on the pooled training rows as the
accuracy reference.

Prints the time of each phase, the upload size per client against a float32 vector
(4 bytes per parameter) and the process's peak resident set size after each phase.

Usage: ``python bench/fl_large.py``. Times are single runs on a shared 2-core machine.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import resource
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flai.fl import (
    FreeRider,
    LabelFlipper,
    LogisticModel,
    RoundConfig,
    SplitConfig,
    check_update,
    federation_from_split,
    hashed_features_dataset,
    phi_weighted_fedavg,
    roc_auc,
    run_round,
    score_contributions,
    split_federated,
)
from flai.mpc import (
    AggregationClient,
    AggregationConfig,
    AggregationNode,
    encode_weights,
    reconstruct_aggregate,
)

D = 1_000_000
K = 10
SAMPLES = 20_000


def peak_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase(name: str, seconds: float, extra: str = "") -> None:
    print(f"  {name:<40} {seconds * 1e3:9.1f} ms   peak RSS {peak_mb():7.1f} MB   {extra}")


def main() -> int:
    print(f"== one round, d = {D:,} (float64 model {8 * (D + 1) / 1e6:.1f} MB, float32 ")
    print(f"   {4 * (D + 1) / 1e6:.1f} MB), K = {K}, 3 validators, 3 compute nodes (t = 1)")
    phase("start (interpreter, numpy, scipy)", 0.0)
    t0 = time.perf_counter()
    data = hashed_features_dataset(num_samples=SAMPLES, num_features=D, seed=0)
    split = split_federated(
        data,
        SplitConfig(num_custodians=K, alpha=1.0, num_validators=3, standardize=False, seed=0),
    )
    custodians, validators = federation_from_split(
        split, behaviours={K - 1: LabelFlipper(), K - 2: FreeRider("global")}
    )
    phase(
        "data (generate + split)",
        time.perf_counter() - t0,
        f"{data.X.nnz:,} non-zeros; custodians hold "
        f"{min(c.data.num_samples for c in custodians)}–"
        f"{max(c.data.num_samples for c in custodians)} rows",
    )
    config = RoundConfig()
    start = LogisticModel.zeros(D)

    t0 = time.perf_counter()
    updates = [
        c.behaviour.produce(
            global_model=start,
            data=c.data,
            train=config.train,
            rng=np.random.default_rng([config.seed, 0, k]),
        )
        for k, c in enumerate(custodians)
    ]
    phase("train (local SGD, E = 2, B = 16)", time.perf_counter() - t0)

    t0 = time.perf_counter()
    norms = [
        check_update(u, start, custodian=c.custodian_id, config=config.checks)
        for u, c in zip(updates, custodians, strict=True)
    ]
    phase("checks (shape, finite, norm)", time.perf_counter() - t0, f"max ‖Δ‖ {max(norms):.3f}")

    t0 = time.perf_counter()
    counts = [c.data.num_samples for c in custodians]
    scores = [
        score_contributions(
            base=start,
            updates=updates,
            holdout=v.holdout,
            config=config.scoring,
            rng=np.random.default_rng([config.seed, 0, 2**20 + i]),
            num_samples=counts,
        )
        for i, v in enumerate(validators)
    ]
    phi = np.median([s.phi for s in scores], axis=0)
    phase(
        "scoring (exact Shapley × 3 validators)",
        time.perf_counter() - t0,
        f"{sum(s.estimate.evaluations for s in scores)} coalitions; "
        f"φ(free-rider, flipper) = ({phi[K - 2]:.3g}, {phi[K - 1]:.3g})",
    )

    agg_config = AggregationConfig(n_nodes=3, threshold=1)
    nodes = [AggregationNode(index=j, config=agg_config) for j in range(3)]
    keys = {n.index: n.public_key for n in nodes}
    t0 = time.perf_counter()
    uploads = [
        AggregationClient(client_id=k, config=agg_config, node_public_keys=keys).upload(
            u.params, round_id=0
        )
        for k, u in enumerate(updates)
    ]
    t_clients = time.perf_counter() - t0
    upload_bytes = uploads[0].upload_bytes
    phase(
        "secure agg: client encode+share+seal",
        t_clients,
        f"{t_clients / K * 1e3:.1f} ms per client; upload {upload_bytes:,} B vs float32 "
        f"{4 * (D + 1):,} B = {upload_bytes / (4 * (D + 1)):.3f}×",
    )
    t0 = time.perf_counter()
    for k, sealed in enumerate(uploads):
        for node in nodes:
            node.receive(sealed, round_id=0, client_id=k)
    phase("secure agg: node ingest (3 nodes)", time.perf_counter() - t0)
    weights = encode_weights(
        {k: float(p) for k, p in enumerate(phi) if p > 0}, weight_bits=agg_config.weight_bits
    )
    t0 = time.perf_counter()
    owned = agg_config.scheme.assign({n.index: n for n in nodes})
    partials = [
        node.weighted_partial(round_id=0, weights=weights, components=owned[node.index])
        for node in nodes
    ]
    t_online = time.perf_counter() - t0
    phase("secure agg: node combine (3 nodes)", t_online, f"{t_online / 3 * 1e3:.1f} ms per node")
    t0 = time.perf_counter()
    secure = LogisticModel(params=reconstruct_aggregate(agg_config, partials, weights))
    phase("secure agg: reconstruct + decode", time.perf_counter() - t0)
    plain, _ = phi_weighted_fedavg(updates, phi.tolist(), previous=start)
    error = float(np.abs(secure.params - plain.params).max())

    t0 = time.perf_counter()
    pool = split.validation_pool
    metric = secure.evaluate(pool, "auc")
    test_auc = secure.evaluate(split.test, "auc")
    phase(
        "metric (AUC on the validators' pool)",
        time.perf_counter() - t0,
        f"AUC {metric:.4f} (test {test_auc:.4f}); max |secure − plaintext| {error:.2e}",
    )
    del uploads, partials, nodes

    t0 = time.perf_counter()
    result = run_round(
        custodians=custodians, validators=validators, global_model=start, config=config
    )
    same = float(np.abs(result.model.params - plain.params).max())
    phase(
        "run_round (train … metric, plaintext)",
        time.perf_counter() - t0,
        f"AUC {result.metric:.4f}; max |run_round − phased| {same:.1e}",
    )

    model, curve = result.model, [test_auc]
    del result
    t0 = time.perf_counter()
    for t in range(1, 4):
        model = run_round(
            custodians=custodians,
            validators=validators,
            global_model=model,
            config=config,
            round_index=t,
        ).model
        curve.append(model.evaluate(split.test, "auc"))
    phase(
        "3 more rounds (learning curve)",
        time.perf_counter() - t0,
        "test AUC " + " → ".join(f"{a:.4f}" for a in curve),
    )
    t0 = time.perf_counter()
    train_pool = split.training_pool
    central = LogisticRegression(C=10.0, max_iter=300).fit(train_pool.X, train_pool.y)
    central_auc = roc_auc(split.test.y, central.decision_function(split.test.X))
    phase("reference: central sklearn fit", time.perf_counter() - t0, f"test AUC {central_auc:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
