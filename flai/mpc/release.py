"""Sealed release of the accepted model to its contributors, with an on-chain commitment.

The aggregate S = Σ_k c_k · w̃_k stays replicated-shared among the compute nodes; the next
round's global model w* = S / (C · 2^f) goes only to the whitelisted contributors. Each
node encrypts the share components it delivers once (:func:`~flai.mpc.envelope.seal_for_many`,
AES-256-GCM under a fresh data key wrapped to every contributor's X25519 key, with a
per-reader one-time MAC so no contributor can forge a body another accepts) and the
contributor reconstructs w* from t + 1 nodes' pieces (:func:`open_release`).

Commitment (what goes on chain, besides the CID of the sealed bundle): every delivered
piece — node j's copy of component c — is committed by

    h_{j,c} = SHA-256("flai/mpc/release/v1/piece" ‖ header ‖ j ‖ c ‖ salt_{j,c} ‖ packed s_c)

with a fresh 32-byte salt that travels only inside the sealed body, and the bundle by the
root R = SHA-256("flai/mpc/release/v1/root" ‖ header ‖ (j, c, h_{j,c}) sorted). The header
names the model version, its length, ring, f and the public weight total C. R is binding:
SHA-256 collision resistance fixes every committed component, hence S and w*, so all
contributors who check against the same R obtain the same model. It is hiding: without a
salt a piece hash is a random-oracle output independent of the component. A contributor
checks R against the on-chain value, each opened piece against its h_{j,c}, and that copies
of one component agree; a mismatch raises :class:`~flai.mpc.errors.ModelCommitmentError`
(or :class:`~flai.mpc.errors.ShareMismatchError` for disagreeing committed copies) naming
the node and component.

What is public (IPFS, chain): the header, the piece hashes, R, the sealed bodies and key
envelopes. What only contributors see: the salts, the components, w*.
"""

from __future__ import annotations

import hashlib
import secrets
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from flai.mpc.envelope import KeyPair, MultiEnvelope, open_for, seal_for_many
from flai.mpc.errors import ModelCommitmentError, ProtocolError, ShareMismatchError
from flai.mpc.replicated import NodeShare
from flai.mpc.ring import Ring
from flai.mpc.secure_aggregation import AggregationConfig, reconstruct_aggregate

__all__ = [
    "ReleaseBundle",
    "ReleaseHeader",
    "ReleasePart",
    "open_release",
    "seal_release_part",
]

_DOMAIN = b"flai/mpc/release/v1"
_SALT = 32


@dataclass(frozen=True)
class ReleaseHeader:
    """Public description of a released model version.

    Attributes
    ----------
    model_id
        Caller's label of the version (e.g. RFM id and round), bound into everything.
    version
        Model version number.
    length
        Number of parameters.
    ring_bits, frac_bits
        ℓ and f of the aggregation.
    n_nodes, threshold
        The replicated sharing.
    total_weight
        C = Σ_k c_k, the divisor of the aggregate.
    """

    model_id: bytes
    version: int
    length: int
    ring_bits: int
    frac_bits: int
    n_nodes: int
    threshold: int
    total_weight: int

    @classmethod
    def for_aggregate(
        cls,
        *,
        model_id: bytes,
        version: int,
        length: int,
        config: AggregationConfig,
        weights: Mapping[int, int],
    ) -> ReleaseHeader:
        """The header of an aggregate made with ``config`` and integer ``weights``."""
        return cls(
            model_id=model_id,
            version=version,
            length=length,
            ring_bits=config.ring_bits,
            frac_bits=config.frac_bits,
            n_nodes=config.n_nodes,
            threshold=config.threshold,
            total_weight=int(sum(weights.values())),
        )

    def to_bytes(self) -> bytes:
        """Canonical encoding (hashed into every commitment)."""
        return (
            struct.pack(">I", len(self.model_id))
            + self.model_id
            + struct.pack(
                ">QQIIIIQ",
                self.version,
                self.length,
                self.ring_bits,
                self.frac_bits,
                self.n_nodes,
                self.threshold,
                self.total_weight,
            )
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> tuple[ReleaseHeader, int]:
        """Parse a header; return it and the bytes consumed."""
        (n,) = struct.unpack_from(">I", data)
        fixed = struct.calcsize(">QQIIIIQ")
        if len(data) < 4 + n + fixed:
            raise ProtocolError("truncated release header")
        values = struct.unpack_from(">QQIIIIQ", data, 4 + n)
        header = cls(data[4 : 4 + n], *values)
        return header, 4 + n + fixed

    @property
    def ring(self) -> Ring:
        """The aggregation ring."""
        return Ring(self.ring_bits)


def _piece_hash(header: bytes, node: int, component: int, salt: bytes, packed: bytes) -> bytes:
    return hashlib.sha256(
        _DOMAIN + b"/piece" + header + struct.pack(">II", node, component) + salt + packed
    ).digest()


def _aad(header: bytes, node: int) -> bytes:
    return _DOMAIN + header + struct.pack(">I", node)


@dataclass(frozen=True)
class ReleasePart:
    """One node's sealed pieces and their public commitments.

    Attributes
    ----------
    node
        The delivering node.
    envelope
        The sealed body (component, salt and packed values of each piece) and one key
        envelope per contributor.
    commitments
        Component → h_{node,c} (public).
    """

    node: int
    envelope: MultiEnvelope
    commitments: Mapping[int, bytes]


def seal_release_part(
    share: NodeShare,
    *,
    header: ReleaseHeader,
    contributors: Mapping[int, bytes],
    components: Iterable[int] | None = None,
) -> ReleasePart:
    """Node side: seal this node's components of S to every contributor and commit to them.

    Parameters
    ----------
    share
        The node's share of the aggregate (mod 2^ℓ).
    header
        The version's public header (same for every node).
    contributors
        Contributor id → X25519 public key (the whitelist of the next round).
    components
        Which held components to deliver (default: all in ``share``).
    """
    if share.length != header.length:
        raise ProtocolError(f"share of length {share.length} for a model of {header.length}")
    if not contributors:
        raise ProtocolError("a model release needs at least one contributor")
    wanted = sorted(share.parts) if components is None else sorted(set(components))
    if not set(wanted) <= set(share.parts):
        raise ProtocolError(f"node {share.node} does not hold components {wanted}")
    ring, head = header.ring, header.to_bytes()
    body, commitments = bytearray(), {}
    for c in wanted:
        packed = bytes(ring.pack(ring.reduce(share.parts[c])))
        salt = secrets.token_bytes(_SALT)
        commitments[c] = _piece_hash(head, share.node, c, salt, packed)
        body += struct.pack(">I", c) + salt + packed
    envelope = seal_for_many(body, dict(contributors), aad=_aad(head, share.node))
    return ReleasePart(node=share.node, envelope=envelope, commitments=commitments)


@dataclass(frozen=True)
class ReleaseBundle:
    """Everything a release puts on IPFS: the header and every node's sealed part."""

    header: ReleaseHeader
    parts: Mapping[int, ReleasePart]

    def commitment(self) -> bytes:
        """The 32-byte root R to post on chain."""
        digest = hashlib.sha256(_DOMAIN + b"/root" + self.header.to_bytes())
        for j in sorted(self.parts):
            for c, h in sorted(self.parts[j].commitments.items()):
                digest.update(struct.pack(">II", j, c) + h)
        return digest.digest()

    def to_bytes(self) -> bytes:
        """Canonical wire form (its CID is a function of the content only)."""
        out = bytearray(_DOMAIN + self.header.to_bytes() + struct.pack(">I", len(self.parts)))
        for j in sorted(self.parts):
            part = self.parts[j]
            out += struct.pack(">II", j, len(part.commitments))
            for c, h in sorted(part.commitments.items()):
                out += struct.pack(">I", c) + h
            out += struct.pack(">Q", len(part.envelope.body)) + part.envelope.body
            out += struct.pack(">I", len(part.envelope.keys))
            for rid, key in sorted(part.envelope.keys.items()):
                out += struct.pack(">QI", rid, len(key)) + key
        return bytes(out)

    @classmethod
    def from_bytes(cls, data: bytes) -> ReleaseBundle:
        """Inverse of :meth:`to_bytes`; raise :class:`ProtocolError` on a malformed blob."""
        if not data.startswith(_DOMAIN):
            raise ProtocolError("not a FLAI model release")
        try:
            header, used = ReleaseHeader.from_bytes(data[len(_DOMAIN) :])
            off = len(_DOMAIN) + used
            (n_parts,) = struct.unpack_from(">I", data, off)
            off += 4
            parts = {}
            for _ in range(n_parts):
                j, n_comm = struct.unpack_from(">II", data, off)
                off += 8
                commitments = {}
                for _ in range(n_comm):
                    (c,) = struct.unpack_from(">I", data, off)
                    commitments[c] = data[off + 4 : off + 36]
                    off += 36
                (n_body,) = struct.unpack_from(">Q", data, off)
                body = data[off + 8 : off + 8 + n_body]
                off += 8 + n_body
                (n_keys,) = struct.unpack_from(">I", data, off)
                off += 4
                keys = {}
                for _ in range(n_keys):
                    rid, n_key = struct.unpack_from(">QI", data, off)
                    keys[rid] = data[off + 12 : off + 12 + n_key]
                    off += 12 + n_key
                parts[j] = ReleasePart(
                    node=j, envelope=MultiEnvelope(body=body, keys=keys), commitments=commitments
                )
        except struct.error as exc:
            raise ProtocolError(f"truncated model release: {exc}") from exc
        if off != len(data):
            raise ProtocolError(f"model release has {len(data) - off} trailing bytes")
        return cls(header=header, parts=parts)


def open_release(
    bundle: ReleaseBundle,
    *,
    contributor: int,
    keypair: KeyPair,
    commitment: bytes,
    config: AggregationConfig,
) -> np.ndarray:
    """Contributor side: check the bundle against the on-chain root and reconstruct w*.

    Parameters
    ----------
    bundle
        The release fetched from IPFS.
    contributor
        This contributor's id (its key envelope in every part).
    keypair
        This contributor's X25519 key.
    commitment
        The root R read from the chain.
    config
        The aggregation configuration (for decoding and its honest-range check).

    Returns
    -------
    numpy.ndarray
        w* as float64, identical to :func:`~flai.mpc.secure_aggregation.reconstruct_aggregate`
        on the same partials.

    Raises
    ------
    ModelCommitmentError
        R differs from ``commitment``, a piece does not match its hash, or a part lists
        components its body does not carry.
    ShareMismatchError
        Two committed copies of one component differ.
    EnvelopeError
        A part this contributor cannot open (wrong key, tampered, another version).
    ThresholdError
        The parts do not cover every component.
    """
    header = bundle.header
    if (header.ring_bits, header.frac_bits, header.n_nodes, header.threshold) != (
        config.ring_bits,
        config.frac_bits,
        config.n_nodes,
        config.threshold,
    ):
        raise ProtocolError("release header does not match the aggregation configuration")
    if bundle.commitment() != commitment:
        raise ModelCommitmentError(
            node=None, component=None, reason="root differs from the on-chain commitment"
        )
    ring, head = header.ring, header.to_bytes()
    packed_size = ring.packed_size(header.length)
    item = 4 + _SALT + packed_size
    values: dict[int, tuple[int, np.ndarray]] = {}
    shares = []
    for j in sorted(bundle.parts):
        part = bundle.parts[j]
        body, _ = open_for(part.envelope, contributor, keypair, aad=_aad(head, j))
        assert body is not None
        if len(body) != item * len(part.commitments):
            raise ModelCommitmentError(
                node=j, component=None, reason="body does not carry the committed pieces"
            )
        parts = {}
        for off in range(0, len(body), item):
            (c,) = struct.unpack_from(">I", body, off)
            salt = body[off + 4 : off + 4 + _SALT]
            packed = body[off + 4 + _SALT : off + item]
            expected = part.commitments.get(c)
            if expected is None or _piece_hash(head, j, c, salt, packed) != expected:
                raise ModelCommitmentError(
                    node=j, component=c, reason="piece does not match its commitment"
                )
            vec = ring.unpack(packed, header.length)
            if c in values and not np.array_equal(values[c][1], vec):
                raise ShareMismatchError(component=c, parties=(values[c][0], j))
            values.setdefault(c, (j, vec))
            parts[c] = vec
        shares.append(NodeShare(node=j, parts=parts))
    return reconstruct_aggregate(config, shares, {0: header.total_weight})
