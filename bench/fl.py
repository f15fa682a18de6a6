"""Print the FL engine's performance and scoring-quality figures.

* exact vs Monte Carlo Shapley at K = 10, per seed: coalition evaluations, wall time and
  Spearman agreement with exact, for the stratified estimator (the default) at a small
  budget and at 25 % of exact's evaluations, and for the permutation estimator at 25 %;
* how each step of an off-chain round (train, checks, scoring, aggregation, metric) grows
  from K = 5 to 40, with the permutation estimator's scoring as the reference;
* Monte Carlo alone at K = 50 (exact would need 2^50 evaluations);
* federated vs central test AUC over several seeds.

Usage: ``python bench/fl.py``. Times are the best of several repeats on a shared 2-core
machine; BLAS runs single-threaded (``OPENBLAS_NUM_THREADS=1`` unless set), because
threaded small products measure the machine's load rather than the code.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

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
    check_update,
    exact_shapley,
    federation_from_split,
    load_breast_cancer_dataset,
    monte_carlo_shapley,
    phi_weighted_fedavg,
    roc_auc,
    run_round,
    run_training,
    score_contributions,
    split_federated,
    stratified_shapley,
)

SEEDS = range(8)
SMALL_BUDGET = 64  # stratified estimator at K = 10: 6.25 % of exact's 1,024 evaluations


def best_time(fn: Callable[[], Any], repeats: int = 5) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def mixed_behaviours(k: int) -> dict[int, Behaviour]:
    """A label-flipper, a noise free-rider and a copy free-rider among ``k`` custodians."""
    return {k - 1: LabelFlipper(), k - 2: FreeRider("noise", 0.5), k - 3: FreeRider("global")}


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


def bench_exact_vs_mc(data: Dataset) -> None:
    k = 10
    print(f"== exact vs Monte Carlo Shapley, K = {k} (breast cancer, Dirichlet α = 0.5, E = 1)")
    print("   scenario 'honest': all custodians honest;")
    print("   scenario 'mixed' : + one label-flipper, one noise free-rider, one copy free-rider")
    print(
        f"   strat-{SMALL_BUDGET}: stratified + control variate, {SMALL_BUDGET} evaluations; "
        "strat-25%: same at 256; perm-25%: truncated permutation sampling at 256"
    )
    print(
        f"  {'scenario':<7} {'seed':>4} {'exact ev':>8} {'exact ms':>8} | "
        f"{f'strat-{SMALL_BUDGET} ev':>12} {'ms':>6} {'ρ':>6} | "
        f"{'strat-25% ev':>12} {'ms':>6} {'ρ':>6} | {'perm-25% ev':>11} {'ms':>6} {'ρ':>6}"
    )
    start = LogisticModel.zeros(30)
    for scenario in ("honest", "mixed"):
        behaviours = mixed_behaviours(k) if scenario == "mixed" else {}
        rows = []
        for seed in SEEDS:
            split = split_federated(
                data, SplitConfig(num_custodians=k, alpha=0.5, min_size=5, seed=seed)
            )
            ups = round_updates(split, behaviours, seed)
            holdout = split.validators[0]

            def game(ups: list[LogisticModel] = ups, holdout: Dataset = holdout) -> CoalitionGame:
                return CoalitionGame(base=start, updates=ups, holdout=holdout)

            t_ex, ex = best_time(lambda game=game: exact_shapley(game()), repeats=15)
            budget = ex.evaluations // 4
            row = [float(ex.evaluations), t_ex]
            estimators: list[Callable[[int], Any]] = [
                lambda s, game=game: stratified_shapley(
                    game(), rng=np.random.default_rng(s), max_evaluations=SMALL_BUDGET
                ),
                lambda s, game=game, budget=budget: stratified_shapley(
                    game(), rng=np.random.default_rng(s), max_evaluations=budget
                ),
                lambda s, game=game, budget=budget: monte_carlo_shapley(
                    game(),
                    rng=np.random.default_rng(s),
                    max_evaluations=budget,
                    convergence_tolerance=0.0,
                ),
            ]
            for estimator in estimators:
                t, est = best_time(lambda estimator=estimator, seed=seed: estimator(seed), 15)
                rho = float(spearmanr(ex.values, est.values).statistic)
                row += [float(est.evaluations), t, rho]
            rows.append(row)
            print(
                f"  {scenario:<7} {seed:>4} {int(row[0]):>8} {row[1] * 1e3:>8.2f} | "
                f"{int(row[2]):>12} {row[3] * 1e3:>6.2f} {row[4]:>6.3f} | "
                f"{int(row[5]):>12} {row[6] * 1e3:>6.2f} {row[7]:>6.3f} | "
                f"{int(row[8]):>11} {row[9] * 1e3:>6.2f} {row[10]:>6.3f}"
            )
        a = np.array(rows)
        for label, col in ((f"strat-{SMALL_BUDGET}", 2), ("strat-25%", 5), ("perm-25%", 8)):
            evals = a[:, col].max() / a[:, 0].max()
            times = a[:, col + 1].sum() / a[:, 1].sum()
            rho = a[:, col + 2]
            print(
                f"  {scenario:<7} {label:<10} evaluations ≤ {evals:6.1%} of exact, time "
                f"{times:6.1%} of exact (sum over seeds), Spearman mean {rho.mean():.4f} "
                f"min {rho.min():.4f}"
            )


def synthetic(n: int = 5000) -> Dataset:
    X, y = make_classification(n_samples=n, n_features=30, n_informative=10, random_state=0)
    return Dataset(X=X, y=y, name="synthetic")


def bench_round_growth() -> None:
    print("== one off-chain round by step, K = 5 … 40 (synthetic 5000 × 30, Dirichlet α = 1.0,")
    print("   3 validators, E = 2, mixed behaviours; exact Shapley up to K = 10, stratified")
    print("   Monte Carlo above; 'perm scoring' is the permutation estimator, for reference)")
    print(
        f"  {'K':>3} {'train':>8} {'checks':>8} {'scoring':>8} {'aggregate':>9} {'metric':>8} "
        f"{'round':>8} {'evals':>6} {'perm scoring':>12}   φ(flipper, noise, copy)"
    )
    data = synthetic()
    config = RoundConfig()
    start = LogisticModel.zeros(30)
    for k in (5, 10, 20, 40):
        split = split_federated(
            data, SplitConfig(num_custodians=k, alpha=1.0, min_size=5, seed=0, num_validators=3)
        )
        custodians, validators = federation_from_split(split, behaviours=mixed_behaviours(k))
        t_train, ups = best_time(
            lambda custodians=custodians: [
                c.behaviour.produce(
                    global_model=start,
                    data=c.data,
                    train=config.train,
                    rng=np.random.default_rng([config.seed, 0, j]),
                )
                for j, c in enumerate(custodians)
            ]
        )
        t_checks, _ = best_time(
            lambda ups=ups, custodians=custodians: [
                check_update(u, start, custodian=c.custodian_id, config=config.checks)
                for u, c in zip(ups, custodians, strict=True)
            ]
        )
        counts = [c.data.num_samples for c in custodians]

        def score(scoring: ScoringConfig, ups=ups, validators=validators, counts=counts):  # type: ignore[no-untyped-def]
            return [
                score_contributions(
                    base=start,
                    updates=ups,
                    holdout=v.holdout,
                    config=scoring,
                    rng=np.random.default_rng([config.seed, 0, 2**20 + i]),
                    num_samples=counts,
                )
                for i, v in enumerate(validators)
            ]

        t_score, scores = best_time(lambda score=score: score(config.scoring))
        t_perm, _ = best_time(
            lambda score=score: score(ScoringConfig(mc_estimator="permutation")), repeats=2
        )
        phi = np.median([s.phi for s in scores], axis=0)
        t_agg, (model, _) = best_time(
            lambda ups=ups, phi=phi: phi_weighted_fedavg(ups, phi.tolist(), previous=start)
        )
        pool = split.validation_pool
        t_metric, _ = best_time(lambda model=model, pool=pool: model.evaluate(pool, "auc"))
        t_round, result = best_time(
            lambda custodians=custodians, validators=validators: run_round(
                custodians=custodians, validators=validators, global_model=start, config=config
            )
        )
        adversaries = [result.outcome(f"custodian-{k - i}").phi for i in (1, 2, 3)]
        print(
            f"  {k:>3} {t_train * 1e3:>6.1f}ms {t_checks * 1e3:>6.2f}ms {t_score * 1e3:>6.1f}ms "
            f"{t_agg * 1e3:>7.2f}ms {t_metric * 1e3:>6.2f}ms {t_round * 1e3:>6.1f}ms "
            f"{result.coalition_evaluations:>6} {t_perm * 1e3:>10.1f}ms   "
            f"({adversaries[0]:.3g}, {adversaries[1]:.3g}, {adversaries[2]:.3g})"
        )
    print("  target: the K = 40 round ≤ 400 ms")


def bench_mc_k50() -> None:
    print("== Monte Carlo Shapley alone, K = 50 (synthetic 5000 × 30, Dirichlet α = 1.0)")
    split = split_federated(
        synthetic(), SplitConfig(num_custodians=50, alpha=1.0, min_size=5, seed=0)
    )
    behaviours: dict[int, Behaviour] = {49: LabelFlipper(), 48: FreeRider("global")}
    ups = round_updates(split, behaviours, 0)
    holdout = split.validators[0]
    start = LogisticModel.zeros(30)

    def game() -> CoalitionGame:
        return CoalitionGame(base=start, updates=ups, holdout=holdout)

    runs: list[tuple[str, Callable[[int], Any]]] = [
        ("stratified, default", lambda s: stratified_shapley(game(), rng=np.random.default_rng(s))),
        (
            "stratified, no c.v.",
            lambda s: stratified_shapley(
                game(), rng=np.random.default_rng(s), control_variate=False
            ),
        ),
        (
            "permutation, tol 5%",
            lambda s: monte_carlo_shapley(game(), rng=np.random.default_rng(s)),
        ),
        (
            "permutation, 1,000",
            lambda s: monte_carlo_shapley(
                game(), rng=np.random.default_rng(s), max_evaluations=1000
            ),
        ),
    ]
    print("   noise = max |SV(seed 0) − SV(seed 1)| / max |SV|; ρ = Spearman(seed 0, stratified)")
    first = None
    for label, fn in runs:
        t, mc = best_time(lambda fn=fn: fn(0), repeats=3)
        other = fn(1)
        first = mc if first is None else first
        rank = {int(k): r for r, k in enumerate(np.argsort(mc.values))}
        noise = float(np.abs(mc.values - other.values).max() / np.abs(mc.values).max())
        rho = float(spearmanr(mc.values, first.values).statistic)
        print(
            f"  {label:<20} {t * 1e3:7.1f} ms {mc.evaluations:6d} evaluations  noise {noise:.4f}  "
            f"ρ {rho:.4f}  ΣSV {mc.values.sum():+.4f} vs v(N)−v(∅) "
            f"{mc.v_full - mc.v_empty:+.4f}  flipper rank {rank[49]}/49 from lowest"
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
    bench_exact_vs_mc(data)
    bench_round_growth()
    bench_mc_k50()
    bench_auc_vs_central(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
