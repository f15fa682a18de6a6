"""The accepted model, sealed to the federation: never in plaintext on IPFS (001 §5.2, §5.4).

After consensus the available compute nodes each compute their share of the φ-weighted sum
S = Σ_k c_k·[w_k] (one copy of every share component, :meth:`ReplicatedScheme.assign`) and
seal it once to every reader of the next round (:func:`flai.mpc.seal_release_part`): the
custodians, who train on it, and the validators, who score around it and vote on it. No
node and no one else reconstructs the aggregate. What goes on IPFS is a *release
manifest*: the sealed bundle (:class:`flai.mpc.ReleaseBundle`: public header, salted piece
hashes, ciphertext) and its root R, the hash commitment to the weights. The round's
aggregate CID on chain is the manifest's CID, so the chain binds R (the CID is a hash of
bytes that contain it) and the weights behind it; a reader fetches by that CID (checked),
recomputes R from the bundle, checks it against the manifest's and opens its pieces
against it (:func:`flai.mpc.open_release`, which raises
:class:`flai.mpc.ModelCommitmentError` on any mismatch).

The one plaintext model is the public starting point of a lifecycle (all zeros), which the
first round opens on.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from flai.fl import LogisticModel, SerializationError
from flai.mpc import (
    AggregationNode,
    KeyPair,
    NodeShare,
    ProtocolError,
    ReleaseBundle,
    ReleaseHeader,
    ThresholdError,
    encode_weights,
    open_release,
    seal_release_part,
)
from flai.pipeline.errors import MalformedBlobError, PipelineError, ThresholdUnavailableError
from flai.pipeline.roles import Federation
from flai.storage import canonical_json

__all__ = ["SealedModel", "load_model", "readers", "seal_aggregate"]

_FORMAT = "flai/pipeline/v2"
_KIND = "model-release"


@dataclass(frozen=True, eq=False)
class SealedModel:
    """A sealed aggregate: the manifest bytes to store and the commitment they carry, plus
    what stays with the nodes (their partials and the public integer weights)."""

    blob: bytes
    root: bytes
    partials: tuple[NodeShare, ...] = ()
    weights: Mapping[int, int] = field(default_factory=dict)


def readers(fed: Federation) -> dict[str, tuple[int, KeyPair]]:
    """Who a release is sealed to: name → (reader id, key pair); custodians take their
    index, validators follow them."""
    out = {h.name: (h.index, fed.custodian_keys[h.name]) for h in fed.hospitals}
    base = len(fed.hospitals)
    for v, val in enumerate(fed.validators):
        out[val.validator_id] = (base + v, fed.validator_keys[val.validator_id])
    return out


def seal_aggregate(
    fed: Federation,
    *,
    round_id: int,
    nodes: Mapping[int, AggregationNode],
    phi: Mapping[str, int],
    available: Sequence[int],
    step: str,
) -> SealedModel:
    """The φ-weighted FedAvg of the credited uploads, sealed by the ``available`` nodes.

    Raises
    ------
    ThresholdUnavailableError
        Fewer than t + 1 nodes available.
    PipelineError
        The nodes lack a credited upload.
    """
    cfg = fed.aggregation
    if len(available) < cfg.threshold + 1:
        raise ThresholdUnavailableError(
            step=step, available=len(available), required=cfg.threshold + 1
        )
    up = {j: node for j, node in nodes.items() if j in set(available)}
    if len(up) < cfg.threshold + 1:
        raise ThresholdUnavailableError(step=step, available=len(up), required=cfg.threshold + 1)
    index = {h.name: h.index for h in fed.hospitals}
    weights = encode_weights(
        {index[n]: w / 10**18 for n, w in phi.items() if w > 0}, weight_bits=cfg.weight_bits
    )
    recipients = {rid: pair.public_bytes for rid, pair in readers(fed).values()}
    try:
        owned = cfg.scheme.assign(up)
        header: ReleaseHeader | None = None
        parts = {}
        partials = []
        for j, node in up.items():
            partial = node.weighted_partial(round_id=round_id, weights=weights, components=owned[j])
            partials.append(partial)
            if header is None:
                header = ReleaseHeader.for_aggregate(
                    model_id=b"flai/pipeline/round" + struct.pack(">Q", round_id),
                    version=round_id,
                    length=partial.length,
                    config=cfg,
                    weights=weights,
                )
            parts[j] = seal_release_part(
                partial, header=header, contributors=recipients, components=owned[j]
            )
    except ThresholdError as exc:
        raise ThresholdUnavailableError(
            step=step, available=exc.available, required=exc.required
        ) from exc
    except ProtocolError as exc:
        raise PipelineError(f"{step}: the compute nodes cannot aggregate: {exc}") from exc
    assert header is not None
    bundle = ReleaseBundle(header=header, parts=parts)
    root = bundle.commitment()
    blob = canonical_json(
        {
            "format": _FORMAT,
            "kind": _KIND,
            "root": root.hex(),
            "release": base64.b64encode(bundle.to_bytes()).decode("ascii"),
        }
    )
    return SealedModel(blob=blob, root=root, partials=tuple(partials), weights=weights)


def _manifest(blob: bytes) -> tuple[ReleaseBundle, bytes]:
    def bad(field: str, reason: str) -> MalformedBlobError:
        return MalformedBlobError(kind="model release", field=field, reason=reason)

    try:
        raw = json.loads(blob)
    except (ValueError, RecursionError):
        raise bad("", "not JSON") from None
    if not isinstance(raw, dict) or raw.get("format") != _FORMAT or raw.get("kind") != _KIND:
        raise bad("format", f"not a {_FORMAT} {_KIND!r} blob")
    root_hex, release = raw.get("root"), raw.get("release")
    if not isinstance(root_hex, str) or len(root_hex) != 64:
        raise bad("root", "expected 64 hex digits")
    if not isinstance(release, str):
        raise bad("release", "expected base64 text")
    try:
        root = bytes.fromhex(root_hex)
        bundle = ReleaseBundle.from_bytes(base64.b64decode(release, validate=True))
    except (ValueError, binascii.Error) as exc:
        raise bad("root" if "hex" in str(exc) else "release", str(exc)) from None
    except ProtocolError as exc:
        raise bad("release", str(exc)) from None
    return bundle, root


def load_model(blob: bytes, *, fed: Federation, reader: str) -> LogisticModel:
    """The model behind a round's model CID, as ``reader`` opens it.

    A release manifest is checked against the root it carries and opened with the reader's
    key; anything else must be the lifecycle's public starting model.

    Raises
    ------
    MalformedBlobError
        Neither a release manifest nor a serialized model.
    flai.mpc.ModelCommitmentError
        The pieces do not match the committed root.
    """
    if not blob.startswith(b"{"):
        try:
            return LogisticModel.from_bytes(blob)
        except SerializationError as exc:
            raise MalformedBlobError(kind="model", field="", reason=str(exc)) from None
    bundle, root = _manifest(blob)
    rid, pair = readers(fed)[reader]
    params = open_release(
        bundle, contributor=rid, keypair=pair, commitment=root, config=fed.aggregation
    )
    return LogisticModel(params=params)
