"""A model user of the session protocol: sessions, masks, queries and reconstruction.

The user opens one session per node (:mod:`flai.mpc.session`), keeps the masks the dealer
issued to it, encodes x̃ = (x, 1) at f fractional bits, sends ε = x̃ − r to every node and
reconstructs z̃ = x̃·θ from any t + 1 answers, dividing by the public scale. The sigmoid
is applied by the user.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping

import numpy as np

from flai.mpc.envelope import KeyPair
from flai.mpc.errors import EncodingRangeError, ProtocolError
from flai.mpc.inference.masks import UserMasks
from flai.mpc.inference.params import InferenceConfig, worst_case_logit_bound
from flai.mpc.inference.wire import (
    masked_logit_aad,
    masked_query_aad,
    pack_parts,
    parse_parts,
    session_context,
)
from flai.mpc.session import SecureChannel

__all__ = [
    "InferenceUser",
]


class InferenceUser:
    """A model user of the session protocol.

    Parameters
    ----------
    config
        Sharing parameters (x is encoded at f fractional bits within ``max_abs``).
    keypair
        The user's static X25519 key: its identity towards the nodes and the key the
        dealer seals its masks to.
    node_public_keys
        Node index → the node's static X25519 public key.
    weight_scale, num_features
        The model's public scale and d (from the model version's public description).
    model_id
        Public identifier of the model version (as given to the nodes).
    """

    def __init__(
        self,
        *,
        config: InferenceConfig,
        keypair: KeyPair,
        node_public_keys: Mapping[int, bytes],
        weight_scale: float,
        num_features: int,
        model_id: bytes = b"",
    ) -> None:
        if set(node_public_keys) != set(range(config.n_nodes)):
            raise ProtocolError(f"need public keys for nodes 0..{config.n_nodes - 1}")
        self.config = config
        self.model_id = model_id
        self.weight_scale = float(weight_scale)
        self.num_features = num_features
        self._scheme = config.scheme
        self._codec = config.fixed_point
        self._keypair = keypair
        self._keys = dict(node_public_keys)
        self._channels: dict[int, SecureChannel] = {}
        self._batches: list[UserMasks] = []
        self._cursor = 0  # rows of the first batch already spent
        self._next_query = 0
        self._pending: dict[int, int] = {}
        self._query_aad = masked_query_aad(model_id)
        self._bound = worst_case_logit_bound(weight_scale=self.weight_scale, config=config)
        self._one = np.uint64(1 << config.frac_bits)

    @property
    def public_key(self) -> bytes:
        """The user's static X25519 public key."""
        return self._keypair.public_bytes

    def connect(self, nodes: Iterable[int] | None = None) -> dict[int, bytes]:
        """Open a session to each node; return the hello to send to each."""
        hellos = {}
        for j in range(self.config.n_nodes) if nodes is None else nodes:
            channel, hello = SecureChannel.initiate(
                own=self._keypair,
                peer_public=self._keys[j],
                context=session_context(self.model_id),
            )
            self._channels[j] = channel
            hellos[j] = hello.to_bytes()
        return hellos

    def channel(self, node: int) -> SecureChannel:
        """The session with ``node`` (e.g. to save it with :meth:`SecureChannel.to_bytes`)."""
        if node not in self._channels:
            raise ProtocolError(f"no session with node {node}; call connect first")
        return self._channels[node]

    def add_masks(self, masks: UserMasks) -> None:
        """Keep masks issued to this user (in the order they are spent)."""
        if masks.user != self.public_key:
            raise ProtocolError("masks were issued to another user")
        if masks.masks.shape[1] != self.num_features + 1:
            raise ProtocolError(
                f"masks of width {masks.masks.shape[1]} for d = {self.num_features}"
            )
        self._batches.append(masks)

    @property
    def masks_left(self) -> int:
        """Unspent masks."""
        return sum(b.count for b in self._batches) - self._cursor

    def _take(self, rows: int) -> tuple[int, np.ndarray]:
        while self._batches and self._cursor >= self._batches[0].count:
            self._batches.pop(0)
            self._cursor = 0
        if not self._batches or self._batches[0].count - self._cursor < rows:
            raise ProtocolError(f"need {rows} unspent masks in one batch; ask the dealer for more")
        batch = self._batches[0]
        r = batch.masks[self._cursor : self._cursor + rows]
        first = batch.first + self._cursor
        self._cursor += rows
        return first, r

    def query(
        self, x: np.ndarray, *, nodes: Iterable[int] | None = None
    ) -> tuple[int, dict[int, bytes]]:
        """Encode, mask and seal a query (one row, or a batch of rows) for each node.

        Returns
        -------
        tuple
            ``(query id, node → sealed message)``; pass the nodes' answers to :meth:`logits`.

        Raises
        ------
        EncodingRangeError
            A feature beyond ``max_abs`` or not finite.
        ProtocolError
            A wrong number of features, no session, or too few masks left.
        """
        rows_x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        rows, d = rows_x.shape
        if d != self.num_features:
            raise ProtocolError(f"query has {d} features, the model {self.num_features}")
        targets = list(range(self.config.n_nodes) if nodes is None else nodes)
        missing = [j for j in targets if j not in self._channels]
        if missing:
            raise ProtocolError(f"no session with nodes {missing}; call connect first")
        encoded = np.empty((rows, d + 1), dtype=np.uint64)
        encoded[:, :d] = self._codec.encode(rows_x)
        encoded[:, d] = self._one
        first, r = self._take(rows)
        body = struct.pack(">QII", first, rows, d + 1) + (encoded - r).astype("<u8").tobytes()
        query_id = self._next_query
        self._next_query += 1
        self._pending[query_id] = rows
        sealed = {
            j: self._channels[j].seal(body, counter=query_id, aad=self._query_aad) for j in targets
        }
        return query_id, sealed

    def logits(self, query_id: int, responses: Mapping[int, bytes]) -> np.ndarray:
        """Open the nodes' answers to query ``query_id`` and reconstruct z per row.

        Raises
        ------
        EnvelopeError
            An answer that does not authenticate (another node, query or model).
        ThresholdError
            Answers from fewer than t + 1 nodes.
        ShareMismatchError
            Two nodes returned different copies of one component.
        EncodingRangeError
            A logit beyond what an in-range model and query can produce.
        """
        if query_id not in self._pending:
            raise ProtocolError(f"query {query_id} is not pending")
        rows = self._pending[query_id]
        shares = []
        for j, message in responses.items():
            counter, body = self.channel(j).open(message, aad=masked_logit_aad(self.model_id, j))
            if counter != query_id:
                raise ProtocolError(f"node {j} answered query {counter}, expected {query_id}")
            shares.append(parse_parts(j, body, rows))
        total = self._scheme.reconstruct(shares)
        del self._pending[query_id]
        z = total.view(np.int64).astype(np.float64) / (
            self.weight_scale * 2.0**self.config.frac_bits
        )
        peak = float(np.max(np.abs(z)))
        if peak > self._bound:
            raise EncodingRangeError(value=peak, limit=self._bound, what="decoded logit")
        return z

    def share_values(
        self, values: np.ndarray, *, nodes: Iterable[int] | None = None
    ) -> tuple[int, dict[int, bytes]]:
        """Replicated-share a ``uint64`` vector (e.g. holdout labels) and seal each node's part.

        Returns
        -------
        tuple
            ``(message counter, node → sealed message)``; the counter is also the one a
            node's :meth:`~flai.mpc.inference.node.MaskedInferenceNode.reply` about these values should use.
        """
        shares = self._scheme.share(np.asarray(values, dtype=np.uint64).reshape(-1))
        targets = list(range(self.config.n_nodes) if nodes is None else nodes)
        counter = self._next_query
        self._next_query += 1
        aad = b"shares" + self.model_id
        sealed = {
            j: self.channel(j).seal(pack_parts(shares[j]), counter=counter, aad=aad)
            for j in targets
        }
        return counter, sealed

    def open_reply(self, counter: int, responses: Mapping[int, bytes]) -> np.ndarray:
        """Reconstruct a result the nodes sealed with :meth:`~flai.mpc.inference.node.MaskedInferenceNode.reply`."""
        shares = []
        for j, message in responses.items():
            got, body = self.channel(j).open(
                message, aad=b"result" + masked_logit_aad(self.model_id, j)
            )
            if got != counter:
                raise ProtocolError(f"node {j} replied to message {got}, expected {counter}")
            shares.append(parse_parts(j, body, None))
        return self._scheme.reconstruct(shares)

    def probabilities(self, query_id: int, responses: Mapping[int, bytes]) -> np.ndarray:
        """σ(z) per row, applied by the user."""
        return 1.0 / (1.0 + np.exp(-self.logits(query_id, responses)))
