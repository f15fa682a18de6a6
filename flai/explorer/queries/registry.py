"""The RFM registry: submitted requests for models, their specs, endorsements and decisions."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from flai.explorer.fmt import text32
from flai.explorer.queries.base import Event, NotFound
from flai.explorer.queries.governance import Governance
from flai.explorer.queries.names import RFM_STATUS, ZERO, name_of

__all__ = ["Registry"]


class Registry(Governance):
    """RFM queries over the index (the approving proposals come from :class:`Governance`)."""

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
                name_of(RFM_STATUS, record["status"])
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
