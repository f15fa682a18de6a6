"""RFMRegistry success refund (000 §6.3): governance setters and the checks that need no
SubDAO suite (status, reserve, implementation). The deployed-and-earning paths run on the
real protocol in tests/integration/test_success_refund.py."""

import brownie
import pytest

from flai.chain import RFMStatus
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
