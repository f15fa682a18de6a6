"""Logistic model: local SGD, metrics, deterministic versioned serialization."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.metrics import roc_auc_score

from flai.fl import (
    ConfigError,
    LogisticModel,
    SerializationError,
    TrainConfig,
    roc_auc,
    train_local,
)
from flai.fl.model import FORMAT_VERSION, MAGIC, deserialize_array, serialize_array


def _model(seed: int = 0, d: int = 30) -> LogisticModel:
    return LogisticModel(params=np.random.default_rng(seed).normal(size=d + 1))


def test_serialization_round_trip_and_header():
    model = _model()
    raw = model.to_bytes()
    assert raw[:6] == MAGIC
    assert raw[6] == FORMAT_VERSION == 1
    assert raw[7] == 1  # float64 little-endian
    assert raw[8] == 1  # ndim
    assert struct.unpack_from("<I", raw, 9)[0] == 31
    assert len(raw) == 13 + 8 * 31
    assert struct.unpack_from("<d", raw, 13)[0] == model.params[0]
    back = LogisticModel.from_bytes(raw)
    assert_array_equal(back.params, model.params)
    assert back == model
    assert back.to_bytes() == raw


def test_serialization_preserves_special_values_bit_exactly():
    arr = np.array([[0.0, -0.0, np.inf], [-np.inf, 1e-308, 5e-324]])
    out = deserialize_array(serialize_array(arr))
    assert out.shape == (2, 3)
    assert out.tobytes() == arr.tobytes()
    nan = deserialize_array(serialize_array(np.array([np.nan])))
    assert np.isnan(nan[0])


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b[:5], "shorter than the 9-byte header"),
        (lambda b: b"XXXXXX" + b[6:], "bad magic"),
        (lambda b: b[:6] + bytes([2]) + b[7:], "unsupported format version 2"),
        (lambda b: b[:7] + bytes([9]) + b[8:], "unknown dtype code 9"),
        (lambda b: b[:-1], "header implies"),
        (lambda b: b + b"\x00", "header implies"),
        (lambda b: b[:11], "inside the shape field"),
    ],
)
def test_bad_bytes_raise_serialization_error(mutate, message):
    with pytest.raises(SerializationError, match=message):
        LogisticModel.from_bytes(mutate(_model().to_bytes()))


def test_non_bytes_and_wrong_shape_raise():
    with pytest.raises(SerializationError, match="expected bytes"):
        LogisticModel.from_bytes("not bytes")  # type: ignore[arg-type]
    with pytest.raises(SerializationError, match="needs a 1-D vector"):
        LogisticModel.from_bytes(serialize_array(np.zeros((2, 2))))
    with pytest.raises(SerializationError, match="only float64"):
        serialize_array(np.zeros(3, dtype=np.float32))


def test_model_is_immutable():
    model = _model()
    with pytest.raises(ValueError):
        model.params[0] = 1.0


def test_local_training_is_deterministic_and_improves(split5):
    data = split5.custodians[0]
    start = LogisticModel.zeros(30)
    cfg = TrainConfig(epochs=3, learning_rate=0.1, batch_size=8)
    a = train_local(start, data, cfg, rng=np.random.default_rng(7))
    b = train_local(start, data, cfg, rng=np.random.default_rng(7))
    c = train_local(start, data, cfg, rng=np.random.default_rng(8))
    assert a.to_bytes() == b.to_bytes()
    assert a.to_bytes() != c.to_bytes()
    assert a.evaluate(split5.validators[0], "neg_log_loss") > start.evaluate(
        split5.validators[0], "neg_log_loss"
    )
    assert a.evaluate(split5.test) > 0.9


def test_flip_labels_reverses_the_model(split5):
    data, start = split5.custodians[2], LogisticModel.zeros(30)
    cfg = TrainConfig()
    flipped = train_local(start, data, cfg, rng=np.random.default_rng(0), flip_labels=True)
    assert flipped.evaluate(split5.test) < 0.2


def test_auc_matches_sklearn_including_ties():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=200)
    scores = np.round(rng.normal(size=200) + y, 1)  # rounding creates ties
    assert_allclose(roc_auc(y, scores), roc_auc_score(y, scores), rtol=0, atol=1e-15)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": 0}, "epochs must be >= 1"),
        ({"learning_rate": 0.0}, "learning_rate must be > 0"),
        ({"batch_size": 0}, "batch_size must be >= 1"),
        ({"l2": -1.0}, "l2 must be >= 0"),
    ],
)
def test_bad_train_config_raises(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**kwargs)


def test_training_on_mismatched_features_raises(split5):
    from flai.fl import FeatureMismatchError

    with pytest.raises(FeatureMismatchError, match="custodian-0: expected 5 features, got 30"):
        train_local(
            LogisticModel.zeros(5),
            split5.custodians[0],
            TrainConfig(),
            rng=np.random.default_rng(0),
        )
