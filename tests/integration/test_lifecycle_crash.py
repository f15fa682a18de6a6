"""Crash safety of the whole lifecycle on Anvil: a real ``SIGKILL`` of the lifecycle script
(``flai run scripts/rfm_lifecycle.py`` in a child process) at named fault points, then a
rerun on the same work directory, compared with one uninterrupted run.

The scenario is ``configs/scenario.yaml`` made smaller (one round, seven paid
inferences) to keep the suite short. The uninterrupted reference run happens once per
module inside an ``evm_snapshot``/``evm_revert`` pair, so every crashed run starts from
the same chain state as the reference: the same deployer nonce gives the same contract
addresses, so the reports and the final chain state can be compared exactly — except the
gas of a transaction whose calldata carries a timestamp (a deadline), which differs by
12 gas per byte that happens to be zero in one run and not the other (calldata costs 4
gas a zero byte, 16 another). That gas is checked against the chain instead: the report's
total is what the run's transactions used, less the same unmetered set-up transactions
as the reference's.

The fault points (``FLAI_PIPELINE_FAULT=kill:tx:<gas step>``, :mod:`flai.pipeline.journal`)
kill the process after a transaction is mined and before its gas line is written — the
worst moment for the gas table — during the set-up (funding, the SuperDAO approval's
vote and queueing, the RFM's onboarding, the analytics SubDAO's onboarding), right after
a chamber vote (the member ranking), right after a chamber proposal (the revocation) and
right after the fork proposal; one work directory is killed at each in turn (each rerun
must get past the point the previous run died at), then completed. Another test deletes
the journal after a paid inference, reruns, deletes it again after the revocation, and
reruns.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import brownie
import pytest
import yaml
from brownie import web3

from flai.chain import (
    ChainError,
    lifecycle_roles,
    load_deployment,
    open_lifecycle,
    read_deployment,
)
from flai.chain.runtime import CHAIN_RPC_ENV
from flai.pipeline.config import load_config
from flai.pipeline.errors import ConfigError, JournalError
from flai.pipeline.journal import FAULT_ENV
from tests.offchain.pipeline.approx import assert_same_run

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "configs" / "scenario.yaml"


@pytest.fixture(scope="module")
def small_config(tmp_path_factory) -> Path:
    raw = yaml.safe_load(CONFIG.read_text())
    raw["name"] = "crash-safety"
    raw["rounds"] = 1
    raw["compute"]["offline"] = {}
    raw["inference"]["requests"] = {"external": 3, "requester": 2, "member": 2}
    path = tmp_path_factory.mktemp("config") / "scenario.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _roles(config: Path):
    return lifecycle_roles(load_config(config), list(brownie.accounts))


def _run_script(config: Path, workdir: Path, fault: str | None = None):
    """``flai run scripts/rfm_lifecycle.py main <config> <workdir>`` on this suite's chain."""
    env = dict(os.environ)
    env.pop(FAULT_ENV, None)
    if fault:
        env[FAULT_ENV] = fault
    env[CHAIN_RPC_ENV] = web3.provider.endpoint_uri
    flai_cli = Path(sys.executable).with_name("flai")
    return subprocess.run(
        [str(flai_cli), "run", "scripts/rfm_lifecycle.py", "main", str(config), str(workdir)],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _sent() -> int:
    """Transactions sent so far by every account of the chain (the sum of their nonces)."""
    return sum(web3.eth.get_transaction_count(a.address) for a in brownie.accounts)


def _events(contract: Any, event: str, start: int) -> list[Any]:
    c = web3.eth.contract(address=contract.address, abi=contract.abi)
    return list(getattr(c.events, event)().get_logs(from_block=start))


def _chain_gas(first_block: int) -> int:
    """Gas used by every transaction mined from ``first_block`` to the head."""
    total = 0
    for height in range(first_block, web3.eth.block_number + 1):
        receipts = web3.provider.make_request("eth_getBlockReceipts", [hex(height)])["result"]
        total += sum(int(r["gasUsed"], 16) for r in receipts)
    return total


def _final_state(workdir: Path) -> dict[str, Any]:
    """What the chain holds at the end of the lifecycle of ``workdir``."""
    d = load_deployment(read_deployment(workdir / "deployment.json"))
    suite, start = d.suite, d.start_block
    accounts = [a.address for a in brownie.accounts]
    addresses = read_deployment(workdir / "deployment.json").to_json()
    del addresses["workdir"]
    return {
        "addresses": addresses,
        "rounds": int(suite.rounds.roundCount()),
        "model": tuple(suite.subdao.modelVersion()),
        "model_cid": str(suite.rounds.currentModelCid()),
        "state": int(suite.subdao.state()),
        "points": [int(suite.sbgt.pointsOf(a)) for a in accounts],
        "received": tuple(int(v) for v in suite.splitter.totals()),
        "rfms": int(d.platform.registry.rfmCount()),
        "forks": len(_events(suite.subdao, "Forked", start)),
        "requests": len(_events(d.marketplace, "Requested", start)),
        "commits": len(_events(suite.rounds, "UpdateCommitted", start)),
        "proposals": {
            name: len(_events(chamber, "ProposalCreated", start))
            for name, chamber in (
                ("superdao", d.platform.governor),
                ("technical", suite.technical),
                ("financial", suite.financial),
                ("fa-technical", d.analytics.technical),
            )
        },
        "balances": [int(d.platform.token.balanceOf(a)) for a in accounts],
    }


@pytest.fixture(scope="module")
def reference(small_config, tmp_path_factory):
    """The uninterrupted run: its report, final chain state and transaction count, taken
    inside a chain snapshot reverted afterwards (so each test starts where it started)."""
    snapshot = web3.provider.make_request("evm_snapshot", [])["result"]
    work = tmp_path_factory.mktemp("reference") / "work"
    before, first = _sent(), web3.eth.block_number + 1
    done = _run_script(small_config, work)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((work / "report" / "report.json").read_text())
    ref = {
        "report": report,
        "state": _final_state(work),
        "sent": _sent() - before,
        "unmetered": _chain_gas(first) - sum(report["gas"].values()),
    }
    assert web3.provider.make_request("evm_revert", [snapshot])["result"] is True
    return ref


def _assert_same_as_reference(ref: dict[str, Any], work: Path, sent: int, first: int) -> None:
    after = json.loads((work / "report" / "report.json").read_text())
    expected = ref["report"]
    # the report: the same transactions per step, the same gas, the same points and results
    assert after["gas_calls"] == expected["gas_calls"]
    assert after["gas"].keys() == expected["gas"].keys()
    for step, gas in after["gas"].items():
        drift = gas - expected["gas"][step]  # zero bytes of deadlines in calldata only
        assert drift % 12 == 0 and abs(drift) <= 48 * after["gas_calls"][step], step
    assert _chain_gas(first) - sum(after["gas"].values()) == ref["unmetered"]
    # φ comes from secure scoring on fresh shares, so numbers derived from it (points,
    # revenue split) agree to its truncation noise, and the sealed model's CID is a fresh
    # release in every run (see tests/offchain/pipeline/approx.py)
    for key in ("model_version", "ranks", "revoked", "fork", "validators"):
        assert after[key] == expected[key], key
    for key in ("points", "revenue"):
        assert_same_run(after[key], expected[key], path=key)
    assert [r["phase"] for r in after["rounds"]] == [r["phase"] for r in expected["rounds"]]
    assert [o["fee"] for o in after["inference"]] == [o["fee"] for o in expected["inference"]]
    # the chain: the same final state and the same number of transactions (none sent twice,
    # no second protocol, no second proposal)
    state, expected_state = _final_state(work), ref["state"]
    assert after["model_cid"] == state.pop("model_cid")  # the report names the chain's model
    expected_state = {k: v for k, v in expected_state.items() if k != "model_cid"}
    assert_same_run(state, expected_state, rel=1e-3, wei=0)
    scored = ("points", "balances")  # round bounties are paid by φ
    assert {k: v for k, v in state.items() if k not in scored} == {
        k: v for k, v in expected_state.items() if k not in scored
    }
    assert sent == ref["sent"]


#: The fault points, in the order the lifecycle reaches them.
FAULTS = (
    "kill:tx:fund/FLAI",  # during the set-up: funding the parties
    "kill:tx:superdao/vote",  # during the set-up: the SuperDAO approval's vote
    "kill:tx:superdao/queue",  # during the set-up: queued in the timelock, not executed
    "kill:tx:onboard/apply contributor",  # during the set-up: the RFM's onboarding
    "kill:tx:fa/onboard",  # during the set-up: the analytics SubDAO's onboarding
    "kill:tx:market/ranks (financial chamber)/vote",  # right after a chamber vote
    "kill:tx:technical/revoke poisoners/propose",  # right after a chamber proposal
    "kill:tx:technical/fork+retire/propose",  # right after the fork proposal
)


def test_killed_at_each_fault_point_in_turn_the_last_rerun_equals_the_uninterrupted_run(
    reference, small_config, tmp_path
):
    """One work directory, killed at every fault point in turn: each rerun resumes what
    the previous run left (it would exit with an error, not be killed at the next point,
    if it could not), and the last one completes."""
    work = tmp_path / "work"
    before, first = _sent(), web3.eth.block_number + 1
    for fault in FAULTS:
        killed = _run_script(small_config, work, fault)
        assert killed.returncode == -signal.SIGKILL, (fault, killed.stderr[-3000:])
        # the process died between the fault's transaction and its gas line: the meter's
        # intent for it (sender, nonce) is the last line of the gas file, and it was mined
        last = json.loads((work / "gas.jsonl").read_text().splitlines()[-1])
        assert last["sent"] == fault.split(":", 2)[2], fault
        assert web3.eth.get_transaction_count(last["from"]) > last["nonce"], fault

    resumed = _run_script(small_config, work)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    _assert_same_as_reference(reference, work, _sent() - before, first)


def test_journal_deleted_mid_lifecycle_pays_nothing_twice_and_trains_no_extra_round(
    reference, small_config, tmp_path
):
    work = tmp_path / "work"
    before, first = _sent(), web3.eth.block_number + 1
    killed = _run_script(small_config, work, "kill:after:inference/3/request")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    d = load_deployment(read_deployment(work / "deployment.json"))
    lid = int(d.marketplace.listingOf(d.suite.subdao))
    assert len(_events(d.marketplace, "Requested", d.start_block)) == 4  # requests 0–3 paid
    (work / "journal.jsonl").unlink()
    # lost again once the poisoner is revoked (its SBGT points burned)
    killed = _run_script(small_config, work, "kill:after:lifecycle/revoke")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert int(d.suite.sbgt.pointsOf(_roles(small_config).account("rogue-lab"))) == 0
    (work / "journal.jsonl").unlink()

    resumed = _run_script(small_config, work)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    config = load_config(small_config)
    inference_paid = [
        e
        for e in _events(d.marketplace, "Requested", d.start_block)
        if int(e["args"]["requestId"]) >> 64 == lid
    ]
    # one requestInference per planned request, each fulfilled exactly once
    assert len(inference_paid) == config.inference.total
    assert len(_events(d.marketplace, "Fulfilled", d.start_block)) == config.inference.total + 1
    after = json.loads((work / "report" / "report.json").read_text())
    assert after["gas_calls"]["market/request inference"] == config.inference.total
    assert sorted(o["request_id"] for o in after["inference"]) == sorted(
        int(e["args"]["requestId"]) for e in inference_paid
    )
    # no extra round: the rounds on the chain are the scenario's, the model version with them
    assert int(d.suite.rounds.roundCount()) == config.rounds == after["model_version"]
    # the points training left, the revoked poisoner's included (read back from the burn)
    assert after["points"]["rogue-lab"] > 0
    assert_same_run(after["points"]["rogue-lab"], reference["report"]["points"]["rogue-lab"])
    _assert_same_as_reference(reference, work, _sent() - before, first)



def _open(config: Path, workdir: Path, accounts: Any) -> Any:
    """``open_lifecycle`` of ``config`` in ``workdir`` on this chain, no storage."""
    return open_lifecycle(
        config=load_config(config),
        accounts=list(accounts),
        storage=None,
        workdir=workdir,
        network=brownie.network.show_active(),
    )


def test_garbage_in_the_journal_is_a_typed_error_naming_the_file_before_any_transaction(
    small_config, tmp_path, accounts
):
    journal = tmp_path / "journal.jsonl"
    journal.write_bytes(b'{"kind":"header","run":"x"}\n\xff\xfe\x00garbage\n')
    sent = _sent()
    with pytest.raises(JournalError) as info:
        _open(small_config, tmp_path, accounts)
    assert info.value.path == str(journal) and str(journal) in str(info.value)
    assert "line 2" in str(info.value)
    assert _sent() == sent


def test_a_malformed_fault_hook_is_refused_before_any_transaction(
    small_config, tmp_path, accounts, monkeypatch
):
    monkeypatch.setenv(FAULT_ENV, "kill:sometime:round/*")
    sent = _sent()
    with pytest.raises(ConfigError, match=FAULT_ENV):
        _open(small_config, tmp_path, accounts)
    assert _sent() == sent
    assert not (tmp_path / "journal.jsonl").exists()


def test_a_deployment_not_on_this_chain_is_refused_not_deployed_again(
    reference, small_config, tmp_path, accounts
):
    stored = dict(reference["state"]["addresses"])
    stored["platform"] = dict(stored["platform"], FLAIToken="0x" + "ab" * 20)
    (tmp_path / "deployment.json").write_text(json.dumps(stored))
    sent = _sent()
    with pytest.raises(ChainError, match="not on the connected chain"):
        _open(small_config, tmp_path, accounts)
    assert _sent() == sent


def test_a_workdir_with_transactions_but_no_deployment_record_is_refused(
    small_config, tmp_path, accounts
):
    """Deployment file and journal both lost: the gas file shows the work directory sent
    transactions, so the lifecycle refuses to deploy a second protocol."""
    (tmp_path / "gas.jsonl").write_text('["deploy/protocol", 943113]\n')
    sent = _sent()
    with pytest.raises(ChainError, match="refusing to deploy a second protocol"):
        _open(small_config, tmp_path, accounts)
    assert _sent() == sent
    assert not (tmp_path / "deployment.json").exists()
