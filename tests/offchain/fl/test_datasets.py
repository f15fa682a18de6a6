"""The data-set registry and the SUPPORT loader (read from the installed SurvSet package)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

import flai.fl.datasets as data_module
from flai.fl import (
    DATASET_NAMES,
    SUPPORT2_HORIZON_DAYS,
    ConfigError,
    DataError,
    Dataset,
    dataset_info,
    load_dataset,
    load_support2_dataset,
    support2_feature_names,
)


@pytest.fixture(scope="module")
def support2() -> Dataset:
    return load_support2_dataset()


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    path = data_module._package_file("SurvSet", data_module._SUPPORT2_FILE, dataset="support2")
    return pd.read_pickle(path)


def test_support2_shape_outcome_and_names(support2):
    assert support2.X.shape == (9103, 55)
    assert support2.num_features == len(support2_feature_names())
    assert len(set(support2_feature_names())) == 55
    assert support2.name == "support2"
    # 6-month mortality in SUPPORT is close to one half (Knaus et al. 1995).
    assert 0.45 < support2.y.mean() < 0.49


def test_support2_outcome_is_death_by_the_horizon(support2, frame):
    kept = frame.drop(index=[5393, 5440])  # the two rows without a core entry measurement
    expected = ((kept["event"] == 1) & (kept["time"] <= SUPPORT2_HORIZON_DAYS)).to_numpy()
    assert_array_equal(support2.y, expected.astype(int))
    age = support2_feature_names().index("age")
    assert_array_equal(support2.X[:, age], kept["num_age"].to_numpy())


def test_support2_missing_values_get_the_fill_and_an_indicator(support2, frame):
    names = support2_feature_names()
    kept = frame.drop(index=[5393, 5440])
    for name, fill in data_module._SUPPORT2_NUMERIC:
        if fill is None:
            continue
        raw = kept[f"num_{name}"].to_numpy(dtype=float)
        missing = support2.X[:, names.index(f"{name}_missing")]
        assert_array_equal(missing, np.isnan(raw).astype(float))
        column = support2.X[:, names.index(name)]
        assert np.all(column[np.isnan(raw)] == fill)
        assert_array_equal(column[~np.isnan(raw)], raw[~np.isnan(raw)])
    assert names.index("urine_missing") > names.index("adls")


def test_support2_categories_are_one_hot_with_a_reference_level(support2, frame):
    names = support2_feature_names()
    kept = frame.drop(index=[5393, 5440])
    dz = [j for j, n in enumerate(names) if n.startswith("dzgroup=")]
    assert len(dz) == 7
    row_sums = support2.X[:, dz].sum(axis=1)
    assert set(np.unique(row_sums)) == {0.0, 1.0}
    reference = (kept["fac_dzgroup"].astype(str) == "ARF/MOSF w/Sepsis").to_numpy()
    assert_array_equal(row_sums == 0, reference)
    male = support2.X[:, names.index("sex=male")]
    assert_array_equal(male, (kept["fac_sex"].astype(str) == "male").to_numpy().astype(float))


def test_support2_leaves_out_outcome_proxies():
    names = set(support2_feature_names())
    for proxy in ("surv2m", "surv6m", "sfdm2", "dnr", "dzclass", "time", "event"):
        assert not any(n == proxy or n.startswith(f"{proxy}=") for n in names)


def test_support2_horizon_changes_the_outcome_only(support2):
    month = load_support2_dataset(horizon_days=30)
    assert_array_equal(month.X, support2.X)
    assert month.y.sum() < support2.y.sum()
    assert np.all(month.y <= support2.y)


def test_support2_is_deterministic(support2):
    again = load_support2_dataset()
    assert_array_equal(again.X, support2.X)
    assert_array_equal(again.y, support2.y)


def test_support2_bad_horizon_raises():
    with pytest.raises(ConfigError, match="horizon_days must be >= 1, got 0"):
        load_support2_dataset(horizon_days=0)


def test_support2_needs_the_survset_package(monkeypatch):
    from importlib import metadata

    def missing(name: str):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", missing)
    with pytest.raises(DataError, match="read from the package 'SurvSet', which is not installed"):
        load_support2_dataset()


def _write_variant(frame: pd.DataFrame, tmp_path: Path, monkeypatch, change) -> None:
    variant = change(frame.copy())
    path = tmp_path / "support2.pickle"
    with path.open("wb") as f:
        pickle.dump(variant, f)
    monkeypatch.setattr(data_module, "_package_file", lambda *a, **k: str(path))


def test_support2_unexpected_level_raises(frame, tmp_path, monkeypatch):
    def rename(f: pd.DataFrame) -> pd.DataFrame:
        f["fac_ca"] = f["fac_ca"].astype(str).replace("metastatic", "stage iv")
        return f

    _write_variant(frame, tmp_path, monkeypatch, rename)
    with pytest.raises(DataError, match=r"support2: fac_ca has unexpected levels \['stage iv'\]"):
        load_support2_dataset()


def test_support2_missing_column_raises(frame, tmp_path, monkeypatch):
    _write_variant(frame, tmp_path, monkeypatch, lambda f: f.drop(columns=["num_pafi"]))
    with pytest.raises(DataError, match="support2: column 'num_pafi' is missing"):
        load_support2_dataset()


def test_registry_loads_every_name():
    for name in DATASET_NAMES:
        data = load_dataset(name)
        info = dataset_info(name)
        assert info.name == name
        assert len(info.feature_names) == data.num_features
    assert dataset_info("support2").outcome == "death within 180 days of study entry"


@pytest.mark.parametrize("call", [load_dataset, dataset_info])
def test_registry_unknown_name_raises(call):
    with pytest.raises(
        ConfigError, match=r"dataset must be one of \['breast-cancer', 'support2'\]"
    ):
        call("mimic")
