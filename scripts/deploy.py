"""Deploy the SuperDAO platform, the SubDAO factory and the market; record every address.

Usage: ``flai run scripts/deploy.py [main CONFIG] [--rpc URL | --network NAME]``. Reads the
scenario (default ``configs/scenario.yaml``: the SubDAO chambers' voting period and the
initial revenue shares) and an optional platform config file (YAML or JSON, keys of
:class:`flai.chain.PlatformConfig`) from ``$FLAI_PLATFORM_CONFIG``, deploys with
``accounts[0]`` (or the brownie account named by ``$FLAI_DEPLOYER``), and writes
``deployments/<network>.json`` (:mod:`flai.chain.deployments`), which the step scripts read.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import yaml
from brownie import accounts, network

from flai.chain import PlatformConfig, deploy_all, deployment_path, write_deployment
from flai.errors import FlaiError
from flai.pipeline import load_config


def platform_config() -> PlatformConfig:
    path = os.environ.get("FLAI_PLATFORM_CONFIG")
    if not path:
        return PlatformConfig()
    return PlatformConfig.from_mapping(yaml.safe_load(Path(path).read_text()) or {})


def main(config_path: str = "configs/scenario.yaml") -> dict[str, str]:
    net = network.show_active()
    deployer = (
        accounts.load(os.environ["FLAI_DEPLOYER"]) if "FLAI_DEPLOYER" in os.environ else accounts[0]
    )
    try:
        config = load_config(config_path)
        deployment = deploy_all(deployer=deployer, config=config, platform=platform_config())
    except FlaiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    record = deployment.record(network=net)
    out = write_deployment(deployment_path(net), record)
    addresses = {**record.platform, **record.subdao_factory, **record.market}
    for section in (record.platform, record.subdao_factory, record.market):
        for name, address in section.items():
            print(f"{name:<20} {address}")
    print(f"wrote {out}")
    return addresses
