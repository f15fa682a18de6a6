"""Root of the FLAI exception hierarchy.

Every subpackage defines its own exceptions as subclasses of :class:`FlaiError`, so a
caller can catch everything the library raises on purpose with one ``except`` clause.
:class:`ConfigError` is shared by all of them: a configuration value (a scenario field, a
deployment parameter, an engine setting) is out of its domain.
"""

from __future__ import annotations

__all__ = ["ConfigError", "FlaiError"]


class FlaiError(Exception):
    """Base class of every exception the FLAI library raises deliberately."""


class ConfigError(FlaiError, ValueError):
    """A configuration value is out of its domain; raised before anything runs on it.

    Parameters
    ----------
    problem
        What is wrong.
    field
        Dotted path of the offending field (``"hospitals[2].behaviour"``), when the value
        comes from a named field of a file or mapping; the message then starts with it.
    """

    def __init__(self, problem: str, *, field: str | None = None) -> None:
        super().__init__(problem if field is None else f"config field {field!r}: {problem}")
        self.problem = problem
        self.field = field
