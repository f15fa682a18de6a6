"""Gas of the SuperDAO platform layer's user-facing calls.

Usage: ``python bench/gas_platform.py`` (Makefile environment; ``make bench`` runs it).
Loads the brownie project, connects to ``$FLAI_BENCH_NETWORK`` (default ``development``,
a fresh Anvil), deploys through :func:`flai.chain.deploy_platform` and prints ``gas_used``
of each call against its target (anchor: OpenZeppelin Governor 5.0.2 measured
propose 78,251 and castVote 86,020).
"""

from __future__ import annotations

import contextlib
import io
import pathlib
import sys
import warnings
from dataclasses import replace

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _suite import SCENARIO, connect

WAD = 10**18
TARGETS = {
    "stake (account's first)": 130_000,
    "propose (1 action, RFM approval)": 80_000,
    "propose (1 action, Operational)": 80_000,
    "propose (1 action, PlatformUpdate)": 80_000,
    "castVote (first vote)": 86_000,
}


def main() -> int:
    import brownie
    from brownie import chain

    from flai.chain import PlatformConfig, RFMParams, action, deploy_platform, propose
    from flai.pipeline import RFMSpec

    project = connect()  # bench/gas.py runs every section in one process
    warnings.filterwarnings("ignore", category=FutureWarning)
    with contextlib.redirect_stdout(io.StringIO()):  # brownie's per-transaction lines
        accounts = brownie.accounts
        deployer, pharma, alice, bob, carol = (
            accounts[0],
            accounts[2],
            accounts[14],
            accounts[15],
            accounts[16],
        )
        factory = project.RecordingFactory.deploy({"from": deployer})
        platform = deploy_platform(deployer=deployer, config=PlatformConfig(), factory=factory)
        token, staking, governor, registry = (
            platform.token,
            platform.staking,
            platform.governor,
            platform.registry,
        )
        for account in (pharma, alice, bob, carol):
            token.transfer(account, 100_000 * WAD, {"from": deployer})
            token.approve(staking, 2**256 - 1, {"from": account})
            token.approve(registry, 2**256 - 1, {"from": account})

        gas: dict[str, int] = {}
        # The very first stake also initialises the contract's FLAI balance and the total
        # checkpoint array (two extra zero->non-zero slots); every later member pays the second figure.
        gas["stake (first ever in contract)"] = staking.stake(
            20_000 * WAD, {"from": alice}
        ).gas_used
        gas["stake (account's first)"] = staking.stake(10_000 * WAD, {"from": bob}).gas_used
        gas["stake (top-up)"] = staking.stake(1_000 * WAD, {"from": alice}).gas_used
        gas["unstake (partial)"] = staking.unstake(1_000 * WAD, {"from": alice}).gas_used
        chain.mine(registry.endorsementStakeAge() + 1)  # stake old enough to endorse

        spec = RFMSpec(
            plan=replace(SCENARIO.rfm, quorum_bps=5_000, sdt_cap=1_000_000 * WAD),
            min_validators=3,
            price_per_inference=WAD // 2,
            crowdfund_goal=50_000 * WAD,
        )
        request = RFMParams.from_spec(
            spec,
            spec_cid="bafkreia2heewwaqwhbxlp4nu77bx5uv7orepbing36qzuci2a67qglchca",
            payment_token=token.address,
            deadline=chain.time() + SCENARIO.rfm.crowdfund_days * 24 * 3600,
        )
        submit_tx = registry.submit(request.as_tuple(), {"from": pharma})
        gas["submitRFM"] = submit_tx.gas_used
        rfm_id = submit_tx.events["RFMSubmitted"]["rfmId"]
        gas["endorse (first)"] = registry.endorse(rfm_id, {"from": alice}).gas_used
        gas["endorse (second)"] = registry.endorse(rfm_id, {"from": bob}).gas_used

        approval = [action(registry, "approve", rfm_id)]
        description = f"Approve RFM #{rfm_id}"
        pid, tx = propose(governor, proposer=alice, actions=approval, description=description)
        gas["propose (1 action, RFM approval)"] = tx.gas_used
        fee_action = [action(registry, "setCreationFee", 2_000 * WAD)]
        _, tx = propose(
            governor, proposer=alice, actions=fee_action, description="Raise the RFM fee"
        )
        gas["propose (1 action, Operational)"] = tx.gas_used
        upgrade_action = [action(staking, "grantCredentials", carol.address, 500 * WAD)]
        _, tx = propose(
            governor, proposer=alice, actions=upgrade_action, description="Legacy credentials"
        )
        gas["propose (1 action, PlatformUpdate)"] = tx.gas_used

        chain.mine(governor.votingDelay() + 1)
        gas["castVote (first vote)"] = governor.castVote(pid, 1, {"from": alice}).gas_used
        gas["castVote (second vote)"] = governor.castVote(pid, 1, {"from": bob}).gas_used
        chain.mine(governor.votingPeriod() + 1)

        from web3 import Web3

        targets, values, calldatas = (
            [a.target for a in approval],
            [0],
            [a.calldata for a in approval],
        )
        dhash = Web3.keccak(text=description)
        queue_tx = governor.queue(targets, values, calldatas, dhash, {"from": carol})
        chain.sleep(platform.timelock.getMinDelay() + 1)
        execute_tx = governor.execute(targets, values, calldatas, dhash, {"from": carol})
        gas["queue"] = queue_tx.gas_used
        gas["execute (RFM approval, recording factory)"] = execute_tx.gas_used
        gas["queue+execute"] = queue_tx.gas_used + execute_tx.gas_used

    width = max(len(k) for k in gas)
    print(f"{'call':<{width}}  {'gas_used':>10}  target")
    for name, used in gas.items():
        target = TARGETS.get(name)
        verdict = "" if target is None else f"<= {target:,} {'ok' if used <= target else 'OVER'}"
        print(f"{name:<{width}}  {used:>10,}  {verdict}")
    return 0


if __name__ == "__main__":
    # bench/gas.py runs this file with runpy: exit only on failure so later sections still run
    if status := main():
        sys.exit(status)
