"""Data sets the library loads by name, and a synthetic high-dimensional one.

:func:`load_dataset` loads a registered data set by name from a file an installed package
ships (nothing is downloaded): ``"support2"``, 6-month mortality of the SUPPORT cohort of
seriously ill hospitalised adults (:func:`load_support2_dataset`), the clinical outcome
the FLAI use case's hospitals model (001 §9); ``"breast-cancer"``, scikit-learn's
Wisconsin diagnostic breast-cancer data (:func:`load_breast_cancer_dataset`).
:func:`dataset_info` describes each entry of the registry.

:func:`hashed_features_dataset` makes a deterministic sparse (CSR) data set of any width,
for high-dimensional runs; split it with ``SplitConfig(standardize=False)``
(:mod:`flai.fl.partition`), since centring would densify it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from flai.fl.data import Dataset
from flai.fl.errors import ConfigError, DataError

__all__ = [
    "DATASET_NAMES",
    "SUPPORT2_HORIZON_DAYS",
    "DatasetInfo",
    "dataset_info",
    "hashed_features_dataset",
    "load_breast_cancer_dataset",
    "load_dataset",
    "load_support2_dataset",
    "support2_feature_names",
]

FloatArray = NDArray[np.float64]


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
