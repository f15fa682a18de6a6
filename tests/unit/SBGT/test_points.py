"""SBGT points: π_k ← λπ_k + φ_k·M with an O(1) decay index (001 eq. 12), votes at snapshots."""

import brownie
from brownie import chain

from tests.helpers import custom_error

WAD = 10**18
LAMBDA = 9 * 10**17


def test_mint_with_points(bare_sbgt, sbgt_operator, hospital_a):
    tx = bare_sbgt.mint(hospital_a, 300 * WAD, {"from": sbgt_operator})
    ev = tx.events["PointsAwarded"]
    assert ev["account"] == hospital_a and ev["points"] == 300 * WAD
    assert ev["scaledBalance"] == bare_sbgt.scaledPointsOf(hospital_a)
    assert bare_sbgt.pointsOf(hospital_a) == 300 * WAD
    assert bare_sbgt.getVotes(hospital_a) == 300 * WAD
    assert bare_sbgt.totalPoints() == 300 * WAD
    assert bare_sbgt.totalScaledPoints() == bare_sbgt.scaledPointsOf(hospital_a)
    assert bare_sbgt.index() == 2**200


def test_apply_round_decays_everyone_and_awards_submitters(bare_sbgt, sbgt_operator, hospitals):
    a, b, c = hospitals[:3]
    bare_sbgt.mint(a, 100 * WAD, {"from": sbgt_operator})
    bare_sbgt.mint(b, 50 * WAD, {"from": sbgt_operator})
    tx = bare_sbgt.applyRound([b, c], [10 * WAD, 7 * WAD], {"from": sbgt_operator})
    d = tx.events["IndexDecayed"]
    assert d["previousIndex"] == 2**200 and d["newIndex"] == 2**200 * LAMBDA // WAD
    assert d["lambdaWad"] == LAMBDA
    # c holds no token: skipped
    assert len(tx.events["PointsAwarded"]) == 1
    assert abs(bare_sbgt.pointsOf(a) - 90 * WAD) <= 1
    assert abs(bare_sbgt.pointsOf(b) - 55 * WAD) <= 1
    assert bare_sbgt.pointsOf(c) == 0
    assert bare_sbgt.totalScaledPoints() == bare_sbgt.scaledPointsOf(a) + bare_sbgt.scaledPointsOf(
        b
    )


def test_past_votes_at_snapshot(bare_sbgt, sbgt_operator, hospitals):
    a, b = hospitals[:2]
    bare_sbgt.mint(a, 100 * WAD, {"from": sbgt_operator})
    snap = chain.height
    chain.mine()
    bare_sbgt.mint(b, 100 * WAD, {"from": sbgt_operator})
    bare_sbgt.applyRound([b], [WAD], {"from": sbgt_operator})
    chain.mine()
    assert bare_sbgt.getPastVotes(a, snap) == 100 * WAD
    assert bare_sbgt.getPastVotes(b, snap) == 0
    assert bare_sbgt.getPastTotalSupply(snap) == 100 * WAD
    now = chain.height - 1
    assert abs(bare_sbgt.getPastVotes(a, now) - 90 * WAD) <= 1
    assert bare_sbgt.getPastTotalSupply(now) == bare_sbgt.totalPoints()
    with brownie.reverts(custom_error("SBGTFutureLookup", chain.height + 5, chain.height)):
        bare_sbgt.getPastVotes(a, chain.height + 5)


def test_revoke_burns_and_removes_points(bare_sbgt, sbgt_operator, hospitals):
    a, b = hospitals[:2]
    bare_sbgt.mint(a, 100 * WAD, {"from": sbgt_operator})
    bare_sbgt.mint(b, 40 * WAD, {"from": sbgt_operator})
    s_a = bare_sbgt.scaledPointsOf(a)
    tx = bare_sbgt.revoke(a, {"from": sbgt_operator})
    ev = tx.events["PointsRevoked"]
    assert ev["account"] == a and ev["scaledRemoved"] == s_a and ev["pointsRemoved"] == 100 * WAD
    assert tx.events["Transfer"]["to"] == brownie.ZERO_ADDRESS
    assert bare_sbgt.balanceOf(a) == 0 and bare_sbgt.pointsOf(a) == 0
    assert bare_sbgt.totalPoints() == 40 * WAD
    with brownie.reverts(custom_error("ERC721NonexistentToken", int(a.address, 16))):
        bare_sbgt.locked(int(a.address, 16))
    with brownie.reverts(custom_error("SBGTNotHolder", a)):
        bare_sbgt.revoke(a, {"from": sbgt_operator})


def test_decay_bounds_and_change(bare_sbgt, sbgt_operator, hospital_a):
    with brownie.reverts(custom_error("SBGTInvalidDecay", 5 * 10**17)):
        bare_sbgt.setDecay(5 * 10**17, {"from": sbgt_operator})
    with brownie.reverts(custom_error("SBGTInvalidDecay", WAD)):
        bare_sbgt.setDecay(WAD, {"from": sbgt_operator})
    with brownie.reverts(custom_error("SBGTUnauthorized", hospital_a)):
        bare_sbgt.setDecay(95 * 10**16, {"from": hospital_a})
    tx = bare_sbgt.setDecay(95 * 10**16, {"from": sbgt_operator})
    assert tx.events["DecayChanged"]["previousLambdaWad"] == LAMBDA
    assert tx.events["DecayChanged"]["newLambdaWad"] == 95 * 10**16
    assert bare_sbgt.decay() == 95 * 10**16


def test_award_bounds_and_lengths(bare_sbgt, sbgt_operator, hospital_a):
    with brownie.reverts(custom_error("SBGTPointsTooLarge", 2**80 + 1)):
        bare_sbgt.mint(hospital_a, 2**80 + 1, {"from": sbgt_operator})
    with brownie.reverts(custom_error("SBGTLengthMismatch", 1, 0)):
        bare_sbgt.applyRound([hospital_a], [], {"from": sbgt_operator})
    with brownie.reverts(custom_error("SBGTUnauthorized", hospital_a)):
        bare_sbgt.applyRound([], [], {"from": hospital_a})


def test_index_exhaustion_reverts(bare_sbgt, sbgt_operator):
    # λ = 0.8: D = 2**200·0.8^r stays ≥ 2**90 for 341 rounds; round 342 would cross INDEX_MIN
    bare_sbgt.setDecay(8 * 10**17, {"from": sbgt_operator})
    d = 2**200
    rounds = 0
    while d * 8 // 10 >= 2**90:
        d = d * 8 // 10
        rounds += 1
    assert rounds == 341
    for _ in range(rounds):
        bare_sbgt.applyRound([], [], {"from": sbgt_operator})
    assert bare_sbgt.index() == d
    with brownie.reverts(custom_error("SBGTIndexExhausted", d * 8 // 10)):
        bare_sbgt.applyRound([], [], {"from": sbgt_operator})


def test_delegation_disabled(bare_sbgt, hospital_a, hospital_b):
    assert bare_sbgt.delegates(hospital_a) == hospital_a
    with brownie.reverts(custom_error("SBGTDelegationDisabled")):
        bare_sbgt.delegate(hospital_b, {"from": hospital_a})
    with brownie.reverts(custom_error("SBGTDelegationDisabled")):
        bare_sbgt.delegateBySig(
            hospital_b, 0, 0, 27, b"\x00" * 32, b"\x00" * 32, {"from": hospital_a}
        )
    assert bare_sbgt.CLOCK_MODE() == "mode=blocknumber&from=default"
    assert bare_sbgt.clock() == chain.height
