"""A compute node of the session protocol: model share, mask store and sessions.

Offline, the node turns its share of b' into a share of δ = θ − b' (opened once per
model) and each dealt mask batch into one share of r_k·θ = δ·r_k + r_k·b' per mask.
Online, it answers a user's masked query ε = x̃ − r with [z̃] = ε·[θ] + [r·θ], with no
interaction with the other nodes, over the user's session (:mod:`flai.mpc.session`).
A mask id is spent once and only by the user it was issued to.
"""

from __future__ import annotations

import bisect
import struct
from dataclasses import dataclass

import numpy as np

from flai.mpc.envelope import KeyPair
from flai.mpc.errors import ProtocolError, ReplayError
from flai.mpc.inference.masks import NodeMasks
from flai.mpc.inference.params import InferenceConfig, ModelPart
from flai.mpc.inference.wire import (
    masked_logit_aad,
    masked_query_aad,
    pack_parts,
    parse_parts,
    session_context,
)
from flai.mpc.replicated import NodeShare
from flai.mpc.session import SecureChannel

__all__ = [
    "MaskedInferenceNode",
]


@dataclass
class _MaskBatch:
    user: bytes
    first: int
    values: dict[int, np.ndarray]  # component -> share of r_k·θ per mask
    used: np.ndarray


class MaskedInferenceNode:
    """A compute node of the session protocol: model share, mask store and sessions.

    Parameters
    ----------
    index
        The node's index in ``range(n)``.
    config
        Sharing parameters.
    model
        This node's :class:`ModelPart`.
    keypair
        The node's static X25519 key (users open sessions to its public key).
    model_id
        Public identifier of the model version, bound into every session and message so
        a query for one version is never evaluated against another.
    """

    def __init__(
        self,
        *,
        index: int,
        config: InferenceConfig,
        model: ModelPart,
        keypair: KeyPair,
        model_id: bytes = b"",
    ) -> None:
        if model.node != index:
            raise ProtocolError(f"model share of node {model.node} given to node {index}")
        self.index = index
        self.config = config
        self.model_id = model_id
        self._scheme = config.scheme
        self._model = model
        self._theta = {
            c: np.ascontiguousarray(v, dtype=np.uint64) for c, v in model.params.parts.items()
        }
        self._length = model.params.length
        self._keypair = keypair
        self._delta: np.ndarray | None = None
        self._sessions: dict[bytes, SecureChannel] = {}
        self._batches: dict[int, _MaskBatch] = {}
        self._firsts: list[int] = []
        self._query_aad = masked_query_aad(model_id)
        self._logit_aad = masked_logit_aad(model_id, index)

    @property
    def public_key(self) -> bytes:
        """The node's static X25519 public key."""
        return self._keypair.public_bytes

    @property
    def weight_scale(self) -> float:
        """The model's public scale."""
        return self._model.weight_scale

    # ------------------------------------------------------------------ offline
    def offset(self, b_share: NodeShare) -> NodeShare:
        """This node's share of δ = θ − b' (to be opened among the nodes once per model)."""
        if b_share.node != self.index or b_share.length != self._length:
            raise ProtocolError(f"offset share for node {b_share.node} given to node {self.index}")
        return NodeShare(
            node=self.index, parts={c: self._theta[c] - b_share.parts[c] for c in self._theta}
        )

    def set_offset(self, delta: np.ndarray) -> None:
        """Store the opened δ = θ − b'."""
        d = np.asarray(delta, dtype=np.uint64).reshape(-1)
        if d.shape[0] != self._length:
            raise ProtocolError(f"offset of length {d.shape[0]} for a model of {self._length}")
        self._delta = d

    def add_masks(self, masks: NodeMasks) -> None:
        """Store a mask batch as one share of r_k·θ = δ·r_k + r_k·b' per mask.

        Raises
        ------
        ProtocolError
            No δ yet, a share for another node, or mask ids dealt twice.
        """
        if self._delta is None:
            raise ProtocolError(f"node {self.index} has no model offset; open δ first")
        if masks.r.node != self.index or masks.rb.node != self.index:
            raise ProtocolError(f"mask shares for node {masks.r.node} given to node {self.index}")
        if masks.r.length != masks.count * self._length or masks.rb.length != masks.count:
            raise ProtocolError("mask batch has the wrong size for this model")
        pos = bisect.bisect_right(self._firsts, masks.first)
        previous = self._batches.get(self._firsts[pos - 1]) if pos else None
        following = self._firsts[pos] if pos < len(self._firsts) else None
        if (previous is not None and previous.first + len(previous.used) > masks.first) or (
            following is not None and following < masks.first + masks.count
        ):
            raise ReplayError(what="input mask", counter=masks.first)
        values = {
            c: masks.r.parts[c].reshape(masks.count, self._length) @ self._delta + masks.rb.parts[c]
            for c in self._theta
        }
        self._batches[masks.first] = _MaskBatch(
            user=masks.user, first=masks.first, values=values, used=np.zeros(masks.count, bool)
        )
        self._firsts.insert(pos, masks.first)

    @property
    def masks_left(self) -> int:
        """Unspent masks in this node's store."""
        return int(sum(len(b.used) - int(b.used.sum()) for b in self._batches.values()))

    # ------------------------------------------------------------------- online
    def accept(self, hello: bytes) -> bytes:
        """Accept a user's session; return its id.

        Raises
        ------
        EnvelopeError
            A hello that does not authenticate (wrong node key or model, forged).
        """
        channel = SecureChannel.accept(
            hello, own=self._keypair, context=session_context(self.model_id)
        )
        self._sessions[channel.session_id] = channel
        return channel.session_id

    def _take_masks(self, user: bytes, first: int, rows: int) -> tuple[_MaskBatch, slice]:
        pos = bisect.bisect_right(self._firsts, first)
        batch = self._batches.get(self._firsts[pos - 1]) if pos else None
        if batch is None or first + rows > batch.first + len(batch.used):
            raise ProtocolError(f"node {self.index} has no masks {first}..{first + rows - 1}")
        if batch.user != user:
            raise ProtocolError(f"masks {first}.. were issued to another user")
        window = slice(first - batch.first, first - batch.first + rows)
        if batch.used[window].any():
            raise ReplayError(what="input mask", counter=first)
        batch.used[window] = True
        return batch, window

    def _shares_of(self, message: bytes) -> tuple[SecureChannel, int, dict[int, np.ndarray]]:
        sid = SecureChannel.session_of(message)
        channel = self._sessions.get(sid)
        if channel is None:
            raise ProtocolError(f"node {self.index} has no session {sid.hex()}")
        counter, body = channel.open(message, aad=self._query_aad)
        if len(body) < 16:
            raise ProtocolError("malformed masked query")
        first, rows, width = struct.unpack_from(">QII", body)
        if width != self._length or len(body) != 16 + 8 * rows * width or rows == 0:
            raise ProtocolError(f"query of {rows}x{width} for a model of {self._length} parameters")
        eps = np.frombuffer(body, dtype="<u8", offset=16).reshape(rows, width)
        batch, window = self._take_masks(channel.peer_public, first, rows)
        out = {c: eps @ theta + batch.values[c][window] for c, theta in self._theta.items()}
        return channel, counter, out

    def evaluate(self, message: bytes) -> bytes:
        """Answer a sealed query: this node's shares of z̃ = x̃·Θ, sealed over the session.

        Raises
        ------
        EnvelopeError
            A message that does not authenticate for its session and this model.
        ReplayError
            A session counter or a mask id seen before.
        ProtocolError
            An unknown session, a query of the wrong width, or masks not issued to the
            session's user.
        """
        channel, counter, parts = self._shares_of(message)
        body = pack_parts(NodeShare(node=self.index, parts=parts))
        return channel.seal(body, counter=counter, aad=self._logit_aad)

    def evaluate_shared(self, message: bytes) -> tuple[bytes, int, NodeShare]:
        """Evaluate a sealed query and keep the result shared (e.g. logits of a holdout).

        Returns
        -------
        tuple
            ``(session id, counter, this node's share of z̃ per row)``; the scale of z̃ is
            ``weight_scale · 2^f``.
        """
        channel, counter, parts = self._shares_of(message)
        return channel.session_id, counter, NodeShare(node=self.index, parts=parts)

    def receive_shares(self, message: bytes) -> tuple[bytes, int, NodeShare]:
        """Open a vector a user shared with :meth:`~flai.mpc.inference.user.InferenceUser.share_values`.

        Returns
        -------
        tuple
            ``(session id, counter, this node's share)``.
        """
        sid = SecureChannel.session_of(message)
        channel = self.session(sid)
        counter, body = channel.open(message, aad=b"shares" + self.model_id)
        return sid, counter, parse_parts(self.index, body, None)

    def reply(self, session_id: bytes, share: NodeShare, *, counter: int) -> bytes:
        """Seal this node's share of a result to the session's user (message ``counter``)."""
        return self.session(session_id).seal(
            pack_parts(share), counter=counter, aad=b"result" + self._logit_aad
        )

    def session(self, session_id: bytes) -> SecureChannel:
        """The channel of an accepted session (to seal other results to its user)."""
        if session_id not in self._sessions:
            raise ProtocolError(f"node {self.index} has no session {session_id.hex()}")
        return self._sessions[session_id]
