"""Print the FL engine's performance and scoring-quality figures.

* time per round at K = 10 (train, check, exact Shapley, aggregate, evaluate);
* exact vs Monte Carlo Shapley at K = 8 and 10: wall time, coalition evaluations and
  Spearman agreement, with Monte Carlo capped at 25 % of exact's evaluations;
* Monte Carlo alone at K = 50 (exact would need 2^50 evaluations);
* federated vs central test AUC over several seeds.

Usage: ``python bench/fl.py``. Times are medians over repeats on a shared 2-core machine.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import spearmanr
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flai.fl import (
    Behaviour,
    CoalitionGame,
    Dataset,
    FederatedSplit,
    FreeRider,
    LabelFlipper,
    LogisticModel,
    RoundConfig,
    ScoringConfig,
    SplitConfig,
    TrainConfig,
    exact_shapley,
    federation_from_split,
    load_breast_cancer_dataset,
    monte_carlo_shapley,
    roc_auc,
    run_round,
    run_training,
    split_federated,
)

SEEDS = range(5)


def median_time(fn: Callable[[], Any], repeats: int = 5) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def round_updates(
    split: FederatedSplit, behaviours: dict[int, Behaviour], seed: int
) -> list[LogisticModel]:
    custodians, _ = federation_from_split(split, behaviours=behaviours)
    start = LogisticModel.zeros(split.custodians[0].num_features)
    return [
        c.behaviour.produce(
            global_model=start,
            data=c.data,
            train=TrainConfig(epochs=1),
            rng=np.random.default_rng([seed, k]),
        )
        for k, c in enumerate(custodians)
    ]


def bench_round_time(data: Dataset) -> None:
    print("== time per round, K = 10 (breast cancer, Dirichlet α = 0.5, E = 2, 1 validator)")
    split = split_federated(data, SplitConfig(num_custodians=10, alpha=0.5, min_size=5, seed=0))
    custodians, validators = federation_from_split(split)
    start = LogisticModel.zeros(30)
    for method in ("exact", "monte_carlo"):
        cfg = RoundConfig(scoring=ScoringConfig(method=method))  # type: ignore[arg-type]
        t, r = median_time(
            lambda cfg=cfg: run_round(
                custodians=custodians, validators=validators, global_model=start, config=cfg
            ),
            repeats=7,
        )
        print(
            f"  scoring={method:<11} {t * 1e3:7.1f} ms/round   "
            f"coalition evaluations {r.coalition_evaluations:5d}   AUC {r.metric:.4f}"
        )


def bench_exact_vs_mc(data: Dataset) -> None:
    print("== exact vs Monte Carlo Shapley (MC budget = 25% of exact's evaluations)")
    print("   scenario 'honest': all custodians honest, Dirichlet α = 0.5;")
    print("   scenario 'mixed' : + one label-flipper, one noise free-rider, one copy free-rider")
    print(f"   {len(SEEDS)} seeds each; Spearman is MC vs exact")
    header = (
        f"  {'K':>3} {'scenario':<7} {'exact ms':>9} {'MC ms':>7} {'exact ev':>9} "
        f"{'MC ev':>6} {'perms':>6} {'Spearman mean':>14} {'min':>6} {'≥0.95':>6}"
    )
    print(header)
    for k in (8, 10):
        for scenario in ("honest", "mixed"):
            behaviours: dict[int, Behaviour] = (
                {k - 1: LabelFlipper(), k - 2: FreeRider("noise", 0.5), k - 3: FreeRider("global")}
                if scenario == "mixed"
                else {}
            )
            rows = []
            for seed in SEEDS:
                split = split_federated(
                    data, SplitConfig(num_custodians=k, alpha=0.5, min_size=5, seed=seed)
                )
                ups = round_updates(split, behaviours, seed)
                holdout = split.validators[0]
                start = LogisticModel.zeros(30)
                t_ex, ex = median_time(
                    lambda ups=ups, holdout=holdout, start=start: exact_shapley(
                        CoalitionGame(base=start, updates=ups, holdout=holdout)
                    ),
                    repeats=3,
                )
                budget = ex.evaluations // 4
                t_mc, mc = median_time(
                    lambda ups=ups, holdout=holdout, start=start, budget=budget, seed=seed: (
                        monte_carlo_shapley(
                            CoalitionGame(base=start, updates=ups, holdout=holdout),
                            rng=np.random.default_rng(seed),
                            max_evaluations=budget,
                            convergence_tolerance=0.0,
                        )
                    ),
                    repeats=3,
                )
                rho = float(spearmanr(ex.values, mc.values).statistic)
                rows.append((t_ex, t_mc, ex.evaluations, mc.evaluations, mc.permutations, rho))
            a = np.array(rows)
            print(
                f"  {k:>3} {scenario:<7} {np.median(a[:, 0]) * 1e3:9.1f} "
                f"{np.median(a[:, 1]) * 1e3:7.1f} {int(a[0, 2]):9d} {int(a[:, 3].max()):6d} "
                f"{np.mean(a[:, 4]):6.0f} {a[:, 5].mean():14.3f} {a[:, 5].min():6.3f} "
                f"{np.mean(a[:, 5] >= 0.95):6.0%}"
            )


def bench_mc_k50() -> None:
    print("== Monte Carlo Shapley alone, K = 50 (synthetic 5000 × 30, Dirichlet α = 1.0)")
    X, y = make_classification(n_samples=5000, n_features=30, n_informative=10, random_state=0)
    split = split_federated(
        Dataset(X=X, y=y, name="synthetic"),
        SplitConfig(num_custodians=50, alpha=1.0, min_size=5, seed=0),
    )
    behaviours: dict[int, Behaviour] = {49: LabelFlipper(), 48: FreeRider("global")}
    ups = round_updates(split, behaviours, 0)
    holdout = split.validators[0]
    start = LogisticModel.zeros(30)
    for label, budget in (("converged (tol 5%)", None), ("budget 1,000 evals", 1000)):
        t, mc = median_time(
            lambda budget=budget: monte_carlo_shapley(
                CoalitionGame(base=start, updates=ups, holdout=holdout),
                rng=np.random.default_rng(0),
                max_evaluations=budget,
            ),
            repeats=3,
        )
        rank = {int(k): r for r, k in enumerate(np.argsort(mc.values))}
        print(
            f"  {label:<20} {t * 1e3:7.1f} ms  {mc.permutations:4d} permutations  "
            f"{mc.evaluations:5d} evaluations  ΣSV {mc.values.sum():+.4f} vs "
            f"v(N)−v(∅) {mc.v_full - mc.v_empty:+.4f}  flipper SV {mc.values[49]:+.4f} "
            f"(rank {rank[49]}/49 from lowest), copy free-rider SV {mc.values[48]:+.4f}"
        )


def bench_auc_vs_central(data: Dataset) -> None:
    print("== federated (5 honest, α = 0.5, 5 rounds, φ-weighted) vs central sklearn test AUC")
    diffs = []
    for seed in range(8):
        split = split_federated(data, SplitConfig(num_custodians=5, alpha=0.5, seed=seed))
        custodians, validators = federation_from_split(split)
        res = run_training(
            custodians=custodians, validators=validators, rounds=5, config=RoundConfig(seed=seed)
        )
        fed = res.model.evaluate(split.test, "auc")
        pool = split.training_pool
        central = roc_auc(
            split.test.y,
            LogisticRegression(max_iter=5000).fit(pool.X, pool.y).decision_function(split.test.X),
        )
        diffs.append(fed - central)
        print(
            f"  seed {seed}: federated {fed:.4f}  central {central:.4f}  diff {fed - central:+.4f}"
        )
    print(
        f"  |diff| ≤ 0.01 in {sum(abs(d) <= 0.01 for d in diffs)}/8 seeds; "
        f"federated ≥ central − 0.01 in {sum(d >= -0.01 for d in diffs)}/8"
    )


def main() -> int:
    data = load_breast_cancer_dataset()
    bench_round_time(data)
    bench_exact_vs_mc(data)
    bench_mc_k50()
    bench_auc_vs_central(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
