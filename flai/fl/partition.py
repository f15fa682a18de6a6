"""The reproducible split of one data set into custodians, validators and a test set.

Non-IID partitioning follows the label-Dirichlet scheme of Hsu, Qi & Brown, "Measuring the
Effects of Non-Identical Data Distribution for Federated Visual Classification" (2019) and
Yurochkin et al., "Bayesian Nonparametric Federated Learning of Neural Networks" (ICML
2019): for every class, the custodians' shares are drawn from ``Dir(α·1_K)``; small ``α``
gives skewed label mixes, large ``α`` approaches IID. Given relative custodian sizes, the
drawn table is fitted to them by iterative proportional fitting. Draws are repeated until
every custodian holds at least ``min_size`` samples.

Sparse data sets are split with ``SplitConfig(standardize=False)``, since centring would
densify them. All randomness comes from an explicitly seeded
:class:`numpy.random.Generator`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from flai.fl.data import Dataset, Standardizer
from flai.fl.errors import ConfigError, DataError

__all__ = [
    "FederatedSplit",
    "SplitConfig",
    "dirichlet_partition",
    "size_partition",
    "split_federated",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


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
        Optional relative custodian sizes.
    partition
        ``"dirichlet"``: label-skewed parts drawn with concentration ``alpha`` (of the
        relative ``sizes`` when given, see :func:`dirichlet_partition`); ``"iid"``:
        label-mixed random parts of the relative ``sizes`` (equal when not given). When
        not given: ``"dirichlet"`` without ``sizes``, ``"iid"`` with them.
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
    partition: Literal["dirichlet", "iid"] | None = None
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
        if self.partition not in (None, "dirichlet", "iid"):
            raise ConfigError(f"partition must be 'dirichlet' or 'iid', got {self.partition!r}")

    @property
    def partition_scheme(self) -> Literal["dirichlet", "iid"]:
        """The partition used: :attr:`partition`, or its default for :attr:`sizes`."""
        if self.partition is not None:
            return self.partition
        return "dirichlet" if self.sizes is None else "iid"


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


def dirichlet_partition(
    y: IntArray,
    *,
    num_parties: int,
    alpha: float,
    min_size: int,
    rng: np.random.Generator,
    max_attempts: int = 1000,
    sizes: Sequence[float] | None = None,
) -> tuple[IntArray, ...]:
    """Split row indices into label-skewed parts (Hsu et al. 2019).

    For every class ``c`` the parts' shares of its rows are drawn from ``Dir(α·1_K)``.
    Without ``sizes`` those shares are used as drawn, so part sizes are random too. With
    ``sizes`` the ``K × C`` table of drawn counts is rescaled by iterative proportional
    fitting (Deming & Stephan, "On a Least Squares Adjustment of a Sampled Frequency
    Table When the Expected Marginal Totals are Known", 1940) until its row sums follow
    the relative sizes and its column sums stay the class counts; IPF keeps every odds
    ratio of the draw, so the label skew of each part is the Dirichlet draw's. Each
    class's column is then rounded by largest remainder, so every row of the class is
    placed and a part's size is within ``C − 1`` rows of its target.

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
    sizes
        Optional relative part sizes (``K`` positive values).

    Returns
    -------
    tuple of arrays
        Sorted row indices of each part; together a partition of ``range(len(y))``.

    Raises
    ------
    ConfigError
        If ``K < 1``, or ``sizes`` has the wrong length or a non-positive entry.
    DataError
        If ``K · min_size`` exceeds the rows or no draw satisfies ``min_size``.
    """
    if num_parties < 1:
        raise ConfigError(f"num_parties must be >= 1, got {num_parties}")
    if sizes is not None:
        if len(sizes) != num_parties:
            raise ConfigError(f"sizes has {len(sizes)} entries for {num_parties} parts")
        if any(not s > 0 for s in sizes):
            raise ConfigError(f"sizes must be positive, got {tuple(sizes)}")
    n = len(y)
    if num_parties * min_size > n:
        raise DataError(f"{n} rows cannot give {num_parties} parts of at least {min_size}")
    classes = np.unique(y)
    for _ in range(max_attempts):
        if sizes is None:
            parts: list[list[int]] = [[] for _ in range(num_parties)]
            for c in classes:
                idx = rng.permutation(np.flatnonzero(y == c))
                shares = rng.dirichlet(np.full(num_parties, alpha))
                cuts = (np.cumsum(shares)[:-1] * len(idx)).astype(np.int64)
                for k, chunk in enumerate(np.split(idx, cuts)):
                    parts[k].extend(chunk.tolist())
        else:
            parts = _sized_dirichlet_parts(y, classes, sizes=sizes, alpha=alpha, rng=rng)
        if min(len(p) for p in parts) >= min_size:
            return tuple(np.sort(np.asarray(p, dtype=np.int64)) for p in parts)
    raise DataError(
        f"no Dirichlet(alpha={alpha}) draw gave {num_parties} parts of >= {min_size} rows "
        f"in {max_attempts} attempts"
    )


_IPF_ITERATIONS = 1000
_IPF_TOLERANCE = 1e-9


def _sized_dirichlet_parts(
    y: IntArray,
    classes: IntArray,
    *,
    sizes: Sequence[float],
    alpha: float,
    rng: np.random.Generator,
) -> list[list[int]]:
    """One draw of :func:`dirichlet_partition` with relative ``sizes`` (IPF, then rounding)."""
    k_parts = len(sizes)
    class_rows = [rng.permutation(np.flatnonzero(y == c)) for c in classes]
    counts = np.array([len(r) for r in class_rows], dtype=np.float64)
    shares = np.column_stack([rng.dirichlet(np.full(k_parts, alpha)) for _ in classes])
    # A share that underflowed to 0 would pin its cell at 0 through every rescaling.
    table = np.maximum(shares, 1e-12) * counts
    weights = np.asarray(sizes, dtype=np.float64)
    targets = weights / weights.sum() * counts.sum()
    for _ in range(_IPF_ITERATIONS):
        table *= (targets / table.sum(axis=1))[:, None]
        table *= (counts / table.sum(axis=0))[None, :]
        if np.max(np.abs(table.sum(axis=1) - targets)) < _IPF_TOLERANCE * counts.sum():
            break
    parts: list[list[int]] = [[] for _ in range(k_parts)]
    for c, rows in enumerate(class_rows):
        cell = _largest_remainder(table[:, c], len(rows))
        for k, chunk in enumerate(np.split(rows, np.cumsum(cell)[:-1])):
            parts[k].extend(chunk.tolist())
    return parts


def _largest_remainder(values: FloatArray, total: int) -> IntArray:
    """Integers summing to ``total`` that round ``values`` (whose sum is ``total``)."""
    floors = np.floor(values).astype(np.int64)
    short = total - int(floors.sum())
    order = np.argsort(-(values - floors), kind="stable")
    floors[order[:short]] += 1
    return floors


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
    validators), then the remaining training rows partitioned among the custodians (see
    :attr:`SplitConfig.partition`). The :class:`Standardizer` is fitted on the
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

    if config.partition_scheme == "dirichlet":
        local_parts = dirichlet_partition(
            data.y[train_idx],
            num_parties=config.num_custodians,
            alpha=config.alpha,
            min_size=config.min_size,
            rng=rng,
            max_attempts=config.max_attempts,
            sizes=config.sizes,
        )
    else:
        local_parts = size_partition(
            len(train_idx),
            sizes=config.sizes or (1.0,) * config.num_custodians,
            min_size=config.min_size,
            rng=rng,
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
