"""Fixtures of the pipeline tests: the shipped scenario, an embedded IPFS node, ledgers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from flai.pipeline import InMemoryLedger, ScenarioConfig, load_config
from flai.storage import IpfsHttpStorage, IpfsNode

ROOT = Path(__file__).resolve().parents[3]
SCENARIO = ROOT / "configs" / "breast-cancer.yaml"


def make_ledger(config: ScenarioConfig) -> InMemoryLedger:
    """The test ledger for ``config``'s parties and rules."""
    return InMemoryLedger.from_config(config)


@pytest.fixture(scope="session")
def scenario() -> ScenarioConfig:
    """``configs/breast-cancer.yaml`` (the pipeline tests' figures are this scenario's)."""
    return load_config(SCENARIO)


@pytest.fixture
def ipfs(tmp_path: Path) -> Iterator[tuple[IpfsNode, IpfsHttpStorage]]:
    """An embedded IPFS node on an ephemeral loopback port and a client for it."""
    node = IpfsNode(repo=tmp_path / "ipfs").start()
    storage = IpfsHttpStorage(address=node.address, timeout=10)
    try:
        yield node, storage
    finally:
        storage.close()
        node.stop()
