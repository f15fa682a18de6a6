"""Scenario configuration: the shipped scenario is valid; bad files name the bad field."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from flai.pipeline import ConfigError, load_config, parse_config
from tests.offchain.pipeline.conftest import ROOT, SCENARIO


def _raw() -> dict[str, Any]:
    return yaml.safe_load(SCENARIO.read_text())


def test_shipped_scenario_is_the_protocol_scenario(scenario):
    behaviours = [h.behaviour for h in scenario.hospitals]
    assert len(scenario.hospitals) >= 5
    assert behaviours.count("free_rider") == 1 and behaviours.count("label_flipper") == 1
    assert len(scenario.validators) == 3
    assert scenario.compute.nodes == 3 and scenario.compute.threshold == 1
    assert scenario.rounds >= 3
    assert scenario.inference.total >= 50
    assert (
        min(scenario.inference.external, scenario.inference.requester, scenario.inference.member)
        > 0
    )
    assert scenario.analytics.features


def _mutated(edit) -> dict[str, Any]:
    raw = copy.deepcopy(_raw())
    edit(raw)
    return raw


@pytest.mark.parametrize(
    ("edit", "field", "problem"),
    [
        (lambda r: r.pop("rounds"), "rounds", "missing"),
        (lambda r: r["validators"][1].pop("stake"), "validators[1].stake", "missing"),
        (lambda r: r.update(rounds="three"), "rounds", "expected int, got str"),
        (lambda r: r.update(seed=True), "seed", "expected int, got bool"),
        (lambda r: r["inference"].update(base_price=0.5), "inference.base_price", "expected int"),
        (lambda r: r.update(network="ropsten"), "network", "unknown network 'ropsten'"),
        (lambda r: r["hospitals"][3].update(behaviour="lazy"), "hospitals[3].behaviour", "unknown"),
        (
            lambda r: r["validators"][0].update(behaviour="sleepy"),
            "validators[0].behaviour",
            "unknown",
        ),
        (lambda r: r["compute"].update(threshold=2), "compute.threshold", "t < nodes/2"),
        (lambda r: r["compute"].update(nodes=5), "compute.nodes", "exactly 3"),
        (lambda r: r["compute"]["offline"].update({1: [0, 2]}), "compute.offline.1", "fewer than"),
        (lambda r: r["hospitals"][0].update(name="val-eu"), "hospitals", "used twice"),
        (lambda r: r.update(colour="red"), "colour", "unknown field"),
        (lambda r: r["revenue"].update(sbgt_bps=9000), "revenue", "exceeds 10000"),
        (lambda r: r.pop("analytics"), "analytics", "missing"),
        (lambda r: r.update(points_decay=1.5), "points_decay", "[0.8, 0.999]"),
    ],
)
def test_bad_config_names_the_field(edit, field, problem):
    with pytest.raises(ConfigError) as info:
        parse_config(_mutated(edit))
    assert info.value.field == field
    assert problem in info.value.problem
    assert repr(field) in str(info.value)


def test_json_config_loads_like_yaml(tmp_path, scenario):
    import json

    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(_raw()))
    assert load_config(path) == scenario


def test_unparsable_file_is_reported(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("rounds: [1, 2\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.field == "<file>"


def test_cli_rejects_bad_config_before_anything_runs(tmp_path: Path):
    raw = _raw()
    raw["network"] = "moonbase"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw))
    work = tmp_path / "work"
    proc = subprocess.run(
        [sys.executable, "-m", "flai.pipeline", "--config", str(bad), "--workdir", str(work)],
        cwd=ROOT,
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "config field 'network'" in proc.stderr and "moonbase" in proc.stderr
    assert not work.exists()  # no ledger, no journal, no keys: nothing ran
