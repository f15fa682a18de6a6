"""The storage contract: every backend (the local store, and ipfshttpclient over real
HTTP against the embedded node) must behave identically. Each test runs once per
backend through the parametrised ``storage`` fixture."""

from __future__ import annotations

import io
import random

import pytest

from flai.storage import (
    CIDNotFoundError,
    ImportOptions,
    InvalidCIDError,
    NotPinnedError,
    Storage,
    canonical_json,
    import_bytes,
)
from flai.storage.unixfs import DEFAULT_CHUNK_SIZE

UNKNOWN_CID = "bafkreie7q3iidccmpvszul7kudcvvuavuo7u6gzlbobczuk5nqk3b4akba"  # sha256("nope")
MALFORMED = ["", "not-a-cid", "bafy!!!", "Qm123", "/ipfs/", "/ipfs/bafy/sub/path", "zzzz"]


def _payload(size: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


@pytest.mark.parametrize(
    "size", [0, 1, 1000, DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_SIZE + 1, 3 * DEFAULT_CHUNK_SIZE + 5]
)
def test_put_get_round_trip_with_kubo_v1_cid(storage: Storage, size: int) -> None:
    data = _payload(size)

    cid = storage.put(data)

    assert cid == str(import_bytes(data).cid)
    assert storage.get(cid) == data


def test_identical_content_gets_the_same_cid(storage: Storage) -> None:
    data = _payload(5000)

    assert storage.put(data) == storage.put(bytes(data))


def test_has_reports_presence(storage: Storage) -> None:
    cid = storage.put(b"present")

    assert storage.has(cid) is True
    assert storage.has(UNKNOWN_CID) is False


def test_put_pins_by_default_and_unpin_removes_the_pin(storage: Storage) -> None:
    pinned = storage.put(b"pinned content")
    loose = storage.put(b"loose content", pin=False)

    assert pinned in storage.pins()
    assert loose not in storage.pins()

    storage.unpin(pinned)

    assert pinned not in storage.pins()
    assert storage.get(pinned) == b"pinned content"  # unpinning does not delete


def test_pin_an_unpinned_object(storage: Storage) -> None:
    cid = storage.put(_payload(2 * DEFAULT_CHUNK_SIZE + 3), pin=False)

    storage.pin(cid)

    assert cid in storage.pins()


def test_unpin_of_an_unpinned_cid_raises_not_pinned(storage: Storage) -> None:
    cid = storage.put(b"never pinned", pin=False)

    with pytest.raises(NotPinnedError) as info:
        storage.unpin(cid)

    assert info.value.cid == cid


def test_pin_of_unknown_cid_raises_not_found(storage: Storage) -> None:
    with pytest.raises(CIDNotFoundError) as info:
        storage.pin(UNKNOWN_CID)

    assert info.value.cid == UNKNOWN_CID


def test_get_unknown_cid_raises_not_found_naming_it(storage: Storage) -> None:
    with pytest.raises(CIDNotFoundError) as info:
        storage.get(UNKNOWN_CID)

    assert info.value.cid == UNKNOWN_CID
    assert UNKNOWN_CID in str(info.value)


def test_get_stream_raises_not_found_at_call_time(storage: Storage) -> None:
    with pytest.raises(CIDNotFoundError):
        storage.get_stream(UNKNOWN_CID)


@pytest.mark.parametrize("bad", MALFORMED)
def test_malformed_cid_is_rejected_clearly(storage: Storage, bad: str) -> None:
    for operation in (storage.get, storage.has, storage.pin, storage.unpin):
        with pytest.raises(InvalidCIDError) as info:
            operation(bad)
        assert info.value.value == bad
        assert "invalid CID" in str(info.value)


def test_stream_put_from_file_and_iterator_match_bytes_put(storage: Storage) -> None:
    data = _payload(4 * DEFAULT_CHUNK_SIZE + 11)
    pieces = [data[i : i + 70_001] for i in range(0, len(data), 70_001)]

    from_file = storage.put_stream(io.BytesIO(data))
    from_iterator = storage.put_stream(iter(pieces))

    assert from_file == from_iterator == str(import_bytes(data).cid)


def test_get_stream_yields_the_content_in_chunks(storage: Storage) -> None:
    data = _payload(3 * DEFAULT_CHUNK_SIZE + 9)
    cid = storage.put(data)

    chunks = list(storage.get_stream(cid))

    assert b"".join(chunks) == data
    assert len(chunks) == 4
    assert max(len(c) for c in chunks) == DEFAULT_CHUNK_SIZE


def test_json_helpers_are_canonical(storage: Storage) -> None:
    first = {"round": 3, "model": {"weights": "bafy...", "bias": [0.5, -1]}, "ok": True}
    second = {"ok": True, "model": {"bias": [0.5, -1], "weights": "bafy..."}, "round": 3}

    cid = storage.put_json(first)

    assert storage.put_json(second) == cid
    assert storage.get_json(cid) == first
    assert storage.get(cid) == canonical_json(first)
    assert canonical_json(first) == (
        b'{"model":{"bias":[0.5,-1],"weights":"bafy..."},"ok":true,"round":3}'
    )


def test_json_rejects_nan(storage: Storage) -> None:
    with pytest.raises(ValueError):
        storage.put_json({"loss": float("nan")})


def test_put_rejects_non_bytes(storage: Storage) -> None:
    with pytest.raises(TypeError):
        storage.put("text is not bytes")  # type: ignore[arg-type]


def test_cid_v0_mode_matches_plain_ipfs_add(
    storage: Storage, request: pytest.FixtureRequest
) -> None:
    """Same backend kind, configured for CIDv0 (plain ``ipfs add``)."""
    from flai.storage import IpfsHttpStorage, LocalStore

    if isinstance(storage, LocalStore):
        v0: Storage = LocalStore(
            root=storage.root, options=ImportOptions(cid_version=0), fsync=False
        )
    else:
        assert isinstance(storage, IpfsHttpStorage)
        v0 = IpfsHttpStorage(address=storage.address, cid_version=0)
        request.addfinalizer(v0.close)

    cid = v0.put(b"hello world\n")

    assert cid == "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"
    assert storage.get(cid) == b"hello world\n"
