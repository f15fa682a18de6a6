"""Exceptions raised by the sMPC layer.

Every class derives from :class:`MPCError`, itself a :class:`flai.errors.FlaiError`, and
carries the values that made the operation fail so a caller can react without parsing text.
"""

from __future__ import annotations

from flai.errors import FlaiError

__all__ = [
    "CohortTooSmallError",
    "EncodingRangeError",
    "EnvelopeError",
    "InconsistentUploadError",
    "MPCError",
    "ModelCommitmentError",
    "PartialMismatchError",
    "ProtocolError",
    "ReplayError",
    "ShareMismatchError",
    "ThresholdError",
]


class MPCError(FlaiError):
    """Base class of every error raised by :mod:`flai.mpc`."""


class EncodingRangeError(MPCError, ValueError):
    """A value cannot be represented in the fixed-point encoding without wrapping.

    Raised for non-finite inputs, inputs beyond the configured magnitude bound, and decoded
    results outside the range honest inputs can produce (a wrapped or malicious sum).
    """

    def __init__(self, *, value: float, limit: float, what: str = "input") -> None:
        self.value = value
        self.limit = limit
        self.what = what
        super().__init__(f"{what} magnitude {value!r} outside the encodable range ±{limit!r}")


class ThresholdError(MPCError):
    """Too few parties (compute nodes, surviving clients or shares) to reconstruct."""

    def __init__(self, *, available: int, required: int, what: str = "shares") -> None:
        self.available = available
        self.required = required
        self.what = what
        super().__init__(f"{available} {what} available, {required} required to reconstruct")


class ShareMismatchError(MPCError):
    """Two copies of the same share disagree, or a share is inconsistent with the rest."""

    def __init__(self, *, component: int, parties: tuple[int, ...]) -> None:
        self.component = component
        self.parties = parties
        super().__init__(f"share component {component} differs between parties {parties}")


class EnvelopeError(MPCError):
    """A sealed envelope could not be opened: wrong key, tampering, truncation or bad format."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class ProtocolError(MPCError):
    """A protocol step was used out of order, with inconsistent inputs, or replayed."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class PartialMismatchError(MPCError):
    """A compute node's partial failed verification (:mod:`flai.mpc.verify`).

    Attributes
    ----------
    node
        The node whose partial is wrong (the one to slash).
    component
        The share component that failed.
    round_id
        The round.
    reason
        ``"commitment"`` (the partial differs from the one committed) or ``"check vector"``
        (it is not Σ_k c_k·s_k).
    """

    def __init__(self, *, node: int, component: int, round_id: int, reason: str) -> None:
        self.node = node
        self.component = component
        self.round_id = round_id
        self.reason = reason
        super().__init__(
            f"node {node}'s partial of component {component} in round {round_id} failed "
            f"verification ({reason})"
        )


class CohortTooSmallError(MPCError):
    """A federated-analytics query's cohort is below the governed minimum (small cells).

    Raised before any aggregate is opened. The cohort's size itself is not carried: only
    whether it reached the minimum was opened.

    Attributes
    ----------
    field
        ``"count"`` for the whole cohort, or ``"stratum"`` for a stratified query.
    minimum
        The governed minimum cohort size.
    strata
        The strata below the minimum (empty for ``field == "count"``).
    """

    def __init__(self, *, field: str, minimum: int, strata: tuple[object, ...] = ()) -> None:
        self.field = field
        self.minimum = minimum
        self.strata = strata
        where = f" in strata {list(strata)}" if strata else ""
        super().__init__(f"{field} below the minimum cohort of {minimum}{where}; query refused")


class InconsistentUploadError(MPCError):
    """A client's scoring and aggregation uploads do not share the same update.

    Attributes
    ----------
    client
        The client whose two sharings differ (it was scored on one vector and would be
        aggregated with another).
    round_id
        The round.
    """

    def __init__(self, *, client: int, round_id: int) -> None:
        self.client = client
        self.round_id = round_id
        super().__init__(
            f"client {client}'s scoring and aggregation uploads differ in round {round_id}"
        )


class ReplayError(ProtocolError):
    """A message counter, query or single-use mask was presented a second time.

    Attributes
    ----------
    what
        What was replayed (``"session message"``, ``"input mask"``).
    counter
        Its counter or identifier.
    """

    def __init__(self, *, what: str, counter: int) -> None:
        self.what = what
        self.counter = counter
        super().__init__(f"{what} {counter} replayed or too old")


class ModelCommitmentError(MPCError):
    """A released model share does not match the commitment the contributor checks it against.

    Attributes
    ----------
    node
        The compute node whose piece failed (``None`` for the bundle's commitment root).
    component
        The share component of that piece (``None`` for the root).
    reason
        What did not match.
    """

    def __init__(self, *, node: int | None, component: int | None, reason: str) -> None:
        self.node = node
        self.component = component
        self.reason = reason
        where = "commitment root" if node is None else f"node {node}, component {component}"
        super().__init__(f"model release {where}: {reason}")
