"""Print the sMPC layer's performance figures (issue 6 acceptance).

Secure aggregation: K = 10 clients, d = 100,000 parameters, n = 3 compute nodes (t = 1),
compared with the plaintext numpy weighted average, and bytes uploaded per client versus a
float32 vector. Secret-shared logistic-regression inference latency per query at d = 30.

Usage: ``python bench/mpc.py``. Times are the best of several repeats (the machine is
shared with other jobs, whose noise only ever adds time); the plaintext baseline is timed
the same way, so ratios are like for like. Targets: aggregation ≤ 5× plaintext, upload ≤ 1.5× float32, inference
≤ 10 ms per query (anchor: CrypTen, 2 parties, 61 ms at d = 20).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flai.mpc import (
    AggregationClient,
    AggregationConfig,
    AggregationNode,
    InferenceConfig,
    SecureLogisticRegression,
    encode_weights,
    reconstruct_aggregate,
)

K, D, N, T = 10, 100_000, 3, 1
REPEATS = 7


def _best_ms(fn: Callable[[], object], repeats: int = REPEATS) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e3)
    return min(samples)


def bench_aggregation() -> None:
    data_rng = np.random.default_rng(7)  # benchmark data only, never secret material
    updates = data_rng.normal(scale=0.5, size=(K, D))
    phi = data_rng.random(K)
    cfg = AggregationConfig(n_nodes=N, threshold=T)
    nodes = [AggregationNode(index=j, config=cfg) for j in range(N)]
    keys = {n.index: n.public_key for n in nodes}
    clients = [AggregationClient(client_id=k, config=cfg, node_public_keys=keys) for k in range(K)]

    plain_avg = _best_ms(lambda: np.average(updates, axis=0, weights=phi))
    with threadpool_limits(limits=1):  # one BLAS thread: stable on a shared 2-core box
        plain_blas = _best_ms(lambda: phi @ updates / phi.sum())

    uploads = [c.upload(updates[k], round_id=0) for k, c in enumerate(clients)]
    client_ms = _best_ms(lambda: clients[0].upload(updates[0], round_id=1))

    ingest_ms = []
    for node in nodes:

        def ingest(node: AggregationNode = node) -> None:
            node.forget(0)
            for k, sealed in enumerate(uploads):
                node.receive(sealed, round_id=0, client_id=k)

        ingest_ms.append(_best_ms(ingest, repeats=5))

    weights = encode_weights(dict(enumerate(phi)), weight_bits=cfg.weight_bits)
    online_ms = [
        _best_ms(lambda n=n: n.weighted_partial(round_id=0, weights=weights)) for n in nodes
    ]
    partials = [n.weighted_partial(round_id=0, weights=weights) for n in nodes[: T + 1]]
    recon_ms = _best_ms(lambda: reconstruct_aggregate(cfg, partials, weights))
    result = reconstruct_aggregate(cfg, partials, weights)
    err = float(np.max(np.abs(result - np.average(updates, axis=0, weights=phi))))

    upload_bytes = statistics.mean(u.upload_bytes for u in uploads)
    plain_bytes = D * 4

    online_critical = max(online_ms) + recon_ms
    ingest_critical = max(ingest_ms)
    print(
        f"== secure aggregation: K={K} clients, d={D:,}, n={N} nodes, t={T}, "
        f"ring Z_2^{cfg.ring_bits}, f={cfg.frac_bits}, b={cfg.weight_bits}"
    )
    print(f"plaintext np.average (float64)            : {plain_avg:8.3f} ms")
    print(f"plaintext phi @ W / sum(phi) (BLAS, 1 thr): {plain_blas:8.3f} ms")
    print(f"client: encode + share + seal (per client): {client_ms:8.3f} ms")
    print(
        "node ingest: open + unpack + PRG, K uploads: "
        + ", ".join(f"{x:.3f}" for x in ingest_ms)
        + " ms (per node)"
    )
    print(
        "node online Σ c_k·[w_k]                   : "
        + ", ".join(f"{x:.3f}" for x in online_ms)
        + " ms (per node)"
    )
    print(f"reconstruct from t+1 nodes + decode       : {recon_ms:8.3f} ms")
    print(
        f"online phase (slowest node + reconstruct) : {online_critical:8.3f} ms = "
        f"{online_critical / plain_avg:.2f}x np.average, {online_critical / plain_blas:.2f}x BLAS"
    )
    e2e_parallel = ingest_critical + online_critical
    print(
        f"node-side total, nodes in parallel        : {e2e_parallel:8.3f} ms = "
        f"{e2e_parallel / plain_avg:.2f}x np.average"
    )
    e2e_serial = sum(ingest_ms) + sum(online_ms) + recon_ms
    print(
        f"node-side total, all nodes in one process : {e2e_serial:8.3f} ms = "
        f"{e2e_serial / plain_avg:.2f}x np.average"
    )
    print(f"max |secure - plaintext|                  : {err:.2e}")
    print(
        f"upload per client                         : {upload_bytes:,.0f} B vs float32 "
        f"{plain_bytes:,} B = {upload_bytes / plain_bytes:.4f}x"
    )


def bench_inference() -> None:
    d = 30
    data_rng = np.random.default_rng(11)
    coef = data_rng.normal(size=d)
    intercept = 0.3
    queries = data_rng.normal(size=(100, d))
    plain = 1.0 / (1.0 + np.exp(-(queries @ coef + intercept)))
    cfg = InferenceConfig(n_nodes=N, threshold=T)
    print(
        f"== secret-shared logistic-regression inference: d={d}, n={N}, t={T}, "
        f"ring Z_2^{cfg.ring_bits}, f={cfg.frac_bits}, sigmoid client-side"
    )
    model = SecureLogisticRegression.deploy(coef=coef, intercept=intercept, config=cfg)
    deal_ms = _best_ms(lambda: model.provision_triples(1), repeats=50)
    for label, nodes, encrypted in [
        ("all 3 nodes, sealed query + outputs", None, True),
        ("t+1 = 2 nodes, sealed query + outputs", (0, 2), True),
        ("all 3 nodes, shares in memory", None, False),
    ]:
        model.provision_triples(3 * len(queries))
        for q in queries[:10]:  # warm-up
            model.predict_proba(q, available_nodes=nodes, encrypted=encrypted)
        per_query = []
        probs = []
        for q in queries:
            start = time.perf_counter()
            probs.append(model.predict_proba(q, available_nodes=nodes, encrypted=encrypted))
            per_query.append((time.perf_counter() - start) * 1e3)
        err = float(np.max(np.abs(np.array(probs) - plain)))
        print(
            f"latency per query, {label:<38}: median {statistics.median(per_query):6.3f} ms, "
            f"best {min(per_query):6.3f} ms, max |p - plaintext| {err:.1e}"
        )
    print(f"dealer: one Beaver triple (d={d}, offline phase)  : {deal_ms:6.3f} ms")


if __name__ == "__main__":
    bench_aggregation()
    bench_inference()
