"""Helpers for the node tests that speak raw HTTP over a socket: hostile framing that
``http.client`` will not send, concurrent upload and read, trailers, /proc memory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .conftest import REPO_ROOT

MIB = 1 << 20


@dataclass
class RawResponse:
    """A parsed HTTP/1.1 response (chunked bodies decoded, trailers kept apart)."""

    status: int
    headers: dict[str, str]
    body: bytes
    trailers: dict[str, str] = field(default_factory=dict)


def parse_response(raw: bytes) -> RawResponse:
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() != "chunked":
        length = int(headers.get("content-length", len(rest)))
        return RawResponse(status, headers, rest[:length])
    body = bytearray()
    trailers = {}
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        body += rest[:size]
        rest = rest[size + 2 :]
    for line in rest.decode("latin-1").split("\r\n"):
        if not line:
            break
        name, _, value = line.partition(":")
        trailers[name.strip().lower()] = value.strip()
    return RawResponse(status, headers, bytes(body), trailers)


def exchange(
    port: int, head: bytes, body: Iterable[bytes] = (), *, timeout: float = 60
) -> tuple[bytes, bool]:
    """Send ``head`` then every piece of ``body`` while another thread reads the answer
    to the end; returns the answer and whether the whole body could be sent."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    answer = bytearray()

    def read() -> None:
        try:
            while data := sock.recv(1 << 16):
                answer.extend(data)
        except OSError:
            pass

    reader = threading.Thread(target=read)
    reader.start()
    sent_all = True
    try:
        sock.sendall(head)
        for piece in body:
            sock.sendall(piece)
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        sent_all = False
    reader.join(timeout=timeout)
    sock.close()
    return bytes(answer), sent_all


def request_head(
    path: str, headers: dict[str, str] | None = None, *, connection_close: bool = True
) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1"]
    if connection_close:
        lines.append("Connection: close")
    lines.extend(f"{name}: {value}" for name, value in (headers or {}).items())
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


MULTIPART_HEADERS = {"Content-Type": "multipart/form-data; boundary=flai-raw"}
PART_HEAD = (
    b'--flai-raw\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n'
    b"Content-Type: application/octet-stream\r\n\r\n"
)
PART_TAIL = b"\r\n--flai-raw--\r\n"


def process_memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak resident) of process ``pid``, in bytes."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) * 1024
    return fields


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["PYTHONWARNINGS"] = "ignore::FutureWarning"
    return env


def start_node_process(repo: Path, *args: str) -> tuple[subprocess.Popen[str], int]:
    """``python -m flai.storage.node`` on an ephemeral port; the process and its port."""
    process = subprocess.Popen(
        [sys.executable, "-m", "flai.storage.node", "--repo", str(repo), "--port", "0", *args],
        cwd=REPO_ROOT,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("RPC API server listening on "):
            port = int(line.rsplit("/tcp/", 1)[1].split("/")[0])
            return process, port
    stderr = process.stderr.read() if process.stderr else ""
    raise AssertionError(f"node exited early ({process.wait(5)}): {stderr}")


def stop_node_process(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
    process.communicate(timeout=30)
