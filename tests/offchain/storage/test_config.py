"""Backend selection from configuration (``FLAI_IPFS_API`` and friends)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flai.storage import (
    IpfsHttpStorage,
    IpfsNode,
    LocalStore,
    StorageConfig,
    UnreachableError,
    UnsupportedOptionError,
    open_storage,
)
from flai.storage.config import default_repo, to_multiaddr


def test_no_api_selects_the_local_store(tmp_path: Path) -> None:
    config = StorageConfig.from_env({"FLAI_IPFS_REPO": str(tmp_path / "repo")})

    storage = open_storage(config)

    assert config.api is None
    assert isinstance(storage, LocalStore)
    assert storage.root == tmp_path / "repo"
    assert storage.options.cid_version == 1


def test_defaults_from_an_empty_environment() -> None:
    config = StorageConfig.from_env({})

    assert config == StorageConfig(api=None, repo=default_repo(), cid_version=1)


def test_api_selects_the_http_backend_against_the_node(node: IpfsNode) -> None:
    config = StorageConfig.from_env({"FLAI_IPFS_API": node.url, "FLAI_IPFS_CID_VERSION": "0"})

    storage = open_storage(config)

    assert isinstance(storage, IpfsHttpStorage)
    assert storage.put(b"hello world\n") == "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"
    storage.close()


def test_open_storage_reads_the_process_environment(
    node: IpfsNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLAI_IPFS_API", node.address)

    storage = open_storage()

    assert isinstance(storage, IpfsHttpStorage)
    assert storage.address == node.address
    storage.close()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/ip4/127.0.0.1/tcp/5001/http", "/ip4/127.0.0.1/tcp/5001/http"),
        ("http://127.0.0.1:5001", "/ip4/127.0.0.1/tcp/5001/http"),
        ("http://[::1]:5001/", "/ip6/::1/tcp/5001/http"),
        ("localhost:5001", "/dns/localhost/tcp/5001/http"),
        ("https://ipfs.example.org", "/dns/ipfs.example.org/tcp/443/https"),
    ],
)
def test_addresses_normalise_to_multiaddrs(given: str, expected: str) -> None:
    assert to_multiaddr(given) == expected


@pytest.mark.parametrize("bad", ["ftp://host/x", "http://host:5001/api/v0", "http://host:notaport"])
def test_unusable_addresses_are_reported(bad: str) -> None:
    with pytest.raises(UnreachableError) as info:
        to_multiaddr(bad)

    assert info.value.address == bad


def test_invalid_cid_version_is_rejected() -> None:
    with pytest.raises(UnsupportedOptionError):
        StorageConfig.from_env({"FLAI_IPFS_CID_VERSION": "2"})
    with pytest.raises(UnsupportedOptionError):
        StorageConfig(cid_version=3)


def test_config_is_frozen() -> None:
    config = StorageConfig()

    with pytest.raises(AttributeError):
        config.api = "http://x"  # type: ignore[misc]
