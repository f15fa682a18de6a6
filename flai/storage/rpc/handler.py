"""The HTTP side of the embedded node's RPC API: routing, framing, origin checks, responses.

Every request is a ``POST /api/v0/<command>``; the handler checks its origin, frames its
body (see :mod:`flai.storage.rpc.body`), runs the command
(:data:`flai.storage.rpc.commands.COMMANDS`) and turns failures into Kubo's error objects
or plain-text pages.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from flai import __version__
from flai.storage.errors import (
    BadRequestBodyError,
    BodyTooLargeError,
    CIDNotFoundError,
    ForbiddenOriginError,
    InvalidCIDError,
    LengthRequiredError,
    NotPinnedError,
    RequestRefusedError,
    StorageError,
    UnsupportedOptionError,
)
from flai.storage.local import LocalStore
from flai.storage.rpc.body import BodyReader, MultipartReader, header_param
from flai.storage.rpc.commands import COMMANDS
from flai.storage.rpc.request import ERR_CLIENT, Params, RequestError, not_found

if TYPE_CHECKING:
    from flai.storage.rpc.server import Server

__all__ = ["Handler", "normal_origin"]

_log = logging.getLogger(__name__)


def normal_origin(origin: str) -> str:
    """An origin as the node compares them: trimmed, lower case, no trailing slash."""
    return origin.strip().lower().rstrip("/")


class Handler(BaseHTTPRequestHandler):
    """One connection of the RPC API; commands answer through its ``send_*`` methods."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # small header/body writes must not wait for delayed ACKs
    server_version = f"flai-ipfs/{__version__}"
    timeout = 300
    server: Server

    def log_message(self, format: str, *args: Any) -> None:
        _log.debug("%s - %s", self.address_string(), format % args)

    def do_POST(self) -> None:
        body: BodyReader | None = None
        try:
            self._check_origin()
            command, params = self._route()
            body = self._body()
            handler = COMMANDS.get(command)
            if handler is None:
                body.drain()
                self._send_plain(HTTPStatus.NOT_FOUND, "404 page not found\n")
                return
            handler(self, params, body)
        except RequestError as exc:
            self._send_error(exc, body)
        except RequestRefusedError as exc:
            _log.warning("refused %s: %s", self.path, exc)
            self._send_error(RequestError(exc.message, status=exc.status, code=ERR_CLIENT), body)
        except StorageError as exc:
            self._send_error(self._map_error(exc), body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # noqa: BLE001 - last-resort 500 instead of a dropped socket
            _log.exception("internal error serving %s", self.path)
            self._send_error(RequestError(f"internal error: {exc}"), body)

    def _method_not_allowed(self) -> None:
        self.close_connection = True
        self._send_plain(HTTPStatus.METHOD_NOT_ALLOWED, "405 - Method Not Allowed\n")

    do_GET = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _method_not_allowed

    def do_HEAD(self) -> None:
        self.close_connection = True
        self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _body(self) -> BodyReader:
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
            return BodyReader(self.rfile, length=None, chunked=True, limit=limit)  # type: ignore[arg-type]
        if not lengths:
            self.close_connection = True  # unframed bytes after the headers are not a request
            return BodyReader(self.rfile, length=None, chunked=False, limit=limit)  # type: ignore[arg-type]
        if len(set(lengths)) > 1:
            raise BadRequestBodyError("Content-Length", ", ".join(lengths), "repeated, differing")
        value = lengths[0]
        if not value.isascii() or not value.isdigit() or len(value) > 19:
            raise BadRequestBodyError("Content-Length", value, "not a non-negative integer")
        size = int(value)
        if size > limit:
            raise BodyTooLargeError(limit, size)
        return BodyReader(self.rfile, length=size, chunked=False, limit=limit)  # type: ignore[arg-type]

    def _check_origin(self) -> None:
        """Kubo's CSRF checks: a request naming a web origin (``Origin``, or ``Referer``
        when there is none) must come from the API's own origin, and a browser request
        (``User-Agent: Mozilla...``) must name one."""
        allowed = self.server.node.allowed_origins
        origin = self.headers.get("Origin")
        if origin is not None and normal_origin(origin) not in allowed:
            raise ForbiddenOriginError("Origin", origin)
        referer = self.headers.get("Referer")
        if referer:
            parts = urlsplit(referer.strip())
            if normal_origin(f"{parts.scheme}://{parts.netloc}") not in allowed:
                raise ForbiddenOriginError("Referer", referer)
        agent = self.headers.get("User-Agent", "")
        if origin is None and not referer and agent.startswith("Mozilla"):
            raise ForbiddenOriginError("User-Agent", agent)

    def _route(self) -> tuple[str, Params]:
        parts = urlsplit(self.path)
        prefix = "/api/v0/"
        if not parts.path.startswith(prefix):
            raise RequestError("404 page not found", status=404, code=ERR_CLIENT)
        command = parts.path[len(prefix) :].strip("/")
        return command, parse_qs(parts.query, keep_blank_values=True)

    def _map_error(self, exc: StorageError) -> RequestError:
        if isinstance(exc, CIDNotFoundError):
            return not_found(exc.cid)
        if isinstance(exc, NotPinnedError):
            return RequestError("not pinned or pinned indirectly")
        if isinstance(exc, InvalidCIDError):
            return RequestError(
                f'invalid path "{exc.value}": {exc.reason}', status=400, code=ERR_CLIENT
            )
        if isinstance(exc, UnsupportedOptionError):
            return RequestError(str(exc), status=400, code=ERR_CLIENT)
        return RequestError(str(exc))

    def _send_error(self, exc: RequestError, body: BodyReader | None = None) -> None:
        # An error can arrive mid-upload with the rest of the body unread: always close,
        # and have the server linger on the socket so the client still gets the answer.
        self.close_connection = True
        if body is None or not body.complete:
            self.server.linger(self.connection)
        if exc.status in (403, 404) and exc.message.startswith(str(exc.status)):
            self._send_plain(exc.status, exc.message + "\n")  # Kubo's plain-text pages
            return
        payload = {"Message": exc.message, "Code": exc.code, "Type": "error"}
        self.send_bytes(exc.status, json.dumps(payload).encode() + b"\n", "application/json")

    def _send_plain(self, status: int, text: str) -> None:
        self.send_bytes(status, text.encode(), "text/plain; charset=utf-8")

    def send_bytes(
        self, status: int, payload: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        """A complete response of ``payload`` bytes."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)

    def send_json(self, value: Any) -> None:
        """``value`` as one JSON object."""
        self.send_bytes(HTTPStatus.OK, json.dumps(value).encode() + b"\n", "application/json")

    def send_ndjson(self, values: list[Any]) -> None:
        """``values`` as newline-delimited JSON, marked as Kubo's streamed output."""
        payload = b"".join(json.dumps(v).encode() + b"\n" for v in values)
        self.send_bytes(
            HTTPStatus.OK,
            payload,
            "application/json",
            {"X-Chunked-Output": "1", "X-Stream-Output": "1"},
        )

    def send_ndjson_stream(self, values: list[Any], *, error: str | None = None) -> None:
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

    def send_stream(self, chunks: Iterator[bytes], content_type: str) -> None:
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
    def store(self) -> LocalStore:
        """The store the node serves."""
        return self.server.node.store

    def multipart(self, body: BodyReader, command: str) -> MultipartReader:
        """The parts of this request's ``multipart/form-data`` body (for ``command``)."""
        if not body.declared:
            raise LengthRequiredError(command)
        content_type = self.headers.get("Content-Type", "")
        if not content_type.lower().startswith("multipart/"):
            raise RequestError(
                "request Content-Type isn't multipart/form-data", status=400, code=ERR_CLIENT
            )
        boundary = header_param(content_type, "boundary")
        if not boundary:
            raise RequestError("multipart boundary missing", status=400, code=ERR_CLIENT)
        return MultipartReader(body, boundary)
