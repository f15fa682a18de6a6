"""CID parity with an independent implementation: the npm ``ipfs-unixfs-importer`` (run
through node by tools/ipfs/reference-cid.mjs with Kubo's defaults) must give the same
root CIDs as the local store for ``ipfs add`` (v0) and ``ipfs add --cid-version=1`` (v1).

Sizes sit on the edges of the encoding: empty, one byte, each side of one and two chunks,
174 chunks (a root of exactly 174 links) and one more (a second level). Deeper trees are
checked with small chunk sizes and narrow nodes, which the reference importer takes too:
each side of every power of the node width up to four levels."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import ipfshttpclient
import pytest

from flai.storage import ImportOptions, IpfsNode, LocalStore
from flai.storage.cid import parse_cid
from flai.storage.dagpb import decode_dag_pb, decode_unixfs
from flai.storage.unixfs import DEFAULT_CHUNK_SIZE, import_bytes, import_stream

from .conftest import REPO_ROOT

REFERENCE_SCRIPT = REPO_ROOT / "tools" / "ipfs" / "reference-cid.mjs"

SIZES = {
    "empty": 0,
    "one-byte": 1,
    "chunk-minus-one": DEFAULT_CHUNK_SIZE - 1,
    "one-chunk": DEFAULT_CHUNK_SIZE,
    "chunk-plus-one": DEFAULT_CHUNK_SIZE + 1,
    "two-chunks-minus-one": 2 * DEFAULT_CHUNK_SIZE - 1,
    "two-chunks": 2 * DEFAULT_CHUNK_SIZE,
    "174-chunks": 174 * DEFAULT_CHUNK_SIZE,
    "174-chunks-plus-one": 174 * DEFAULT_CHUNK_SIZE + 1,
    "5-MiB": 5 * 1024 * 1024,
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The issue's inputs as files of seeded random bytes."""
    directory = tmp_path_factory.mktemp("parity")
    rng = random.Random(20261121)
    files = {}
    for name, size in SIZES.items():
        path = directory / f"{name}.bin"
        path.write_bytes(rng.randbytes(size))
        files[name] = path
    return files


def _reference_cids(paths: list[Path], *options: str) -> dict[str, dict[str, str]]:
    """Reference CIDs from node + ipfs-unixfs-importer, one node run for all files."""
    node = shutil.which("node")
    assert node is not None, "node is required for the CID parity test"
    completed = subprocess.run(
        [node, str(REFERENCE_SCRIPT), *options, *(str(p) for p in paths)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    result: dict[str, dict[str, str]] = json.loads(completed.stdout)
    return result


@pytest.fixture(scope="module")
def reference(corpus: dict[str, Path]) -> dict[str, dict[str, str]]:
    by_path = _reference_cids(list(corpus.values()))
    return {name: by_path[str(path)] for name, path in corpus.items()}


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, LocalStore]:
    root = tmp_path_factory.mktemp("parity-stores")
    return {
        "v1": LocalStore(root=root / "v1", fsync=False),
        "v0": LocalStore(root=root / "v0", options=ImportOptions(cid_version=0), fsync=False),
    }


@pytest.mark.parametrize("mode", ["v1", "v0"])
@pytest.mark.parametrize("name", list(SIZES))
def test_local_store_cid_matches_reference_importer(
    name: str,
    mode: str,
    corpus: dict[str, Path],
    reference: dict[str, dict[str, str]],
    stores: dict[str, LocalStore],
) -> None:
    store = stores[mode]
    with corpus[name].open("rb") as handle:
        cid = store.put_stream(handle)

    assert cid == reference[name][mode]
    assert store.get(cid) == corpus[name].read_bytes()


def test_reference_cids_have_the_expected_shape(reference: dict[str, dict[str, str]]) -> None:
    # v1 single-chunk files are the raw leaf itself; anything bigger is a dag-pb root.
    for name in ("empty", "one-byte", "chunk-minus-one", "one-chunk"):
        assert reference[name]["v1"].startswith("bafkrei")
    for name in ("chunk-plus-one", "two-chunks", "174-chunks", "174-chunks-plus-one", "5-MiB"):
        assert reference[name]["v1"].startswith("bafybei")
    assert all(r["v0"].startswith("Qm") for r in reference.values())
    # Well-known Kubo CIDs of the empty file.
    assert reference["empty"] == {
        "v0": "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH",
        "v1": "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
    }


def test_hello_world_matches_kubo() -> None:
    """``echo 'hello world' | ipfs add`` is QmT78zSu...; with --cid-version=1 bafkreifj..."""
    from flai.storage import import_bytes

    assert str(import_bytes(b"hello world\n", options=ImportOptions(cid_version=0)).cid) == (
        "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"
    )
    assert str(import_bytes(b"hello world\n").cid) == (
        "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"
    )


@pytest.mark.parametrize("mode", ["v1", "v0"])
def test_175_chunks_make_a_two_level_balanced_dag(
    mode: str, reference: dict[str, dict[str, str]], stores: dict[str, LocalStore]
) -> None:
    """174 leaves fill the first inner node; the 175th starts a second, under a new root."""
    store = stores[mode]
    root = parse_cid(reference["174-chunks-plus-one"][mode])
    links, data = decode_dag_pb(store.get_block(root))
    header = decode_unixfs(data or b"")

    assert len(links) == 2
    assert header.blocksizes == (174 * DEFAULT_CHUNK_SIZE, 1)
    assert header.filesize == 174 * DEFAULT_CHUNK_SIZE + 1
    first, _ = decode_dag_pb(store.get_block(links[0].cid))
    second, _ = decode_dag_pb(store.get_block(links[1].cid))
    assert (len(first), len(second)) == (174, 1)
    assert {link.cid.codec.name for link in first} == {"raw" if mode == "v1" else "dag-pb"}


@pytest.mark.parametrize("mode", ["v1", "v0"])
def test_embedded_node_add_matches_reference_importer(
    mode: str, corpus: dict[str, Path], reference: dict[str, dict[str, str]], node: IpfsNode
) -> None:
    """``ipfs add`` / ``ipfs add --cid-version=1 --raw-leaves`` through the RPC API, as
    ipfshttpclient issues them (it always sends raw-leaves, so v1 must say true)."""
    kwargs = {"cid_version": 1, "raw_leaves": True} if mode == "v1" else {}
    with ipfshttpclient.Client(node.address) as client:
        for name, path in corpus.items():
            assert client.add(str(path), **kwargs)["Hash"] == reference[name][mode], name


@pytest.mark.parametrize("mode", ["v1", "v0"])
def test_174_chunks_fill_exactly_one_root(
    mode: str, reference: dict[str, dict[str, str]], stores: dict[str, LocalStore]
) -> None:
    root = parse_cid(reference["174-chunks"][mode])
    links, data = decode_dag_pb(stores[mode].get_block(root))

    assert len(links) == 174
    assert decode_unixfs(data or b"").blocksizes == (DEFAULT_CHUNK_SIZE,) * 174


# -- deep trees on small chunks ------------------------------------------------------------


def _edges(chunk_size: int, width: int, depth: int) -> list[int]:
    """Sizes either side of ``width**k`` chunks, k = 1..depth: one chunk and one byte
    either side below the top level, one byte either side at the top (the largest files,
    kept few)."""
    sizes = {0, 1, chunk_size - 1, chunk_size, chunk_size + 1}
    for level in range(1, depth + 1):
        chunks = width**level
        chunk_deltas = (-1, 0, 1) if level < depth else (0,)
        for delta_chunks in chunk_deltas:
            for delta_bytes in (-1, 0, 1):
                sizes.add((chunks + delta_chunks) * chunk_size + delta_bytes)
    return sorted(s for s in sizes if s >= 0)


SMALL_TREES = {
    "16-byte chunks, 174 links": (16, 174, _edges(16, 174, 2)),
    "1-byte chunks, 3 links": (1, 3, _edges(1, 3, 4)),
    "7-byte chunks, 2 links": (7, 2, _edges(7, 2, 5)),
}


@pytest.mark.parametrize("tree", list(SMALL_TREES))
def test_deep_balanced_trees_match_reference_importer(tree: str, tmp_path: Path) -> None:
    chunk_size, width, sizes = SMALL_TREES[tree]
    rng = random.Random(chunk_size * 1000 + width)
    paths = []
    for size in sizes:
        path = tmp_path / f"{size}.bin"
        path.write_bytes(rng.randbytes(size))
        paths.append(path)

    reference = _reference_cids(paths, f"--chunk-size={chunk_size}", f"--max-links={width}")

    for path in paths:
        data = path.read_bytes()
        for mode, version in (("v1", 1), ("v0", 0)):
            options = ImportOptions(cid_version=version, chunk_size=chunk_size, max_links=width)
            in_one_go = import_bytes(data, options=options)
            with path.open("rb") as handle:
                streamed = import_stream(handle, options=options)
            expected = reference[str(path)][mode]
            assert str(in_one_go.cid) == expected, (tree, len(data), mode)
            assert str(streamed.cid) == expected, (tree, len(data), mode)
            assert in_one_go.file_size == len(data)
