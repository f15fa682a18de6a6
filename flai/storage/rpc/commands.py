"""The commands the embedded node serves, each answering as Kubo's RPC API does.

A command gets the handler (to read headers and write the response), the parsed query
string and the request body; :data:`COMMANDS` maps each ``/api/v0/<path>`` to its function.
"""

from __future__ import annotations

import base64
import platform
import sys
from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from flai import __version__
from flai.storage.blockstore import Blockstore
from flai.storage.dagpb import decode_dag_pb
from flai.storage.errors import BodyTooLargeError, UnsupportedOptionError
from flai.storage.local import LocalStore
from flai.storage.rpc.body import BodyReader, header_param
from flai.storage.rpc.request import (
    ERR_CLIENT,
    Params,
    RequestError,
    arguments,
    cid_arg,
    flag,
    int_option,
    not_found,
)
from flai.storage.unixfs import DEFAULT_CHUNK_SIZE, ImportOptions

if TYPE_CHECKING:
    from flai.storage.rpc.handler import Handler

__all__ = ["COMMANDS", "Command"]

_MAX_BLOCK_SIZE = 1 << 20
_MAX_BIG_BLOCK_SIZE = 64 << 20  # block/put --allow-big-block: still buffered, so bounded


def add(handler: Handler, params: Params, body: BodyReader) -> None:
    options = _add_options(params)
    pin = flag(params, "pin", True)
    only_hash = flag(params, "only-hash", False)
    progress = flag(params, "progress", False)
    results: list[dict[str, Any]] = []
    for headers, content in handler.multipart(body, "add").parts():
        content_type = headers.get("content-type", "application/octet-stream").lower()
        disposition = headers.get("content-disposition", "")
        name = unquote(header_param(disposition, "filename") or "")
        if content_type.startswith("application/x-directory"):
            raise RequestError(
                "the embedded node adds files only; directories are not supported",
                status=400,
                code=ERR_CLIENT,
            )
        if content_type.startswith("multipart/"):
            raise RequestError("nested multipart is not supported", status=400, code=ERR_CLIENT)
        result = handler.store.add(content, options=options, pin=pin, only_hash=only_hash)
        label = name or str(result.cid)
        if progress:
            results.append({"Name": label, "Bytes": result.file_size})
        results.append({"Name": label, "Hash": str(result.cid), "Size": str(result.size)})
    handler.send_ndjson(results)


def cat(handler: Handler, params: Params, body: BodyReader) -> None:
    body.drain()
    cid = cid_arg(arguments(params, what="ipfs-path")[0])
    offset = int_option(params, "offset", 0) or 0
    length = int_option(params, "length", None)
    if offset < 0 or (length is not None and length < 0):
        raise RequestError("offset and length must be non-negative", status=400, code=ERR_CLIENT)
    handler.send_stream(_window(handler.store.get_stream(str(cid)), offset, length), "text/plain")


def block_get(handler: Handler, params: Params, body: BodyReader) -> None:
    body.drain()
    cid = cid_arg(arguments(params, what="cid")[0])
    handler.send_bytes(HTTPStatus.OK, handler.store.get_block(cid), "text/plain")


def block_stat(handler: Handler, params: Params, body: BodyReader) -> None:
    body.drain()
    cid = cid_arg(arguments(params, what="cid")[0])
    if not handler.store.blocks.has(cid):
        raise not_found(str(cid))
    handler.send_json({"Key": str(cid), "Size": handler.store.block_size(cid)})


def block_put(handler: Handler, params: Params, body: BodyReader) -> None:
    codec, version = _block_format(params)
    mhtype = (params.get("mhtype") or ["sha2-256"])[-1]
    if mhtype != "sha2-256":
        raise UnsupportedOptionError("mhtype", mhtype)
    allow_big = flag(params, "allow-big-block", False)
    pin = flag(params, "pin", False)
    results: list[dict[str, Any]] = []
    for _headers, content in handler.multipart(body, "block/put").parts():
        data = bytearray()
        for chunk in content:
            data += chunk
            if len(data) > _MAX_BIG_BLOCK_SIZE:
                raise BodyTooLargeError(_MAX_BIG_BLOCK_SIZE, len(data))
            if len(data) > _MAX_BLOCK_SIZE and not allow_big:
                raise RequestError(
                    "produced block is over 1MiB: big blocks can't be exchanged with "
                    "other peers. consider using UnixFS for automatic chunking of bigger "
                    "files, or pass --allow-big-block to override",
                    status=400,
                    code=ERR_CLIENT,
                )
        if codec == "dag-pb":
            try:
                decode_dag_pb(bytes(data))
            except ValueError as exc:
                raise RequestError(
                    f"invalid dag-pb block: {exc}", status=400, code=ERR_CLIENT
                ) from None
        with handler.store.gc_lock.pin_lock():  # no collection between the put and the pin
            cid = handler.store.put_block(bytes(data), codec=codec, version=version)
            if pin:
                handler.store.pin(str(cid), recursive=False)
        results.append({"Key": str(cid), "Size": len(data)})
    handler.send_ndjson(results)


def pin_add(handler: Handler, params: Params, body: BodyReader) -> None:
    body.drain()
    recursive = flag(params, "recursive", True)
    cids = [cid_arg(a) for a in arguments(params, what="ipfs-path")]
    for cid in cids:
        handler.store.pin(str(cid), recursive=recursive)
    handler.send_json({"Pins": [str(c) for c in cids]})


def pin_rm(handler: Handler, params: Params, body: BodyReader) -> None:
    body.drain()
    recursive = flag(params, "recursive", True)
    cids = [cid_arg(a) for a in arguments(params, what="ipfs-path")]
    for cid in cids:
        handler.store.unpin(str(cid), recursive=recursive)
    handler.send_json({"Pins": [str(c) for c in cids]})


def pin_ls(handler: Handler, params: Params, body: BodyReader) -> None:
    body.drain()
    kind = (params.get("type") or ["all"])[-1]
    if kind not in ("all", "direct", "indirect", "recursive"):
        raise RequestError(
            f"invalid type '{kind}', must be one of {{direct, indirect, recursive, all}}",
            status=400,
            code=ERR_CLIENT,
        )
    pinned = handler.store.pin_types()
    keys: dict[str, str] = {}
    args = arguments(params, what="ipfs-path", required=False)
    if args:
        for arg in args:
            cid = str(cid_arg(arg))
            found = pinned.get(cid) or _indirect_type(handler.store, cid)
            if found is None or (kind != "all" and not found.startswith(kind)):
                raise RequestError(f"path '{arg}' is not pinned")
            keys[cid] = found
    else:
        if kind in ("all", "recursive", "direct"):
            keys.update({c: t for c, t in pinned.items() if kind in ("all", t)})
        if kind in ("all", "indirect"):
            for cid in handler.store.indirect_pins():
                keys.setdefault(cid, "indirect")
    if flag(params, "stream", False):
        handler.send_ndjson([{"Cid": c, "Name": "", "Type": t} for c, t in keys.items()])
    else:
        handler.send_json({"Keys": {c: {"Type": t} for c, t in keys.items()}})


def repo_gc(handler: Handler, params: Params, body: BodyReader) -> None:
    """Kubo's ``repo gc``: one ``{"Key": {"/": cid}}`` per removed block; problems with
    pinned DAGs are streamed as ``{"Error": ...}`` entries (Kubo's ``--stream-errors``
    shape) and do not stop the collection."""
    body.drain()
    quiet = flag(params, "quiet", False)
    result = handler.store.gc()
    lines: list[dict[str, Any]] = [{"Error": p.describe()} for p in result.problems]
    if not quiet:
        lines.extend({"Key": {"/": Blockstore.key_cid(key)}} for key in result.removed)
    handler.send_ndjson(lines)


def repo_verify(handler: Handler, params: Params, body: BodyReader) -> None:
    """Kubo's ``repo verify``: re-hash every block; ``{"Msg", "Progress"}`` objects,
    a message per corrupt block, and the error "verify complete, some blocks were
    corrupt" in the ``X-Stream-Error`` trailer if any was."""
    body.drain()
    result = handler.store.verify()
    lines: list[dict[str, Any]] = [
        {"Msg": f"block {p.cid} was corrupt ({p.reason})", "Progress": 0} for p in result.corrupt
    ]
    lines.append({"Msg": "", "Progress": result.checked})
    if result.corrupt:
        handler.send_ndjson_stream(lines, error="verify complete, some blocks were corrupt")
    else:
        lines.append({"Msg": "verify complete, all blocks validated.", "Progress": 0})
        handler.send_ndjson_stream(lines)


def version(handler: Handler, params: Params, body: BodyReader) -> None:
    body.drain()
    handler.send_json(
        {
            "Version": __version__,
            "Commit": "flai-embedded",
            "Repo": "flai-localstore-1",
            "System": f"{platform.machine()}/{sys.platform}",
            "Golang": f"none (CPython {platform.python_version()})",
        }
    )


def identify(handler: Handler, params: Params, body: BodyReader) -> None:
    body.drain()
    node = handler.server.node
    args = arguments(params, what="peerid", required=False)
    if args and args[0] != node.peer_id:
        raise RequestError(f"peer lookup is not available offline: {args[0]}")
    handler.send_json(
        {
            "ID": node.peer_id,
            "PublicKey": base64.b64encode(node.public_key).decode("ascii"),
            "Addresses": [],
            "AgentVersion": f"flai-ipfs/{__version__}",
            "ProtocolVersion": "ipfs/0.1.0",
            "Protocols": [],
        }
    )


def _indirect_type(store: LocalStore, cid: str) -> str | None:
    root = store.pinned_through(cid)
    return None if root is None else f"indirect through {root}"


def _add_options(params: Params) -> ImportOptions:
    """Kubo ``add`` options: cid-version defaults to 0; CIDv1 implies raw leaves unless
    ``raw-leaves`` is given explicitly."""
    for name in ("trickle", "inline", "nocopy", "wrap-with-directory", "fscache"):
        if flag(params, name, False):
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
    version = int_option(params, "cid-version", 0)
    raw_leaves = flag(params, "raw-leaves", False) if params.get("raw-leaves") else None
    return ImportOptions(cid_version=version or 0, raw_leaves=raw_leaves, chunk_size=int(size))


def _block_format(params: Params) -> tuple[str, int]:
    """``block put``'s codec and CID version from ``cid-codec`` / legacy ``format``."""
    codec = (params.get("cid-codec") or [""])[-1]
    legacy = (params.get("format") or [""])[-1]
    if codec and legacy:
        raise RequestError(
            'unable to use "format" (deprecated) and a custom "cid-codec" at the same time',
            status=400,
            code=ERR_CLIENT,
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


Command = Callable[["Handler", Params, BodyReader], None]
"""A command: the handler, the parsed query string and the request body."""

COMMANDS: dict[str, Command] = {
    "add": add,
    "cat": cat,
    "block/get": block_get,
    "block/stat": block_stat,
    "block/put": block_put,
    "pin/add": pin_add,
    "pin/ls": pin_ls,
    "pin/rm": pin_rm,
    "repo/gc": repo_gc,
    "repo/verify": repo_verify,
    "version": version,
    "id": identify,
}
