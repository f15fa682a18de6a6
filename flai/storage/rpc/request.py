"""Errors that end an RPC request, and the query-string options of the commands.

Options arrive as Kubo's clients send them: ``arg=`` for positional arguments, and
``name=value`` flags where an empty value or ``1``/``t``/``true`` means true.
"""

from __future__ import annotations

from multiformats import CID

from flai.storage.cid import parse_cid
from flai.storage.errors import InvalidCIDError

__all__ = [
    "ERR_CLIENT",
    "ERR_NORMAL",
    "Params",
    "RequestError",
    "arguments",
    "cid_arg",
    "flag",
    "int_option",
    "not_found",
]

ERR_NORMAL = 0
"""Kubo's ``ErrNormal`` error code (the node failed)."""
ERR_CLIENT = 1
"""Kubo's ``ErrClient`` error code (the request was wrong)."""

Params = dict[str, list[str]]
"""A request's query string, parsed by :func:`urllib.parse.parse_qs`."""


class RequestError(Exception):
    """Ends a request with a Kubo-style error object."""

    def __init__(self, message: str, *, status: int = 500, code: int = ERR_NORMAL) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


def flag(params: Params, name: str, default: bool) -> bool:
    values = params.get(name)
    if not values:
        return default
    value = values[-1].strip().lower()
    if value in ("", "1", "t", "true"):
        return True
    if value in ("0", "f", "false"):
        return False
    raise RequestError(
        f"invalid boolean for option {name!r}: {values[-1]!r}", status=400, code=ERR_CLIENT
    )


def int_option(params: Params, name: str, default: int | None) -> int | None:
    values = params.get(name)
    if not values or values[-1] == "":
        return default
    try:
        return int(values[-1])
    except ValueError:
        raise RequestError(
            f"invalid integer for option {name!r}: {values[-1]!r}", status=400, code=ERR_CLIENT
        ) from None


def arguments(params: Params, *, what: str, required: bool = True) -> list[str]:
    values = params.get("arg", [])
    if required and not values:
        raise RequestError(f'argument "{what}" is required', status=400, code=ERR_CLIENT)
    return values


def cid_arg(value: str) -> CID:
    try:
        return parse_cid(value)
    except InvalidCIDError as exc:
        raise RequestError(
            f'invalid path "{value}": {exc.reason}', status=400, code=ERR_CLIENT
        ) from None


def not_found(cid: str) -> RequestError:
    return RequestError(f"block was not found locally (offline): ipld: could not find {cid}")
