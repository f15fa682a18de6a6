"""One training round through the parties, IPFS and the chain port.

Data flow of round ``t`` (001 §3.1–3.3, §5.2; FLock/DIN for scoring and consensus):

1. the global model is stored on IPFS and the round opened on the ledger with its CID;
2. each custodian trains locally (:mod:`flai.fl`, seed ``[seed, t, k]`` as the engine),
   seals its serialized update once for all validators (X25519 envelopes) and as
   replicated shares for the compute nodes, stores that bundle on IPFS and commits the
   bundle's CID;
3. the commit window closes; each validator fetches every committed bundle by the CID on
   the ledger, opens its envelope, checks the update (shape, finite, norm), scores the
   accepted ones on its private holdout (Shapley, :func:`flai.fl.score_contributions`,
   seed ``[seed, t, 2²⁰ + v]`` as the engine) and submits its φ·1e18 vector;
4. consensus φ is the lower stake-weighted median of the submitted vectors
   (:func:`~flai.pipeline.consensus.stake_weighted_median`, the contract's rule);
5. the available compute nodes (at least t + 1) open their shares of the updates with
   φ > 0 and compute φ-weighted FedAvg on shares (:mod:`flai.mpc.secure_aggregation`);
   t + 1 partials reconstruct the aggregate, whose serialization
   (:meth:`flai.fl.LogisticModel.to_bytes`) is stored on IPFS;
6. the aggregate CID and the validators' median AUC (·1e6) are posted; the ledger's
   consensus is checked against step 4; validators vote (approve iff the aggregate's AUC
   on their holdout is not below the previous model's minus a tolerance) and the round
   is settled (accept iff aggVote ≥ 0, 003 §VI.E).

Every ledger write and IPFS put is a journal step (:class:`~flai.pipeline.journal.Journal`),
so rerunning the round after a crash continues where it stopped. Deterministic parts
(training, scoring, the aggregate and its CID) are recomputed rather than stored.

Trust model, stated plainly: validators see every individual update in plaintext (they
must, to score it on their holdout); compute nodes see only replicated shares of the
updates with φ > 0, and t + 1 of them reconstruct the aggregate, which is then published
on IPFS in plaintext so anyone can verify the CID accepted on chain; IPFS holds only
sealed bundles (plus their round, sender and sample count) and the public models; the
ledger holds CIDs, scores and metrics.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from flai.fl import (
    Flag,
    LogisticModel,
    RoundConfig,
    SerializationError,
    UpdateCheckError,
    check_update,
    metric_to_fixed,
    phi_to_fixed,
    score_contributions,
)
from flai.mpc import (
    AggregationClient,
    AggregationConfig,
    AggregationNode,
    EnvelopeError,
    ProtocolError,
    ThresholdError,
    encode_weights,
    open_for,
    reconstruct_aggregate,
    seal_for_many,
)
from flai.pipeline.codec import decode_bundle, encode_bundle, update_aad
from flai.pipeline.consensus import stake_weighted_median
from flai.pipeline.errors import (
    ConsensusMismatchError,
    PipelineError,
    StorageUnavailableError,
    ThresholdUnavailableError,
)
from flai.pipeline.journal import Journal
from flai.pipeline.ports import ChainPort, RoundPhase
from flai.pipeline.roles import ComputeNode, Hospital, Validator
from flai.storage import Storage, UnreachableError

__all__ = [
    "Federation",
    "RoundRecord",
    "ValidatorAssessment",
    "assess",
    "fetch",
    "run_round_flow",
    "secure_aggregate",
]


@dataclass(frozen=True, eq=False)
class Federation:
    """The parties and protocol settings of a training federation."""

    hospitals: tuple[Hospital, ...]
    validators: tuple[Validator, ...]
    compute_nodes: tuple[ComputeNode, ...]
    round_config: RoundConfig
    aggregation: AggregationConfig = field(default_factory=AggregationConfig)
    vote_tolerance: float = 0.0

    def hospital(self, name: str) -> Hospital:
        """A hospital by name."""
        for h in self.hospitals:
            if h.name == name:
                return h
        raise KeyError(name)


@dataclass(frozen=True)
class ValidatorAssessment:
    """What one validator concluded about a round's submissions."""

    validator: str
    scores: tuple[int, ...]
    """φ·1e18 per submitter (ledger order); 0 for a rejected update."""
    flags: Mapping[str, tuple[str, ...]]
    rejected: Mapping[str, str]
    """Submitter → failed check."""


@dataclass(frozen=True)
class RoundRecord:
    """What a round produced (JSON-compatible through :meth:`to_json`)."""

    round_index: int
    round_id: int
    global_cid: str
    update_cids: Mapping[str, str]
    submitters: tuple[str, ...]
    validator_scores: Mapping[str, tuple[int, ...]]
    consensus: tuple[int, ...]
    flags: Mapping[str, tuple[str, ...]]
    aggregate_cid: str
    metric_fixed: int
    validator_metrics: Mapping[str, float]
    test_auc: float
    kept_previous: bool
    nodes_used: tuple[int, ...]
    votes: Mapping[str, bool]
    phase: str

    def to_json(self) -> dict[str, Any]:
        """A JSON-compatible dict."""
        return {
            "round_index": self.round_index,
            "round_id": self.round_id,
            "global_cid": self.global_cid,
            "update_cids": dict(self.update_cids),
            "submitters": list(self.submitters),
            "validator_scores": {k: list(v) for k, v in self.validator_scores.items()},
            "consensus": list(self.consensus),
            "flags": {k: list(v) for k, v in self.flags.items()},
            "aggregate_cid": self.aggregate_cid,
            "metric_fixed": self.metric_fixed,
            "validator_metrics": dict(self.validator_metrics),
            "test_auc": self.test_auc,
            "kept_previous": self.kept_previous,
            "nodes_used": list(self.nodes_used),
            "votes": dict(self.votes),
            "phase": self.phase,
        }


# --------------------------------------------------------------------------- custodian


def _seal_update(
    fed: Federation, hospital: Hospital, update: LogisticModel, *, round_id: int
) -> bytes:
    validator_keys = {v.index: v.keypair.public_bytes for v in fed.validators}
    for_validators = seal_for_many(
        update.to_bytes(), validator_keys, aad=update_aad(round_id, hospital.index)
    )
    node_keys = {n.index: n.keypair.public_bytes for n in fed.compute_nodes}
    client = AggregationClient(
        client_id=hospital.index, config=fed.aggregation, node_public_keys=node_keys
    )
    for_nodes = client.upload(update.params, round_id=round_id)
    return encode_bundle(
        round_id=round_id,
        custodian=hospital.name,
        client_id=hospital.index,
        num_samples=hospital.data.num_samples,
        for_validators=for_validators,
        for_nodes=for_nodes,
    )


def _train(
    fed: Federation, hospital: Hospital, global_model: LogisticModel, t: int
) -> LogisticModel:
    rng = np.random.default_rng([fed.round_config.seed, t, hospital.index])
    return hospital.custodian.behaviour.produce(
        global_model=global_model, data=hospital.data, train=fed.round_config.train, rng=rng
    )


# --------------------------------------------------------------------------- validator


def assess(
    fed: Federation,
    validator: Validator,
    *,
    t: int,
    round_id: int,
    global_model: LogisticModel,
    submitters: Sequence[str],
    bundles: Mapping[str, bytes],
) -> ValidatorAssessment:
    """Open, check and score a round's bundles as ``validator`` (pure apart from crypto).

    A ``"lazy"`` validator returns equal shares ``⌊10¹⁸/n⌋`` without opening anything.
    """
    if validator.behaviour == "lazy":
        share = phi_to_fixed(1.0 / len(submitters)) if submitters else 0
        return ValidatorAssessment(
            validator=validator.name, scores=(share,) * len(submitters), flags={}, rejected={}
        )
    updates: list[LogisticModel] = []
    counts: list[int] = []
    accepted: list[int] = []
    rejected: dict[str, str] = {}
    index = {h.name: h.index for h in fed.hospitals}
    for i, name in enumerate(submitters):
        try:
            header, envelope, _ = decode_bundle(bundles[name])
            # the associated data binds the round and the sender as the *ledger* knows them,
            # so a bundle replayed from another round or custodian does not open
            payload, _ = open_for(
                envelope, validator.index, validator.keypair, aad=update_aad(round_id, index[name])
            )
            if payload is None:
                raise EnvelopeError("validator was not given the data key")
            update = LogisticModel.from_bytes(payload)
        except (EnvelopeError, SerializationError, ValueError, KeyError, TypeError):
            rejected[name] = "envelope"
            continue
        try:
            check_update(update, global_model, custodian=name, config=fed.round_config.checks)
        except UpdateCheckError as err:
            rejected[name] = err.check
            continue
        accepted.append(i)
        updates.append(update)
        counts.append(int(header["num_samples"]))
    scores = [0] * len(submitters)
    flags: dict[str, tuple[str, ...]] = {}
    if updates:
        result = score_contributions(
            base=global_model,
            updates=updates,
            holdout=validator.holdout,
            config=fed.round_config.scoring,
            rng=np.random.default_rng([fed.round_config.seed, t, 2**20 + validator.index]),
            num_samples=counts,
        )
        for j, i in enumerate(accepted):
            scores[i] = phi_to_fixed(float(result.phi[j]))
            flags[submitters[i]] = tuple(sorted(f.value for f in result.flags[j]))
    return ValidatorAssessment(
        validator=validator.name, scores=tuple(scores), flags=flags, rejected=rejected
    )


def _consensus_flags(
    submitters: Sequence[str], assessments: Sequence[ValidatorAssessment]
) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    n = len(assessments)
    for name in submitters:
        votes: dict[str, int] = {}
        for a in assessments:
            for f in a.flags.get(name, ()):
                votes[f] = votes.get(f, 0) + 1
        flags = {f for f, c in votes.items() if 2 * c > n}
        if any(name in a.rejected for a in assessments):
            flags.add(Flag.REJECTED.value)
        out[name] = tuple(sorted(flags))
    return out


# --------------------------------------------------------------------------- compute nodes


def secure_aggregate(
    fed: Federation,
    *,
    round_id: int,
    bundles: Mapping[str, bytes],
    phi: Mapping[str, int],
    available: Sequence[int],
    step: str,
) -> LogisticModel:
    """φ-weighted FedAvg on replicated shares by the ``available`` compute nodes.

    Raises
    ------
    ThresholdUnavailableError
        Fewer than t + 1 nodes available.
    """
    cfg = fed.aggregation
    if len(available) < cfg.threshold + 1:
        raise ThresholdUnavailableError(
            step=step, available=len(available), required=cfg.threshold + 1
        )
    nodes = {
        n.index: AggregationNode(index=n.index, config=cfg, keypair=n.keypair)
        for n in fed.compute_nodes
        if n.index in available
    }
    index = {h.name: h.index for h in fed.hospitals}
    for name, weight in phi.items():
        if weight <= 0:
            continue
        try:
            _, _, sealed = decode_bundle(bundles[name])
            for node in nodes.values():
                node.receive(sealed, round_id=round_id, client_id=index[name])
        except (EnvelopeError, ProtocolError, ValueError, KeyError) as exc:
            raise PipelineError(
                f"{step}: the compute nodes cannot open the shares of {name}: {exc}"
            ) from exc
    weights = encode_weights(
        {index[n]: w / 10**18 for n, w in phi.items() if w > 0},
        weight_bits=cfg.weight_bits,
    )
    try:
        # Semi-honest nodes (flai/mpc/README.md): each share component is computed by one
        # available holder, not cross-checked by all of them.
        owned = cfg.scheme.assign(nodes)
        partials = [
            node.weighted_partial(round_id=round_id, weights=weights, components=owned[j])
            for j, node in nodes.items()
        ]
        params = reconstruct_aggregate(cfg, partials, weights)
    except ThresholdError as exc:
        raise ThresholdUnavailableError(
            step=step, available=exc.available, required=exc.required
        ) from exc
    return LogisticModel(params=params)


# --------------------------------------------------------------------------- the round


def run_round_flow(
    *,
    t: int,
    round_id: int,
    fed: Federation,
    global_model: LogisticModel,
    port: ChainPort,
    storage: Storage,
    journal: Journal,
    test_auc_of: Callable[[LogisticModel], float],
    down_nodes: Sequence[int] = (),
) -> tuple[RoundRecord, LogisticModel]:
    """Run (or resume) training round ``t``; return its record and the next global model.

    Parameters
    ----------
    t
        Round index within the scenario (0-based; the seeds and journal keys use it).
    round_id
        The ledger round this is: the next one opened, or an open one resumed.
    global_model
        The model the round starts from (the one accepted on the ledger).
    test_auc_of
        ``model → AUC`` on the requester's test set (reporting only).
    down_nodes
        Compute nodes unavailable this round.
    """
    key = f"round/{t}"
    global_cid = journal.once(f"{key}/global", lambda: storage.put(global_model.to_bytes()))
    opened = int(
        journal.once(
            f"{key}/open",
            lambda: port.open_round(global_model_cid=global_cid),
            probe=lambda: round_id if port.round_count() >= round_id else None,
        )
    )
    if opened != round_id:
        raise PipelineError(f"{key}: ledger opened round {opened}, expected {round_id}")

    # 2. custodians train, seal, store, commit (the commit probe reads the ledger)
    for h in fed.hospitals:

        def upload(h: Hospital = h) -> str:
            update = _train(fed, h, global_model, t)
            return storage.put(_seal_update(fed, h, update, round_id=round_id))

        def commit(h: Hospital = h) -> str:
            cid = str(journal.result(f"{key}/upload/{h.name}"))
            port.commit_update(round_id=round_id, custodian=h.name, update_cid=cid)
            return cid

        def committed(h: Hospital = h) -> str | None:
            return port.update_cid(round_id, h.name)

        if not journal.is_done(f"{key}/commit/{h.name}") and committed() is None:
            journal.once(f"{key}/upload/{h.name}", upload)
        journal.once(f"{key}/commit/{h.name}", commit, probe=committed)

    def close() -> str:
        port.close_commits(round_id=round_id)
        return RoundPhase.SCORING.value

    journal.once(
        f"{key}/close",
        close,
        probe=lambda: (
            None
            if port.round_phase(round_id) is RoundPhase.COMMIT
            else port.round_phase(round_id).value
        ),
    )

    # 3. validators fetch by the ledger's CIDs, open, check, score, submit
    submitters = port.submitters(round_id)
    update_cids = {name: port.update_cid(round_id, name) or "" for name in submitters}
    bundles = {
        name: fetch(storage, cid, step=f"{key}/fetch/{name}") for name, cid in update_cids.items()
    }
    assessments = []
    for v in fed.validators:
        a = assess(
            fed,
            v,
            t=t,
            round_id=round_id,
            global_model=global_model,
            submitters=submitters,
            bundles=bundles,
        )
        assessments.append(a)

        def submit(a: ValidatorAssessment = a) -> list[int]:
            port.submit_scores(round_id=round_id, validator=a.validator, scores=a.scores)
            return list(a.scores)

        def scored(v: Validator = v) -> list[int] | None:
            row = port.scores_of(round_id, v.name)
            return None if row is None else list(row)

        submitted = journal.once(f"{key}/scores/{v.name}", submit, probe=scored)
        if tuple(submitted) != a.scores:
            raise PipelineError(
                f"{key}: {v.name} posted {submitted} but now computes {list(a.scores)}; "
                "scoring must be deterministic for a resumed run"
            )

    # 4. consensus, the contract's rule over what the ledger holds (recorded before finalize)
    def consensus() -> dict[str, Any]:
        stakes = port.validator_stakes()
        scorers = [v.name for v in fed.validators if port.scores_of(round_id, v.name) is not None]
        rows = [list(port.scores_of(round_id, n) or ()) for n in scorers]
        phi = stake_weighted_median(rows, [stakes[n] for n in scorers]) if submitters else ()
        return {"phi": list(phi), "stakes": {n: stakes[n] for n in scorers}}

    agreed = journal.once(f"{key}/consensus", consensus)
    phi = dict(zip(submitters, (int(p) for p in agreed["phi"]), strict=True))

    # 5. secure aggregation on the available nodes, aggregate stored on IPFS
    available = [n.index for n in fed.compute_nodes if n.index not in set(down_nodes)]
    kept = sum(phi.values()) == 0
    if kept:
        model = global_model
        used: list[int] = []
    else:
        model = secure_aggregate(
            fed,
            round_id=round_id,
            bundles=bundles,
            phi=phi,
            available=available,
            step=f"{key}/aggregate",
        )
        used = available
    metrics = {v.name: model.evaluate(v.holdout, "auc") for v in fed.validators}
    weight = agreed["stakes"]
    metric_fixed = stake_weighted_median(
        [[metric_to_fixed(min(max(metrics[n], 0.0), 1.0))] for n in weight],
        [int(s) for s in weight.values()],
    )[0]
    aggregate_cid = journal.once(f"{key}/aggregate", lambda: storage.put(model.to_bytes()))

    # 6. post, verify consensus, vote, settle
    def finalize() -> list[Any]:
        port.finalize_round(round_id=round_id, aggregate_cid=aggregate_cid, metric=metric_fixed)
        return [aggregate_cid, metric_fixed]

    def posted() -> list[Any] | None:
        got = port.aggregate(round_id)
        return None if got is None else [got[0], got[1]]

    aggregate_cid, metric_fixed = journal.once(f"{key}/finalize", finalize, probe=posted)
    # the posted CID is authoritative: a resumed run must continue from exactly that model
    if LogisticModel.from_bytes(fetch(storage, aggregate_cid, step=f"{key}/finalize")) != model:
        raise PipelineError(
            f"{key}: the aggregate posted as {aggregate_cid} differs from the one recomputed"
        )
    ledger_subs, ledger_phi = port.consensus(round_id)
    local = tuple(phi.get(n, -1) for n in ledger_subs)
    if tuple(ledger_subs) != tuple(submitters) or tuple(ledger_phi) != local:
        raise ConsensusMismatchError(round_id=round_id, local=local, ledger=tuple(ledger_phi))

    votes: dict[str, bool] = {}
    for v in fed.validators:
        if port.scores_of(round_id, v.name) is None:
            continue
        before = global_model.evaluate(v.holdout, "auc")
        approve = bool(metrics[v.name] >= before - fed.vote_tolerance)

        def vote(v: Validator = v, approve: bool = approve) -> bool:
            port.vote_aggregate(round_id=round_id, validator=v.name, approve=approve)
            return approve

        def voted(v: Validator = v) -> bool | None:
            return port.aggregate_vote(round_id, v.name)

        votes[v.name] = bool(journal.once(f"{key}/vote/{v.name}", vote, probe=voted))

    def settled() -> str | None:
        phase = port.round_phase(round_id)
        return phase.value if phase in (RoundPhase.ACCEPTED, RoundPhase.REJECTED) else None

    phase = journal.once(
        f"{key}/settle", lambda: port.settle_round(round_id=round_id).value, probe=settled
    )
    next_model = model if phase == RoundPhase.ACCEPTED.value else global_model
    record = RoundRecord(
        round_index=t,
        round_id=round_id,
        global_cid=global_cid,
        update_cids=update_cids,
        submitters=tuple(submitters),
        validator_scores={a.validator: a.scores for a in assessments},
        consensus=tuple(phi[n] for n in submitters),
        flags=_consensus_flags(submitters, assessments),
        aggregate_cid=aggregate_cid,
        metric_fixed=int(metric_fixed),
        validator_metrics=metrics,
        test_auc=float(test_auc_of(next_model)),
        kept_previous=kept,
        nodes_used=tuple(used),
        votes=votes,
        phase=phase,
    )
    return record, next_model


def fetch(storage: Storage, cid: str, *, step: str) -> bytes:
    """Fetch ``cid`` (verified against it); an unreachable node is reported against ``step``.

    Raises
    ------
    StorageUnavailableError
        The IPFS API cannot be reached (naming its address).
    """
    try:
        return storage.get(cid)
    except UnreachableError as exc:
        raise StorageUnavailableError(address=exc.address, step=step, reason=exc.reason) from exc
