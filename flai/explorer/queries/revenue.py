"""Revenue of each SubDAO's splitter: received, split by party, claimed and claimable."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from flai.explorer import charts
from flai.explorer.queries.base import ReaderBase, thin

__all__ = ["Revenue"]


class Revenue(ReaderBase):
    """Revenue queries over the index."""

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
            [charts.Series("received", thin(cumulative))],
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
            "cumulative": thin(cumulative),
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
