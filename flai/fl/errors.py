"""Exceptions raised by the federated-learning engine.

Every class derives from :class:`flai.errors.FlaiError` through :class:`FLError`, so a
caller can catch the whole engine with one clause or a single failure precisely; a bad
setting raises the library's :class:`flai.errors.ConfigError`, re-exported here.
Update-check failures name the custodian and the check that failed, because the round
driver (and later the chain) records them per submitter.
"""

from __future__ import annotations

from flai.errors import ConfigError, FlaiError

__all__ = [
    "ConfigError",
    "ConsensusError",
    "DataError",
    "FLError",
    "FeatureMismatchError",
    "ScoringError",
    "SerializationError",
    "UpdateCheckError",
    "UpdateNonFiniteError",
    "UpdateNormError",
    "UpdateShapeError",
]


class FLError(FlaiError):
    """Base class of every error raised by :mod:`flai.fl`."""


class ConsensusError(FLError, ValueError):
    """Validators' score vectors cannot be combined: none, ragged, a score outside
    ``[0, 1e18]`` or a negative stake."""


class DataError(FLError):
    """A data set is unusable: empty, non-finite, non-binary labels, bad shapes."""


class FeatureMismatchError(DataError):
    """Two parties disagree on the number of features.

    Attributes
    ----------
    party
        Who holds the mismatching data (a custodian or validator id).
    expected, actual
        Feature counts.
    """

    def __init__(self, *, party: str, expected: int, actual: int) -> None:
        self.party = party
        self.expected = expected
        self.actual = actual
        super().__init__(f"{party}: expected {expected} features, got {actual}")


class SerializationError(FLError):
    """Bytes are not a valid serialized model (bad magic, version, dtype, length)."""


class ScoringError(FLError):
    """A contribution-scoring request cannot be served (e.g. exact Shapley for large K)."""


class UpdateCheckError(FLError):
    """A submitted model update failed a validity check.

    Attributes
    ----------
    custodian
        Id of the custodian whose update failed.
    check
        Name of the failed check: ``"shape"``, ``"finite"`` or ``"norm"``.
    detail
        Human-readable values behind the failure.
    """

    check: str = "update"

    def __init__(self, *, custodian: str, detail: str) -> None:
        self.custodian = custodian
        self.detail = detail
        super().__init__(f"custodian {custodian!r} failed check {self.check!r}: {detail}")


class UpdateShapeError(UpdateCheckError):
    """The update's parameter vector does not have the global model's shape."""

    check = "shape"


class UpdateNonFiniteError(UpdateCheckError):
    """The update contains NaN or infinite values."""

    check = "finite"


class UpdateNormError(UpdateCheckError):
    """The L2 norm of the update (its distance from the global model) exceeds the bound."""

    check = "norm"
