"""RFMRegistry: the governance allow-list of payment tokens a SubDAO may be created with.

A token that charges its sender a fee on top of the value passes every receive-side
balance-delta check and then leaves each escrow short when it pays out (crowdfund refunds,
marketplace escrow, splitter pools), so payment tokens are refused at configuration time
unless governance listed them: at submission and again at approval. FLAI is listed at
construction.
"""

from dataclasses import replace

import brownie
import pytest

from flai.chain import RFMStatus
from tests.helpers import custom_error

WAD = 10**18


@pytest.fixture(scope="module")
def fee_on_top(module_isolation, TestToken, deployer):
    return TestToken.deploy("Fee On Top USD", "FOT", 6, 0, 100, {"from": deployer})


@pytest.fixture(scope="module")
def stablecoin(module_isolation, TestToken, deployer):
    return TestToken.deploy("USD Coin (test stand-in)", "USDC", 6, 0, 0, {"from": deployer})


def test_flai_is_listed_at_construction(registry, flai):
    assert registry.isPaymentTokenAllowed(flai) is True


def test_unlisted_token_is_refused_at_submission(registry, pharma, pharma_rfm, fee_on_top):
    request = replace(pharma_rfm, payment_token=fee_on_top.address)
    with brownie.reverts(custom_error("RFMPaymentTokenNotAllowed", fee_on_top)):
        registry.submit(request.as_tuple(), {"from": pharma})
    assert registry.rfmCount() == 0
    assert registry.isPaymentTokenAllowed(fee_on_top) is False


def test_governance_lists_and_delists_tokens(registry, as_timelock, pharma, pharma_rfm, stablecoin):
    with brownie.reverts(custom_error("OwnableUnauthorizedAccount", pharma)):
        registry.setPaymentTokenAllowed(stablecoin, True, {"from": pharma})
    tx = registry.setPaymentTokenAllowed(stablecoin, True, {"from": as_timelock})
    ev = tx.events["PaymentTokenAllowed"]
    assert (ev["token"], ev["allowed"]) == (stablecoin, True)
    request = replace(pharma_rfm, payment_token=stablecoin.address)
    rfm_id = registry.submit(request.as_tuple(), {"from": pharma}).return_value
    # delisted before the decision: the approval refuses to create the SubDAO
    registry.setPaymentTokenAllowed(stablecoin, False, {"from": as_timelock})
    with brownie.reverts(custom_error("RFMPaymentTokenNotAllowed", stablecoin)):
        registry.approve(rfm_id, {"from": as_timelock})
    assert registry.getRFM(rfm_id)["status"] == RFMStatus.PENDING
    registry.setPaymentTokenAllowed(stablecoin, True, {"from": as_timelock})
    assert registry.approve(rfm_id, {"from": as_timelock}).events["RFMApproved"]["rfmId"] == rfm_id


def test_zero_token_cannot_be_listed(registry, as_timelock):
    with brownie.reverts(custom_error("RFMZeroAddress")):
        registry.setPaymentTokenAllowed(brownie.ZERO_ADDRESS, True, {"from": as_timelock})
