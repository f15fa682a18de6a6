"""Data sets and their reproducible split into custodians, validators and a test set.

The engine works on any binary-classification arrays ``X`` (``n × d``) and ``y`` (0/1).
:func:`load_breast_cancer_dataset` supplies scikit-learn's bundled Wisconsin breast-cancer
data as a stand-in for the treatment-response task of the FLAI use case (001 §9).

Non-IID partitioning follows the label-Dirichlet scheme of Hsu, Qi & Brown, "Measuring the
Effects of Non-Identical Data Distribution for Federated Visual Classification" (2019) and
Yurochkin et al., "Bayesian Nonparametric Federated Learning of Neural Networks" (ICML
2019): for every class, the custodians' shares are drawn from ``Dir(α·1_K)``; small ``α``
gives skewed label mixes, large ``α`` approaches IID. Draws are repeated until every
custodian holds at least ``min_size`` samples.

Features are a dense array or, for high-dimensional data, a SciPy CSR sparse array
(:func:`hashed_features_dataset` makes one deterministically); sparse sets are split with
``SplitConfig(standardize=False)``, since centring would densify them.

All randomness comes from an explicitly seeded :class:`numpy.random.Generator`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from flai.fl.errors import ConfigError, DataError, FeatureMismatchError

__all__ = [
    "Dataset",
    "Features",
    "FederatedSplit",
    "SplitConfig",
    "Standardizer",
    "dirichlet_partition",
    "hashed_features_dataset",
    "load_breast_cancer_dataset",
    "size_partition",
    "split_federated",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Features: TypeAlias = FloatArray | sparse.csr_array
"""A feature matrix: dense ``n × d`` float64, or CSR sparse."""


def _sparse_features(X: object, name: str) -> sparse.csr_array:
    """Canonical read-only CSR float64 copy (sorted indices, no duplicates)."""
    try:
        csr = sparse.csr_array(X, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name}: X is not a 2-D sparse matrix: {exc}") from None
    csr.sum_duplicates()
    csr.sort_indices()
    if not np.all(np.isfinite(csr.data)):
        raise DataError(f"{name}: X contains non-finite values")
    for part in (csr.data, csr.indices, csr.indptr):
        part.setflags(write=False)
    return csr


@dataclass(frozen=True, eq=False)
class Dataset:
    """A binary-classification data set held by one party.

    Parameters
    ----------
    X
        Feature matrix, ``n × d``, finite: a dense array or a SciPy sparse matrix (kept
        as a read-only CSR array).
    y
        Labels in ``{0, 1}``, length ``n``.
    name
        Who holds it (used in error messages).

    Raises
    ------
    DataError
        If the set is empty, shapes disagree, features are non-finite or labels not 0/1.
    """

    X: Features
    y: IntArray
    name: str = "dataset"

    def __post_init__(self) -> None:
        X: Features
        if sparse.issparse(self.X):
            X = _sparse_features(self.X, self.name)
        else:
            X = np.ascontiguousarray(np.asarray(self.X, dtype=np.float64))
        y_raw = np.asarray(self.y)
        if X.ndim != 2:
            raise DataError(f"{self.name}: X must be 2-D, got shape {X.shape}")
        if y_raw.ndim != 1 or y_raw.shape[0] != X.shape[0]:
            raise DataError(f"{self.name}: y shape {y_raw.shape} does not match X {X.shape}")
        if X.shape[0] == 0:
            raise DataError(f"{self.name}: data set is empty")
        if X.shape[1] == 0:
            raise DataError(f"{self.name}: data set has no features")
        if isinstance(X, np.ndarray):
            if not np.all(np.isfinite(X)):
                raise DataError(f"{self.name}: X contains non-finite values")
            X.setflags(write=False)
        if not np.all((y_raw == 0) | (y_raw == 1)):
            raise DataError(f"{self.name}: labels must be 0 or 1")
        y = y_raw.astype(np.int64)
        y.setflags(write=False)
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "y", y)

    @property
    def num_samples(self) -> int:
        """Number of rows."""
        return int(self.X.shape[0])

    @property
    def num_features(self) -> int:
        """Number of feature columns."""
        return int(self.X.shape[1])

    @property
    def is_sparse(self) -> bool:
        """Whether ``X`` is a sparse (CSR) array."""
        return bool(sparse.issparse(self.X))

    def subset(self, indices: Sequence[int] | IntArray, *, name: str | None = None) -> Dataset:
        """The rows at ``indices`` as a new data set."""
        idx = np.asarray(indices, dtype=np.int64)
        return Dataset(X=self.X[idx], y=self.y[idx], name=name or self.name)

    @classmethod
    def concat(cls, parts: Sequence[Dataset], *, name: str) -> Dataset:
        """The rows of ``parts`` stacked in order (sparse if any part is).

        Raises
        ------
        DataError
            If there are no parts.
        FeatureMismatchError
            If the parts disagree on the number of features.
        """
        if not parts:
            raise DataError(f"{name}: nothing to concatenate")
        for part in parts:
            part.require_features(parts[0].num_features)
        if any(p.is_sparse for p in parts):
            X: Features = sparse.vstack([p.X for p in parts], format="csr")
        else:
            X = np.vstack([p.X for p in parts])
        return cls(X=X, y=np.concatenate([p.y for p in parts]), name=name)

    def require_features(self, expected: int) -> None:
        """Raise :class:`FeatureMismatchError` unless the set has ``expected`` features."""
        if self.num_features != expected:
            raise FeatureMismatchError(party=self.name, expected=expected, actual=self.num_features)


@dataclass(frozen=True, eq=False)
class Standardizer:
    """Per-feature affine scaling ``(x − mean) / scale``.

    Fitted on the custodians' training pool only. The mean and variance are sums of
    per-custodian statistics, so a federation can obtain them by secure aggregation of
    ``(n_k, Σx, Σx²)`` without pooling rows; validator and test rows never enter the fit.
    """

    mean: FloatArray
    scale: FloatArray

    @classmethod
    def identity(cls, num_features: int) -> Standardizer:
        """The standardizer that leaves features as they are."""
        return cls(mean=np.zeros(num_features), scale=np.ones(num_features))

    @property
    def is_identity(self) -> bool:
        """Whether :meth:`transform` leaves data unchanged."""
        return bool(np.all(self.mean == 0.0) and np.all(self.scale == 1.0))

    @classmethod
    def fit(cls, parts: Sequence[Dataset]) -> Standardizer:
        """Fit from the sufficient statistics of each part.

        Raises
        ------
        DataError
            If there are no parts, or a part is sparse (centring would densify it).
        """
        if not parts:
            raise DataError("cannot fit a standardizer on zero data sets")
        sparse_parts = [p.name for p in parts if p.is_sparse]
        if sparse_parts:
            raise DataError(
                f"{sparse_parts[0]}: sparse features cannot be standardised without "
                "densifying them; split with SplitConfig(standardize=False)"
            )
        d = parts[0].num_features
        for part in parts:
            part.require_features(d)
        n = sum(p.num_samples for p in parts)
        s1 = np.sum([p.X.sum(axis=0) for p in parts], axis=0)
        s2 = np.sum([(p.X**2).sum(axis=0) for p in parts], axis=0)
        mean = s1 / n
        var = np.maximum(s2 / n - mean**2, 0.0)
        scale = np.sqrt(var)
        scale[scale == 0.0] = 1.0
        return cls(mean=mean, scale=scale)

    def transform(self, data: Dataset) -> Dataset:
        """Scale a data set with the fitted statistics (the identity returns ``data``).

        Raises
        ------
        DataError
            If ``data`` is sparse and the transform is not the identity.
        """
        data.require_features(self.mean.shape[0])
        if self.is_identity:
            return data
        if data.is_sparse:
            raise DataError(f"{data.name}: a sparse data set cannot be centred")
        return Dataset(X=(data.X - self.mean) / self.scale, y=data.y, name=data.name)


@dataclass(frozen=True)
class SplitConfig:
    """How to split one pool of data into a federation.

    Parameters
    ----------
    num_custodians
        ``K``, the number of data custodians (≥ 1).
    alpha
        Dirichlet concentration for label-skewed partitioning (``> 0``).
    min_size
        Minimum samples per custodian.
    test_fraction
        Share of rows held out as the final test set (never seen by anyone in training).
    validation_fraction
        Share of rows held out for the validators' holdouts.
    num_validators
        Number of validators; the validation holdout is split evenly among them.
    sizes
        Optional relative custodian sizes; when given, custodians get label-mixed
        partitions of those relative sizes instead of a Dirichlet label split.
    standardize
        Fit a :class:`Standardizer` on the custodians' rows (dense features only); off,
        every part keeps its features as given.
    seed
        Seed of the :class:`numpy.random.Generator` behind every draw.
    max_attempts
        Dirichlet redraws allowed before giving up on ``min_size``.
    """

    num_custodians: int
    alpha: float = 0.5
    min_size: int = 10
    test_fraction: float = 0.2
    validation_fraction: float = 0.2
    num_validators: int = 1
    sizes: tuple[float, ...] | None = None
    standardize: bool = True
    seed: int = 0
    max_attempts: int = 1000

    def __post_init__(self) -> None:
        if self.num_custodians < 1:
            raise ConfigError(f"num_custodians must be >= 1, got {self.num_custodians}")
        if not self.alpha > 0:
            raise ConfigError(f"alpha must be > 0, got {self.alpha}")
        if self.min_size < 1:
            raise ConfigError(f"min_size must be >= 1, got {self.min_size}")
        if self.num_validators < 1:
            raise ConfigError(f"num_validators must be >= 1, got {self.num_validators}")
        for name in ("test_fraction", "validation_fraction"):
            value = getattr(self, name)
            if not 0.0 < value < 1.0:
                raise ConfigError(f"{name} must lie in (0, 1), got {value}")
        if self.test_fraction + self.validation_fraction >= 1.0:
            raise ConfigError("test_fraction + validation_fraction must be < 1")
        if self.sizes is not None:
            if len(self.sizes) != self.num_custodians:
                raise ConfigError(
                    f"sizes has {len(self.sizes)} entries for {self.num_custodians} custodians"
                )
            if any(not s > 0 for s in self.sizes):
                raise ConfigError("sizes must be positive")


@dataclass(frozen=True, eq=False)
class FederatedSplit:
    """A federation's data: custodians' private sets, validators' holdouts, a test set."""

    custodians: tuple[Dataset, ...]
    validators: tuple[Dataset, ...]
    test: Dataset
    standardizer: Standardizer
    partition: tuple[IntArray, ...] = field(repr=False)

    @property
    def training_pool(self) -> Dataset:
        """All custodians' rows pooled (for a central baseline only)."""
        return Dataset.concat(self.custodians, name="training-pool")

    @property
    def validation_pool(self) -> Dataset:
        """All validators' rows pooled."""
        return Dataset.concat(self.validators, name="validation-pool")


def load_breast_cancer_dataset() -> Dataset:
    """Scikit-learn's Wisconsin diagnostic breast-cancer set (569 × 30, binary)."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    return Dataset(X=bunch.data, y=bunch.target, name="breast-cancer")


def dirichlet_partition(
    y: IntArray,
    *,
    num_parties: int,
    alpha: float,
    min_size: int,
    rng: np.random.Generator,
    max_attempts: int = 1000,
) -> tuple[IntArray, ...]:
    """Split row indices into label-skewed parts (Hsu et al. 2019).

    Parameters
    ----------
    y
        Labels of the rows to split.
    num_parties
        Number of parts ``K``.
    alpha
        Dirichlet concentration.
    min_size
        Every part must receive at least this many rows.
    rng
        Source of randomness.
    max_attempts
        Number of redraws before raising.

    Returns
    -------
    tuple of arrays
        Sorted row indices of each part; together a partition of ``range(len(y))``.

    Raises
    ------
    DataError
        If ``K · min_size`` exceeds the rows or no draw satisfies ``min_size``.
    """
    if num_parties < 1:
        raise ConfigError(f"num_parties must be >= 1, got {num_parties}")
    n = len(y)
    if num_parties * min_size > n:
        raise DataError(f"{n} rows cannot give {num_parties} parts of at least {min_size}")
    classes = np.unique(y)
    for _ in range(max_attempts):
        parts: list[list[int]] = [[] for _ in range(num_parties)]
        for c in classes:
            idx = rng.permutation(np.flatnonzero(y == c))
            shares = rng.dirichlet(np.full(num_parties, alpha))
            cuts = (np.cumsum(shares)[:-1] * len(idx)).astype(np.int64)
            for k, chunk in enumerate(np.split(idx, cuts)):
                parts[k].extend(chunk.tolist())
        if min(len(p) for p in parts) >= min_size:
            return tuple(np.sort(np.asarray(p, dtype=np.int64)) for p in parts)
    raise DataError(
        f"no Dirichlet(alpha={alpha}) draw gave {num_parties} parts of >= {min_size} rows "
        f"in {max_attempts} attempts"
    )


def size_partition(
    n: int, *, sizes: Sequence[float], min_size: int, rng: np.random.Generator
) -> tuple[IntArray, ...]:
    """Split ``range(n)`` at random into parts with the given relative sizes.

    Raises
    ------
    DataError
        If a part would get fewer than ``min_size`` rows.
    """
    weights = np.asarray(sizes, dtype=np.float64)
    counts = np.floor(weights / weights.sum() * n).astype(np.int64)
    counts[np.argmax(weights)] += n - counts.sum()
    if counts.min() < min_size:
        raise DataError(f"relative sizes {tuple(sizes)} give a part below {min_size} rows")
    perm = rng.permutation(n)
    return tuple(np.sort(p) for p in np.split(perm, np.cumsum(counts)[:-1]))


def _stratified_take(y: IntArray, fraction: float, rng: np.random.Generator) -> IntArray:
    """Indices of a class-stratified random ``fraction`` of rows."""
    taken: list[IntArray] = []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        taken.append(idx[: max(1, round(fraction * len(idx)))])
    return np.sort(np.concatenate(taken))


def split_federated(data: Dataset, config: SplitConfig) -> FederatedSplit:
    """Split one data set into custodians, validators and a test set, then standardise.

    Order: stratified test holdout, stratified validation holdout (split evenly among the
    validators), then the remaining training rows partitioned among the custodians (by
    label Dirichlet, or by relative ``sizes``). The :class:`Standardizer` is fitted on the
    custodians' rows only and applied to every part, so nothing leaks from the held-out sets.

    Raises
    ------
    DataError
        If the data cannot be split as configured (or is sparse with ``standardize``).
    """
    rng = np.random.default_rng(config.seed)
    rows = np.arange(data.num_samples)
    test_idx = _stratified_take(data.y, config.test_fraction, rng)
    rest = np.setdiff1d(rows, test_idx)
    val_fraction = config.validation_fraction / (1.0 - config.test_fraction)
    val_local = _stratified_take(data.y[rest], val_fraction, rng)
    val_idx = rest[val_local]
    train_idx = np.setdiff1d(rest, val_idx)
    if len(val_idx) < config.num_validators:
        raise DataError(f"{len(val_idx)} validation rows for {config.num_validators} validators")

    if config.sizes is None:
        local_parts = dirichlet_partition(
            data.y[train_idx],
            num_parties=config.num_custodians,
            alpha=config.alpha,
            min_size=config.min_size,
            rng=rng,
            max_attempts=config.max_attempts,
        )
    else:
        local_parts = size_partition(
            len(train_idx), sizes=config.sizes, min_size=config.min_size, rng=rng
        )
    parts = tuple(train_idx[p] for p in local_parts)
    raw_custodians = [data.subset(p, name=f"custodian-{k}") for k, p in enumerate(parts)]
    scaler = (
        Standardizer.fit(raw_custodians)
        if config.standardize
        else Standardizer.identity(data.num_features)
    )
    val_perm = rng.permutation(val_idx)
    validators = tuple(
        scaler.transform(data.subset(np.sort(chunk), name=f"validator-{v}"))
        for v, chunk in enumerate(np.array_split(val_perm, config.num_validators))
    )
    return FederatedSplit(
        custodians=tuple(scaler.transform(c) for c in raw_custodians),
        validators=validators,
        test=scaler.transform(data.subset(test_idx, name="test")),
        standardizer=scaler,
        partition=parts,
    )


def hashed_features_dataset(
    *,
    num_samples: int,
    num_features: int,
    tokens_per_sample: int = 60,
    vocabulary: int = 200_000,
    informative: int = 5_000,
    signal: float = 3.0,
    seed: int = 0,
) -> Dataset:
    """A deterministic high-dimensional binary task with hashed bag-of-token features.

    Each sample draws ``tokens_per_sample`` tokens from a Zipf-like vocabulary (weight
    ``1/(rank + 10)``), so frequent tokens recur across samples and can be learnt. Every
    token is hashed to one of ``num_features`` columns with a random sign (feature
    hashing, Weinberger et al., "Feature Hashing for Large Scale Multitask Learning",
    ICML 2009); a row holds ``±c/√tokens_per_sample`` in the column of a token drawn ``c``
    times (colliding tokens add up). The label is ``Bernoulli(σ(signal · Σ_t β_t x_t))`` with ``β_t ~ N(0, 1)``
    on the ``informative`` most frequent tokens and 0 elsewhere, i.e. a logistic
    model that hashed features can express up to collisions.

    Raises
    ------
    ConfigError
        If a size is not positive or ``informative > vocabulary``.
    """
    sizes = {
        "num_samples": num_samples,
        "num_features": num_features,
        "tokens_per_sample": tokens_per_sample,
        "vocabulary": vocabulary,
    }
    for field_name, value in sizes.items():
        if value < 1:
            raise ConfigError(f"{field_name} must be >= 1, got {value}")
    if not 0 <= informative <= vocabulary:
        raise ConfigError(f"informative must lie in [0, {vocabulary}], got {informative}")
    rng = np.random.default_rng(seed)
    column = rng.integers(0, num_features, size=vocabulary)
    sign = np.where(rng.random(vocabulary) < 0.5, -1.0, 1.0)
    beta = np.zeros(vocabulary)
    beta[:informative] = rng.normal(0.0, 1.0, size=informative)
    weight = 1.0 / (np.arange(vocabulary) + 10.0)
    tokens = rng.choice(vocabulary, size=(num_samples, tokens_per_sample), p=weight / weight.sum())
    value = 1.0 / np.sqrt(tokens_per_sample)
    rows = np.repeat(np.arange(num_samples), tokens_per_sample)
    X = sparse.csr_array(
        (sign[tokens].ravel() * value, (rows, column[tokens].ravel())),
        shape=(num_samples, num_features),
    )
    logit = signal * value * beta[tokens].sum(axis=1)
    y = (rng.random(num_samples) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    return Dataset(X=X, y=y, name="hashed-features")
