"""The UnixFS/dag-pb builder and reader, on small chunk sizes so deep balanced trees are
cheap to exercise."""

from __future__ import annotations

import io
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from multiformats import CID

from flai.storage import ImportOptions, IntegrityError, InvalidCIDError, UnsupportedOptionError
from flai.storage.cid import (
    block_cid,
    cid_codec,
    cid_multihash,
    cid_string,
    parse_cid,
    verify_block,
)
from flai.storage.dagpb import (
    decode_dag_pb,
    decode_unixfs,
    encode_dag_pb,
    encode_unixfs_file,
    link_cids,
)
from flai.storage.unixfs import DagBuilder, import_bytes, import_stream, iter_file


def _import(data: bytes, options: ImportOptions) -> tuple[CID, dict[bytes, bytes]]:
    blocks: dict[bytes, bytes] = {}
    result = import_bytes(data, options=options, sink=lambda c, b: blocks.__setitem__(bytes(c), b))
    return result.cid, blocks


def _reader(blocks: dict[bytes, bytes]):
    def get_block(cid: CID) -> bytes:
        data = blocks[bytes(cid)]
        verify_block(cid, data)
        return data

    return get_block


def _depth(cid: CID, blocks: dict[bytes, bytes]) -> int:
    if cid.codec.name == "raw":
        return 0
    links, _ = decode_dag_pb(blocks[bytes(cid)])
    return 0 if not links else 1 + max(_depth(link.cid, blocks) for link in links)


@settings(max_examples=40, deadline=None)
@given(
    data=st.binary(max_size=600),
    chunk_size=st.integers(min_value=1, max_value=16),
    max_links=st.integers(min_value=2, max_value=5),
    cid_version=st.sampled_from([0, 1]),
    splits=st.lists(st.integers(min_value=0, max_value=600), max_size=6),
)
def test_round_trip_and_streaming_equivalence(
    data: bytes, chunk_size: int, max_links: int, cid_version: int, splits: list[int]
) -> None:
    options = ImportOptions(cid_version=cid_version, chunk_size=chunk_size, max_links=max_links)
    root, blocks = _import(data, options)

    streamed = DagBuilder(sink=lambda c, b: None, options=options)
    cuts = sorted({0, len(data), *(min(s, len(data)) for s in splits)})
    for start, stop in itertools.pairwise(cuts):
        streamed.write(data[start:stop])

    assert streamed.finish().cid == root
    assert b"".join(iter_file(root, _reader(blocks))) == data
    assert root.version == cid_version or len(data) <= chunk_size


def test_balanced_tree_depth_grows_logarithmically() -> None:
    options = ImportOptions(chunk_size=1, max_links=3)
    # 3 leaves fit one node; 4..9 need two levels; 10..27 three.
    for size, depth in [(1, 0), (3, 1), (4, 2), (9, 2), (10, 3), (27, 3), (28, 4)]:
        root, blocks = _import(bytes(range(size)), options)
        assert _depth(root, blocks) == depth, size


def test_import_result_sizes() -> None:
    result = import_bytes(b"abc" * 100, options=ImportOptions(chunk_size=64))

    assert result.file_size == 300
    assert result.size > 300  # leaves plus the root node's own bytes


def test_dag_pb_and_unixfs_decode_what_they_encode() -> None:
    child = block_cid(b"leaf", version=1, codec="raw")
    data = encode_unixfs_file(data=b"", blocksizes=[4, 7])
    node = encode_dag_pb(links=[(child, 4), (child, 9)], data=data)

    links, decoded = decode_dag_pb(node)
    header = decode_unixfs(decoded or b"")

    assert [(link.cid, link.name, link.tsize) for link in links] == [(child, "", 4), (child, "", 9)]
    assert (header.type, header.data, header.filesize, header.blocksizes) == (2, b"", 11, (4, 7))


def test_reader_detects_a_dag_whose_sizes_lie() -> None:
    """Every block hashes correctly, but the root claims more bytes than its leaf has."""
    leaf = block_cid(b"short", version=1, codec="raw")
    root_block = encode_dag_pb(
        links=[(leaf, 5)], data=encode_unixfs_file(data=b"", blocksizes=[50])
    )
    root = block_cid(root_block, version=1, codec="dag-pb")
    blocks = {bytes(leaf): b"short", bytes(root): root_block}

    with pytest.raises(IntegrityError) as info:
        b"".join(iter_file(root, _reader(blocks)))

    assert info.value.cid == str(leaf)


def test_reader_rejects_non_file_nodes() -> None:
    directory = encode_dag_pb(links=[], data=b"\x08\x01")  # UnixFS Directory
    cid = block_cid(directory, version=1, codec="dag-pb")

    with pytest.raises(IntegrityError, match="not a file"):
        list(iter_file(cid, _reader({bytes(cid): directory})))


def test_reader_rejects_non_unixfs_codecs() -> None:
    cid = CID.decode("bafyreigbtj4x7ip5legnfznufuopl4sg4knzc2cof6duas4b3q2fy6swua")  # dag-cbor

    with pytest.raises(InvalidCIDError, match="dag-cbor"):
        list(iter_file(cid, lambda c: b""))


def test_parse_cid_accepts_ipfs_paths_and_rejects_junk() -> None:
    cid = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"

    assert str(parse_cid(f"/ipfs/{cid}")) == cid
    for junk in ["", "hello", "/ipns/x", 42]:
        with pytest.raises(InvalidCIDError):
            parse_cid(junk)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs", [{"cid_version": 2}, {"chunk_size": 0}, {"chunk_size": 1_048_577}, {"max_links": 1}]
)
def test_import_options_are_validated(kwargs: dict[str, int]) -> None:
    with pytest.raises(UnsupportedOptionError):
        ImportOptions(**kwargs)


def test_builder_cannot_be_reused() -> None:
    builder = DagBuilder(sink=lambda c, b: None)
    builder.write(b"x")
    builder.finish()

    with pytest.raises(RuntimeError):
        builder.write(b"y")
    with pytest.raises(RuntimeError):
        builder.finish()


@pytest.mark.parametrize("cid_version", [0, 1])
def test_raw_sink_pieces_join_to_the_blocks_the_object_sink_gets(cid_version: int) -> None:
    """The raw sink sees (binary CID, pieces) with pieces valid only during the call; the
    object sink sees (CID, bytes). Joined, the pieces are the same blocks, each hashing
    to its CID, delivered in the same order."""
    data = bytes(range(256)) * 40
    options = ImportOptions(cid_version=cid_version, chunk_size=100, max_links=4)
    raw: list[tuple[bytes, bytes]] = []
    objects: list[tuple[bytes, bytes]] = []

    root = import_stream(
        io.BytesIO(data),
        options=options,
        raw_sink=lambda cid, pieces: raw.append((cid, b"".join(pieces))),
    )
    import_bytes(data, options=options, sink=lambda c, b: objects.append((bytes(c), b)))

    assert raw == objects
    assert raw[-1][0] == bytes(root.cid)
    for cid, block in raw:
        decoded = CID.decode(cid)
        assert cid_string(cid) == str(
            decoded if decoded.version == 0 else decoded.set(base="base32")
        )
        verify_block(CID.decode(cid), block)
        if cid_codec(cid) == 0x70:
            assert link_cids(block) == [bytes(link.cid) for link in decode_dag_pb(block)[0]]


def test_builder_takes_one_sink() -> None:
    with pytest.raises(ValueError, match="not both"):
        DagBuilder(sink=lambda c, b: None, raw_sink=lambda c, p: None)


@pytest.mark.parametrize(
    "junk", [b"", b"\x01", b"\x02\x55\x12\x20" + bytes(32), b"\x01\x55\x12\x20"]
)
def test_cid_multihash_rejects_what_is_not_a_binary_cid(junk: bytes) -> None:
    with pytest.raises(InvalidCIDError):
        cid_multihash(junk)
