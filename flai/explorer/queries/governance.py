"""Proposals of the SuperDAO governor and of the SubDAO chambers: votes, kind, state and
decoded actions.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import eth_abi
from eth_abi.exceptions import DecodingError

from flai.explorer.queries.base import Event, NotFound, ReaderBase
from flai.explorer.queries.names import (
    CHAMBER_KINDS,
    PROPOSAL_STATES,
    SUPERDAO_KINDS,
    SUPPORT,
    name_of,
)

__all__ = ["Governance"]


class Governance(ReaderBase):
    """Proposal queries over the index."""

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
            votes[str(e.key)][name_of(SUPPORT, e.args["support"])] += int(e.args["weight"])
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
                kind_name = None if kind is None else name_of(SUPERDAO_KINDS, kind)
                threshold = self.snap(governor, "proposalApprovalThresholdBps", pid)
            else:
                kind = kind_events.get(pid)
                kind_name = None if kind is None else name_of(CHAMBER_KINDS, kind)
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
                    "state": None if state is None else name_of(PROPOSAL_STATES, state),
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
                        "support": name_of(SUPPORT, e.args["support"]),
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


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        from eth_utils import to_checksum_address

        return str(to_checksum_address(value))
    return value
