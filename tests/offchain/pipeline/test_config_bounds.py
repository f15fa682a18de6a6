"""Scenario bounds: every number within what the contracts and the engine accept, finite
floats, safe party names, a fundable scenario; each refusal a ConfigError naming the field.

The bounds mirrored from a contract or from ``flai.chain.PlatformConfig`` are pinned to
their source here, so the parser cannot drift from what the chain enforces.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import subprocess
import sys
from typing import Any

import pytest
import yaml

from flai.chain import PlatformConfig
from flai.fl.coalition import MAX_PLAYERS
from flai.mpc.rss3 import N_NODES
from flai.pipeline import (
    FAULT_ENV,
    ConfigError,
    KeyStore,
    check_fault_hook,
    load_config,
    parse_config,
    preflight,
)
from flai.pipeline import config as cfg
from tests.offchain.pipeline.conftest import ROOT, SCENARIO

WAD = 10**18
CONTRACTS = ROOT / "contracts"


def _raw() -> dict[str, Any]:
    return yaml.safe_load(SCENARIO.read_text())


def _refused(raw: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(raw)
    return info.value


def _edit(**changes: Any) -> dict[str, Any]:
    """The shipped scenario with dotted-path ``changes`` (``training__learning_rate=…``)."""
    raw = copy.deepcopy(_raw())
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        node: Any = raw
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[int(leaf) if isinstance(node, list) else leaf] = value
    return raw


# ------------------------------------------------------------------ config holes, each refused naming its field

HOLES = {
    # accepted, then failing after the first transactions
    "validator stake 1e60": (_edit(validators__0__stake=10**60), "validators[0].stake"),
    "base_price 2^256": (_edit(inference__base_price=2**256), "inference.base_price"),
    "base_price above uint96": (_edit(inference__base_price=2**96), "inference.base_price"),
    "backers {}": (_edit(backers={}), "backers"),
    "points_per_round 1e60": (_edit(points_per_round=10**60), "points_per_round"),
    "points_per_round above 2^80 wei": (
        _edit(points_per_round=cfg.MAX_POINTS + 1),
        "points_per_round",
    ),
    "hospital size NaN": (_edit(hospitals__0__size=math.nan), "hospitals[0].size"),
    "learning_rate inf": (_edit(training__learning_rate=math.inf), "training.learning_rate"),
    # no upper bounds
    "compute.nodes 1e6": (_edit(compute__nodes=10**6), "compute.nodes"),
    "requests 1e9": (
        _edit(inference__requests={"external": 10**9, "requester": 1, "member": 1}),
        "inference.requests.external",
    ),
    "requests over the total bound": (
        _edit(inference__requests={"external": 6_000, "requester": 6_000, "member": 0}),
        "inference.requests",
    ),
    # checks switched off by a non-finite value
    "vote_tolerance NaN": (_edit(training__vote_tolerance=math.nan), "training.vote_tolerance"),
    "max_update_norm inf": (
        _edit(training__max_update_norm=math.inf),
        "training.max_update_norm",
    ),
    # names
    "hospital name path traversal": (
        _edit(hospitals__0__name="x/../../../escaped-key"),
        "hospitals[0].name",
    ),
    "validator name path traversal": (
        _edit(validators__0__name="x/../../../escaped-key"),
        "validators[0].name",
    ),
    "requester name path traversal": (_edit(requester="x/../../../escaped-key"), "requester"),
    "scenario name path traversal": (_edit(name="../elsewhere"), "name"),
    "empty hospital name": (_edit(hospitals__1__name=""), "hospitals[1].name"),
    "empty requester name": (_edit(requester=""), "requester"),
    "non-ASCII digits in a name": (_edit(hospitals__0__name="lab-٣"), "hospitals[0].name"),
    "name starting with a dash": (_edit(hospitals__0__name="-lab"), "hospitals[0].name"),
    "validator named like a compute node key": (
        _edit(validators__0__name="node-0"),
        "validators[0].name",
    ),
    "validator named like a user key": (
        _edit(validators__0__name="user-st-mary"),
        "validators[0].name",
    ),
    # minor
    "compute.nodes 0": (_edit(compute__nodes=0), "compute.nodes"),
    "offline round past the last": (_edit(compute__offline={3: [0]}), "compute.offline.3"),
    "offline round negative": (_edit(compute__offline={-1: [0]}), "compute.offline.-1"),
    "negative seed": (_edit(seed=-1), "seed"),
    "20k hospitals": (
        _edit(hospitals=[{"name": f"h{i}"} for i in range(20_000)]),
        "hospitals",
    ),
}


@pytest.mark.parametrize(("raw", "field"), HOLES.values(), ids=HOLES.keys())
def test_config_hole_is_refused_naming_the_field(raw, field):
    error = _refused(raw)
    assert error.field == field
    assert repr(field) in str(error)


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_200k_digit_integer_is_a_clean_error(tmp_path, suffix):
    huge = "9" * 200_000
    raw = _raw() | {"seed": 0}
    text = yaml.safe_dump(raw) if suffix == ".yaml" else json.dumps(raw)
    marker = "seed: 0" if suffix == ".yaml" else '"seed": 0'
    assert text.count(marker) == 1
    path = tmp_path / f"huge{suffix}"
    path.write_text(text.replace(marker, marker[:-1] + huge))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.field == "<file>"
    assert str(path) in info.value.problem


def test_integer_beyond_uint256_that_parses_names_its_field():
    error = _refused(_edit(rfm__sdt_cap=10**100))
    assert (error.field, error.problem) == (
        "rfm.sdt_cap",
        "a 333-bit integer is out of uint256 range",
    )


def test_bad_utf8_is_a_clean_error(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(SCENARIO.read_bytes().replace(b"st-mary", b"st-m\xe4ry"))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.field == "<file>"
    assert "not UTF-8" in info.value.problem


def test_yaml_nan_and_inf_literals_are_refused(tmp_path):
    text = SCENARIO.read_text()
    for old, new, field in (
        ("size: 1.2}", "size: .nan}", "hospitals[0].size"),
        ("learning_rate: 0.1", "learning_rate: .inf", "training.learning_rate"),
        ("vote_tolerance: 0.0", "vote_tolerance: .nan", "training.vote_tolerance"),
        ("max_update_norm: 10.0", "max_update_norm: .inf", "training.max_update_norm"),
    ):
        path = tmp_path / "nonfinite.yaml"
        path.write_text(text.replace(old, new, 1))
        with pytest.raises(ConfigError) as info:
            load_config(path)
        assert info.value.field == field
        assert "finite" in info.value.problem


def test_invalid_fault_hook_is_a_config_error_naming_the_variable(scenario):
    with pytest.raises(ConfigError) as info:
        check_fault_hook({FAULT_ENV: "kill:sometime:round/*"})
    assert info.value.field == FAULT_ENV
    with pytest.raises(ConfigError) as info:
        preflight(scenario, environ={FAULT_ENV: "explode"})
    assert info.value.field == FAULT_ENV
    preflight(scenario, environ={FAULT_ENV: "kill:after:round/1/*"})
    preflight(scenario, environ={})


def test_preflight_refuses_a_split_that_leaves_a_hospital_without_data(scenario):
    raw = _edit(hospitals__4__size=1e-6)
    config = parse_config(raw)  # the size is a finite positive number
    with pytest.raises(ConfigError) as info:
        preflight(config, environ={})
    assert info.value.field == "hospitals"
    assert "split" in info.value.problem


def test_preflight_refuses_more_validators_than_holdout_rows():
    validators = [{"name": f"v{i}", "stake": 1} for i in range(cfg.MAX_VALIDATORS)]
    config = parse_config(_edit(validators=validators))
    with pytest.raises(ConfigError) as info:
        preflight(config, environ={})
    assert info.value.field == "validators"


def test_duplicate_party_names_are_found_among_the_most_hospitals():
    hospitals = [{"name": f"h{i}"} for i in range(cfg.MAX_HOSPITALS - 1)] + [{"name": "h0"}]
    error = _refused(_edit(hospitals=hospitals, backers={"h1": 10}))
    assert error.field == "hospitals"
    assert "'h0' is used twice" in error.problem


def test_external_user_name_collision_is_a_duplicate():
    error = _refused(_edit(hospitals__0__name="external-0"))
    assert (error.field, "'external-0' is used twice" in error.problem) == ("hospitals", True)


def test_unfundable_scenario_names_the_largest_need():
    # each amount within its own bound, the sum beyond what the deployer holds
    raw = _edit(
        validators__0__stake=cfg.DEPLOYER_FLAI // 2,
        validators__1__stake=cfg.DEPLOYER_FLAI // 2,
    )
    error = _refused(raw)
    assert error.field == "validators[0].stake"
    assert f"more than the {cfg.DEPLOYER_FLAI}" in error.problem


def test_prices_a_payer_cannot_afford_are_refused():
    # 30 external requests over 3 users at 10·x each: 100·x per user > 1000 FLAI at x = 11
    error = _refused(_edit(inference__base_price=11 * WAD))
    assert error.field == "onboarding.funds"
    assert "an external user" in error.problem
    parse_config(_edit(inference__base_price=10 * WAD))  # 100 · 10 FLAI = the funds exactly


def test_crowdfund_sdt_beyond_the_cap_is_refused():
    error = _refused(_edit(rfm__sdt_cap=999 * WAD))  # the backers give 1000 FLAI → 1000 SDT
    assert error.field == "rfm.sdt_cap"
    parse_config(_edit(rfm__sdt_cap=1000 * WAD))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"points_decay": 1.0}, "points_decay"),
        ({"points_decay": 0.79}, "points_decay"),
        ({"onboarding__collateral": 0}, "onboarding.collateral"),
        ({"onboarding__founding_points": cfg.MAX_POINTS + 1}, "onboarding.founding_points"),
        ({"governance__member_stake": cfg.MIN_MEMBER_STAKE - 1}, "governance.member_stake"),
        ({"governance__members": cfg.MAX_MEMBERS + 1}, "governance.members"),
        ({"governance__vote_window": 2**32}, "governance.vote_window"),
        ({"governance__chamber_voting_period": 10**9}, "governance.chamber_voting_period"),
        ({"inference__timeout": 2**32}, "inference.timeout"),
        ({"inference__externals": 10**6}, "inference.externals"),
        ({"analytics__price": 2**96}, "analytics.price"),
        ({"rfm__epoch_length": 2**32}, "rfm.epoch_length"),
        ({"rfm__crowdfund_days": 10**15}, "rfm.crowdfund_days"),
        ({"rfm__sdt_cap": 2**96}, "rfm.sdt_cap"),
        ({"rfm__sdt_per_payment_unit": 10**9 * WAD * WAD + 1}, "rfm.sdt_per_payment_unit"),
        ({"rounds": cfg.MAX_ROUNDS + 1}, "rounds"),
        ({"seed": cfg.MAX_SEED + 1}, "seed"),
        ({"training__epochs": 10**9}, "training.epochs"),
        ({"training__vote_tolerance": 2.0}, "training.vote_tolerance"),
        ({"compute__nodes": 5, "compute__threshold": 2}, "compute.nodes"),
        ({"compute__nodes": 3, "compute__threshold": 0}, "compute.threshold"),
        ({"validators": [{"name": f"v{i}", "stake": 1} for i in range(257)]}, "validators"),
        ({"backers": {"pharma-co": 0}}, "backers.pharma-co"),
        ({"backers": {"pharma-co": 1.5}}, "backers.pharma-co"),
        ({"compute__offline": {True: [0]}}, "compute.offline.True"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bound_is_enforced(changes, field):
    assert _refused(_edit(**changes)).field == field


def test_values_at_the_bounds_are_accepted():
    config = parse_config(
        _edit(
            points_per_round=cfg.MAX_POINTS,
            points_decay=cfg.MAX_DECAY,
            inference__timeout=2**32 - 1,
            governance__vote_window=2**32 - 1,
            rfm__sdt_cap=2**96 - 1,
            seed=cfg.MAX_SEED,
            compute__nodes=cfg.COMPUTE_NODES,
            compute__threshold=1,
            compute__offline={0: [0], 2: [1]},
        )
    )
    assert config.points_per_round * WAD <= 2**80
    assert config.compute.offline == {0: (0,), 2: (1,)}


# ------------------------------------------------------------------ bounds pinned to source


def _sol_constant(contract: str, name: str) -> str:
    source = next(CONTRACTS.rglob(f"{contract}.sol")).read_text()
    match = re.search(rf"\bconstant {name} = ([^;]+);", source)
    assert match, f"{contract}.{name}"
    return match.group(1).strip()


def test_contract_bounds_match_the_contracts():
    assert _sol_constant("TrainingOnboarding", "MAX_MEMBERS") == str(cfg.MAX_VALIDATORS)
    assert _sol_constant("TrainingOnboarding", "MIN_DEPOSIT") == "1e18"  # collateral >= 1
    assert _sol_constant("TrainingRounds", "MAX_POINTS_PER_ROUND") == "2 ** 80"
    assert _sol_constant("SBGT", "MAX_AWARD") == "2 ** 80"
    assert cfg.MAX_POINTS == 2**80 // WAD
    assert _sol_constant("SBGT", "MIN_LAMBDA") == f"{cfg.MIN_DECAY}e18"
    assert _sol_constant("SBGT", "MAX_LAMBDA") == f"{cfg.MAX_DECAY}e18"
    assert _sol_constant("Marketplace", "_EXTERNAL_MULTIPLIER") == str(cfg.EXTERNAL_MULTIPLIER)
    assert _sol_constant("Marketplace", "_REQUESTER_MULTIPLIER") == str(cfg.REQUESTER_MULTIPLIER)
    # SBGT's index (2^200 down to 2^90) lasts MAX_ROUNDS rounds at the smallest λ
    assert 110 * math.log(2) / -math.log(cfg.MIN_DECAY) > cfg.MAX_ROUNDS


def test_funding_bounds_match_the_platform_defaults():
    platform = PlatformConfig()
    assert cfg.DEPLOYER_FLAI * WAD == platform.total_supply - platform.treasury_allocation
    assert cfg.CREATION_FEE * WAD == platform.creation_fee
    assert cfg.MIN_MEMBER_STAKE * WAD == platform.minimum_stake


def test_engine_bounds_match_the_engine():
    assert cfg.MAX_HOSPITALS == MAX_PLAYERS
    assert cfg.COMPUTE_NODES == N_NODES


# ------------------------------------------------------------------ key files


def test_key_store_refuses_names_that_leave_its_directory(tmp_path):
    keys = KeyStore(directory=tmp_path / "work" / "keys")
    for name in ("x/../../../escaped-key", "../escaped-key", "/tmp/escaped-key", "", ".hidden"):
        with pytest.raises(ConfigError) as info:
            keys.key(name)
        assert repr(name) in info.value.problem
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["keys", "work"]


def test_key_store_refuses_a_key_file_linked_outside(tmp_path):
    keys = KeyStore(directory=tmp_path / "keys")
    outside = tmp_path / "outside.x25519"
    (tmp_path / "keys" / "val-eu.x25519").symlink_to(outside)
    with pytest.raises(ConfigError, match="resolves outside"):
        keys.key("val-eu")
    assert not outside.exists()


def test_key_store_writes_a_private_file_inside(tmp_path):
    keys = KeyStore(directory=tmp_path / "keys")
    pair = keys.key("node-0")
    path = tmp_path / "keys" / "node-0.x25519"
    assert path.read_bytes() == pair.private_bytes()
    assert path.stat().st_mode & 0o777 == 0o600
    assert keys.key("node-0").public_bytes == pair.public_bytes


def test_shipped_scenario_passes_preflight(scenario):
    preflight(scenario, environ={})


def test_offline_cli_refuses_an_invalid_fault_hook_before_anything_runs(tmp_path):
    work = tmp_path / "work"
    proc = subprocess.run(
        [sys.executable, "-m", "flai.pipeline", "--config", str(SCENARIO), "--workdir", str(work)],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != FAULT_ENV} | {FAULT_ENV: "kill:later"},
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert f"config field '{FAULT_ENV}'" in proc.stderr
    assert not work.exists()  # no ledger, no journal, no keys: nothing ran
