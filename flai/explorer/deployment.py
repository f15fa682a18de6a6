"""The platform addresses the explorer starts from, read from ``deployments/<network>.json``.

The explorer needs only the platform contracts (FLAI token, staking, governor, timelock, RFM
registry, SubDAO factory, and the marketplace when one is deployed); every SubDAO suite is
discovered from the factory's ``SubDAOCreated`` events. The file's schema is
:mod:`flai.chain.deployments`' (read here as plain JSON, without brownie): the platform
contracts under ``platform``, the factory under ``subdaoFactory``, the marketplace under
``market`` and the first block worth indexing in ``startBlock``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import is_address, to_checksum_address

from flai.explorer.errors import DeploymentError

__all__ = ["PlatformAddresses", "load_deployment", "platform_addresses"]

#: PlatformAddresses attribute -> (section of the file, contract name).
_REQUIRED = {
    "token": ("platform", "FLAIToken"),
    "staking": ("platform", "SuperDAOStaking"),
    "timelock": ("platform", "TimelockController"),
    "governor": ("platform", "SuperDAOGovernor"),
    "registry": ("platform", "RFMRegistry"),
    "factory": ("subdaoFactory", "SubDAOFactory"),
}
_OPTIONAL = {"marketplace": ("market", "Marketplace")}


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
        out = {key: getattr(self, attr) for attr, (_, key) in _REQUIRED.items()}
        if self.marketplace is not None:
            out["Marketplace"] = self.marketplace
        return out


def _section(document: Mapping[str, Any], name: str, *, required: bool) -> Mapping[str, Any]:
    section = document.get(name)
    if section is None and not required:
        return {}
    if not isinstance(section, Mapping):
        raise DeploymentError(name, f"expected an object, got {type(section).__name__}")
    return section


def _address(section: Mapping[str, Any], key: str) -> str:
    value = section.get(key)
    if not isinstance(value, str) or not is_address(value):
        raise DeploymentError(key, f"expected a 0x address, got {value!r}")
    return str(to_checksum_address(value))


def platform_addresses(document: Mapping[str, Any]) -> PlatformAddresses:
    """The :class:`PlatformAddresses` of a deployment document.

    Raises
    ------
    DeploymentError
        If a required name is missing or not an address (the error names it).
    """
    if not isinstance(document, Mapping):
        raise DeploymentError("<document>", f"expected an object, got {type(document).__name__}")
    found = {
        attr: _address(_section(document, name, required=True), key)
        for attr, (name, key) in _REQUIRED.items()
    }
    for attr, (name, key) in _OPTIONAL.items():
        section = _section(document, name, required=False)
        if key in section:
            found[attr] = _address(section, key)
    start = document.get("startBlock")
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
