"""Training rounds of a SubDAO and the contributors and validators taking part in them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flai.explorer import charts
from flai.explorer.queries.base import NotFound, thin
from flai.explorer.queries.governance import Governance
from flai.explorer.queries.names import REVOCATION_REASONS, name_of

__all__ = ["ROUNDS_PER_PAGE", "Rounds", "metric_chart"]

#: Rounds per page of a SubDAO's list of rounds.
ROUNDS_PER_PAGE = 200


class Rounds(Governance):
    """Round and membership queries over the index (a round's accepting proposal comes from
    :class:`Governance`)."""

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
                    c["reason"] = name_of(REVOCATION_REASONS, e.args["reason"])
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
            "metric_chart": metric_chart(rounds),
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


def metric_chart(rounds: Sequence[Mapping[str, Any]]) -> Any:
    points = [(r["id"], r["metric"] / 1e6) for r in rounds if r["metric"] is not None]
    return charts.line_chart(
        [charts.Series("validation metric", thin(points))],
        title="Validation metric of the aggregate by round",
        x_label="round",
        y_label="metric",
    )
