"""The session protocol's correlated randomness: input masks from a trusted dealer.

Once per model the :class:`MaskDealer` deals [b'] for a uniform b' (the nodes open
δ = θ − b', :func:`~flai.mpc.inference.deployment.open_offsets`). Offline, per query slot,
it draws a mask r (length d + 1), gives r to one user (:class:`UserMasks`) and deals [r]
and [r·b'] to the nodes (:class:`NodeMasks`), bound to that user and to a single-use mask
id. The dealer must not collude with any node (see :mod:`flai.mpc.inference`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from flai.mpc.errors import ProtocolError
from flai.mpc.inference.params import InferenceConfig
from flai.mpc.prg import random_words
from flai.mpc.replicated import NodeShare

__all__ = [
    "MaskDealer",
    "NodeMasks",
    "UserMasks",
]

_MASK_FORMAT = b"flai/mpc/inference/masks/v1"


@dataclass(frozen=True)
class UserMasks:
    """Input masks issued to one user: row k is the mask of mask id ``first + k``.

    Attributes
    ----------
    user
        The user's static X25519 public key (only its sessions may spend these masks).
    first
        Mask id of the first row.
    masks
        ``uint64`` array of shape (count, d + 1).
    """

    user: bytes
    first: int
    masks: np.ndarray

    @property
    def count(self) -> int:
        """Number of masks."""
        return int(self.masks.shape[0])

    def to_bytes(self) -> bytes:
        """Wire form (secret: send it sealed to the user, e.g. with :func:`~flai.mpc.envelope.seal`)."""
        rows, width = self.masks.shape
        return (
            _MASK_FORMAT
            + self.user
            + struct.pack(">QII", self.first, rows, width)
            + np.ascontiguousarray(self.masks, dtype="<u8").tobytes()
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> UserMasks:
        """Inverse of :meth:`to_bytes`; raise :class:`ProtocolError` on a malformed blob."""
        head = len(_MASK_FORMAT) + 32 + 16
        if len(data) < head or not data.startswith(_MASK_FORMAT):
            raise ProtocolError("not a FLAI mask blob")
        user = data[len(_MASK_FORMAT) : len(_MASK_FORMAT) + 32]
        first, rows, width = struct.unpack_from(">QII", data, len(_MASK_FORMAT) + 32)
        if len(data) != head + 8 * rows * width:
            raise ProtocolError(f"mask blob of {rows}x{width} masks has {len(data)} bytes")
        masks = np.frombuffer(data, dtype="<u8", offset=head).reshape(rows, width)
        return cls(user=user, first=first, masks=masks.astype(np.uint64))


@dataclass(frozen=True)
class NodeMasks:
    """One node's part of an issued mask batch.

    Attributes
    ----------
    user, first, count
        As in :class:`UserMasks`.
    r
        This node's shares of the masks, flattened row by row (count · (d + 1)).
    rb
        This node's shares of r_k · b' for each mask (count).
    """

    user: bytes
    first: int
    count: int
    r: NodeShare
    rb: NodeShare


class MaskDealer:
    """Trusted dealer of the session protocol's correlated randomness for one model.

    It keeps b' for the model's lifetime and must not collude with any node (see the
    trust assumptions of :mod:`flai.mpc.inference`).

    Parameters
    ----------
    config
        Sharing parameters.
    length
        d + 1, the model's parameter count.
    """

    def __init__(self, *, config: InferenceConfig, length: int) -> None:
        if length < 2:
            raise ProtocolError(f"a model has at least one feature and an intercept, got {length}")
        self._scheme = config.scheme
        self.length = length
        self._b = random_words(length)
        self._next = 0

    def offsets(self) -> dict[int, NodeShare]:
        """Every node's share of b' (dealt once per model; see :meth:`~flai.mpc.inference.node.MaskedInferenceNode.offset`)."""
        return self._scheme.share(self._b)

    def issue(self, *, user: bytes, count: int) -> tuple[UserMasks, dict[int, NodeMasks]]:
        """Draw ``count`` fresh masks for ``user``: its clear masks and each node's part."""
        if count < 1:
            raise ProtocolError(f"mask count must be positive, got {count}")
        if len(user) != 32:
            raise ProtocolError(f"user key must be 32 bytes, got {len(user)}")
        r = random_words(count * self.length).reshape(count, self.length)
        rb = (r * self._b).sum(axis=1, dtype=np.uint64)
        shares_r, shares_rb = self._scheme.share(r.reshape(-1)), self._scheme.share(rb)
        first, self._next = self._next, self._next + count
        nodes = {
            j: NodeMasks(user=user, first=first, count=count, r=shares_r[j], rb=shares_rb[j])
            for j in range(self._scheme.n_nodes)
        }
        return UserMasks(user=user, first=first, masks=r), nodes
