"""Batched read-only contract calls (``eth_call``) decoded to JSON-ready values.

The indexer reads a few views at the indexed head (proposal states, balances, claimable
revenue) in one JSON-RPC batch per refresh. A call that reverts (an unknown id, a future
timepoint) yields ``None`` rather than failing the batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import eth_abi
from eth_abi.exceptions import DecodingError
from eth_utils import keccak
from web3 import Web3

from flai.explorer.abi import to_json_value, type_string
from flai.explorer.errors import ArtifactError, ChainReadError

__all__ = ["Call", "CallBook"]

#: Calls per JSON-RPC batch (nodes cap batch sizes; Anvil and geth accept well over this).
BATCH = 200


@dataclass(frozen=True)
class Call:
    """One view call: ``kind.function(*args)`` on ``address``; stored as (address, name, key)."""

    address: str
    kind: str
    function: str
    args: tuple[Any, ...] = ()
    key: str = ""
    name: str = ""

    @property
    def label(self) -> str:
        """The snapshot name (the function name unless given)."""
        return self.name or self.function


@dataclass(frozen=True)
class _Function:
    selector: bytes
    input_types: tuple[str, ...]
    outputs: tuple[Mapping[str, Any], ...]
    output_types: tuple[str, ...]


class CallBook:
    """Encodes and decodes view calls of the contract kinds whose ABIs it holds.

    Parameters
    ----------
    abis
        Contract kind -> ABI.
    """

    def __init__(self, *, abis: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        self._functions: dict[tuple[str, str, int], _Function] = {}
        for kind, abi in abis.items():
            for entry in abi:
                if entry.get("type") != "function":
                    continue
                types = tuple(type_string(p) for p in entry["inputs"])
                outputs = tuple(entry.get("outputs", ()))
                self._functions[(kind, str(entry["name"]), len(types))] = _Function(
                    selector=keccak(text=f"{entry['name']}({','.join(types)})")[:4],
                    input_types=types,
                    outputs=outputs,
                    output_types=tuple(type_string(p) for p in outputs),
                )

    def _function(self, call: Call) -> _Function:
        found = self._functions.get((call.kind, call.function, len(call.args)))
        if found is None:
            raise ArtifactError(
                call.kind, f"no function {call.function} with {len(call.args)} args"
            )
        return found

    def encode(self, call: Call) -> str:
        """The calldata of ``call`` as ``0x`` hex."""
        fn = self._function(call)
        return "0x" + (fn.selector + eth_abi.encode(list(fn.input_types), list(call.args))).hex()

    def decode(self, call: Call, result: bytes) -> Any:
        """The JSON-ready return value (a single value, or an object by output name)."""
        fn = self._function(call)
        values = eth_abi.decode(list(fn.output_types), result)
        if len(fn.outputs) == 1:
            return to_json_value(fn.outputs[0], values[0])
        return {
            (p.get("name") or f"out{i}"): to_json_value(p, v)
            for i, (p, v) in enumerate(zip(fn.outputs, values))
        }

    def run(self, w3: Web3, calls: Sequence[Call], *, block: int) -> list[Any]:
        """Results of ``calls`` at ``block`` (``None`` for a call that reverted).

        Raises
        ------
        ChainReadError
            If the node cannot be reached or rejects the batch as a whole.
        """
        out: list[Any] = []
        tag = hex(block)
        for start in range(0, len(calls), BATCH):
            chunk = calls[start : start + BATCH]
            requests = [
                ("eth_call", [{"to": c.address, "data": self.encode(c)}, tag]) for c in chunk
            ]
            try:
                responses = w3.provider.make_batch_request(requests)  # type: ignore[attr-defined]
            except Exception as exc:
                raise ChainReadError("eth_call", str(exc)) from exc
            if not isinstance(responses, list):
                detail = responses.get("error") if isinstance(responses, dict) else responses
                raise ChainReadError("eth_call", f"batch refused: {detail}")
            by_id = sorted(responses, key=lambda r: int(r.get("id", 0)))
            for call, response in zip(chunk, by_id):
                raw = response.get("result")
                if raw is None or "error" in response:
                    out.append(None)
                    continue
                data = bytes.fromhex(raw[2:]) if isinstance(raw, str) else bytes(raw)
                try:
                    out.append(self.decode(call, data))
                except (DecodingError, ValueError, OverflowError):  # empty: no contract there
                    out.append(None)
        return out
