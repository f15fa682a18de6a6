"""Framing of the session protocol's messages: session contexts, associated data, shares.

A session is bound to the model version (:func:`session_context`); every query and every
answer carries associated data naming the model and, for answers, the node
(:func:`masked_query_aad`, :func:`masked_logit_aad`), so a message for one model version
or node is never accepted for another. :func:`pack_parts` and :func:`parse_parts` are the
wire form of one node's share components.
"""

from __future__ import annotations

import struct

import numpy as np

from flai.mpc.errors import ProtocolError
from flai.mpc.replicated import NodeShare

__all__ = [
    "masked_logit_aad",
    "masked_query_aad",
    "pack_parts",
    "parse_parts",
    "session_context",
]

_CONTEXT = b"flai/mpc/inference/session/v1"


def session_context(model_id: bytes) -> bytes:
    """The context every session for model version ``model_id`` is bound to."""
    return _CONTEXT + struct.pack(">I", len(model_id)) + model_id


def masked_query_aad(model_id: bytes) -> bytes:
    """Associated data of a masked query for model version ``model_id``."""
    return b"query" + model_id


def masked_logit_aad(model_id: bytes, node: int) -> bytes:
    """Associated data of ``node``'s answer for model version ``model_id``."""
    return b"logit" + struct.pack(">I", node) + model_id


def pack_parts(share: NodeShare) -> bytes:
    """Wire form of one node's share: rows, component count, then each component."""
    rows = share.length
    return struct.pack(">IB", rows, len(share.parts)) + b"".join(
        struct.pack(">B", c) + np.asarray(v, dtype="<u8").tobytes()
        for c, v in sorted(share.parts.items())
    )


def parse_parts(node: int, body: bytes, rows: int | None) -> NodeShare:
    """Inverse of :func:`pack_parts` (``rows`` checked when given); :class:`ProtocolError` if malformed."""
    if len(body) < 5:
        raise ProtocolError(f"malformed share message from node {node}")
    got_rows, n_parts = struct.unpack_from(">IB", body)
    if (rows is not None and got_rows != rows) or len(body) != 5 + n_parts * (1 + 8 * got_rows):
        raise ProtocolError(f"malformed share message from node {node}")
    parts, off = {}, 5
    for _ in range(n_parts):
        c = body[off]
        parts[c] = np.frombuffer(body, dtype="<u8", count=got_rows, offset=off + 1).astype(
            np.uint64
        )
        off += 1 + 8 * got_rows
    return NodeShare(node=node, parts=parts)
