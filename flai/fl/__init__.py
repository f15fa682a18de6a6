"""FLAI federated-learning engine (off-chain, chain-independent).

Contribution-aware federated learning (001 §3.1–3.3, §5.3; 000 §8): custodians train a
logistic-regression model locally (:mod:`~flai.fl.model`), updates are checked
(:mod:`~flai.fl.checks`), scored by Shapley value on validator holdouts (the coalition
game :mod:`~flai.fl.coalition`, its estimators :mod:`~flai.fl.shapley` and
:mod:`~flai.fl.stratified`, the scores and flags :mod:`~flai.fl.scoring`) and aggregated
by φ-weighted FedAvg (:mod:`~flai.fl.aggregate`); :mod:`~flai.fl.round` is the round
engine (train, check, score, consensus, aggregate phases, and :func:`run_round` composing
them), :mod:`~flai.fl.consensus` the one consensus rule (the contract's lower
stake-weighted median), and :mod:`~flai.fl.fixed` maps floats to on-chain fixed point.
:mod:`~flai.fl.data` is the data-set type, :mod:`~flai.fl.datasets` loads the bundled
data sets and :mod:`~flai.fl.partition` splits one into a federation;
:mod:`~flai.fl.baselines` scores each custodian alone and all data pooled, the two
references for a federated model.
"""

from flai.fl.aggregate import fedavg, phi_weighted_fedavg, weighted_average
from flai.fl.baselines import (
    BASELINE_STREAM,
    BaselineScores,
    baseline_scores,
    train_alone,
    train_central,
)
from flai.fl.behaviours import Behaviour, FreeRider, Honest, LabelFlipper, ScaledUpdate
from flai.fl.checks import CheckConfig, check_update, update_norm
from flai.fl.coalition import CoalitionGame
from flai.fl.consensus import (
    PHI_ONE,
    lower_weighted_median,
    mean_abs_deviation,
    slash_amounts,
    stake_weighted_median,
)
from flai.fl.data import Dataset, Features, Standardizer
from flai.fl.datasets import (
    DATASET_NAMES,
    SUPPORT2_HORIZON_DAYS,
    DatasetInfo,
    dataset_info,
    hashed_features_dataset,
    load_breast_cancer_dataset,
    load_dataset,
    load_support2_dataset,
    support2_feature_names,
)
from flai.fl.errors import (
    ConfigError,
    ConsensusError,
    DataError,
    FeatureMismatchError,
    FLError,
    ScoringError,
    SerializationError,
    UpdateCheckError,
    UpdateNonFiniteError,
    UpdateNormError,
    UpdateShapeError,
)
from flai.fl.fixed import METRIC_SCALE, PHI_SCALE, fixed_to_phi, metric_to_fixed, phi_to_fixed
from flai.fl.metrics import Metric, roc_auc
from flai.fl.model import LogisticModel, TrainConfig, train_local
from flai.fl.partition import (
    FederatedSplit,
    SplitConfig,
    dirichlet_partition,
    size_partition,
    split_federated,
)
from flai.fl.round import (
    VALIDATOR_BEHAVIOURS,
    CheckOutcome,
    Custodian,
    CustodianOutcome,
    RoundConfig,
    RoundResult,
    TrainingResult,
    Validator,
    ValidatorScores,
    aggregate_phase,
    check_phase,
    consensus_phase,
    federation_from_split,
    majority_flags,
    run_round,
    run_training,
    score_phase,
    train_phase,
)
from flai.fl.scoring import (
    ContributionScores,
    Flag,
    ScoringConfig,
    composite_phi,
    cosine_similarity_to_aggregate,
    score_contributions,
    scores_to_phi,
)
from flai.fl.shapley import ShapleyEstimate, exact_shapley, leave_one_out, monte_carlo_shapley
from flai.fl.stratified import default_evaluation_budget, stratified_shapley

__all__ = [
    "BASELINE_STREAM",
    "DATASET_NAMES",
    "METRIC_SCALE",
    "PHI_ONE",
    "PHI_SCALE",
    "SUPPORT2_HORIZON_DAYS",
    "VALIDATOR_BEHAVIOURS",
    "BaselineScores",
    "Behaviour",
    "CheckConfig",
    "CheckOutcome",
    "CoalitionGame",
    "ConfigError",
    "ConsensusError",
    "ContributionScores",
    "Custodian",
    "CustodianOutcome",
    "DataError",
    "Dataset",
    "DatasetInfo",
    "FLError",
    "FeatureMismatchError",
    "Features",
    "FederatedSplit",
    "Flag",
    "FreeRider",
    "Honest",
    "LabelFlipper",
    "LogisticModel",
    "Metric",
    "RoundConfig",
    "RoundResult",
    "ScaledUpdate",
    "ScoringConfig",
    "ScoringError",
    "SerializationError",
    "ShapleyEstimate",
    "SplitConfig",
    "Standardizer",
    "TrainConfig",
    "TrainingResult",
    "UpdateCheckError",
    "UpdateNonFiniteError",
    "UpdateNormError",
    "UpdateShapeError",
    "Validator",
    "ValidatorScores",
    "aggregate_phase",
    "baseline_scores",
    "check_phase",
    "check_update",
    "composite_phi",
    "consensus_phase",
    "cosine_similarity_to_aggregate",
    "dataset_info",
    "default_evaluation_budget",
    "dirichlet_partition",
    "exact_shapley",
    "fedavg",
    "federation_from_split",
    "fixed_to_phi",
    "hashed_features_dataset",
    "leave_one_out",
    "load_breast_cancer_dataset",
    "load_dataset",
    "load_support2_dataset",
    "lower_weighted_median",
    "majority_flags",
    "mean_abs_deviation",
    "metric_to_fixed",
    "monte_carlo_shapley",
    "phi_to_fixed",
    "phi_weighted_fedavg",
    "roc_auc",
    "run_round",
    "run_training",
    "score_contributions",
    "score_phase",
    "scores_to_phi",
    "size_partition",
    "slash_amounts",
    "split_federated",
    "stake_weighted_median",
    "stratified_shapley",
    "support2_feature_names",
    "train_alone",
    "train_central",
    "train_local",
    "train_phase",
    "update_norm",
    "weighted_average",
]
