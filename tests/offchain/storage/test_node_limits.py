"""The node bounds what a request may make it read and hold, and answers only its own
web origin: hostile framing is refused before the body is read, bodies are capped, and
cross-origin (CSRF) calls get 403 as from Kubo."""

from __future__ import annotations

import http.client
import json
import os
from pathlib import Path

import pytest

from flai.storage import IpfsNode, LocalStore, UnsupportedOptionError

from .noderaw import (
    MIB,
    MULTIPART_HEADERS,
    PART_HEAD,
    PART_TAIL,
    exchange,
    parse_response,
    process_memory,
    request_head,
    start_node_process,
    stop_node_process,
)

# -- request bodies ------------------------------------------------------------------------


def test_negative_content_length_with_a_64_mib_body_keeps_the_node_under_100_mib(
    tmp_path: Path,
) -> None:
    """A real node process, a raw socket client uploading 64 MiB after
    ``Content-Length: -1``: the node answers 400 without reading the body, its peak
    resident memory (VmHWM from /proc) stays under 100 MiB, and it keeps serving."""
    process, port = start_node_process(tmp_path / "repo")
    try:
        head = request_head("/api/v0/add", {"Content-Length": "-1", **MULTIPART_HEADERS})
        piece = os.urandom(MIB)

        answer, _ = exchange(port, head + PART_HEAD, (piece for _ in range(64)))

        peak = process_memory(process.pid)["VmHWM"]
        response = parse_response(answer)
        assert peak < 100 * MIB, f"node peak RSS {peak / MIB:.1f} MiB"
        assert response.status == 400
        assert "Content-Length" in json.loads(response.body)["Message"]
        version, _ = exchange(port, request_head("/api/v0/version", {"Content-Length": "0"}))
        assert parse_response(version).status == 200
    finally:
        stop_node_process(process)


def _post_raw(node: IpfsNode, head: bytes, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    answer, _ = exchange(node.port, head, [body] if body else [])
    response = parse_response(answer)
    return response.status, response.headers, response.body


@pytest.mark.parametrize(
    ("headers", "field"),
    [
        ({"Content-Length": "-1"}, "Content-Length"),
        ({"Content-Length": "+12"}, "Content-Length"),
        ({"Content-Length": "0x10"}, "Content-Length"),
        ({"Content-Length": "1e3"}, "Content-Length"),
        ({"Content-Length": "12, 13"}, "Content-Length"),
        ({"Content-Length": "12", "Transfer-Encoding": "chunked"}, "Content-Length"),
        ({"Transfer-Encoding": "gzip, chunked"}, "Transfer-Encoding"),
    ],
)
def test_ambiguous_or_invalid_framing_is_refused(
    node: IpfsNode, headers: dict[str, str], field: str
) -> None:
    body = PART_HEAD + b"data" + PART_TAIL
    status, response_headers, payload = _post_raw(
        node, request_head("/api/v0/add", {**headers, **MULTIPART_HEADERS}), body
    )

    assert status == 400
    assert response_headers["connection"] == "close"
    assert field in json.loads(payload)["Message"]
    assert node.store.pins() == frozenset()


def test_repeated_differing_content_lengths_are_refused(node: IpfsNode) -> None:
    head = (
        b"POST /api/v0/version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Content-Length: 0\r\nContent-Length: 5\r\n\r\nhello"
    )

    status, _, payload = _post_raw(node, head)

    assert status == 400
    assert "repeated, differing" in json.loads(payload)["Message"]


@pytest.mark.parametrize("size_line", [b"-1", b"0x10", b"1_0", b"fffffffffffffffff", b"zz"])
def test_invalid_chunk_sizes_are_refused(node: IpfsNode, size_line: bytes) -> None:
    head = request_head("/api/v0/add", {"Transfer-Encoding": "chunked", **MULTIPART_HEADERS})

    status, _, payload = _post_raw(node, head, size_line + b"\r\n" + PART_HEAD + b"x" * 64)

    assert status == 400
    assert "chunk size" in json.loads(payload)["Message"]


def test_add_without_any_length_is_411(node: IpfsNode) -> None:
    """A body command needs its body framed; bytes after bare headers are not a body."""
    status, _, payload = _post_raw(
        node, request_head("/api/v0/add", MULTIPART_HEADERS), PART_HEAD + b"data" + PART_TAIL
    )

    assert status == 411
    assert "Content-Length" in json.loads(payload)["Message"]
    assert node.store.pins() == frozenset()


def test_bodiless_command_without_content_length_still_answers(node: IpfsNode) -> None:
    """``curl -X POST .../api/v0/version`` sends no Content-Length: an empty body."""
    status, headers, payload = _post_raw(node, request_head("/api/v0/version"))

    assert status == 200
    assert headers["connection"] == "close"
    assert "Version" in json.loads(payload)


@pytest.fixture
def small_node(tmp_path: Path) -> IpfsNode:
    store = LocalStore(root=tmp_path / "small-repo", fsync=False)
    with IpfsNode(store=store, max_body_size=MIB) as running:
        yield running


def test_declared_length_over_the_limit_is_413_before_any_byte_is_read(
    small_node: IpfsNode,
) -> None:
    head = request_head("/api/v0/add", {"Content-Length": str(2 * MIB), **MULTIPART_HEADERS})

    status, _, payload = _post_raw(small_node, head)  # headers only: nothing else is sent

    assert status == 413
    assert "exceeds the limit of 1048576 bytes" in json.loads(payload)["Message"]


def test_chunked_body_over_the_limit_is_cut_off_with_413(small_node: IpfsNode) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", small_node.port, timeout=30)
    pieces = [PART_HEAD] + [os.urandom(256 * 1024) for _ in range(8)] + [PART_TAIL]
    try:
        connection.request(
            "POST", "/api/v0/add", body=iter(pieces), headers=MULTIPART_HEADERS, encode_chunked=True
        )
        response = connection.getresponse()
        payload = response.read()
    finally:
        connection.close()

    assert response.status == 413
    assert json.loads(payload)["Type"] == "error"
    assert small_node.store.pins() == frozenset()
    assert not list(small_node.store.root.rglob(".tmp-*"))


def test_chunked_body_within_the_limit_is_accepted(small_node: IpfsNode) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", small_node.port, timeout=30)
    data = os.urandom(300_000)
    try:
        connection.request(
            "POST",
            "/api/v0/add?cid-version=1",
            body=iter([PART_HEAD, data, PART_TAIL]),
            headers=MULTIPART_HEADERS,
            encode_chunked=True,
        )
        response = connection.getresponse()
        cid = json.loads(response.read())["Hash"]
    finally:
        connection.close()

    assert response.status == 200
    assert small_node.store.get(cid) == data


@pytest.mark.parametrize("limit", [0, -5, True, 1.5])
def test_max_body_size_must_be_a_positive_integer(tmp_path: Path, limit: object) -> None:
    with pytest.raises(UnsupportedOptionError) as info:
        IpfsNode(repo=tmp_path / "repo", max_body_size=limit)  # type: ignore[arg-type]

    assert info.value.option == "max-body-size"


# -- origins -------------------------------------------------------------------------------


def _call(
    node: IpfsNode, command: str, headers: dict[str, str], args: str = ""
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", node.port, timeout=30)
    try:
        body = PART_HEAD + b"origin test" + PART_TAIL if command == "add" else b""
        all_headers = {**headers, **(MULTIPART_HEADERS if command == "add" else {})}
        connection.request("POST", f"/api/v0/{command}{args}", body=body, headers=all_headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("command", ["add", "pin/rm", "repo/gc", "version"])
@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://127.0.0.1:3000"},
        {"Origin": "http://localhost:8080"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "http://127.0.0.1:3000/app.html"},
        {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)"},
    ],
    ids=["loopback-other-port", "localhost-other-port", "foreign", "null", "referer", "browser"],
)
def test_other_origins_are_forbidden(node: IpfsNode, command: str, headers: dict[str, str]) -> None:
    pinned = node.store.put(b"must stay pinned")

    status, payload = _call(node, command, headers, f"?arg={pinned}")

    assert (status, payload) == (403, b"403 - Forbidden\n")
    assert node.store.pins() == frozenset({pinned})
    assert node.store.has(pinned)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_the_apis_own_origin_may_call_mutating_commands(node: IpfsNode, host: str) -> None:
    own = f"http://{host}:{node.port}"
    pinned = node.store.put(b"unpinned by its own origin")

    added, _ = _call(node, "add", {"Origin": own, "Referer": f"{own}/webui/"})
    removed, payload = _call(node, "pin/rm", {"Origin": own}, f"?arg={pinned}")
    collected, _ = _call(node, "repo/gc", {"Origin": own})

    assert (added, removed, collected) == (200, 200, 200)
    assert json.loads(payload) == {"Pins": [pinned]}
    assert not node.store.has(pinned)


def test_extra_allowed_origins_are_honoured(tmp_path: Path) -> None:
    store = LocalStore(root=tmp_path / "repo", fsync=False)
    with IpfsNode(store=store, allowed_origins=["http://localhost:3000"]) as node:
        allowed, _ = _call(node, "version", {"Origin": "http://localhost:3000/"})
        refused, _ = _call(node, "version", {"Origin": "http://localhost:3001"})

    assert (allowed, refused) == (200, 403)
