"""The view calls the index reads at its head: which ones a pass needs.

A pass reads the platform figures, the state of every proposal not final yet, and the
views of whatever its logs touched (an RFM record, a suite, a listing); the results are
stored as ``snapshots`` rows the pages read.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from flai.explorer.calls import Call
from flai.explorer.deployment import PlatformAddresses

__all__ = ["SnapshotPlanner", "Touched"]

#: OpenZeppelin Governor states after which nothing changes any more.
_FINAL_PROPOSAL_STATES = frozenset({2, 3, 6, 7})  # Canceled, Defeated, Expired, Executed
_ZERO = "0x0000000000000000000000000000000000000000"
_MAX_POOL_ID = 2**32 - 1


@dataclass
class Touched:
    """What the logs of one pass touched (drives the snapshot refresh)."""

    addresses: set[str] = field(default_factory=set)
    keys: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def add(self, address: str, event: str, key: str | None) -> None:
        self.addresses.add(address)
        if key is not None:
            self.keys.setdefault((address, event), set()).add(key)


class SnapshotPlanner:
    """Plans the view calls of a pass from what the index already holds.

    Parameters
    ----------
    conn
        The index's connection (read here, written by the index).
    platform
        The platform addresses of the deployment.
    """

    def __init__(self, *, conn: sqlite3.Connection, platform: PlatformAddresses) -> None:
        self.conn = conn
        self.platform = platform

    def _rows(self, sql: str, *params: Any) -> list[sqlite3.Row]:
        return list(self.conn.execute(sql, params))

    def _args_of(self, address: str, event: str) -> Iterator[dict[str, Any]]:
        for row in self._rows(
            "SELECT args FROM logs WHERE address = ? AND event = ? ORDER BY block, log_index",
            address,
            event,
        ):
            yield json.loads(row[0])

    def _snapshot(self, address: str, name: str, key: str = "") -> Any:
        row = self.conn.execute(
            "SELECT value FROM snapshots WHERE address = ? AND name = ? AND key = ?",
            (address, name, key),
        ).fetchone()
        return None if row is None else json.loads(row[0])

    def _contracts(self, kind: str) -> list[sqlite3.Row]:
        return self._rows("SELECT * FROM contracts WHERE kind = ? ORDER BY block, address", kind)

    def plan(self, touched: Touched, *, full: bool, head: int) -> list[Call]:
        """The calls of one pass at ``head``: platform figures always, proposal states until
        final, and what the pass's logs touched (everything when ``full``)."""
        p = self.platform
        calls: list[Call] = []
        add = calls.append
        # platform figures (cheap: read on every pass that moved the head)
        for fn in ("symbol", "decimals", "totalSupply"):
            add(Call(p.token, "FLAIToken", fn))
        for holder in (p.timelock, p.registry, p.staking):
            add(Call(p.token, "FLAIToken", "balanceOf", (holder,), key=holder))
        for fn in ("totalStaked", "totalCredentials", "pendingFees", "minimumStake", "exitFeeBps"):
            add(Call(p.staking, "SuperDAOStaking", fn))
        for fn in (
            "rfmCount",
            "creationFee",
            "treasuryAccrued",
            "endorsementThresholdBps",
            "rejectionRefundBps",
            "successRefundBps",
            "submissionTTL",
        ):
            add(Call(p.registry, "RFMRegistry", fn))
        for fn in ("name", "votingDelay", "votingPeriod", "quorumNumerator"):
            add(Call(p.governor, "SuperDAOGovernor", fn))
        add(Call(p.timelock, "TimelockController", "getMinDelay"))
        # proposals of the governor and of every chamber: state until final
        governors = [(p.governor, "SuperDAOGovernor")] + [
            (str(r["address"]), "SubDAOChamber") for r in self._contracts("SubDAOChamber")
        ]
        for address, kind in governors:
            for args in self._args_of(address, "ProposalCreated"):
                pid = int(args["proposalId"])
                key = str(pid)
                state = self._snapshot(address, "state", key)
                if full or state is None or int(state) not in _FINAL_PROPOSAL_STATES:
                    add(Call(address, kind, "state", (pid,), key=key))
                if kind == "SuperDAOGovernor" and (
                    full or self._snapshot(address, "kindOf", key) is None
                ):
                    add(Call(address, kind, "proposalApprovalThresholdBps", (pid,), key=key))
                    targets = list(args["targets"])
                    datas = [bytes.fromhex(d[2:]) for d in args["calldatas"]]
                    add(Call(address, kind, "kindOf", (targets, datas), key=key))
                start = int(args["voteStart"])
                if start < head and (full or self._snapshot(address, "quorum", key) is None):
                    add(Call(address, kind, "quorum", (start,), key=key))
        # RFM records touched by registry logs
        registry_keys: set[str] = set()
        for (address, _event), keys in touched.keys.items():
            if address == p.registry:
                registry_keys |= keys
        if full:
            registry_keys |= {str(a["rfmId"]) for a in self._args_of(p.registry, "RFMSubmitted")}
        for key in sorted(registry_keys, key=int):
            add(Call(p.registry, "RFMRegistry", "getRFM", (int(key),), key=key))
            add(Call(p.registry, "RFMRegistry", "endorsementRequired", (int(key),), key=key))
        # suites touched by any of their contracts' logs
        for hub in self._rows("SELECT address FROM contracts WHERE kind = 'SubDAO'"):
            suite = str(hub[0])
            members = {
                r["role"]: str(r["address"])
                for r in self._rows("SELECT role, address FROM contracts WHERE suite = ?", suite)
            }
            pools_open = any(
                self._snapshot(members.get("RevenueSplitter", ""), "poolOver", str(a["poolId"]))
                is not True
                for a in self._args_of(members.get("RevenueSplitter", ""), "PoolOpened")
            )
            if full or pools_open or touched.addresses & set(members.values()):
                calls.extend(self._suite_calls(members, full=full))
        # marketplace listings touched by its logs
        for market in self._contracts("Marketplace"):
            address = str(market["address"])
            keys = set()
            for (source, event), found in touched.keys.items():
                if source == address and event not in ("Requested", "Fulfilled", "Refunded"):
                    keys |= found
            if full or address in touched.addresses:
                keys |= {str(a["listingId"]) for a in self._args_of(address, "Listed")}
                add(Call(address, "Marketplace", "listingCount"))
            for key in sorted(keys, key=int):
                lid = int(key)
                for fn in ("listing", "listingInfo", "plans", "modelVersionOf"):
                    add(Call(address, "Marketplace", fn, (lid,), key=key))
        return calls

    def _suite_calls(self, members: Mapping[str, str], *, full: bool) -> list[Call]:
        calls: list[Call] = []
        add = calls.append
        hub = members["SubDAO"]
        for fn in ("state", "crowdfund", "modelVersion", "coordinator", "paymentToken", "lineage"):
            add(Call(hub, "SubDAO", fn))
        if "SBGT" in members:
            for fn in ("totalPoints", "decay", "index"):
                add(Call(members["SBGT"], "SBGT", fn))
        if "SDT" in members:
            for fn in ("totalSupply", "symbol"):
                add(Call(members["SDT"], "SDT", fn))
        for role in ("TechnicalChamber", "FinancialChamber"):
            if role in members:
                for fn in ("quorumBps", "votingDelay", "votingPeriod"):
                    add(Call(members[role], "SubDAOChamber", fn))
        rounds = members.get("TrainingRounds")
        if rounds:
            for fn in ("params", "totalSlashed", "activeValidators", "roundCount"):
                add(Call(rounds, "TrainingRounds", fn))
        splitter = members.get("RevenueSplitter")
        if splitter:
            for fn in (
                "totals",
                "accrued",
                "shares",
                "currentPoolId",
                "sdtCarry",
                "retired",
                "epochLength",
                "firstRevenueAt",
            ):
                add(Call(splitter, "RevenueSplitter", fn))
            holders: set[str] = set()
            for args in self._args_of(members.get("SDT", ""), "Transfer"):
                holders |= {str(args["from"]), str(args["to"])}
            for args in self._args_of(splitter, "SDTRevenueClaimed"):
                holders.add(str(args["account"]))
            holders.discard(_ZERO)
            for account in sorted(holders):
                add(Call(splitter, "RevenueSplitter", "claimableSDT", (account,), key=account))
            contributors = {
                str(a["account"]) for a in self._args_of(rounds or "", "ContributorWhitelisted")
            }
            for account in sorted(contributors):
                add(
                    Call(
                        splitter,
                        "RevenueSplitter",
                        "claimablePools",
                        (account, 1, _MAX_POOL_ID),
                        key=account,
                    )
                )
            for args in self._args_of(splitter, "PoolOpened"):
                pool = int(args["poolId"])
                key = str(pool)
                if full or self._snapshot(splitter, "poolOver", key) is not True:
                    add(Call(splitter, "RevenueSplitter", "epochPool", (pool,), key=key))
                    add(Call(splitter, "RevenueSplitter", "poolOver", (pool,), key=key))
        return calls

    def token_calls(self) -> list[Call]:
        """symbol/decimals of payment tokens named by a hub snapshot but not read yet."""
        calls = []
        for hub in self._contracts("SubDAO"):
            token = self._snapshot(str(hub["address"]), "paymentToken")
            if token is not None and self._snapshot(token, "symbol") is None:
                calls += [Call(token, "ERC20", "symbol"), Call(token, "ERC20", "decimals")]
        return list({(c.address, c.function): c for c in calls}.values())
