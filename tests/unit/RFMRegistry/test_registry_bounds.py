"""RFMRegistry: values that could later overflow are refused when they are set, by name.

A submission TTL that does not fit beside a timestamp, an SDT cap above the SDT's 96 bits and
an SDT rate at which one payment-token wei already mints more than the cap would make a later
call (submit, approval, contribute) Panic; they are refused up front.
"""

from dataclasses import replace

import brownie

from tests.helpers import bytes32, custom_error


def test_ttl_beyond_uint32_is_refused(registry, as_timelock, pharma, pharma_rfm):
    with brownie.reverts(custom_error("RFMInvalidTTL", 2**32)):
        registry.setSubmissionTTL(2**32, {"from": as_timelock})
    with brownie.reverts(custom_error("RFMInvalidTTL", 2**64 - 1)):
        registry.setSubmissionTTL(2**64 - 1, {"from": as_timelock})
    registry.setSubmissionTTL(2**32 - 1, {"from": as_timelock})
    assert registry.submit(pharma_rfm.as_tuple(), {"from": pharma}).return_value == 1


def test_sdt_cap_and_rate_out_of_range(registry, pharma, pharma_rfm):
    big_cap = replace(pharma_rfm, sdt_cap=2**96)
    with brownie.reverts(custom_error("RFMInvalidParam", bytes32("sdtCap"))):
        registry.submit(big_cap.as_tuple(), {"from": pharma})
    cap = pharma_rfm.sdt_cap
    big_rate = replace(pharma_rfm, sdt_per_payment_unit=cap * 10**18 + 1)
    with brownie.reverts(custom_error("RFMInvalidParam", bytes32("sdtPerPaymentUnit"))):
        registry.submit(big_rate.as_tuple(), {"from": pharma})
    edge = replace(pharma_rfm, sdt_cap=2**96 - 1, sdt_per_payment_unit=(2**96 - 1) * 10**18)
    assert registry.submit(edge.as_tuple(), {"from": pharma}).return_value == 1
