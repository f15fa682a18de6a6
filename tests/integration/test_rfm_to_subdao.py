"""From RFM to a working SubDAO on a real chain (001 §8.1–8.3, §9.1–9.3).

The platform is deployed with the real SubDAO factory (not the recording test double): the
SuperDAO approves the pharma RFM by a vote executed through the timelock, the registry calls
the factory, and the suite it creates is funded by backers in FLAI, onboarded and launched.
"""

from dataclasses import replace

import brownie
from brownie import chain

from flai.chain import (
    PlatformConfig,
    RFMStatus,
    action,
    deploy_protocol,
    load_subdao_suite,
    queue_and_execute,
)
from tests.fixtures.platform import SCENARIO, pass_proposal
from tests.helpers import bytes32, custom_error

WAD = 10**18
FOR, AGAINST = 1, 0
CROWDFUNDING, ONBOARDING, TRAINING = 0, 1, 2


def test_approved_rfm_becomes_a_launched_subdao(
    deployer, pharma, pharma_rfm, members, hospitals, validators, backers
):
    deployment = deploy_protocol(deployer=deployer, config=PlatformConfig())
    platform, suite_factory = deployment.platform, deployment.subdao
    token, staking, registry, governor = (
        platform.token,
        platform.staking,
        platform.registry,
        platform.governor,
    )
    assert registry.factory() == suite_factory.factory
    assert suite_factory.factory.registry() == registry

    # platform members stake; pharma submits the RFM (payment token: FLAI)
    for account in [pharma, *members, *hospitals, *validators, *backers]:
        token.transfer(account, 20_000 * WAD, {"from": deployer})
        token.approve(staking, 2**256 - 1, {"from": account})
        token.approve(registry, 2**256 - 1, {"from": account})
    for member in members:
        staking.stake(5_000 * WAD, {"from": member})
    chain.mine()
    rfm = replace(pharma_rfm, payment_token=token.address)
    rfm_id = registry.submit(rfm.as_tuple(), {"from": pharma}).events["RFMSubmitted"]["rfmId"]

    # the SuperDAO approves it: 3 of 4 members for (75% >= 66%)
    actions = [action(registry, "approve", rfm_id)]
    description = f"Approve RFM #{rfm_id}"
    votes = {members[0]: FOR, members[1]: FOR, members[2]: FOR, members[3]: AGAINST}
    pass_proposal(governor, actions, description, votes)
    _, execute = queue_and_execute(
        governor, sender=pharma, actions=actions, description=description
    )

    created = execute.events["SubDAOCreated"]
    subdao_address = created["subDAO"]
    assert execute.events["RFMApproved"]["subDAO"] == subdao_address
    assert registry.getRFM(rfm_id)["status"] == RFMStatus.APPROVED
    factory = suite_factory.factory
    assert factory.subDAOOf(rfm_id) == subdao_address
    assert factory.isSubDAO(subdao_address)
    assert subdao_address in factory.subDAOsByDomain(bytes32(SCENARIO.rfm.domain))
    assert subdao_address in factory.subDAOsByModelClass(bytes32(SCENARIO.rfm.model_class))

    suite = load_subdao_suite(subdao_address)
    hub = suite.subdao
    assert hub.state() == CROWDFUNDING
    assert (hub.rfmId(), hub.requester(), hub.paymentToken()) == (rfm_id, pharma, token)
    with brownie.reverts(custom_error("RFMInvalidStatus", rfm_id, int(RFMStatus.APPROVED))):
        registry.approveByEndorsement(rfm_id, {"from": pharma})

    # hospitals and backers fund the crowdfund in FLAI and receive SDT at the RFM's rate
    goal = rfm.crowdfund_goal
    shares = [goal // 2, goal // 4, goal - goal // 2 - goal // 4]
    for backer, amount in zip(backers, shares):
        token.transfer(backer, amount, {"from": deployer})
        token.approve(hub, amount, {"from": backer})
        tx = hub.contribute(amount, {"from": backer})
        assert tx.events["Contributed"]["sdtMinted"] == amount * rfm.sdt_per_payment_unit // WAD
        assert suite.sdt.balanceOf(backer) == amount
        assert suite.sdt.getVotes(backer) == amount  # votes without a delegate call
    close = hub.closeCrowdfund({"from": backers[0]})
    assert close.events["StateChanged"]["next"] == ONBOARDING
    assert token.balanceOf(hub) == goal

    # hospitals attest and post collateral; validators post deposits; pharma launches
    for i, hospital in enumerate(hospitals):
        token.approve(suite.rounds, 10 * WAD, {"from": hospital})
        suite.rounds.applyContributor(f"bafyattestation{i}", 10 * WAD, {"from": hospital})
    for validator in validators:
        token.approve(suite.rounds, 100 * WAD, {"from": validator})
        suite.rounds.applyValidator(100 * WAD, {"from": validator})
    launch = suite.rounds.launch(
        hospitals[:3], [300 * WAD, 200 * WAD, 100 * WAD], validators, {"from": pharma}
    )
    assert hub.state() == TRAINING
    assert launch.events["StateChanged"]["next"] == TRAINING
    assert [suite.sbgt.pointsOf(h) for h in hospitals[:3]] == [300 * WAD, 200 * WAD, 100 * WAD]
    assert all(suite.sbgt.locked(suite.sbgt.tokenOf(h)) for h in hospitals[:3])
