"""Demo of the SuperDAO platform layer: the pharma RFM of the worked scenario (001 §9.1–9.2).

Usage: ``make demo`` (``brownie run scripts/demo.py``). Deploys the platform on a local
Anvil chain, stakes FLAI with several members and hospitals, submits the pharmaceutical
company's Request-for-Model, lets hospitals endorse it, runs the SuperDAO vote, queues and
executes the approval through the timelock and prints what happened.

The SubDAO factory here is ``RecordingFactory``, the test double of the pluggable
``ISubDAOFactory`` interface: the real factory belongs to the SubDAO suite (its own issue)
and replaces it through ``deploy_platform(factory=...)``.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import warnings

from brownie import RecordingFactory, accounts, chain

from flai.chain import RFMRequest, RFMStatus, action, deploy_platform, propose, queue_and_execute

WAD = 10**18
SUPPORT = {0: "against", 1: "for", 2: "abstain"}
STATES = ["Pending", "Active", "Canceled", "Defeated", "Succeeded", "Queued", "Expired", "Executed"]

PHARMA_SPEC = {
    "goal": "Predict binary response to an immunotherapy drug from EHR data; interpretable.",
    "model_class": "binary-classifier",
    "constraints": ["explainable (feature attributions per prediction)"],
    "data_schema": {
        "standard": "HL7-FHIR-R4",
        "resources": ["Observation", "Condition", "Patient"],
    },
    "metric": {"id": "AUC", "threshold": 0.85, "stratified_by": "region"},
    "governance": {"min_validators": 3, "epoch_length_s": 604800, "quorum_bps": 5000},
    "price": {"per_inference": "0.50", "unit": "payment token"},
}


def raw_leaf_cid(data: bytes) -> str:
    """CIDv1 (raw, sha2-256) that ``ipfs add --cid-version=1`` gives a single-chunk file."""
    from multiformats import CID, multihash

    return str(CID("base32", 1, "raw", multihash.digest(data, "sha2-256")))


def flai(amount: int) -> str:
    return f"{amount / WAD:,.2f} FLAI"


def say(text: str = "") -> None:
    print(text, file=sys.__stdout__, flush=True)


def main() -> None:
    # The report is the output: brownie's per-transaction lines (stdout) and its deprecation
    # warnings are muted; errors and tracebacks still reach stderr.
    warnings.filterwarnings("ignore", category=FutureWarning)
    with contextlib.redirect_stdout(io.StringIO()):
        run()


def run() -> None:
    deployer, pharma = accounts[0], accounts[2]
    hospitals, members = accounts[3:8], accounts[14:18]
    names = {pharma: "PharmaCo"} | {h: f"hospital-{i + 1}" for i, h in enumerate(hospitals)}
    names |= {m: f"member-{i + 1}" for i, m in enumerate(members)}

    say("== 1. Deploy the SuperDAO platform")
    factory = RecordingFactory.deploy({"from": deployer})
    platform = deploy_platform(deployer=deployer, factory=factory)
    token, staking, governor = platform.token, platform.staking, platform.governor
    registry, timelock = platform.registry, platform.timelock
    for name, address in platform.addresses().items():
        say(f"   {name:<20} {address}")
    say(f"   SubDAO factory       {factory.address} (RecordingFactory test double)")
    say(f"   treasury (timelock)  {flai(token.balanceOf(timelock))}; deployer keeps no admin role")

    say("\n== 2. Members and hospitals stake FLAI (000 §6.2)")
    stakes = {members[0]: 12_000, members[1]: 9_000, members[2]: 6_000, members[3]: 4_000}
    stakes |= {h: 1_000 for h in hospitals}
    for account, amount in stakes.items():
        token.transfer(account, (amount + 1_000) * WAD, {"from": deployer})
        token.approve(staking, amount * WAD, {"from": account})
        staking.stake(amount * WAD, {"from": account})
        say(
            f"   {names[account]:<11} staked {flai(amount * WAD):>14}  votes {flai(staking.getVotes(account))}"
        )
    chain.mine()
    say(
        f"   total staked {flai(staking.totalStaked())}; minimum stake {flai(staking.minimumStake())}"
    )

    say("\n== 3. PharmaCo submits its Request-for-Model (001 §8.1, §9.1)")
    spec = json.dumps(PHARMA_SPEC, sort_keys=True, separators=(",", ":")).encode()
    request = RFMRequest(
        spec_cid=raw_leaf_cid(spec),
        domain="healthcare.oncology",
        model_class="binary-classifier",
        data_schema="HL7-FHIR-R4",
        metric_id="AUC",
        metric_threshold=0.85,
        min_validators=3,
        quorum_bps=5_000,
        epoch_length=7 * 24 * 3600,
        crowdfund_deadline=chain.time() + 60 * 24 * 3600,
        payment_token=token.address,
        price_per_inference=WAD // 2,
        crowdfund_goal=50_000 * WAD,
        sdt_per_payment_unit=WAD,
        sdt_cap=1_000_000 * WAD,
    )
    fee = registry.creationFee()
    token.transfer(pharma, fee, {"from": deployer})
    token.approve(registry, fee, {"from": pharma})
    submitted = registry.submit(request.as_tuple(), {"from": pharma})
    rfm_id = submitted.events["RFMSubmitted"]["rfmId"]
    say(f"   RFM #{rfm_id}: {PHARMA_SPEC['goal']}")
    say(f"   spec CID {request.spec_cid} ({len(spec)} bytes of JSON)")
    say("   binary-classifier on HL7-FHIR-R4, AUC >= 0.85, 0.50 per inference")
    say(f"   creation fee {flai(fee)} escrowed in the registry")

    say("\n== 4. Hospitals endorse it, weighted by stake at the submission snapshot (001 §8.2)")
    for hospital in hospitals[:3]:
        tx = registry.endorse(rfm_id, {"from": hospital})
        say(f"   {names[hospital]} endorsed with {flai(tx.events['RFMEndorsed']['weight'])}")
    record = registry.getRFM(rfm_id)
    say(
        f"   endorsement weight {flai(record['endorsementWeight'])} of "
        f"{flai(registry.endorsementRequired(rfm_id))} needed: not enough, so the SuperDAO votes"
    )

    say("\n== 5. The SuperDAO votes on the approval (000 §7.1.3: RFM approvals need >= 66%)")
    description = (
        f"Approve RFM #{rfm_id}: immunotherapy-response classifier (HL7 FHIR, AUC >= 0.85)"
    )
    actions = [action(registry, "approve", rfm_id)]
    proposal_id, _ = propose(
        governor, proposer=members[0], actions=actions, description=description
    )
    say(
        f"   {names[members[0]]} proposed; approval threshold {governor.proposalApprovalThresholdBps(proposal_id) / 100:.0f}%"
    )
    chain.mine(governor.votingDelay() + 1)
    ballots = {members[0]: 1, members[1]: 1, members[2]: 0, members[3]: 1}
    ballots |= {h: 2 for h in hospitals[:2]}
    for voter, support in ballots.items():
        tx = governor.castVote(proposal_id, support, {"from": voter})
        say(
            f"   {names[voter]:<11} voted {SUPPORT[support]:<7} with {flai(tx.events['VoteCast']['weight'])}"
        )
    chain.mine(governor.votingPeriod())
    against, in_favour, abstain = governor.proposalVotes(proposal_id)
    share = in_favour / (in_favour + against)
    quorum = governor.quorum(governor.proposalSnapshot(proposal_id))
    say(
        f"   tally: for {flai(in_favour)}, against {flai(against)}, abstain {flai(abstain)} -> "
        f"{share:.1%} of for+against; quorum {flai(quorum)} (for+abstain {flai(in_favour + abstain)})"
    )
    say(f"   proposal state: {STATES[governor.state(proposal_id)]}")

    say("\n== 6. Queue, wait out the timelock delay, execute")
    queued, executed = queue_and_execute(
        governor, sender=members[0], actions=actions, description=description
    )
    say(
        f"   queued in block {queued.block_number}; {timelock.getMinDelay()} s timelock delay elapsed; executed in block {executed.block_number}"
    )
    approved = executed.events["RFMApproved"]
    say(f"   proposal state: {STATES[governor.state(proposal_id)]}")
    say(f"   RFMApproved: RFM #{approved['rfmId']} -> SubDAO {approved['subDAO']} (by vote)")
    caller = (
        "the RFM registry" if factory.lastCaller() == registry.address else factory.lastCaller()
    )
    say(
        f"   SubDAO factory called {factory.calls()} time(s), by {caller}, for requester {names[pharma]}"
    )

    say("\n== 7. Fees and discovery")
    record = registry.getRFM(rfm_id)
    say(f"   RFM #{rfm_id} status {RFMStatus(record['status']).name}, SubDAO {record['subDAO']}")
    say(
        f"   success reserve kept in escrow {flai(record['escrow'])} (partial refund once the model earns, 000 §6.3)"
    )
    before = token.balanceOf(timelock)
    registry.sweepToTreasury({"from": members[0]})
    say(f"   platform share swept to the treasury: {flai(token.balanceOf(timelock) - before)}")
    oncology = registry.idsByDomain(request.as_tuple()[1], 0, 10)
    say(
        f"   RFMs in healthcare.oncology: {list(oncology)}; approved: {list(registry.idsByStatus(RFMStatus.APPROVED, 0, 10))}"
    )
    say("\nDone: the pharma RFM is approved and its SubDAO registered.")
