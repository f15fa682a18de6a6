"""Bad input and failures: corruption on disk, a lying daemon, an unreachable API, and
writes interrupted half-way (nothing may be left half-written)."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from flai.storage import (
    IntegrityError,
    IpfsHttpStorage,
    IpfsNode,
    LocalStore,
    StorageError,
    UnreachableError,
)
from flai.storage import blockstore as blockstore_module
from flai.storage.cid import parse_cid
from flai.storage.dagpb import decode_dag_pb
from flai.storage.unixfs import DEFAULT_CHUNK_SIZE


def _corrupt(store: LocalStore, cid: str) -> None:
    path = store.blocks.path(parse_cid(cid))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _all_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


# -- corruption ----------------------------------------------------------------------------


def test_corrupt_single_block_raises_integrity_error_naming_the_cid(
    local_store: LocalStore,
) -> None:
    cid = local_store.put(b"model update, round 4")
    _corrupt(local_store, cid)

    with pytest.raises(IntegrityError) as info:
        local_store.get(cid)

    assert info.value.cid == cid
    assert cid in str(info.value)


def test_corrupt_leaf_inside_a_dag_names_the_leaf(local_store: LocalStore) -> None:
    data = random.Random(1).randbytes(3 * DEFAULT_CHUNK_SIZE)
    root = local_store.put(data)
    links, _ = decode_dag_pb(local_store.get_block(root))
    leaf = str(links[1].cid)
    _corrupt(local_store, leaf)

    with pytest.raises(IntegrityError) as info:
        local_store.get(root)

    assert info.value.cid == leaf
    with pytest.raises(IntegrityError):
        local_store.pin(root)  # pinning walks and verifies the whole DAG


def test_corrupt_block_behind_the_node_surfaces_as_integrity_error(
    node: IpfsNode, http_store: IpfsHttpStorage
) -> None:
    cid = http_store.put(b"aggregated model v7")
    _corrupt(node.store, cid)

    with pytest.raises(IntegrityError) as info:
        http_store.get(cid)

    assert info.value.cid == cid


def test_http_backend_verifies_blocks_itself(
    node: IpfsNode, http_store: IpfsHttpStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A daemon serving wrong bytes for a CID is caught client-side."""
    cid = http_store.put(b"the real bytes")
    monkeypatch.setattr(node.store, "get_block", lambda target: b"forged bytes")

    with pytest.raises(IntegrityError) as info:
        http_store.get(cid)

    assert info.value.cid == cid
    assert "do not hash" in info.value.reason


# -- unreachable API -----------------------------------------------------------------------


@pytest.mark.parametrize("form", ["multiaddr", "url"])
def test_unreachable_api_names_the_address(closed_port: int, form: str) -> None:
    address = (
        f"/ip4/127.0.0.1/tcp/{closed_port}/http"
        if form == "multiaddr"
        else f"http://127.0.0.1:{closed_port}"
    )
    storage = IpfsHttpStorage(address=address, timeout=5)

    for operation in (
        lambda: storage.put(b"x"),
        lambda: storage.get("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"),
        storage.pins,
    ):
        with pytest.raises(UnreachableError) as info:
            operation()
        assert info.value.address == address
        assert address in str(info.value)
    storage.close()


def test_node_stopped_mid_session_is_unreachable(tmp_path: Path) -> None:
    node = IpfsNode(repo=tmp_path / "repo").start()
    address = node.address
    storage = IpfsHttpStorage(address=address, timeout=5)
    cid = storage.put(b"before shutdown")
    node.stop()

    with pytest.raises(UnreachableError) as info:
        storage.get(cid)

    assert info.value.address == address
    storage.close()


def test_garbage_address_is_reported_with_the_address() -> None:
    with pytest.raises(UnreachableError) as info:
        IpfsHttpStorage(address="ftp://example.org/api")

    assert info.value.address == "ftp://example.org/api"


# -- atomic writes -------------------------------------------------------------------------


def test_failed_rename_leaves_no_block_and_no_temp_file(
    local_store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(blockstore_module.os, "replace", fail_replace)

    with pytest.raises(OSError):
        local_store.put(b"never fully written")

    monkeypatch.undo()
    assert _all_files(local_store.root) == []
    assert local_store.pins() == frozenset()


def test_failure_while_writing_bytes_leaves_nothing_behind(
    local_store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash in the middle of writing a block (simulated in fsync, after the bytes are
    partly handed to the OS) must not leave a partial file under the block's name."""
    store = LocalStore(root=local_store.root, fsync=True)

    def fail_fsync(fd: int) -> None:
        os.write(fd, b"garbage")
        raise OSError(5, "I/O error")

    monkeypatch.setattr(blockstore_module.os, "fsync", fail_fsync)

    with pytest.raises(OSError):
        store.put(b"interrupted")

    monkeypatch.undo()
    assert _all_files(store.root) == []


def test_interrupted_multi_block_put_leaves_only_whole_blocks_and_no_pin(
    local_store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = random.Random(2).randbytes(5 * DEFAULT_CHUNK_SIZE)
    real_replace = os.replace
    calls = {"n": 0}

    def replace_then_fail(src: str, dst: str) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(blockstore_module.os, "replace", replace_then_fail)

    with pytest.raises(OSError):
        local_store.put(data)

    monkeypatch.undo()
    blocks = _all_files(local_store.root / "blocks")
    assert len(blocks) == 2
    assert not any(p.name.startswith(".tmp-") for p in blocks)
    assert local_store.pins() == frozenset()
    # The two blocks that made it are complete: the retry reuses them and succeeds.
    cid = local_store.put(data)
    assert local_store.get(cid) == data


def test_atomic_write_replaces_existing_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "pins" / "x"
    blockstore_module.atomic_write(target, b"first")
    blockstore_module.atomic_write(target, b"second version")

    assert target.read_bytes() == b"second version"
    assert [p.name for p in target.parent.iterdir()] == ["x"]


def test_storage_errors_share_the_flai_root() -> None:
    from flai.errors import FlaiError

    for error in (IntegrityError("c"), UnreachableError("a")):
        assert isinstance(error, StorageError)
        assert isinstance(error, FlaiError)
