"""Fixtures for the storage tests: a local store, the embedded node, and the storage
backends the contract tests run against (parametrised, so every contract test runs once
per backend)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from flai.storage import IpfsHttpStorage, IpfsNode, LocalStore, Storage

REPO_ROOT = Path(__file__).resolve().parents[3]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """ipfshttpclient 0.7.0 passes urllib3's deprecated ``strict`` flag on every session
    it opens; silence that third-party FutureWarning in these tests only."""
    for item in items:
        if "offchain/storage" in str(item.path).replace("\\", "/"):
            item.add_marker(
                pytest.mark.filterwarnings("ignore:The 'strict' parameter:FutureWarning")
            )


@pytest.fixture
def local_store(tmp_path: Path) -> LocalStore:
    """A fresh on-disk store (fsync off: tests do not need power-loss durability)."""
    return LocalStore(root=tmp_path / "repo", fsync=False)


@pytest.fixture
def node(tmp_path: Path) -> Iterator[IpfsNode]:
    """The embedded node on 127.0.0.1, ephemeral port, over its own repository."""
    store = LocalStore(root=tmp_path / "node-repo", fsync=False)
    with IpfsNode(store=store, host="127.0.0.1", port=0) as running:
        yield running


@pytest.fixture
def http_store(node: IpfsNode) -> Iterator[IpfsHttpStorage]:
    """ipfshttpclient backend over real HTTP against the embedded node."""
    storage = IpfsHttpStorage(address=node.address, timeout=30)
    yield storage
    storage.close()


@pytest.fixture(params=["local", "http"])
def storage(request: pytest.FixtureRequest) -> Storage:
    """Each storage backend in turn: the contract tests must hold for both."""
    if request.param == "local":
        return request.getfixturevalue("local_store")
    return request.getfixturevalue("http_store")


@pytest.fixture
def closed_port() -> int:
    """A TCP port on 127.0.0.1 with nothing listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
