"""One paid federated-analytics query over the hospitals (001 §4.2, eq. 4; 001 §7.3).

The requester describes the query (feature columns, statistics) in a JSON document on
IPFS and pays for it through the ledger; the sites' local sufficient statistics are
sealed as replicated shares to the compute nodes, which add them and reconstruct only the
population statistics (:func:`flai.mpc.secure_describe`: count, mean, variance,
correlation); the result document goes to IPFS and its CID is posted as the request's
output. No site's statistics are revealed. Resumable like every other step.

Note: :func:`flai.mpc.secure_describe` runs the sites and nodes in one process with
per-query node keys; the nodes' availability is honoured (``available_nodes``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from flai.fl import Dataset
from flai.mpc import AnalyticsConfig, secure_describe
from flai.pipeline.journal import Journal
from flai.pipeline.ports import ChainPort
from flai.storage import Storage

__all__ = ["AnalyticsOutcome", "run_fa_query"]


@dataclass(frozen=True)
class AnalyticsOutcome:
    """A served federated-analytics query: the paid request, the CIDs of the query and of
    its result, and the population statistics (with, for checking, the plaintext ones the
    pipeline computed over the pooled data when it has them)."""

    request_id: int
    user: str
    fee: int
    query_cid: str
    result_cid: str
    features: tuple[int, ...]
    count: int
    mean: tuple[float, ...]
    variance: tuple[float, ...]
    correlation: tuple[tuple[float, ...], ...]
    plaintext_mean: tuple[float, ...] = ()
    plaintext_variance: tuple[float, ...] = ()

    def with_plaintext(
        self, *, mean: Sequence[float], variance: Sequence[float]
    ) -> AnalyticsOutcome:
        """This outcome with the plaintext reference statistics."""
        return replace(self, plaintext_mean=tuple(mean), plaintext_variance=tuple(variance))

    def to_json(self) -> dict[str, Any]:
        """A JSON-compatible dict."""
        return {
            "request_id": self.request_id,
            "user": self.user,
            "fee": self.fee,
            "query_cid": self.query_cid,
            "result_cid": self.result_cid,
            "features": list(self.features),
            "count": self.count,
            "mean": list(self.mean),
            "variance": list(self.variance),
            "correlation": [list(r) for r in self.correlation],
            "plaintext_mean": list(self.plaintext_mean),
            "plaintext_variance": list(self.plaintext_variance),
        }


def run_fa_query(
    *,
    sites: Sequence[Dataset],
    features: Sequence[int],
    user: str,
    price: int,
    port: ChainPort,
    storage: Storage,
    journal: Journal,
    config: AnalyticsConfig,
    available: Sequence[int],
) -> AnalyticsOutcome:
    """Run (or resume) the query; return the outcome with its CIDs and fee."""
    spec = {"kind": "describe", "features": list(features), "sites": [s.name for s in sites]}
    query_cid = journal.once("fa/query", lambda: storage.put_json(spec))

    def pay() -> int:
        return port.request_query(user=user, query_cid=query_cid, price=price).request_id

    def paid() -> int | None:
        found = port.find_request(user=user, input_cid=query_cid)
        return None if found is None else found.request_id

    request_id = int(journal.once("fa/request", pay, probe=paid))

    def compute() -> str:
        summary = secure_describe(
            [np.asarray(s.X[:, list(features)]) for s in sites],
            config=config,
            available_nodes=list(available),
        )
        return storage.put_json(
            {
                "query": query_cid,
                "count": summary.count,
                "mean": summary.mean.tolist(),
                "variance": summary.variance.tolist(),
                "correlation": summary.correlation.tolist(),
            }
        )

    def deliver() -> str:
        cid = journal.once("fa/result", compute)
        port.fulfil(request_id=request_id, output_cid=cid)
        return cid

    result_cid = journal.once(
        "fa/fulfil", deliver, probe=lambda: port.request(request_id).output_cid
    )
    document = storage.get_json(result_cid)
    request = port.request(request_id)
    return AnalyticsOutcome(
        request_id=request_id,
        user=user,
        fee=request.fee,
        query_cid=query_cid,
        result_cid=result_cid,
        features=tuple(features),
        count=int(document["count"]),
        mean=tuple(float(v) for v in document["mean"]),
        variance=tuple(float(v) for v in document["variance"]),
        correlation=tuple(tuple(float(v) for v in row) for row in document["correlation"]),
    )
