"""The pure round driver: train → check → score → aggregate → evaluate, no chain.

One call to :func:`run_round` is one FLAI training round (001 §3.1–3.3, §5.3): every
custodian produces an update from the current global model, the updates are checked,
each validator scores the accepted ones on its own holdout (Shapley by default), the
validators' scores are combined by a per-custodian median (the off-chain reference of the
chain's robust consensus), and the global model is updated by φ-weighted FedAvg (001
eq. 1) or classic FedAvg. The returned :class:`RoundResult` carries every number and
artefact the chain and IPFS layers need: per-validator and consensus φ (float and 1e18
fixed point), the aggregate's metric (float and 1e6 fixed point), flags and serialized
models.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from flai.fl.aggregate import fedavg, phi_weighted_fedavg
from flai.fl.behaviours import Behaviour, Honest
from flai.fl.checks import CheckConfig, check_update
from flai.fl.data import Dataset, FederatedSplit
from flai.fl.errors import ConfigError, UpdateCheckError
from flai.fl.fixed import metric_to_fixed, phi_to_fixed
from flai.fl.metrics import Metric
from flai.fl.model import LogisticModel, TrainConfig
from flai.fl.scoring import Flag, ScoringConfig, score_contributions

__all__ = [
    "Custodian",
    "CustodianOutcome",
    "RoundConfig",
    "RoundResult",
    "TrainingResult",
    "Validator",
    "federation_from_split",
    "run_round",
    "run_training",
]


@dataclass(frozen=True, eq=False)
class Custodian:
    """A data custodian: an id, private data and how it behaves."""

    custodian_id: str
    data: Dataset
    behaviour: Behaviour = field(default_factory=Honest)


@dataclass(frozen=True, eq=False)
class Validator:
    """A validator with a private labelled holdout."""

    validator_id: str
    holdout: Dataset


@dataclass(frozen=True)
class RoundConfig:
    """Everything that parameterises a round.

    Parameters
    ----------
    train
        Local training hyper-parameters.
    checks
        Update-check settings.
    scoring
        Contribution-scoring settings.
    aggregation
        ``"phi"`` (001 eq. 1) or ``"fedavg"`` (sample-weighted, scores still computed).
    report_metric
        Metric of the aggregate reported to the chain (AUC, the RFM threshold's metric).
    seed
        Root seed; custodian ``k`` in round ``t`` trains with
        ``default_rng([seed, t, k])``, validator ``v`` samples with
        ``default_rng([seed, t, 2**20 + v])``.
    """

    train: TrainConfig = field(default_factory=TrainConfig)
    checks: CheckConfig = field(default_factory=CheckConfig)
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    aggregation: Literal["phi", "fedavg"] = "phi"
    report_metric: Metric = "auc"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.aggregation not in ("phi", "fedavg"):
            raise ConfigError(f"unknown aggregation {self.aggregation!r}")


@dataclass(frozen=True)
class CustodianOutcome:
    """One custodian's result in a round.

    Attributes
    ----------
    custodian_id, behaviour, num_samples
        Who, how (label of the behaviour) and how much data.
    update
        Serialized submitted model (the bytes pinned to IPFS).
    accepted
        Whether the update passed every check.
    rejection
        Name of the failed check (``"shape"``, ``"finite"``, ``"norm"``) or ``None``.
    update_norm
        ``‖w_k − w_global‖₂`` (``nan`` when the shape check failed).
    shapley, loo, cosine, lmv
        Median over validators of the raw measures (0 when rejected).
    phi, phi_fixed
        Consensus ``φ ∈ [0, 1]`` and ``⌊φ·1e18⌋``.
    flags
        Consensus flags (raised by a majority of validators, or ``REJECTED``).
    """

    custodian_id: str
    behaviour: str
    num_samples: int
    update: bytes
    accepted: bool
    rejection: str | None
    update_norm: float
    shapley: float
    loo: float
    cosine: float
    lmv: float
    phi: float
    phi_fixed: int
    flags: frozenset[Flag]


@dataclass(frozen=True, eq=False)
class RoundResult:
    """Everything one round produced.

    Attributes
    ----------
    round_index
        ``t``.
    previous, model
        The global model before and after the round.
    previous_bytes, aggregate
        Their serializations.
    outcomes
        Per-custodian results, in input order.
    validator_ids
        Validators in the order of ``validator_phi``.
    validator_phi, validator_phi_fixed
        ``[v][k]``: validator ``v``'s score for custodian ``k`` (what each validator
        submits on chain).
    metric, metric_fixed
        The aggregate's metric on the pooled validator holdouts and ``⌊m·1e6⌋``.
    metric_name
        Which metric.
    test_metric
        The aggregate's metric on a test set, if one was given.
    kept_previous
        True when ``Σφ = 0`` and the previous model was kept.
    coalition_evaluations
        Distinct coalition evaluations summed over validators.
    scoring_method
        ``"exact"``, ``"monte_carlo"`` or ``"none"`` (nothing to score).
    """

    round_index: int
    previous: LogisticModel
    model: LogisticModel
    previous_bytes: bytes
    aggregate: bytes
    outcomes: tuple[CustodianOutcome, ...]
    validator_ids: tuple[str, ...]
    validator_phi: tuple[tuple[float, ...], ...]
    validator_phi_fixed: tuple[tuple[int, ...], ...]
    metric: float
    metric_fixed: int
    metric_name: str
    test_metric: float | None
    kept_previous: bool
    coalition_evaluations: int
    scoring_method: str

    @property
    def phi(self) -> tuple[float, ...]:
        """Consensus φ per custodian."""
        return tuple(o.phi for o in self.outcomes)

    @property
    def phi_fixed(self) -> tuple[int, ...]:
        """Consensus ``⌊φ·1e18⌋`` per custodian."""
        return tuple(o.phi_fixed for o in self.outcomes)

    def outcome(self, custodian_id: str) -> CustodianOutcome:
        """The outcome of one custodian by id."""
        for o in self.outcomes:
            if o.custodian_id == custodian_id:
                return o
        raise KeyError(custodian_id)


@dataclass(frozen=True, eq=False)
class TrainingResult:
    """Several rounds in sequence and the final global model."""

    rounds: tuple[RoundResult, ...]
    model: LogisticModel


def _validate_parties(
    custodians: Sequence[Custodian], validators: Sequence[Validator], num_features: int
) -> None:
    if not custodians:
        raise ConfigError("a round needs at least one custodian (K = 0)")
    if not validators:
        raise ConfigError("a round needs at least one validator")
    ids = [c.custodian_id for c in custodians]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"custodian ids must be unique: {ids}")
    vids = [v.validator_id for v in validators]
    if len(set(vids)) != len(vids):
        raise ConfigError(f"validator ids must be unique: {vids}")
    for c in custodians:
        c.data.require_features(num_features)
    for v in validators:
        v.holdout.require_features(num_features)


def run_round(
    *,
    custodians: Sequence[Custodian],
    validators: Sequence[Validator],
    global_model: LogisticModel,
    config: RoundConfig,
    round_index: int = 0,
    test: Dataset | None = None,
) -> RoundResult:
    """Run one federated round (pure: no chain, no I/O).

    Raises
    ------
    ConfigError
        If there are no custodians (``K = 0``) or validators, or ids repeat.
    FeatureMismatchError
        If any party's feature count differs from the global model's.
    """
    _validate_parties(custodians, validators, global_model.num_features)
    submitted: list[LogisticModel] = []
    norms: list[float] = []
    rejections: list[str | None] = []
    for k, c in enumerate(custodians):
        rng = np.random.default_rng([config.seed, round_index, k])
        update = c.behaviour.produce(
            global_model=global_model, data=c.data, train=config.train, rng=rng
        )
        submitted.append(update)
        try:
            norms.append(
                check_update(update, global_model, custodian=c.custodian_id, config=config.checks)
            )
            rejections.append(None)
        except UpdateCheckError as err:
            rejections.append(err.check)
            norms.append(
                float(np.linalg.norm(update.params - global_model.params))
                if update.params.shape == global_model.params.shape
                else float("nan")
            )

    accepted = [k for k, r in enumerate(rejections) if r is None]
    k_total, n_val = len(custodians), len(validators)
    per_val_phi = np.zeros((n_val, k_total))
    measures = {m: np.zeros((n_val, k_total)) for m in ("shapley", "loo", "cosine", "lmv")}
    flag_votes: list[dict[Flag, int]] = [{} for _ in range(k_total)]
    evaluations, method = 0, "none"
    if accepted:
        updates = [submitted[k] for k in accepted]
        counts = [custodians[k].data.num_samples for k in accepted]
        for v, val in enumerate(validators):
            scores = score_contributions(
                base=global_model,
                updates=updates,
                holdout=val.holdout,
                config=config.scoring,
                rng=np.random.default_rng([config.seed, round_index, 2**20 + v]),
                num_samples=counts,
            )
            evaluations += scores.estimate.evaluations
            method = scores.estimate.method
            for j, k in enumerate(accepted):
                per_val_phi[v, k] = scores.phi[j]
                for name, table in measures.items():
                    table[v, k] = getattr(scores, name)[j]
                for f in scores.flags[j]:
                    flag_votes[k][f] = flag_votes[k].get(f, 0) + 1

    consensus = np.median(per_val_phi, axis=0)
    if config.aggregation == "phi":
        model, kept = phi_weighted_fedavg(
            [submitted[k] for k in accepted],
            [float(consensus[k]) for k in accepted],
            previous=global_model,
        )
    elif accepted:
        model = fedavg(
            [submitted[k] for k in accepted],
            [custodians[k].data.num_samples for k in accepted],
        )
        kept = False
    else:
        model, kept = global_model, True

    outcomes = []
    for k, c in enumerate(custodians):
        flags = {f for f, n in flag_votes[k].items() if 2 * n > n_val}
        if rejections[k] is not None:
            flags.add(Flag.REJECTED)
        phi = float(consensus[k])
        outcomes.append(
            CustodianOutcome(
                custodian_id=c.custodian_id,
                behaviour=c.behaviour.name,
                num_samples=c.data.num_samples,
                update=submitted[k].to_bytes(),
                accepted=rejections[k] is None,
                rejection=rejections[k],
                update_norm=norms[k],
                shapley=float(np.median(measures["shapley"][:, k])),
                loo=float(np.median(measures["loo"][:, k])),
                cosine=float(np.median(measures["cosine"][:, k])),
                lmv=float(np.median(measures["lmv"][:, k])),
                phi=phi,
                phi_fixed=phi_to_fixed(phi),
                flags=frozenset(flags),
            )
        )
    metric_name = config.report_metric
    pool = Dataset.concat([v.holdout for v in validators], name="validation-pool")
    metric = model.evaluate(pool, metric_name)
    return RoundResult(
        round_index=round_index,
        previous=global_model,
        model=model,
        previous_bytes=global_model.to_bytes(),
        aggregate=model.to_bytes(),
        outcomes=tuple(outcomes),
        validator_ids=tuple(v.validator_id for v in validators),
        validator_phi=tuple(tuple(float(x) for x in row) for row in per_val_phi),
        validator_phi_fixed=tuple(
            tuple(phi_to_fixed(float(x)) for x in row) for row in per_val_phi
        ),
        metric=metric,
        metric_fixed=metric_to_fixed(min(max(metric, 0.0), 1.0)),
        metric_name=metric_name,
        test_metric=None if test is None else model.evaluate(test, metric_name),
        kept_previous=kept,
        coalition_evaluations=evaluations,
        scoring_method=method,
    )


def run_training(
    *,
    custodians: Sequence[Custodian],
    validators: Sequence[Validator],
    rounds: int,
    config: RoundConfig,
    initial_model: LogisticModel | None = None,
    test: Dataset | None = None,
) -> TrainingResult:
    """Run ``rounds`` rounds in sequence from ``initial_model`` (zeros by default)."""
    if rounds < 1:
        raise ConfigError(f"rounds must be >= 1, got {rounds}")
    if not custodians:
        raise ConfigError("a round needs at least one custodian (K = 0)")
    model = initial_model or LogisticModel.zeros(custodians[0].data.num_features)
    results = []
    for t in range(rounds):
        result = run_round(
            custodians=custodians,
            validators=validators,
            global_model=model,
            config=config,
            round_index=t,
            test=test,
        )
        results.append(result)
        model = result.model
    return TrainingResult(rounds=tuple(results), model=model)


def federation_from_split(
    split: FederatedSplit, *, behaviours: Mapping[int, Behaviour] | None = None
) -> tuple[tuple[Custodian, ...], tuple[Validator, ...]]:
    """Custodians ``custodian-k`` (honest unless ``behaviours[k]`` says otherwise) and
    validators ``validator-v`` for a :class:`~flai.fl.data.FederatedSplit`."""
    chosen = dict(behaviours or {})
    unknown = set(chosen) - set(range(len(split.custodians)))
    if unknown:
        raise ConfigError(f"behaviours name unknown custodians {sorted(unknown)}")
    custodians = tuple(
        Custodian(custodian_id=d.name, data=d, behaviour=chosen.get(k, Honest()))
        for k, d in enumerate(split.custodians)
    )
    validators = tuple(Validator(validator_id=v.name, holdout=v) for v in split.validators)
    return custodians, validators
