"""FLock aggregate vote: the window is enforced when a vote is cast and when the round is settled.

A round finalized under the FLock rule (autoAccept) opens a vote window of `voteWindow`
seconds; a vote after it reverts with RoundsVotingClosed, so settlement counts in-window votes
only. How a round is decided is fixed when it is finalized: switching autoAccept afterwards
neither lets anyone settle a chamber-decided round nor stops a FLock round's vote.
"""

import brownie
from brownie import chain

from tests.helpers import custom_error
from tests.unit.TrainingRounds.test_rounds import GOOD, run_to_finalized, set_params


def _after(deadline):
    chain.sleep(deadline - chain.time() + 5)
    chain.mine()


def test_vote_after_the_window_reverts(launched_suite, pharma, hospitals, validators):
    s = launched_suite
    set_params(s, hospitals, autoAccept=True, voteWindow=600)
    rid, _ = run_to_finalized(s, pharma, hospitals, validators, GOOD)
    s.rounds.voteAggregate(rid, True, {"from": validators[0]})
    deadline = s.rounds.round(rid)[0]
    _after(deadline)
    for v in validators[1:]:
        with brownie.reverts(custom_error("RoundsVotingClosed", rid, deadline)):
            s.rounds.voteAggregate(rid, False, {"from": v})
    tx = s.rounds.settleRound(rid, {"from": pharma})
    ev = tx.events["RoundAccepted"]
    assert (ev["roundId"], ev["version"], ev["aggVote"]) == (rid, 1, 1)
    assert s.rounds.round(rid)[4] == 1 and s.rounds.round(rid)[3] == 1  # aggVote, voteCount


def test_vote_on_the_last_second_counts(launched_suite, pharma, hospitals, validators):
    s = launched_suite
    set_params(s, hospitals, autoAccept=True, voteWindow=600)
    rid, _ = run_to_finalized(s, pharma, hospitals, validators, GOOD)
    deadline = s.rounds.round(rid)[0]
    chain.sleep(deadline - chain.time() - 30)
    tx = s.rounds.voteAggregate(rid, False, {"from": validators[0]})
    assert tx.timestamp <= deadline and tx.events["AggregateVoted"]["aggVote"] == -1
    _after(deadline)
    assert s.rounds.settleRound(rid, {"from": pharma}).events["RoundRejected"]["aggVote"] == -1


def test_chamber_round_cannot_be_settled_after_switching_to_flock(
    launched_suite, pharma, hospitals, validators
):
    s = launched_suite
    rid, _ = run_to_finalized(s, pharma, hospitals, validators, GOOD)  # decided by the chamber
    set_params(s, hospitals, autoAccept=True)
    with brownie.reverts(custom_error("RoundsNotAutoAccept", rid)):
        s.rounds.settleRound(rid, {"from": pharma})
    with brownie.reverts(custom_error("RoundsNotAutoAccept", rid)):
        s.rounds.voteAggregate(rid, True, {"from": validators[0]})
    assert s.rounds.round(rid)[1] == 2  # still Finalized, awaiting the chamber


def test_flock_round_keeps_its_vote_after_switching_back(
    launched_suite, pharma, hospitals, validators
):
    s = launched_suite
    set_params(s, hospitals, autoAccept=True, voteWindow=86_400)
    rid, _ = run_to_finalized(s, pharma, hospitals, validators, GOOD)
    set_params(s, hospitals, autoAccept=False)
    for v in validators:
        s.rounds.voteAggregate(rid, False, {"from": v})
    tx = s.rounds.settleRound(rid, {"from": pharma})
    assert tx.events["RoundRejected"]["aggVote"] == -3
