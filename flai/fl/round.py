"""The round engine: phase functions, and :func:`run_round` composing them in memory.

One FLAI training round (001 §3.1–3.3, §5.3) is five phases, each a pure function here:

1. :func:`train_phase` — every custodian produces an update from the global model
   (seed ``[seed, t, k]``);
2. :func:`check_phase` — each update is checked (shape, finite, norm bound);
3. :func:`score_phase` — one validator scores the accepted updates on its holdout
   (Shapley by default, seed ``[seed, t, 2²⁰ + v]``), or, if lazy, gives equal shares;
4. :func:`consensus_phase` — the validators' 1e18 fixed-point scores are combined by the
   lower stake-weighted median (:mod:`flai.fl.consensus`, the contract's rule);
5. :func:`aggregate_phase` — φ-weighted FedAvg (001 eq. 1) or classic FedAvg.

:func:`run_round` is the in-memory driver (no chain, no I/O) and returns a
:class:`RoundResult` with every number and artefact the chain and IPFS layers need; the
pipeline's ``run_round_flow`` composes the same phases with sealing, IPFS and the ledger
between them, so both compute the same consensus φ to the wei.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from flai.fl.aggregate import fedavg, phi_weighted_fedavg
from flai.fl.behaviours import Behaviour, Honest
from flai.fl.checks import CheckConfig, check_update
from flai.fl.consensus import lower_weighted_median, stake_weighted_median
from flai.fl.data import Dataset
from flai.fl.errors import ConfigError, UpdateCheckError
from flai.fl.fixed import metric_to_fixed, phi_to_fixed
from flai.fl.metrics import Metric
from flai.fl.model import LogisticModel, TrainConfig
from flai.fl.partition import FederatedSplit
from flai.fl.scoring import Flag, ScoringConfig, score_contributions

__all__ = [
    "VALIDATOR_BEHAVIOURS",
    "CheckOutcome",
    "Custodian",
    "CustodianOutcome",
    "RoundConfig",
    "RoundResult",
    "TrainingResult",
    "Validator",
    "ValidatorScores",
    "aggregate_phase",
    "check_phase",
    "consensus_phase",
    "federation_from_split",
    "majority_flags",
    "run_round",
    "run_training",
    "score_phase",
    "train_phase",
]

VALIDATOR_BEHAVIOURS = ("honest", "lazy")
"""How a validator scores: ``honest`` on its holdout; ``lazy`` gives every submitter
``⌊10¹⁸/n⌋`` without looking — the deviating party the consensus rule slashes (004 §5.2,
003 §VI), used in tests and demos."""

_MEASURES = ("shapley", "loo", "cosine", "lmv")


@dataclass(frozen=True, eq=False)
class Custodian:
    """A data custodian: an id, private data and how it behaves."""

    custodian_id: str
    data: Dataset
    behaviour: Behaviour = field(default_factory=Honest)


@dataclass(frozen=True, eq=False)
class Validator:
    """A validator: a private labelled holdout, its stake (the consensus weight: the
    deposit on chain) and how it scores (:data:`VALIDATOR_BEHAVIOURS`)."""

    validator_id: str
    holdout: Dataset
    stake: int = 1
    behaviour: str = "honest"

    def __post_init__(self) -> None:
        if self.behaviour not in VALIDATOR_BEHAVIOURS:
            raise ConfigError(
                f"validator {self.validator_id}: unknown behaviour {self.behaviour!r} "
                f"(one of {VALIDATOR_BEHAVIOURS})"
            )
        if self.stake < 0:
            raise ConfigError(f"validator {self.validator_id}: stake must be >= 0")


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


# --------------------------------------------------------------------------- phases


def train_phase(
    custodian: Custodian, *, global_model: LogisticModel, config: RoundConfig, t: int, index: int
) -> LogisticModel:
    """Custodian ``index``'s update of round ``t`` (its behaviour, seed ``[seed, t, index]``)."""
    rng = np.random.default_rng([config.seed, t, index])
    return custodian.behaviour.produce(
        global_model=global_model, data=custodian.data, train=config.train, rng=rng
    )


@dataclass(frozen=True)
class CheckOutcome:
    """An update's check: the failed check's name (``None`` if accepted) and its norm
    ``‖w_k − w_global‖₂`` (``nan`` when the shape is wrong)."""

    rejection: str | None
    norm: float

    @property
    def accepted(self) -> bool:
        """Whether the update passed every check."""
        return self.rejection is None


def check_phase(
    update: LogisticModel, *, global_model: LogisticModel, custodian: str, config: CheckConfig
) -> CheckOutcome:
    """Check one update (shape, finite, norm bound)."""
    try:
        return CheckOutcome(
            None, check_update(update, global_model, custodian=custodian, config=config)
        )
    except UpdateCheckError as err:
        same_shape = update.params.shape == global_model.params.shape
        norm = float(np.linalg.norm(update.params - global_model.params)) if same_shape else np.nan
        return CheckOutcome(err.check, norm)


@dataclass(frozen=True)
class ValidatorScores:
    """One validator's scores for a round's submitters (0 and no flags where rejected).

    Attributes
    ----------
    phi, phi_fixed
        ``φ ∈ [0, 1]`` and ``⌊φ·1e18⌋`` (what the validator submits on chain).
    flags
        The validator's flags per submitter.
    measures
        ``shapley``, ``loo``, ``cosine``, ``lmv`` per submitter.
    evaluations, method
        Coalition evaluations and the Shapley method (``"none"``: nothing scored).
    """

    validator_id: str
    phi: tuple[float, ...]
    phi_fixed: tuple[int, ...]
    flags: tuple[frozenset[Flag], ...]
    measures: Mapping[str, tuple[float, ...]]
    evaluations: int = 0
    method: str = "none"


def score_phase(
    validator: Validator,
    *,
    index: int,
    global_model: LogisticModel,
    updates: Sequence[LogisticModel | None],
    num_samples: Sequence[int],
    config: RoundConfig,
    t: int,
) -> ValidatorScores:
    """Validator ``index``'s scores of round ``t``'s submitters; ``updates[i]`` is None for a
    submitter whose update it rejected (or could not open)."""
    n = len(updates)
    zeros = (0.0,) * n
    if validator.behaviour == "lazy":
        share = 1.0 / n if n else 0.0
        return ValidatorScores(
            validator_id=validator.validator_id,
            phi=(share,) * n,
            phi_fixed=(phi_to_fixed(share),) * n,
            flags=(frozenset(),) * n,
            measures={m: zeros for m in _MEASURES},
        )
    accepted = [i for i, u in enumerate(updates) if u is not None]
    phi, flags = list(zeros), [frozenset[Flag]()] * n
    measures = {m: list(zeros) for m in _MEASURES}
    if not accepted:
        return ValidatorScores(
            validator_id=validator.validator_id,
            phi=tuple(phi),
            phi_fixed=(0,) * n,
            flags=tuple(flags),
            measures={m: tuple(v) for m, v in measures.items()},
        )
    scores = score_contributions(
        base=global_model,
        updates=[u for u in updates if u is not None],
        holdout=validator.holdout,
        config=config.scoring,
        rng=np.random.default_rng([config.seed, t, 2**20 + index]),
        num_samples=[num_samples[i] for i in accepted],
    )
    for j, i in enumerate(accepted):
        phi[i] = float(scores.phi[j])
        flags[i] = scores.flags[j]
        for m in _MEASURES:
            measures[m][i] = float(getattr(scores, m)[j])
    return ValidatorScores(
        validator_id=validator.validator_id,
        phi=tuple(phi),
        phi_fixed=tuple(phi_to_fixed(p) for p in phi),
        flags=tuple(flags),
        measures={m: tuple(v) for m, v in measures.items()},
        evaluations=scores.estimate.evaluations,
        method=scores.estimate.method,
    )


def consensus_phase(
    scores: Sequence[ValidatorScores], stakes: Sequence[int]
) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Consensus φ per submitter by the lower stake-weighted median: ``(φ·1e18, φ)``.

    The fixed-point vector is the chain's (:func:`flai.fl.stake_weighted_median` of what the
    validators submit); the float one is the same rule on the float scores, so
    ``fixed[i] == ⌊float[i]·1e18⌋``.
    """
    if not scores or not scores[0].phi:
        return (), ()
    fixed = stake_weighted_median([s.phi_fixed for s in scores], stakes)
    floats = tuple(
        float(lower_weighted_median([s.phi[i] for s in scores], stakes))
        for i in range(len(scores[0].phi))
    )
    return fixed, floats


def aggregate_phase(
    updates: Sequence[LogisticModel],
    *,
    phi: Sequence[float],
    num_samples: Sequence[int],
    previous: LogisticModel,
    config: RoundConfig,
) -> tuple[LogisticModel, bool]:
    """The next global model from the accepted ``updates`` and their consensus ``phi``:
    φ-weighted FedAvg (001 eq. 1; the previous model is kept when Σφ = 0) or, with
    ``aggregation="fedavg"``, sample-weighted FedAvg. Returns ``(model, kept_previous)``."""
    if config.aggregation == "phi":
        return phi_weighted_fedavg(list(updates), list(phi), previous=previous)
    if not updates:
        return previous, True
    return fedavg(list(updates), list(num_samples)), False


# --------------------------------------------------------------------------- in memory


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
        Consensus (lower stake-weighted median) of the validators' raw measures.
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


def majority_flags(
    scores: Sequence[ValidatorScores], rejected: Sequence[bool]
) -> tuple[frozenset[Flag], ...]:
    """Per submitter, the flags more than half of the validators raised, plus
    :attr:`Flag.REJECTED` where an update was rejected."""
    out = []
    for i, was_rejected in enumerate(rejected):
        votes: dict[Flag, int] = {}
        for s in scores:
            for f in s.flags[i]:
                votes[f] = votes.get(f, 0) + 1
        flags = {f for f, c in votes.items() if 2 * c > len(scores)}
        if was_rejected:
            flags.add(Flag.REJECTED)
        out.append(frozenset(flags))
    return tuple(out)


def run_round(
    *,
    custodians: Sequence[Custodian],
    validators: Sequence[Validator],
    global_model: LogisticModel,
    config: RoundConfig,
    round_index: int = 0,
    test: Dataset | None = None,
) -> RoundResult:
    """Run one federated round in memory: train → check → score → consensus → aggregate.

    Raises
    ------
    ConfigError
        If there are no custodians (``K = 0``) or validators, or ids repeat.
    FeatureMismatchError
        If any party's feature count differs from the global model's.
    """
    _validate_parties(custodians, validators, global_model.num_features)
    t = round_index
    submitted = [
        train_phase(c, global_model=global_model, config=config, t=t, index=k)
        for k, c in enumerate(custodians)
    ]
    checks = [
        check_phase(u, global_model=global_model, custodian=c.custodian_id, config=config.checks)
        for u, c in zip(submitted, custodians, strict=True)
    ]
    counts = [c.data.num_samples for c in custodians]
    scored = [
        score_phase(
            v,
            index=i,
            global_model=global_model,
            updates=[u if ch.accepted else None for u, ch in zip(submitted, checks, strict=True)],
            num_samples=counts,
            config=config,
            t=t,
        )
        for i, v in enumerate(validators)
    ]
    stakes = [v.stake for v in validators]
    phi_fixed, phi = consensus_phase(scored, stakes)
    accepted = [k for k, ch in enumerate(checks) if ch.accepted]
    model, kept = aggregate_phase(
        [submitted[k] for k in accepted],
        phi=[phi[k] for k in accepted],
        num_samples=[counts[k] for k in accepted],
        previous=global_model,
        config=config,
    )
    flags = majority_flags(scored, [not ch.accepted for ch in checks])
    measure = {
        m: [
            float(lower_weighted_median([s.measures[m][k] for s in scored], stakes))
            for k in range(len(custodians))
        ]
        for m in _MEASURES
    }
    outcomes = tuple(
        CustodianOutcome(
            custodian_id=c.custodian_id,
            behaviour=c.behaviour.name,
            num_samples=counts[k],
            update=submitted[k].to_bytes(),
            accepted=checks[k].accepted,
            rejection=checks[k].rejection,
            update_norm=checks[k].norm,
            shapley=measure["shapley"][k],
            loo=measure["loo"][k],
            cosine=measure["cosine"][k],
            lmv=measure["lmv"][k],
            phi=phi[k],
            phi_fixed=phi_fixed[k],
            flags=flags[k],
        )
        for k, c in enumerate(custodians)
    )
    pool = Dataset.concat([v.holdout for v in validators], name="validation-pool")
    metric = model.evaluate(pool, config.report_metric)
    methods = [s.method for s in scored if s.method != "none"]
    return RoundResult(
        round_index=t,
        previous=global_model,
        model=model,
        previous_bytes=global_model.to_bytes(),
        aggregate=model.to_bytes(),
        outcomes=outcomes,
        validator_ids=tuple(v.validator_id for v in validators),
        validator_phi=tuple(s.phi for s in scored),
        validator_phi_fixed=tuple(s.phi_fixed for s in scored),
        metric=metric,
        metric_fixed=metric_to_fixed(min(max(metric, 0.0), 1.0)),
        metric_name=config.report_metric,
        test_metric=None if test is None else model.evaluate(test, config.report_metric),
        kept_previous=kept,
        coalition_evaluations=sum(s.evaluations for s in scored),
        scoring_method=methods[-1] if methods else "none",
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
    validators ``validator-v`` (equal stakes) for a :class:`~flai.fl.partition.FederatedSplit`."""
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
