"""RFMRegistry success refund (000 §6.3): governance setters and the checks that need no
SubDAO suite (status, reserve, implementation), and the splitter-genuineness checks against a
SubDAO stand-in whose splitter slot a test can point anywhere (a factory-made suite always
has its own genuine splitter there). The deployed-and-earning paths run on the real protocol
in tests/integration/test_success_refund.py."""

import brownie
import pytest

from flai.chain import RFMStatus, deploy_market_cloner, deploy_revenue_splitter
from tests.fixtures.market import SHARES
from tests.helpers import custom_error

WAD = 10**18


@pytest.fixture
def rfm_id(registry, pharma, pharma_rfm):
    return registry.submit(pharma_rfm.as_tuple(), {"from": pharma}).return_value


def test_defaults(registry):
    assert registry.splitterImplementation() == "0x" + "00" * 20
    assert registry.successRevenueThreshold() == registry.DEFAULT_SUCCESS_REVENUE_THRESHOLD() == 1


def test_setters_update_and_emit(registry, as_timelock, outsider):
    tx = registry.setSplitterImplementation(outsider, {"from": as_timelock})
    ev = tx.events["SplitterImplementationUpdated"]
    assert (ev["oldImplementation"], ev["newImplementation"]) == ("0x" + "00" * 20, outsider)
    assert registry.splitterImplementation() == outsider
    tx = registry.setSuccessRevenueThreshold(10**6, {"from": as_timelock})
    ev = tx.events["SuccessRevenueThresholdUpdated"]
    assert (ev["oldThreshold"], ev["newThreshold"]) == (1, 10**6)
    assert registry.successRevenueThreshold() == 10**6


def test_setters_are_owner_only_and_checked(registry, as_timelock, outsider):
    with brownie.reverts(custom_error("OwnableUnauthorizedAccount", outsider)):
        registry.setSplitterImplementation(outsider, {"from": outsider})
    with brownie.reverts(custom_error("OwnableUnauthorizedAccount", outsider)):
        registry.setSuccessRevenueThreshold(5, {"from": outsider})
    with brownie.reverts(custom_error("RFMZeroAddress")):
        registry.setSplitterImplementation("0x" + "00" * 20, {"from": as_timelock})
    with brownie.reverts(custom_error("RFMInvalidRevenueThreshold", 0)):
        registry.setSuccessRevenueThreshold(0, {"from": as_timelock})


def test_credit_requires_a_known_approved_rfm(registry, as_timelock, rfm_id, outsider):
    with brownie.reverts(custom_error("RFMUnknown", 9)):
        registry.creditSuccessRefund(9, {"from": outsider})
    with brownie.reverts(custom_error("RFMInvalidStatus", rfm_id, RFMStatus.PENDING)):
        registry.creditSuccessRefund(rfm_id, {"from": outsider})
    registry.reject(rfm_id, {"from": as_timelock})
    with brownie.reverts(custom_error("RFMInvalidStatus", rfm_id, RFMStatus.REJECTED)):
        registry.creditSuccessRefund(rfm_id, {"from": outsider})


def test_credit_requires_a_reserve(registry, as_timelock, pharma, pharma_rfm, outsider):
    registry.setRefundPolicy(5_000, 0, {"from": as_timelock})  # no success reserve kept
    rfm_id = registry.submit(pharma_rfm.as_tuple(), {"from": pharma}).return_value
    tx = registry.approve(rfm_id, {"from": as_timelock})
    assert tx.events["RFMApproved"]["successReserve"] == 0
    with brownie.reverts(custom_error("RFMNoSuccessReserve", rfm_id)):
        registry.creditSuccessRefund(rfm_id, {"from": outsider})


def test_credit_requires_the_splitter_implementation(registry, as_timelock, rfm_id, outsider):
    registry.approve(rfm_id, {"from": as_timelock})
    assert registry.getRFM(rfm_id)["escrow"] > 0
    with brownie.reverts(custom_error("RFMSplitterImplementationNotSet")):
        registry.creditSuccessRefund(rfm_id, {"from": outsider})


SDT_SLOT, SPLITTER_SLOT = 1, 5
EPOCH_LENGTH = 7 * 24 * 3600
ZERO = "0x" + "00" * 20


@pytest.fixture
def stand_in(
    registry, recording_factory, as_timelock, pharma, pharma_rfm, deployer, MarketTestSubDAO
):
    """An approved RFM whose SubDAO is a stand-in at model version 1, the genuine splitter
    implementation set by governance, and a cloner for splitters of any SubDAO."""
    cloner = deploy_market_cloner(deployer=deployer)
    registry.setSplitterImplementation(cloner.splitter_impl, {"from": as_timelock})

    def subdao():
        s = MarketTestSubDAO.deploy(pharma, registry.flai(), {"from": deployer})
        s.setModule(SDT_SLOT, registry.flai(), {"from": deployer})  # any non-zero token
        return s

    def splitter_of(s, implementation=None):
        if implementation is None:
            return deploy_revenue_splitter(
                deployer=deployer,
                cloner=cloner,
                subdao=s,
                token=registry.flai(),
                platform_treasury=deployer,
                platform_admin=deployer,
                shares=SHARES,
                epoch_length=EPOCH_LENGTH,
            )
        data = implementation.initialize.encode_input(
            s, registry.flai(), deployer, deployer, SHARES.as_tuple(), EPOCH_LENGTH
        )
        tx = cloner.cloner.clone(implementation, data, {"from": deployer})
        return brownie.RevenueSplitter.at(tx.events["ModuleCloned"]["clone"])

    s = subdao()
    recording_factory.setNextSubDAO(s, {"from": deployer})
    rfm_id = registry.submit(pharma_rfm.as_tuple(), {"from": pharma}).return_value
    registry.approve(rfm_id, {"from": as_timelock})
    assert registry.getRFM(rfm_id)["subDAO"] == s
    s.acceptRound(1, [pharma], [10**18], {"from": deployer})
    assert s.modelVersion()[0] == 1
    return {"rfm_id": rfm_id, "subdao": s, "new_subdao": subdao, "splitter_of": splitter_of}


def test_missing_splitter_is_not_genuine(registry, stand_in, outsider):
    assert stand_in["subdao"].module(SPLITTER_SLOT) == ZERO
    with brownie.reverts(custom_error("RFMSplitterNotGenuine", stand_in["rfm_id"], ZERO)):
        registry.creditSuccessRefund(stand_in["rfm_id"], {"from": outsider})


def test_fake_splitter_reporting_revenue_is_not_genuine(
    registry, stand_in, deployer, outsider, FakeRevenueSplitter
):
    s = stand_in["subdao"]
    fake = FakeRevenueSplitter.deploy(s, {"from": deployer})
    s.setModule(SPLITTER_SLOT, fake, {"from": deployer})
    assert fake.subDAO() == s and fake.totals()[0] > 0
    with brownie.reverts(custom_error("RFMSplitterNotGenuine", stand_in["rfm_id"], fake)):
        registry.creditSuccessRefund(stand_in["rfm_id"], {"from": outsider})


def test_clone_of_another_implementation_is_not_genuine(
    registry, stand_in, deployer, outsider, RevenueSplitter
):
    s = stand_in["subdao"]
    other = RevenueSplitter.deploy({"from": deployer})  # same code, another implementation
    splitter = stand_in["splitter_of"](s, implementation=other)
    s.setModule(SPLITTER_SLOT, splitter, {"from": deployer})
    assert splitter.subDAO() == s
    with brownie.reverts(custom_error("RFMSplitterNotGenuine", stand_in["rfm_id"], splitter)):
        registry.creditSuccessRefund(stand_in["rfm_id"], {"from": outsider})


def test_genuine_clone_bound_to_another_subdao_is_not_genuine(
    registry, stand_in, deployer, outsider
):
    s, other = stand_in["subdao"], stand_in["new_subdao"]()
    splitter = stand_in["splitter_of"](other)
    s.setModule(SPLITTER_SLOT, splitter, {"from": deployer})
    assert splitter.subDAO() == other
    with brownie.reverts(custom_error("RFMSplitterNotGenuine", stand_in["rfm_id"], splitter)):
        registry.creditSuccessRefund(stand_in["rfm_id"], {"from": outsider})


def test_genuine_clone_of_its_subdao_passes_the_check_and_needs_revenue(
    registry, stand_in, deployer, outsider
):
    s = stand_in["subdao"]
    splitter = stand_in["splitter_of"](s)
    s.setModule(SPLITTER_SLOT, splitter, {"from": deployer})
    # Past the genuineness check, the next rule is the revenue threshold (1 wei by default).
    with brownie.reverts(custom_error("RFMRevenueBelowThreshold", stand_in["rfm_id"], 0, 1)):
        registry.creditSuccessRefund(stand_in["rfm_id"], {"from": outsider})
