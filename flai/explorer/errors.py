"""Exceptions raised by :mod:`flai.explorer`.

Every failure a caller is expected to handle is an :class:`ExplorerError`, itself a
:class:`flai.errors.FlaiError`; each subclass names the field, method or value that failed.
"""

from __future__ import annotations

from flai.errors import FlaiError

__all__ = [
    "ArtifactError",
    "ChainReadError",
    "DeploymentError",
    "ExplorerError",
    "ReadOnlyViolationError",
]


class ExplorerError(FlaiError):
    """Base class of every explorer failure."""


class DeploymentError(ExplorerError):
    """The deployment document lacks a platform address or holds a malformed one.

    Parameters
    ----------
    field
        The deployment field at fault (e.g. ``"RFMRegistry"``).
    problem
        What is wrong with it.
    """

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"deployment field {field!r}: {problem}")
        self.field = field
        self.problem = problem


class ArtifactError(ExplorerError):
    """A contract ABI could not be loaded from the build artifacts.

    Parameters
    ----------
    contract
        The contract name whose ``build/contracts/<name>.json`` is missing or unreadable.
    detail
        Why.
    """

    def __init__(self, contract: str, detail: str) -> None:
        super().__init__(f"ABI of {contract}: {detail}")
        self.contract = contract
        self.detail = detail


class ReadOnlyViolationError(ExplorerError):
    """Something asked the explorer's chain connection for a method outside its read-only set.

    Parameters
    ----------
    method
        The JSON-RPC method refused (e.g. ``"eth_sendTransaction"``).
    """

    def __init__(self, method: str) -> None:
        super().__init__(f"JSON-RPC method {method!r} is not a read: the explorer never sends it")
        self.method = method


class ChainReadError(ExplorerError):
    """A JSON-RPC read failed (node unreachable, or it answered with an error).

    Parameters
    ----------
    method
        The JSON-RPC method that failed.
    detail
        The node's error or the connection failure.
    """

    def __init__(self, method: str, detail: str) -> None:
        super().__init__(f"JSON-RPC {method} failed: {detail}")
        self.method = method
        self.detail = detail
