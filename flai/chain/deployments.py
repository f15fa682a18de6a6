"""The deployment file ``deployments/<network>.json``: one schema, written and read here.

``scripts/deploy.py`` writes it (platform, SubDAO factory, market, every implementation);
``scripts/submit_rfm.py`` adds the RFM it submitted, ``scripts/approve_rfm.py`` the SubDAO
the approval created; the lifecycle writes the whole of it at once; every step script
reads it. Schema (addresses are ``0x`` hex)::

    {
      "network": "development",
      "startBlock": 1,                       # first block of the deployment (log queries)
      "platform": {"FLAIToken", "SuperDAOStaking", "TimelockController",
                   "SuperDAOGovernor", "RFMRegistry"},
      "subdaoFactory": {"SubDAOFactory", "SubDAO", "SBGT", "SDT", "SubDAOChamber",
                        "TrainingRounds", "RevenueSplitter"},   # factory + implementations
      "market": {"Marketplace", "MarketCloner", "RevenueSplitter", "BountyPool"},
      "rfm": {"rfmId": 1, "SubDAO": "0x…" | null},           # optional: the steps' RFM
      "analytics": {"rfmId": 2, "SubDAO": "0x…"},             # optional: the FA SubDAO
      "workdir": "reports/…/work"                            # optional: keys, IPFS, journals
    }

:class:`DeploymentRecord` is the file's content (plain addresses, no chain needed);
:class:`Deployment` holds the contract objects, built from a record by
:func:`load_deployment` (which checks the contracts exist on the connected chain) and
turned back into one by :meth:`Deployment.record`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from flai.chain.deploy import (
    ClonerDeployment,
    MarketDeployment,
    PlatformDeployment,
    ProtocolDeployment,
    SubDAOFactoryDeployment,
    SubDAOSuite,
    load_subdao_suite,
)
from flai.chain.errors import ChainError, ConfigError
from flai.chain.plumbing import Contract, address, has_code, project

__all__ = [
    "DEPLOYMENTS_ENV",
    "Deployment",
    "DeploymentRecord",
    "SubDAORef",
    "deployment_path",
    "load_deployment",
    "read_deployment",
    "step_workdir",
    "write_deployment",
]

#: Contract name → field of the deployment object it is, per section of the file.
_PLATFORM = {
    "FLAIToken": "token",
    "SuperDAOStaking": "staking",
    "TimelockController": "timelock",
    "SuperDAOGovernor": "governor",
    "RFMRegistry": "registry",
}
_FACTORY = {
    "SubDAOFactory": "factory",
    "SubDAO": "subdao_impl",
    "SBGT": "sbgt_impl",
    "SDT": "sdt_impl",
    "SubDAOChamber": "chamber_impl",
    "TrainingRounds": "rounds_impl",
    "RevenueSplitter": "splitter_impl",
}
_CLONER = {
    "MarketCloner": "cloner",
    "RevenueSplitter": "splitter_impl",
    "BountyPool": "bounty_impl",
}
_SECTIONS: dict[str, tuple[str, ...]] = {
    "platform": tuple(_PLATFORM),
    "subdaoFactory": tuple(_FACTORY),
    "market": ("Marketplace", *_CLONER),
}


def _addresses(obj: object, fields: Mapping[str, str]) -> dict[str, str]:
    return {name: address(getattr(obj, f)) for name, f in fields.items()}


def _contracts(p: Any, section: Mapping[str, str], fields: Mapping[str, str]) -> dict[str, Any]:
    return {f: getattr(p, name).at(section[name]) for name, f in fields.items()}


#: Environment variable naming the folder of the deployment files (default ``deployments``).
DEPLOYMENTS_ENV = "FLAI_DEPLOYMENTS"


def _folder() -> Path:
    return Path(os.environ.get(DEPLOYMENTS_ENV) or "deployments")


def deployment_path(network: str) -> Path:
    """``deployments/<network>.json`` (the folder from ``$FLAI_DEPLOYMENTS`` if set)."""
    return _folder() / f"{network}.json"


def step_workdir(record: DeploymentRecord) -> Path:
    """Where the step scripts keep keys, IPFS repo and journals: the lifecycle's work
    directory when the record names one, else ``deployments/<network>-steps``."""
    return Path(record.workdir) if record.workdir else _folder() / f"{record.network}-steps"


@dataclass(frozen=True, kw_only=True)
class SubDAORef:
    """An RFM of the deployment and, once approved, the SubDAO its approval created."""

    rfm_id: int
    subdao: str | None = None


@dataclass(frozen=True, kw_only=True)
class DeploymentRecord:
    """The content of a deployment file (see the module docstring for the schema)."""

    network: str
    start_block: int
    platform: Mapping[str, str]
    subdao_factory: Mapping[str, str]
    market: Mapping[str, str]
    rfm: SubDAORef | None = None
    analytics: SubDAORef | None = None
    workdir: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON document."""
        doc: dict[str, Any] = {
            "network": self.network,
            "startBlock": self.start_block,
            "platform": dict(self.platform),
            "subdaoFactory": dict(self.subdao_factory),
            "market": dict(self.market),
        }
        for key, ref in (("rfm", self.rfm), ("analytics", self.analytics)):
            if ref is not None:
                doc[key] = {"rfmId": ref.rfm_id, "SubDAO": ref.subdao}
        if self.workdir is not None:
            doc["workdir"] = self.workdir
        return doc

    @classmethod
    def from_json(cls, doc: Any, *, source: str = "<deployment>") -> DeploymentRecord:
        """Validate a decoded deployment document.

        Raises
        ------
        ConfigError
            Naming the first missing or malformed key (``platform.RFMRegistry``).
        """
        if not isinstance(doc, Mapping):
            raise ConfigError(f"{source}: expected a JSON object", field="<deployment>")
        sections: dict[str, dict[str, str]] = {}
        for section, keys in _SECTIONS.items():
            values = doc.get(section)
            if not isinstance(values, Mapping):
                raise ConfigError(f"missing from {source}", field=section)
            for key in keys:
                value = values.get(key)
                if not (isinstance(value, str) and value.startswith("0x") and len(value) == 42):
                    raise ConfigError(
                        f"missing or not an address in {source}", field=f"{section}.{key}"
                    )
            sections[section] = {key: str(values[key]) for key in keys}
        for key, kind in (("network", str), ("startBlock", int)):
            if not isinstance(doc.get(key), kind) or isinstance(doc.get(key), bool):
                raise ConfigError(f"missing or not a {kind.__name__} in {source}", field=key)
        refs = {key: _ref(doc.get(key), key, source) for key in ("rfm", "analytics")}
        workdir = doc.get("workdir")
        if workdir is not None and not isinstance(workdir, str):
            raise ConfigError(f"not a path in {source}", field="workdir")
        return cls(
            network=str(doc["network"]),
            start_block=int(doc["startBlock"]),
            platform=sections["platform"],
            subdao_factory=sections["subdaoFactory"],
            market=sections["market"],
            rfm=refs["rfm"],
            analytics=refs["analytics"],
            workdir=workdir,
        )

    def with_rfm(self, rfm: SubDAORef) -> DeploymentRecord:
        """This record with ``rfm`` as the steps' RFM."""
        return replace(self, rfm=rfm)


def _ref(value: Any, key: str, source: str) -> SubDAORef | None:
    if value is None:
        return None
    rfm_id = value.get("rfmId") if isinstance(value, Mapping) else None
    subdao = value.get("SubDAO") if isinstance(value, Mapping) else None
    if not isinstance(rfm_id, int) or isinstance(rfm_id, bool) or rfm_id <= 0:
        raise ConfigError(f"missing or not a positive integer in {source}", field=f"{key}.rfmId")
    if subdao is not None and not isinstance(subdao, str):
        raise ConfigError(f"not an address in {source}", field=f"{key}.SubDAO")
    return SubDAORef(rfm_id=rfm_id, subdao=subdao)


def write_deployment(path: str | Path, record: DeploymentRecord) -> Path:
    """Write ``record`` to ``path`` atomically (temporary file + rename); returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.write_text(json.dumps(record.to_json(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, target)
    return target


def read_deployment(path: str | Path) -> DeploymentRecord:
    """Read and validate a deployment file.

    Raises
    ------
    ConfigError
        The file is missing or unreadable (field ``<deployment>``), or a key is missing.
    """
    source = Path(path)
    try:
        doc = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot read {source} (run scripts/deploy.py first): {exc}", field="<deployment>"
        ) from exc
    return DeploymentRecord.from_json(doc, source=str(source))


@dataclass(frozen=True)
class Deployment:
    """The contract objects of a deployment; ``suite``/``analytics`` once their RFM is approved."""

    protocol: ProtocolDeployment
    market: MarketDeployment
    start_block: int
    rfm_id: int | None = None
    suite: SubDAOSuite | None = None
    analytics_rfm_id: int | None = None
    analytics: SubDAOSuite | None = None

    @property
    def platform(self) -> PlatformDeployment:
        """The SuperDAO platform contracts."""
        return self.protocol.platform

    @property
    def marketplace(self) -> Contract:
        """The platform-wide marketplace."""
        return self.market.marketplace

    def require_suite(self) -> SubDAOSuite:
        """The steps' SubDAO suite; :class:`ChainError` if its RFM is not approved yet."""
        if self.suite is None:
            raise ChainError(
                "the deployment has no approved RFM yet (run scripts/submit_rfm.py, "
                "then scripts/approve_rfm.py)"
            )
        return self.suite

    def record(self, *, network: str, workdir: str | None = None) -> DeploymentRecord:
        """The deployment file's content for this deployment."""
        platform, factory = self.protocol.platform, self.protocol.subdao
        refs = {
            key: None
            if rfm_id is None
            else SubDAORef(rfm_id=rfm_id, subdao=None if suite is None else address(suite.subdao))
            for key, rfm_id, suite in (
                ("rfm", self.rfm_id, self.suite),
                ("analytics", self.analytics_rfm_id, self.analytics),
            )
        }
        return DeploymentRecord(
            network=network,
            start_block=self.start_block,
            platform=_addresses(platform, _PLATFORM),
            subdao_factory=_addresses(factory, _FACTORY),
            market={
                "Marketplace": address(self.market.marketplace),
                **_addresses(self.market.cloner, _CLONER),
            },
            rfm=refs["rfm"],
            analytics=refs["analytics"],
            workdir=workdir,
        )


def load_deployment(record: DeploymentRecord) -> Deployment:
    """The contract objects of ``record`` on the connected chain.

    Raises
    ------
    ChainError
        A contract of the record has no code on the connected chain (another chain, or a
        chain restarted since).
    """
    p = project()
    for section in (record.platform, record.subdao_factory, record.market):
        for name, at in section.items():
            if not has_code(at):
                raise ChainError(
                    f"{name} at {at} is not deployed on network {record.network!r} "
                    "(a deployment file of another chain?)"
                )
    protocol = ProtocolDeployment(
        platform=PlatformDeployment(**_contracts(p, record.platform, _PLATFORM)),
        subdao=SubDAOFactoryDeployment(**_contracts(p, record.subdao_factory, _FACTORY)),
    )
    market = MarketDeployment(
        cloner=ClonerDeployment(**_contracts(p, record.market, _CLONER)),
        marketplace=p.Marketplace.at(record.market["Marketplace"]),
    )

    def suite(ref: SubDAORef | None) -> SubDAOSuite | None:
        return None if ref is None or ref.subdao is None else load_subdao_suite(ref.subdao)

    return Deployment(
        protocol=protocol,
        market=market,
        start_block=record.start_block,
        rfm_id=None if record.rfm is None else record.rfm.rfm_id,
        suite=suite(record.rfm),
        analytics_rfm_id=None if record.analytics is None else record.analytics.rfm_id,
        analytics=suite(record.analytics),
    )
