"""Exceptions raised by :mod:`flai.pipeline`.

Every failure the orchestrator expects is a :class:`PipelineError` (a
:class:`flai.errors.FlaiError`) or, for a bad scenario field, the library's
:class:`flai.errors.ConfigError` (re-exported here); each carries the failing value as an
attribute (the config field, the IPFS address, the ledger rule and its arguments) so
callers and scripts need not parse messages.
"""

from __future__ import annotations

from flai.errors import ConfigError, FlaiError

__all__ = [
    "ConfigError",
    "ConsensusMismatchError",
    "JournalError",
    "LedgerRuleError",
    "MalformedBlobError",
    "PipelineError",
    "StorageUnavailableError",
    "ThresholdUnavailableError",
]


class PipelineError(FlaiError):
    """Base class of every orchestrator failure."""


class StorageUnavailableError(PipelineError):
    """The IPFS node went away in the middle of a step.

    Parameters
    ----------
    address
        The IPFS API address (or local repository) that failed.
    step
        The journal step that was running.
    reason
        The underlying storage error, as text.
    """

    def __init__(self, *, address: str, step: str, reason: str) -> None:
        super().__init__(
            f"IPFS at {address} is unavailable during step {step!r}: {reason}; "
            "restart the node and rerun: completed steps are kept in the journal"
        )
        self.address = address
        self.step = step
        self.reason = reason


class JournalError(PipelineError):
    """The journal is unreadable, or belongs to another run.

    Parameters
    ----------
    path
        The journal file.
    detail
        What is wrong.
    """

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(f"journal {path}: {detail}")
        self.path = path
        self.detail = detail


class MalformedBlobError(PipelineError, ValueError):
    """A blob received from another party does not decode (the sender's fault).

    Parameters
    ----------
    kind
        What the blob should have been (``"update bundle"``, ``"inference-query"``, …).
    field
        The path of the offending field inside it (``""`` for the blob as a whole).
    reason
        What is wrong with it.
    """

    def __init__(self, *, kind: str, field: str, reason: str) -> None:
        where = f" field {field!r}" if field else ""
        super().__init__(f"malformed {kind}{where}: {reason}")
        self.kind = kind
        self.field = field
        self.reason = reason


class LedgerRuleError(PipelineError):
    """A chain rule refused a write (the test ledger's mirror of a contract revert).

    Parameters
    ----------
    rule
        Name of the rule, spelled as the contract's custom error
        (``"RoundsAlreadyCommitted"``).
    args
        The values the contract error carries.
    """

    def __init__(self, rule: str, *args: object) -> None:
        super().__init__(f"{rule}({', '.join(repr(a) for a in args)})")
        self.rule = rule
        self.values = args


class ConsensusMismatchError(PipelineError):
    """The consensus the ledger stored differs from the one the pipeline computed.

    Parameters
    ----------
    round_id
        The ledger round.
    local, ledger
        Both φ vectors (1e18 fixed point).
    """

    def __init__(self, *, round_id: int, local: tuple[int, ...], ledger: tuple[int, ...]) -> None:
        super().__init__(f"round {round_id}: consensus {ledger} on the ledger, {local} off-chain")
        self.round_id = round_id
        self.local = local
        self.ledger = ledger


class ThresholdUnavailableError(PipelineError):
    """Fewer than t + 1 compute nodes are available for a secret-shared step.

    Parameters
    ----------
    step
        The step that needed the nodes.
    available, required
        How many nodes answered and how many are needed.
    """

    def __init__(self, *, step: str, available: int, required: int) -> None:
        super().__init__(f"step {step!r}: {available} compute nodes available, {required} required")
        self.step = step
        self.available = available
        self.required = required
