"""SubDAOFactory: one call clones, initializes, wires and registers the whole suite."""

import brownie
from brownie import chain

from flai.chain import deploy_subdao_factory
from tests.fixtures.subdao import (
    DOMAIN,
    GOAL,
    MODEL_CLASS,
    RATE,
    REVENUE_SHARES,
    SDT_CAP,
    plain,
    rfm_params,
)
from tests.helpers import bytes32, custom_error


def test_create_wires_and_registers(
    subdao_factory, rfm_registry, pharma, pay_token, flai_token, treasury_admin
):
    f = subdao_factory.factory
    deadline = chain.time() + 86_400
    tx = f.createSubDAO(7, pharma, rfm_params(pay_token, deadline), {"from": rfm_registry})
    hub_addr = tx.return_value
    ev = tx.events["SubDAOCreated"]
    assert ev["rfmId"] == 7 and ev["subDAO"] == hub_addr and ev["requester"] == pharma
    assert ev["domain"] == "0x" + DOMAIN.hex() and ev["modelClass"] == "0x" + MODEL_CLASS.hex()
    assert ev["parent"] == brownie.ZERO_ADDRESS and ev["parentModelVersion"] == 0
    suite = ev["suite"]
    from brownie import SBGT, SDT, SubDAO, SubDAOChamber, TrainingRounds

    hub = SubDAO.at(hub_addr)
    assert hub.module(0) == suite[1] and hub.module(1) == suite[2]
    assert hub.module(2) == suite[3] and hub.module(3) == suite[4] and hub.module(4) == suite[5]
    assert hub.factory() == f and hub.rfmId() == 7 and hub.requester() == pharma
    assert hub.coordinator() == pharma and hub.state() == 0
    assert [int(x) for x in hub.crowdfund()] == [0, GOAL, deadline, RATE]
    assert SBGT.at(suite[1]).operator() == suite[5]
    assert SDT.at(suite[2]).subDAO() == hub_addr and SDT.at(suite[2]).cap() == SDT_CAP
    tech, fin = SubDAOChamber.at(suite[3]), SubDAOChamber.at(suite[4])
    assert tech.token() == suite[1] and tech.chamberKind() == 0 and tech.quorumBps() == 2_000
    assert fin.token() == suite[2] and fin.chamberKind() == 1 and fin.subDAO() == hub_addr
    assert TrainingRounds.at(suite[5]).subDAO() == hub_addr
    assert TrainingRounds.at(suite[5]).flaiToken() == flai_token
    # the revenue splitter comes with the suite: module 5 and the SDT's balance hook from creation
    from brownie import RevenueSplitter

    splitter = RevenueSplitter.at(suite[6])
    assert hub.module(5) == suite[6] and SDT.at(suite[2]).balanceHook() == suite[6]
    assert splitter.subDAO() == hub_addr and splitter.token() == pay_token
    assert splitter.platformTreasury() == treasury_admin
    assert splitter.platformAdmin() == treasury_admin
    assert plain(splitter.shares()) == list(REVENUE_SHARES.as_tuple())
    assert splitter.accPerToken() == 1 and splitter.firstRevenueAt() == 0
    assert not splitter.retired()
    # SBGT pools last the RFM's epoch length (rfm_params: 86_400 s); none opened yet
    assert splitter.epochLength() == 86_400 and splitter.currentPoolId() == 0
    assert hub.module(6) == brownie.ZERO_ADDRESS  # the Marketplace extension slot stays free
    assert f.subDAOOf(7) == hub_addr and f.isSubDAO(hub_addr) and f.subDAOCount() == 1
    assert f.subDAOsByDomain(DOMAIN) == [hub_addr]
    assert f.subDAOsByModelClass(MODEL_CLASS) == [hub_addr]
    assert f.subDAOsByDomain(bytes32("finance")) == []


def test_only_registry(subdao_factory, pharma, pay_token):
    with brownie.reverts(custom_error("FactoryUnauthorized", pharma)):
        subdao_factory.factory.createSubDAO(
            1, pharma, rfm_params(pay_token, chain.time() + 100), {"from": pharma}
        )


def test_rfm_registered_once(subdao_factory, rfm_registry, pharma, pay_token):
    f = subdao_factory.factory
    params = rfm_params(pay_token, chain.time() + 1000)
    first = f.createSubDAO(3, pharma, params, {"from": rfm_registry}).return_value
    with brownie.reverts(custom_error("FactoryRFMAlreadyRegistered", 3, first)):
        f.createSubDAO(3, pharma, params, {"from": rfm_registry})


def test_invalid_params(subdao_factory, rfm_registry, pharma, pay_token):
    f = subdao_factory.factory
    now = chain.time()
    past = rfm_params(pay_token, now - 10)
    # the second argument is the block timestamp, unknown before mining: check the prefix
    try:
        f.createSubDAO(4, pharma, past, {"from": rfm_registry})
        raise AssertionError("createSubDAO with a past deadline did not revert")
    except brownie.exceptions.VirtualMachineError as exc:
        assert exc.revert_msg.startswith(f"FactoryInvalidDeadline: {now - 10}, ")
    zero_goal = rfm_params(pay_token, now + 1000, crowdfundGoal=0)
    with brownie.reverts(custom_error("FactoryInvalidAmount", 0, RATE, SDT_CAP)):
        f.createSubDAO(4, pharma, zero_goal, {"from": rfm_registry})
    bad_quorum = rfm_params(pay_token, now + 1000, quorumBps=10_001)
    with brownie.reverts(custom_error("FactoryInvalidQuorum", 10_001)):
        f.createSubDAO(4, pharma, bad_quorum, {"from": rfm_registry})
    no_token = rfm_params(pay_token, now + 1000, paymentToken=brownie.ZERO_ADDRESS)
    with brownie.reverts(custom_error("FactoryZeroAddress")):
        f.createSubDAO(4, pharma, no_token, {"from": rfm_registry})
    # one payment-token wei minting more than the cap: SDT = paid·rate/1e18 could overflow
    big_rate = rfm_params(pay_token, now + 1000, sdtPerPaymentUnit=SDT_CAP * 10**18 + 1)
    with brownie.reverts(custom_error("FactoryInvalidAmount", GOAL, SDT_CAP * 10**18 + 1, SDT_CAP)):
        f.createSubDAO(4, pharma, big_rate, {"from": rfm_registry})


def test_fork_only_by_subdao(subdao_factory, pharma, pay_token):
    with brownie.reverts(custom_error("FactoryUnauthorized", pharma)):
        subdao_factory.factory.forkSubDAO(
            rfm_params(pay_token, chain.time() + 100), 0, {"from": pharma}
        )


def test_implementations_cannot_be_initialized(subdao_factory, pharma, flai_token):
    d = subdao_factory
    with brownie.reverts(custom_error("InvalidInitialization")):
        d.sbgt_impl.initialize(pharma, 9 * 10**17, {"from": pharma})
    with brownie.reverts(custom_error("InvalidInitialization")):
        d.sdt_impl.initialize(pharma, 10**18, {"from": pharma})
    with brownie.reverts(custom_error("InvalidInitialization")):
        d.rounds_impl.initialize(pharma, {"from": pharma})
    with brownie.reverts(custom_error("InvalidInitialization")):
        d.chamber_impl.initialize(pharma, flai_token, 100, 0, {"from": pharma})
    with brownie.reverts(custom_error("InvalidInitialization")):
        d.splitter_impl.initialize(
            pharma, flai_token, pharma, pharma, REVENUE_SHARES.as_tuple(), 86_400, {"from": pharma}
        )
    impls = d.factory.implementations()
    assert impls == (
        d.subdao_impl,
        d.sbgt_impl,
        d.sdt_impl,
        d.chamber_impl,
        d.chamber_impl,
        d.rounds_impl,
        d.splitter_impl,
    )


def test_revenue_defaults(subdao_factory, treasury_admin):
    assert plain(subdao_factory.factory.revenueDefaults()) == [
        treasury_admin.address,
        treasury_admin.address,
        list(REVENUE_SHARES.as_tuple()),
    ]


def test_zero_epoch_length_is_rejected_by_the_splitter(
    subdao_factory, rfm_registry, pharma, pay_token
):
    # the RFM registry rejects it first (RFMInvalidParam); the factory path reverts too
    params = rfm_params(pay_token, chain.time() + 86_400, epochLength=0)
    with brownie.reverts(custom_error("SplitterInvalidEpochLength", 0)):
        subdao_factory.factory.createSubDAO(8, pharma, params, {"from": rfm_registry})


def test_constructor_rejects_bad_revenue_defaults(
    deployer, rfm_registry, flai_token, treasury_admin
):
    from flai.chain import RevenueShares

    too_much = RevenueShares(platform_bps=5_000, treasury_bps=1_000, sbgt_bps=4_001)
    with brownie.reverts(custom_error("SplitterInvalidShares", too_much.as_tuple())):
        deploy_subdao_factory(
            deployer=deployer,
            registry=rfm_registry,
            flai_token=flai_token,
            platform_treasury=treasury_admin,
            platform_admin=treasury_admin,
            revenue_shares=too_much,
        )
    with brownie.reverts(custom_error("FactoryZeroAddress")):
        deploy_subdao_factory(
            deployer=deployer,
            registry=rfm_registry,
            flai_token=flai_token,
            platform_treasury=brownie.ZERO_ADDRESS,
            platform_admin=treasury_admin,
        )


def test_clones_cannot_be_reinitialized(suite, pharma):
    with brownie.reverts(custom_error("InvalidInitialization")):
        suite.sbgt.initialize(pharma, 9 * 10**17, {"from": pharma})
    with brownie.reverts(custom_error("InvalidInitialization")):
        suite.rounds.initialize(pharma, {"from": pharma})
