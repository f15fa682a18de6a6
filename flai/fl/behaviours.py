"""Custodian behaviours for scenarios and tests: honest and three adversaries.

Each behaviour turns (global model, private data) into a submitted model, using only the
generator it is handed, so a scenario is reproducible from its seed. The adversaries are
the standard ones of the FL incentive and robustness literature (001 §3.2; FLock, 003
Table I):

* :class:`FreeRider` contributes nothing: it resubmits the global model, or the global
  model plus Gaussian noise to look busy (Lin, Du & Liu, "Free-riders in Federated
  Learning: Attacks and Defenses", 2019).
* :class:`LabelFlipper` trains honestly on flipped labels, a data-poisoning attack (Tolpegin
  et al., "Data Poisoning Attacks Against Federated Learning Systems", ESORICS 2020).
* :class:`ScaledUpdate` boosts its honest update by a factor ``γ``: ``w_g + γ(w_k − w_g)``
  (model replacement, Bagdasaryan et al., AISTATS 2020).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from flai.fl.data import Dataset
from flai.fl.errors import ConfigError
from flai.fl.model import LogisticModel, TrainConfig, train_local

__all__ = ["Behaviour", "FreeRider", "Honest", "LabelFlipper", "ScaledUpdate"]


@runtime_checkable
class Behaviour(Protocol):
    """How a custodian produces its update."""

    @property
    def name(self) -> str:
        """Short label for reports."""
        ...

    def produce(
        self,
        *,
        global_model: LogisticModel,
        data: Dataset,
        train: TrainConfig,
        rng: np.random.Generator,
    ) -> LogisticModel:
        """Return the model this custodian submits."""
        ...


@dataclass(frozen=True)
class Honest:
    """Local mini-batch SGD on the custodian's own data."""

    @property
    def name(self) -> str:
        return "honest"

    def produce(
        self,
        *,
        global_model: LogisticModel,
        data: Dataset,
        train: TrainConfig,
        rng: np.random.Generator,
    ) -> LogisticModel:
        return train_local(global_model, data, train, rng=rng)


@dataclass(frozen=True)
class FreeRider:
    """Submits the global model (``mode="global"``) or it plus ``N(0, σ²)`` noise."""

    mode: Literal["global", "noise"] = "global"
    noise_scale: float = 0.1

    def __post_init__(self) -> None:
        if self.mode not in ("global", "noise"):
            raise ConfigError(f"unknown free-rider mode {self.mode!r}")
        if not self.noise_scale >= 0:
            raise ConfigError(f"noise_scale must be >= 0, got {self.noise_scale}")

    @property
    def name(self) -> str:
        return f"free-rider({self.mode})"

    def produce(
        self,
        *,
        global_model: LogisticModel,
        data: Dataset,
        train: TrainConfig,
        rng: np.random.Generator,
    ) -> LogisticModel:
        if self.mode == "global":
            return LogisticModel(params=global_model.params)
        noise = rng.normal(0.0, self.noise_scale, size=global_model.params.shape)
        return LogisticModel(params=global_model.params + noise)


@dataclass(frozen=True)
class LabelFlipper:
    """Trains honestly on ``1 − y``."""

    @property
    def name(self) -> str:
        return "label-flipper"

    def produce(
        self,
        *,
        global_model: LogisticModel,
        data: Dataset,
        train: TrainConfig,
        rng: np.random.Generator,
    ) -> LogisticModel:
        return train_local(global_model, data, train, rng=rng, flip_labels=True)


@dataclass(frozen=True)
class ScaledUpdate:
    """Boosts its honest update: ``w_g + γ·(w_k − w_g)``."""

    factor: float = 10.0

    def __post_init__(self) -> None:
        if not np.isfinite(self.factor):
            raise ConfigError(f"factor must be finite, got {self.factor}")

    @property
    def name(self) -> str:
        return f"scaled(x{self.factor:g})"

    def produce(
        self,
        *,
        global_model: LogisticModel,
        data: Dataset,
        train: TrainConfig,
        rng: np.random.Generator,
    ) -> LogisticModel:
        honest = train_local(global_model, data, train, rng=rng)
        g = global_model.params
        return LogisticModel(params=g + self.factor * (honest.params - g))
