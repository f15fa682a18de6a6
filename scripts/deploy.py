"""Deploy the SuperDAO platform layer with the SubDAO factory and record their addresses.

Usage: ``flai run scripts/deploy.py [--rpc URL | --network NAME]``. Reads an optional config file
(YAML or JSON, keys of :class:`flai.chain.PlatformConfig`) from ``$FLAI_PLATFORM_CONFIG``,
deploys with ``accounts[0]`` (or the brownie account named by ``$FLAI_DEPLOYER``), and
writes ``deployments/<network>.json``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml
from brownie import accounts, network

from flai.chain import PlatformConfig, deploy_protocol

DEPLOYMENTS = Path(__file__).resolve().parent.parent / "deployments"


def load_config() -> PlatformConfig:
    path = os.environ.get("FLAI_PLATFORM_CONFIG")
    if not path:
        return PlatformConfig()
    return PlatformConfig.from_mapping(yaml.safe_load(Path(path).read_text()) or {})


def main() -> dict[str, str]:
    deployer = (
        accounts.load(os.environ["FLAI_DEPLOYER"]) if "FLAI_DEPLOYER" in os.environ else accounts[0]
    )
    deployment = deploy_protocol(deployer=deployer, config=load_config())
    addresses = deployment.addresses()
    DEPLOYMENTS.mkdir(exist_ok=True)
    out = DEPLOYMENTS / f"{network.show_active()}.json"
    out.write_text(
        json.dumps({"network": network.show_active(), "platform": addresses}, indent=2) + "\n"
    )
    for name, address in addresses.items():
        print(f"{name:<20} {address}")
    print(f"wrote {out}")
    return addresses
