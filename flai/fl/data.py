"""Data sets and their reproducible split into custodians, validators and a test set.

The engine works on any binary-classification arrays ``X`` (``n × d``) and ``y`` (0/1).
:func:`load_dataset` loads a registered data set by name from a file an installed package
ships (nothing is downloaded): ``"support2"``, 6-month mortality of the SUPPORT cohort of
seriously ill hospitalised adults (:func:`load_support2_dataset`), the clinical outcome
the FLAI use case's hospitals model (001 §9); ``"breast-cancer"``, scikit-learn's
Wisconsin diagnostic breast-cancer data (:func:`load_breast_cancer_dataset`).

Non-IID partitioning follows the label-Dirichlet scheme of Hsu, Qi & Brown, "Measuring the
Effects of Non-Identical Data Distribution for Federated Visual Classification" (2019) and
Yurochkin et al., "Bayesian Nonparametric Federated Learning of Neural Networks" (ICML
2019): for every class, the custodians' shares are drawn from ``Dir(α·1_K)``; small ``α``
gives skewed label mixes, large ``α`` approaches IID. Given relative custodian sizes, the
drawn table is fitted to them by iterative proportional fitting. Draws are repeated until
every custodian holds at least ``min_size`` samples.

Features are a dense array or, for high-dimensional data, a SciPy CSR sparse array
(:func:`hashed_features_dataset` makes one deterministically); sparse sets are split with
``SplitConfig(standardize=False)``, since centring would densify them.

All randomness comes from an explicitly seeded :class:`numpy.random.Generator`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from flai.fl.errors import ConfigError, DataError, FeatureMismatchError

__all__ = [
    "DATASET_NAMES",
    "SUPPORT2_HORIZON_DAYS",
    "Dataset",
    "DatasetInfo",
    "Features",
    "FederatedSplit",
    "SplitConfig",
    "Standardizer",
    "dataset_info",
    "dirichlet_partition",
    "hashed_features_dataset",
    "load_breast_cancer_dataset",
    "load_dataset",
    "load_support2_dataset",
    "size_partition",
    "split_federated",
    "support2_feature_names",
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


def load_breast_cancer_dataset() -> Dataset:
    """Scikit-learn's Wisconsin diagnostic breast-cancer set (569 × 30, binary)."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    return Dataset(X=bunch.data, y=bunch.target, name="breast-cancer")


SUPPORT2_HORIZON_DAYS = 180
"""Default outcome horizon of :func:`load_support2_dataset`: SUPPORT's 6-month mortality."""

# SUPPORT2 as SurvSet ships it: one pandas pickle inside the installed package.
_SUPPORT2_PACKAGE = "SurvSet"
_SUPPORT2_FILE = "SurvSet/resources/pickles/support2.pickle"

# Measurements at study entry (most taken on the third study day), in column order, with
# the value a missing entry takes. ``None``: a core measurement, recorded for all but two
# patients of the file, whose rows are dropped.
# wblc, pafi, alb, bili, crea, bun, urine: the normal fill-in values the SUPPORT
# investigators publish for missing baseline physiology (Vanderbilt Biostatistics data
# repository, description of the support and support2 data sets).
# edu, ph, glucose, adlp, adls have no published fill: 12 years of schooling (completed
# high school), arterial pH 7.40 and glucose 100 mg/dL (normal values), and 0 impaired
# activities of daily living.
_SUPPORT2_NUMERIC: tuple[tuple[str, float | None], ...] = (
    ("age", None),
    ("num_co", None),
    ("edu", 12.0),
    ("scoma", None),
    ("hday", None),
    ("sps", None),
    ("meanbp", None),
    ("wblc", 9.0),
    ("hrt", None),
    ("resp", None),
    ("temp", None),
    ("pafi", 333.3),
    ("alb", 3.5),
    ("bili", 1.01),
    ("crea", 1.01),
    ("sod", None),
    ("ph", 7.4),
    ("glucose", 100.0),
    ("bun", 6.51),
    ("urine", 2502.0),
    ("adlp", 0.0),
    ("adls", 0.0),
)

# Categorical columns with every level the file holds; the first level is the reference
# (no column), every other level one 0/1 column.
_SUPPORT2_CATEGORICAL: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("sex", ("female", "male")),
    (
        "dzgroup",
        (
            "ARF/MOSF w/Sepsis",
            "CHF",
            "COPD",
            "Cirrhosis",
            "Colon Cancer",
            "Coma",
            "Lung Cancer",
            "MOSF w/Malig",
        ),
    ),
    ("race", ("white", "black", "hispanic", "asian", "other", "missing")),
    ("diabetes", ("0", "1")),
    ("dementia", ("0", "1")),
    ("ca", ("no", "yes", "metastatic")),
    ("income", ("under $11k", "$11-$25k", "$25-$50k", ">$50k", "missing")),
)


def support2_feature_names() -> tuple[str, ...]:
    """Column names of :func:`load_support2_dataset`'s ``X``, in order."""
    names = [name for name, _ in _SUPPORT2_NUMERIC]
    names += [f"{name}_missing" for name, fill in _SUPPORT2_NUMERIC if fill is not None]
    for name, levels in _SUPPORT2_CATEGORICAL:
        names += [f"{name}={level}" for level in levels[1:]]
    return tuple(names)


def _package_file(package: str, path: str, *, dataset: str) -> str:
    """Absolute path of a data file inside an installed distribution, without importing it."""
    from importlib import metadata
    from pathlib import Path

    try:
        located = Path(str(metadata.distribution(package).locate_file(path)))
    except metadata.PackageNotFoundError:
        raise DataError(
            f"data set {dataset!r} is read from the package {package!r}, which is not "
            f"installed (it is in requirements.txt)"
        ) from None
    if not located.is_file():
        raise DataError(f"data set {dataset!r}: {path} is missing from package {package!r}")
    return str(located)


def load_support2_dataset(*, horizon_days: int = SUPPORT2_HORIZON_DAYS) -> Dataset:
    """SUPPORT: death within ``horizon_days`` of study entry for 9,105 seriously ill adults.

    The Study to Understand Prognoses and Preferences for Outcomes and Risks of
    Treatments (Knaus et al., "The SUPPORT Prognostic Model", Ann. Intern. Med. 122, 1995)
    enrolled seriously ill hospitalised adults at five US teaching hospitals in 1989–1994
    (eight disease groups as coded in the data). SUPPORT's prognostic target is survival
    to 2 and 6 months; the default outcome here is 6-month (180-day) mortality. The copy
    read is the one bundled in the ``SurvSet`` package (Drysdale, "SurvSet: An
    open-source time-to-event dataset repository", 2022), a pandas pickle; nothing is
    downloaded. Unpickling runs what the file names, so only that installed package's
    own file is read: no path can be passed in.

    Features (55, see :func:`support2_feature_names`): the 22 entry measurements (age,
    comorbidity count, schooling, coma score, day of admission at entry, SUPPORT
    physiology score, vital signs, blood gases and chemistry, urine output, activities of
    daily living); for each of the 12 that can be missing, the published normal (or the
    fixed reference in this module) in its place and a 0/1 ``_missing`` column; and 0/1
    columns for sex, disease group, race, diabetes, dementia, cancer and income bracket
    (first level the reference; an unknown race or income is its own level). Left out:
    SUPPORT's own model estimates (``surv2m``, ``surv6m``), the disease class (a grouping
    of the disease group), the do-not-resuscitate order (mostly written after entry) and
    the 2-month functional outcome (one of whose levels is death), all of which describe
    or predict the outcome.

    Dropped rows: the two patients lacking a core entry measurement (one has no vital
    signs, coma or physiology score, one no serum sodium), and rows whose status at the
    horizon is unknown (censored alive before it; at 180 days there are none, the
    shortest follow-up of a survivor being 344 days), leaving 9,103.
    Every step is deterministic: no statistic of the rows enters the encoding, so nothing
    leaks from the held-out sets.

    Raises
    ------
    ConfigError
        If ``horizon_days < 1``.
    DataError
        If SurvSet is not installed, or the file holds a column or level not expected.
    """
    import pandas as pd

    if horizon_days < 1:
        raise ConfigError(f"horizon_days must be >= 1, got {horizon_days}")
    path = _package_file(_SUPPORT2_PACKAGE, _SUPPORT2_FILE, dataset="support2")
    frame = pd.read_pickle(path)
    for column in ("event", "time"):
        if column not in frame.columns:
            raise DataError(f"support2: column {column!r} is missing from {path}")
    event = frame["event"].to_numpy(dtype=np.float64) == 1.0
    time = frame["time"].to_numpy(dtype=np.float64)
    dead = event & (time <= horizon_days)
    known = dead | (time > horizon_days)

    columns: list[FloatArray] = []
    indicators: list[FloatArray] = []
    for name, fill in _SUPPORT2_NUMERIC:
        key = f"num_{name}"
        if key not in frame.columns:
            raise DataError(f"support2: column {key!r} is missing from {path}")
        values = frame[key].to_numpy(dtype=np.float64)
        missing = np.isnan(values)
        if fill is None:
            known &= ~missing
        else:
            values = np.where(missing, fill, values)
            indicators.append(missing.astype(np.float64))
        columns.append(values)
    columns += indicators
    for name, levels in _SUPPORT2_CATEGORICAL:
        key = f"fac_{name}"
        if key not in frame.columns:
            raise DataError(f"support2: column {key!r} is missing from {path}")
        values = frame[key].astype(str).to_numpy()
        unknown = sorted(set(values.tolist()) - set(levels))
        if unknown:
            raise DataError(f"support2: {key} has unexpected levels {unknown}")
        columns += [(values == level).astype(np.float64) for level in levels[1:]]
    X = np.column_stack(columns)
    return Dataset(X=X[known], y=dead[known].astype(np.int64), name="support2")


@dataclass(frozen=True)
class DatasetInfo:
    """A data set the library can load by name.

    Attributes
    ----------
    name
        Registry key (``load_dataset(name)``).
    title
        What it is.
    outcome
        What ``y = 1`` means.
    source
        Where the rows come from on this machine (a package's bundled file).
    feature_names
        Names of the columns of ``X``.
    """

    name: str
    title: str
    outcome: str
    source: str
    feature_names: tuple[str, ...]


def _breast_cancer_features() -> tuple[str, ...]:
    from sklearn.datasets import load_breast_cancer

    return tuple(str(n) for n in load_breast_cancer().feature_names)


def dataset_info(name: str) -> DatasetInfo:
    """The registry entry of data set ``name``.

    Raises
    ------
    ConfigError
        If ``name`` is not one of :data:`DATASET_NAMES`.
    """
    if name == "breast-cancer":
        return DatasetInfo(
            name=name,
            title="Wisconsin diagnostic breast cancer (569 tumours, 30 image features)",
            outcome="benign tumour",
            source="scikit-learn (sklearn/datasets/data/breast_cancer.csv)",
            feature_names=_breast_cancer_features(),
        )
    if name == "support2":
        return DatasetInfo(
            name=name,
            title="SUPPORT: 9,105 seriously ill hospitalised adults, 55 entry features",
            outcome=f"death within {SUPPORT2_HORIZON_DAYS} days of study entry",
            source=f"{_SUPPORT2_PACKAGE} ({_SUPPORT2_FILE})",
            feature_names=support2_feature_names(),
        )
    raise ConfigError(f"dataset must be one of {list(DATASET_NAMES)}, got {name!r}")


DATASET_NAMES: tuple[str, ...] = ("breast-cancer", "support2")
"""Names :func:`load_dataset` accepts."""


def load_dataset(name: str) -> Dataset:
    """Load a registered data set by name (see :data:`DATASET_NAMES`).

    Raises
    ------
    ConfigError
        If ``name`` is unknown.
    DataError
        If the package that ships it is not installed.
    """
    if name == "breast-cancer":
        return load_breast_cancer_dataset()
    if name == "support2":
        return load_support2_dataset()
    raise ConfigError(f"dataset must be one of {list(DATASET_NAMES)}, got {name!r}")


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
