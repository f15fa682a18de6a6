"""Request bodies: ``Content-Length`` or chunked framing, and streaming multipart parts.

Nothing here buffers a whole body: a :class:`BodyReader` never reads past its body and
stops a chunked one at the node's size limit, and a :class:`MultipartReader` hands out
each part's content as it arrives.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from flai.storage.errors import BadRequestBodyError, BodyTooLargeError
from flai.storage.rpc.request import ERR_CLIENT, RequestError

__all__ = ["BodyReader", "MultipartReader", "header_param"]

_READ_SIZE = 1 << 18
_MAX_HEADER_BYTES = 16 * 1024
_MAX_CHUNK_LINE = 1024
_MAX_TRAILERS = 64
_HEX_DIGITS = b"0123456789abcdefABCDEF"


class BodyReader:
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
            raise RequestError("request body ended early", status=400, code=ERR_CLIENT)
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


class MultipartReader:
    """Streaming ``multipart/form-data`` parser: parts are read in order, never buffered."""

    def __init__(self, body: BodyReader, boundary: str) -> None:
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
                raise RequestError("multipart body ended early", status=400, code=ERR_CLIENT)

    def _skip_preamble(self) -> None:
        while True:
            index = self._buffer.find(self._boundary)
            if index >= 0:
                del self._buffer[: index + len(self._boundary)]
                self._after_boundary()
                return
            if len(self._buffer) > _MAX_HEADER_BYTES or not self._fill():
                raise RequestError("multipart boundary not found", status=400, code=ERR_CLIENT)

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
                raise RequestError("malformed multipart headers", status=400, code=ERR_CLIENT)
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
                raise RequestError("multipart body ended early", status=400, code=ERR_CLIENT)


def header_param(value: str, name: str) -> str | None:
    """Extract ``name=...`` from a header value such as Content-Disposition."""
    for piece in value.split(";")[1:]:
        key, sep, raw = piece.strip().partition("=")
        if sep and key.strip().lower() == name:
            raw = raw.strip()
            if len(raw) >= 2 and raw[0] == raw[-1] == '"':
                raw = raw[1:-1]
            return raw
    return None
