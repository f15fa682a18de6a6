"""The marketplace's paid requests as the chain port knows them: :class:`RequestBook`.

A request is known from the ``Requested`` event (or from the port's own payment); its tier
is not in the event, so it is read from the listing's pricing, which does not change while
requests are served (ranking, requester). Once the book has seen a request it keeps it, and
a request the port paid itself is fulfilled only by the port's operator, so its output is
known without reading ``Fulfilled`` logs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flai.chain.abi import PriceTier, Request
from flai.chain.errors import ChainError
from flai.chain.plumbing import Contract
from flai.pipeline.ports import PaidRequest, Tier

__all__ = ["PaidRecord", "RequestBook", "pipeline_tier"]


def pipeline_tier(tier: PriceTier) -> Tier:
    """The pipeline's tier of a marketplace tier (a subscriber pays as an external user)."""
    return Tier.EXTERNAL if tier is PriceTier.SUBSCRIBER else Tier[tier.name]


@dataclass
class PaidRecord:
    """What the port knows of a paid request (the tier is not in the ``Requested`` event)."""

    kind: str
    user: str
    input_cid: str
    tier: PriceTier
    record: Request
    output_cid: str | None = None
    watched: bool = False
    """Paid through this port: it saw the request created, and the operator account that
    alone can fulfil it is the port's, so ``output_cid`` is known without reading logs."""


class RequestBook:
    """The paid requests of one marketplace, read once each.

    Parameters
    ----------
    market
        The ``Marketplace``.
    logs
        ``logs(contract, event, **filters)`` since the deployment's first block.
    name_of
        Party name of an address.
    fa_listing
        The federated-analytics listing id (0 if none): its requests are queries.
    """

    def __init__(
        self,
        *,
        market: Contract,
        logs: Callable[..., list[Mapping[str, Any]]],
        name_of: Callable[[Any], str],
        fa_listing: Callable[[], int],
    ) -> None:
        self._market = market
        self._logs = logs
        self._name_of = name_of
        self._fa_listing = fa_listing
        self._paid: dict[int, PaidRecord] = {}

    def paid(self, request_id: int, record: PaidRecord) -> None:
        """Record a request the port paid itself."""
        self._paid[request_id] = record

    def load(self, request_id: int) -> PaidRecord | None:
        """The request ``request_id`` (from its ``Requested`` event the first time), or None."""
        if request_id not in self._paid:
            found = self._logs(self._market, "Requested", requestId=request_id)
            if not found:
                return None
            self._paid[request_id] = self._from_log(found[-1])
        return self._paid[request_id]

    def _from_log(self, log: Mapping[str, Any]) -> PaidRecord:
        args = log["args"]
        rid = int(args["requestId"])
        fa = self._fa_listing()
        _, tier = self._market.priceOf(rid >> 64, args["payer"])
        return PaidRecord(
            kind="query" if fa and rid >> 64 == fa else "inference",
            user=self._name_of(args["payer"]),
            input_cid=str(args["inputCid"]),
            tier=PriceTier(int(tier)),
            record=Request.from_event(args),
        )

    def _seen(self, log: Mapping[str, Any]) -> int:
        rid = int(log["args"]["requestId"])
        if rid not in self._paid:
            self._paid[rid] = self._from_log(log)
        return rid

    def find(self, *, payer: str, input_cid: str) -> int | None:
        """The first request ``payer`` paid for ``input_cid``, or None."""
        for log in self._logs(self._market, "Requested", payer=payer):
            if str(log["args"]["inputCid"]) == input_cid:
                return self._seen(log)
        return None

    def of_listing(self, *, payer: str, listing: int) -> list[int]:
        """The requests ``payer`` paid on ``listing``, oldest first."""
        return [
            self._seen(log)
            for log in self._logs(self._market, "Requested", payer=payer)
            if int(log["args"]["requestId"]) >> 64 == listing
        ]

    def view(self, request_id: int) -> PaidRequest:
        """The pipeline's view of the request (its output once fulfilled)."""
        req = self.load(request_id)
        if req is None:
            raise ChainError(f"unknown request {request_id}")
        if req.output_cid is None and not req.watched:
            found = self._logs(self._market, "Fulfilled", requestId=request_id)
            if found:
                req.output_cid = str(found[-1]["args"]["outputCid"])
        return PaidRequest(
            request_id=request_id,
            kind=req.kind,
            user=req.user,
            input_cid=req.input_cid,
            fee=req.record.paid,
            tier=pipeline_tier(req.tier),
            output_cid=req.output_cid,
        )
