"""The README's step-by-step flow, as written there, through the real scripts.

The commands are read from the ``sh`` block of the README's *Step by step* section and run
in its order — deploy, submit an RFM, approve it, run a round, serve inference, distribute
revenue — each as its own ``flai run --rpc URL`` process on one chain this test starts with
``flai chain``. They share nothing but that chain and one deployment file (in a temporary
folder named by ``$FLAI_DEPLOYMENTS``), so the flow passes only if each script finds what
the previous one recorded.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flai.chain import DEPLOYMENTS_ENV, SubDAOState, read_deployment
from flai.chain.runtime import CHAIN_RPC_ENV

ROOT = Path(__file__).resolve().parents[2]
FLAI = Path(sys.executable).with_name("flai")


def readme_steps() -> list[list[str]]:
    """The ``flai run`` commands of the README's *Step by step* block, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Step by step", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block, "the Step by step section has no sh block"
    commands = []
    for line in block.group(1).splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith(".venv/bin/flai run"):
            commands.append(shlex.split(line)[2:])  # after ".venv/bin/flai run"
    return commands


@pytest.fixture(scope="module")
def chain_url():
    """A development chain of the test's own (``flai chain``), stopped afterwards."""
    env = {k: v for k, v in os.environ.items() if k != CHAIN_RPC_ENV}
    proc = subprocess.Popen(
        [str(FLAI), "chain"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.startswith(f"{CHAIN_RPC_ENV}="), line
        yield line.strip().split("=", 1)[1]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _last_json(stdout: str) -> Any:
    """The JSON document a script printed last (brownie's transaction lines come before)."""
    starts = [m.start() for m in re.finditer(r"^[\[{]", stdout, re.MULTILINE)]
    assert starts, stdout[-2000:]
    return json.loads(stdout[starts[-1] :])


def test_the_readme_flow_runs_in_its_order(chain_url, tmp_path):
    steps = readme_steps()
    scripts = [Path(next(a for a in step if a.endswith(".py"))).name for step in steps]
    assert scripts == [
        "deploy.py",
        "submit_rfm.py",
        "approve_rfm.py",
        "run_round.py",
        "serve_inference.py",
        "distribute_revenue.py",
    ]
    env = {k: v for k, v in os.environ.items() if k != CHAIN_RPC_ENV}
    env[DEPLOYMENTS_ENV] = str(tmp_path / "deployments")
    env.pop("FLAI_IPFS_API", None)
    outputs = {}
    for script, step in zip(scripts, steps, strict=True):
        argv = [chain_url if a == "$RPC" else a for a in step]
        proc = subprocess.run(
            [str(FLAI), "run", *argv],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert proc.returncode == 0, f"{script}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        outputs[script] = proc.stdout
    record = read_deployment(tmp_path / "deployments" / "development.json")
    assert record.rfm is not None and record.rfm.subdao is not None
    submitted = _last_json(outputs["submit_rfm.py"])
    assert submitted["rfm_id"] == record.rfm.rfm_id and submitted["status"] == "PENDING"
    approved = _last_json(outputs["approve_rfm.py"])
    assert approved["subdao"] == record.rfm.subdao
    assert approved["state"] == SubDAOState.TRAINING.name.capitalize()
    round1 = _last_json(outputs["run_round.py"])
    assert round1["round_id"] == 1 and round1["phase"] == "accepted"
    served = _last_json(outputs["serve_inference.py"])
    assert len(served) == 5 and all(o["output_cid"] for o in served)
    assert max(abs(o["probability"] - o["plaintext"]) for o in served) < 1e-4
    claims = _last_json(outputs["distribute_revenue.py"])
    assert claims["received"]["total"] == sum(o["fee"] for o in served) > 0
    assert sum(claims["sdt"].values()) > 0  # the backers' SDT side, claimable at once
