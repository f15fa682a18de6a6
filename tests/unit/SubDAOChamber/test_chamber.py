"""Dual chambers: kind from actions (strictest wins), 75 % / >50 % thresholds, quorum, snapshots."""

import brownie
from brownie import chain

from tests.fixtures.subdao import FOUNDER_POINTS, USDC, VOTING_DELAY, VOTING_PERIOD, execute, govern
from tests.helpers import custom_error

WAD = 10**18
OPERATIONAL, SIGNIFICANT = 0, 1
AGAINST, FOR, ABSTAIN = 0, 1, 2
PENDING, ACTIVE, DEFEATED, SUCCEEDED, EXECUTED = 0, 1, 3, 4, 7


def _propose(chamber, targets, calldatas, proposer, description):
    tx = chamber.propose(targets, [0] * len(targets), calldatas, description, {"from": proposer})
    pid = tx.events["ProposalCreated"]["proposalId"]
    chain.mine(VOTING_DELAY + 1)
    return pid, tx


def _vote(chamber, pid, votes):
    for account, support in votes:
        chamber.castVote(pid, support, {"from": account})
    chain.mine(VOTING_PERIOD + 1)
    return chamber.state(pid)


def test_kind_from_selectors(launched_suite):
    s = launched_suite
    t = s.technical
    accept = s.rounds.acceptRound.encode_input(1)
    retire = s.subdao.retire.encode_input()
    assert t.kindOf([accept]) == OPERATIONAL
    assert t.kindOf([s.subdao.setCoordinator.encode_input(s.rounds)]) == OPERATIONAL
    assert t.kindOf([retire]) == SIGNIFICANT
    assert t.kindOf([accept, retire]) == SIGNIFICANT  # strictest wins
    assert t.kindOf(["0xdeadbeef"]) == SIGNIFICANT  # unknown
    assert t.kindOf(["0x"]) == SIGNIFICANT  # plain call / value transfer
    assert t.selectorKind(t.setSelectorKind.signature) == SIGNIFICANT


def test_proposal_kind_recorded(launched_suite, hospitals):
    s = launched_suite
    pid, tx = _propose(
        s.technical,
        [s.rounds, s.subdao],
        [s.rounds.acceptRound.encode_input(1), s.subdao.retire.encode_input()],
        hospitals[0],
        "mixed",
    )
    ev = tx.events["ProposalKindAssigned"]
    assert ev["proposalId"] == pid and ev["kind"] == SIGNIFICANT
    assert s.technical.proposalKind(pid) == SIGNIFICANT


def test_significant_needs_75_percent(launched_suite, hospitals):
    s = launched_suite
    h0, h1, h2 = hospitals[:3]  # 300 / 200 / 100 points
    retire = [s.subdao.retire.encode_input()]
    pid, _ = _propose(s.technical, [s.subdao], retire, h0, "retire A")
    # 300 for vs 200 against = 60 %
    assert _vote(s.technical, pid, [(h0, FOR), (h1, AGAINST), (h2, ABSTAIN)]) == DEFEATED
    pid, _ = _propose(s.technical, [s.subdao], retire, h0, "retire B")
    # 300 for vs 100 against = exactly 75 %
    assert _vote(s.technical, pid, [(h0, FOR), (h2, AGAINST), (h1, ABSTAIN)]) == SUCCEEDED
    tx = execute(s.technical, [s.subdao], retire, "retire B", h0)
    assert tx.events["StateChanged"]["next"] == 4


def test_operational_needs_majority(launched_suite, hospitals):
    s = launched_suite
    h0, h1, h2 = hospitals[:3]
    call = [s.subdao.setCoordinator.encode_input(h1)]
    pid, _ = _propose(s.technical, [s.subdao], call, h0, "coord A")
    # 300 for vs 300 against = 50 %: not > 50 %
    assert _vote(s.technical, pid, [(h0, FOR), (h1, AGAINST), (h2, AGAINST)]) == DEFEATED
    pid, _ = _propose(s.technical, [s.subdao], call, h0, "coord B")
    # 300 for vs 200 against = 60 %
    assert _vote(s.technical, pid, [(h0, FOR), (h1, AGAINST)]) == SUCCEEDED
    tx = execute(s.technical, [s.subdao], call, "coord B", h0)
    assert tx.events["CoordinatorSet"]["next"] == h1 and s.subdao.coordinator() == h1


def test_quorum(launched_suite, hospitals):
    s = launched_suite
    # quorum 20 % of 600 points = 120; h2 alone has 100
    chain.mine()
    assert s.technical.quorum(chain.height - 1) == sum(FOUNDER_POINTS) * 2_000 // 10_000
    pid, _ = _propose(
        s.technical,
        [s.subdao],
        [s.subdao.setCoordinator.encode_input(hospitals[2])],
        hospitals[2],
        "coord quorum",
    )
    assert _vote(s.technical, pid, [(hospitals[2], FOR)]) == DEFEATED


def test_one_vote_per_account_and_snapshot(launched_suite, hospitals):
    s = launched_suite
    pid, _ = _propose(
        s.technical,
        [s.subdao],
        [s.subdao.setCoordinator.encode_input(hospitals[0])],
        hospitals[0],
        "one vote",
    )
    tx = s.technical.castVote(pid, FOR, {"from": hospitals[0]})
    assert tx.events["VoteCast"]["weight"] == FOUNDER_POINTS[0]
    with brownie.reverts(custom_error("GovernorAlreadyCastVote", hospitals[0])):
        s.technical.castVote(pid, FOR, {"from": hospitals[0]})
    # an account with no points at the snapshot votes with weight 0
    tx = s.technical.castVote(pid, FOR, {"from": hospitals[4]})
    assert tx.events["VoteCast"]["weight"] == 0


def test_propose_needs_votes(launched_suite, outsider):
    s = launched_suite
    with brownie.reverts(custom_error("GovernorInsufficientProposerVotes", outsider, 0, 1)):
        s.technical.propose(
            [s.subdao], [0], [s.subdao.retire.encode_input()], "x", {"from": outsider}
        )


def test_set_selector_kind_only_by_governance(launched_suite, hospitals):
    s = launched_suite
    sel = s.subdao.retire.signature
    with brownie.reverts(custom_error("GovernorOnlyExecutor", hospitals[0])):
        s.technical.setSelectorKind(sel, OPERATIONAL, {"from": hospitals[0]})
    tx = govern(
        s.technical,
        [s.technical],
        [s.technical.setSelectorKind.encode_input(sel, OPERATIONAL)],
        hospitals[:3],
        "reclassify retire",
    )
    assert tx.events["SelectorKindSet"]["kind"] == OPERATIONAL
    assert s.technical.selectorKind(sel) == OPERATIONAL


def test_financial_chamber_spends_treasury(launched_suite, backers, pay_token, outsider):
    s = launched_suite
    f = s.financial
    assert f.token() == s.sdt and f.name() == "FLAI SubDAO Financial Chamber"
    spend = [s.subdao.spendTreasury.encode_input(pay_token, outsider, 100 * USDC)]
    with brownie.reverts(custom_error("SubDAOUnauthorized", backers[0])):
        s.subdao.spendTreasury(pay_token, outsider, 1, {"from": backers[0]})
    tx = govern(f, [s.subdao], spend, backers, "pay the compute provider")
    ev = tx.events["TreasurySpent"]
    assert (ev["token"], ev["to"], ev["amount"]) == (pay_token, outsider, 100 * USDC)
    assert pay_token.balanceOf(outsider) == 100 * USDC
    emit = [s.subdao.mintSDT.encode_input(outsider, 5 * WAD)]
    tx = govern(f, [s.subdao], emit, backers, "emissions")
    assert tx.events["SDTEmitted"]["amount"] == 5 * WAD and s.sdt.balanceOf(outsider) == 5 * WAD


def test_technical_cannot_act_as_financial(launched_suite, hospitals, pay_token, outsider):
    s = launched_suite
    spend = [s.subdao.spendTreasury.encode_input(pay_token, outsider, 1)]
    s.technical.propose([s.subdao], [0], spend, "wrong chamber", {"from": hospitals[0]})
    pid, _ = _propose(s.technical, [s.subdao], spend, hospitals[0], "wrong chamber 2")
    assert _vote(s.technical, pid, [(h, FOR) for h in hospitals[:3]]) == SUCCEEDED
    with brownie.reverts(custom_error("SubDAOUnauthorized", s.technical)):
        execute(s.technical, [s.subdao], spend, "wrong chamber 2", hospitals[0])
