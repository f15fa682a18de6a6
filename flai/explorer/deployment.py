"""The platform addresses the explorer starts from, read from ``deployments/<network>.json``.

The explorer needs only the platform contracts (FLAI token, staking, governor, timelock, RFM
registry, SubDAO factory, and the marketplace when one is deployed); every SubDAO suite is
discovered from the factory's ``SubDAOCreated`` events. Two document layouts exist today:

- ``scripts/deploy.py``: ``{"network": ..., "platform": {"FLAIToken": ..., ...}}``;
- ``scripts/rfm_lifecycle.py``: the platform names at the top level, beside ``Marketplace``,
  ``startBlock``, ``suite`` and ``rfmId``.

:func:`platform_section` is the one place that knows where the names live.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import is_address, to_checksum_address

from flai.explorer.errors import DeploymentError

__all__ = ["PlatformAddresses", "load_deployment", "platform_addresses", "platform_section"]

#: PlatformAddresses attribute -> deployment key (the contract name).
_REQUIRED = {
    "token": "FLAIToken",
    "staking": "SuperDAOStaking",
    "timelock": "TimelockController",
    "governor": "SuperDAOGovernor",
    "registry": "RFMRegistry",
    "factory": "SubDAOFactory",
}
_OPTIONAL = {"marketplace": "Marketplace"}


@dataclass(frozen=True, kw_only=True)
class PlatformAddresses:
    """Checksummed addresses of the platform contracts.

    Attributes
    ----------
    token, staking, timelock, governor, registry, factory
        The SuperDAO platform and its SubDAO factory.
    marketplace
        The model marketplace, or ``None`` when the deployment has none.
    start_block
        The first block worth indexing when the document records it (else ``None``: the
        indexer finds the registry's deployment block itself).
    """

    token: str
    staking: str
    timelock: str
    governor: str
    registry: str
    factory: str
    marketplace: str | None = None
    start_block: int | None = None

    def named(self) -> dict[str, str]:
        """Contract name -> address of every platform contract present."""
        out = {key: getattr(self, attr) for attr, key in _REQUIRED.items()}
        if self.marketplace is not None:
            out["Marketplace"] = self.marketplace
        return out


def platform_section(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """The mapping holding the platform contract names (``platform`` if present, else the top)."""
    section = document.get("platform", document)
    if not isinstance(section, Mapping):
        raise DeploymentError("platform", f"expected an object, got {type(section).__name__}")
    return section


def _address(section: Mapping[str, Any], key: str) -> str:
    value = section.get(key)
    if not isinstance(value, str) or not is_address(value):
        raise DeploymentError(key, f"expected a 0x address, got {value!r}")
    return str(to_checksum_address(value))


def platform_addresses(document: Mapping[str, Any]) -> PlatformAddresses:
    """The :class:`PlatformAddresses` of a deployment document (either layout).

    Raises
    ------
    DeploymentError
        If a required name is missing or not an address (the error names it).
    """
    if not isinstance(document, Mapping):
        raise DeploymentError("<document>", f"expected an object, got {type(document).__name__}")
    section = platform_section(document)
    found = {attr: _address(section, key) for attr, key in _REQUIRED.items()}
    for attr, key in _OPTIONAL.items():
        source = section if key in section else document
        if key in source:
            found[attr] = _address(source, key)
    start = section.get("startBlock", document.get("startBlock"))
    if start is not None and (not isinstance(start, int) or isinstance(start, bool) or start < 0):
        raise DeploymentError("startBlock", f"expected a block number, got {start!r}")
    return PlatformAddresses(**found, start_block=start)


def load_deployment(path: str | Path) -> PlatformAddresses:
    """Read ``path`` (a ``deployments/<network>.json``) and return its platform addresses.

    Raises
    ------
    DeploymentError
        If the file cannot be read or parsed (field ``"<file>"``) or lacks an address.
    """
    source = Path(path)
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DeploymentError("<file>", f"cannot read {source}: {exc}") from exc
    return platform_addresses(document)
