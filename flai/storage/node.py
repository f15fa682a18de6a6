"""An embedded IPFS node serving a subset of Kubo's RPC API over a local store.

It lets every FLAI process (custodians, validators, compute nodes) share one
:class:`~flai.storage.local.LocalStore` through the same HTTP API a Kubo daemon offers, so
an unmodified ``ipfshttpclient.Client`` — or :class:`~flai.storage.http.IpfsHttpStorage` —
works against either. No networking beyond the API: the node is always "offline".

Served commands (``POST /api/v0/<command>``, arguments in the query string as ``arg=``,
results as Kubo shapes them): ``add`` (multipart upload, streamed, NDJSON result),
``cat``, ``block/get``, ``block/stat``, ``block/put``, ``pin/add``, ``pin/ls``,
``pin/rm``, ``repo/gc``, ``repo/verify``, ``version``, ``id``. Other methods get ``405``
and unknown commands ``404`` like Kubo; errors are ``{"Message", "Code", "Type": "error"}``.

Requests are bounded before the node reads them: a body must be framed by a plain
decimal ``Content-Length`` or by chunked encoding (never both, nothing else), is capped at
``max_body_size`` (413), and is streamed, never held whole; a command that needs a body
and got no framing answers 411. As in Kubo, a request naming a web origin (``Origin``,
``Referer``) other than the API's own gets ``403 - Forbidden``, as does a browser
request naming none. Adds and pins hold the repository's GC lock shared and ``repo/gc``
holds it alone (see :mod:`flai.storage.lock`); ``repo/gc`` reports corrupt or missing
blocks of pinned DAGs as ``{"Error": ...}`` entries and collects the rest.

Run it from Python::

    with IpfsNode(repo="/var/lib/flai/ipfs") as node:
        storage = IpfsHttpStorage(address=node.address)

or as a command: ``python -m flai.storage.node --repo DIR --port 5001`` (``flai-ipfs``).
The API only binds to loopback unless ``allow_remote=True`` (``--allow-remote``); like
Kubo, it has no authentication, so exposing it lets anyone write and unpin content.

References
----------
Kubo RPC API reference, https://docs.ipfs.tech/reference/kubo/rpc/ .
"""

from __future__ import annotations

import argparse
import base64
import ipaddress
import json
import logging
import os
import platform
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Self
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from multiformats import CID, multihash

from flai import __version__
from flai.storage.blockstore import Blockstore, atomic_write
from flai.storage.cid import parse_cid
from flai.storage.dagpb import decode_dag_pb
from flai.storage.errors import (
    BadRequestBodyError,
    BodyTooLargeError,
    CIDNotFoundError,
    ForbiddenOriginError,
    InvalidCIDError,
    LengthRequiredError,
    NodeBindError,
    NotPinnedError,
    RequestRefusedError,
    StorageError,
    UnsupportedOptionError,
)
from flai.storage.local import LocalStore
from flai.storage.unixfs import DEFAULT_CHUNK_SIZE, ImportOptions

__all__ = ["DEFAULT_API_PORT", "DEFAULT_MAX_BODY_SIZE", "IpfsNode", "main"]

DEFAULT_API_PORT = 5001
"""Kubo's default RPC API port."""

_log = logging.getLogger(__name__)

DEFAULT_MAX_BODY_SIZE = 4 << 30
"""Largest request body the node accepts by default (4 GiB; ``max_body_size``)."""

_READ_SIZE = 1 << 18
_MAX_HEADER_BYTES = 16 * 1024
_MAX_BLOCK_SIZE = 1 << 20
_MAX_BIG_BLOCK_SIZE = 64 << 20  # block/put --allow-big-block: still buffered, so bounded
_MAX_CHUNK_LINE = 1024
_MAX_TRAILERS = 64
_HEX_DIGITS = b"0123456789abcdefABCDEF"
_LINGER_SECONDS = 1.0
_LINGER_BYTES = 64 << 20
_ERR_NORMAL = 0
_ERR_CLIENT = 1


class _RequestError(Exception):
    """Ends a request with a Kubo-style error object."""

    def __init__(self, message: str, *, status: int = 500, code: int = _ERR_NORMAL) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


# --------------------------------------------------------------------------- bodies


class _BodyReader:
    """A request body delimited by ``Content-Length`` or ``Transfer-Encoding: chunked``.

    Never reads past the body, never buffers it, and stops a chunked body at ``limit``
    bytes. ``length`` is ``None`` when the request declared neither (an empty body).
    """

    def __init__(self, rfile: BinaryIO, *, length: int | None, chunked: bool, limit: int) -> None:
        self._rfile = rfile
        self._chunked = chunked
        self._limit = limit
        self.declared = chunked or length is not None
        self._remaining = 0 if chunked else (length or 0)
        self._received = 0
        self._eof = False if chunked else self._remaining == 0

    @property
    def complete(self) -> bool:
        """Whether the whole body has been read."""
        return self._eof

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes; ``b""`` at the end of the body."""
        if self._eof:
            return b""
        if self._chunked and self._remaining == 0:
            self._next_chunk()
            if self._eof:
                return b""
        data = self._rfile.read(min(size, self._remaining))
        if not data:
            raise _RequestError("request body ended early", status=400, code=_ERR_CLIENT)
        self._remaining -= len(data)
        if self._remaining == 0:
            if self._chunked:
                if self._rfile.readline(8) not in (b"\r\n", b"\n"):
                    raise BadRequestBodyError("chunked body", "chunk end", "missing CRLF")
            else:
                self._eof = True
        return data

    def drain(self) -> None:
        """Consume the rest of the body."""
        while self.read(_READ_SIZE):
            pass

    def _next_chunk(self) -> None:
        line = self._rfile.readline(_MAX_CHUNK_LINE + 1)
        if len(line) > _MAX_CHUNK_LINE or not line.endswith(b"\n"):
            raise BadRequestBodyError("chunk size", line[:40], "line too long or truncated")
        digits = line.split(b";", 1)[0].strip()
        if not digits or len(digits) > 16 or digits.strip(_HEX_DIGITS):
            raise BadRequestBodyError("chunk size", digits[:40], "not a hexadecimal number")
        size = int(digits, 16)
        if size == 0:
            for _ in range(_MAX_TRAILERS):
                if self._rfile.readline(_MAX_CHUNK_LINE) in (b"\r\n", b"\n", b""):
                    break
            else:
                raise BadRequestBodyError("chunked body", "trailers", "too many trailer lines")
            self._eof = True
            return
        self._received += size
        if self._received > self._limit:
            raise BodyTooLargeError(self._limit, self._received)
        self._remaining = size


class _MultipartReader:
    """Streaming ``multipart/form-data`` parser: parts are read in order, never buffered."""

    def __init__(self, body: _BodyReader, boundary: str) -> None:
        self._body = body
        self._boundary = b"--" + boundary.encode("latin-1")
        self._delimiter = b"\r\n" + self._boundary
        self._buffer = bytearray()
        self._done = False

    def parts(self) -> Iterator[tuple[dict[str, str], Iterator[bytes]]]:
        """Yield ``(headers, content chunks)``; consume the chunks before the next part."""
        self._skip_preamble()
        while not self._done:
            headers = self._read_headers()
            content = self._content()
            yield headers, content
            for _ in content:  # the consumer may stop early; finish the part
                pass
        self._body.drain()  # epilogue and the chunked terminator: keep-alive needs them read

    def _fill(self) -> bool:
        data = self._body.read(_READ_SIZE)
        self._buffer += data
        return bool(data)

    def _need(self, count: int) -> None:
        while len(self._buffer) < count:
            if not self._fill():
                raise _RequestError("multipart body ended early", status=400, code=_ERR_CLIENT)

    def _skip_preamble(self) -> None:
        while True:
            index = self._buffer.find(self._boundary)
            if index >= 0:
                del self._buffer[: index + len(self._boundary)]
                self._after_boundary()
                return
            if len(self._buffer) > _MAX_HEADER_BYTES or not self._fill():
                raise _RequestError("multipart boundary not found", status=400, code=_ERR_CLIENT)

    def _after_boundary(self) -> None:
        self._need(2)
        if self._buffer[:2] == b"--":
            self._done = True
            return
        line_end = self._buffer.find(b"\n")
        while line_end < 0:
            self._need(len(self._buffer) + 1)
            line_end = self._buffer.find(b"\n")
        del self._buffer[: line_end + 1]

    def _read_headers(self) -> dict[str, str]:
        self._need(2)
        if self._buffer[:2] == b"\r\n":
            del self._buffer[:2]
            return {}
        while (end := self._buffer.find(b"\r\n\r\n")) < 0:
            if len(self._buffer) > _MAX_HEADER_BYTES or not self._fill():
                raise _RequestError("malformed multipart headers", status=400, code=_ERR_CLIENT)
        raw = bytes(self._buffer[:end]).decode("utf-8", "replace")
        del self._buffer[: end + 4]
        headers: dict[str, str] = {}
        for line in raw.split("\r\n"):
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        return headers

    def _content(self) -> Iterator[bytes]:
        keep = len(self._delimiter) - 1
        while True:
            index = self._buffer.find(self._delimiter)
            if index >= 0:
                if index:
                    yield bytes(self._buffer[:index])
                del self._buffer[: index + len(self._delimiter)]
                self._after_boundary()
                return
            if len(self._buffer) > keep:
                cut = len(self._buffer) - keep
                yield bytes(self._buffer[:cut])
                del self._buffer[:cut]
            if not self._fill():
                raise _RequestError("multipart body ended early", status=400, code=_ERR_CLIENT)


def _header_param(value: str, name: str) -> str | None:
    """Extract ``name=...`` from a header value such as Content-Disposition."""
    for piece in value.split(";")[1:]:
        key, sep, raw = piece.strip().partition("=")
        if sep and key.strip().lower() == name:
            raw = raw.strip()
            if len(raw) >= 2 and raw[0] == raw[-1] == '"':
                raw = raw[1:-1]
            return raw
    return None


# --------------------------------------------------------------------------- identity


def _load_identity(path: Path) -> Ed25519PrivateKey:
    """Load (or create) the node's Ed25519 key; 32 raw bytes, mode 0600."""
    if path.is_file():
        return Ed25519PrivateKey.from_private_bytes(path.read_bytes())
    key = Ed25519PrivateKey.generate()
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    atomic_write(path, raw)
    os.chmod(path, 0o600)
    return key


def _libp2p_public_key(key: Ed25519PrivateKey) -> bytes:
    """libp2p ``PublicKey{Type: Ed25519, Data}`` protobuf of ``key``."""
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return b"\x08\x01\x12" + bytes([len(raw)]) + raw


def _peer_id(public_key: bytes) -> str:
    """libp2p peer ID: identity multihash of the public key protobuf, base58btc."""
    from multiformats import multibase

    digest = multihash.wrap(public_key, "identity")
    return multibase.encode(digest, "base58btc")[1:]


# --------------------------------------------------------------------------- server


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _normal_origin(origin: str) -> str:
    return origin.strip().lower().rstrip("/")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], node: IpfsNode) -> None:
        self.node = node
        self._connections: set[socket.socket] = set()
        self._lingering: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def linger(self, request: socket.socket) -> None:
        """Drain ``request`` briefly before closing it (see :meth:`shutdown_request`)."""
        with self._connections_lock:
            self._lingering.add(request)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
            lingering = request in self._lingering
            self._lingering.discard(request)
        if lingering:
            _drain_before_close(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _drain_before_close(request: socket.socket) -> None:
    """Half-close, then read and discard what the client still sends, for a bounded time.

    Closing a socket with unread input makes the kernel answer with a reset, which can
    destroy the error response before the client reads it; a client still uploading a
    refused body would then see only "connection reset". Discarding into one fixed
    buffer costs no memory, and time and bytes are both capped.
    """
    try:
        request.shutdown(socket.SHUT_WR)
    except OSError:
        return
    buffer = bytearray(1 << 16)
    deadline = time.monotonic() + _LINGER_SECONDS
    discarded = 0
    try:
        while discarded < _LINGER_BYTES:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            request.settimeout(remaining)
            count = request.recv_into(buffer)
            if not count:
                break
            discarded += count
    except OSError:
        pass


class _Server6(_Server):
    address_family = socket.AF_INET6


def _flag(params: dict[str, list[str]], name: str, default: bool) -> bool:
    values = params.get(name)
    if not values:
        return default
    value = values[-1].strip().lower()
    if value in ("", "1", "t", "true"):
        return True
    if value in ("0", "f", "false"):
        return False
    raise _RequestError(
        f"invalid boolean for option {name!r}: {values[-1]!r}", status=400, code=_ERR_CLIENT
    )


def _int_option(params: dict[str, list[str]], name: str, default: int | None) -> int | None:
    values = params.get(name)
    if not values or values[-1] == "":
        return default
    try:
        return int(values[-1])
    except ValueError:
        raise _RequestError(
            f"invalid integer for option {name!r}: {values[-1]!r}", status=400, code=_ERR_CLIENT
        ) from None


def _args(params: dict[str, list[str]], *, what: str, required: bool = True) -> list[str]:
    values = params.get("arg", [])
    if required and not values:
        raise _RequestError(f'argument "{what}" is required', status=400, code=_ERR_CLIENT)
    return values


def _cid_arg(value: str) -> CID:
    try:
        return parse_cid(value)
    except InvalidCIDError as exc:
        raise _RequestError(
            f'invalid path "{value}": {exc.reason}', status=400, code=_ERR_CLIENT
        ) from None


def _not_found(cid: str) -> _RequestError:
    return _RequestError(f"block was not found locally (offline): ipld: could not find {cid}")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # small header/body writes must not wait for delayed ACKs
    server_version = f"flai-ipfs/{__version__}"
    timeout = 300
    server: _Server

    # -- plumbing -----------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:
        _log.debug("%s - %s", self.address_string(), format % args)

    def do_POST(self) -> None:
        body: _BodyReader | None = None
        try:
            self._check_origin()
            command, params = self._route()
            body = self._body()
            handler = _COMMANDS.get(command)
            if handler is None:
                body.drain()
                self._send_plain(HTTPStatus.NOT_FOUND, "404 page not found\n")
                return
            handler(self, params, body)
        except _RequestError as exc:
            self._send_error(exc, body)
        except RequestRefusedError as exc:
            _log.warning("refused %s: %s", self.path, exc)
            self._send_error(_RequestError(exc.message, status=exc.status, code=_ERR_CLIENT), body)
        except StorageError as exc:
            self._send_error(self._map_error(exc), body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # noqa: BLE001 - last-resort 500 instead of a dropped socket
            _log.exception("internal error serving %s", self.path)
            self._send_error(_RequestError(f"internal error: {exc}"), body)

    def _method_not_allowed(self) -> None:
        self.close_connection = True
        self._send_plain(HTTPStatus.METHOD_NOT_ALLOWED, "405 - Method Not Allowed\n")

    do_GET = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _method_not_allowed

    def do_HEAD(self) -> None:
        self.close_connection = True
        self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _body(self) -> _BodyReader:
        """The body reader for this request, from its framing headers alone.

        ``Transfer-Encoding: chunked`` is read chunk by chunk up to the node's size limit;
        otherwise ``Content-Length`` must be a plain decimal within the limit. A request
        with neither has an empty body (RFC 9112 §6.3); commands that need one refuse it
        with 411. Ambiguous framing (both headers, repeated differing lengths, other
        transfer codings) is refused: it is how request smuggling starts.
        """
        limit = self.server.node.max_body_size
        codings = [
            c.strip().lower()
            for value in self.headers.get_all("Transfer-Encoding") or []
            for c in value.split(",")
            if c.strip()
        ]
        lengths = [v.strip() for v in self.headers.get_all("Content-Length") or []]
        if codings:
            if codings != ["chunked"]:
                raise BadRequestBodyError(
                    "Transfer-Encoding", ", ".join(codings), "only chunked is supported"
                )
            if lengths:
                raise BadRequestBodyError(
                    "Content-Length", lengths[0], "not allowed with Transfer-Encoding: chunked"
                )
            return _BodyReader(self.rfile, length=None, chunked=True, limit=limit)  # type: ignore[arg-type]
        if not lengths:
            self.close_connection = True  # unframed bytes after the headers are not a request
            return _BodyReader(self.rfile, length=None, chunked=False, limit=limit)  # type: ignore[arg-type]
        if len(set(lengths)) > 1:
            raise BadRequestBodyError("Content-Length", ", ".join(lengths), "repeated, differing")
        value = lengths[0]
        if not value.isascii() or not value.isdigit() or len(value) > 19:
            raise BadRequestBodyError("Content-Length", value, "not a non-negative integer")
        size = int(value)
        if size > limit:
            raise BodyTooLargeError(limit, size)
        return _BodyReader(self.rfile, length=size, chunked=False, limit=limit)  # type: ignore[arg-type]

    def _check_origin(self) -> None:
        """Kubo's CSRF checks: a request naming a web origin (``Origin``, or ``Referer``
        when there is none) must come from the API's own origin, and a browser request
        (``User-Agent: Mozilla...``) must name one."""
        allowed = self.server.node.allowed_origins
        origin = self.headers.get("Origin")
        if origin is not None and _normal_origin(origin) not in allowed:
            raise ForbiddenOriginError("Origin", origin)
        referer = self.headers.get("Referer")
        if referer:
            parts = urlsplit(referer.strip())
            if _normal_origin(f"{parts.scheme}://{parts.netloc}") not in allowed:
                raise ForbiddenOriginError("Referer", referer)
        agent = self.headers.get("User-Agent", "")
        if origin is None and not referer and agent.startswith("Mozilla"):
            raise ForbiddenOriginError("User-Agent", agent)

    def _route(self) -> tuple[str, dict[str, list[str]]]:
        parts = urlsplit(self.path)
        prefix = "/api/v0/"
        if not parts.path.startswith(prefix):
            raise _RequestError("404 page not found", status=404, code=_ERR_CLIENT)
        command = parts.path[len(prefix) :].strip("/")
        return command, parse_qs(parts.query, keep_blank_values=True)

    def _map_error(self, exc: StorageError) -> _RequestError:
        if isinstance(exc, CIDNotFoundError):
            return _not_found(exc.cid)
        if isinstance(exc, NotPinnedError):
            return _RequestError("not pinned or pinned indirectly")
        if isinstance(exc, InvalidCIDError):
            return _RequestError(
                f'invalid path "{exc.value}": {exc.reason}', status=400, code=_ERR_CLIENT
            )
        if isinstance(exc, UnsupportedOptionError):
            return _RequestError(str(exc), status=400, code=_ERR_CLIENT)
        return _RequestError(str(exc))

    def _send_error(self, exc: _RequestError, body: _BodyReader | None = None) -> None:
        # An error can arrive mid-upload with the rest of the body unread: always close,
        # and have the server linger on the socket so the client still gets the answer.
        self.close_connection = True
        if body is None or not body.complete:
            self.server.linger(self.connection)
        if exc.status in (403, 404) and exc.message.startswith(str(exc.status)):
            self._send_plain(exc.status, exc.message + "\n")  # Kubo's plain-text pages
            return
        payload = {"Message": exc.message, "Code": exc.code, "Type": "error"}
        self._send_bytes(exc.status, json.dumps(payload).encode() + b"\n", "application/json")

    def _send_plain(self, status: int, text: str) -> None:
        self._send_bytes(status, text.encode(), "text/plain; charset=utf-8")

    def _send_bytes(
        self, status: int, payload: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)

    def _send_json(self, value: Any) -> None:
        self._send_bytes(HTTPStatus.OK, json.dumps(value).encode() + b"\n", "application/json")

    def _send_ndjson(self, values: list[Any]) -> None:
        payload = b"".join(json.dumps(v).encode() + b"\n" for v in values)
        self._send_bytes(
            HTTPStatus.OK,
            payload,
            "application/json",
            {"X-Chunked-Output": "1", "X-Stream-Output": "1"},
        )

    def _send_ndjson_stream(self, values: list[Any], *, error: str | None = None) -> None:
        """NDJSON as a chunked stream whose ``X-Stream-Error`` trailer carries ``error``
        (how Kubo reports a command that fails after its output has started)."""
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("X-Chunked-Output", "1")
        self.send_header("X-Stream-Output", "1")
        self.send_header("Trailer", "X-Stream-Error")
        self.end_headers()
        payload = b"".join(json.dumps(v).encode() + b"\n" for v in values)
        if payload:
            self._write_chunk(payload)
        trailer = f"X-Stream-Error: {error}\r\n" if error else ""
        self.wfile.write(b"0\r\n" + trailer.encode() + b"\r\n")

    def _send_stream(self, chunks: Iterator[bytes], content_type: str) -> None:
        """Chunked response; the first chunk is produced before the headers are sent so
        that errors about the root turn into proper error responses."""
        first = next(chunks, b"")
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("X-Stream-Output", "1")
        self.send_header("Trailer", "X-Stream-Error")
        self.end_headers()
        try:
            if first:
                self._write_chunk(first)
            for chunk in chunks:
                if chunk:
                    self._write_chunk(chunk)
        except StorageError as exc:
            # Headers are gone: abort the stream without its terminating chunk so the
            # client sees a broken transfer rather than a silently truncated file.
            _log.warning("stream aborted: %s", exc)
            self.close_connection = True
            return
        self.wfile.write(b"0\r\n\r\n")

    def _write_chunk(self, chunk: bytes) -> None:
        self.wfile.write(b"%x\r\n" % len(chunk) + chunk + b"\r\n")

    @property
    def _store(self) -> LocalStore:
        return self.server.node.store

    # -- commands -----------------------------------------------------------------------

    def _cmd_add(self, params: dict[str, list[str]], body: _BodyReader) -> None:
        options = _add_options(params)
        pin = _flag(params, "pin", True)
        only_hash = _flag(params, "only-hash", False)
        progress = _flag(params, "progress", False)
        results: list[dict[str, Any]] = []
        for headers, content in self._multipart(body, "add").parts():
            content_type = headers.get("content-type", "application/octet-stream").lower()
            disposition = headers.get("content-disposition", "")
            name = unquote(_header_param(disposition, "filename") or "")
            if content_type.startswith("application/x-directory"):
                raise _RequestError(
                    "the embedded node adds files only; directories are not supported",
                    status=400,
                    code=_ERR_CLIENT,
                )
            if content_type.startswith("multipart/"):
                raise _RequestError(
                    "nested multipart is not supported", status=400, code=_ERR_CLIENT
                )
            result = self._store.add(content, options=options, pin=pin, only_hash=only_hash)
            label = name or str(result.cid)
            if progress:
                results.append({"Name": label, "Bytes": result.file_size})
            results.append({"Name": label, "Hash": str(result.cid), "Size": str(result.size)})
        self._send_ndjson(results)

    def _cmd_cat(self, params: dict[str, list[str]], body: _BodyReader) -> None:
        body.drain()
        cid = _cid_arg(_args(params, what="ipfs-path")[0])
        offset = _int_option(params, "offset", 0) or 0
        length = _int_option(params, "length", None)
        if offset < 0 or (length is not None and length < 0):
            raise _RequestError(
                "offset and length must be non-negative", status=400, code=_ERR_CLIENT
            )
        self._send_stream(_window(self._store.get_stream(str(cid)), offset, length), "text/plain")

    def _cmd_block_get(self, params: dict[str, list[str]], body: _BodyReader) -> None:
        body.drain()
        cid = _cid_arg(_args(params, what="cid")[0])
        self._send_bytes(HTTPStatus.OK, self._store.get_block(cid), "text/plain")

    def _cmd_block_stat(self, params: dict[str, list[str]], body: _BodyReader) -> None:
        body.drain()
        cid = _cid_arg(_args(params, what="cid")[0])
        if not self._store.blocks.has(cid):
            raise _not_found(str(cid))
        self._send_json({"Key": str(cid), "Size": self._store.block_size(cid)})

    def _cmd_block_put(self, params: dict[str, list[str]], body: _BodyReader) -> None:
        codec, version = _block_format(params)
        mhtype = (params.get("mhtype") or ["sha2-256"])[-1]
        if mhtype != "sha2-256":
            raise UnsupportedOptionError("mhtype", mhtype)
        allow_big = _flag(params, "allow-big-block", False)
        pin = _flag(params, "pin", False)
        results: list[dict[str, Any]] = []
        for _headers, content in self._multipart(body, "block/put").parts():
            data = bytearray()
            for chunk in content:
                data += chunk
                if len(data) > _MAX_BIG_BLOCK_SIZE:
                    raise BodyTooLargeError(_MAX_BIG_BLOCK_SIZE, len(data))
                if len(data) > _MAX_BLOCK_SIZE and not allow_big:
                    raise _RequestError(
                        "produced block is over 1MiB: big blocks can't be exchanged with "
                        "other peers. consider using UnixFS for automatic chunking of bigger "
                        "files, or pass --allow-big-block to override",
                        status=400,
                        code=_ERR_CLIENT,
                    )
            if codec == "dag-pb":
                try:
                    decode_dag_pb(bytes(data))
                except ValueError as exc:
                    raise _RequestError(
                        f"invalid dag-pb block: {exc}", status=400, code=_ERR_CLIENT
                    ) from None
            with self._store.gc_lock.pin_lock():  # no collection between the put and the pin
                cid = self._store.put_block(bytes(data), codec=codec, version=version)
                if pin:
                    self._store.pin(str(cid), recursive=False)
            results.append({"Key": str(cid), "Size": len(data)})
        self._send_ndjson(results)

    def _cmd_pin_add(self, params: dict[str, list[str]], body: _BodyReader) -> None:
        body.drain()
        recursive = _flag(params, "recursive", True)
        cids = [_cid_arg(a) for a in _args(params, what="ipfs-path")]
        for cid in cids:
            self._store.pin(str(cid), recursive=recursive)
        self._send_json({"Pins": [str(c) for c in cids]})

    def _cmd_pin_rm(self, params: dict[str, list[str]], body: _BodyReader) -> None:
        body.drain()
        recursive = _flag(params, "recursive", True)
        cids = [_cid_arg(a) for a in _args(params, what="ipfs-path")]
        for cid in cids:
            self._store.unpin(str(cid), recursive=recursive)
        self._send_json({"Pins": [str(c) for c in cids]})

    def _cmd_pin_ls(self, params: dict[str, list[str]], body: _BodyReader) -> None:
        body.drain()
        kind = (params.get("type") or ["all"])[-1]
        if kind not in ("all", "direct", "indirect", "recursive"):
            raise _RequestError(
                f"invalid type '{kind}', must be one of {{direct, indirect, recursive, all}}",
                status=400,
                code=_ERR_CLIENT,
            )
        pinned = self._store.pin_types()
        keys: dict[str, str] = {}
        args = _args(params, what="ipfs-path", required=False)
        if args:
            for arg in args:
                cid = str(_cid_arg(arg))
                found = pinned.get(cid) or self._indirect_type(cid)
                if found is None or (kind != "all" and not found.startswith(kind)):
                    raise _RequestError(f"path '{arg}' is not pinned")
                keys[cid] = found
        else:
            if kind in ("all", "recursive", "direct"):
                keys.update({c: t for c, t in pinned.items() if kind in ("all", t)})
            if kind in ("all", "indirect"):
                for cid in self._store.indirect_pins():
                    keys.setdefault(cid, "indirect")
        if _flag(params, "stream", False):
            self._send_ndjson([{"Cid": c, "Name": "", "Type": t} for c, t in keys.items()])
        else:
            self._send_json({"Keys": {c: {"Type": t} for c, t in keys.items()}})

    def _indirect_type(self, cid: str) -> str | None:
        root = self._store.pinned_through(cid)
        return None if root is None else f"indirect through {root}"

    def _cmd_repo_gc(self, params: dict[str, list[str]], body: _BodyReader) -> None:
        """Kubo's ``repo gc``: one ``{"Key": {"/": cid}}`` per removed block; problems with
        pinned DAGs are streamed as ``{"Error": ...}`` entries (Kubo's ``--stream-errors``
        shape) and do not stop the collection."""
        body.drain()
        quiet = _flag(params, "quiet", False)
        result = self._store.gc()
        lines: list[dict[str, Any]] = [{"Error": p.describe()} for p in result.problems]
        if not quiet:
            lines.extend({"Key": {"/": Blockstore.key_cid(key)}} for key in result.removed)
        self._send_ndjson(lines)

    def _cmd_repo_verify(self, params: dict[str, list[str]], body: _BodyReader) -> None:
        """Kubo's ``repo verify``: re-hash every block; ``{"Msg", "Progress"}`` objects,
        a message per corrupt block, and the error "verify complete, some blocks were
        corrupt" in the ``X-Stream-Error`` trailer if any was."""
        body.drain()
        result = self._store.verify()
        lines: list[dict[str, Any]] = [
            {"Msg": f"block {p.cid} was corrupt ({p.reason})", "Progress": 0}
            for p in result.corrupt
        ]
        lines.append({"Msg": "", "Progress": result.checked})
        if result.corrupt:
            self._send_ndjson_stream(lines, error="verify complete, some blocks were corrupt")
        else:
            lines.append({"Msg": "verify complete, all blocks validated.", "Progress": 0})
            self._send_ndjson_stream(lines)

    def _cmd_version(self, params: dict[str, list[str]], body: _BodyReader) -> None:
        body.drain()
        self._send_json(
            {
                "Version": __version__,
                "Commit": "flai-embedded",
                "Repo": "flai-localstore-1",
                "System": f"{platform.machine()}/{sys.platform}",
                "Golang": f"none (CPython {platform.python_version()})",
            }
        )

    def _cmd_id(self, params: dict[str, list[str]], body: _BodyReader) -> None:
        body.drain()
        node = self.server.node
        args = _args(params, what="peerid", required=False)
        if args and args[0] != node.peer_id:
            raise _RequestError(f"peer lookup is not available offline: {args[0]}")
        self._send_json(
            {
                "ID": node.peer_id,
                "PublicKey": base64.b64encode(node.public_key).decode("ascii"),
                "Addresses": [],
                "AgentVersion": f"flai-ipfs/{__version__}",
                "ProtocolVersion": "ipfs/0.1.0",
                "Protocols": [],
            }
        )

    def _multipart(self, body: _BodyReader, command: str) -> _MultipartReader:
        if not body.declared:
            raise LengthRequiredError(command)
        content_type = self.headers.get("Content-Type", "")
        if not content_type.lower().startswith("multipart/"):
            raise _RequestError(
                "request Content-Type isn't multipart/form-data", status=400, code=_ERR_CLIENT
            )
        boundary = _header_param(content_type, "boundary")
        if not boundary:
            raise _RequestError("multipart boundary missing", status=400, code=_ERR_CLIENT)
        return _MultipartReader(body, boundary)


_Command = Callable[[_Handler, dict[str, list[str]], _BodyReader], None]

_COMMANDS: dict[str, _Command] = {
    "add": _Handler._cmd_add,
    "cat": _Handler._cmd_cat,
    "block/get": _Handler._cmd_block_get,
    "block/stat": _Handler._cmd_block_stat,
    "block/put": _Handler._cmd_block_put,
    "pin/add": _Handler._cmd_pin_add,
    "pin/ls": _Handler._cmd_pin_ls,
    "pin/rm": _Handler._cmd_pin_rm,
    "repo/gc": _Handler._cmd_repo_gc,
    "repo/verify": _Handler._cmd_repo_verify,
    "version": _Handler._cmd_version,
    "id": _Handler._cmd_id,
}


def _add_options(params: dict[str, list[str]]) -> ImportOptions:
    """Kubo ``add`` options: cid-version defaults to 0; CIDv1 implies raw leaves unless
    ``raw-leaves`` is given explicitly."""
    for name in ("trickle", "inline", "nocopy", "wrap-with-directory", "fscache"):
        if _flag(params, name, False):
            raise UnsupportedOptionError(name, True)
    hash_name = (params.get("hash") or ["sha2-256"])[-1]
    if hash_name != "sha2-256":
        raise UnsupportedOptionError("hash", hash_name)
    chunker = (params.get("chunker") or [f"size-{DEFAULT_CHUNK_SIZE}"])[-1]
    if chunker in ("", "default"):
        chunker = f"size-{DEFAULT_CHUNK_SIZE}"
    kind, _, size = chunker.partition("-")
    if kind != "size" or not size.isdigit():
        raise UnsupportedOptionError("chunker", chunker)
    version = _int_option(params, "cid-version", 0)
    raw_leaves = _flag(params, "raw-leaves", False) if params.get("raw-leaves") else None
    return ImportOptions(cid_version=version or 0, raw_leaves=raw_leaves, chunk_size=int(size))


def _block_format(params: dict[str, list[str]]) -> tuple[str, int]:
    """``block put``'s codec and CID version from ``cid-codec`` / legacy ``format``."""
    codec = (params.get("cid-codec") or [""])[-1]
    legacy = (params.get("format") or [""])[-1]
    if codec and legacy:
        raise _RequestError(
            'unable to use "format" (deprecated) and a custom "cid-codec" at the same time',
            status=400,
            code=_ERR_CLIENT,
        )
    if legacy in ("v0", "protobuf"):
        return "dag-pb", 0
    codec = codec or legacy or "raw"
    if codec not in ("raw", "dag-pb"):
        raise UnsupportedOptionError("cid-codec", codec)
    return codec, 1


def _window(chunks: Iterator[bytes], offset: int, length: int | None) -> Iterator[bytes]:
    position = 0
    end = None if length is None else offset + length
    for chunk in chunks:
        start, stop = position, position + len(chunk)
        position = stop
        if stop <= offset:
            continue
        if end is not None and start >= end:
            break
        lo = max(offset - start, 0)
        hi = len(chunk) if end is None else min(end - start, len(chunk))
        yield chunk[lo:hi]


# --------------------------------------------------------------------------- node


class IpfsNode:
    """An embedded node: a :class:`LocalStore` behind Kubo's RPC API on ``host:port``.

    Parameters
    ----------
    repo
        Repository directory (ignored when ``store`` is given).
    store
        An existing local store to serve.
    host
        Bind address; loopback unless ``allow_remote``.
    port
        TCP port; 0 picks a free one (see :attr:`port` after :meth:`start`).
    allow_remote
        Permit a non-loopback bind (the API is unauthenticated, as Kubo's).
    max_body_size
        Largest request body accepted, in bytes (larger ones get 413 unread).
    allowed_origins
        Web origins allowed besides the API's own (Kubo's
        ``API.HTTPHeaders.Access-Control-Allow-Origin``), e.g. ``"http://localhost:3000"``.
        A request naming any other origin gets 403.

    Raises
    ------
    NodeBindError
        If ``host`` is not a loopback address and ``allow_remote`` is false.
    UnsupportedOptionError
        If ``max_body_size`` is not positive.
    """

    def __init__(
        self,
        *,
        repo: Path | str | None = None,
        store: LocalStore | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        allow_remote: bool = False,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        allowed_origins: Iterable[str] = (),
    ) -> None:
        if not allow_remote and not _is_loopback(host):
            raise NodeBindError(host)
        if isinstance(max_body_size, bool) or not isinstance(max_body_size, int):
            raise UnsupportedOptionError("max-body-size", max_body_size)
        if max_body_size <= 0:
            raise UnsupportedOptionError("max-body-size", max_body_size)
        self.max_body_size = max_body_size
        self._extra_origins = frozenset(_normal_origin(o) for o in allowed_origins)
        if store is None:
            if repo is None:
                raise ValueError("IpfsNode needs a repo directory or a store")
            store = LocalStore(root=repo)
        self._store = store
        self._host = host
        self._requested_port = port
        self.allow_remote = allow_remote
        with store.gc_lock.pin_lock():  # a collection sweeps temporary files in the root
            key = _load_identity(store.root / "identity.ed25519")
        self.public_key = _libp2p_public_key(key)
        self.peer_id = _peer_id(self.public_key)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def store(self) -> LocalStore:
        """The store being served."""
        return self._store

    @property
    def allowed_origins(self) -> frozenset[str]:
        """Origins that may call the API: its own (``http``/``https`` on the loopback
        names and the bind host, at the bound port, as Kubo lists them) and the extra
        ones given."""
        port = self.port
        hosts = {"127.0.0.1", "localhost", "[::1]"}
        bound = self._host.strip("[]").lower()
        if bound not in ("0.0.0.0", "::"):
            hosts.add(f"[{bound}]" if ":" in bound else bound)
        own = {f"{scheme}://{host}:{port}" for scheme in ("http", "https") for host in hosts}
        return frozenset(own) | self._extra_origins

    @property
    def port(self) -> int:
        """The bound TCP port (after :meth:`start`)."""
        if self._server is None:
            raise RuntimeError("node not started")
        return int(self._server.server_address[1])

    @property
    def address(self) -> str:
        """The API multiaddr, e.g. ``/ip4/127.0.0.1/tcp/5001/http``."""
        host = self._host.strip("[]")
        if host.lower() == "localhost":
            proto = "dns"
        else:
            proto = "ip6" if ipaddress.ip_address(host).version == 6 else "ip4"
        return f"/{proto}/{host}/tcp/{self.port}/http"

    @property
    def url(self) -> str:
        """The API base URL, e.g. ``http://127.0.0.1:5001``."""
        host = self._host.strip("[]")
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the server thread is serving."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Self:
        """Bind and serve in a background thread."""
        if self._server is not None:
            raise RuntimeError("node already started")
        host = self._host.strip("[]")
        server_cls = _Server6 if ":" in host else _Server
        self._server = server_cls((host, self._requested_port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"flai-ipfs-{self.port}",
            daemon=True,
        )
        self._thread.start()
        _log.info("RPC API server listening on %s", self.address)
        return self

    def stop(self) -> None:
        """Stop serving, close open connections and release the port."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self if self._server is not None else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _default_repo() -> Path:
    return Path(os.environ.get("FLAI_IPFS_REPO", Path.home() / ".flai" / "ipfs"))


def main(argv: list[str] | None = None) -> int:
    """Run the embedded node until SIGINT/SIGTERM (``flai-ipfs`` / ``python -m``)."""
    parser = argparse.ArgumentParser(
        prog="flai-ipfs", description="Embedded IPFS node speaking a subset of Kubo's RPC API."
    )
    parser.add_argument(
        "--repo",
        type=Path,
        default=None,
        help="repository directory (default: $FLAI_IPFS_REPO or ~/.flai/ipfs)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_API_PORT, help="TCP port (0: any free)")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow binding to a non-loopback address (unauthenticated API!)",
    )
    parser.add_argument(
        "--max-body-size",
        type=int,
        default=DEFAULT_MAX_BODY_SIZE,
        help=f"largest request body in bytes (default {DEFAULT_MAX_BODY_SIZE})",
    )
    parser.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a web origin allowed besides the API's own (repeatable)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()

    try:
        node = IpfsNode(
            repo=args.repo or _default_repo(),
            host=args.host,
            port=args.port,
            allow_remote=args.allow_remote,
            max_body_size=args.max_body_size,
            allowed_origins=args.allow_origin,
        )
        node.start()
    except (NodeBindError, UnsupportedOptionError, OSError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(f"PeerID: {node.peer_id}", flush=True)
        print(f"RPC API server listening on {node.address}", flush=True)
        print("Daemon is ready", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        node.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("Daemon is stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
