"""Three-party replicated secret sharing over Z_{2^128} with multiplication and truncation.

Sharing (n = 3, t = 1; the component convention of :class:`~flai.mpc.replicated.ReplicatedScheme`):
x = x_0 + x_1 + x_2 mod 2^128 and node j holds the two components (x_{j+1}, x_{j+2})
(indices mod 3). One node's pair is uniformly random; any two nodes reconstruct.

Multiplication (Araki, Furukawa, Lindell, Nof, Ohara, "High-Throughput Semi-Honest Secure
Three-Party Computation with an Honest Majority", CCS 2016). Node j computes the cross terms
it can, z_j = x_{j+1} y_{j+1} + x_{j+1} y_{j+2} + x_{j+2} y_{j+1}: the three nodes cover all
nine products x_a y_b, so z_0 + z_1 + z_2 = xy. A public linear combination of products
(a dot product, a matrix product) is formed locally before anything is sent, so it costs
what one product costs. Each z_j is masked by a correlated zero-sharing
α_j = F(k_{j,j+1}) − F(k_{j−1,j}) (F an AES-CTR stream of the pair seed of
:class:`~flai.mpc.channel.ChannelSet`; Σ α_j = 0 with no interaction), and node j sends
z_j + α_j to node j + 1, which makes it component j + 2 of the product: one ring element per
node per product, one round.

Fixed-point truncation, merged with the multiplication (Mohassel & Rindal, "ABY3",
CCS 2018, §5.1.1, Π_trunc1), described for rotation 0 (a session may rotate the roles).
Node 2 sends z_2 + α_2 to node 0, so nodes 0 and 1 hold a
two-party additive sharing (a, b) = (z_0 + z_2, z_1) of z with a uniform; they shift
locally, a' = ⌊a / 2^d⌋ and b' = −⌊−b / 2^d⌋ (SecureML, Mohassel & Zhang, S&P 2017, §4.1),
and re-share: component 2 is r from the seed nodes 0 and 1 share, node 0 sends a' − r
(component 1) and node 1 sends b' (component 0) to node 2. Two rounds, three elements.
By SecureML Thm. 1, a' + b' = ⌊z / 2^d⌋ + ε with ε ∈ {0, 1} except with probability at
most 2^(b + 1 − 128) when |z| < 2^b, the failure being a wrong value of about 2^(128 − d).
Callers bound b (see :mod:`flai.mpc.secure_scoring`); nothing here is a dealer or a trusted
party.

Openings. To open x to a party outside the three (a validator), node j sends its additive
part (x_{j+1} for a shared x, z_j for a product) plus a fresh zero-sharing α_j: the recipient
learns the sum and nothing else, even together with one node's view.

Protocols are written as one generator per node (:data:`Step`): it yields the messages of
one communication round (peer → sealed bytes) and receives that round's incoming messages;
:func:`run` drives three of them in lockstep, delivering the bytes, and can time each
node's local work per round. Nodes in separate processes run the same generators over
any transport.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from flai.mpc import ring128 as r128
from flai.mpc.channel import ChannelSet
from flai.mpc.envelope import KeyPair, MultiEnvelope, open_body, open_key_for, seal_for_many
from flai.mpc.errors import ProtocolError
from flai.mpc.prg import SEED_BYTES, random_seed

__all__ = [
    "Outbox",
    "SealedInput",
    "Share",
    "ShareStep",
    "Step",
    "ThreePartyNode",
    "Timing",
    "combine_additive",
    "open_input",
    "reconstruct",
    "run",
    "run_parties",
    "seal_input",
]

Outbox = dict[int, bytes]
"""Messages of one round: recipient node → sealed bytes."""

Step = Generator[Outbox, Mapping[int, bytes], Any]
"""One node's side of a protocol: yields each round's outbox, receives its inbox."""

ShareStep = Generator[Outbox, Mapping[int, bytes], "Share"]
"""A protocol step whose result is a share."""

N_NODES = 3


@dataclass(frozen=True)
class Share:
    """Node ``node``'s replicated share of an element array: components node+1, node+2.

    Attributes
    ----------
    node
        The holder.
    first, second
        Components ``(node + 1) mod 3`` and ``(node + 2) mod 3`` as (2, ...) ``uint64``.
    """

    node: int
    first: np.ndarray
    second: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        """Element shape."""
        return tuple(self.first.shape[1:])

    def component(self, c: int) -> np.ndarray:
        """Component ``c`` (must be one this node holds)."""
        if c == (self.node + 1) % N_NODES:
            return self.first
        if c == (self.node + 2) % N_NODES:
            return self.second
        raise ProtocolError(f"node {self.node} does not hold component {c}")

    def map(self, fn: Callable[[np.ndarray], np.ndarray]) -> Share:
        """Apply a local linear map (public coefficients) to both components."""
        return Share(node=self.node, first=fn(self.first), second=fn(self.second))

    def __add__(self, other: Share) -> Share:
        _same_node(self, other)
        return Share(
            node=self.node,
            first=r128.add(self.first, other.first),
            second=r128.add(self.second, other.second),
        )

    def __sub__(self, other: Share) -> Share:
        _same_node(self, other)
        return Share(
            node=self.node,
            first=r128.sub(self.first, other.first),
            second=r128.sub(self.second, other.second),
        )

    def add_public(self, constant: np.ndarray) -> Share:
        """Share of x + c for a public element array c (it joins component 0)."""
        if self.node == 1:  # holds components 2 and 0: component 0 is `second`
            return Share(node=1, first=self.first, second=r128.add(self.second, constant))
        if self.node == 2:  # holds components 0 and 1: component 0 is `first`
            return Share(node=2, first=r128.add(self.first, constant), second=self.second)
        return self


def _same_node(a: Share, b: Share) -> None:
    if a.node != b.node:
        raise ProtocolError(f"cannot combine shares of nodes {a.node} and {b.node}")


def reconstruct(shares: Sequence[Share]) -> np.ndarray:
    """Recombine the shares of two or three nodes (components present twice must agree)."""
    comps: dict[int, np.ndarray] = {}
    for s in shares:
        for c, value in (((s.node + 1) % 3, s.first), ((s.node + 2) % 3, s.second)):
            if c in comps and not np.array_equal(comps[c], value):
                raise ProtocolError(f"copies of component {c} disagree")
            comps[c] = value
    if len(comps) != N_NODES:
        raise ProtocolError(f"need two nodes' shares, got components {sorted(comps)}")
    return r128.add(r128.add(comps[0], comps[1]), comps[2])


# ------------------------------------------------------------------------------ inputs


@dataclass(frozen=True)
class SealedInput:
    """An input party's seed-compressed, encrypted sharing of one element array.

    Components other than ``correction`` are AES-CTR streams of fresh seeds (each node
    gets the seeds of the components it holds in its key envelope); the correction
    x − Σ seeded is the body, readable by its two holders only.
    """

    envelope: MultiEnvelope
    shape: tuple[int, ...]
    correction: int

    @property
    def size(self) -> int:
        """Bytes on the wire."""
        return self.envelope.size


def _input_context(aad: bytes, shape: tuple[int, ...], correction: int) -> bytes:
    return (
        b"flai/mpc/rss3/input/v1"
        + struct.pack(f">I{len(shape)}QI", len(shape), *shape, correction)
        + aad
    )


def _component_label(c: int) -> bytes:
    return b"rss3-component-" + struct.pack(">I", c)


def seal_input(
    value: np.ndarray,
    node_public_keys: Mapping[int, bytes],
    *,
    aad: bytes,
    correction: int = 2,
) -> SealedInput:
    """Share a (2, ...) element array among the three nodes and seal each node's part.

    ``aad`` binds the upload to its context (round, sender, tensor); a share replayed into
    another context does not open.
    """
    if set(node_public_keys) != set(range(N_NODES)):
        raise ProtocolError("need the public keys of nodes 0, 1 and 2")
    if not 0 <= correction < N_NODES:
        raise ProtocolError(f"correction component {correction} out of range")
    shape = tuple(value.shape[1:])
    seeds = {c: random_seed() for c in range(N_NODES) if c != correction}
    corr = value
    for c, seed in seeds.items():
        corr = r128.sub(corr, r128.random(seed, shape, label=_component_label(c)))
    extras = {
        j: b"".join(seeds[c] for c in ((j + 1) % 3, (j + 2) % 3) if c != correction)
        for j in range(N_NODES)
    }
    readers = [j for j in range(N_NODES) if j != correction]
    envelope = seal_for_many(
        r128.pack(corr),
        dict(node_public_keys),
        aad=_input_context(aad, shape, correction),
        readers=readers,
        extras=extras,
    )
    return SealedInput(envelope=envelope, shape=shape, correction=correction)


def open_input(sealed: SealedInput, *, node: int, keypair: KeyPair, aad: bytes) -> Share:
    """Node ``node``'s share of a :class:`SealedInput`.

    Raises
    ------
    EnvelopeError
        Wrong key, tampering, or an input sealed for another context.
    """
    if not 0 <= node < N_NODES:
        raise ProtocolError(f"unknown node {node}")
    context = _input_context(aad, sealed.shape, sealed.correction)
    reader = node != sealed.correction
    data_key, extra = open_key_for(sealed.envelope, node, keypair, aad=context, reader=reader)
    held = ((node + 1) % 3, (node + 2) % 3)
    seeded = [c for c in held if c != sealed.correction]
    if len(extra) != SEED_BYTES * len(seeded):
        raise ProtocolError(f"node {node} expected {len(seeded)} seeds")
    parts: dict[int, np.ndarray] = {}
    for i, c in enumerate(seeded):
        seed = extra[i * SEED_BYTES : (i + 1) * SEED_BYTES]
        parts[c] = r128.random(seed, sealed.shape, label=_component_label(c))
    if reader:
        if data_key is None:
            raise ProtocolError(f"node {node} holds the correction but got no data key")
        body = open_body(sealed.envelope, data_key, aad=context)
        parts[sealed.correction] = r128.unpack(body, sealed.shape)
    return Share(node=node, first=parts[held[0]], second=parts[held[1]])


def combine_additive(parts: Sequence[np.ndarray]) -> np.ndarray:
    """Sum the three additive parts an opening delivers to its recipient."""
    if len(parts) != N_NODES:
        raise ProtocolError(f"an opening needs the parts of all three nodes, got {len(parts)}")
    return r128.add(r128.add(parts[0], parts[1]), parts[2])


# ------------------------------------------------------------------------------- nodes


class ThreePartyNode:
    """One compute node's side of the three-party protocols within one session.

    Parameters
    ----------
    index
        0, 1 or 2.
    keypair
        The node's static X25519 key pair.
    node_public_keys
        Public keys of all three nodes.
    session
        Label binding channels and correlated randomness to one protocol run.
    rotation
        Shifts the roles of the truncation (helper = node (2 + rotation) mod 3), so that
        sessions with different rotations spread the helper's extra traffic; every node
        of a session must use the same value.
    """

    def __init__(
        self,
        *,
        index: int,
        keypair: KeyPair,
        node_public_keys: Mapping[int, bytes],
        session: bytes,
        rotation: int = 0,
    ) -> None:
        if not 0 <= index < N_NODES or set(node_public_keys) != set(range(N_NODES)):
            raise ProtocolError("three nodes, indices 0..2, with all public keys")
        self.index = index
        self.rotation = rotation % N_NODES
        peers = {j: k for j, k in node_public_keys.items() if j != index}
        self.channels = ChannelSet(index=index, keypair=keypair, peers=peers, session=session)
        self._counter = 0

    @property
    def next_node(self) -> int:
        """(index + 1) mod 3."""
        return (self.index + 1) % N_NODES

    @property
    def prev_node(self) -> int:
        """(index − 1) mod 3."""
        return (self.index + 2) % N_NODES

    def _label(self, what: bytes) -> bytes:
        # Every node runs the same sequence of operations, so counters agree.
        self._counter += 1
        return what + struct.pack(">Q", self._counter)

    def _pair_stream(self, peer: int, label: bytes, shape: tuple[int, ...]) -> np.ndarray:
        return r128.random(self.channels.seed(peer, label), shape, label=b"rss3-pair")

    def zero_share(self, label: bytes, shape: tuple[int, ...]) -> np.ndarray:
        """α_j = F(k_{j,j+1}) − F(k_{j−1,j}); the three nodes' values sum to zero."""
        return r128.sub(
            self._pair_stream(self.next_node, label, shape),
            self._pair_stream(self.prev_node, label, shape),
        )

    @staticmethod
    def cross(
        x: Share, y: Share, product: Callable[[np.ndarray, np.ndarray], np.ndarray] = r128.mul
    ) -> np.ndarray:
        """This node's additive part of x·y: x_{j+1}(y_{j+1} + y_{j+2}) + x_{j+2} y_{j+1}.

        ``product`` is any bilinear map (element-wise :func:`~flai.mpc.ring128.mul`,
        :func:`~flai.mpc.ring128.matmul`, …); sums of several cross terms are the additive
        part of the sum of the products.
        """
        _same_node(x, y)
        return r128.add(product(x.first, r128.add(y.first, y.second)), product(x.second, y.first))

    def _send(self, peer: int, value: np.ndarray, label: bytes) -> bytes:
        return self.channels.seal(peer, r128.pack(value), label=label)

    def _receive(
        self, inbox: Mapping[int, bytes], peer: int, shape: tuple[int, ...], label: bytes
    ) -> np.ndarray:
        if peer not in inbox:
            raise ProtocolError(f"node {self.index} is missing a message from node {peer}")
        return r128.unpack(self.channels.open(peer, inbox[peer], label=label), shape)

    def reshare(self, z: np.ndarray) -> ShareStep:
        """RSS share of Σ_j z_j from additive parts z_j (one round, one element sent)."""
        label = self._label(b"reshare")
        shape = tuple(z.shape[1:])
        masked = r128.add(z, self.zero_share(label, shape))
        inbox = yield {self.next_node: self._send(self.next_node, masked, label)}
        previous = self._receive(inbox, self.prev_node, shape, label)
        # component j+2 := own masked part; component j+1 := the part of node j−1
        return Share(node=self.index, first=previous, second=masked)

    def reshare_truncated(self, z: np.ndarray, shift: int) -> ShareStep:
        """RSS share of ⌊Σ_j z_j / 2^shift⌋ (+1 with probability ≤ 1/2), two rounds.

        Roles are those of the module docstring for the logical indices
        (index − rotation) mod 3; component names rotate with them, so the result is a
        share in the usual convention.
        """
        if not 0 < shift < 64:
            raise ProtocolError(f"truncation by {shift} bits out of range")
        label = self._label(b"truncate")
        shape = tuple(z.shape[1:])
        me = (self.index - self.rotation) % N_NODES

        def node(logical: int) -> int:
            return (logical + self.rotation) % N_NODES

        masked = r128.add(z, self.zero_share(label, shape))
        # round 1: the helper hands its part to logical node 0 → (a, b) = (z_0 + z_2, z_1)
        if me == 2:
            inbox = yield {node(0): self._send(node(0), masked, label + b"/1")}
        else:
            inbox = yield {}
        r = self._pair_stream(node(1 - me), label + b"/r", shape) if me < 2 else None
        if me == 0:
            a = r128.add(masked, self._receive(inbox, node(2), shape, label + b"/1"))
            assert r is not None
            mine = r128.sub(r128.shift_right(a, shift), r)  # logical component 1
            inbox = yield {node(2): self._send(node(2), mine, label + b"/2")}
            return Share(node=self.index, first=mine, second=r)  # logical 1, 2
        if me == 1:
            b_shift = r128.neg(r128.shift_right(r128.neg(masked), shift))  # logical component 0
            inbox = yield {node(2): self._send(node(2), b_shift, label + b"/2")}
            assert r is not None
            return Share(node=self.index, first=r, second=b_shift)  # logical 2, 0
        inbox = yield {}
        comp0 = self._receive(inbox, node(1), shape, label + b"/2")
        comp1 = self._receive(inbox, node(0), shape, label + b"/2")
        return Share(node=self.index, first=comp0, second=comp1)  # logical 0, 1

    def truncate(self, x: Share, shift: int) -> ShareStep:
        """RSS share of ⌊x / 2^shift⌋ (+1 with probability ≤ 1/2)."""
        return self.reshare_truncated(self.additive(x), shift)

    @staticmethod
    def additive(x: Share) -> np.ndarray:
        """This node's additive part of a shared x: component j+1 (the three sum to x)."""
        return x.first

    def open_part(self, z: np.ndarray) -> np.ndarray:
        """This node's masked part of an opening of Σ_j z_j to an outside recipient."""
        label = self._label(b"open")
        return r128.add(z, self.zero_share(label, tuple(z.shape[1:])))


# ------------------------------------------------------------------------------ driver


@dataclass
class Timing:
    """Wall time of each node's local work, per communication round."""

    rounds: list[list[float]]

    @property
    def parallel(self) -> float:
        """Σ over rounds of the slowest node: the nodes-in-parallel wall time."""
        return sum(max(r) for r in self.rounds)

    @property
    def serial(self) -> float:
        """Σ of all nodes' work: the time with all three nodes in one process."""
        return sum(sum(r) for r in self.rounds)


def run(steps: Sequence[Step], *, timing: Timing | None = None) -> list[Any]:
    """Drive the three nodes' generators (index = node) in lockstep; see :func:`run_parties`."""
    if len(steps) != N_NODES:
        raise ProtocolError(f"need {N_NODES} node protocols, got {len(steps)}")
    results = run_parties(dict(enumerate(steps)), timing=timing)
    return [results[j] for j in range(N_NODES)]


def run_parties(steps: Mapping[int, Step], *, timing: Timing | None = None) -> dict[int, Any]:
    """Drive one generator per party in lockstep and return their results by party id.

    Each round, every party's generator runs until it yields its outbox (recipient id →
    bytes); the bytes are then delivered and the next round starts. ``timing``, if given,
    records each party's local time per round.

    Raises
    ------
    ProtocolError
        The parties disagree on the number of rounds, or a message has no recipient.
    """
    ids = sorted(steps)
    inboxes: dict[int, dict[int, bytes]] = {j: {} for j in ids}
    results: dict[int, Any] = {}
    first = True
    while len(results) < len(ids):
        outboxes: dict[int, Outbox] = {}
        times = []
        for j in ids:
            start = time.perf_counter()
            try:
                outboxes[j] = next(steps[j]) if first else steps[j].send(inboxes[j])
            except StopIteration as stop:
                results[j] = stop.value
            times.append(time.perf_counter() - start)
        first = False
        if results and len(results) < len(ids):
            raise ProtocolError("parties ran protocols of different lengths")
        if timing is not None:
            timing.rounds.append(times)
        inboxes = {j: {} for j in ids}
        for sender, outbox in outboxes.items():
            for recipient, blob in outbox.items():
                if recipient not in inboxes:
                    raise ProtocolError(f"party {sender} sent to unknown party {recipient}")
                inboxes[recipient][sender] = blob
    return results
