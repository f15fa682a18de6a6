"""Update checks: each failure raises its typed error naming custodian and check."""

from __future__ import annotations

import numpy as np
import pytest

from flai.fl import (
    CheckConfig,
    ConfigError,
    LogisticModel,
    ScaledUpdate,
    TrainConfig,
    UpdateCheckError,
    UpdateNonFiniteError,
    UpdateNormError,
    UpdateShapeError,
    check_update,
)

GLOBAL = LogisticModel(params=np.linspace(-1.0, 1.0, 31))
CONFIG = CheckConfig(max_update_norm=2.0)


def test_valid_update_passes_and_returns_its_norm():
    update = LogisticModel(params=GLOBAL.params + 0.1)
    norm = check_update(update, GLOBAL, custodian="hospital-a", config=CONFIG)
    assert norm == pytest.approx(0.1 * np.sqrt(31), rel=1e-12)


def test_wrong_shape_raises_shape_error():
    with pytest.raises(UpdateShapeError) as info:
        check_update(LogisticModel.zeros(12), GLOBAL, custodian="hospital-a", config=CONFIG)
    assert (info.value.custodian, info.value.check) == ("hospital-a", "shape")
    assert "shape (13,) != global (31,)" in str(info.value)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_raises_finite_error(bad):
    params = GLOBAL.params.copy()
    params[[3, 7]] = bad
    with pytest.raises(UpdateNonFiniteError) as info:
        check_update(LogisticModel(params=params), GLOBAL, custodian="lab-7", config=CONFIG)
    assert (info.value.custodian, info.value.check) == ("lab-7", "finite")
    assert "2 non-finite parameters" in str(info.value)


def test_norm_over_bound_raises_norm_error():
    update = LogisticModel(params=GLOBAL.params + 1.0)  # ‖Δ‖ = √31 ≈ 5.57 > 2
    with pytest.raises(UpdateNormError) as info:
        check_update(update, GLOBAL, custodian="bank-b", config=CONFIG)
    assert (info.value.custodian, info.value.check) == ("bank-b", "norm")
    assert "norm 5.56776 > bound 2" in str(info.value)
    assert isinstance(info.value, UpdateCheckError)


def test_norm_check_can_be_disabled():
    update = LogisticModel(params=GLOBAL.params + 1e6)
    norm = check_update(update, GLOBAL, custodian="x", config=CheckConfig(max_update_norm=None))
    assert norm > 1e6


def test_boosted_update_is_caught_but_honest_one_passes(split5):
    start = LogisticModel.zeros(30)
    data, train = split5.custodians[2], TrainConfig()
    honest = ScaledUpdate(factor=1.0).produce(
        global_model=start, data=data, train=train, rng=np.random.default_rng(0)
    )
    boosted = ScaledUpdate(factor=20.0).produce(
        global_model=start, data=data, train=train, rng=np.random.default_rng(0)
    )
    default = CheckConfig()
    assert check_update(honest, start, custodian="c2", config=default) < default.max_update_norm
    with pytest.raises(UpdateNormError):
        check_update(boosted, start, custodian="c2", config=default)


def test_bad_bound_raises():
    with pytest.raises(ConfigError, match="max_update_norm must be > 0"):
        CheckConfig(max_update_norm=0.0)
