"""The read model: what each page shows, computed from the index alone.

Every function here takes a :class:`Reader` (one read-only SQLite connection) and returns
plain data for a template. Nothing here talks to the chain or to IPFS: figures come from
indexed events (replayed: stakes, votes, SBGT points, SDT balances, revenue sums) and from
the snapshots the indexer read at its head (proposal states, escrow, claimable amounts).
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import eth_abi
from eth_abi.exceptions import DecodingError

from flai.explorer import charts
from flai.explorer.abi import selector_names
from flai.explorer.fmt import short_hex, text32

__all__ = [
    "CHAMBER_KINDS",
    "LISTING_KINDS",
    "PROPOSAL_STATES",
    "RFM_STATUS",
    "ROUND_STATUS",
    "SUBDAO_STATES",
    "SUPERDAO_KINDS",
    "Event",
    "NotFound",
    "Reader",
]

SUBDAO_STATES = ("Crowdfunding", "Onboarding", "Training", "Deployed", "Retired", "Failed")
RFM_STATUS = ("None", "Pending", "Approved", "Rejected", "Expired")
PROPOSAL_STATES = (
    "Pending",
    "Active",
    "Canceled",
    "Defeated",
    "Succeeded",
    "Queued",
    "Expired",
    "Executed",
)
SUPERDAO_KINDS = ("PlatformUpdate", "RFMApproval", "Operational")
CHAMBER_KINDS = ("Operational", "Significant")
ROUND_STATUS = ("None", "Open", "Finalized", "Accepted", "Rejected")
MEMBER_STATUS = ("None", "Applied", "Whitelisted", "Revoked")
REVOCATION_REASONS = ("Inactivity", "Exit", "Malice")
LISTING_KINDS = ("Inference", "Analytics")
TIERS = ("External", "Requester", "Member", "Subscriber")
SUPPORT = ("Against", "For", "Abstain")
INDEX_ONE = 2**200
ZERO = "0x0000000000000000000000000000000000000000"
#: Points kept per series in a chart (the newest; a table lists every value).
CHART_POINTS = 240
#: Rows of a long list shown on an overview page (the newest first).
PAGE_ROWS = 100
#: Lifecycle transitions listed on a SubDAO page (the newest; each round adds two).
STATE_ROWS = 12
#: Rounds per page of a SubDAO's list of rounds.
ROUNDS_PER_PAGE = 200


class NotFound(LookupError):
    """The index holds nothing under the id or address a page asked for."""


def _name(names: Sequence[str], value: Any) -> str:
    try:
        return names[int(value)]
    except (IndexError, TypeError, ValueError):
        return str(value)


@dataclass(frozen=True)
class Event:
    """One indexed log."""

    id: int
    block: int
    log_index: int
    tx: str
    address: str
    event: str
    key: str | None
    args: dict[str, Any]
    time: int


def _thin(
    points: list[tuple[float, float]], limit: int = CHART_POINTS
) -> tuple[tuple[float, float], ...]:
    return tuple(points[-limit:])


class Reader:
    """Queries over one read-only connection to the index.

    Parameters
    ----------
    conn
        A connection from :func:`flai.explorer.index.connect_reader`.
    abis
        Contract kind -> ABI (to decode proposal actions).
    selectors
        The same as :func:`flai.explorer.abi.selector_names` per kind, computed once by the
        caller (instead of ``abis``, which costs a keccak per function and request).
    names
        Optional address -> display name (e.g. the parties of a demo run).
    """

    def __init__(
        self,
        *,
        conn: sqlite3.Connection,
        abis: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
        selectors: Mapping[str, Mapping[str, tuple[str, list[str]]]] | None = None,
        names: Mapping[str, str] | None = None,
    ) -> None:
        self.conn = conn
        if selectors is None:
            selectors = {kind: selector_names(abi) for kind, abi in (abis or {}).items()}
        self._selectors = selectors
        self._names = dict(names or {})
        self._contracts: dict[str, sqlite3.Row] | None = None
        self._labels: dict[str, str] | None = None
        self._created: dict[str, Event] | None = None
        self._proposals: dict[str, list[dict[str, Any]]] = {}

    # -- primitives ---------------------------------------------------------------------

    def _event(self, row: sqlite3.Row) -> Event:
        return Event(
            id=int(row["id"]),
            block=int(row["block"]),
            log_index=int(row["log_index"]),
            tx=str(row["tx"]),
            address=str(row["address"]),
            event=str(row["event"]),
            key=row["key"],
            args=json.loads(row["args"]),
            time=int(row["time"]),
        )

    def events(self, address: str | None, *names: str, key: Any = None) -> list[Event]:
        """Logs of ``address`` (any address if ``None``) named ``names``, in chain order."""
        sql = "SELECT l.*, b.time FROM logs l JOIN blocks b ON b.number = l.block WHERE 1=1"
        params: list[Any] = []
        if address is not None:
            sql += " AND l.address = ?"
            params.append(address)
        if names:
            sql += f" AND l.event IN ({','.join('?' * len(names))})"
            params += list(names)
        if key is not None:
            sql += " AND l.key = ?"
            params.append(str(key))
        sql += " ORDER BY l.block, l.log_index"
        return [self._event(r) for r in self.conn.execute(sql, params)]

    def snap(self, address: str | None, name: str, key: Any = "") -> Any:
        """The snapshot ``name`` (``key``) of ``address`` read at the indexed head, or None."""
        if address is None:
            return None
        row = self.conn.execute(
            "SELECT value FROM snapshots WHERE address = ? AND name = ? AND key = ?",
            (address, name, str(key)),
        ).fetchone()
        return None if row is None else json.loads(row[0])

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def contracts(self) -> dict[str, sqlite3.Row]:
        """Every known contract by address."""
        if self._contracts is None:
            self._contracts = {
                str(r["address"]): r
                for r in self.conn.execute("SELECT * FROM contracts ORDER BY block, rowid")
            }
        return self._contracts

    def by_role(self, role: str) -> list[str]:
        return [a for a, r in self.contracts().items() if r["role"] == role]

    def platform(self) -> dict[str, str]:
        """Role -> address of the platform contracts (from the deployment)."""
        return {str(r["role"]): a for a, r in self.contracts().items() if int(r["block"]) < 0}

    def suites(self) -> list[str]:
        """SubDAO hub addresses in creation order."""
        return self.by_role("SubDAO")

    def suite(self, hub: str) -> dict[str, str]:
        """Role -> address of the contracts of the suite behind ``hub``."""
        return {str(r["role"]): a for a, r in self.contracts().items() if r["suite"] == hub}

    def labels(self) -> dict[str, str]:
        """Address -> display label of every known contract (plus given names)."""
        if self._labels is None:
            labels: dict[str, str] = {}
            numbers = {hub: i + 1 for i, hub in enumerate(self.suites())}
            for address, row in self.contracts().items():
                suite = row["suite"]
                if suite is None:
                    labels[address] = str(row["role"])
                elif row["role"] == "SubDAO":
                    labels[address] = f"SubDAO #{numbers[address]}"
                else:
                    labels[address] = f"{row['role']} #{numbers.get(suite, '?')}"
            labels.update(self._names)
            self._labels = labels
        return self._labels

    def _short(self, address: str) -> str:
        return self.labels().get(address) or short_hex(address)

    def head(self) -> dict[str, Any]:
        number = int(self.meta("head") or -1)
        row = self.conn.execute("SELECT time FROM blocks WHERE number = ?", (number,)).fetchone()
        return {
            "number": number,
            "time": None if row is None else int(row[0]),
            "chain_id": self.meta("chain_id"),
            "start": int(self.meta("start") or 0),
        }

    def token(self, address: str | None) -> dict[str, Any]:
        """symbol/decimals of a token (FLAI defaults when unknown)."""
        symbol = self.snap(address, "symbol")
        decimals = self.snap(address, "decimals")
        return {
            "address": address,
            "symbol": symbol if isinstance(symbol, str) else "?",
            "decimals": int(decimals) if decimals is not None else 18,
        }

    # -- proposals ----------------------------------------------------------------------

    def decode_action(self, target: str, data: str) -> dict[str, Any]:
        """A proposal action as (target, function name, arguments) where the ABI is known."""
        row = self.contracts().get(target)
        out: dict[str, Any] = {"target": target, "data": data, "function": None, "args": None}
        if row is None or len(data) < 10:
            return out
        found = self._selectors.get(str(row["kind"]), {}).get(data[:10])
        if found is None:
            return out
        name, types = found
        out["function"] = name
        try:
            values = eth_abi.decode(types, bytes.fromhex(data[10:]))
            out["args"] = [_plain(v) for v in values]
        except (DecodingError, ValueError, OverflowError):  # not this ABI's layout: raw
            out["args"] = None
        return out

    def proposals(self, governor: str) -> list[dict[str, Any]]:
        """Proposals of a governor or chamber, newest first, with votes, kind and state."""
        if governor not in self._proposals:
            self._proposals[governor] = self._load_proposals(governor)
        return self._proposals[governor]

    def _load_proposals(self, governor: str) -> list[dict[str, Any]]:
        kind_events = {
            e.key: int(e.args["kind"]) for e in self.events(governor, "ProposalKindAssigned")
        }
        votes: dict[str, dict[str, int]] = defaultdict(
            lambda: {"For": 0, "Against": 0, "Abstain": 0}
        )
        voters: dict[str, int] = defaultdict(int)
        for e in self.events(governor, "VoteCast", "VoteCastWithParams"):
            votes[str(e.key)][_name(SUPPORT, e.args["support"])] += int(e.args["weight"])
            voters[str(e.key)] += 1
        timeline: dict[str, dict[str, Event]] = defaultdict(dict)
        for e in self.events(governor, "ProposalQueued", "ProposalExecuted", "ProposalCanceled"):
            timeline[str(e.key)][e.event] = e
        row = self.contracts().get(governor)
        superdao = row is not None and row["kind"] == "SuperDAOGovernor"
        out = []
        for e in self.events(governor, "ProposalCreated"):
            pid = str(e.args["proposalId"])
            state = self.snap(governor, "state", pid)
            if superdao:
                kind = self.snap(governor, "kindOf", pid)
                kind_name = None if kind is None else _name(SUPERDAO_KINDS, kind)
                threshold = self.snap(governor, "proposalApprovalThresholdBps", pid)
            else:
                kind = kind_events.get(pid)
                kind_name = None if kind is None else _name(CHAMBER_KINDS, kind)
                threshold = None if kind is None else (7500 if kind == 1 else 5000)
            v = votes[pid]
            decided = v["For"] + v["Against"]
            actions = [
                self.decode_action(t, d) for t, d in zip(e.args["targets"], e.args["calldatas"])
            ]
            out.append(
                {
                    "id": pid,
                    "governor": governor,
                    "proposer": e.args["proposer"],
                    "description": e.args["description"],
                    "title": (e.args["description"].strip().splitlines() or [""])[0][:120],
                    "kind": kind_name,
                    "threshold_bps": threshold,
                    "votes": v,
                    "voters": voters[pid],
                    "for_share_bps": None if decided == 0 else v["For"] * 10_000 // decided,
                    "quorum": self.snap(governor, "quorum", pid),
                    "state": None if state is None else _name(PROPOSAL_STATES, state),
                    "vote_start": int(e.args["voteStart"]),
                    "vote_end": int(e.args["voteEnd"]),
                    "created": e,
                    "queued": timeline[pid].get("ProposalQueued"),
                    "executed": timeline[pid].get("ProposalExecuted"),
                    "canceled": timeline[pid].get("ProposalCanceled"),
                    "actions": actions,
                }
            )
        out.reverse()
        return out

    def proposal(self, governor: str, pid: str) -> dict[str, Any]:
        if governor not in self.contracts():
            raise NotFound(f"governor {governor}")
        for p in self.proposals(governor):
            if p["id"] == pid:
                p = dict(p)
                p["vote_list"] = [
                    {
                        "voter": e.args["voter"],
                        "support": _name(SUPPORT, e.args["support"]),
                        "weight": int(e.args["weight"]),
                        "reason": e.args["reason"],
                        "event": e,
                    }
                    for e in self.events(governor, "VoteCast", "VoteCastWithParams", key=pid)
                ]
                p["is_superdao"] = self.contracts()[governor]["kind"] == "SuperDAOGovernor"
                p["suite"] = self.contracts()[governor]["suite"]
                return p
        raise NotFound(f"proposal {pid} of {governor}")

    # -- platform -----------------------------------------------------------------------

    def members(self) -> list[dict[str, Any]]:
        """SuperDAO members: stake and legacy credentials replayed from staking events."""
        staking = self.platform().get("SuperDAOStaking")
        stake: dict[str, int] = {}
        credentials: dict[str, int] = {}
        since: dict[str, Event] = {}
        for e in self.events(
            staking, "Staked", "Unstaked", "CredentialsGranted", "CredentialsRevoked"
        ):
            account = str(e.args["account"])
            since.setdefault(account, e)
            if e.event in ("Staked", "Unstaked"):
                stake[account] = int(e.args["newStake"])
            else:
                credentials[account] = int(e.args["newCredentials"])
        minimum = int(self.snap(staking, "minimumStake") or 0)
        rows: list[dict[str, Any]] = []
        for account in set(stake) | set(credentials):
            s, c = stake.get(account, 0), credentials.get(account, 0)
            rows.append(
                {
                    "account": account,
                    "stake": s,
                    "credentials": c,
                    "votes": s + c,
                    "member": s >= minimum and s > 0,
                    "since": since[account],
                }
            )
        rows.sort(key=lambda r: (-r["votes"], r["account"]))
        return rows

    def platform_page(self) -> dict[str, Any]:
        p = self.platform()
        token = self.token(p.get("FLAIToken"))
        timelock = p.get("TimelockController")
        members = self.members()
        total_votes = sum(m["votes"] for m in members)
        for m in members:
            m["share_bps"] = 0 if total_votes == 0 else m["votes"] * 10_000 // total_votes
        treasury = {
            "flai": self.snap(p.get("FLAIToken"), "balanceOf", timelock),
            "eth": self.snap(timelock, "ethBalance"),
            "registry_accrued": self.snap(p.get("RFMRegistry"), "treasuryAccrued"),
            "staking_fees": self.snap(p.get("SuperDAOStaking"), "pendingFees"),
            "splitter_accrued": sum(
                int(
                    (self.snap(self.suite(h).get("RevenueSplitter"), "accrued") or {}).get(
                        "platform", 0
                    )
                )
                for h in self.suites()
            ),
            "released": sum(
                int(e.args["toPlatform"])
                for h in self.suites()
                for e in self.events(self.suite(h).get("RevenueSplitter"), "TreasuriesReleased")
            ),
        }
        staking = p.get("SuperDAOStaking")
        registry = p.get("RFMRegistry")
        governor = p.get("SuperDAOGovernor")
        return {
            "platform": p,
            "token": token,
            "total_supply": self.snap(p.get("FLAIToken"), "totalSupply"),
            "members": members,
            "votes_bars": [
                (self._short(m["account"]), m["votes"] / 10 ** token["decimals"])
                for m in members[:16]
            ],
            "total_staked": self.snap(staking, "totalStaked"),
            "total_credentials": self.snap(staking, "totalCredentials"),
            "minimum_stake": self.snap(staking, "minimumStake"),
            "exit_fee_bps": self.snap(staking, "exitFeeBps"),
            "proposals": self.proposals(governor) if governor else [],
            "governor": {
                "address": governor,
                "voting_delay": self.snap(governor, "votingDelay"),
                "voting_period": self.snap(governor, "votingPeriod"),
                "quorum_numerator": self.snap(governor, "quorumNumerator"),
                "min_delay": self.snap(timelock, "getMinDelay"),
            },
            "registry": {
                "address": registry,
                "rfm_count": self.snap(registry, "rfmCount"),
                "creation_fee": self.snap(registry, "creationFee"),
                "threshold_bps": self.snap(registry, "endorsementThresholdBps"),
            },
            "treasury": treasury,
            "subdaos": [self.subdao_summary(h) for h in self.suites()],
        }

    # -- RFM registry -------------------------------------------------------------------

    def document(self, cid: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT * FROM documents WHERE cid = ?", (cid,)).fetchone()
        if row is None:
            return None
        body = row["body"]
        parsed = None
        text = None
        if body is not None and row["status"] == "ok":
            try:
                text = bytes(body).decode("utf-8")
                parsed = json.loads(text)
            except (UnicodeDecodeError, ValueError):
                parsed = None
        return {
            "cid": cid,
            "status": row["status"],
            "size": row["size"],
            "detail": row["detail"],
            "json": parsed,
            "text": text,
            "body": None if body is None else bytes(body),
        }

    def rfms(self) -> list[dict[str, Any]]:
        registry = self.platform().get("RFMRegistry")
        decisions: dict[str, Event] = {}
        for e in self.events(registry, "RFMApproved", "RFMRejected", "RFMExpired"):
            decisions[str(e.key)] = e
        endorsements: dict[str, list[Event]] = defaultdict(list)
        for e in self.events(registry, "RFMEndorsed"):
            endorsements[str(e.key)].append(e)
        token = self.token(self.platform().get("FLAIToken"))
        out = []
        for e in self.events(registry, "RFMSubmitted"):
            rid = str(e.args["rfmId"])
            params = e.args["params"]
            record = self.snap(registry, "getRFM", rid) or {}
            decision = decisions.get(rid)
            status = (
                _name(RFM_STATUS, record["status"])
                if "status" in record
                else ("Pending" if decision is None else decision.event[3:])
            )
            doc = self.document(params["specCid"])
            out.append(
                {
                    "id": int(rid),
                    "requester": e.args["requester"],
                    "params": params,
                    "domain": text32(params["domain"]),
                    "model_class": text32(params["modelClass"]),
                    "data_schema": text32(params["dataSchema"]),
                    "metric": text32(params["metricId"]),
                    "metric_threshold": int(params["metricThreshold"]),
                    "spec_cid": params["specCid"],
                    "spec": None if doc is None else doc["json"],
                    "spec_status": None if doc is None else doc["status"],
                    "fee": int(e.args["fee"]),
                    "expires_at": int(e.args["expiresAt"]),
                    "escrow": record.get("escrow"),
                    "endorsement_weight": record.get(
                        "endorsementWeight",
                        sum(int(x.args["weight"]) for x in endorsements[rid]),
                    ),
                    "endorsement_required": self.snap(registry, "endorsementRequired", rid),
                    "endorsements": endorsements[rid],
                    "status": status,
                    "decision": decision,
                    "subdao": record.get("subDAO")
                    if record.get("subDAO") not in (None, ZERO)
                    else (decision.args.get("subDAO") if decision else None),
                    "submitted": e,
                    "token": token,
                }
            )
        return out

    def rfm_list(
        self,
        *,
        q: str = "",
        domain: str = "",
        data_schema: str = "",
        model_class: str = "",
        status: str = "",
    ) -> dict[str, Any]:
        every = self.rfms()
        needle = q.strip().lower()

        def matches(r: dict[str, Any]) -> bool:
            if domain and r["domain"] != domain:
                return False
            if data_schema and r["data_schema"] != data_schema:
                return False
            if model_class and r["model_class"] != model_class:
                return False
            if status and r["status"] != status:
                return False
            if needle:
                hay = " ".join(
                    [
                        str(r["id"]),
                        r["domain"],
                        r["model_class"],
                        r["data_schema"],
                        r["metric"],
                        r["requester"],
                        r["spec_cid"],
                        json.dumps(r["spec"]) if r["spec"] is not None else "",
                    ]
                ).lower()
                return needle in hay
            return True

        return {
            "rfms": [r for r in every if matches(r)],
            "total": len(every),
            "filters": {
                "q": q,
                "domain": domain,
                "data_schema": data_schema,
                "model_class": model_class,
                "status": status,
            },
            "options": {
                "domain": sorted({r["domain"] for r in every}),
                "data_schema": sorted({r["data_schema"] for r in every}),
                "model_class": sorted({r["model_class"] for r in every}),
                "status": [s for s in RFM_STATUS[1:]],
            },
        }

    def rfm_page(self, rfm_id: int) -> dict[str, Any]:
        registry = self.platform().get("RFMRegistry")
        for r in self.rfms():
            if r["id"] == rfm_id:
                r["refunds"] = self.events(
                    registry, "RefundCredited", "SuccessRefundCredited", key=rfm_id
                )
                r["proposals"] = [
                    p
                    for p in self.proposals(self.platform().get("SuperDAOGovernor", ""))
                    if any(
                        a["target"] == registry
                        and a["function"] in ("approve", "reject")
                        and a["args"] == [rfm_id]
                        for a in p["actions"]
                    )
                ]
                r["record"] = self.snap(registry, "getRFM", rfm_id)
                return r
        raise NotFound(f"RFM {rfm_id}")

    # -- SubDAOs ------------------------------------------------------------------------

    def created(self) -> dict[str, Event]:
        """SubDAO hub -> its SubDAOCreated event (from any factory)."""
        if self._created is None:
            out = {}
            for factory in self.by_role("SubDAOFactory"):
                for e in self.events(factory, "SubDAOCreated"):
                    out[str(e.args["subDAO"])] = e
            self._created = out
        return self._created

    def subdao_summary(self, hub: str) -> dict[str, Any]:
        created = self.created().get(hub)
        state = self.snap(hub, "state")
        version = self.snap(hub, "modelVersion") or {}
        args = created.args if created else {}
        return {
            "hub": hub,
            "label": self.labels().get(hub, hub),
            "rfm_id": args.get("rfmId"),
            "domain": text32(args.get("domain", "")),
            "model_class": text32(args.get("modelClass", "")),
            "parent": args.get("parent") if args.get("parent") not in (None, ZERO) else None,
            "state": None if state is None else _name(SUBDAO_STATES, state),
            "version": version.get("version"),
            "created": created,
        }

    def lineage(self, hub: str) -> dict[str, Any]:
        """The fork tree holding ``hub``: its root and every descendant, nested."""
        created = self.created()
        parent_of = {
            h: str(e.args["parent"]) for h, e in created.items() if e.args["parent"] != ZERO
        }
        children: dict[str, list[str]] = defaultdict(list)
        for child, parent in parent_of.items():
            children[parent].append(child)
        root = hub
        seen = {root}
        while root in parent_of and parent_of[root] not in seen:
            root = parent_of[root]
            seen.add(root)

        def node(h: str) -> dict[str, Any]:
            e = created.get(h)
            return {
                **self.subdao_summary(h),
                "current": h == hub,
                "parent_version": None if e is None else int(e.args["parentModelVersion"]),
                "children": [node(c) for c in children.get(h, [])],
            }

        ancestors = []
        cursor = hub
        while cursor in parent_of:
            cursor = parent_of[cursor]
            ancestors.append(cursor)
            if len(ancestors) > len(created):
                break
        return {"root": node(root), "ancestors": ancestors}

    def _sbgt_state(self, sbgt: str, before: int) -> tuple[dict[str, int], int]:
        """Every holder's scaled points and the decay index at the end of block ``before - 1``,
        read from the last relevant log of each (no replay)."""
        scaled = {
            str(r[0]): 0
            for r in self.conn.execute(
                "SELECT DISTINCT m.address FROM logs l JOIN mentions m ON m.log = l.id "
                "WHERE l.address = ? AND l.event = 'Transfer' AND m.field = 'to' AND l.block < ?",
                (sbgt, before),
            )
        }
        for account, event, args, _ in self.conn.execute(
            "SELECT m.address, l.event, l.args, MAX(l.block * 1048576 + l.log_index) "
            "FROM logs l JOIN mentions m ON m.log = l.id WHERE l.address = ? AND l.block < ? "
            "AND l.event IN ('PointsAwarded', 'PointsRevoked') AND m.field = 'account' "
            "GROUP BY m.address",
            (sbgt, before),
        ):
            scaled[str(account)] = (
                int(json.loads(args)["scaledBalance"]) if event == "PointsAwarded" else 0
            )
        row = self.conn.execute(
            "SELECT args FROM logs WHERE address = ? AND event = 'IndexDecayed' AND block < ? "
            "ORDER BY block DESC, log_index DESC LIMIT 1",
            (sbgt, before),
        ).fetchone()
        return scaled, INDEX_ONE if row is None else int(json.loads(row[0])["newIndex"])

    def sbgt_points(self, sbgt: str | None, *, window: int = CHART_POINTS) -> dict[str, Any]:
        """SBGT points π_k = ⌊s_k·D / 2^200⌋ (001 eq. 12): today's exactly, and their history
        over the newest ``window`` blocks that changed them (the exact state before the
        window from each holder's last log, then the window's events replayed)."""
        empty: dict[str, Any] = {"current": {}, "history": {}, "totals": [], "times": {}}
        if not sbgt:
            return empty
        names = ("Transfer", "PointsAwarded", "PointsRevoked", "IndexDecayed")
        blocks = [
            int(r[0])
            for r in self.conn.execute(
                "SELECT DISTINCT block FROM logs WHERE address = ? AND event IN (?,?,?,?) "
                "ORDER BY block DESC LIMIT ?",
                (sbgt, *names, window),
            )
        ]
        if not blocks:
            return empty
        first = min(blocks)
        scaled, index = self._sbgt_state(sbgt, first)
        history: dict[str, list[tuple[int, int]]] = defaultdict(list)
        totals: list[tuple[int, int]] = []
        events = [
            self._event(r)
            for r in self.conn.execute(
                "SELECT l.*, b.time FROM logs l JOIN blocks b ON b.number = l.block "
                "WHERE l.address = ? AND l.event IN (?,?,?,?) AND l.block >= ? "
                "ORDER BY l.block, l.log_index",
                (sbgt, *names, first),
            )
        ]
        times: dict[int, int] = {}

        def record(block: int) -> None:
            total = 0
            for account, s in scaled.items():
                points = s * index // INDEX_ONE
                total += points
                history[account].append((block, points))
            totals.append((block, total))

        for i, e in enumerate(events):
            if e.event == "IndexDecayed":
                index = int(e.args["newIndex"])
            elif e.event == "PointsAwarded":
                scaled[str(e.args["account"])] = int(e.args["scaledBalance"])
            elif e.event == "PointsRevoked":
                scaled[str(e.args["account"])] = 0
            elif e.event == "Transfer" and e.args["from"] == ZERO:
                scaled.setdefault(str(e.args["to"]), 0)
            times[e.block] = e.time
            if i + 1 == len(events) or events[i + 1].block != e.block:
                record(e.block)
        current = {a: s * index // INDEX_ONE for a, s in scaled.items()}
        return {"current": current, "history": dict(history), "totals": totals, "times": times}

    def _mentioning(self, contract: str, account: str, *names: str) -> list[Event]:
        """Logs of ``contract`` named ``names`` that carry ``account`` as an argument."""
        marks = ",".join("?" * len(names))
        return [
            self._event(r)
            for r in self.conn.execute(
                "SELECT DISTINCT l.*, b.time FROM mentions m JOIN logs l ON l.id = m.log "
                "JOIN blocks b ON b.number = l.block WHERE m.address = ? AND l.address = ? "
                f"AND l.event IN ({marks}) ORDER BY l.block, l.log_index",
                (account, contract, *names),
            )
        ]

    def points_of(self, sbgt: str | None, account: str) -> int | None:
        """Current SBGT points of one holder (``None`` if it never held the token): its last
        scaled balance times the last decay index, without replaying every holder."""
        if not sbgt:
            return None
        mine = self._mentioning(sbgt, account, "Transfer", "PointsAwarded", "PointsRevoked")
        if not any(e.event == "Transfer" and e.args["from"] == ZERO for e in mine):
            return None
        scaled = 0
        for e in mine:
            if e.event == "PointsAwarded":
                scaled = int(e.args["scaledBalance"])
            elif e.event == "PointsRevoked":
                scaled = 0
        row = self.conn.execute(
            "SELECT args FROM logs WHERE address = ? AND event = 'IndexDecayed' "
            "ORDER BY block DESC, log_index DESC LIMIT 1",
            (sbgt,),
        ).fetchone()
        index = INDEX_ONE if row is None else int(json.loads(row[0])["newIndex"])
        return scaled * index // INDEX_ONE

    def sdt_balance_of(self, sdt: str | None, account: str) -> int | None:
        """SDT balance of one account from its own transfers (``None`` if it never held SDT)."""
        if not sdt:
            return None
        mine = self._mentioning(sdt, account, "Transfer")
        if not mine:
            return None
        balance = 0
        for e in mine:
            if e.args["to"] == account:
                balance += int(e.args["value"])
            if e.args["from"] == account:
                balance -= int(e.args["value"])
        return balance

    def sdt_holders(self, sdt: str | None) -> dict[str, int]:
        balances: dict[str, int] = defaultdict(int)
        for e in self.events(sdt, "Transfer") if sdt else []:
            value = int(e.args["value"])
            if e.args["from"] != ZERO:
                balances[str(e.args["from"])] -= value
            if e.args["to"] != ZERO:
                balances[str(e.args["to"])] += value
        return {a: b for a, b in balances.items() if b != 0}

    def members_of(self, rounds: str | None) -> dict[str, list[dict[str, Any]]]:
        """Contributors and validators of a suite, replayed from TrainingRounds events."""
        contributors: dict[str, dict[str, Any]] = {}
        validators: dict[str, dict[str, Any]] = {}
        for e in (
            self.events(
                rounds,
                "ContributorApplied",
                "ContributorWhitelisted",
                "ContributorRevoked",
                "CollateralWithdrawn",
                "ValidatorApplied",
                "ValidatorWhitelisted",
                "ValidatorRemoved",
                "DepositWithdrawn",
                "ValidatorSlashed",
            )
            if rounds
            else []
        ):
            name = e.event
            if name.startswith("Contributor") or name == "CollateralWithdrawn":
                c = contributors.setdefault(
                    str(e.args["account"]),
                    {
                        "account": e.args["account"],
                        "status": "Applied",
                        "index": None,
                        "collateral": 0,
                        "attestation": None,
                        "initial_points": 0,
                        "reason": None,
                        "slashed": 0,
                        "since": e,
                    },
                )
                if name == "ContributorApplied":
                    c["attestation"] = e.args["attestationCid"]
                    c["collateral"] = int(e.args["collateral"])
                elif name == "ContributorWhitelisted":
                    c["status"] = "Whitelisted"
                    c["index"] = int(e.args["memberIndex"])
                    c["initial_points"] = int(e.args["initialPoints"])
                elif name == "ContributorRevoked":
                    c["status"] = "Revoked"
                    c["reason"] = _name(REVOCATION_REASONS, e.args["reason"])
                    c["slashed"] = int(e.args["collateralSlashed"])
                else:
                    c["collateral"] = 0
            else:
                account = str(
                    e.args["validator"] if name == "ValidatorSlashed" else e.args["account"]
                )
                v = validators.setdefault(
                    account,
                    {
                        "account": account,
                        "status": "Applied",
                        "index": None,
                        "deposit": 0,
                        "slashed": 0,
                        "slash_count": 0,
                        "since": e,
                    },
                )
                if name == "ValidatorApplied":
                    v["deposit"] = int(e.args["deposit"])
                elif name == "ValidatorWhitelisted":
                    v["status"] = "Whitelisted"
                    v["index"] = int(e.args["validatorIndex"])
                    v["deposit"] = int(e.args["deposit"])
                elif name == "ValidatorRemoved":
                    v["status"] = "Removed"
                elif name == "DepositWithdrawn":
                    v["deposit"] = 0
                else:
                    v["slashed"] += int(e.args["amount"])
                    v["slash_count"] += 1
                    v["deposit"] -= int(e.args["amount"])
        order = lambda m: (m["index"] is None, m["index"] or 0, m["account"])
        return {
            "contributors": sorted(contributors.values(), key=order),
            "validators": sorted(validators.values(), key=order),
        }

    def round_count(self, rounds: str | None) -> int:
        """Rounds opened on a TrainingRounds contract."""
        if not rounds:
            return 0
        row = self.conn.execute(
            "SELECT COUNT(*) FROM logs WHERE address = ? AND event = 'RoundOpened'", (rounds,)
        ).fetchone()
        return int(row[0])

    def rounds(
        self, rounds: str | None, *, first: int = 1, last: int | None = None
    ) -> list[dict[str, Any]]:
        """Rounds ``first``..``last`` (default: all) of a TrainingRounds contract with their
        outcome, in id order.

        Commits, score vectors and votes are counted in SQL; only the events that carry a
        round's figures (opened, finalized, decided, slashed) are decoded."""
        if not rounds:
            return []
        last = 2**62 if last is None else last
        in_range = "CAST(key AS INTEGER) BETWEEN ? AND ?"
        counts: dict[tuple[str, str], int] = {
            (str(r[0]), str(r[1])): int(r[2])
            for r in self.conn.execute(
                "SELECT key, event, COUNT(*) FROM logs WHERE address = ? AND event IN "
                "('UpdateCommitted', 'ScoresSubmitted', 'AggregateVoted') AND "
                f"{in_range} GROUP BY key, event",
                (rounds, first, last),
            )
        }
        table: dict[int, dict[str, Any]] = {}
        decoded = [
            self._event(r)
            for r in self.conn.execute(
                "SELECT l.*, b.time FROM logs l JOIN blocks b ON b.number = l.block "
                "WHERE l.address = ? AND l.event IN ('RoundOpened', 'RoundFinalized', "
                "'RoundAccepted', 'RoundRejected', 'ValidatorSlashed') AND "
                "CAST(l.key AS INTEGER) BETWEEN ? AND ? ORDER BY l.block, l.log_index",
                (rounds, first, last),
            )
        ]
        for e in decoded:
            rid = int(e.args["roundId"])
            key = str(rid)
            r = table.setdefault(
                rid,
                {
                    "id": rid,
                    "opened": None,
                    "commits": counts.get((key, "UpdateCommitted"), 0),
                    "scores": counts.get((key, "ScoresSubmitted"), 0),
                    "votes": counts.get((key, "AggregateVoted"), 0),
                    "slashed": 0,
                    "finalized": None,
                    "outcome": None,
                    "version": None,
                    "metric": None,
                    "phi_sum": None,
                    "agg_vote": None,
                    "status": "Open",
                },
            )
            if e.event == "RoundOpened":
                r["opened"] = e
                r["global_cid"] = e.args["globalModelCid"]
            elif e.event == "ValidatorSlashed":
                r["slashed"] += int(e.args["amount"])
            elif e.event == "RoundFinalized":
                r["finalized"] = e
                r["metric"] = int(e.args["metric"])
                r["phi_sum"] = int(e.args["phiSum"])
                r["aggregate_cid"] = e.args["aggregateCid"]
                r["status"] = "Finalized"
            else:
                r["outcome"] = e
                r["agg_vote"] = int(e.args["aggVote"])
                if e.event == "RoundAccepted":
                    r["version"] = int(e.args["version"])
                    r["status"] = "Accepted"
                else:
                    r["status"] = "Rejected"
        undecided = [r for r in table.values() if r["outcome"] is None and r["votes"]]
        for r in undecided:  # running aggVote of a round still being voted on
            votes = self.events(rounds, "AggregateVoted", key=r["id"])
            r["agg_vote"] = int(votes[-1].args["aggVote"])
        return [table[k] for k in sorted(table)]

    def rounds_page(self, hub: str, page: int = 1) -> dict[str, Any]:
        """One page of :data:`ROUNDS_PER_PAGE` rounds of a SubDAO, in id order."""
        if hub not in self.suites():
            raise NotFound(f"SubDAO {hub}")
        contract = self.suite(hub).get("TrainingRounds")
        count = self.round_count(contract)
        pages = max(1, -(-count // ROUNDS_PER_PAGE))
        if not 1 <= page <= pages:
            raise NotFound(f"page {page} of {pages}")
        first = (page - 1) * ROUNDS_PER_PAGE + 1
        rounds = self.rounds(contract, first=first, last=first + ROUNDS_PER_PAGE - 1)
        return {
            "hub": hub,
            "label": self.labels().get(hub, hub),
            "rounds": rounds,
            "count": count,
            "page": page,
            "pages": pages,
            "metric_chart": _metric_chart(rounds),
        }

    def subdao_page(self, hub: str) -> dict[str, Any]:
        if hub not in self.suites():
            raise NotFound(f"SubDAO {hub}")
        suite = self.suite(hub)
        summary = self.subdao_summary(hub)
        created = summary["created"]
        token = self.token(self.snap(hub, "paymentToken"))
        crowdfund = self.snap(hub, "crowdfund") or {}
        backers: dict[str, dict[str, int]] = defaultdict(
            lambda: {"paid": 0, "sdt": 0, "refunded": 0}
        )
        for e in self.events(hub, "Contributed", "Refunded"):
            b = backers[str(e.args["backer"])]
            if e.event == "Contributed":
                b["paid"] += int(e.args["paid"])
                b["sdt"] += int(e.args["sdtMinted"])
            else:
                b["refunded"] += int(e.args["amount"])
        points = self.sbgt_points(suite.get("SBGT"))
        total_points = sum(points["current"].values())
        holders = self.sdt_holders(suite.get("SDT"))
        supply = sum(holders.values())
        members = self.members_of(suite.get("TrainingRounds"))
        for c in members["contributors"]:
            c["points"] = points["current"].get(str(c["account"]), 0)
        round_count = self.round_count(suite.get("TrainingRounds"))
        rounds = self.rounds(
            suite.get("TrainingRounds"), first=max(1, round_count - CHART_POINTS + 1)
        )
        chambers = []
        for role in ("TechnicalChamber", "FinancialChamber"):
            address = suite.get(role)
            if address:
                chambers.append(
                    {
                        "role": role,
                        "address": address,
                        "token": "SBGT points" if role == "TechnicalChamber" else "SDT",
                        "quorum_bps": self.snap(address, "quorumBps"),
                        "voting_period": self.snap(address, "votingPeriod"),
                        "proposals": self.proposals(address),
                    }
                )
        market = None
        for m in self.by_role("Marketplace"):
            for e in self.events(m, "Listed"):
                if e.args["subDAO"] == hub:
                    market = {"address": m, "listing": int(e.args["listingId"])}
        transitions = [
            self._event(r)
            for r in self.conn.execute(
                "SELECT l.*, b.time FROM logs l JOIN blocks b ON b.number = l.block "
                "WHERE l.address = ? AND l.event = 'StateChanged' "
                "ORDER BY l.block DESC, l.log_index DESC LIMIT ?",
                (hub, STATE_ROWS),
            )
        ]
        states = [
            {
                "from": _name(SUBDAO_STATES, e.args["previous"]),
                "to": _name(SUBDAO_STATES, e.args["next"]),
                "event": e,
            }
            for e in reversed(transitions)
        ]
        state_count = int(
            self.conn.execute(
                "SELECT COUNT(*) FROM logs WHERE address = ? AND event = 'StateChanged'", (hub,)
            ).fetchone()[0]
        )
        point_series = [
            charts.Series(self._short(a), _thin([(b, p / 1e18) for b, p in history]))
            for a, history in points["history"].items()
        ]
        return {
            **summary,
            "metric_chart": _metric_chart(rounds),
            "points_chart": charts.line_chart(
                point_series, title="SBGT points by holder", x_label="block", y_label="points"
            ),
            "crowdfund_chart": charts.progress_bar(
                float(crowdfund.get("raised", 0)),
                float(crowdfund.get("goal", 0)),
                title="Crowdfund progress",
            ),
            "suite": suite,
            "token": token,
            "requester": None if created is None else created.args["requester"],
            "spec_cid": None if created is None else created.args["specCid"],
            "price": None if created is None else int(created.args["pricePerInference"]),
            "coordinator": self.snap(hub, "coordinator"),
            "inference_epoch": (self.snap(hub, "modelVersion") or {}).get("inferenceEpoch"),
            "states": states,
            "state_count": state_count,
            "lineage": self.lineage(hub),
            "crowdfund": crowdfund,
            "backers": sorted(
                ({"account": a, **b} for a, b in backers.items()), key=lambda b: -b["paid"]
            ),
            "points": points,
            "total_points": total_points,
            "sbgt_holders": sorted(
                (
                    {
                        "account": a,
                        "points": p,
                        "share_bps": 0 if total_points == 0 else p * 10_000 // total_points,
                    }
                    for a, p in points["current"].items()
                ),
                key=lambda r: (-r["points"], r["account"]),
            ),
            "sdt_holders": sorted(
                (
                    {
                        "account": a,
                        "balance": b,
                        "share_bps": 0 if supply == 0 else b * 10_000 // supply,
                    }
                    for a, b in holders.items()
                ),
                key=lambda r: (-r["balance"], r["account"]),
            ),
            "sdt_supply": supply,
            "members": members,
            "rounds": rounds,
            "rounds_shown": rounds[-PAGE_ROWS:][::-1],
            "round_count": round_count,
            "chambers": chambers,
            "market": market,
            "decay": self.snap(suite.get("SBGT"), "decay"),
            "params": self.snap(suite.get("TrainingRounds"), "params"),
            "total_slashed": self.snap(suite.get("TrainingRounds"), "totalSlashed"),
        }

    def round_page(self, hub: str, round_id: int) -> dict[str, Any]:
        suite = self.suite(hub)
        rounds = suite.get("TrainingRounds")
        if hub not in self.suites() or not rounds:
            raise NotFound(f"SubDAO {hub}")
        events = self.events(rounds, key=round_id)
        if not any(e.event == "RoundOpened" for e in events):
            raise NotFound(f"round {round_id} of {hub}")
        commits = [e for e in events if e.event == "UpdateCommitted"]
        commits.sort(key=lambda e: int(e.args["memberIndex"]))
        finalized = next((e for e in events if e.event == "RoundFinalized"), None)
        submitters = (
            [str(a) for a in finalized.args["submitters"]]
            if finalized
            else [str(e.args["contributor"]) for e in commits]
        )
        scores = [
            {
                "validator": e.args["validator"],
                "scores": [int(s) for s in e.args["scores"]],
                "event": e,
            }
            for e in events
            if e.event == "ScoresSubmitted"
        ]
        consensus = [int(x) for x in finalized.args["consensus"]] if finalized else []
        opened = next(e for e in events if e.event == "RoundOpened")
        outcome = next((e for e in events if e.event in ("RoundAccepted", "RoundRejected")), None)
        awards = []
        if outcome is not None and suite.get("SBGT"):
            awards = [
                self._event(r)
                for r in self.conn.execute(
                    "SELECT l.*, b.time FROM logs l JOIN blocks b ON b.number = l.block "
                    "WHERE l.tx = ? AND l.address = ? AND l.event IN "
                    "('PointsAwarded', 'IndexDecayed') ORDER BY l.log_index",
                    (outcome.tx, suite["SBGT"]),
                )
            ]
        decision = None
        for chamber in (suite.get("TechnicalChamber"),):
            for p in self.proposals(chamber) if chamber else []:
                if any(
                    a["target"] == rounds
                    and a["function"] in ("acceptRound", "rejectRound")
                    and a["args"] == [round_id]
                    for a in p["actions"]
                ):
                    decision = p
        count = int(
            self.conn.execute(
                "SELECT COUNT(*) FROM logs WHERE address = ? AND event = 'RoundOpened'", (rounds,)
            ).fetchone()[0]
        )
        phi_chart = charts.bar_chart(
            [(self._short(a), phi / 1e18) for a, phi in zip(submitters, consensus)],
            title="Consensus contribution φ by submitter",
            y_label="φ",
        )
        return {
            "phi_chart": phi_chart,
            "hub": hub,
            "label": self.labels().get(hub, hub),
            "suite": suite,
            "id": round_id,
            "opened": opened,
            "global_cid": opened.args["globalModelCid"],
            "deadline": int(opened.args["commitDeadline"]),
            "commits": commits,
            "submitters": submitters,
            "scores": scores,
            "consensus": consensus,
            "phi_sum": None if finalized is None else int(finalized.args["phiSum"]),
            "finalized": finalized,
            "metric": None if finalized is None else int(finalized.args["metric"]),
            "aggregate_cid": None if finalized is None else finalized.args["aggregateCid"],
            "slashes": [e for e in events if e.event == "ValidatorSlashed"],
            "votes": [e for e in events if e.event == "AggregateVoted"],
            "outcome": outcome,
            "status": "Open"
            if finalized is None and outcome is None
            else ("Finalized" if outcome is None else outcome.event[5:]),
            "awards": awards,
            "decision": decision,
            "previous": round_id - 1 if round_id > 1 else None,
            "next": round_id + 1 if round_id < count else None,
        }

    # -- marketplace --------------------------------------------------------------------

    def listings(self, market: str) -> list[dict[str, Any]]:
        requests = self.requests(market)
        per_listing: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for r in requests:
            per_listing[r["listing"]].append(r)
        out = []
        for e in self.events(market, "Listed"):
            lid = int(e.args["listingId"])
            params = e.args["params"]
            price = int(params["basePrice"])
            for p in self.events(market, "PriceSet", key=lid):
                price = int(p.args["basePrice"])
            delisted = self.events(market, "Delisted", key=lid)
            ranks = self.events(market, "RanksSet", key=lid)
            ranked = [str(a) for a in ranks[-1].args["ranked"]] if ranks else []
            n = len(ranked)
            plans = self.plans(market, lid)
            hub = str(e.args["subDAO"])
            state = self.snap(hub, "state")
            listing_snap = self.snap(market, "listing", lid) or {}
            reqs = per_listing[lid]
            out.append(
                {
                    "id": lid,
                    "market": market,
                    "subdao": hub,
                    "subdao_state": None if state is None else _name(SUBDAO_STATES, state),
                    "kind": _name(LISTING_KINDS, e.args["kind"]),
                    "domain": text32(e.args["domain"]),
                    "model_class": text32(e.args["modelClass"]),
                    "metric": text32(params["metricId"]),
                    "metric_value": int(params["metricValue"]),
                    "licence_cid": params["licenceCid"],
                    "model_card_cid": params["modelCardCid"],
                    "operator": params["operator"],
                    "timeout": int(params["timeout"]),
                    "token": self.token(str(e.args["token"])),
                    "version_at_listing": int(e.args["modelVersion"]),
                    "version": self.snap(market, "modelVersionOf", lid),
                    "base_price": price,
                    "prices": {
                        "External": price * 10,
                        "Requester": price * 3,
                        "Member (lowest rank)": price if n > 1 else 0,
                        "Member (top contributor)": 0,
                    },
                    "ranked": [
                        {"account": a, "rank": r, "price": 0 if n == 1 else price * r // (n - 1)}
                        for r, a in enumerate(ranked)
                    ],
                    "plans": plans,
                    "delisted": bool(delisted) or bool(listing_snap.get("delisted")),
                    "listed": e,
                    "requests": reqs,
                    "counts": {
                        s: sum(1 for r in reqs if r["status"] == s)
                        for s in ("Pending", "Fulfilled", "Refunded")
                    },
                    "revenue": sum(r["revenue"] or 0 for r in reqs),
                    "subscriptions": self.events(market, "Subscribed", key=lid),
                }
            )
        return out

    def plans(self, market: str, listing_id: int) -> list[dict[str, Any]]:
        plans: dict[int, dict[str, Any]] = {}
        for e in self.events(market, "PlanAdded", "PlanActiveSet", key=listing_id):
            pid = int(e.args["planId"])
            if e.event == "PlanAdded":
                plans[pid] = {
                    "id": pid,
                    "price": int(e.args["price"]),
                    "queries": int(e.args["queries"]),
                    "period": int(e.args["period"]),
                    "active": True,
                    "event": e,
                    "subscribers": 0,
                }
            elif pid in plans:
                plans[pid]["active"] = bool(e.args["active"])
        for e in self.events(market, "Subscribed", key=listing_id):
            pid = int(e.args["planId"])
            if pid in plans:
                plans[pid]["subscribers"] += 1
        return [plans[k] for k in sorted(plans)]

    def requests(self, market: str) -> list[dict[str, Any]]:
        listed = {int(e.args["listingId"]): e for e in self.events(market, "Listed")}
        prices: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for lid, e in listed.items():
            prices[lid].append((e.block, int(e.args["params"]["basePrice"])))
        for e in self.events(market, "PriceSet"):
            prices[int(e.args["listingId"])].append((e.block, int(e.args["basePrice"])))
        done: dict[str, Event] = {}
        for e in self.events(market, "Fulfilled", "Refunded"):
            done[str(e.key)] = e
        out = []
        for e in self.events(market, "Requested"):
            rid = int(e.args["requestId"])
            lid = rid >> 64
            base = 0
            for block, price in prices.get(lid, []):
                if block <= e.block:
                    base = price
            paid = int(e.args["paid"])
            if e.args["credit"]:
                tier = "Subscriber"
            elif paid == base * 10:
                tier = "External"
            elif paid == base * 3:
                tier = "Requester"
            else:
                tier = "Member"
            end = done.get(str(rid))
            out.append(
                {
                    "id": rid,
                    "listing": lid,
                    "number": rid & (2**64 - 1),
                    "payer": e.args["payer"],
                    "input_cid": e.args["inputCid"],
                    "paid": paid,
                    "credit": bool(e.args["credit"]),
                    "deadline": int(e.args["deadline"]),
                    "tier": tier,
                    "status": "Pending" if end is None else end.event,
                    "output_cid": None
                    if end is None or end.event != "Fulfilled"
                    else end.args["outputCid"],
                    "revenue": None
                    if end is None or end.event != "Fulfilled"
                    else int(end.args["revenue"]),
                    "requested": e,
                    "closed": end,
                }
            )
        return out

    def market_page(self) -> dict[str, Any]:
        markets = [
            {"address": m, "listings": self.listings(m)} for m in self.by_role("Marketplace")
        ]
        return {"markets": markets}

    def listing_page(self, market: str, listing_id: int) -> dict[str, Any]:
        if market not in self.by_role("Marketplace"):
            raise NotFound(f"marketplace {market}")
        for listing in self.listings(market):
            if listing["id"] == listing_id:
                return listing
        raise NotFound(f"listing {listing_id}")

    # -- revenue ------------------------------------------------------------------------

    def revenue(self, hub: str) -> dict[str, Any]:
        suite = self.suite(hub)
        splitter = suite.get("RevenueSplitter")
        token = self.token(self.snap(hub, "paymentToken"))
        received = {"amount": 0, "platform": 0, "treasury": 0, "sbgt": 0, "sdt": 0}
        cumulative: list[tuple[float, float]] = []
        sources: dict[str, int] = defaultdict(int)
        for e in self.events(splitter, "RevenueReceived") if splitter else []:
            received["amount"] += int(e.args["amount"])
            received["platform"] += int(e.args["toPlatform"])
            received["treasury"] += int(e.args["toTreasury"])
            received["sbgt"] += int(e.args["toSBGT"])
            received["sdt"] += int(e.args["toSDT"])
            sources[str(e.args["from"])] += int(e.args["amount"])
            cumulative.append((e.block, received["amount"] / 10 ** token["decimals"]))
        claimed_sdt: dict[str, int] = defaultdict(int)
        claimed_sbgt: dict[str, int] = defaultdict(int)
        released = {"platform": 0, "treasury": 0}
        dust = 0
        for e in (
            self.events(
                splitter,
                "SDTRevenueClaimed",
                "SBGTRevenueClaimed",
                "TreasuriesReleased",
                "EpochDustSwept",
                "DustSwept",
            )
            if splitter
            else []
        ):
            if e.event == "SDTRevenueClaimed":
                claimed_sdt[str(e.args["account"])] += int(e.args["amount"])
            elif e.event == "SBGTRevenueClaimed":
                claimed_sbgt[str(e.args["account"])] += int(e.args["amount"])
            elif e.event == "TreasuriesReleased":
                released["platform"] += int(e.args["toPlatform"])
                released["treasury"] += int(e.args["toSubDAO"])
            else:
                dust += int(e.args["amount"])
        accrued = self.snap(splitter, "accrued") or {}
        claimable_sdt = (
            {
                str(r["key"]): json.loads(r["value"])
                for r in self.conn.execute(
                    "SELECT key, value FROM snapshots WHERE address = ? AND name = 'claimableSDT'",
                    (splitter,),
                )
            }
            if splitter
            else {}
        )
        claimable_sbgt = (
            {
                str(r["key"]): json.loads(r["value"])
                for r in self.conn.execute(
                    "SELECT key, value FROM snapshots WHERE address = ? AND name = 'claimablePools'",
                    (splitter,),
                )
            }
            if splitter
            else {}
        )
        sdt_accounts = sorted(set(claimed_sdt) | {a for a, v in claimable_sdt.items() if v})
        sbgt_accounts = sorted(
            set(claimed_sbgt) | {a for a, v in claimable_sbgt.items() if int(v["total"])}
        )
        pools = []
        for e in self.events(splitter, "PoolOpened") if splitter else []:
            pid = int(e.args["poolId"])
            snap = self.snap(splitter, "epochPool", pid) or {}
            pools.append(
                {
                    "id": pid,
                    "version": int(e.args["version"]),
                    "phi_sum": int(e.args["phiSum"]),
                    "ends_at": int(e.args["endsAt"]),
                    "amount": snap.get("amount"),
                    "over": self.snap(splitter, "poolOver", pid),
                    "dust_swept": snap.get("dustSwept"),
                    "event": e,
                }
            )
        totals = self.snap(splitter, "totals") or {}
        parties: list[dict[str, Any]] = [
            {
                "party": "platform treasury",
                "share": received["platform"],
                "claimed": released["platform"],
                "claimable": int(accrued.get("platform", 0)),
            },
            {
                "party": "SubDAO treasury",
                "share": received["treasury"] + dust,
                "claimed": released["treasury"],
                "claimable": int(accrued.get("subDAOTreasury", 0)),
            },
            {
                "party": "SBGT contributors (φ)",
                "share": received["sbgt"],
                "claimed": sum(claimed_sbgt.values()),
                "claimable": sum(int(v["total"]) for v in claimable_sbgt.values()),
            },
            {
                "party": "SDT holders",
                "share": received["sdt"],
                "claimed": sum(claimed_sdt.values()),
                "claimable": sum(int(v) for v in claimable_sdt.values()),
            },
        ]
        for p in parties:
            p["pending"] = max(0, p["share"] - p["claimed"] - p["claimable"])
        unit = 10 ** token["decimals"]
        party_chart = charts.stacked_bars(
            [p["party"] for p in parties],
            [
                ("claimed / released", [p["claimed"] / unit for p in parties]),
                ("claimable now", [p["claimable"] / unit for p in parties]),
                ("not yet claimable", [p["pending"] / unit for p in parties]),
            ],
            title="Revenue by party",
            y_label=token["symbol"],
        )
        cumulative_chart = charts.line_chart(
            [charts.Series("received", _thin(cumulative))],
            title="Revenue received over time",
            x_label="block",
            y_label=token["symbol"],
        )
        return {
            "party_chart": party_chart,
            "cumulative_chart": cumulative_chart,
            "hub": hub,
            "label": self.labels().get(hub, hub),
            "splitter": splitter,
            "token": token,
            "received": received,
            "totals": totals,
            "shares": self.snap(splitter, "shares"),
            "parties": parties,
            "cumulative": _thin(cumulative),
            "sources": dict(sources),
            "sdt": [
                {
                    "account": a,
                    "claimed": claimed_sdt.get(a, 0),
                    "claimable": int(claimable_sdt.get(a, 0) or 0),
                }
                for a in sdt_accounts
            ],
            "sbgt": [
                {
                    "account": a,
                    "claimed": claimed_sbgt.get(a, 0),
                    "claimable": int((claimable_sbgt.get(a) or {"total": 0})["total"]),
                }
                for a in sbgt_accounts
            ],
            "pools": pools,
            "carry": self.snap(splitter, "sdtCarry"),
            "retired": self.snap(splitter, "retired"),
            "epoch_length": self.snap(splitter, "epochLength"),
            "first_revenue_at": self.snap(splitter, "firstRevenueAt"),
        }

    def revenue_page(self) -> dict[str, Any]:
        suites = [self.revenue(h) for h in self.suites()]
        unit = 10**18
        split_chart = charts.stacked_bars(
            [v["label"] for v in suites],
            [
                (name, [v["received"][key] / unit for v in suites])
                for name, key in (
                    ("platform", "platform"),
                    ("SubDAO treasury", "treasury"),
                    ("SBGT (φ)", "sbgt"),
                    ("SDT", "sdt"),
                )
            ],
            title="Revenue received by SubDAO, split by party",
            y_label="token units",
        )
        return {"suites": suites, "split_chart": split_chart}

    # -- generic pages ------------------------------------------------------------------

    def tx_page(self, tx: str) -> dict[str, Any]:
        rows = self.conn.execute(
            "SELECT l.*, b.time FROM logs l JOIN blocks b ON b.number = l.block "
            "WHERE l.tx = ? ORDER BY l.log_index",
            (tx.lower(),),
        ).fetchall()
        if not rows:
            raise NotFound(f"transaction {tx}")
        events = [self._event(r) for r in rows]
        return {
            "tx": tx.lower(),
            "block": events[0].block,
            "time": events[0].time,
            "events": events,
        }

    def block_page(self, number: int) -> dict[str, Any]:
        row = self.conn.execute("SELECT * FROM blocks WHERE number = ?", (number,)).fetchone()
        if row is None:
            raise NotFound(f"block {number}")
        events = [
            self._event(r)
            for r in self.conn.execute(
                "SELECT l.*, b.time FROM logs l JOIN blocks b ON b.number = l.block "
                "WHERE l.block = ? ORDER BY l.log_index",
                (number,),
            )
        ]
        return {"number": number, "hash": row["hash"], "time": int(row["time"]), "events": events}

    def address_page(self, address: str, *, limit: int = 200) -> dict[str, Any]:
        contract = self.contracts().get(address)
        mentioned = [
            self._event(r)
            for r in self.conn.execute(
                "SELECT l.*, b.time FROM logs l JOIN blocks b ON b.number = l.block WHERE l.id IN "
                "(SELECT DISTINCT log FROM mentions WHERE address = ? ORDER BY log DESC LIMIT ?) "
                "ORDER BY l.block DESC, l.log_index DESC",
                (address, limit),
            )
        ]
        emitted = [
            self._event(r)
            for r in self.conn.execute(
                "SELECT l.*, b.time FROM logs l JOIN blocks b ON b.number = l.block "
                "WHERE l.address = ? ORDER BY l.block DESC, l.log_index DESC LIMIT ?",
                (address, limit),
            )
        ]
        if contract is None and not mentioned:
            raise NotFound(f"address {address}")
        holdings = []
        member = next((m for m in self.members() if m["account"] == address), None)
        for hub in self.suites():
            suite = self.suite(hub)
            points = self.points_of(suite.get("SBGT"), address)
            balance = self.sdt_balance_of(suite.get("SDT"), address)
            if points is not None or balance is not None:
                holdings.append({"hub": hub, "points": points, "sdt": balance})
        return {
            "address": address,
            "contract": None if contract is None else dict(contract),
            "label": self.labels().get(address),
            "member": member,
            "holdings": holdings,
            "mentioned": mentioned,
            "emitted": emitted,
            "limit": limit,
        }

    def cid_page(self, cid: str) -> dict[str, Any]:
        refs = [
            (str(r["field"]), self._event(r))
            for r in self.conn.execute(
                "SELECT c.field, l.*, b.time FROM cids c JOIN logs l ON l.id = c.log "
                "JOIN blocks b ON b.number = l.block WHERE c.cid = ? ORDER BY l.block, l.log_index",
                (cid,),
            )
        ]
        if not refs:
            raise NotFound(f"CID {cid}")
        doc = self.document(cid)
        preview = None
        if doc is not None and doc["body"] is not None and doc["json"] is None:
            body = doc["body"]
            preview = body[:512].hex(" ", 16)
        return {
            "cid": cid,
            "refs": refs,
            "document": doc,
            "pretty": None
            if doc is None or doc["json"] is None
            else json.dumps(doc["json"], indent=2, sort_keys=True),
            "preview": preview,
        }

    def status(self) -> dict[str, Any]:
        counts = {
            table: int(self.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
            for table in ("logs", "contracts", "snapshots", "documents", "blocks")
        }
        return {**self.head(), "counts": counts}


def _metric_chart(rounds: Sequence[Mapping[str, Any]]) -> Any:
    points = [(r["id"], r["metric"] / 1e6) for r in rounds if r["metric"] is not None]
    return charts.line_chart(
        [charts.Series("validation metric", _thin(points))],
        title="Validation metric of the aggregate by round",
        x_label="round",
        y_label="metric",
    )


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        from eth_utils import to_checksum_address

        return str(to_checksum_address(value))
    return value
