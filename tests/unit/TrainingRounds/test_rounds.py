"""Training rounds: commit, score, stake-weighted median consensus, slashing, accept/reject, FLock rule."""

import brownie
from brownie import chain, web3

from tests.fixtures.subdao import FOUNDER_POINTS, fund_flai, govern, plain
from tests.helpers import custom_error

WAD = 10**18
M = 100 * WAD
LAMBDA = 9 * 10**17
DEPOSITS = [100 * WAD, 100 * WAD, 50 * WAD]
OPEN, FINALIZED = 1, 2  # RoundStatus


def status_bits(*statuses):
    """The allowed-status bitmap RoundsWrongStatus carries (bit i = RoundStatus i)."""
    return sum(1 << s for s in statuses).to_bytes(32, "big")


def weighted_median(scores, weights):
    """Lower stake-weighted median (reference for the contract)."""
    pairs = sorted(zip(scores, weights), key=lambda p: p[0])
    total = sum(weights)
    cum = 0
    for x, w in pairs:
        cum += w
        if 2 * cum >= total:
            return x
    return pairs[-1][0]


def open_round(s, pharma, cid="bafyglobal0", offset=3600):
    deadline = chain.time() + offset
    tx = s.rounds.openRound(cid, deadline, {"from": pharma})
    return tx.events["RoundOpened"]["roundId"], deadline, tx


def past_deadline(deadline):
    chain.sleep(deadline - chain.time() + 5)
    chain.mine()


def run_to_finalized(
    s, pharma, hospitals, validators, scores, cid="bafyaggregate1", metric=870_000
):
    rid, deadline, _ = open_round(s, pharma)
    for i, h in enumerate(hospitals[:3]):
        s.rounds.commitUpdate(rid, f"bafyupdate{rid}-{i}", {"from": h})
    past_deadline(deadline)
    for v, vec in zip(validators, scores):
        s.rounds.submitScores(rid, vec, {"from": v})
    tx = s.rounds.finalizeRound(rid, cid, metric, {"from": pharma})
    return rid, tx


GOOD = [
    [8 * 10**17, 5 * 10**17, 2 * 10**17],
    [7 * 10**17, 6 * 10**17, 2 * 10**17],
    [8 * 10**17, 5 * 10**17, 3 * 10**17],
]


def test_open_round(launched_suite, pharma, outsider):
    s = launched_suite
    with brownie.reverts(custom_error("RoundsUnauthorized", outsider)):
        s.rounds.openRound("bafyglobal0", chain.time() + 100, {"from": outsider})
    with brownie.reverts(custom_error("RoundsInvalidDeadline", 5)):
        s.rounds.openRound("bafyglobal0", 5, {"from": pharma})
    rid, deadline, tx = open_round(s, pharma)
    ev = tx.events["RoundOpened"]
    assert rid == 1 and ev["globalModelCid"] == "bafyglobal0" and ev["commitDeadline"] == deadline
    assert plain(s.rounds.round(1))[:2] == [deadline, 1]
    assert s.rounds.roundCount() == 1
    with brownie.reverts(custom_error("RoundsPreviousRoundOpen", 1, 1)):
        s.rounds.openRound("bafyglobal0", chain.time() + 100, {"from": pharma})


def test_commit_update(launched_suite, pharma, hospitals):
    s = launched_suite
    rid, _, _ = open_round(s, pharma)
    tx = s.rounds.commitUpdate(rid, "bafyupdateB", {"from": hospitals[1]})
    ev = tx.events["UpdateCommitted"]
    assert (ev["roundId"], ev["contributor"], ev["memberIndex"], ev["updateCid"]) == (
        rid,
        hospitals[1],
        1,
        "bafyupdateB",
    )
    assert s.rounds.updateDigest(rid, hospitals[1]) == "0x" + web3.keccak(
        text="bafyupdateB"
    ).hex().removeprefix("0x")
    s.rounds.commitUpdate(rid, "bafyupdateA", {"from": hospitals[0]})
    assert s.rounds.submitters(rid) == [hospitals[0], hospitals[1]]  # member-index order


def test_commit_errors(launched_suite, pharma, hospitals, outsider):
    s = launched_suite
    rid, deadline, _ = open_round(s, pharma)
    with brownie.reverts(custom_error("RoundsNotWhitelisted", hospitals[3])):  # applied only
        s.rounds.commitUpdate(rid, "bafyx", {"from": hospitals[3]})
    with brownie.reverts(custom_error("RoundsNotWhitelisted", outsider)):
        s.rounds.commitUpdate(rid, "bafyx", {"from": outsider})
    s.rounds.commitUpdate(rid, "bafyx", {"from": hospitals[0]})
    with brownie.reverts(custom_error("RoundsAlreadyCommitted", rid, hospitals[0])):
        s.rounds.commitUpdate(rid, "bafyy", {"from": hospitals[0]})
    with brownie.reverts(custom_error("RoundsWrongStatus", 9, 0, status_bits(OPEN))):
        s.rounds.commitUpdate(9, "bafyy", {"from": hospitals[1]})
    past_deadline(deadline)
    with brownie.reverts(custom_error("RoundsCommitClosed", rid, deadline)):
        s.rounds.commitUpdate(rid, "bafyz", {"from": hospitals[1]})


def test_score_errors(launched_suite, pharma, hospitals, validators, outsider):
    s = launched_suite
    rid, deadline, _ = open_round(s, pharma)
    s.rounds.commitUpdate(rid, "a", {"from": hospitals[0]})
    s.rounds.commitUpdate(rid, "b", {"from": hospitals[1]})
    with brownie.reverts(custom_error("RoundsScoringNotOpen", rid, deadline)):
        s.rounds.submitScores(rid, [1, 2], {"from": validators[0]})
    past_deadline(deadline)
    with brownie.reverts(custom_error("RoundsNotValidator", outsider)):
        s.rounds.submitScores(rid, [1, 2], {"from": outsider})
    with brownie.reverts(custom_error("RoundsScoreLengthMismatch", rid, 2, 3)):
        s.rounds.submitScores(rid, [1, 2, 3], {"from": validators[0]})
    with brownie.reverts(custom_error("RoundsScoreOutOfRange", 1, WAD + 1)):
        s.rounds.submitScores(rid, [WAD, WAD + 1], {"from": validators[0]})
    tx = s.rounds.submitScores(rid, [WAD, 3], {"from": validators[0]})
    ev = tx.events["ScoresSubmitted"]
    assert (
        ev["roundId"] == rid and ev["validator"] == validators[0] and list(ev["scores"]) == [WAD, 3]
    )
    assert list(s.rounds.scoresOf(rid, validators[0])) == [WAD, 3]
    assert s.rounds.round(rid)[2] == 1
    with brownie.reverts(custom_error("RoundsAlreadyScored", rid, validators[0])):
        s.rounds.submitScores(rid, [1, 2], {"from": validators[0]})


def test_finalize_needs_min_scores(launched_suite, pharma, hospitals, validators):
    s = launched_suite
    rid, deadline, _ = open_round(s, pharma)
    s.rounds.commitUpdate(rid, "a", {"from": hospitals[0]})
    past_deadline(deadline)
    s.rounds.submitScores(rid, [WAD], {"from": validators[0]})
    with brownie.reverts(custom_error("RoundsNotEnoughScores", rid, 1, 2)):
        s.rounds.finalizeRound(rid, "agg", 1, {"from": pharma})


def test_consensus_is_stake_weighted_median(launched_suite, pharma, hospitals, validators):
    s = launched_suite
    rid, tx = run_to_finalized(s, pharma, hospitals, validators, GOOD)
    expected = [weighted_median([v[i] for v in GOOD], DEPOSITS) for i in range(3)]
    ev = tx.events["RoundFinalized"]
    assert list(ev["consensus"]) == expected
    assert list(ev["submitters"]) == list(hospitals[:3])
    assert ev["aggregateCid"] == "bafyaggregate1" and ev["metric"] == 870_000
    assert ev["phiSum"] == sum(expected)
    _accounts, phi, phi_sum = s.rounds.consensus(rid)
    assert list(phi) == expected and phi_sum == sum(expected)
    assert "ValidatorSlashed" not in tx.events
    assert s.rounds.round(rid)[1] == 2  # Finalized
    assert plain(s.rounds.aggregate(rid)) == ["bafyaggregate1", 870_000]


def test_deviating_validator_is_slashed(launched_suite, pharma, hospitals, validators, flai_token):
    s = launched_suite
    bad = [[0, WAD, WAD]]  # validator 2 (deposit 50) scores far from the others
    scores = GOOD[:2] + bad
    treasury_before = flai_token.balanceOf(s.subdao)
    rid, tx = run_to_finalized(s, pharma, hospitals, validators, scores)
    phi = [weighted_median([v[i] for v in scores], DEPOSITS) for i in range(3)]
    dev = sum(abs(a - b) for a, b in zip(bad[0], phi)) // 3
    assert dev > 10**17
    ev = tx.events["ValidatorSlashed"]
    assert len(tx.events["ValidatorSlashed"]) == 1
    assert (ev["roundId"], ev["validator"], ev["deviation"], ev["amount"]) == (
        rid,
        validators[2],
        dev,
        5 * WAD,
    )
    assert s.rounds.validator(validators[2])[2] == 45 * WAD
    assert flai_token.balanceOf(s.subdao) - treasury_before == 5 * WAD
    assert s.rounds.totalSlashed() == 5 * WAD


def test_accept_by_technical_chamber(launched_suite, pharma, hospitals, validators):
    s = launched_suite
    rid, fin = run_to_finalized(s, pharma, hospitals, validators, GOOD)
    phi = list(fin.events["RoundFinalized"]["consensus"])
    with brownie.reverts(custom_error("RoundsUnauthorized", pharma)):
        s.rounds.acceptRound(rid, {"from": pharma})
    before = [s.sbgt.pointsOf(h) for h in hospitals[:3]]
    assert before == FOUNDER_POINTS
    tx = govern(
        s.technical,
        [s.rounds],
        [s.rounds.acceptRound.encode_input(rid)],
        hospitals[:3],
        "accept r1",
    )
    ev = tx.events["RoundAccepted"]
    assert ev["roundId"] == rid and ev["version"] == 1
    mv = tx.events["ModelVersionAccepted"]
    assert (mv["version"], mv["roundId"], mv["inferenceEpoch"]) == (1, rid, 1)
    assert tx.events["StateChanged"]["next"] == 3  # Deployed
    assert plain(s.subdao.modelVersion()) == [1, 1]
    assert s.rounds.currentModelCid() == "bafyaggregate1"
    assert s.rounds.versionRound(1) == rid
    accounts, vphi, vsum = s.rounds.versionScores(1)
    assert list(vphi) == phi and vsum == sum(phi) and list(accounts) == list(hospitals[:3])
    assert s.rounds.versionScoreOf(1, hospitals[1]) == phi[1]
    assert s.rounds.versionScoreOf(1, hospitals[4]) == 0
    for h, b, p in zip(hospitals[:3], before, phi):
        assert abs(s.sbgt.pointsOf(h) - (b * LAMBDA // WAD + p * M // WAD)) <= 2
    with brownie.reverts(custom_error("RoundsWrongStatus", rid, 3, status_bits(OPEN))):
        s.rounds.finalizeRound(rid, "x", 0, {"from": pharma})
    # the chamber's calls, read-only; rejecting also takes an Open round past its deadline
    with brownie.reverts(custom_error("RoundsWrongStatus", rid, 3, status_bits(FINALIZED))):
        s.rounds.acceptRound.call(rid, {"from": s.technical})
    with brownie.reverts(custom_error("RoundsWrongStatus", rid, 3, status_bits(OPEN, FINALIZED))):
        s.rounds.rejectRound.call(rid, {"from": s.technical})


def test_revocation_keeps_phi_of_accepted_versions(launched_suite, pharma, hospitals, validators):
    """A revoked contributor loses its SBGT points, not the φ of versions it contributed to:
    the splitter reads that φ (versionShareOf) for eq. 10 claims and its dust sweep reads the
    same vector (versionScores), so the contributor's revenue share is neither lost nor stranded."""
    s = launched_suite
    rid, fin = run_to_finalized(s, pharma, hospitals, validators, GOOD)
    phi = list(fin.events["RoundFinalized"]["consensus"])
    govern(s.technical, [s.rounds], [s.rounds.acceptRound.encode_input(rid)], hospitals[:3], "a")
    govern(
        s.technical,
        [s.rounds],
        [s.rounds.revokeContributor.encode_input(hospitals[1], 1)],
        hospitals[:3],
        "revoke h1 exit",
    )

    assert s.sbgt.balanceOf(hospitals[1]) == 0 and s.sbgt.pointsOf(hospitals[1]) == 0
    assert s.rounds.versionScoreOf(1, hospitals[1]) == phi[1] > 0
    share, index, superseded = s.rounds.versionShareOf(1, hospitals[1])
    assert (share, index, superseded) == (phi[1], 1, False)
    accounts, vphi, _ = s.rounds.versionScores(1)
    assert list(vphi) == phi and hospitals[1] in list(accounts)


def test_rejection_keeps_previous_model(launched_suite, pharma, hospitals, validators):
    s = launched_suite
    rid1, _ = run_to_finalized(s, pharma, hospitals, validators, GOOD, cid="bafyv1")
    govern(
        s.technical,
        [s.rounds],
        [s.rounds.acceptRound.encode_input(rid1)],
        hospitals[:3],
        "accept 1",
    )
    points_before = [s.sbgt.pointsOf(h) for h in hospitals[:3]]
    rid2, _ = run_to_finalized(s, pharma, hospitals, validators, GOOD, cid="bafyv2-worse")
    assert s.subdao.state() == 2  # Training while round 2 runs
    tx = govern(
        s.technical,
        [s.rounds],
        [s.rounds.rejectRound.encode_input(rid2)],
        hospitals[:3],
        "reject 2",
    )
    ev = tx.events["RoundRejected"]
    assert ev["roundId"] == rid2 and ev["keptVersion"] == 1
    assert tx.events["StateChanged"]["next"] == 3
    assert s.rounds.currentModelCid() == "bafyv1"
    assert plain(s.subdao.modelVersion()) == [1, 1]
    assert [s.sbgt.pointsOf(h) for h in hospitals[:3]] == points_before  # no decay, no award
    assert s.rounds.round(rid2)[1] == 4


def set_params(s, hospitals, **kw):
    p = {
        "tolerance": 10**17,
        "slashBps": 1000,
        "voteWindow": 86_400,
        "autoAccept": False,
        "pointsPerRound": M,
    }
    p.update(kw)
    params = tuple(p.values())
    tx = govern(
        s.technical,
        [s.rounds],
        [s.rounds.setParams.encode_input(params)],
        hospitals[:3],
        f"params {p}",
    )
    assert tuple(tx.events["ParamsSet"]["params"]) == params
    return params


def test_flock_rule_accepts_when_aggvote_nonnegative(launched_suite, pharma, hospitals, validators):
    s = launched_suite
    rid0, _ = run_to_finalized(s, pharma, hospitals, validators, GOOD)
    with brownie.reverts(custom_error("RoundsNotAutoAccept", rid0)):
        s.rounds.voteAggregate(rid0, True, {"from": validators[0]})
    govern(
        s.technical,
        [s.rounds],
        [s.rounds.rejectRound.encode_input(rid0)],
        hospitals[:3],
        "reject 0",
    )
    set_params(s, hospitals, autoAccept=True)
    rid, _ = run_to_finalized(s, pharma, hospitals, validators, GOOD)
    assert s.rounds.params()[3] is True
    s.rounds.voteAggregate(rid, True, {"from": validators[0]})
    with brownie.reverts(custom_error("RoundsAlreadyVoted", rid, validators[0])):
        s.rounds.voteAggregate(rid, False, {"from": validators[0]})
    tx = s.rounds.voteAggregate(rid, False, {"from": validators[1]})
    assert tx.events["AggregateVoted"]["aggVote"] == 0
    # one scorer has not voted and the window (from finalization, default params) is open
    deadline = s.rounds.round(rid)[0]
    with brownie.reverts(custom_error("RoundsVotingOpen", rid, deadline)):
        s.rounds.settleRound(rid, {"from": pharma})
    chain.sleep(deadline - chain.time() + 5)
    chain.mine()
    tx = s.rounds.settleRound(rid, {"from": pharma})  # aggVote = 0 ≥ 0 → accept
    assert tx.events["RoundAccepted"]["aggVote"] == 0 and tx.events["RoundAccepted"]["version"] == 1
    assert tx.events["RoundAccepted"]["roundId"] == rid


def test_flock_rule_rejects_when_aggvote_negative(
    launched_suite, pharma, hospitals, validators, outsider
):
    s = launched_suite
    set_params(s, hospitals, autoAccept=True, voteWindow=600)
    rid, _ = run_to_finalized(s, pharma, hospitals, validators, GOOD)
    with brownie.reverts(custom_error("RoundsNotValidator", outsider)):
        s.rounds.voteAggregate(rid, True, {"from": outsider})
    s.rounds.voteAggregate(rid, False, {"from": validators[0]})
    s.rounds.voteAggregate(rid, False, {"from": validators[1]})
    s.rounds.voteAggregate(rid, True, {"from": validators[2]})
    tx = s.rounds.settleRound(rid, {"from": outsider})  # everyone voted: no need to wait
    ev = tx.events["RoundRejected"]
    assert ev["aggVote"] == -1 and ev["keptVersion"] == 0
    assert s.subdao.state() == 2  # no version yet: stays Training
    assert s.rounds.currentModelCid() == ""


def test_invalid_params(launched_suite, hospitals):
    s = launched_suite
    bad = (10**17, 10_001, 600, False, M)
    with brownie.reverts(custom_error("RoundsUnauthorized", hospitals[0])):
        s.rounds.setParams(bad, {"from": hospitals[0]})
    assert plain(s.rounds.params()) == [10**17, 1000, 86_400, False, M]  # defaults


def test_applied_validator_cannot_vote_with_index_zero(
    launched_suite, pharma, hospitals, validators, accounts, flai_token
):
    s = launched_suite
    set_params(s, hospitals, autoAccept=True)
    rid, _ = run_to_finalized(s, pharma, hospitals, validators, GOOD)
    applicant = accounts[14]
    fund_flai(flai_token, applicant, WAD)
    flai_token.approve(s.rounds, WAD, {"from": applicant})
    s.rounds.applyValidator(WAD, {"from": applicant})
    with brownie.reverts(custom_error("RoundsNotValidator", applicant)):
        s.rounds.voteAggregate(rid, False, {"from": applicant})
    assert list(s.rounds.scoresOf(rid, applicant)) == []
