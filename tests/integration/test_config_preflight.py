"""A bad scenario stops the real lifecycle entry before its first transaction.

Each config hole is fed to ``scripts/rfm_lifecycle.py``'s entry (the function ``flai run``
calls) on this suite's Anvil: it raises a :class:`ConfigError` naming the field, and the
chain shows no new block and no account's nonce moved; the path-traversal party name
leaves no file outside the work directory. One case runs ``flai run`` itself in a
subprocess with an invalid ``FLAI_PIPELINE_FAULT``: exit status 2, the variable named,
nothing sent.
"""

from __future__ import annotations

import copy
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from brownie import web3

from flai.chain.runtime import CHAIN_RPC_ENV
from flai.pipeline import FAULT_ENV, ConfigError
from scripts.rfm_lifecycle import lifecycle

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "configs" / "scenario.yaml"


def _chain_state() -> tuple[int, tuple[int, ...]]:
    """The block number and the nonce of every account of the node."""
    return web3.eth.block_number, tuple(
        web3.eth.get_transaction_count(a) for a in web3.eth.accounts
    )


def _write(tmp_path: Path, edit) -> Path:
    raw = copy.deepcopy(yaml.safe_load(CONFIG.read_text()))
    edit(raw)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _set(dotted: str, value: Any):
    def edit(raw: dict[str, Any]) -> None:
        *parents, leaf = dotted.split(".")
        node: Any = raw
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[int(leaf) if isinstance(node, list) else leaf] = value

    return edit


HOLES = {
    "validator stake 1e60": (_set("validators.0.stake", 10**60), "validators[0].stake"),
    "base_price 2^256": (_set("inference.base_price", 2**256), "inference.base_price"),
    "backers {}": (_set("backers", {}), "backers"),
    "points_per_round 1e60": (_set("points_per_round", 10**60), "points_per_round"),
    "hospital size NaN": (_set("hospitals.0.size", math.nan), "hospitals[0].size"),
    "learning_rate inf": (_set("training.learning_rate", math.inf), "training.learning_rate"),
    "compute.nodes 1e6": (_set("compute.nodes", 10**6), "compute.nodes"),
    "requests 1e9": (_set("inference.requests.external", 10**9), "inference.requests.external"),
    "vote_tolerance NaN": (_set("training.vote_tolerance", math.nan), "training.vote_tolerance"),
    "max_update_norm inf": (
        _set("training.max_update_norm", math.inf),
        "training.max_update_norm",
    ),
    "path-traversal name": (_set("requester", "x/../../../escaped-key"), "requester"),
    "empty name": (_set("hospitals.0.name", ""), "hospitals[0].name"),
    "compute.nodes 0": (_set("compute.nodes", 0), "compute.nodes"),
    "offline round out of range": (_set("compute.offline", {5: [0]}), "compute.offline.5"),
    "negative seed": (_set("seed", -1), "seed"),
    "a hospital without data": (_set("hospitals.4.size", 1e-6), "hospitals"),
}


@pytest.mark.parametrize(("edit", "field"), HOLES.values(), ids=HOLES.keys())
def test_bad_scenario_stops_the_lifecycle_before_any_transaction(tmp_path, edit, field):
    config = _write(tmp_path, edit)
    work = tmp_path / "work"
    before = _chain_state()
    with pytest.raises(ConfigError) as info:
        lifecycle(str(config), str(work))
    assert info.value.field == field
    assert _chain_state() == before
    assert not work.exists()  # no key, journal or IPFS repository was written either
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


def test_invalid_fault_hook_stops_the_lifecycle_before_any_transaction(tmp_path, monkeypatch):
    monkeypatch.setenv(FAULT_ENV, "kill:whenever:round/*")
    before = _chain_state()
    with pytest.raises(ConfigError) as info:
        lifecycle(str(CONFIG), str(tmp_path / "work"))
    assert info.value.field == FAULT_ENV
    assert _chain_state() == before


def test_flai_run_reports_an_invalid_fault_hook_and_sends_nothing(tmp_path):
    env = dict(os.environ)
    env[FAULT_ENV] = "kill:soon"
    env[CHAIN_RPC_ENV] = web3.provider.endpoint_uri
    before = _chain_state()
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("flai")),
            "run",
            "scripts/rfm_lifecycle.py",
            "main",
            str(CONFIG),
            str(tmp_path / "work"),
        ],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr[-3000:]
    assert f"config field '{FAULT_ENV}'" in done.stderr
    assert _chain_state() == before
