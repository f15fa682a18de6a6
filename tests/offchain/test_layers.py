"""The layer rules of docs/architecture.md, read from every import statement in flai/."""

import ast
from pathlib import Path

import pytest

import flai

PACKAGE = Path(flai.__file__).parent

# The flai subpackages each layer may import (besides itself and flai.errors).
ALLOWED = {
    "fl": set(),
    "mpc": {"fl"},
    "storage": set(),
    "pipeline": {"fl", "mpc", "storage"},
    "explorer": {"storage"},
    "chain": {"pipeline", "storage"},
}
CHAIN_CLIENTS = {"brownie", "web3", "eth_abi", "eth_account", "eth_utils"}


def _imports(path: Path) -> set[str]:
    """Every module an ``import`` or ``from … import`` in ``path`` names, at any depth."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _layer_imports(layer: str) -> dict[str, set[str]]:
    return {
        str(path.relative_to(PACKAGE)): _imports(path)
        for path in sorted((PACKAGE / layer).rglob("*.py"))
    }


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_each_layer_imports_only_the_layers_below_it(layer):
    allowed = ALLOWED[layer] | {layer, "errors"}
    offending = {
        module: sorted(
            name
            for name in names
            if name.startswith("flai.") and name.split(".")[1] not in allowed
        )
        for module, names in _layer_imports(layer).items()
    }
    assert {m: n for m, n in offending.items() if n} == {}


@pytest.mark.parametrize("layer", sorted(set(ALLOWED) - {"chain"}))
def test_brownie_is_imported_only_by_the_chain_adapter(layer):
    clients = {"brownie"} if layer == "explorer" else CHAIN_CLIENTS
    offending = {
        module: sorted(name for name in names if name.split(".")[0] in clients)
        for module, names in _layer_imports(layer).items()
    }
    assert {m: n for m, n in offending.items() if n} == {}


def test_the_scan_sees_the_chain_adapters_brownie_import():
    """The scan reads function-local imports: flai.chain imports brownie only inside functions."""
    names = set().union(*_layer_imports("chain").values())
    assert "brownie" in names
