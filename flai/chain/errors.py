"""Exceptions of the chain adapter.

:class:`ChainError` is a chain interaction without the expected outcome (no project
loaded, a party unfunded, a contract missing from the connected chain, a step that the
SubDAO's state does not allow). A bad deployment or step parameter raises the library's
:class:`flai.errors.ConfigError`, re-exported here.
"""

from __future__ import annotations

from flai.errors import ConfigError, FlaiError

__all__ = ["ChainError", "ConfigError"]


class ChainError(FlaiError):
    """A chain interaction did not have the expected outcome."""
