"""Exceptions raised by :mod:`flai.storage`.

Every failure a caller is expected to handle is a :class:`StorageError`, itself a
:class:`flai.errors.FlaiError`; each subclass carries the value that failed (the CID, the
API address) as an attribute so callers need not parse messages.
"""

from flai.errors import FlaiError

__all__ = [
    "BadRequestBodyError",
    "BodyTooLargeError",
    "CIDNotFoundError",
    "ForbiddenOriginError",
    "IntegrityError",
    "InvalidCIDError",
    "LengthRequiredError",
    "NodeBindError",
    "NotPinnedError",
    "RequestRefusedError",
    "StorageError",
    "UnreachableError",
    "UnsupportedOptionError",
]


class StorageError(FlaiError):
    """Base class of every storage failure."""


class CIDNotFoundError(StorageError):
    """No block for ``cid`` (or for a block the DAG under it links to) is available.

    Parameters
    ----------
    cid
        The CID that could not be resolved, as a string.
    """

    def __init__(self, cid: str) -> None:
        super().__init__(f"block not found: {cid}")
        self.cid = cid


class IntegrityError(StorageError):
    """A block's bytes do not hash to its CID, or the DAG under a CID is malformed.

    Parameters
    ----------
    cid
        The CID whose content failed verification.
    reason
        What was wrong (digest mismatch, undecodable node, size mismatch ...).
    """

    def __init__(self, cid: str, reason: str = "content does not match its CID") -> None:
        super().__init__(f"integrity check failed for {cid}: {reason}")
        self.cid = cid
        self.reason = reason


class InvalidCIDError(StorageError, ValueError):
    """A string that is not a valid CID (or not one this store can serve) was given.

    Parameters
    ----------
    value
        The offending input.
    reason
        Why it was rejected.
    """

    def __init__(self, value: object, reason: str = "not a valid CID") -> None:
        super().__init__(f"invalid CID {value!r}: {reason}")
        self.value = value
        self.reason = reason


class NotPinnedError(StorageError):
    """``unpin`` was asked for a CID that holds no pin of its own.

    Parameters
    ----------
    cid
        The CID that is not pinned (or only pinned indirectly, through a parent).
    """

    def __init__(self, cid: str) -> None:
        super().__init__(f"not pinned or pinned indirectly: {cid}")
        self.cid = cid


class UnreachableError(StorageError):
    """The IPFS RPC API at ``address`` could not be reached.

    Parameters
    ----------
    address
        The API address (multiaddr or URL) that was tried.
    reason
        The underlying transport error, as text.
    """

    def __init__(self, address: str, reason: str = "connection failed") -> None:
        super().__init__(f"IPFS API at {address} is unreachable: {reason}")
        self.address = address
        self.reason = reason


class NodeBindError(StorageError):
    """The embedded node was asked to listen on a non-loopback address without consent.

    Parameters
    ----------
    host
        The requested bind host.
    """

    def __init__(self, host: str) -> None:
        super().__init__(
            f"refusing to bind the IPFS RPC API to non-loopback host {host!r}; "
            "pass allow_remote=True (or --allow-remote) to expose it"
        )
        self.host = host


class UnsupportedOptionError(StorageError, ValueError):
    """An import option outside what this implementation supports was requested.

    Parameters
    ----------
    option
        The option name (Kubo spelling, e.g. ``"chunker"``).
    value
        The rejected value.
    """

    def __init__(self, option: str, value: object) -> None:
        super().__init__(f"unsupported value for option {option!r}: {value!r}")
        self.option = option
        self.value = value


class RequestRefusedError(StorageError):
    """The embedded node refused an HTTP request before acting on it.

    Parameters
    ----------
    status
        The HTTP status the node answers with.
    message
        What was wrong.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class BadRequestBodyError(RequestRefusedError):
    """A request body's framing is invalid (``Content-Length``, chunked encoding).

    Parameters
    ----------
    field
        The header or framing element at fault (``"Content-Length"``, ``"chunk size"`` ...).
    value
        The offending value, as received.
    reason
        Why it was refused.
    """

    def __init__(self, field: str, value: object, reason: str) -> None:
        super().__init__(400, f"invalid {field} {value!r}: {reason}")
        self.field = field
        self.value = value
        self.reason = reason


class LengthRequiredError(RequestRefusedError):
    """A command that reads a body got neither ``Content-Length`` nor chunked encoding.

    Parameters
    ----------
    command
        The RPC command (``"add"``, ``"block/put"``).
    """

    def __init__(self, command: str) -> None:
        super().__init__(
            411,
            f"{command} needs a request body with a Content-Length or Transfer-Encoding: chunked",
        )
        self.command = command


class BodyTooLargeError(RequestRefusedError):
    """A request body is (or has grown) larger than the node accepts.

    Parameters
    ----------
    limit
        The node's ``max_body_size`` in bytes.
    size
        The declared ``Content-Length``, or the bytes received so far for a chunked body.
    """

    def __init__(self, limit: int, size: int) -> None:
        super().__init__(413, f"request body of {size} bytes exceeds the limit of {limit} bytes")
        self.limit = limit
        self.size = size


class ForbiddenOriginError(RequestRefusedError):
    """A request came from a web origin other than the API's own (possible CSRF).

    Parameters
    ----------
    header
        The header that named the origin (``"Origin"``, ``"Referer"`` or ``"User-Agent"``
        for a browser request that names none).
    value
        Its value.
    """

    def __init__(self, header: str, value: str) -> None:
        super().__init__(403, "403 - Forbidden")
        self.header = header
        self.value = value
