"""Print whether learning is visible in the scenario: per-round AUCs and the baselines.

Runs the off-chain round engine (:func:`flai.fl.run_training`) over rounds with the
parameters of ``configs/scenario.yaml``'s federation: five hospitals of relative sizes
1.2 / 1.0 / 0.9 / 0.8 / 0.8, the fourth a free-rider (resubmits the global model) and the
fifth a label-flipper, three validators, a label-Dirichlet non-IID split that keeps those
sizes (:func:`flai.fl.dirichlet_partition`). Per round it prints the global model's test
AUC, the AUC on the validators' pooled holdouts (the metric posted on chain, with its
1e6 fixed point) and on each validator's own holdout, and the free-rider's and
label-flipper's consensus φ. Then the baselines (:func:`flai.fl.baseline_scores`): each
hospital alone on its own rows, and one central model on all hospitals' rows, with the
same learner and hyper-parameters for the same total epochs.

``--seeds N`` adds a summary over seeds 0 … N−1 of the figures the scenario is chosen for:
round 0 against the last round, the last round against central, the mean hospital alone
against federated, distinct posted metrics, and the adversaries' largest φ.

Usage::

    python bench/learning.py                       # support2 at the recommended values
    python bench/learning.py --dataset breast-cancer --seeds 8
    python bench/learning.py --grid                # the candidate values side by side

No timing here: every figure is deterministic for its seed.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flai.fl import (
    DATASET_NAMES,
    Behaviour,
    Dataset,
    FreeRider,
    LabelFlipper,
    RoundConfig,
    SplitConfig,
    TrainConfig,
    TrainingResult,
    baseline_scores,
    dataset_info,
    federation_from_split,
    load_dataset,
    run_training,
    split_federated,
)

HOSPITALS = ("st-mary", "charite", "karolinska", "free-clinic", "rogue-lab")
SIZES = (1.2, 1.0, 0.9, 0.8, 0.8)
BEHAVIOURS: dict[int, Behaviour] = {3: FreeRider(mode="global"), 4: LabelFlipper()}
NUM_VALIDATORS = 3


@dataclass(frozen=True)
class Setup:
    """One candidate scenario."""

    dataset: str = "support2"
    seed: int = 10
    rounds: int = 5
    alpha: float = 0.5
    learning_rate: float = 0.1
    epochs: int = 1
    batch_size: int = 64
    test_fraction: float = 0.2
    validation_fraction: float = 0.25

    def describe(self) -> str:
        return (
            f"dataset={self.dataset} seed={self.seed} rounds={self.rounds} α={self.alpha:g} "
            f"η={self.learning_rate:g} E={self.epochs} B={self.batch_size} "
            f"test={self.test_fraction:g} validation={self.validation_fraction:g}"
        )


@dataclass(frozen=True)
class Outcome:
    """The figures of one run."""

    test: tuple[float, ...]
    posted: tuple[float, ...]
    posted_fixed: tuple[int, ...]
    per_validator: tuple[tuple[float, ...], ...]
    adversary_phi: tuple[tuple[float, float], ...]
    alone: tuple[float, ...]
    central: float
    sizes: tuple[int, ...]
    prevalence: tuple[float, ...]
    holdout_rows: tuple[int, ...]
    test_rows: int

    @property
    def mean_alone(self) -> float:
        return float(np.mean(self.alone))


def run(setup: Setup, data: Dataset) -> Outcome:
    split = split_federated(
        data,
        SplitConfig(
            num_custodians=len(SIZES),
            alpha=setup.alpha,
            sizes=SIZES,
            partition="dirichlet",
            num_validators=NUM_VALIDATORS,
            test_fraction=setup.test_fraction,
            validation_fraction=setup.validation_fraction,
            seed=setup.seed,
        ),
    )
    custodians, validators = federation_from_split(split, behaviours=BEHAVIOURS)
    train = TrainConfig(
        epochs=setup.epochs, learning_rate=setup.learning_rate, batch_size=setup.batch_size
    )
    result: TrainingResult = run_training(
        custodians=custodians,
        validators=validators,
        rounds=setup.rounds,
        config=RoundConfig(train=train, seed=setup.seed),
        test=split.test,
    )
    base = baseline_scores(
        split.custodians, split.test, train=train, rounds=setup.rounds, seed=setup.seed
    )
    return Outcome(
        test=tuple(float(r.test_metric or 0.0) for r in result.rounds),
        posted=tuple(r.metric for r in result.rounds),
        posted_fixed=tuple(r.metric_fixed for r in result.rounds),
        per_validator=tuple(
            tuple(r.model.evaluate(v.holdout, "auc") for v in validators) for r in result.rounds
        ),
        adversary_phi=tuple((r.phi[3], r.phi[4]) for r in result.rounds),
        alone=base.alone,
        central=base.central,
        sizes=tuple(c.num_samples for c in split.custodians),
        prevalence=tuple(float(c.y.mean()) for c in split.custodians),
        holdout_rows=tuple(v.num_samples for v in split.validators),
        test_rows=split.test.num_samples,
    )


def print_run(setup: Setup, out: Outcome) -> None:
    info = dataset_info(setup.dataset)
    print(f"== {setup.describe()}")
    print(f"   {info.title}; y = 1: {info.outcome}; from {info.source}")
    print(f"   validator holdouts {list(out.holdout_rows)} rows, test set {out.test_rows} rows")
    print(f"   {'hospital':<12} {'behaviour':<14} {'rows':>5} {'deaths/pos':>10} {'alone AUC':>9}")
    behaviours = ["honest", "honest", "honest", "free-rider", "label-flipper"]
    for k, name in enumerate(HOSPITALS):
        print(
            f"   {name:<12} {behaviours[k]:<14} {out.sizes[k]:>5} "
            f"{out.prevalence[k]:>10.1%} {out.alone[k]:>9.4f}"
        )
    print(
        f"   {'round':>5} {'test AUC':>9} {'posted AUC':>10} {'fixed 1e6':>9}  "
        f"{'per-validator holdout AUC':<26} {'φ free-rider':>12} {'φ flipper':>9}"
    )
    for t in range(len(out.test)):
        per_v = " ".join(f"{a:.4f}" for a in out.per_validator[t])
        fr, fl = out.adversary_phi[t]
        print(
            f"   {t:>5} {out.test[t]:>9.4f} {out.posted[t]:>10.4f} {out.posted_fixed[t]:>9d}  "
            f"{per_v:<26} {fr:>12.4f} {fl:>9.4f}"
        )
    print(
        f"   federated (last round) {out.test[-1]:.4f}   central {out.central:.4f}   "
        f"each hospital alone: mean {out.mean_alone:.4f}, best {max(out.alone):.4f}"
    )
    gain, gap = out.test[-1] - out.test[0], out.central - out.test[-1]
    print(
        f"   last − round 0 {gain:+.4f}   central − last {gap:+.4f}   "
        f"last − mean alone {out.test[-1] - out.mean_alone:+.4f}   "
        f"distinct posted metrics {len(set(out.posted_fixed))}/{len(out.posted_fixed)}"
    )


SUMMARY_COLUMNS = (
    ("dataset", 13),
    ("R", 2),
    ("α", 4),
    ("η", 5),
    ("E", 2),
    ("B", 3),
    ("r0", 6),
    ("last", 6),
    ("central", 7),
    ("alone", 6),
    ("last−r0", 8),
    ("min", 7),
    ("cent−last", 9),
    ("max", 7),
    ("last−alone", 10),
    ("min", 7),
    ("distinct", 8),
    ("adv φ", 6),
)


def summary_row(setup: Setup, outs: list[Outcome]) -> str:
    gain = np.array([o.test[-1] - o.test[0] for o in outs])
    gap = np.array([o.central - o.test[-1] for o in outs])
    over_alone = np.array([o.test[-1] - o.mean_alone for o in outs])
    cells = (
        setup.dataset,
        str(setup.rounds),
        f"{setup.alpha:g}",
        f"{setup.learning_rate:g}",
        str(setup.epochs),
        str(setup.batch_size),
        f"{np.mean([o.test[0] for o in outs]):.3f}",
        f"{np.mean([o.test[-1] for o in outs]):.3f}",
        f"{np.mean([o.central for o in outs]):.3f}",
        f"{np.mean([o.mean_alone for o in outs]):.3f}",
        f"{gain.mean():+.3f}",
        f"{gain.min():+.3f}",
        f"{gap.mean():+.3f}",
        f"{gap.max():+.3f}",
        f"{over_alone.mean():+.3f}",
        f"{over_alone.min():+.3f}",
        f"{min(len(set(o.posted_fixed)) for o in outs)}/{setup.rounds}",
        f"{max(max(max(p) for p in o.adversary_phi) for o in outs):.3f}",
    )
    return " ".join(
        cell.ljust(width) if i == 0 else cell.rjust(width)
        for i, (cell, (_, width)) in enumerate(zip(cells, SUMMARY_COLUMNS, strict=True))
    )


def summarise(setups: list[Setup], seeds: int, datasets: dict[str, Dataset]) -> None:
    print(
        f"== summary over seeds 0…{seeds - 1}: means of round 0 (r0), last round, central and "
        "mean hospital alone test AUC;"
    )
    print(
        "   the gaps' mean and worst seed; fewest distinct posted metrics; largest φ of the "
        "free-rider or flipper in any round"
    )
    print(
        "   "
        + " ".join(
            name.ljust(width) if i == 0 else name.rjust(width)
            for i, (name, width) in enumerate(SUMMARY_COLUMNS)
        )
    )
    for s in setups:
        outs = [run(replace(s, seed=seed), datasets[s.dataset]) for seed in range(seeds)]
        print("   " + summary_row(s, outs))


def main(argv: list[str] | None = None) -> int:
    default = Setup()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=DATASET_NAMES, default=default.dataset)
    parser.add_argument("--seed", type=int, default=default.seed)
    parser.add_argument("--rounds", type=int, default=default.rounds)
    parser.add_argument("--alpha", type=float, default=default.alpha)
    parser.add_argument("--learning-rate", type=float, default=default.learning_rate)
    parser.add_argument("--epochs", type=int, default=default.epochs)
    parser.add_argument("--batch-size", type=int, default=default.batch_size)
    parser.add_argument("--test-fraction", type=float, default=default.test_fraction)
    parser.add_argument("--validation-fraction", type=float, default=default.validation_fraction)
    parser.add_argument("--seeds", type=int, default=8, help="seeds in the summary (0: none)")
    parser.add_argument(
        "--grid", action="store_true", help="summarise the candidate values side by side"
    )
    args = parser.parse_args(argv)
    setup = Setup(
        dataset=args.dataset,
        seed=args.seed,
        rounds=args.rounds,
        alpha=args.alpha,
        learning_rate=args.learning_rate,
        epochs=args.epochs,
        batch_size=args.batch_size,
        test_fraction=args.test_fraction,
        validation_fraction=args.validation_fraction,
    )
    datasets = {setup.dataset: load_dataset(setup.dataset)}
    print_run(setup, run(setup, datasets[setup.dataset]))
    if args.grid:
        datasets.setdefault("breast-cancer", load_dataset("breast-cancer"))
        datasets.setdefault("support2", load_dataset("support2"))
        setups = [
            replace(
                setup,
                dataset="breast-cancer",
                rounds=3,
                alpha=0.5,
                learning_rate=0.1,
                epochs=2,
                batch_size=16,
            )
        ]
        for rounds, alpha, (lr, batch) in itertools.product(
            (3, 5), (0.3, 0.5, 1.0), ((0.1, 16), (0.1, 32), (0.1, 64), (0.03, 16))
        ):
            setups.append(
                replace(
                    setup,
                    dataset="support2",
                    rounds=rounds,
                    alpha=alpha,
                    learning_rate=lr,
                    batch_size=batch,
                    epochs=1,
                )
            )
        summarise(setups, max(args.seeds, 1), datasets)
    elif args.seeds > 0:
        summarise([setup], args.seeds, datasets)
    return 0


if __name__ == "__main__":
    sys.exit(main())
