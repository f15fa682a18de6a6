"""The marketplace: listings, their prices and plans, and inference requests."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from flai.explorer.fmt import text32
from flai.explorer.queries.base import Event, NotFound, ReaderBase
from flai.explorer.queries.names import LISTING_KINDS, SUBDAO_STATES, name_of

__all__ = ["Market"]


class Market(ReaderBase):
    """Marketplace queries over the index."""

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
                    "subdao_state": None if state is None else name_of(SUBDAO_STATES, state),
                    "kind": name_of(LISTING_KINDS, e.args["kind"]),
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
