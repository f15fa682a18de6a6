"""RFMRegistry.submit: escrowed fee, structured params, validation, discovery indexes."""

from dataclasses import replace

import brownie
import pytest

from flai.chain import RFMStatus
from tests.helpers import bytes32, custom_error

WAD = 10**18


def as_returned(request):
    """The request's ABI tuple as brownie returns it (bytes32 as 0x-hex strings)."""
    return tuple("0x" + v.hex() if isinstance(v, bytes) else v for v in request.as_tuple())


def test_submit_escrows_fee_and_records_request(
    flai, registry, pharma, pharma_rfm, platform_config
):
    fee = platform_config.creation_fee
    balance = flai.balanceOf(pharma)

    tx = registry.submit(pharma_rfm.as_tuple(), {"from": pharma})

    rfm_id = tx.return_value
    assert rfm_id == 1 == registry.rfmCount()
    assert flai.balanceOf(pharma) == balance - fee
    assert flai.balanceOf(registry) == fee
    record = registry.getRFM(rfm_id)
    assert record["requester"] == pharma
    assert record["status"] == RFMStatus.PENDING
    assert record["escrow"] == fee
    assert record["expiresAt"] == tx.timestamp + platform_config.submission_ttl
    assert (
        record["endorsementSnapshot"] == tx.block_number - 1 - platform_config.endorsement_stake_age
    )
    assert record["subDAO"] == brownie.ZERO_ADDRESS
    assert tuple(registry.getParams(rfm_id)) == as_returned(pharma_rfm)
    event = tx.events["RFMSubmitted"]
    assert event["rfmId"] == rfm_id
    assert event["domain"] == "0x" + bytes32("healthcare.oncology").hex()
    assert event["modelClass"] == "0x" + bytes32("binary-classifier").hex()
    assert event["requester"] == pharma
    assert tuple(event["params"]) == as_returned(pharma_rfm)
    assert (event["fee"], event["expiresAt"], event["endorsementSnapshot"]) == (
        fee,
        record["expiresAt"],
        record["endorsementSnapshot"],
    )
    assert tx.events["Transfer"]["value"] == fee


@pytest.mark.parametrize(
    "field, value",
    [
        ("spec_cid", ""),
        ("domain", ""),
        ("model_class", ""),
        ("data_schema", ""),
        ("metric_id", ""),
        ("metric_threshold", 1_500_000),
        ("min_validators", 0),
        ("quorum_bps", 10_001),
        ("epoch_length", 0),
        ("crowdfund_deadline", 1),
        ("payment_token", brownie.ZERO_ADDRESS),
        ("crowdfund_goal", 0),
        ("sdt_per_payment_unit", 0),
        ("sdt_cap", 0),
    ],
)
def test_invalid_params_revert_naming_the_field(registry, pharma, pharma_rfm, field, value):
    solidity_name = {
        "spec_cid": "specCid",
        "model_class": "modelClass",
        "data_schema": "dataSchema",
        "metric_id": "metricId",
        "metric_threshold": "metricThreshold",
        "min_validators": "minValidators",
        "quorum_bps": "quorumBps",
        "epoch_length": "epochLength",
        "crowdfund_deadline": "crowdfundDeadline",
        "payment_token": "paymentToken",
        "crowdfund_goal": "crowdfundGoal",
        "sdt_per_payment_unit": "sdtPerPaymentUnit",
        "sdt_cap": "sdtCap",
    }.get(field, field)
    request = replace(pharma_rfm, **{field: value})

    with brownie.reverts(custom_error("RFMInvalidParam", bytes32(solidity_name))):
        registry.submit(request.as_tuple(), {"from": pharma})


def test_submit_without_allowance_reverts(registry, deployer, pharma_rfm, platform_config):
    with brownie.reverts(
        custom_error("ERC20InsufficientAllowance", registry, 0, platform_config.creation_fee)
    ):
        registry.submit(pharma_rfm.as_tuple(), {"from": deployer})


def test_zero_fee_submission_moves_no_flai(flai, registry, as_timelock, pharma, pharma_rfm):
    registry.setCreationFee(0, {"from": as_timelock})
    balance = flai.balanceOf(pharma)

    tx = registry.submit(pharma_rfm.as_tuple(), {"from": pharma})

    assert flai.balanceOf(pharma) == balance
    assert registry.getRFM(tx.return_value)["escrow"] == 0
    assert tx.events["RFMSubmitted"]["fee"] == 0
    assert "Transfer" not in tx.events


def test_fee_arriving_short_is_rejected(
    RFMRegistry, TestToken, staking, deployer, pharma, pharma_rfm
):
    token = TestToken.deploy("Fee On Transfer", "FOT", 18, 100, 0, {"from": deployer})  # 1% burnt
    token.mint(pharma, 10_000 * WAD, {"from": deployer})
    registry = RFMRegistry.deploy(
        token,
        staking,
        deployer,
        deployer,
        100 * WAD,
        3600,
        2000,
        5000,
        2500,
        10,
        {"from": deployer},
    )
    token.approve(registry, 2**256 - 1, {"from": pharma})
    request = replace(pharma_rfm, payment_token=token.address)  # the registry's own FLAI: listed

    with brownie.reverts(custom_error("RFMFeeNotReceived", 100 * WAD, 99 * WAD)):
        registry.submit(request.as_tuple(), {"from": pharma})


def test_unknown_id_reverts(registry):
    with brownie.reverts(custom_error("RFMUnknown", 7)):
        registry.getRFM(7)
    with brownie.reverts(custom_error("RFMUnknown", 0)):
        registry.getParams(0)
    with brownie.reverts(custom_error("RFMUnknown", 7)):
        registry.endorsementRequired(7)


def test_discovery_by_status_domain_class_and_schema(
    registry, as_timelock, pharma, hospital_a, pharma_rfm
):
    bank = replace(pharma_rfm, domain="finance.credit", data_schema="ISO-20022")
    regression = replace(pharma_rfm, model_class="regression")
    ids = [
        registry.submit(pharma_rfm.as_tuple(), {"from": pharma}).return_value,
        registry.submit(bank.as_tuple(), {"from": hospital_a}).return_value,
        registry.submit(regression.as_tuple(), {"from": pharma}).return_value,
    ]
    registry.reject(ids[1], {"from": as_timelock})

    oncology = bytes32("healthcare.oncology")
    assert registry.countByDomain(oncology) == 2
    assert list(registry.idsByDomain(oncology, 0, 10)) == [ids[0], ids[2]]
    assert list(registry.idsByDomain(oncology, 1, 10)) == [ids[2]]
    assert list(registry.idsByDomain(oncology, 0, 1)) == [ids[0]]
    assert list(registry.idsByDomain(oncology, 5, 10)) == []
    assert list(registry.idsByDomain(bytes32("finance.credit"), 0, 10)) == [ids[1]]
    assert list(registry.idsByModelClass(bytes32("binary-classifier"), 0, 10)) == [ids[0], ids[1]]
    assert registry.countByModelClass(bytes32("regression")) == 1
    assert list(registry.idsByDataSchema(bytes32("HL7-FHIR-R4"), 0, 10)) == [ids[0], ids[2]]
    assert registry.countByDataSchema(bytes32("ISO-20022")) == 1
    assert sorted(registry.idsByStatus(RFMStatus.PENDING, 0, 10)) == [ids[0], ids[2]]
    assert list(registry.idsByStatus(RFMStatus.REJECTED, 0, 10)) == [ids[1]]
    assert registry.countByStatus(RFMStatus.PENDING) == 2
    assert len(registry.idsByStatus(RFMStatus.PENDING, 1, 10)) == 1
