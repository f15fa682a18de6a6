"""Contract ABIs from brownie's build artifacts and a fast event decoder per contract kind.

ABIs are read by contract name from ``build/contracts/<Name>.json`` (what brownie writes when
it compiles the project). Logs are decoded with :mod:`eth_abi` against the ABI of the
emitting contract's kind, so two events with one signature but different indexed arguments
(ERC-20 vs ERC-721 ``Transfer``) never get mixed up.

Decoded values are JSON-ready: addresses checksummed, ``bytes``/``bytesN`` as ``0x`` hex,
integers as ``int``, tuples as objects keyed by component name, arrays as lists.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import eth_abi
from eth_abi.exceptions import DecodingError
from eth_utils import keccak, to_checksum_address

from flai.explorer.errors import ArtifactError

__all__ = [
    "CONTRACT_KINDS",
    "DecodedEvent",
    "EventCodec",
    "default_build_dir",
    "load_abi",
    "selector_names",
    "to_json_value",
    "type_string",
]

#: The contract kinds the explorer indexes, by artifact name.
CONTRACT_KINDS = (
    "FLAIToken",
    "SuperDAOStaking",
    "TimelockController",
    "SuperDAOGovernor",
    "RFMRegistry",
    "SubDAOFactory",
    "Marketplace",
    "SubDAO",
    "SBGT",
    "SDT",
    "SubDAOChamber",
    "TrainingRounds",
    "RevenueSplitter",
    "ERC20",
)


def default_build_dir(start: Path | None = None) -> Path:
    """``build/contracts`` of the project at or above ``start`` (default: the current folder),
    else of the checkout this package lives in."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "brownie-config.yaml").is_file():
            return folder / "build" / "contracts"
    return Path(__file__).resolve().parents[2] / "build" / "contracts"


def load_abi(name: str, *, build_dir: Path) -> list[dict[str, Any]]:
    """The ABI of contract ``name`` from ``build_dir/<name>.json``.

    Raises
    ------
    ArtifactError
        If the artifact is missing or has no ABI (compile the project first).
    """
    path = build_dir / f"{name}.json"
    try:
        artifact = json.loads(path.read_text(encoding="utf-8"))
        abi = artifact["abi"]
    except FileNotFoundError:
        raise ArtifactError(name, f"{path} not found (run `make compile`)") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(name, f"{path}: {exc}") from exc
    if not isinstance(abi, list):
        raise ArtifactError(name, f"{path}: 'abi' is not a list")
    return abi


def type_string(param: Mapping[str, Any]) -> str:
    """The canonical ABI type of a parameter (tuples spelled out: ``(address,uint256)[]``)."""
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(type_string(c) for c in param["components"])
        return f"({inner}){kind[5:]}"
    return kind


def _signature(entry: Mapping[str, Any]) -> str:
    return f"{entry['name']}({','.join(type_string(p) for p in entry['inputs'])})"


def to_json_value(param: Mapping[str, Any], value: Any) -> Any:
    """A decoded ABI value as JSON: checksummed addresses, ``0x`` hex bytes, tuples as objects."""
    kind = str(param["type"])
    if kind.endswith("]"):
        element = dict(param, type=kind[: kind.rindex("[")])
        return [to_json_value(element, v) for v in value]
    if kind == "tuple":
        return {c["name"]: to_json_value(c, v) for c, v in zip(param["components"], value)}
    if kind == "address":
        return str(to_checksum_address(value))
    if kind.startswith("bytes"):
        return "0x" + bytes(value).hex()
    if isinstance(value, bool | int | str):
        return value
    return str(value)


@dataclass(frozen=True)
class DecodedEvent:
    """One decoded log: the event name and its arguments by name."""

    name: str
    args: dict[str, Any]


@dataclass(frozen=True)
class _EventSpec:
    name: str
    indexed: tuple[Mapping[str, Any], ...]
    data: tuple[Mapping[str, Any], ...]
    data_types: tuple[str, ...]
    order: tuple[str, ...]


_DYNAMIC_INDEXED = ("string", "bytes", "tuple")


class EventCodec:
    """Decodes logs of one contract kind.

    Parameters
    ----------
    abi
        The contract's ABI (events are taken from it).
    """

    def __init__(self, *, abi: Sequence[Mapping[str, Any]]) -> None:
        self._by_topic: dict[bytes, _EventSpec] = {}
        for entry in abi:
            if entry.get("type") != "event" or entry.get("anonymous"):
                continue
            inputs = tuple(entry["inputs"])
            data = tuple(p for p in inputs if not p.get("indexed"))
            spec = _EventSpec(
                name=str(entry["name"]),
                indexed=tuple(p for p in inputs if p.get("indexed")),
                data=data,
                data_types=tuple(type_string(p) for p in data),
                order=tuple(str(p["name"]) for p in inputs),
            )
            self._by_topic[keccak(text=_signature(entry))] = spec

    @property
    def topics(self) -> list[bytes]:
        """topic0 of every event this codec decodes."""
        return list(self._by_topic)

    def decode(self, topics: Sequence[bytes], data: bytes) -> DecodedEvent | None:
        """Decode one log (``None`` if its topic0 is not an event of this kind, or the log
        does not fit the event's layout)."""
        if not topics:
            return None
        spec = self._by_topic.get(bytes(topics[0]))
        if spec is None or len(topics) != 1 + len(spec.indexed):
            return None
        args: dict[str, Any] = {}
        for param, topic in zip(spec.indexed, topics[1:]):
            kind = str(param["type"])
            if kind.startswith(_DYNAMIC_INDEXED) or kind.endswith("]"):
                args[param["name"]] = "0x" + bytes(topic).hex()  # only the hash is logged
            else:
                (value,) = eth_abi.decode([kind], bytes(topic))
                args[param["name"]] = to_json_value(param, value)
        try:
            values = eth_abi.decode(list(spec.data_types), bytes(data)) if spec.data else ()
        except (DecodingError, ValueError, OverflowError):  # not this signature's layout
            return None
        for param, value in zip(spec.data, values):
            args[param["name"]] = to_json_value(param, value)
        return DecodedEvent(name=spec.name, args={name: args[name] for name in spec.order})


def selector_names(abi: Sequence[Mapping[str, Any]]) -> dict[str, tuple[str, list[str]]]:
    """``0x`` selector -> (function name, argument type strings) of every function in ``abi``."""
    out: dict[str, tuple[str, list[str]]] = {}
    for entry in abi:
        if entry.get("type") == "function":
            types = [type_string(p) for p in entry["inputs"]]
            selector = "0x" + keccak(text=f"{entry['name']}({','.join(types)})")[:4].hex()
            out[selector] = (str(entry["name"]), types)
    return out
