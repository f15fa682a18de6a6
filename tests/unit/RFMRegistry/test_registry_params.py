"""RFMRegistry governable parameters (owner = the SuperDAO timelock)."""

import brownie

from tests.helpers import custom_error

WAD = 10**18


def test_deployment_wiring(registry, flai, staking, timelock, recording_factory, platform_config):
    assert registry.owner() == timelock
    assert (registry.flai(), registry.staking(), registry.treasury()) == (flai, staking, timelock)
    assert registry.factory() == recording_factory
    assert registry.creationFee() == platform_config.creation_fee
    assert registry.submissionTTL() == platform_config.submission_ttl
    assert registry.endorsementThresholdBps() == platform_config.endorsement_threshold_bps
    assert registry.rejectionRefundBps() == platform_config.rejection_refund_bps
    assert registry.successRefundBps() == platform_config.success_refund_bps


def test_setters_update_and_emit(registry, as_timelock, outsider, platform_config):
    tx = registry.setCreationFee(5 * WAD, {"from": as_timelock})
    assert (
        tx.events["CreationFeeUpdated"]["oldFee"],
        tx.events["CreationFeeUpdated"]["newFee"],
    ) == (
        platform_config.creation_fee,
        5 * WAD,
    )
    tx = registry.setSubmissionTTL(7_200, {"from": as_timelock})
    assert (
        tx.events["SubmissionTTLUpdated"]["oldTTL"],
        tx.events["SubmissionTTLUpdated"]["newTTL"],
    ) == (
        platform_config.submission_ttl,
        7_200,
    )
    tx = registry.setEndorsementThresholdBps(3_000, {"from": as_timelock})
    assert tx.events["EndorsementThresholdUpdated"]["newThresholdBps"] == 3_000
    tx = registry.setRefundPolicy(10_000, 0, {"from": as_timelock})
    assert (
        tx.events["RefundPolicyUpdated"]["rejectionRefundBps"],
        tx.events["RefundPolicyUpdated"]["successRefundBps"],
    ) == (10_000, 0)
    tx = registry.setFactory(outsider, {"from": as_timelock})
    assert (tx.events["FactoryUpdated"]["newFactory"]) == outsider
    assert (
        registry.creationFee(),
        registry.submissionTTL(),
        registry.endorsementThresholdBps(),
    ) == (5 * WAD, 7_200, 3_000)
    assert (registry.rejectionRefundBps(), registry.successRefundBps(), registry.factory()) == (
        10_000,
        0,
        outsider,
    )


def test_setters_reject_out_of_range_values(registry, as_timelock):
    with brownie.reverts(custom_error("RFMInvalidTTL", 0)):
        registry.setSubmissionTTL(0, {"from": as_timelock})
    with brownie.reverts(custom_error("RFMInvalidBps", 0)):
        registry.setEndorsementThresholdBps(0, {"from": as_timelock})
    with brownie.reverts(custom_error("RFMInvalidBps", 10_001)):
        registry.setEndorsementThresholdBps(10_001, {"from": as_timelock})
    with brownie.reverts(custom_error("RFMInvalidBps", 10_001)):
        registry.setRefundPolicy(10_001, 0, {"from": as_timelock})
    with brownie.reverts(custom_error("RFMInvalidBps", 10_001)):
        registry.setRefundPolicy(0, 10_001, {"from": as_timelock})
    with brownie.reverts(custom_error("RFMZeroAddress")):
        registry.setFactory(brownie.ZERO_ADDRESS, {"from": as_timelock})
    with brownie.reverts(custom_error("RFMFeeTooLarge", 2**128)):
        registry.setCreationFee(2**128, {"from": as_timelock})


def test_only_governance_sets_parameters(registry, outsider):
    for call, args in [
        (registry.setCreationFee, (1,)),
        (registry.setSubmissionTTL, (1,)),
        (registry.setEndorsementThresholdBps, (1,)),
        (registry.setRefundPolicy, (1, 1)),
        (registry.setFactory, (outsider,)),
    ]:
        with brownie.reverts(custom_error("OwnableUnauthorizedAccount", outsider)):
            call(*args, {"from": outsider})


def test_constructor_rejects_zero_addresses(RFMRegistry, flai, staking, deployer):
    with brownie.reverts(custom_error("RFMZeroAddress")):
        RFMRegistry.deploy(
            flai, staking, brownie.ZERO_ADDRESS, deployer, 0, 1, 1, 0, 0, 1, {"from": deployer}
        )


def test_deploy_platform_wires_a_factory_built_for_the_registry(RecordingFactory, deployer):
    from flai.chain import deploy_platform

    built = []

    def build(registry):
        built.append(registry.address)
        return RecordingFactory.deploy({"from": deployer})

    platform = deploy_platform(deployer=deployer, factory=build)

    assert built == [platform.registry.address]
    assert platform.registry.factory() == RecordingFactory[-1]
    assert platform.registry.owner() == platform.timelock
