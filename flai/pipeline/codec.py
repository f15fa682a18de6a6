"""Wire formats of what the pipeline stores on IPFS, decoded defensively.

Everything is canonical JSON (:func:`flai.storage.canonical_json`) with byte strings in
base64, so a blob is self-describing and its CID is a function of its content only.

- **Update bundle** (one per custodian per round, the CID committed on chain): the update
  secret-shared twice, both times to the compute nodes only — as seed-compressed
  replicated shares in Z_{2^44} for aggregation (:class:`flai.mpc.AggregationClient`) and
  as three-party shares in Z_{2^128} for secure scoring (:class:`flai.mpc.ScoringClient`)
  — plus the declared sample count. In plaintext on IPFS: the round, custodian name and
  index, sample count and sizes — never the update.
- **Sealed query / sealed outputs** of secret-shared inference.

Every decoder treats its input as hostile: whatever the bytes (not JSON, a JSON number,
list or ``null``, a missing or mistyped field, bad base64, an oversized shape), it raises
:class:`~flai.pipeline.errors.MalformedBlobError` naming the field, never another
exception, so the receiving party can blame the sender and carry on.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flai.mpc import MultiEnvelope, SealedShares
from flai.mpc.rss3 import SealedInput
from flai.pipeline.errors import MalformedBlobError
from flai.storage import canonical_json

__all__ = [
    "UpdateBundle",
    "decode_bundle",
    "decode_outputs",
    "decode_sealed_shares",
    "encode_bundle",
    "encode_outputs",
    "encode_sealed_shares",
    "update_aad",
]

_FORMAT = "flai/pipeline/v2"
_MAX_LENGTH = 1 << 24
"""Largest vector length or shape entry a decoder accepts (a bound, not a model size)."""
_MAX_RECIPIENTS = 1 << 10


def update_aad(round_id: int, client_id: int) -> bytes:
    """Associated data binding a custodian's upload to its round and sender."""
    return b"flai/pipeline/update" + struct.pack(">QQ", round_id, client_id)


@dataclass(frozen=True)
class UpdateBundle:
    """A custodian's committed bundle, decoded (its header is readable by anyone)."""

    round_id: int
    custodian: str
    client_id: int
    num_samples: int
    for_nodes: SealedShares
    """Aggregation shares (Z_{2^44}), sealed to the compute nodes."""
    for_scoring: SealedInput
    """Scoring shares (Z_{2^128}), sealed to the three scoring nodes."""


# ----------------------------------------------------------------------------- encoding


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _envelope(env: MultiEnvelope) -> dict[str, Any]:
    return {"body": _b64(env.body), "keys": {str(k): _b64(v) for k, v in env.keys.items()}}


def _shares(sealed: SealedShares) -> dict[str, Any]:
    return {
        "envelope": _envelope(sealed.envelope),
        "length": sealed.length,
        "scale_bits": sealed.scale_bits,
        "correction": sealed.correction,
    }


def _input(sealed: SealedInput) -> dict[str, Any]:
    return {
        "envelope": _envelope(sealed.envelope),
        "shape": list(sealed.shape),
        "correction": sealed.correction,
    }


# ----------------------------------------------------------------------------- decoding


class _Reader:
    """Typed field access that blames the blob, naming the field's path."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def fail(self, path: str, reason: str) -> MalformedBlobError:
        return MalformedBlobError(kind=self.kind, field=path, reason=reason)

    def load(self, data: object, tag: str) -> Mapping[str, Any]:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise self.fail("", f"expected bytes, got {type(data).__name__}")
        try:
            raw = json.loads(bytes(data))
        except (ValueError, RecursionError) as exc:
            raise self.fail("", f"not JSON ({exc.__class__.__name__})") from None
        obj = self.mapping(raw, "")
        if obj.get("format") != _FORMAT or obj.get("kind") != tag:
            raise self.fail("format", f"not a {_FORMAT} {tag!r} blob")
        return obj

    def mapping(self, value: object, path: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected an object, got {_json_type(value)}")
        return value

    def get(self, obj: Mapping[str, Any], key: str, path: str) -> Any:
        where = f"{path}.{key}" if path else key
        if key not in obj:
            raise self.fail(where, "missing")
        return obj[key]

    def integer(
        self, obj: Mapping[str, Any], key: str, path: str, *, low: int = 0, high: int = 2**63
    ) -> int:
        value = self.get(obj, key, path)
        where = f"{path}.{key}" if path else key
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(where, f"expected an integer, got {_json_type(value)}")
        if not low <= value <= high:
            raise self.fail(where, f"{value} outside [{low}, {high}]")
        return value

    def text(self, obj: Mapping[str, Any], key: str, path: str) -> str:
        value = self.get(obj, key, path)
        if not isinstance(value, str):
            raise self.fail(
                f"{path}.{key}" if path else key, f"expected a string, got {_json_type(value)}"
            )
        return value

    def blob(self, value: object, path: str) -> bytes:
        if not isinstance(value, str):
            raise self.fail(path, f"expected base64 text, got {_json_type(value)}")
        try:
            return base64.b64decode(value.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise self.fail(path, "invalid base64") from None

    def envelope(self, value: object, path: str) -> MultiEnvelope:
        obj = self.mapping(value, path)
        keys = self.mapping(self.get(obj, "keys", path), f"{path}.keys")
        if len(keys) > _MAX_RECIPIENTS:
            raise self.fail(f"{path}.keys", f"{len(keys)} recipients")
        parsed: dict[int, bytes] = {}
        for k, v in keys.items():
            if not (isinstance(k, str) and k.isdigit() and len(k) <= 6):
                raise self.fail(f"{path}.keys", f"recipient {k!r} is not an index")
            parsed[int(k)] = self.blob(v, f"{path}.keys.{k}")
        return MultiEnvelope(
            body=self.blob(self.get(obj, "body", path), f"{path}.body"), keys=parsed
        )

    def shares(self, value: object, path: str) -> SealedShares:
        obj = self.mapping(value, path)
        return SealedShares(
            envelope=self.envelope(self.get(obj, "envelope", path), f"{path}.envelope"),
            length=self.integer(obj, "length", path, high=_MAX_LENGTH),
            scale_bits=self.integer(obj, "scale_bits", path, high=63),
            correction=self.integer(obj, "correction", path, high=_MAX_RECIPIENTS),
        )

    def input(self, value: object, path: str) -> SealedInput:
        obj = self.mapping(value, path)
        shape = self.get(obj, "shape", path)
        if not isinstance(shape, list) or not 1 <= len(shape) <= 4:
            raise self.fail(f"{path}.shape", "expected a list of 1 to 4 sizes")
        dims = tuple(
            self.integer({"size": s}, "size", f"{path}.shape[{i}]", high=_MAX_LENGTH)
            for i, s in enumerate(shape)
        )
        return SealedInput(
            envelope=self.envelope(self.get(obj, "envelope", path), f"{path}.envelope"),
            shape=dims,
            correction=self.integer(obj, "correction", path, high=2),
        )


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def encode_bundle(
    *,
    round_id: int,
    custodian: str,
    client_id: int,
    num_samples: int,
    for_nodes: SealedShares,
    for_scoring: SealedInput,
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
            "nodes": _shares(for_nodes),
            "scoring": _input(for_scoring),
        }
    )


def decode_bundle(data: object) -> UpdateBundle:
    """The :class:`UpdateBundle` in ``data``.

    Raises
    ------
    MalformedBlobError
        Anything that is not a well-formed bundle (names the field).
    """
    r = _Reader("update bundle")
    raw = r.load(data, "update")
    return UpdateBundle(
        round_id=r.integer(raw, "round_id", ""),
        custodian=r.text(raw, "custodian", ""),
        client_id=r.integer(raw, "client_id", ""),
        num_samples=r.integer(raw, "num_samples", ""),
        for_nodes=r.shares(r.get(raw, "nodes", ""), "nodes"),
        for_scoring=r.input(r.get(raw, "scoring", ""), "scoring"),
    )


def encode_sealed_shares(sealed: SealedShares, *, kind: str) -> bytes:
    """Serialize a sealed replicated upload (an inference query)."""
    return canonical_json({"format": _FORMAT, "kind": kind, "shares": _shares(sealed)})


def decode_sealed_shares(data: object, *, kind: str) -> SealedShares:
    """Inverse of :func:`encode_sealed_shares` (raises :class:`MalformedBlobError`)."""
    r = _Reader(kind)
    return r.shares(r.get(r.load(data, kind), "shares", ""), "shares")


def encode_outputs(envelopes: Mapping[int, bytes]) -> bytes:
    """Serialize the compute nodes' sealed logit shares."""
    return canonical_json(
        {
            "format": _FORMAT,
            "kind": "logit-shares",
            "nodes": {str(k): _b64(v) for k, v in envelopes.items()},
        }
    )


def decode_outputs(data: object) -> dict[int, bytes]:
    """Inverse of :func:`encode_outputs` (raises :class:`MalformedBlobError`)."""
    r = _Reader("logit-shares")
    nodes = r.mapping(r.get(r.load(data, "logit-shares"), "nodes", ""), "nodes")
    out: dict[int, bytes] = {}
    for k, v in nodes.items():
        if not (isinstance(k, str) and k.isdigit() and len(k) <= 6):
            raise r.fail("nodes", f"node {k!r} is not an index")
        out[int(k)] = r.blob(v, f"nodes.{k}")
    return out
