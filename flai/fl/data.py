"""Binary-classification data sets and the standardiser fitted on them.

The engine works on any binary-classification arrays ``X`` (``n × d``) and ``y`` (0/1),
held by one party as a :class:`Dataset`. Features are a dense array or, for
high-dimensional data, a SciPy CSR sparse array
(:func:`~flai.fl.datasets.hashed_features_dataset` makes one deterministically). The named data sets are loaded by :mod:`flai.fl.datasets`;
one data set is split into a federation by :mod:`flai.fl.partition`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from flai.fl.errors import DataError, FeatureMismatchError

__all__ = [
    "Dataset",
    "Features",
    "Standardizer",
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
