"""Root of the FLAI exception hierarchy.

Every subpackage defines its own exceptions as subclasses of :class:`FlaiError`, so a
caller can catch everything the library raises on purpose with one ``except`` clause.
"""


class FlaiError(Exception):
    """Base class of every exception the FLAI library raises deliberately."""
