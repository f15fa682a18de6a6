"""Test doubles of the chain port: :class:`InMemoryLedger` and its persistent :class:`FileLedger`.

These are **not** a chain. They exist so the pipeline's journal and resume logic can be
tested without a node, and they enforce the contract rules the pipeline relies on, with
the contracts' error names (raised as :class:`~flai.pipeline.errors.LedgerRuleError`):

- rounds are sequential and one is live at a time (``RoundsPreviousRoundOpen``), phases
  advance commit → scoring → finalized → accepted/rejected (``RoundsWrongStatus``);
- one commit per custodian per round (``RoundsAlreadyCommitted``), only whitelisted
  custodians (``RoundsNotWhitelisted``);
- one score vector per validator per round (``RoundsAlreadyScored``), one entry per
  submitter (``RoundsScoreLengthMismatch``), each in ``[0, 1e18]``
  (``RoundsScoreOutOfRange``);
- consensus is the lower stake-weighted median and deviators are slashed
  (:mod:`flai.fl.consensus`, the contract's rule); aggregate votes once per scoring
  validator (``RoundsAlreadyVoted``), settled when all voted (``RoundsVotingOpen``),
  accepted iff aggVote ≥ 0; SBGT points ``π ← λ·π + φ·M`` on acceptance (001 eq. 12);
- a paid request charges the tier price (``Marketplace._priceOf``: top-ranked member
  free, member ``x·rank/(n−1)``, requester ``3x``, external ``10x``) every time it is
  made — the ledger does not deduplicate, so a double post would be paid twice and show
  up in :attr:`InMemoryLedger.log` — and is fulfilled once (``MarketRequestNotPending``);
  the revenue is what inference requests paid (query fees go to the analytics SubDAO);
- a contributor revoked for malice loses its points and collateral and cannot commit
  (``RoundsNotWhitelisted``); a fork records the parent's version and retires it: no new
  round (``SubDAOWrongState``) and no new inference (``MarketListingRetired``);
- claims pay :func:`~flai.pipeline.revenue.split_revenue` of the revenue by the accepted
  version's consensus φ and the backers' SDT, the SBGT side once the SubDAO is retired
  (its pool is over), each owed amount once.

Every successful write is appended to :attr:`InMemoryLedger.log`, so tests can assert
that a resumed run posted nothing twice. :class:`FileLedger` persists the state to a JSON
file (written atomically after every write) so it survives a ``SIGKILL`` of the process.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from flai.fl.consensus import PHI_ONE, slash_amounts, stake_weighted_median
from flai.pipeline.config import WAD, ScenarioConfig
from flai.pipeline.errors import LedgerRuleError
from flai.pipeline.ports import (
    ForkRecord,
    LedgerCosts,
    PaidRequest,
    RevenueClaims,
    RoundPhase,
    Tier,
)
from flai.pipeline.revenue import RevenueShares, RevenueSplit, split_revenue

__all__ = ["FileLedger", "InMemoryLedger"]

_REQUESTER_MULTIPLIER = 3
_EXTERNAL_MULTIPLIER = 10


class InMemoryLedger:
    """In-memory test double of :class:`~flai.pipeline.ports.ChainPort`.

    Parameters
    ----------
    custodians
        Whitelisted contributors, in member-index order.
    stakes
        Whitelisted validators → deposit.
    requester
        The RFM submitter (requester tier).
    base_price
        Marketplace base price ``x`` per inference.
    tolerance
        Validator deviation tolerance, 1e18 fixed point (contract default 0.1e18).
    slash_bps
        Share of the deposit slashed (contract default 1000).
    points_per_round
        ``M`` of eq. 12 in whole points.
    decay_wad
        ``λ`` in 1e18 fixed point.
    collateral
        Collateral each contributor posted (confiscated on revocation).
    shares, backers
        Revenue split and SDT holdings for claims.
    """

    def __init__(
        self,
        *,
        custodians: Sequence[str],
        stakes: Mapping[str, int],
        requester: str,
        base_price: int,
        tolerance: int = PHI_ONE // 10,
        slash_bps: int = 1000,
        points_per_round: int = 100,
        decay_wad: int = 9 * PHI_ONE // 10,
        collateral: int = 0,
        shares: RevenueShares | None = None,
        backers: Mapping[str, int] | None = None,
    ) -> None:
        split = shares or RevenueShares()
        self._state: dict[str, Any] = {
            "custodians": list(custodians),
            "stakes": dict(stakes),
            "requester": requester,
            "base_price": base_price,
            "tolerance": tolerance,
            "slash_bps": slash_bps,
            "points_per_round": points_per_round,
            "decay_wad": decay_wad,
            "rounds": [],
            "version": 0,
            "version_cid": None,
            "points": {c: 0 for c in custodians},
            "slashed": {v: 0 for v in stakes},
            "ranks": [],
            "requests": [],
            "revenue": 0,
            "collateral": collateral,
            "shares": list(split.as_tuple()),
            "backers": dict(backers or {}),
            "revoked": {},
            "fork": None,
            "claimed": {"sbgt": {}, "sdt": {}},
            "log": [],
        }

    @classmethod
    def from_config(cls, config: ScenarioConfig, **extra: Any) -> InMemoryLedger:
        """The ledger of ``config``'s parties and rules, amounts in wei as on chain."""
        return cls(
            custodians=config.hospital_names,
            stakes={v.name: v.stake * WAD for v in config.validators},
            requester=config.requester,
            base_price=config.inference.base_price,
            tolerance=config.governance.tolerance_wad,
            slash_bps=config.governance.slash_bps,
            points_per_round=config.points_per_round,
            decay_wad=config.decay_wad,
            collateral=config.onboarding.collateral * WAD,
            shares=config.revenue,
            backers={n: a * WAD for n, a in config.backers.items()},
            **extra,
        )

    # ------------------------------------------------------------------ plumbing
    @property
    def log(self) -> tuple[tuple[Any, ...], ...]:
        """Every successful write, in order: ``(operation, *arguments)``."""
        return tuple(tuple(entry) for entry in self._state["log"])

    def snapshot(self) -> dict[str, Any]:
        """A deep copy of the whole ledger state (JSON-compatible)."""
        return copy.deepcopy(self._state)

    def _written(self, *entry: Any) -> None:
        self._state["log"].append(list(entry))
        self._persist()

    def _persist(self) -> None:
        """Hook for :class:`FileLedger`."""

    def _round(self, round_id: int) -> dict[str, Any]:
        if not 1 <= round_id <= len(self._state["rounds"]):
            raise LedgerRuleError("RoundsWrongStatus", round_id, RoundPhase.NONE.value)
        return self._state["rounds"][round_id - 1]  # type: ignore[no-any-return]

    def _require_phase(self, round_id: int, phase: RoundPhase) -> dict[str, Any]:
        r = self._round(round_id)
        if r["phase"] != phase.value:
            raise LedgerRuleError("RoundsWrongStatus", round_id, r["phase"])
        return r

    # ------------------------------------------------------------------ membership
    def validator_stakes(self) -> Mapping[str, int]:
        return dict(self._state["stakes"])

    # ------------------------------------------------------------------ rounds
    def round_count(self) -> int:
        return len(self._state["rounds"])

    def round_phase(self, round_id: int) -> RoundPhase:
        if not 1 <= round_id <= len(self._state["rounds"]):
            return RoundPhase.NONE
        return RoundPhase(self._state["rounds"][round_id - 1]["phase"])

    def _require_live(self) -> None:
        if self._state["fork"] is not None:
            raise LedgerRuleError("SubDAOWrongState", "retired")

    def open_round(self, *, global_model_cid: str) -> int:
        self._require_live()
        last = len(self._state["rounds"])
        if last and self.round_phase(last) not in (RoundPhase.ACCEPTED, RoundPhase.REJECTED):
            raise LedgerRuleError("RoundsPreviousRoundOpen", last, self.round_phase(last).value)
        self._state["rounds"].append(
            {
                "global": global_model_cid,
                "phase": RoundPhase.COMMIT.value,
                "commits": {},
                "scores": {},
                "aggregate": None,
                "consensus": [[], []],
                "votes": {},
                "version": 0,
            }
        )
        self._written("open_round", last + 1, global_model_cid)
        return last + 1

    def commit_update(self, *, round_id: int, custodian: str, update_cid: str) -> None:
        r = self._round(round_id)
        if r["phase"] != RoundPhase.COMMIT.value:
            raise LedgerRuleError("RoundsCommitClosed", round_id, r["phase"])
        if custodian not in self._state["custodians"] or custodian in self._state["revoked"]:
            raise LedgerRuleError("RoundsNotWhitelisted", custodian)
        if custodian in r["commits"]:
            raise LedgerRuleError("RoundsAlreadyCommitted", round_id, custodian)
        r["commits"][custodian] = update_cid
        self._written("commit_update", round_id, custodian, update_cid)

    def update_cid(self, round_id: int, custodian: str) -> str | None:
        if self.round_phase(round_id) is RoundPhase.NONE:
            return None
        return self._round(round_id)["commits"].get(custodian)  # type: ignore[no-any-return]

    def submitters(self, round_id: int) -> tuple[str, ...]:
        commits = self._round(round_id)["commits"]
        return tuple(c for c in self._state["custodians"] if c in commits)

    def close_commits(self, *, round_id: int) -> None:
        r = self._require_phase(round_id, RoundPhase.COMMIT)
        r["phase"] = RoundPhase.SCORING.value
        self._written("close_commits", round_id)

    def submit_scores(self, *, round_id: int, validator: str, scores: Sequence[int]) -> None:
        r = self._round(round_id)
        if r["phase"] != RoundPhase.SCORING.value:
            raise LedgerRuleError("RoundsScoringNotOpen", round_id, r["phase"])
        if validator not in self._state["stakes"]:
            raise LedgerRuleError("RoundsNotValidator", validator)
        if validator in r["scores"]:
            raise LedgerRuleError("RoundsAlreadyScored", round_id, validator)
        n = len(r["commits"])
        if len(scores) != n:
            raise LedgerRuleError("RoundsScoreLengthMismatch", round_id, n, len(scores))
        for i, s in enumerate(scores):
            if not isinstance(s, int) or not 0 <= s <= PHI_ONE:
                raise LedgerRuleError("RoundsScoreOutOfRange", i, s)
        r["scores"][validator] = [int(s) for s in scores]
        self._written("submit_scores", round_id, validator, [int(s) for s in scores])

    def scores_of(self, round_id: int, validator: str) -> tuple[int, ...] | None:
        if self.round_phase(round_id) is RoundPhase.NONE:
            return None
        row = self._round(round_id)["scores"].get(validator)
        return None if row is None else tuple(row)

    def finalize_round(self, *, round_id: int, aggregate_cid: str, metric: int) -> None:
        r = self._require_phase(round_id, RoundPhase.SCORING)
        if not r["scores"]:
            raise LedgerRuleError("RoundsNotEnoughScores", round_id, 0, 1)
        if not 0 <= metric < 2**64:
            raise LedgerRuleError("RoundsInvalidMetric", metric)
        subs = list(self.submitters(round_id))
        scorers = [v for v in self._state["stakes"] if v in r["scores"]]
        rows = [r["scores"][v] for v in scorers]
        stakes = [self._state["stakes"][v] for v in scorers]
        phi = list(stake_weighted_median(rows, stakes)) if subs else []
        if subs:
            cuts = slash_amounts(
                rows,
                stakes,
                phi,
                tolerance=self._state["tolerance"],
                slash_bps=self._state["slash_bps"],
            )
            for v, cut in zip(scorers, cuts, strict=True):
                self._state["stakes"][v] -= cut
                self._state["slashed"][v] += cut
        r["aggregate"] = [aggregate_cid, int(metric)]
        r["consensus"] = [subs, phi]
        r["phase"] = RoundPhase.FINALIZED.value
        self._written("finalize_round", round_id, aggregate_cid, int(metric))

    def aggregate(self, round_id: int) -> tuple[str, int] | None:
        if self.round_phase(round_id) is RoundPhase.NONE:
            return None
        agg = self._round(round_id)["aggregate"]
        return None if agg is None else (str(agg[0]), int(agg[1]))

    def consensus(self, round_id: int) -> tuple[tuple[str, ...], tuple[int, ...]]:
        subs, phi = self._round(round_id)["consensus"]
        return tuple(subs), tuple(phi)

    def vote_aggregate(self, *, round_id: int, validator: str, approve: bool) -> None:
        r = self._require_phase(round_id, RoundPhase.FINALIZED)
        if validator not in r["scores"]:
            raise LedgerRuleError("RoundsNotValidator", validator)
        if validator in r["votes"]:
            raise LedgerRuleError("RoundsAlreadyVoted", round_id, validator)
        r["votes"][validator] = bool(approve)
        self._written("vote_aggregate", round_id, validator, bool(approve))

    def aggregate_vote(self, round_id: int, validator: str) -> bool | None:
        if self.round_phase(round_id) is RoundPhase.NONE:
            return None
        vote = self._round(round_id)["votes"].get(validator)
        return None if vote is None else bool(vote)

    def settle_round(self, *, round_id: int) -> RoundPhase:
        r = self._require_phase(round_id, RoundPhase.FINALIZED)
        if len(r["votes"]) < len(r["scores"]):
            raise LedgerRuleError("RoundsVotingOpen", round_id)
        agg_vote = sum(1 if v else -1 for v in r["votes"].values())
        if agg_vote >= 0:
            self._state["version"] += 1
            r["version"] = self._state["version"]
            self._state["version_cid"] = r["aggregate"][0]
            decay = self._state["decay_wad"]
            for c in self._state["points"]:
                self._state["points"][c] = self._state["points"][c] * decay // PHI_ONE
            m = self._state["points_per_round"] * PHI_ONE
            for c, phi in zip(*r["consensus"], strict=True):
                self._state["points"][c] += phi * m // PHI_ONE
            r["phase"] = RoundPhase.ACCEPTED.value
        else:
            r["phase"] = RoundPhase.REJECTED.value
        self._written("settle_round", round_id, r["phase"])
        return RoundPhase(r["phase"])

    def model_version(self) -> tuple[int, str | None]:
        return int(self._state["version"]), self._state["version_cid"]

    def points(self) -> Mapping[str, int]:
        return dict(self._state["points"])

    def slashed(self) -> Mapping[str, int]:
        return dict(self._state["slashed"])

    # ------------------------------------------------------------------ marketplace
    def set_member_ranks(self, *, ranked: Sequence[str]) -> None:
        if len(set(ranked)) != len(ranked):
            raise LedgerRuleError("MarketDuplicateRanked", list(ranked))
        self._state["ranks"] = list(ranked)
        self._written("set_member_ranks", list(ranked))

    def member_ranks(self) -> tuple[str, ...]:
        return tuple(self._state["ranks"])

    def price_of(self, user: str) -> tuple[int, Tier]:
        x = self._state["base_price"]
        ranks = self._state["ranks"]
        if user in ranks:
            n = len(ranks)
            return (0 if n == 1 else x * ranks.index(user) // (n - 1)), Tier.MEMBER
        if user == self._state["requester"]:
            return x * _REQUESTER_MULTIPLIER, Tier.REQUESTER
        return x * _EXTERNAL_MULTIPLIER, Tier.EXTERNAL

    def _new_request(
        self, kind: str, user: str, input_cid: str, fee: int, tier: Tier
    ) -> PaidRequest:
        request_id = len(self._state["requests"]) + 1
        self._state["requests"].append(
            {
                "kind": kind,
                "user": user,
                "input": input_cid,
                "fee": fee,
                "tier": tier.value,
                "output": None,
            }
        )
        if kind == "inference":
            self._state["revenue"] += fee
        self._written(f"request_{kind}", request_id, user, input_cid, fee)
        return self.request(request_id)

    def request_inference(self, *, user: str, input_cid: str) -> PaidRequest:
        if self._state["fork"] is not None:
            raise LedgerRuleError("MarketListingRetired", 1)
        fee, tier = self.price_of(user)
        return self._new_request("inference", user, input_cid, fee, tier)

    def request_query(self, *, user: str, query_cid: str, price: int) -> PaidRequest:
        tier = Tier.REQUESTER if user == self._state["requester"] else Tier.EXTERNAL
        return self._new_request("query", user, query_cid, price, tier)

    def find_request(self, *, user: str, input_cid: str) -> PaidRequest | None:
        for i, req in enumerate(self._state["requests"], start=1):
            if req["user"] == user and req["input"] == input_cid:
                return self.request(i)
        return None

    def requests_of(self, *, user: str, kind: str) -> tuple[PaidRequest, ...]:
        return tuple(
            self.request(i)
            for i, req in enumerate(self._state["requests"], start=1)
            if req["user"] == user and req["kind"] == kind
        )

    def fulfil(self, *, request_id: int, output_cid: str) -> None:
        req = self._state["requests"][request_id - 1]
        if req["output"] is not None:
            raise LedgerRuleError("MarketRequestNotPending", request_id, "fulfilled")
        req["output"] = output_cid
        self._written("fulfil", request_id, output_cid)

    def request(self, request_id: int) -> PaidRequest:
        if not 1 <= request_id <= len(self._state["requests"]):
            raise LedgerRuleError("MarketRequestNotPending", request_id, "none")
        req = self._state["requests"][request_id - 1]
        return PaidRequest(
            request_id=request_id,
            kind=req["kind"],
            user=req["user"],
            input_cid=req["input"],
            fee=req["fee"],
            tier=Tier(req["tier"]),
            output_cid=req["output"],
        )

    def revenue(self) -> int:
        return int(self._state["revenue"])

    # ------------------------------------------------------------------ revocation, fork, claims
    def revoke(self, *, names: Sequence[str]) -> None:
        for name in names:
            if name not in self._state["custodians"]:
                raise LedgerRuleError("RoundsNotWhitelisted", name)
            if name in self._state["revoked"]:
                continue
            self._state["revoked"][name] = self._state["collateral"]
            self._state.setdefault("burned", {})[name] = self._state["points"][name]
            self._state["points"][name] = 0
            self._written("revoke", name)

    def revoked(self) -> Mapping[str, int]:
        return dict(self._state["revoked"])

    def revoked_points(self) -> Mapping[str, int]:
        return dict(self._state.get("burned", {}))

    def fork_and_retire(self, *, domain: str) -> None:
        if self._state["fork"] is not None:
            return
        self._state["fork"] = {"version": self._state["version"], "domain": domain}
        self._written("fork_and_retire", domain)

    def fork(self) -> ForkRecord | None:
        fork = self._state["fork"]
        if fork is None:
            return None
        return ForkRecord(
            child="subdao-2",
            parent="subdao-1",
            parent_model_version=int(fork["version"]),
            domain=str(fork["domain"]),
            parent_state="Retired",
        )

    def _split(self) -> RevenueSplit:
        version = self._state["version"]
        accepted = [r for r in self._state["rounds"] if version and r["version"] == version]
        phi = dict(zip(*accepted[0]["consensus"], strict=True)) if accepted else {}
        return split_revenue(
            self._state["revenue"],
            shares=RevenueShares.from_tuple(self._state["shares"]),
            phi=phi,
            sdt=self._state["backers"],
        )

    def claim_revenue(self, *, backers: Sequence[str]) -> None:
        split = self._split()
        sbgt = dict(split.sbgt) if self._state["fork"] is not None else {}
        claimed = self._state["claimed"]
        sides = (("sbgt", sbgt, self._state["custodians"]), ("sdt", split.sdt, backers))
        for side, owed, parties in sides:
            for name in parties:
                due = owed.get(name, 0) - claimed[side].get(name, 0)
                if due > 0:
                    claimed[side][name] = claimed[side].get(name, 0) + due
                    self._written(f"claim_{side}", name, due)

    def claimed(self) -> RevenueClaims:
        split = self._split()
        claimed = self._state["claimed"]
        return RevenueClaims(
            sbgt={c: claimed["sbgt"].get(c, 0) for c in self._state["custodians"]},
            sdt={b: claimed["sdt"].get(b, 0) for b in self._state["backers"]},
            platform=split.platform,
            treasury=split.treasury,
            received=split.total,
        )

    def costs(self) -> LedgerCosts:
        writes: dict[str, int] = {}
        for entry in self._state["log"]:
            writes[entry[0]] = writes.get(entry[0], 0) + 1
        return LedgerCosts(writes=writes, gas={})


class FileLedger(InMemoryLedger):
    """:class:`InMemoryLedger` persisted to a JSON file after every write (atomic rename).

    Test double for crash tests with a real process kill: the state on disk is always
    the state after the last successful write. If ``path`` exists its state is loaded
    and the constructor's parameters are ignored.
    """

    def __init__(self, *, path: str | Path, **params: Any) -> None:
        self.path = Path(path)
        super().__init__(**params)
        if self.path.exists():
            self._state = json.loads(self.path.read_text(encoding="utf-8"))
        else:
            self._persist()

    def _persist(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            json.dump(self._state, f, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
