"""The Python mirrors of the contracts' enums and structs (``flai.chain.abi``) against the
compiled contracts.

Brownie compiles the project when it loads it, so ``build/contracts/*.json`` holds the AST
of every source as compiled for this run. Every enum and every ABI-encodable struct of
``contracts/`` (test doubles excepted) must have a mirror whose members are the Solidity
members in declaration order (enum members in upper snake case, struct members in snake
case) and whose field types say how each member crosses the boundary. Reordering, renaming,
adding or retyping a Solidity member fails here instead of shifting a value silently.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import re
from pathlib import Path
from typing import Any, get_type_hints

import pytest

from flai.chain.abi import ENUMS, STRUCTS, Address, Selector, Tag

ROOT = Path(__file__).resolve().parents[2]


def _definitions() -> dict[str, tuple[str, str, list[tuple[str, str | None]]]]:
    """canonical name → (source path, node type, [(member, type string)]) of every enum and
    struct in the compiled sources."""
    out: dict[str, tuple[str, str, list[tuple[str, str | None]]]] = {}

    def walk(node: Any, source: str) -> None:
        if isinstance(node, dict):
            if node.get("nodeType") in ("EnumDefinition", "StructDefinition"):
                members = [
                    (m["name"], m.get("typeDescriptions", {}).get("typeString"))
                    for m in node.get("members", [])
                ]
                out.setdefault(node["canonicalName"], (source, node["nodeType"], members))
            for value in node.values():
                walk(value, source)
        elif isinstance(node, list):
            for value in node:
                walk(value, source)

    for path in sorted((ROOT / "build" / "contracts").glob("*.json")):
        artifact = json.loads(path.read_text())
        if "ast" in artifact:
            walk(artifact["ast"], artifact.get("sourcePath", ""))
    return out


@pytest.fixture(scope="module")
def definitions():
    found = _definitions()
    assert found, "no compiled AST under build/contracts"
    return found


def _ours(source: str) -> bool:
    return source.startswith("contracts/") and not source.startswith("contracts/test/")


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def test_every_contract_enum_and_struct_has_a_mirror(definitions):
    enums = {
        n for n, (src, kind, _) in definitions.items() if kind == "EnumDefinition" and _ours(src)
    }
    structs = {
        n
        for n, (src, kind, members) in definitions.items()
        if kind == "StructDefinition"
        and _ours(src)
        and not any((t or "").startswith("mapping") for _, t in members)
    }
    assert enums - set(ENUMS) == set(), "Solidity enums without a mirror in flai.chain.abi"
    assert structs - set(STRUCTS) == set(), "Solidity structs without a mirror in flai.chain.abi"
    assert set(ENUMS) - set(definitions) == set(), "mirrors of enums the contracts do not define"
    assert set(STRUCTS) - set(definitions) == set(), (
        "mirrors of structs the contracts do not define"
    )


@pytest.mark.parametrize("name", sorted(ENUMS))
def test_enum_mirror_matches_the_solidity_members_in_order(definitions, name):
    _, kind, members = definitions[name]
    assert kind == "EnumDefinition"
    mirror = ENUMS[name]
    expected = [(_snake(member).upper(), i) for i, (member, _) in enumerate(members)]
    assert [(m.name, m.value) for m in mirror] == expected, f"{mirror.__name__} vs {name}"


def _kind(type_string: str) -> Any:
    if re.fullmatch(r"u?int\d*", type_string):
        return int
    simple = {"bool": bool, "string": str, "address": Address, "bytes32": Tag, "bytes4": Selector}
    if type_string in simple:
        return simple[type_string]
    if type_string.startswith("enum "):
        return ENUMS[type_string.removeprefix("enum ")]
    if type_string.startswith("struct "):
        return STRUCTS[type_string.removeprefix("struct ").split(" ")[0]]
    raise AssertionError(f"no Python mirror type for Solidity {type_string!r}")


@pytest.mark.parametrize("name", sorted(STRUCTS))
def test_struct_mirror_matches_the_solidity_members_in_order(definitions, name):
    _, kind, members = definitions[name]
    assert kind == "StructDefinition"
    mirror = STRUCTS[name]
    hints = get_type_hints(mirror)
    fields = [(f.name, hints[f.name]) for f in dataclasses.fields(mirror)]
    expected = [(_snake(member), _kind(t or "")) for member, t in members]
    assert fields == expected, f"{mirror.__name__} vs {name}"


def _sample(kind: Any, i: int) -> Any:
    if kind is int:
        return 1_000 + i
    if kind is bool:
        return i % 2 == 1
    if kind is str:
        return f"bafy-{i}"
    if kind is Address:
        return Address("0x" + f"{i + 1:040x}")
    if kind is Tag:
        return Tag(f"tag-{i}")
    if kind is Selector:
        return Selector(f"0x{i + 1:08x}")
    if isinstance(kind, type) and issubclass(kind, enum.IntEnum):
        return list(kind)[i % len(kind)]
    return _instance(kind)


def _instance(mirror: Any) -> Any:
    hints = get_type_hints(mirror)
    return mirror(
        **{f.name: _sample(hints[f.name], i) for i, f in enumerate(dataclasses.fields(mirror))}
    )


def _as_returned(value: Any) -> Any:
    """A struct tuple as brownie returns it: bytes members as 0x-hex strings."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, tuple):
        return tuple(_as_returned(v) for v in value)
    return value


@pytest.mark.parametrize("name", sorted(STRUCTS))
def test_struct_mirror_round_trips_through_its_abi_tuple(name):
    mirror = STRUCTS[name]
    value = _instance(mirror)
    encoded = value.as_tuple()
    assert len(encoded) == len(dataclasses.fields(mirror))
    assert mirror.from_tuple(_as_returned(encoded)) == value
