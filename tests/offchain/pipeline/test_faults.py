"""Faults: IPFS stopped mid-round, a compute node short of threshold, a real SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from flai.pipeline import (
    FAULT_ENV,
    Journal,
    KeyStore,
    StorageUnavailableError,
    ThresholdUnavailableError,
    build_setting,
    load_config,
    run_id,
    run_lifecycle,
)
from flai.pipeline.model_release import load_model, seal_aggregate
from flai.storage import IpfsHttpStorage, IpfsNode, LocalStore, Storage
from tests.offchain.pipeline.approx import assert_same_run
from tests.offchain.pipeline.conftest import ROOT, SCENARIO, make_ledger


class _StopNodeAt(Storage):
    """Delegating storage that stops the IPFS node right before its ``at``-th put."""

    def __init__(self, inner: Storage, node: IpfsNode, at: int) -> None:
        self.inner, self.node, self.at, self.puts = inner, node, at, 0

    def put_stream(self, source, *, pin=True):
        self.puts += 1
        if self.puts == self.at:
            self.node.stop()
        return self.inner.put_stream(source, pin=pin)

    def get_stream(self, cid) -> Iterator[bytes]:
        return self.inner.get_stream(cid)

    def has(self, cid):
        return self.inner.has(cid)

    def pin(self, cid):
        self.inner.pin(cid)

    def unpin(self, cid):
        self.inner.unpin(cid)

    def pins(self):
        return self.inner.pins()


def _deterministic(result: dict[str, Any]) -> dict[str, Any]:
    """The result without randomized ciphertext CIDs (sealed bundles, queries, outputs)."""
    out = json.loads(json.dumps(result))
    for r in out["rounds"]:
        r.pop("update_cids")
    for o in out["inference"]:
        o.pop("input_cid")
        o.pop("output_cid")
    out.pop("run")
    return out


def _ops(log) -> Counter:
    return Counter(entry[0] for entry in log)


@pytest.fixture(scope="module")
def reference(scenario, tmp_path_factory):
    """An uninterrupted run on a local store."""
    base = tmp_path_factory.mktemp("reference")
    ledger = make_ledger(scenario)
    result = run_lifecycle(
        config=scenario, port=ledger, storage=LocalStore(root=base / "store"), workdir=base / "work"
    ).to_json()
    return result, ledger


def test_ipfs_stopped_mid_round_then_rerun_completes(scenario, reference, tmp_path):
    repo = tmp_path / "ipfs"
    node = IpfsNode(repo=repo).start()
    address = node.address
    client = IpfsHttpStorage(address=address, timeout=5)
    ledger = make_ledger(scenario)
    work = tmp_path / "work"
    with pytest.raises(StorageUnavailableError) as info:
        run_lifecycle(
            config=scenario, port=ledger, storage=_StopNodeAt(client, node, at=10), workdir=work
        )
    err = info.value
    assert err.address == address and address in str(err)
    assert err.step.startswith("round/1/")  # round 0 done, round 1 interrupted
    assert ledger.round_count() == 2 and ledger.aggregate(2) is None
    client.close()

    restarted = IpfsNode(repo=repo).start()  # same repository, new port
    try:
        with IpfsHttpStorage(address=restarted.address, timeout=5) as storage:
            result = run_lifecycle(
                config=scenario, port=ledger, storage=storage, workdir=work
            ).to_json()
    finally:
        restarted.stop()
    ref_result, ref_ledger = reference
    assert_same_run(_deterministic(result), _deterministic(ref_result))
    assert _ops(ledger.log) == _ops(ref_ledger.log)  # nothing posted twice, nothing lost


def test_aggregation_needs_threshold_plus_one_nodes(scenario, tmp_path):
    setting = build_setting(scenario, keys=KeyStore(directory=tmp_path / "keys"))
    with pytest.raises(ThresholdUnavailableError) as info:
        seal_aggregate(
            setting.federation,
            round_id=1,
            nodes={},
            phi={"st-mary": 10**18},
            available=[1],
            step="round/0/aggregate",
        )
    assert (info.value.available, info.value.required) == (1, 2)
    assert info.value.step == "round/0/aggregate"


def _cli_config(directory: Path) -> Path:
    """The shipped scenario cut to two rounds and five paid requests (subprocess speed)."""
    raw = yaml.safe_load(SCENARIO.read_text())
    raw["rounds"] = 2
    raw["inference"]["requests"] = {"external": 2, "requester": 1, "member": 2}
    path = directory / "scenario.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _run_cli(
    config: Path, work: Path, result: Path, api: str, fault: str | None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != FAULT_ENV}
    env["FLAI_IPFS_API"] = api
    env["PYTHONPATH"] = str(ROOT)
    if fault:
        env[FAULT_ENV] = fault
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "flai.pipeline",
            "--config",
            str(config),
            "--workdir",
            str(work),
            "--result",
            str(result),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )


def _normalized_ledger(path: Path) -> dict[str, Any]:
    state = json.loads(path.read_text())
    for r in state["rounds"]:
        r["commits"] = sorted(r["commits"])
    for q in state["requests"]:
        if q["kind"] == "inference":
            q["input"] = q["output"] = "*"
    for entry in state["log"]:
        if entry[0] in ("commit_update", "request_inference"):
            entry[-2 if entry[0] == "request_inference" else -1] = "*"
        if entry[0] == "fulfil" and state["requests"][entry[1] - 1]["kind"] == "inference":
            entry[-1] = "*"
    return state


@pytest.fixture(scope="module")
def cli_reference(tmp_path_factory):
    base = tmp_path_factory.mktemp("cli")
    node = IpfsNode(repo=base / "ipfs").start()
    config = _cli_config(base)
    proc = _run_cli(config, base / "clean", base / "clean.json", node.address, None)
    assert proc.returncode == 0, proc.stderr
    yield node, base, config
    node.stop()


@pytest.mark.parametrize(
    "fault",
    [
        # the last custodian's commit landed on the ledger, the journal never recorded it
        "kill:effect:round/1/commit/rogue-lab",
        # every update committed and the window closed; the first score vector not yet posted
        "kill:before:round/1/scores/val-eu",
    ],
)
def test_sigkill_after_commits_before_scores_then_resume(cli_reference, scenario, tmp_path, fault):
    node, base, config = cli_reference
    work = tmp_path / "work"
    killed = _run_cli(config, work, tmp_path / "killed.json", node.address, fault)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    state = json.loads((work / "ledger.json").read_text())
    live = state["rounds"][1]
    assert len(live["commits"]) == len(scenario.hospitals) and live["scores"] == {}
    journal = Journal(path=work / "journal.jsonl", run_id=run_id(load_config(config)))
    assert len(journal.pending) == 1 and journal.pending <= {
        "round/1/commit/rogue-lab",
        "round/1/scores/val-eu",
    }
    journal.close()

    resumed = _run_cli(config, work, tmp_path / "resumed.json", node.address, None)
    assert resumed.returncode == 0, resumed.stderr
    assert_same_run(
        _normalized_ledger(work / "ledger.json"),
        _normalized_ledger(base / "clean" / "ledger.json"),
    )
    after = json.loads((tmp_path / "resumed.json").read_text())
    clean = json.loads((base / "clean.json").read_text())
    assert_same_run(_deterministic(after), _deterministic(clean))
    # the commit made before the kill is the one the resumed validators opened
    storage = IpfsHttpStorage(address=node.address, timeout=5)
    try:
        cid = after["rounds"][1]["update_cids"]["rogue-lab"]
        assert cid == state["rounds"][1]["commits"]["rogue-lab"] and storage.has(cid)
        setting = build_setting(load_config(config), keys=KeyStore(directory=work / "keys"))
        fed = setting.federation
        blob = storage.get(after["rounds"][1]["aggregate_cid"])
        assert load_model(blob, fed=fed, reader="st-mary").num_features == 30
    finally:
        storage.close()


@pytest.mark.parametrize(
    "fault",
    [
        "kill:after:inference/2/request",  # mid-inference: requests 0–2 paid, 2 not served
        "kill:after:lifecycle/revoke",  # the poisoner revoked
    ],
)
def test_journal_deleted_after_a_kill_the_rerun_pays_nothing_twice_and_trains_no_round(
    cli_reference, tmp_path, fault
):
    node, base, config = cli_reference
    work = tmp_path / "work"
    killed = _run_cli(config, work, tmp_path / "killed.json", node.address, fault)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    (work / "journal.jsonl").unlink()

    resumed = _run_cli(config, work, tmp_path / "resumed.json", node.address, None)
    assert resumed.returncode == 0, resumed.stderr
    state = json.loads((work / "ledger.json").read_text())
    clean_state = json.loads((base / "clean" / "ledger.json").read_text())
    # the ledger saw the same writes as the uninterrupted run: no payment twice, no round
    ops = Counter(entry[0] for entry in state["log"])
    assert ops == Counter(entry[0] for entry in clean_state["log"])
    assert ops["request_inference"] == load_config(config).inference.total
    assert len(state["rounds"]) == load_config(config).rounds
    assert_same_run(
        _normalized_ledger(work / "ledger.json"),
        _normalized_ledger(base / "clean" / "ledger.json"),
    )
    after = json.loads((tmp_path / "resumed.json").read_text())
    clean = json.loads((base / "clean.json").read_text())
    assert_same_run(_deterministic(after), _deterministic(clean))  # points and ranks included
