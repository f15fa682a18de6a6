"""Small helpers shared by the contract tests."""

from __future__ import annotations

from typing import Any


def _fmt(arg: Any) -> str:
    if hasattr(arg, "address"):  # brownie Account / Contract
        return str(arg.address).lower()
    if isinstance(arg, str) and arg.startswith("0x") and len(arg) == 42:
        return arg.lower()
    if isinstance(arg, bytes):
        return str(arg)
    return str(arg)


def custom_error(name: str, *args: Any) -> str:
    """The revert string brownie 1.22 reports for a custom error.

    Brownie decodes custom errors it knows from the project's ABIs into
    ``"Name: arg1, arg2"`` (addresses lower-cased, ints in decimal, bytes as ``b'…'``,
    bools as ``True``/``False``), so ``brownie.reverts(custom_error("RFMUnknown", 7))``
    asserts the exact error and its arguments.
    """
    return f"{name}: " + ", ".join(_fmt(a) for a in args)


def bytes32(text: str) -> bytes:
    """A short string as a right-padded bytes32 (how contracts store domain/class tags)."""
    raw = text.encode()
    if len(raw) > 32:
        raise ValueError(f"{text!r} is longer than 32 bytes")
    return raw.ljust(32, b"\0")
