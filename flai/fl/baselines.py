"""Reference points for a federation's model: each custodian alone, and all data pooled.

A federated model is worth its overhead when it beats what each custodian could train on
its own data and comes close to a model trained on everyone's rows in one place
(McMahan et al., "Communication-Efficient Learning of Deep Networks from Decentralized
Data", AISTATS 2017, compare FedAvg with exactly these two baselines). Both baselines
here run the federation's own learner, :func:`~flai.fl.model.train_local`, with the
round's hyper-parameters for the same total number of epochs (``rounds × E``), from the
all-zero model, and are scored on the common test set:

* **alone** — custodian ``k`` trains on its own rows only. A custodian alone has no
  federation, so by default it also standardises with its own mean and scale rather
  than the federation's pooled statistics; the fitted model is mapped back into the
  federation's feature space, so it is scored on the same test rows as every other model.
* **central** — one model on the custodians' rows pooled (the federation's
  standardisation is the pooled one, so nothing changes there).

Every custodian is trained honestly here, whatever its behaviour in the federation: the
baseline measures what its data is worth alone, not what it submits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from flai.fl.data import Dataset, Standardizer
from flai.fl.errors import ConfigError
from flai.fl.metrics import Metric
from flai.fl.model import LogisticModel, TrainConfig, train_local

__all__ = [
    "BASELINE_STREAM",
    "BaselineScores",
    "baseline_scores",
    "train_alone",
    "train_central",
]

BASELINE_STREAM = 2**21
"""Custodian ``k`` alone trains with ``default_rng([seed, BASELINE_STREAM + k])``, the
central model with ``default_rng([seed, BASELINE_STREAM + K])``: streams apart from the
round driver's ``[seed, t, k]`` and ``[seed, t, 2**20 + v]``."""


@dataclass(frozen=True)
class BaselineScores:
    """Test-set metric of each custodian alone and of the pooled model.

    Attributes
    ----------
    metric_name
        Which metric (AUC for the RFM threshold).
    names
        Custodian names, in input order.
    alone
        ``alone[k]``: metric of the model custodian ``k`` trains on its own rows.
    central
        Metric of the model trained on all custodians' rows pooled.
    epochs
        Total epochs each baseline trained (``rounds × E``).
    """

    metric_name: str
    names: tuple[str, ...]
    alone: tuple[float, ...]
    central: float
    epochs: int

    @property
    def mean_alone(self) -> float:
        """Mean of :attr:`alone` over the custodians."""
        return float(np.mean(self.alone))

    def alone_of(self, name: str) -> float:
        """The alone metric of one custodian by name."""
        for n, value in zip(self.names, self.alone, strict=True):
            if n == name:
                return value
        raise KeyError(name)


def _fold(model: LogisticModel, scaler: Standardizer) -> LogisticModel:
    """The model on raw inputs equal to ``model`` on ``scaler``-transformed inputs.

    ``w·(x − m)/s + b = (w/s)·x + (b − Σ w m / s)``.
    """
    w = model.weights / scaler.scale
    b = model.bias - float(np.sum(model.weights * scaler.mean / scaler.scale))
    return LogisticModel(params=np.append(w, b))


def train_alone(
    data: Dataset,
    *,
    train: TrainConfig,
    epochs: int,
    rng: np.random.Generator,
    own_standardizer: bool = True,
) -> LogisticModel:
    """The model one custodian trains on its own rows, from the all-zero model.

    Parameters
    ----------
    data
        The custodian's rows, in the federation's feature space.
    train
        Local-training hyper-parameters (its ``epochs`` is replaced by ``epochs``).
    epochs
        Total epochs.
    rng
        Generator for the epoch shuffles.
    own_standardizer
        Standardise with the custodian's own mean and scale (what it could do alone);
        ``False`` trains in the federation's space as given.

    Returns
    -------
    LogisticModel
        The model, expressed in the federation's feature space.

    Raises
    ------
    ConfigError
        If ``epochs < 1``.
    """
    config = TrainConfig(
        epochs=epochs, learning_rate=train.learning_rate, batch_size=train.batch_size, l2=train.l2
    )
    zero = LogisticModel.zeros(data.num_features)
    if not own_standardizer:
        return train_local(zero, data, config, rng=rng)
    scaler = Standardizer.fit([data])
    return _fold(train_local(zero, scaler.transform(data), config, rng=rng), scaler)


def train_central(
    parts: Sequence[Dataset], *, train: TrainConfig, epochs: int, rng: np.random.Generator
) -> LogisticModel:
    """One model on all ``parts`` pooled, from the all-zero model (same learner).

    Raises
    ------
    ConfigError
        If ``parts`` is empty or ``epochs < 1``.
    """
    if not parts:
        raise ConfigError("a central baseline needs at least one data set")
    d = parts[0].num_features
    for p in parts:
        p.require_features(d)
    pool = Dataset(
        X=np.vstack([p.X for p in parts]),
        y=np.concatenate([p.y for p in parts]),
        name="training-pool",
    )
    config = TrainConfig(
        epochs=epochs, learning_rate=train.learning_rate, batch_size=train.batch_size, l2=train.l2
    )
    return train_local(LogisticModel.zeros(d), pool, config, rng=rng)


def baseline_scores(
    custodians: Sequence[Dataset],
    test: Dataset,
    *,
    train: TrainConfig,
    rounds: int,
    seed: int,
    metric: Metric = "auc",
    own_standardizer: bool = True,
) -> BaselineScores:
    """Score each custodian alone and the pooled model on ``test``.

    Parameters
    ----------
    custodians
        The custodians' rows (named), in the federation's feature space.
    test
        The common test set.
    train
        The round's local-training hyper-parameters.
    rounds
        Rounds of the federated run; baselines train ``rounds × train.epochs`` epochs.
    seed
        Root seed (streams: :data:`BASELINE_STREAM`).
    metric
        Metric to report.
    own_standardizer
        Passed to :func:`train_alone`.

    Raises
    ------
    ConfigError
        If there are no custodians or ``rounds < 1``.
    FeatureMismatchError
        If a data set's feature count differs from the others'.
    """
    if not custodians:
        raise ConfigError("baselines need at least one custodian")
    if rounds < 1:
        raise ConfigError(f"rounds must be >= 1, got {rounds}")
    epochs = rounds * train.epochs
    d = custodians[0].num_features
    test.require_features(d)
    alone = tuple(
        train_alone(
            c,
            train=train,
            epochs=epochs,
            rng=np.random.default_rng([seed, BASELINE_STREAM + k]),
            own_standardizer=own_standardizer,
        ).evaluate(test, metric)
        for k, c in enumerate(custodians)
    )
    central = train_central(
        custodians,
        train=train,
        epochs=epochs,
        rng=np.random.default_rng([seed, BASELINE_STREAM + len(custodians)]),
    ).evaluate(test, metric)
    return BaselineScores(
        metric_name=metric,
        names=tuple(c.name for c in custodians),
        alone=alone,
        central=central,
        epochs=epochs,
    )
