"""Wire formats of what the pipeline stores on IPFS.

Everything is canonical JSON (:func:`flai.storage.canonical_json`) with byte strings in
base64, so a blob is self-describing and its CID is a function of its content only.

- **Update bundle** (one per custodian per round, the CID committed on chain): the
  serialized update sealed once for all validators (:func:`flai.mpc.seal_for_many`,
  associated data binding the round and custodian) and the same update as
  seed-compressed replicated shares for the compute nodes
  (:class:`flai.mpc.AggregationClient`), plus the declared sample count. In plaintext on
  IPFS: the round, custodian name and index, sample count and sizes — never the update.
- **Sealed query / sealed outputs** of secret-shared inference.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Mapping
from typing import Any

from flai.mpc import MultiEnvelope, SealedShares
from flai.storage import canonical_json

__all__ = [
    "decode_bundle",
    "decode_outputs",
    "decode_sealed_shares",
    "encode_bundle",
    "encode_outputs",
    "encode_sealed_shares",
    "update_aad",
]

_FORMAT = "flai/pipeline/v1"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def update_aad(round_id: int, client_id: int) -> bytes:
    """Associated data of a custodian's sealed update: binds it to its round and sender."""
    return b"flai/pipeline/update" + struct.pack(">QQ", round_id, client_id)


def _envelope(env: MultiEnvelope) -> dict[str, Any]:
    return {"body": _b64(env.body), "keys": {str(k): _b64(v) for k, v in env.keys.items()}}


def _unenvelope(raw: Mapping[str, Any]) -> MultiEnvelope:
    return MultiEnvelope(
        body=_unb64(raw["body"]), keys={int(k): _unb64(v) for k, v in raw["keys"].items()}
    )


def _shares(sealed: SealedShares) -> dict[str, Any]:
    return {
        "envelope": _envelope(sealed.envelope),
        "length": sealed.length,
        "scale_bits": sealed.scale_bits,
        "correction": sealed.correction,
    }


def _unshares(raw: Mapping[str, Any]) -> SealedShares:
    return SealedShares(
        envelope=_unenvelope(raw["envelope"]),
        length=int(raw["length"]),
        scale_bits=int(raw["scale_bits"]),
        correction=int(raw["correction"]),
    )


def encode_bundle(
    *,
    round_id: int,
    custodian: str,
    client_id: int,
    num_samples: int,
    for_validators: MultiEnvelope,
    for_nodes: SealedShares,
) -> bytes:
    """Serialize a custodian's update bundle."""
    return canonical_json(
        {
            "format": _FORMAT,
            "kind": "update",
            "round_id": round_id,
            "custodian": custodian,
            "client_id": client_id,
            "num_samples": num_samples,
            "validators": _envelope(for_validators),
            "nodes": _shares(for_nodes),
        }
    )


def decode_bundle(data: bytes) -> tuple[dict[str, Any], MultiEnvelope, SealedShares]:
    """``(header, validator envelope, node shares)`` of an update bundle."""
    raw = json.loads(data)
    if raw.get("format") != _FORMAT or raw.get("kind") != "update":
        raise ValueError("not a FLAI update bundle")
    header = {k: raw[k] for k in ("round_id", "custodian", "client_id", "num_samples")}
    return header, _unenvelope(raw["validators"]), _unshares(raw["nodes"])


def encode_sealed_shares(sealed: SealedShares, *, kind: str) -> bytes:
    """Serialize a sealed replicated upload (an inference query)."""
    return canonical_json({"format": _FORMAT, "kind": kind, "shares": _shares(sealed)})


def decode_sealed_shares(data: bytes, *, kind: str) -> SealedShares:
    """Inverse of :func:`encode_sealed_shares`."""
    raw = json.loads(data)
    if raw.get("format") != _FORMAT or raw.get("kind") != kind:
        raise ValueError(f"not a FLAI {kind} blob")
    return _unshares(raw["shares"])


def encode_outputs(envelopes: Mapping[int, bytes]) -> bytes:
    """Serialize the compute nodes' sealed logit shares."""
    return canonical_json(
        {
            "format": _FORMAT,
            "kind": "logit-shares",
            "nodes": {str(k): _b64(v) for k, v in envelopes.items()},
        }
    )


def decode_outputs(data: bytes) -> dict[int, bytes]:
    """Inverse of :func:`encode_outputs`."""
    raw = json.loads(data)
    if raw.get("format") != _FORMAT or raw.get("kind") != "logit-shares":
        raise ValueError("not a FLAI logit-shares blob")
    return {int(k): _unb64(v) for k, v in raw["nodes"].items()}
