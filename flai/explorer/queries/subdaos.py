"""A SubDAO's page: its suite, lifecycle, crowdfund, holders, chambers and fork lineage."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from flai.explorer import charts
from flai.explorer.fmt import text32
from flai.explorer.queries.base import CHART_POINTS, Event, NotFound, thin
from flai.explorer.queries.holdings import Holdings
from flai.explorer.queries.names import SUBDAO_STATES, ZERO, name_of
from flai.explorer.queries.rounds import Rounds, metric_chart

__all__ = ["PAGE_ROWS", "STATE_ROWS", "SubDAOs"]

#: Rows of a long list shown on an overview page (the newest first).
PAGE_ROWS = 100
#: Lifecycle transitions listed on a SubDAO page (the newest; each round adds two).
STATE_ROWS = 12


class SubDAOs(Rounds, Holdings):
    """SubDAO queries over the index."""

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
            "state": None if state is None else name_of(SUBDAO_STATES, state),
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
                "from": name_of(SUBDAO_STATES, e.args["previous"]),
                "to": name_of(SUBDAO_STATES, e.args["next"]),
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
            charts.Series(self._short(a), thin([(b, p / 1e18) for b, p in history]))
            for a, history in points["history"].items()
        ]
        return {
            **summary,
            "metric_chart": metric_chart(rounds),
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
