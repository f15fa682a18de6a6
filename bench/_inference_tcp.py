"""Compute-node processes for ``bench/inference.py``: secret-shared inference over loopback TCP.

``python bench/_inference_tcp.py <setup.pkl>`` starts one node from a setup file written
by the bench (its model share, its masks or Beaver triples, its private key bytes),
binds a loopback port, prints ``READY <port>``, reads the other nodes' ports from stdin
(one line) and serves until the user sends ``X``. Frames are a 4-byte length and a
payload whose first byte is the message type. Both protocols of
:mod:`flai.mpc.inference` are served:

- ``session``: ``H`` session hello → ``K``; ``Q`` sealed masked query → sealed logit
  share (no node-to-node traffic);
- ``oneshot``: ``Q`` (query id, triple id, sealed upload, user key) → the node opens its
  part, sends its shares of ε = x − a and δ = w − b' to every other node, reconstructs
  them from the replies, and returns its logit share sealed to the user's key.
"""

from __future__ import annotations

import pickle
import socket
import struct
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flai.mpc import (
    InferenceNode,
    KeyPair,
    MaskedInferenceNode,
    NodeShare,
)


def send_frame(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(struct.pack(">I", len(payload)) + payload)


def recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("peer closed the connection")
        buf += chunk
    return bytes(buf)


def recv_frame(sock: socket.socket) -> bytes:
    (n,) = struct.unpack(">I", recv_exact(sock, 4))
    return recv_exact(sock, n)


def _nodelay(sock: socket.socket) -> socket.socket:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _serve_session(setup: dict[str, Any], user: socket.socket) -> None:
    node = MaskedInferenceNode(
        index=setup["index"],
        config=setup["config"],
        model=setup["part"],
        keypair=KeyPair.from_private_bytes(setup["private"]),
        model_id=setup["model_id"],
    )
    node.set_offset(setup["delta"])
    for batch in setup["masks"]:
        node.add_masks(batch)
    while True:
        frame = recv_frame(user)
        kind, body = frame[:1], frame[1:]
        if kind == b"H":
            node.accept(body)
            send_frame(user, b"K")
        elif kind == b"Q":
            send_frame(user, node.evaluate(body))
        else:
            return


def _serve_oneshot(
    setup: dict[str, Any], user: socket.socket, peers: dict[int, socket.socket]
) -> None:
    cfg = setup["config"]
    node = InferenceNode(
        index=setup["index"],
        config=cfg,
        model=setup["model"],
        keypair=KeyPair.from_private_bytes(setup["private"]),
    )
    node.add_triples(setup["triples"])
    scheme = cfg.scheme
    while True:
        frame = recv_frame(user)
        if frame[:1] != b"Q":
            return
        query_id, triple_id, sealed, user_public = pickle.loads(frame[1:])
        share = node.open_query(sealed, query_id=query_id)
        eps, delta = node.mask(query_id, share, triple_id=triple_id)
        mine = pickle.dumps((dict(eps.parts), dict(delta.parts)))
        for sock in peers.values():
            send_frame(sock, mine)
        eps_shares, delta_shares = [eps], [delta]
        for j, sock in peers.items():
            e, d = pickle.loads(recv_frame(sock))
            eps_shares.append(NodeShare(node=j, parts=e))
            delta_shares.append(NodeShare(node=j, parts=d))
        epsilon, opened_delta = scheme.reconstruct(eps_shares), scheme.reconstruct(delta_shares)
        out = node.logit(query_id, triple_id=triple_id, epsilon=epsilon, delta=opened_delta)
        send_frame(user, node.seal_output(out, client_public=user_public, query_id=query_id))


def main(path: str) -> None:
    setup = pickle.loads(Path(path).read_bytes())
    index, n = setup["index"], setup["n_nodes"]
    server = socket.create_server(("127.0.0.1", 0))
    print(f"READY {server.getsockname()[1]}", flush=True)
    ports = [int(p) for p in sys.stdin.readline().split()]
    peers: dict[int, socket.socket] = {}
    if setup["protocol"] == "oneshot":
        for j in range(index):  # connect to lower-indexed nodes, accept the higher ones
            sock = _nodelay(socket.create_connection(("127.0.0.1", ports[j])))
            send_frame(sock, b"P" + struct.pack(">I", index))
            peers[j] = sock
    user: socket.socket | None = None
    expected = 1 + (n - 1 - index if setup["protocol"] == "oneshot" else 0)
    for _ in range(expected):
        conn, _ = server.accept()
        _nodelay(conn)
        hello = recv_frame(conn)
        if hello[:1] == b"U":
            user = conn
        else:
            (j,) = struct.unpack(">I", hello[1:5])
            peers[j] = conn
    assert user is not None
    if setup["protocol"] == "session":
        _serve_session(setup, user)
    else:
        _serve_oneshot(setup, user, dict(sorted(peers.items())))
    for sock in [user, *peers.values()]:
        sock.close()
    server.close()


if __name__ == "__main__":
    main(sys.argv[1])
