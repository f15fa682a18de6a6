"""The test ledger enforces the contract rules the pipeline relies on."""

from __future__ import annotations

import pytest

from flai.pipeline import FileLedger, InMemoryLedger, LedgerRuleError, RoundPhase, Tier

ONE = 10**18


def _ledger(**kw) -> InMemoryLedger:
    return InMemoryLedger(
        custodians=["a", "b", "c"],
        stakes={"v1": 100, "v2": 100, "v3": 100},
        requester="pharma",
        base_price=10,
        **kw,
    )


def _scoring(ledger: InMemoryLedger) -> int:
    rid = ledger.open_round(global_model_cid="g")
    for c in ("a", "c"):
        ledger.commit_update(round_id=rid, custodian=c, update_cid=f"u-{c}")
    ledger.close_commits(round_id=rid)
    return rid


def _rule(exc: pytest.ExceptionInfo[LedgerRuleError]) -> tuple:
    return (exc.value.rule, *exc.value.values)


def test_one_commit_per_custodian_per_round():
    ledger = _ledger()
    rid = ledger.open_round(global_model_cid="g")
    ledger.commit_update(round_id=rid, custodian="a", update_cid="u1")
    with pytest.raises(LedgerRuleError) as info:
        ledger.commit_update(round_id=rid, custodian="a", update_cid="u2")
    assert _rule(info) == ("RoundsAlreadyCommitted", rid, "a")
    with pytest.raises(LedgerRuleError) as info:
        ledger.commit_update(round_id=rid, custodian="mallory", update_cid="u")
    assert _rule(info) == ("RoundsNotWhitelisted", "mallory")
    assert ledger.update_cid(rid, "a") == "u1"


def test_scores_once_per_validator_in_submitter_order():
    ledger = _ledger()
    rid = _scoring(ledger)
    assert ledger.submitters(rid) == ("a", "c")
    with pytest.raises(LedgerRuleError) as info:
        ledger.submit_scores(round_id=rid, validator="v1", scores=[1, 2, 3])
    assert _rule(info) == ("RoundsScoreLengthMismatch", rid, 2, 3)
    with pytest.raises(LedgerRuleError) as info:
        ledger.submit_scores(round_id=rid, validator="v1", scores=[ONE + 1, 0])
    assert _rule(info) == ("RoundsScoreOutOfRange", 0, ONE + 1)
    ledger.submit_scores(round_id=rid, validator="v1", scores=[ONE, 0])
    with pytest.raises(LedgerRuleError) as info:
        ledger.submit_scores(round_id=rid, validator="v1", scores=[ONE, 0])
    assert _rule(info) == ("RoundsAlreadyScored", rid, "v1")
    with pytest.raises(LedgerRuleError) as info:
        ledger.commit_update(round_id=rid, custodian="b", update_cid="late")
    assert info.value.rule == "RoundsCommitClosed"


def test_finalize_computes_consensus_slashes_and_cannot_repeat():
    ledger = _ledger()
    rid = _scoring(ledger)
    ledger.submit_scores(round_id=rid, validator="v1", scores=[ONE // 2, ONE // 2])
    ledger.submit_scores(round_id=rid, validator="v2", scores=[ONE // 2, ONE // 2])
    ledger.submit_scores(round_id=rid, validator="v3", scores=[ONE, 0])
    ledger.finalize_round(round_id=rid, aggregate_cid="agg", metric=912_000)
    assert ledger.consensus(rid) == (("a", "c"), (ONE // 2, ONE // 2))
    assert ledger.slashed() == {"v1": 0, "v2": 0, "v3": 10}
    assert ledger.validator_stakes()["v3"] == 90
    with pytest.raises(LedgerRuleError) as info:
        ledger.finalize_round(round_id=rid, aggregate_cid="agg2", metric=1)
    assert _rule(info) == ("RoundsWrongStatus", rid, "finalized")
    assert ledger.aggregate(rid) == ("agg", 912_000)


def test_votes_once_settle_accepts_and_awards_points():
    ledger = _ledger()
    rid = _scoring(ledger)
    for v in ("v1", "v2"):
        ledger.submit_scores(round_id=rid, validator=v, scores=[ONE // 4, 3 * ONE // 4])
    ledger.finalize_round(round_id=rid, aggregate_cid="agg", metric=1)
    ledger.vote_aggregate(round_id=rid, validator="v1", approve=True)
    with pytest.raises(LedgerRuleError) as info:
        ledger.settle_round(round_id=rid)
    assert info.value.rule == "RoundsVotingOpen"
    with pytest.raises(LedgerRuleError) as info:
        ledger.vote_aggregate(round_id=rid, validator="v1", approve=False)
    assert _rule(info) == ("RoundsAlreadyVoted", rid, "v1")
    with pytest.raises(LedgerRuleError) as info:
        ledger.vote_aggregate(round_id=rid, validator="v3", approve=False)  # did not score
    assert _rule(info) == ("RoundsNotValidator", "v3")
    ledger.vote_aggregate(round_id=rid, validator="v2", approve=False)
    assert ledger.settle_round(round_id=rid) is RoundPhase.ACCEPTED  # aggVote = 0 ≥ 0
    assert ledger.model_version() == (1, "agg")
    assert ledger.points() == {"a": 25 * ONE, "b": 0, "c": 75 * ONE}
    # the next round may open only now; a second open while it is live is refused
    rid2 = ledger.open_round(global_model_cid="agg")
    with pytest.raises(LedgerRuleError) as info:
        ledger.open_round(global_model_cid="agg")
    assert _rule(info) == ("RoundsPreviousRoundOpen", rid2, "commit")


def test_tier_prices_and_single_fulfilment():
    ledger = _ledger()
    ledger.set_member_ranks(ranked=["c", "a", "b"])
    assert ledger.price_of("c") == (0, Tier.MEMBER)  # top contributor free
    assert ledger.price_of("a") == (5, Tier.MEMBER)
    assert ledger.price_of("b") == (10, Tier.MEMBER)
    assert ledger.price_of("pharma") == (30, Tier.REQUESTER)
    assert ledger.price_of("anyone") == (100, Tier.EXTERNAL)
    req = ledger.request_inference(user="anyone", input_cid="in")
    assert ledger.find_request(user="anyone", input_cid="in") == req
    ledger.fulfil(request_id=req.request_id, output_cid="out")
    with pytest.raises(LedgerRuleError) as info:
        ledger.fulfil(request_id=req.request_id, output_cid="out2")
    assert _rule(info) == ("MarketRequestNotPending", req.request_id, "fulfilled")
    assert ledger.revenue() == 100


def test_file_ledger_survives_reopening(tmp_path):
    path = tmp_path / "ledger.json"
    params: dict = {"custodians": ["a"], "stakes": {"v": 1}, "requester": "p", "base_price": 1}
    first = FileLedger(path=path, **params)
    rid = first.open_round(global_model_cid="g")
    first.commit_update(round_id=rid, custodian="a", update_cid="u")
    second = FileLedger(path=path, **params)
    assert second.snapshot() == first.snapshot()
    with pytest.raises(LedgerRuleError) as info:
        second.commit_update(round_id=rid, custodian="a", update_cid="u")
    assert info.value.rule == "RoundsAlreadyCommitted"
    assert second.log == (("open_round", 1, "g"), ("commit_update", 1, "a", "u"))
