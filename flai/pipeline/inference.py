"""Paid secret-shared inference through the ledger and IPFS (001 §5.4, 000 §6.5.1).

Per request ``i`` from a model user:

1. the user fixed-point encodes its query x, replicated-shares it and seals each node's
   part (:meth:`flai.mpc.InferenceClient.seal_query`); the sealed query goes to IPFS;
2. the user pays through the ledger with that CID as the encrypted input
   (``request_inference``; the ledger charges the user's tier price);
3. the available compute nodes (≥ t + 1) fetch the query, evaluate the logit
   z = w·x + b with a Beaver triple on their shares of the accepted model, and seal their
   logit shares to the user's key; the sealed shares go to IPFS and the CID is posted
   as the request's output (``fulfil``);
4. the user fetches the output by the CID on the ledger, reconstructs z and applies the
   sigmoid itself.

Every ledger write and put is a journal step, so a rerun neither pays twice nor loses a
request. The compute nodes see only shares and the opened Beaver masks; the triple
dealer is trusted (see :mod:`flai.mpc.inference`). The user's key is its persistent
X25519 key (:class:`~flai.pipeline.roles.ModelUser`), so a rerun can still open outputs
sealed before a crash.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from flai.fl import LogisticModel
from flai.mpc import (
    InferenceClient,
    InferenceConfig,
    InferenceNode,
    MPCError,
    TripleDealer,
    share_model,
)
from flai.pipeline.codec import (
    decode_outputs,
    decode_sealed_shares,
    encode_outputs,
    encode_sealed_shares,
)
from flai.pipeline.errors import MalformedBlobError, ThresholdUnavailableError
from flai.pipeline.journal import Journal
from flai.pipeline.ports import ChainPort
from flai.pipeline.roles import ComputeNode, ModelUser
from flai.pipeline.round_flow import fetch
from flai.storage import Storage

__all__ = ["InferenceOutcome", "SecretSharedService", "serve_inference"]


@dataclass(frozen=True)
class InferenceOutcome:
    """One served request."""

    index: int
    request_id: int
    user: str
    tier: str
    fee: int
    input_cid: str
    output_cid: str
    probability: float
    plaintext: float

    def to_json(self) -> dict[str, Any]:
        """A JSON-compatible dict."""
        return dict(self.__dict__)


class SecretSharedService:
    """The accepted model, replicated-shared among the compute nodes, with a triple dealer.

    Parameters
    ----------
    model
        The accepted model; its plaintext is used to share it and then only for the
        comparison the tests make.
    nodes
        The compute nodes (their keys receive the sealed queries).
    config
        Sharing parameters (n, t, f).
    """

    def __init__(
        self, *, model: LogisticModel, nodes: Sequence[ComputeNode], config: InferenceConfig
    ) -> None:
        self.config = config
        shares = share_model(model.weights, model.bias, config=config)
        self.nodes = {
            n.index: InferenceNode(
                index=n.index, config=config, model=shares[n.index], keypair=n.keypair
            )
            for n in nodes
        }
        self._dealer = TripleDealer(config=config)
        self._length = model.num_features

    @property
    def public_keys(self) -> dict[int, bytes]:
        """Node index → X25519 public key."""
        return {j: node.public_key for j, node in self.nodes.items()}

    def evaluate(
        self, query: bytes, *, query_id: int, user_public: bytes, available: Sequence[int]
    ) -> bytes:
        """Run the Beaver-triple logit on a sealed query; return the sealed outputs blob.

        Raises
        ------
        MalformedBlobError
            The query does not decode, has the wrong length or does not open (the
            user's fault; nothing is evaluated).
        ThresholdUnavailableError
            Fewer than t + 1 nodes available.
        """
        need = self.config.threshold + 1
        if len(available) < need:
            raise ThresholdUnavailableError(
                step=f"inference/{query_id}", available=len(available), required=need
            )
        sealed = decode_sealed_shares(query, kind="inference-query")
        if sealed.length != self._length:
            raise MalformedBlobError(
                kind="inference-query",
                field="shares.length",
                reason=f"{sealed.length} features for a model of {self._length}",
            )
        dealt = self._dealer.deal(self._length)
        for node in self.nodes.values():
            node.add_triples([dealt[node.index]])
        active = [self.nodes[j] for j in available]
        triple_id = max(n.next_triple_id or 0 for n in active)
        scheme = self.config.scheme
        try:
            shares = {n.index: n.open_query(sealed, query_id=query_id) for n in active}
        except (MPCError, ValueError) as exc:
            raise MalformedBlobError(
                kind="inference-query", field="shares.envelope", reason=str(exc)
            ) from exc
        masked = [n.mask(query_id, shares[n.index], triple_id=triple_id) for n in active]
        epsilon = scheme.reconstruct([m[0] for m in masked])
        delta = scheme.reconstruct([m[1] for m in masked])
        envelopes = {
            n.index: n.seal_output(
                n.logit(query_id, triple_id=triple_id, epsilon=epsilon, delta=delta),
                client_public=user_public,
                query_id=query_id,
            )
            for n in active
        }
        return encode_outputs(envelopes)


def serve_inference(
    *,
    service: SecretSharedService,
    model: LogisticModel,
    requests: Sequence[tuple[ModelUser, np.ndarray]],
    port: ChainPort,
    storage: Storage,
    journal: Journal,
    available: Sequence[int],
    by_position: bool = False,
) -> list[InferenceOutcome]:
    """Serve paid requests ``(user, x)`` in order (resumable; see the module docstring).

    Sealing a query is randomized, so a journal that lost a request's input CID cannot find
    its payment by that CID. With ``by_position`` (for a caller whose listing serves only
    these requests, like the lifecycle's own), the key of a request is deterministic
    instead: the ``k``-th request of a user in ``requests`` is that user's ``k``-th paid
    inference on the ledger, whose input CID is then taken from the ledger and served;
    a request is paid only if the ledger has no such payment."""
    out = []
    seen: dict[str, int] = {}
    for i, (user, x) in enumerate(requests):
        key = f"inference/{i}"
        client = InferenceClient(config=service.config, keypair=user.keypair)
        position = seen.get(user.name, 0)
        seen[user.name] = position + 1

        def seal(client: InferenceClient = client, x: np.ndarray = x, i: int = i) -> str:
            sealed = client.seal_query(x, service.public_keys, query_id=i)
            return storage.put(encode_sealed_shares(sealed, kind="inference-query"))

        def sealed_and_paid(user: ModelUser = user, k: int = position) -> str | None:
            prior = port.requests_of(user=user.name, kind="inference")
            return prior[k].input_cid if len(prior) > k else None

        input_cid = str(
            journal.once(f"{key}/input", seal, probe=sealed_and_paid if by_position else None)
        )

        def pay(user: ModelUser = user, cid: str = input_cid) -> int:
            return port.request_inference(user=user.name, input_cid=cid).request_id

        def paid(user: ModelUser = user, cid: str = input_cid) -> int | None:
            found = port.find_request(user=user.name, input_cid=cid)
            return None if found is None else found.request_id

        request_id = int(journal.once(f"{key}/request", pay, probe=paid))
        if port.request(request_id).output_cid is None and not journal.is_done(f"{key}/fulfil"):

            def evaluate(user: ModelUser = user, i: int = i, cid: str = input_cid) -> str:
                query = fetch(storage, cid, step=f"inference/{i}/output")
                blob = service.evaluate(
                    query, query_id=i, user_public=user.keypair.public_bytes, available=available
                )
                return storage.put(blob)

            output_cid = str(journal.once(f"{key}/output", evaluate))

            def deliver(rid: int = request_id, cid: str = output_cid) -> str:
                port.fulfil(request_id=rid, output_cid=cid)
                return cid

            def delivered(rid: int = request_id) -> str | None:
                return port.request(rid).output_cid

            journal.once(f"{key}/fulfil", deliver, probe=delivered)
        request = port.request(request_id)
        assert request.output_cid is not None
        outputs = client.open_outputs(
            decode_outputs(fetch(storage, request.output_cid, step=f"{key}/read")), query_id=i
        )
        out.append(
            InferenceOutcome(
                index=i,
                request_id=request_id,
                user=user.name,
                tier=request.tier.value,
                fee=request.fee,
                input_cid=input_cid,
                output_cid=request.output_cid,
                probability=client.probability(outputs),
                plaintext=float(model.predict_proba(np.asarray(x, dtype=np.float64)[None, :])[0]),
            )
        )
    return out
