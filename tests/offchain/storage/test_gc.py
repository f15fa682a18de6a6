"""Garbage collection is safe under concurrency and damage: it waits for adds in
progress (the GC lock, in-process and across processes), skips and reports corrupt or
missing blocks of pinned DAGs, ``repo/verify`` finds corruption, and the temporary files
of a writer killed mid-add are swept when the repository is opened again."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import ipfshttpclient
import pytest

from flai.storage import IntegrityError, IpfsHttpStorage, IpfsNode, LocalStore
from flai.storage.blockstore import TEMP_PREFIX, TEMP_SUFFIX
from flai.storage.cid import parse_cid
from flai.storage.dagpb import decode_dag_pb
from flai.storage.unixfs import DEFAULT_CHUNK_SIZE

from .conftest import REPO_ROOT
from .noderaw import MIB, child_env, exchange, parse_response, request_head, start_node_process

# -- the GC lock ---------------------------------------------------------------------------


def test_gc_concurrent_with_a_64_mib_add_leaves_a_complete_catable_dag(
    node: IpfsNode, http_store: IpfsHttpStorage
) -> None:
    """One thread adds 64 MiB over HTTP while another calls ``repo/gc`` over HTTP in a
    loop: the add's DAG is complete, pinned and reads back whole."""
    data = random.Random(64).randbytes(64 * MIB)
    added: dict[str, str] = {}
    failures: list[BaseException] = []
    adding = threading.Event()

    def add() -> None:
        try:
            adding.set()
            added["cid"] = http_store.put(data)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    adder = threading.Thread(target=add)
    adder.start()
    adding.wait()
    collections = 0
    with ipfshttpclient.Client(node.address) as client:
        while adder.is_alive():
            client.repo.gc()
            collections += 1
        client.repo.gc()  # and once more after the add
    adder.join()

    assert not failures, failures
    assert collections >= 1  # at least one collection was asked for during the add
    cid = added["cid"]
    assert cid in node.store.pins()
    assert sum(1 for _ in node.store.walk(cid)) == 256 + 3  # 174 + 82 leaves, parents, root
    assert http_store.get(cid) == data


_SLOW_ADD = textwrap.dedent(
    """
    import random, sys, time
    from flai.storage import LocalStore

    def pieces():
        rng = random.Random(7)
        for _ in range(48):
            yield rng.randbytes(262_144)
            time.sleep(0.02)

    store = LocalStore(root=sys.argv[1], fsync=False)
    print(store.add(pieces()).cid, flush=True)
    """
)


def test_gc_in_another_process_waits_for_a_slow_add(tmp_path: Path) -> None:
    """The GC lock is an flock on the repository: a collection in this process waits for
    an add running in another process."""
    repo = tmp_path / "repo"
    store = LocalStore(root=repo, fsync=False)
    child = subprocess.Popen(
        [sys.executable, "-c", _SLOW_ADD, str(repo)],
        cwd=REPO_ROOT,
        env=child_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    while not any(repo.joinpath("blocks").rglob("*.data")):  # the add has begun writing
        assert child.poll() is None, "the adding process ended before writing a block"
        time.sleep(0.005)
    collections = 0
    while child.poll() is None:
        store.gc()
        collections += 1
    output, _ = child.communicate(timeout=60)

    cid = output.strip()
    assert collections >= 1
    assert cid in store.pins()
    rng = random.Random(7)
    assert store.get(cid) == b"".join(rng.randbytes(262_144) for _ in range(48))


def test_gc_lock_cannot_be_taken_inside_a_pin_lock(local_store: LocalStore) -> None:
    """An exclusive lock requested while this thread holds the shared one would wait on
    itself forever; it is refused instead."""
    lock = local_store.gc_lock
    with lock.pin_lock(), pytest.raises(RuntimeError, match="pin lock"), lock.gc_lock():
        pass


# -- damaged repositories ------------------------------------------------------------------


def _corrupt(store: LocalStore, cid: str) -> None:
    path = store.blocks.path(parse_cid(cid))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.fixture
def damaged(node: IpfsNode) -> dict[str, str]:
    """Two pinned files (one with a corrupt leaf) and one unpinned file on the node."""
    store = node.store
    broken = store.put(random.Random(1).randbytes(3 * DEFAULT_CHUNK_SIZE))
    healthy = store.put(random.Random(2).randbytes(2 * DEFAULT_CHUNK_SIZE + 5))
    loose = store.put(random.Random(3).randbytes(DEFAULT_CHUNK_SIZE + 1), pin=False)
    links, _ = decode_dag_pb(store.get_block(broken))
    leaf = str(links[1].cid)
    _corrupt(store, leaf)
    return {"broken": broken, "leaf": leaf, "healthy": healthy, "loose": loose}


def test_gc_skips_and_reports_a_corrupt_pinned_block(
    node: IpfsNode, damaged: dict[str, str]
) -> None:
    with ipfshttpclient.Client(node.address) as client:
        entries = client.repo.gc()

    errors = [e["Error"] for e in entries if "Error" in e]
    removed = {e["Key"]["/"] for e in entries if "Key" in e}
    assert len(errors) == 1
    assert damaged["leaf"] in errors[0] and "corrupt" in errors[0]
    assert damaged["broken"] in errors[0]  # names the pin whose DAG it is in
    assert not node.store.has(damaged["loose"])  # the unpinned file was collected
    assert len(removed) == 3  # its root and two leaves
    store = node.store
    assert store.has(damaged["leaf"])  # the corrupt block is kept, not silently dropped
    assert all(store.has(str(c)) for c in store.walk(damaged["healthy"]))


def test_a_corrupt_pinned_block_does_not_break_pin_ls_or_cat_of_other_content(
    node: IpfsNode, damaged: dict[str, str]
) -> None:
    with ipfshttpclient.Client(node.address) as client:
        everything = client.pin.ls()["Keys"]
        recursive = client.pin.ls(type="recursive")["Keys"]
        healthy_leaf = str(decode_dag_pb(node.store.get_block(damaged["healthy"]))[0][0].cid)
        through = client.pin.ls(healthy_leaf)["Keys"]
        content = client.cat(damaged["healthy"])

    assert set(recursive) == {damaged["broken"], damaged["healthy"]}
    assert everything[damaged["healthy"]] == {"Type": "recursive"}
    assert everything[healthy_leaf] == {"Type": "indirect"}
    assert damaged["leaf"] not in everything  # unreadable: not claimed as an indirect pin
    assert through == {healthy_leaf: {"Type": f"indirect through {damaged['healthy']}"}}
    assert content == random.Random(2).randbytes(2 * DEFAULT_CHUNK_SIZE + 5)


def test_gc_reports_a_missing_block_of_a_pinned_dag(node: IpfsNode) -> None:
    """The aftermath of an interrupted DAG: a pinned root whose leaf is gone."""
    root = node.store.put(random.Random(5).randbytes(2 * DEFAULT_CHUNK_SIZE))
    leaf = decode_dag_pb(node.store.get_block(root))[0][0].cid
    node.store.blocks.delete(leaf)

    with ipfshttpclient.Client(node.address) as client:
        entries = client.repo.gc()
        recursive = client.pin.ls(type="recursive")["Keys"]

    assert [e["Error"] for e in entries if "Error" in e] == [
        f"block {leaf} is missing (in the DAG pinned at {root}): no block stored"
    ]
    assert set(recursive) == {root}


def _verify(node: IpfsNode) -> tuple[list[dict[str, object]], dict[str, str]]:
    answer, _ = exchange(node.port, request_head("/api/v0/repo/verify", {"Content-Length": "0"}))
    response = parse_response(answer)
    assert response.status == 200
    lines = [json.loads(line) for line in response.body.splitlines()]
    return lines, response.trailers


def test_repo_verify_reports_each_corrupt_block_like_kubo(
    node: IpfsNode, damaged: dict[str, str]
) -> None:
    lines, trailers = _verify(node)

    corrupt_cid = node.store.blocks.key_cid(node.store.blocks.key(parse_cid(damaged["leaf"])))
    assert lines[0] == {
        "Msg": f"block {corrupt_cid} was corrupt (block bytes do not hash to the CID)",
        "Progress": 0,
    }
    total = sum(1 for _ in node.store.blocks.iter_keys())
    assert lines[-1] == {"Msg": "", "Progress": total}
    assert trailers == {"x-stream-error": "verify complete, some blocks were corrupt"}


def test_repo_verify_of_a_healthy_repo(node: IpfsNode, http_store: IpfsHttpStorage) -> None:
    http_store.put(random.Random(6).randbytes(3 * DEFAULT_CHUNK_SIZE))

    lines, trailers = _verify(node)

    assert lines == [
        {"Msg": "", "Progress": 4},
        {"Msg": "verify complete, all blocks validated.", "Progress": 0},
    ]
    assert trailers == {}


def test_verify_can_drop_corrupt_blocks_so_re_adding_repairs(
    local_store: LocalStore,
) -> None:
    data = random.Random(8).randbytes(3 * DEFAULT_CHUNK_SIZE)
    root = local_store.put(data)
    leaf = str(decode_dag_pb(local_store.get_block(root))[0][2].cid)
    _corrupt(local_store, leaf)
    with pytest.raises(IntegrityError):
        local_store.get(root)

    result = local_store.verify(remove_corrupt=True)
    local_store.put(data)  # the same content again: the dropped block is written anew

    assert [p.kind for p in result.corrupt] == ["corrupt"]
    assert result.removed == (local_store.blocks.key(parse_cid(leaf)),)
    assert local_store.get(root) == data
    assert local_store.verify().corrupt == ()


# -- temporary files of killed writers -----------------------------------------------------


def _temp_files(repo: Path) -> list[Path]:
    return [p for p in repo.rglob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}") if p.is_file()]


def test_sigkill_mid_add_leaves_temp_files_that_reopening_removes(tmp_path: Path) -> None:
    """A real node process (fsync on) is frozen with SIGSTOP the moment a block's
    temporary file exists and then SIGKILLed there; reopening the repository removes the
    leftovers and leaves a consistent repository with the earlier content intact."""
    repo = tmp_path / "repo"
    process, port = start_node_process(repo)
    stopped_with_temp = False
    try:
        storage = IpfsHttpStorage(address=f"/ip4/127.0.0.1/tcp/{port}/http", timeout=60)
        earlier = random.Random(9).randbytes(DEFAULT_CHUNK_SIZE + 7)
        earlier_cid = storage.put(earlier)
        storage.close()
        upload = threading.Thread(
            target=exchange,
            args=(
                port,
                request_head(
                    "/api/v0/add",
                    {
                        "Content-Length": str(len(_PART_HEAD) + 64 * MIB + len(_PART_TAIL)),
                        "Content-Type": "multipart/form-data; boundary=flai-raw",
                    },
                ),
                [_PART_HEAD, *(os.urandom(MIB) for _ in range(64)), _PART_TAIL],
            ),
            daemon=True,
        )
        upload.start()
        deadline = time.monotonic() + 60
        while not stopped_with_temp and time.monotonic() < deadline and upload.is_alive():
            if _temp_files(repo):
                process.send_signal(signal.SIGSTOP)
                if _temp_files(repo):
                    stopped_with_temp = True
                    break
                process.send_signal(signal.SIGCONT)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)
    assert stopped_with_temp, "the add finished before a temporary file was caught"
    left = _temp_files(repo)
    assert left

    reopened = LocalStore(root=repo)

    assert _temp_files(repo) == []
    assert reopened.stale_temp_files == len(left)
    assert reopened.verify().corrupt == ()
    assert reopened.pins() == frozenset({earlier_cid})  # the killed add never pinned
    assert reopened.get(earlier_cid) == earlier
    assert reopened.gc().problems == ()


_PART_HEAD = (
    b'--flai-raw\r\nContent-Disposition: form-data; name="file"; filename="big"\r\n'
    b"Content-Type: application/octet-stream\r\n\r\n"
)
_PART_TAIL = b"\r\n--flai-raw--\r\n"


def test_opening_leaves_the_temp_files_of_a_live_writer_alone(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    writer = LocalStore(root=repo, fsync=False)
    shard = repo / "blocks" / "AB"
    shard.mkdir(parents=True)
    in_flight = shard / f"{TEMP_PREFIX}live{TEMP_SUFFIX}"

    with writer.gc_lock.pin_lock():  # a writer between a block's temp file and its rename
        in_flight.write_bytes(b"half a block")
        second = LocalStore(root=repo, fsync=False)
        assert in_flight.exists()
        assert second.stale_temp_files == 0

    third = LocalStore(root=repo, fsync=False)
    assert not in_flight.exists()
    assert third.stale_temp_files == 1


def test_gc_sweeps_temp_files_too(local_store: LocalStore) -> None:
    stale = local_store.root / "pins" / f"{TEMP_PREFIX}x{TEMP_SUFFIX}"
    stale.write_bytes(b"recursive")

    result = local_store.gc()

    assert result.temp_files == 1 and not stale.exists()
