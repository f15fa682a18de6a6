"""The embedded node speaks Kubo's RPC API: an unmodified ``ipfshttpclient.Client`` and
raw HTTP requests see Kubo's request/response shapes."""

from __future__ import annotations

import http.client
import io
import json
import random
from pathlib import Path
from urllib.parse import urlencode

import ipfshttpclient
import pytest

from flai.storage import (
    ImportOptions,
    IpfsHttpStorage,
    IpfsNode,
    LocalStore,
    NodeBindError,
    import_bytes,
)
from flai.storage.unixfs import DEFAULT_CHUNK_SIZE

HELLO_V0 = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"


@pytest.fixture
def client(node: IpfsNode) -> ipfshttpclient.Client:
    """Constructed directly: ``connect()`` would refuse any daemon >= 0.8.0."""
    with ipfshttpclient.Client(node.address) as opened:
        yield opened


def _post(
    node: IpfsNode,
    path: str,
    params: list[tuple[str, str]] | None = None,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    method: str = "POST",
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", node.port, timeout=10)
    try:
        url = path + ("?" + urlencode(params) if params else "")
        connection.request(method, url, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def _multipart(
    files: list[tuple[str, bytes]], boundary: str = "flai-test-boundary"
) -> tuple[bytes, dict[str, str]]:
    body = b""
    for name, content in files:
        body += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + content
            + b"\r\n"
        )
    body += f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


# -- add -----------------------------------------------------------------------------------


def test_add_defaults_to_cidv0_like_kubo(client: ipfshttpclient.Client) -> None:
    assert client.add_bytes(b"hello world\n") == HELLO_V0


def test_add_cid_version_1_with_raw_leaves(client: ipfshttpclient.Client) -> None:
    data = random.Random(3).randbytes(2 * DEFAULT_CHUNK_SIZE + 1)

    cid = client.add_bytes(data, opts={"cid-version": 1, "raw-leaves": True})

    assert cid == str(import_bytes(data).cid)


def test_add_cid_version_1_with_explicit_raw_leaves_false(client: ipfshttpclient.Client) -> None:
    """ipfshttpclient always sends raw-leaves; an explicit false wins over CIDv1's default."""
    data = b"x" * (DEFAULT_CHUNK_SIZE + 1)

    cid = client.add_bytes(data, opts={"cid-version": 1, "raw-leaves": False})

    assert cid == str(
        import_bytes(data, options=ImportOptions(cid_version=1, raw_leaves=False)).cid
    )


def test_add_file_reports_name_hash_and_cumulative_size(
    client: ipfshttpclient.Client, tmp_path: Path
) -> None:
    path = tmp_path / "report.json"
    data = random.Random(4).randbytes(DEFAULT_CHUNK_SIZE + 10)
    path.write_bytes(data)
    expected = import_bytes(data, options=ImportOptions(cid_version=0))

    reply = client.add(str(path))

    assert reply["Name"] == "report.json"
    assert reply["Hash"] == str(expected.cid)
    assert reply["Size"] == str(expected.size)
    assert expected.size > len(data)  # Size counts the DAG's node bytes too


def test_add_several_files_answers_one_ndjson_line_each(node: IpfsNode) -> None:
    body, headers = _multipart([("a.txt", b"alpha"), ("b.txt", b"beta")])

    status, response_headers, payload = _post(
        node, "/api/v0/add", [("cid-version", "1"), ("pin", "false")], body=body, headers=headers
    )

    assert status == 200
    assert response_headers["content-type"] == "application/json"
    lines = [json.loads(line) for line in payload.splitlines()]
    assert lines == [
        {"Name": "a.txt", "Hash": str(import_bytes(b"alpha").cid), "Size": "5"},
        {"Name": "b.txt", "Hash": str(import_bytes(b"beta").cid), "Size": "4"},
    ]
    assert node.store.pins() == frozenset()


def test_add_progress_and_only_hash(node: IpfsNode) -> None:
    body, headers = _multipart([("p.bin", b"progress!")])

    status, _, payload = _post(
        node,
        "/api/v0/add",
        [("progress", "true"), ("only-hash", "true")],
        body=body,
        headers=headers,
    )

    cid = str(import_bytes(b"progress!", options=ImportOptions(cid_version=0)).cid)
    assert status == 200
    assert [json.loads(x) for x in payload.splitlines()] == [
        {"Name": "p.bin", "Bytes": 9},
        {
            "Name": "p.bin",
            "Hash": cid,
            "Size": str(import_bytes(b"progress!", options=ImportOptions(cid_version=0)).size),
        },
    ]
    assert not node.store.has(cid)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("chunker", "rabin-262144-524288-1048576"),
        ("trickle", "true"),
        ("hash", "blake2b-256"),
        ("cid-version", "2"),
        ("chunker", "size-2000000"),
    ],
)
def test_add_refuses_options_it_cannot_honour(node: IpfsNode, option: str, value: str) -> None:
    body, headers = _multipart([("f", b"data")])

    status, _, payload = _post(node, "/api/v0/add", [(option, value)], body=body, headers=headers)

    error = json.loads(payload)
    assert status == 400
    assert error["Type"] == "error" and error["Code"] == 1
    assert option in error["Message"]


def test_add_rejects_directories(node: IpfsNode) -> None:
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="dir"\r\n'
        b"Content-Type: application/x-directory\r\n\r\n\r\n--b--\r\n"
    )

    status, _, payload = _post(
        node, "/api/v0/add", body=body, headers={"Content-Type": "multipart/form-data; boundary=b"}
    )

    assert status == 400
    assert "directories are not supported" in json.loads(payload)["Message"]


def test_add_with_content_length_body_and_boundary_like_bytes_in_content(node: IpfsNode) -> None:
    tricky = b"\r\n--flai-test-boundar" + b"\r\n--flai" * 1000
    body, headers = _multipart([("tricky", tricky)])

    status, _, payload = _post(
        node, "/api/v0/add", [("cid-version", "1")], body=body, headers=headers
    )

    assert status == 200
    cid = json.loads(payload)["Hash"]
    assert node.store.get(cid) == tricky


# -- cat / block ---------------------------------------------------------------------------


def test_cat_streams_content_with_offset_and_length(client: ipfshttpclient.Client) -> None:
    data = random.Random(5).randbytes(3 * DEFAULT_CHUNK_SIZE)
    cid = client.add_bytes(data, opts={"cid-version": 1, "raw-leaves": True})

    assert client.cat(cid) == data
    assert (
        client.cat(cid, offset=DEFAULT_CHUNK_SIZE - 5, length=20)
        == data[DEFAULT_CHUNK_SIZE - 5 : DEFAULT_CHUNK_SIZE + 15]
    )
    assert client.cat(f"/ipfs/{cid}", offset=len(data) - 3) == data[-3:]


def test_cat_of_unknown_cid_is_a_kubo_error(node: IpfsNode) -> None:
    missing = "bafkreie7q3iidccmpvszul7kudcvvuavuo7u6gzlbobczuk5nqk3b4akba"

    status, _, payload = _post(node, "/api/v0/cat", [("arg", missing)])

    assert status == 500
    assert json.loads(payload) == {
        "Message": f"block was not found locally (offline): ipld: could not find {missing}",
        "Code": 0,
        "Type": "error",
    }


def test_cat_without_argument(node: IpfsNode) -> None:
    status, _, payload = _post(node, "/api/v0/cat")

    assert status == 400
    assert json.loads(payload)["Message"] == 'argument "ipfs-path" is required'


def test_block_get_and_stat(client: ipfshttpclient.Client) -> None:
    cid = client.add_bytes(b"hello world\n")

    assert client.block.get(cid) == b"\n\x12\x08\x02\x12\x0chello world\n\x18\x0c"
    stat = client.block.stat(cid)
    assert (stat["Key"], stat["Size"]) == (cid, 20)


def test_block_put_raw_and_v0(client: ipfshttpclient.Client) -> None:
    raw = client.block.put(io.BytesIO(b"a raw block"))
    legacy = client.block.put(
        io.BytesIO(b"\n\x12\x08\x02\x12\x0chello world\n\x18\x0c"), opts={"format": "v0"}
    )

    assert raw["Key"] == str(import_bytes(b"a raw block").cid)
    assert raw["Size"] == 11
    assert legacy["Key"] == HELLO_V0
    assert client.cat(HELLO_V0) == b"hello world\n"


def test_block_put_rejects_invalid_dag_pb(node: IpfsNode) -> None:
    body, headers = _multipart([("blk", b"\xff\xff not protobuf")])

    status, _, payload = _post(
        node, "/api/v0/block/put", [("cid-codec", "dag-pb")], body=body, headers=headers
    )

    assert status == 400
    assert "invalid dag-pb block" in json.loads(payload)["Message"]


def test_invalid_cid_argument_is_a_client_error(node: IpfsNode) -> None:
    status, _, payload = _post(node, "/api/v0/block/get", [("arg", "not-a-cid")])

    error = json.loads(payload)
    assert status == 400
    assert error["Code"] == 1
    assert error["Message"].startswith('invalid path "not-a-cid"')


# -- pins ----------------------------------------------------------------------------------


def test_pin_add_ls_rm_shapes(client: ipfshttpclient.Client, node: IpfsNode) -> None:
    data = random.Random(6).randbytes(2 * DEFAULT_CHUNK_SIZE)
    root = client.add_bytes(data, opts={"cid-version": 1, "raw-leaves": True, "pin": False})
    leaf = str(next(c for c in node.store.walk(root) if str(c) != root))

    assert client.pin.ls(type="recursive")["Keys"] == {}
    assert client.pin.add(root)["Pins"] == [root]
    assert client.pin.ls(type="recursive")["Keys"] == {root: {"Type": "recursive"}}
    everything = client.pin.ls()["Keys"]
    assert everything[root] == {"Type": "recursive"}
    assert everything[leaf] == {"Type": "indirect"}
    assert client.pin.ls(leaf)["Keys"] == {leaf: {"Type": f"indirect through {root}"}}
    assert client.pin.rm(root)["Pins"] == [root]
    assert client.pin.ls(type="recursive")["Keys"] == {}


def test_pin_rm_not_pinned_and_pin_ls_unpinned_path(client: ipfshttpclient.Client) -> None:
    cid = client.add_bytes(b"loose", opts={"pin": False})

    with pytest.raises(
        ipfshttpclient.exceptions.ErrorResponse, match="not pinned or pinned indirectly"
    ):
        client.pin.rm(cid)
    with pytest.raises(
        ipfshttpclient.exceptions.ErrorResponse, match=f"path '{cid}' is not pinned"
    ):
        client.pin.ls(cid)


def test_pin_ls_stream_is_ndjson(node: IpfsNode, client: ipfshttpclient.Client) -> None:
    cid = client.add_bytes(b"streamed pin")

    status, _, payload = _post(node, "/api/v0/pin/ls", [("type", "recursive"), ("stream", "true")])

    assert status == 200
    assert [json.loads(x) for x in payload.splitlines()] == [
        {"Cid": cid, "Name": "", "Type": "recursive"}
    ]


def test_repo_gc_removes_only_unpinned_blocks(
    client: ipfshttpclient.Client, node: IpfsNode
) -> None:
    kept = client.add_bytes(b"kept", opts={"cid-version": 1, "raw-leaves": True})
    dropped = client.add_bytes(
        b"dropped", opts={"cid-version": 1, "raw-leaves": True, "pin": False}
    )

    removed = [entry["Key"]["/"] for entry in client.repo.gc()]

    assert removed == [dropped]
    assert node.store.has(kept) and not node.store.has(dropped)


# -- version / id --------------------------------------------------------------------------


def test_version_and_id_shapes(client: ipfshttpclient.Client, node: IpfsNode) -> None:
    version = client.version()
    identity = client.id()

    assert set(version) == {"Version", "Commit", "Repo", "System", "Golang"}
    assert set(identity) == {
        "ID",
        "PublicKey",
        "Addresses",
        "AgentVersion",
        "ProtocolVersion",
        "Protocols",
    }
    assert identity["ID"] == node.peer_id
    assert identity["ID"].startswith("12D3KooW")  # Ed25519 libp2p peer ID, as Kubo's default


def test_peer_id_is_stable_across_restarts(tmp_path: Path) -> None:
    store = LocalStore(root=tmp_path / "repo", fsync=False)
    with IpfsNode(store=store) as first:
        peer = first.peer_id
    with IpfsNode(store=store) as second:
        assert second.peer_id == peer


# -- HTTP behaviour ------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_non_post_methods_are_refused_like_kubo(node: IpfsNode, method: str) -> None:
    status, _, payload = _post(node, "/api/v0/version", method=method)

    assert status == 405
    assert payload == b"405 - Method Not Allowed\n"


def test_unknown_command_is_404(node: IpfsNode) -> None:
    status, _, payload = _post(node, "/api/v0/swarm/peers")

    assert status == 404
    assert payload == b"404 page not found\n"


def test_only_the_apis_own_origin_is_allowed(node: IpfsNode) -> None:
    forbidden, _, _ = _post(node, "/api/v0/version", headers={"Origin": "https://evil.example"})
    other_port, _, _ = _post(node, "/api/v0/version", headers={"Origin": "http://127.0.0.1:3000"})
    own, _, _ = _post(node, "/api/v0/version", headers={"Origin": f"http://127.0.0.1:{node.port}"})

    assert (forbidden, other_port, own) == (403, 403, 200)


def test_keep_alive_connection_serves_many_requests(node: IpfsNode) -> None:
    storage = IpfsHttpStorage(address=node.address)
    for i in range(30):
        cid = storage.put(f"item {i}".encode())
        assert storage.get(cid) == f"item {i}".encode()
    storage.close()


# -- binding and lifecycle -----------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "example.org", "::"])
def test_refuses_non_loopback_bind_unless_allowed(tmp_path: Path, host: str) -> None:
    with pytest.raises(NodeBindError) as info:
        IpfsNode(repo=tmp_path / "repo", host=host)

    assert info.value.host == host
    IpfsNode(repo=tmp_path / "repo", host=host, allow_remote=True)  # consent given: accepted


def test_ipv6_loopback_and_localhost(tmp_path: Path) -> None:
    store = LocalStore(root=tmp_path / "repo", fsync=False)
    for host in ("::1", "localhost"):
        try:
            node = IpfsNode(store=store, host=host).start()
        except OSError as exc:  # IPv6 disabled on this host
            pytest.fail(f"cannot bind {host}: {exc}")
        with node:
            storage = IpfsHttpStorage(address=node.address)
            assert storage.get(storage.put(host.encode())) == host.encode()
            storage.close()


def test_stop_releases_the_port_and_closes_connections(tmp_path: Path) -> None:
    node = IpfsNode(repo=tmp_path / "repo").start()
    port = node.port
    storage = IpfsHttpStorage(address=node.address)
    storage.put(b"open a keep-alive connection")

    node.stop()

    assert not node.running
    with pytest.raises(ConnectionRefusedError):
        http.client.HTTPConnection("127.0.0.1", port, timeout=2).connect()
    storage.close()
