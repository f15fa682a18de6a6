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
from typing import Any

import numpy as np

from flai.fl import Dataset
from flai.mpc import AnalyticsConfig, secure_describe
from flai.pipeline.journal import Journal
from flai.pipeline.ports import ChainPort
from flai.storage import Storage

__all__ = ["run_fa_query"]


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
) -> dict[str, Any]:
    """Run (or resume) the query; return the result document with its CIDs and fee."""
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
    return {
        "request_id": request_id,
        "user": user,
        "fee": request.fee,
        "query_cid": query_cid,
        "result_cid": result_cid,
        "features": list(features),
        **{k: document[k] for k in ("count", "mean", "variance", "correlation")},
    }
