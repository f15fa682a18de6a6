"""Onboarding: applications, requester launch with founding SBGT, chamber whitelisting, revocation."""

import brownie
from brownie import web3

from tests.fixtures.subdao import FOUNDER_POINTS, fund_flai, govern, plain
from tests.helpers import custom_error

WAD = 10**18


def _apply(s, flai_token, who, collateral, cid="bafyattest"):
    if collateral:
        fund_flai(flai_token, who, collateral)
        flai_token.approve(s.rounds, collateral, {"from": who})
    return s.rounds.applyContributor(cid, collateral, {"from": who})


def _apply_validator(s, flai_token, who, deposit):
    fund_flai(flai_token, who, deposit)
    flai_token.approve(s.rounds, deposit, {"from": who})
    return s.rounds.applyValidator(deposit, {"from": who})


def test_apply_contributor(funded_suite, flai_token, hospitals):
    s = funded_suite
    tx = _apply(s, flai_token, hospitals[0], 3 * WAD, "bafyA")
    ev = tx.events["ContributorApplied"]
    assert (ev["account"], ev["attestationCid"], ev["collateral"]) == (
        hospitals[0],
        "bafyA",
        3 * WAD,
    )
    st = plain(s.rounds.contributor(hospitals[0]))
    assert st[:3] == [1, 0, 3 * WAD]
    assert st[3] == "0x" + web3.keccak(text="bafyA").hex().removeprefix("0x")
    assert flai_token.balanceOf(s.rounds) == 3 * WAD
    with brownie.reverts(custom_error("RoundsAlreadyApplied", hospitals[0], 1)):
        s.rounds.applyContributor("bafyB", 0, {"from": hospitals[0]})
    tx = _apply(s, flai_token, hospitals[1], 0)  # collateral is optional
    assert tx.events["ContributorApplied"]["collateral"] == 0


def test_apply_validator(funded_suite, flai_token, validators):
    s = funded_suite
    with brownie.reverts(custom_error("RoundsDepositTooSmall", WAD - 1, WAD)):
        s.rounds.applyValidator(WAD - 1, {"from": validators[0]})
    tx = _apply_validator(s, flai_token, validators[0], 7 * WAD)
    assert tx.events["ValidatorApplied"]["deposit"] == 7 * WAD
    assert plain(s.rounds.validator(validators[0])) == [1, 0, 7 * WAD]


def test_withdraw_application(funded_suite, flai_token, hospitals, validators):
    s = funded_suite
    _apply(s, flai_token, hospitals[0], 3 * WAD)
    tx = s.rounds.withdrawCollateral({"from": hospitals[0]})
    assert tx.events["CollateralWithdrawn"]["amount"] == 3 * WAD
    assert flai_token.balanceOf(hospitals[0]) == 3 * WAD
    assert plain(s.rounds.contributor(hospitals[0]))[0] == 0
    with brownie.reverts(custom_error("RoundsNothingToWithdraw", hospitals[0])):
        s.rounds.withdrawCollateral({"from": hospitals[0]})
    _apply_validator(s, flai_token, validators[0], 2 * WAD)
    tx = s.rounds.withdrawDeposit({"from": validators[0]})
    assert tx.events["DepositWithdrawn"]["amount"] == 2 * WAD


def test_launch(funded_suite, flai_token, hospitals, validators, pharma):
    s = funded_suite
    for h in hospitals[:3]:
        _apply(s, flai_token, h, WAD)
    for v in validators[:2]:
        _apply_validator(s, flai_token, v, 10 * WAD)
    tx = s.rounds.launch(hospitals[:3], FOUNDER_POINTS, validators[:2], {"from": pharma})
    assert tx.events["Launched"]["founders"] == 3 and tx.events["Launched"]["validators"] == 2
    wl = tx.events["ContributorWhitelisted"]
    assert [(e["account"], e["memberIndex"], e["initialPoints"]) for e in wl] == [
        (h, i, p) for i, (h, p) in enumerate(zip(hospitals[:3], FOUNDER_POINTS))
    ]
    assert [e["tokenId"] for e in tx.events["Locked"]] == [
        int(h.address, 16) for h in hospitals[:3]
    ]
    assert [e["account"] for e in tx.events["ValidatorWhitelisted"]] == list(validators[:2])
    assert tx.events["StateChanged"]["previous"] == 1 and tx.events["StateChanged"]["next"] == 2
    assert [s.sbgt.pointsOf(h) for h in hospitals[:3]] == FOUNDER_POINTS
    assert s.sbgt.totalPoints() == sum(FOUNDER_POINTS)
    assert s.rounds.contributorCount() == 3 and s.rounds.validatorCount() == 2
    assert s.rounds.activeValidators() == 2
    with brownie.reverts(custom_error("RoundsNotApplied", hospitals[0], 2)):
        s.rounds.launch(hospitals[:1], [1], validators[:2], {"from": pharma})


def test_launch_errors(funded_suite, flai_token, hospitals, validators, pharma, outsider):
    s = funded_suite
    _apply(s, flai_token, hospitals[0], 0)
    _apply_validator(s, flai_token, validators[0], WAD)
    with brownie.reverts(custom_error("RoundsUnauthorized", outsider)):
        s.rounds.launch(hospitals[:1], [1], validators[:1], {"from": outsider})
    with brownie.reverts(custom_error("RoundsNotEnoughValidators", 1, 2)):
        s.rounds.launch(hospitals[:1], [1], validators[:1], {"from": pharma})
    with brownie.reverts(custom_error("RoundsLengthMismatch", 1, 0)):
        s.rounds.launch(hospitals[:1], [], validators[:2], {"from": pharma})
    with brownie.reverts(custom_error("RoundsNotApplied", outsider, 0)):
        s.rounds.launch([outsider], [1], [validators[0], validators[0]], {"from": pharma})
    with brownie.reverts(custom_error("RoundsNotApplied", validators[1], 0)):
        s.rounds.launch(hospitals[:1], [1], validators[:2], {"from": pharma})


def test_launch_before_crowdfund_closed(
    subdao_factory, rfm_registry, pay_token, flai_token, hospitals, validators, pharma
):
    from brownie import chain

    from flai.chain import load_subdao_suite
    from tests.fixtures.subdao import rfm_params

    tx = subdao_factory.factory.createSubDAO(
        2, pharma, rfm_params(pay_token, chain.time() + 1000), {"from": rfm_registry}
    )
    s = load_subdao_suite(tx.return_value)
    _apply(s, flai_token, hospitals[0], 0)
    for v in validators[:2]:
        _apply_validator(s, flai_token, v, WAD)
    with brownie.reverts(custom_error("SubDAOInvalidState", 0, (1 << 1).to_bytes(32, "big"))):
        s.rounds.launch(hospitals[:1], [WAD], validators[:2], {"from": pharma})


def test_chamber_whitelists_batch(launched_suite, hospitals, outsider):
    s = launched_suite
    with brownie.reverts(custom_error("RoundsUnauthorized", outsider)):
        s.rounds.whitelistContributors(hospitals[3:5], {"from": outsider})
    tx = govern(
        s.technical,
        [s.rounds],
        [s.rounds.whitelistContributors.encode_input(hospitals[3:5])],
        hospitals[:3],
        "whitelist 3 and 4",
    )
    assert [e["memberIndex"] for e in tx.events["ContributorWhitelisted"]] == [3, 4]
    assert len(tx.events["Locked"]) == 2
    assert s.sbgt.balanceOf(hospitals[3]) == 1 and s.sbgt.pointsOf(hospitals[3]) == 0


def test_revoke_for_malice_confiscates_collateral(launched_suite, hospitals, flai_token):
    s = launched_suite
    before = flai_token.balanceOf(s.subdao)
    tx = govern(
        s.technical,
        [s.rounds],
        [s.rounds.revokeContributor.encode_input(hospitals[2], 2)],
        hospitals[:3],
        "revoke h2 malice",
    )
    ev = tx.events["ContributorRevoked"]
    assert (ev["account"], ev["reason"], ev["collateralSlashed"]) == (hospitals[2], 2, 10 * WAD)
    assert tx.events["PointsRevoked"]["account"] == hospitals[2]
    assert s.sbgt.balanceOf(hospitals[2]) == 0 and s.sbgt.totalPoints() == sum(FOUNDER_POINTS[:2])
    assert (
        flai_token.balanceOf(s.subdao) - before == 10 * WAD and s.rounds.totalSlashed() == 10 * WAD
    )
    with brownie.reverts(custom_error("RoundsNothingToWithdraw", hospitals[2])):
        s.rounds.withdrawCollateral({"from": hospitals[2]})


def test_revoke_for_exit_returns_collateral(launched_suite, hospitals, flai_token):
    s = launched_suite
    with brownie.reverts(custom_error("RoundsNothingToWithdraw", hospitals[1])):
        s.rounds.withdrawCollateral({"from": hospitals[1]})  # still whitelisted
    tx = govern(
        s.technical,
        [s.rounds],
        [s.rounds.revokeContributor.encode_input(hospitals[1], 1)],
        hospitals[:3],
        "revoke h1 exit",
    )
    assert tx.events["ContributorRevoked"]["collateralSlashed"] == 0
    tx = s.rounds.withdrawCollateral({"from": hospitals[1]})
    assert tx.events["CollateralWithdrawn"]["amount"] == 10 * WAD


def test_remove_validator(launched_suite, hospitals, validators):
    s = launched_suite
    tx = govern(
        s.technical,
        [s.rounds],
        [s.rounds.removeValidator.encode_input(validators[2])],
        hospitals[:3],
        "remove v2",
    )
    assert tx.events["ValidatorRemoved"]["account"] == validators[2]
    assert s.rounds.activeValidators() == 2
    tx = s.rounds.withdrawDeposit({"from": validators[2]})
    assert tx.events["DepositWithdrawn"]["amount"] == 50 * WAD
