"""FLAI federated-learning engine (off-chain, chain-independent).

Contribution-aware federated learning (001 §3.1–3.3, §5.3; 000 §8): custodians train a
logistic-regression model locally (:mod:`~flai.fl.model`), updates are checked
(:mod:`~flai.fl.checks`), scored by Shapley value on validator holdouts
(:mod:`~flai.fl.shapley`, :mod:`~flai.fl.scoring`) and aggregated by φ-weighted FedAvg (:mod:`~flai.fl.aggregate`);
:mod:`~flai.fl.round` drives a round and returns what the chain needs, with
:mod:`~flai.fl.fixed` mapping floats to on-chain fixed point. :mod:`~flai.fl.data` loads
the bundled data sets and splits them into a federation; :mod:`~flai.fl.baselines` scores
each custodian alone and all data pooled, the two references for a federated model.
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
from flai.fl.data import (
    DATASET_NAMES,
    SUPPORT2_HORIZON_DAYS,
    Dataset,
    DatasetInfo,
    Features,
    FederatedSplit,
    SplitConfig,
    Standardizer,
    dataset_info,
    dirichlet_partition,
    hashed_features_dataset,
    load_breast_cancer_dataset,
    load_dataset,
    load_support2_dataset,
    size_partition,
    split_federated,
    support2_feature_names,
)
from flai.fl.errors import (
    ConfigError,
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
from flai.fl.round import (
    Custodian,
    CustodianOutcome,
    RoundConfig,
    RoundResult,
    TrainingResult,
    Validator,
    federation_from_split,
    run_round,
    run_training,
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
from flai.fl.shapley import (
    CoalitionGame,
    ShapleyEstimate,
    default_evaluation_budget,
    exact_shapley,
    leave_one_out,
    monte_carlo_shapley,
    stratified_shapley,
)

__all__ = [
    "BASELINE_STREAM",
    "DATASET_NAMES",
    "METRIC_SCALE",
    "PHI_SCALE",
    "SUPPORT2_HORIZON_DAYS",
    "BaselineScores",
    "Behaviour",
    "CheckConfig",
    "CoalitionGame",
    "ConfigError",
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
    "baseline_scores",
    "check_update",
    "composite_phi",
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
    "metric_to_fixed",
    "monte_carlo_shapley",
    "phi_to_fixed",
    "phi_weighted_fedavg",
    "roc_auc",
    "run_round",
    "run_training",
    "score_contributions",
    "scores_to_phi",
    "size_partition",
    "split_federated",
    "stratified_shapley",
    "support2_feature_names",
    "train_alone",
    "train_central",
    "train_local",
    "update_norm",
    "weighted_average",
]
