"""Logistic-regression model, local mini-batch SGD and its byte serialization.

The model is the parameter vector ``θ = (w_1 … w_d, b)`` of ``p(y=1|x) = σ(w·x + b)``.
Local training is mini-batch stochastic gradient descent on the L2-regularised
cross-entropy for ``E`` epochs at rate ``η``, starting from the current global model, as
in FedAvg (McMahan et al., "Communication-Efficient Learning of Deep Networks from
Decentralized Data", AISTATS 2017; 001 §3.1, 000 §2.1).

Serialization (for IPFS) is deterministic and versioned::

    offset  size      field
    0       6         magic  b"FLAIMD"
    6       1         format version (1)
    7       1         dtype code (1 = IEEE-754 float64, little-endian)
    8       1         ndim
    9       4·ndim    shape, uint32 little-endian
    …       8·Πshape  parameters, float64 little-endian, C order

Equal parameters give byte-identical output on every platform; anything malformed raises
:class:`~flai.fl.errors.SerializationError`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.special import expit

from flai.fl.data import Dataset
from flai.fl.errors import ConfigError, SerializationError
from flai.fl.metrics import Metric, metric_columns

__all__ = [
    "FORMAT_VERSION",
    "MAGIC",
    "LogisticModel",
    "TrainConfig",
    "deserialize_array",
    "serialize_array",
    "train_local",
]

FloatArray = NDArray[np.float64]

MAGIC = b"FLAIMD"
FORMAT_VERSION = 1
_DTYPE_CODES: dict[int, np.dtype[np.float64]] = {1: np.dtype("<f8")}
_HEADER = struct.Struct("<6sBBB")


def serialize_array(array: FloatArray) -> bytes:
    """Encode a float64 array with the versioned header described in the module docstring."""
    arr = np.asarray(array)
    if arr.dtype != np.float64:
        raise SerializationError(f"only float64 arrays are serializable, got {arr.dtype}")
    if arr.ndim > 255 or any(s > 0xFFFFFFFF for s in arr.shape):
        raise SerializationError(f"shape {arr.shape} does not fit the header")
    header = _HEADER.pack(MAGIC, FORMAT_VERSION, 1, arr.ndim)
    shape = struct.pack(f"<{arr.ndim}I", *arr.shape)
    return header + shape + np.ascontiguousarray(arr, dtype="<f8").tobytes()


def deserialize_array(data: bytes) -> FloatArray:
    """Decode :func:`serialize_array` output.

    Raises
    ------
    SerializationError
        On a short buffer, wrong magic, unknown version or dtype, or a length mismatch.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise SerializationError(f"expected bytes, got {type(data).__name__}")
    buf = bytes(data)
    if len(buf) < _HEADER.size:
        raise SerializationError(f"{len(buf)} bytes is shorter than the {_HEADER.size}-byte header")
    magic, version, dtype_code, ndim = _HEADER.unpack_from(buf)
    if magic != MAGIC:
        raise SerializationError(f"bad magic {magic!r}, expected {MAGIC!r}")
    if version != FORMAT_VERSION:
        raise SerializationError(f"unsupported format version {version}")
    dtype = _DTYPE_CODES.get(dtype_code)
    if dtype is None:
        raise SerializationError(f"unknown dtype code {dtype_code}")
    shape_end = _HEADER.size + 4 * ndim
    if len(buf) < shape_end:
        raise SerializationError("buffer ends inside the shape field")
    shape = struct.unpack_from(f"<{ndim}I", buf, _HEADER.size)
    expected = shape_end + dtype.itemsize * int(np.prod(shape, dtype=np.int64))
    if len(buf) != expected:
        raise SerializationError(f"payload is {len(buf)} bytes, header implies {expected}")
    out = np.frombuffer(buf, dtype=dtype, offset=shape_end).reshape(shape).astype(np.float64)
    return out


@dataclass(frozen=True)
class TrainConfig:
    """Local-training hyper-parameters.

    Parameters
    ----------
    epochs
        ``E``, passes over the local data per round.
    learning_rate
        ``η``, the SGD step size.
    batch_size
        Mini-batch size ``B``.
    l2
        L2 penalty on the weights (not the bias).
    """

    epochs: int = 2
    learning_rate: float = 0.1
    batch_size: int = 16
    l2: float = 1e-3

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ConfigError(f"epochs must be >= 1, got {self.epochs}")
        if not (self.learning_rate > 0 and np.isfinite(self.learning_rate)):
            raise ConfigError(f"learning_rate must be > 0, got {self.learning_rate}")
        if self.batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {self.batch_size}")
        if not self.l2 >= 0:
            raise ConfigError(f"l2 must be >= 0, got {self.l2}")


@dataclass(frozen=True, eq=False)
class LogisticModel:
    """Binary logistic regression with parameters ``(w_1 … w_d, b)``.

    The parameter vector is copied and made read-only, so a model is an immutable value.
    """

    params: FloatArray

    def __post_init__(self) -> None:
        p = np.array(self.params, dtype=np.float64, copy=True)
        if p.ndim != 1 or p.shape[0] < 2:
            raise ConfigError(f"params must be a 1-D vector of d+1 >= 2 values, got {p.shape}")
        p.setflags(write=False)
        object.__setattr__(self, "params", p)

    @classmethod
    def zeros(cls, num_features: int) -> LogisticModel:
        """The all-zero model (predicts 0.5 everywhere)."""
        if num_features < 1:
            raise ConfigError(f"num_features must be >= 1, got {num_features}")
        return cls(params=np.zeros(num_features + 1))

    @property
    def num_features(self) -> int:
        """``d``."""
        return int(self.params.shape[0] - 1)

    @property
    def weights(self) -> FloatArray:
        """``w`` (read-only view)."""
        return self.params[:-1]

    @property
    def bias(self) -> float:
        """``b``."""
        return float(self.params[-1])

    def decision_function(self, X: FloatArray) -> FloatArray:
        """Logits ``Xw + b``."""
        return np.asarray(X @ self.params[:-1] + self.params[-1], dtype=np.float64)

    def predict_proba(self, X: FloatArray) -> FloatArray:
        """``σ(Xw + b)``."""
        return np.asarray(expit(self.decision_function(X)), dtype=np.float64)

    def evaluate(self, data: Dataset, metric: Metric = "auc") -> float:
        """The named metric of this model on ``data``."""
        data.require_features(self.num_features)
        return float(metric_columns(metric, data.y, self.decision_function(data.X)[:, None])[0])

    def to_bytes(self) -> bytes:
        """Deterministic, versioned serialization (see the module docstring)."""
        return serialize_array(self.params)

    @classmethod
    def from_bytes(cls, data: bytes) -> LogisticModel:
        """Inverse of :meth:`to_bytes`.

        Raises
        ------
        SerializationError
            If the bytes are malformed or do not hold a 1-D parameter vector.
        """
        arr = deserialize_array(data)
        if arr.ndim != 1 or arr.shape[0] < 2:
            raise SerializationError(f"a logistic model needs a 1-D vector, got shape {arr.shape}")
        return cls(params=arr)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LogisticModel):
            return NotImplemented
        return self.to_bytes() == other.to_bytes()

    def __hash__(self) -> int:
        return hash(self.to_bytes())


def train_local(
    model: LogisticModel,
    data: Dataset,
    config: TrainConfig,
    *,
    rng: np.random.Generator,
    flip_labels: bool = False,
) -> LogisticModel:
    """Mini-batch SGD from ``model`` on ``data`` (FedAvg's ClientUpdate, McMahan et al. 2017).

    Parameters
    ----------
    model
        Starting (global) model.
    data
        The custodian's private data.
    config
        Epochs, learning rate, batch size, L2 penalty.
    rng
        Generator for the per-epoch shuffles; equal seeds give identical results.
    flip_labels
        Train on ``1 − y`` (used by the label-flipping behaviour).

    Returns
    -------
    LogisticModel
        The locally trained model ``w_k``.
    """
    data.require_features(model.num_features)
    X, y = data.X, (1 - data.y if flip_labels else data.y).astype(np.float64)
    theta = np.array(model.params, dtype=np.float64, copy=True)
    if data.is_sparse:
        return LogisticModel(params=_sgd_sparse(X, y, theta, config, rng))
    n = data.num_samples
    lr, l2 = config.learning_rate, config.l2
    for _ in range(config.epochs):
        order = rng.permutation(n)
        for start in range(0, n, config.batch_size):
            batch = order[start : start + config.batch_size]
            xb = X[batch]
            residual = expit(xb @ theta[:-1] + theta[-1]) - y[batch]
            grad_w = xb.T @ residual / len(batch) + l2 * theta[:-1]
            theta[:-1] -= lr * grad_w
            theta[-1] -= lr * float(residual.mean())
    return LogisticModel(params=theta)


def _sgd_sparse(
    X: sparse.csr_array,
    y: FloatArray,
    theta: FloatArray,
    config: TrainConfig,
    rng: np.random.Generator,
) -> FloatArray:
    """The same mini-batch SGD for CSR features, touching only a batch's columns.

    The weights are kept as ``w = α·u``: the L2 step ``w ← (1 − ηλ)w`` only scales ``α``
    and the data step updates ``u`` on the batch's non-zero columns, so a step costs
    ``O(nnz(batch))`` instead of ``O(d)`` (the lazy regularisation of Bottou, "Stochastic
    Gradient Descent Tricks", 2012). Each step equals the dense one
    ``w ← (1 − ηλ)w − (η/B)·Xᵦᵀr`` up to rounding. Updates ``theta`` in place.
    """
    n = X.shape[0]
    lr, l2 = config.learning_rate, config.l2
    shrink = 1.0 - lr * l2
    u = theta[:-1]
    alpha, bias = 1.0, float(theta[-1])
    for _ in range(config.epochs):
        order = rng.permutation(n)
        for start in range(0, n, config.batch_size):
            batch = order[start : start + config.batch_size]
            xb = X[batch]
            residual = expit(alpha * (xb @ u) + bias) - y[batch]
            alpha *= shrink
            step = xb.data * np.repeat(residual, np.diff(xb.indptr))
            step *= lr / (len(batch) * alpha)
            np.subtract.at(u, xb.indices, step)
            bias -= lr * float(residual.mean())
            if alpha < 1e-6:  # fold the scale back before it loses precision
                u *= alpha
                alpha = 1.0
    u *= alpha
    theta[-1] = bias
    return theta
