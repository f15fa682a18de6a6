"""One training round through the parties, IPFS and the chain port.

Data flow of round ``t`` (001 §3.1–3.3, §5.2; FLock/DIN for scoring and consensus):

1. the round is opened on the ledger with the accepted model's CID (its sealed release),
   or on the public all-zero starting model stored on IPFS;
2. each custodian trains locally (:func:`flai.fl.train_phase`), secret-shares its update to
   the three compute nodes only — replicated shares in Z_{2^44} for aggregation and
   three-party shares in Z_{2^128} for scoring, both sealed to the nodes — stores that
   bundle on IPFS and commits the bundle's CID;
3. the commit window closes; the compute nodes fetch every committed bundle by the CID on
   the ledger and decode it defensively (a malformed or unopenable bundle is rejected,
   φ = 0); each validator secret-shares its holdout to the nodes, which score the updates
   on shares and open each validator's Shapley values and standard errors to it only
   (:func:`flai.pipeline.scoring.score_on_shares`); each validator computes its φ from
   them by the plaintext rules and submits its φ·1e18 vector;
4. consensus φ is the lower stake-weighted median of the submitted vectors with the
   ledger's stakes (:func:`flai.fl.stake_weighted_median`, the contract's rule);
5. the available compute nodes (at least t + 1) compute φ-weighted FedAvg on the shares of
   the updates with φ > 0 (:mod:`flai.mpc.secure_aggregation`) and seal their shares of
   it to the custodians and validators (:func:`flai.pipeline.model_release.seal_aggregate`);
   the release and its root commitment are stored on IPFS, and no node reconstructs the
   aggregate; each validator's AUC of it is computed on the nodes' shares
   (:func:`flai.mpc.convert_aggregate`, :func:`flai.mpc.holdout_auc`);
6. the aggregate CID and the validators' median AUC (·1e6) are posted; the ledger's
   consensus is checked against step 4; validators vote (approve iff the aggregate's AUC
   on their holdout is not below the previous model's minus a tolerance) and the round
   is settled (accept iff aggVote ≥ 0, 003 §VI.E).

Each step is a phase function (``_open_round``, ``_commit``, ``_score``, ``_agree``,
``_aggregate``, ``_post``, ``_settle``) over the round's :class:`_Round` state, composed by
:func:`run_round_flow`. Every ledger write and IPFS put is a journal step
(:class:`~flai.pipeline.journal.Journal`), so rerunning the round after a crash continues
where it stopped. Training and the aggregate are deterministic and recomputed; secure
scoring is randomized at its fixed-point resolution (probabilistic truncation on fresh
shares), so a resumed round takes the score vectors already on the ledger as posted.

Who sees what: validators receive only their own sealed (SV, SE) outputs and the public
openings — never an update; compute nodes hold shares of every update and holdout (at most
t = 1 of 3 colluding learn nothing from them) and of the aggregate, which only the
custodians and validators open; a compute node that is down after scoring only affects
aggregation.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from flai.fl import (
    LogisticModel,
    Validator,
    majority_flags,
    metric_to_fixed,
    stake_weighted_median,
    train_phase,
)
from flai.mpc import (
    AggregationClient,
    InferenceConfig,
    MaskedInference,
    MPCError,
    ScoringClient,
    convert_aggregate,
    holdout_auc,
)
from flai.pipeline.codec import encode_bundle
from flai.pipeline.errors import (
    ConsensusMismatchError,
    PipelineError,
    StorageUnavailableError,
)
from flai.pipeline.journal import Journal
from flai.pipeline.model_release import SealedModel, load_model, seal_aggregate
from flai.pipeline.ports import ChainPort, RoundPhase
from flai.pipeline.roles import Federation, Hospital
from flai.pipeline.scoring import (
    ScoringOutcome,
    ValidatorAssessment,
    score_on_shares,
    secure_config,
)
from flai.storage import Storage, UnreachableError

__all__ = [
    "RoundRecord",
    "ValidatorAssessment",
    "fetch",
    "run_round_flow",
]


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
    node_keys = {n.index: n.keypair.public_bytes for n in fed.compute_nodes}
    aggregation = AggregationClient(
        client_id=hospital.index, config=fed.aggregation, node_public_keys=node_keys
    )
    scoring = ScoringClient(
        client_id=hospital.index, config=secure_config(fed), node_public_keys=node_keys
    )
    return encode_bundle(
        round_id=round_id,
        custodian=hospital.name,
        client_id=hospital.index,
        num_samples=hospital.data.num_samples,
        for_nodes=aggregation.upload(update.params, round_id=round_id),
        for_scoring=scoring.upload(update.params, round_id=round_id),
    )


def _train(
    fed: Federation, hospital: Hospital, global_model: LogisticModel, t: int
) -> LogisticModel:
    return train_phase(
        hospital.custodian,
        global_model=global_model,
        config=fed.round_config,
        t=t,
        index=hospital.index,
    )


# --------------------------------------------------------------------------- the round


@dataclass
class _Round:
    """The state the phases of one round share."""

    fed: Federation
    port: ChainPort
    storage: Storage
    journal: Journal
    t: int
    round_id: int
    global_model: LogisticModel
    key: str = ""
    global_cid: str = ""
    submitters: tuple[str, ...] = ()
    update_cids: dict[str, str] = field(default_factory=dict)
    bundles: dict[str, bytes] = field(default_factory=dict)
    assessments: list[ValidatorAssessment] = field(default_factory=list)
    phi: dict[str, int] = field(default_factory=dict)
    stakes: dict[str, int] = field(default_factory=dict)
    outcome: ScoringOutcome | None = None

    def __post_init__(self) -> None:
        self.key = f"round/{self.t}"


def _open_round(r: _Round) -> None:
    """Open the round on the accepted model's sealed release, or on the public starting
    model when none was accepted yet (phase 1)."""

    def global_cid() -> str:
        _, accepted = r.port.model_version()
        return accepted if accepted is not None else r.storage.put(r.global_model.to_bytes())

    r.global_cid = r.journal.once(f"{r.key}/global", global_cid)
    opened = int(
        r.journal.once(
            f"{r.key}/open",
            lambda: r.port.open_round(global_model_cid=r.global_cid),
            probe=lambda: r.round_id if r.port.round_count() >= r.round_id else None,
        )
    )
    if opened != r.round_id:
        raise PipelineError(f"{r.key}: ledger opened round {opened}, expected {r.round_id}")


def _commit(r: _Round) -> None:
    """Every custodian trains, seals, stores and commits; the window closes (phase 2)."""
    for h in r.fed.hospitals:

        def upload(h: Hospital = h) -> str:
            update = _train(r.fed, h, r.global_model, r.t)
            return r.storage.put(_seal_update(r.fed, h, update, round_id=r.round_id))

        def commit(h: Hospital = h) -> str:
            cid = str(r.journal.result(f"{r.key}/upload/{h.name}"))
            r.port.commit_update(round_id=r.round_id, custodian=h.name, update_cid=cid)
            return cid

        def committed(h: Hospital = h) -> str | None:
            return r.port.update_cid(r.round_id, h.name)

        if not r.journal.is_done(f"{r.key}/commit/{h.name}") and committed() is None:
            r.journal.once(f"{r.key}/upload/{h.name}", upload)
        r.journal.once(f"{r.key}/commit/{h.name}", commit, probe=committed)

    def close() -> str:
        r.port.close_commits(round_id=r.round_id)
        return RoundPhase.SCORING.value

    def closed() -> str | None:
        phase = r.port.round_phase(r.round_id)
        return None if phase is RoundPhase.COMMIT else phase.value

    r.journal.once(f"{r.key}/close", close, probe=closed)


def _score(r: _Round) -> None:
    """The nodes fetch by the ledger's CIDs and score on shares; validators submit (phase 3)."""
    r.submitters = r.port.submitters(r.round_id)
    r.update_cids = {n: r.port.update_cid(r.round_id, n) or "" for n in r.submitters}
    r.bundles = {
        n: fetch(r.storage, cid, step=f"{r.key}/fetch/{n}") for n, cid in r.update_cids.items()
    }
    r.outcome = score_on_shares(
        r.fed,
        t=r.t,
        round_id=r.round_id,
        global_model=r.global_model,
        submitters=r.submitters,
        bundles=r.bundles,
        cids=r.update_cids,
        step=f"{r.key}/score",
    )
    for a in r.outcome.assessments:

        def submit(a: ValidatorAssessment = a) -> list[int]:
            r.port.submit_scores(round_id=r.round_id, validator=a.validator, scores=a.scores)
            return list(a.scores)

        def scored(name: str = a.validator) -> list[int] | None:
            row = r.port.scores_of(r.round_id, name)
            return None if row is None else list(row)

        submitted = r.journal.once(f"{r.key}/scores/{a.validator}", submit, probe=scored)
        # a resumed round scores on fresh holdout shares: the vector on the ledger stands
        r.assessments.append(replace(a, scores=tuple(int(s) for s in submitted)))


def _agree(r: _Round) -> None:
    """Consensus φ by the contract's rule over what the ledger holds (phase 4)."""

    def consensus() -> dict[str, Any]:
        stakes = r.port.validator_stakes()
        scorers = [
            v.validator_id
            for v in r.fed.validators
            if r.port.scores_of(r.round_id, v.validator_id) is not None
        ]
        rows = [list(r.port.scores_of(r.round_id, n) or ()) for n in scorers]
        phi = stake_weighted_median(rows, [stakes[n] for n in scorers]) if r.submitters else ()
        return {"phi": list(phi), "stakes": {n: stakes[n] for n in scorers}}

    agreed = r.journal.once(f"{r.key}/consensus", consensus)
    r.phi = dict(zip(r.submitters, (int(p) for p in agreed["phi"]), strict=True))
    r.stakes = {n: int(s) for n, s in agreed["stakes"].items()}


def _aggregate(
    r: _Round, down_nodes: Sequence[int]
) -> tuple[LogisticModel, SealedModel | None, list[int], dict[str, float], int]:
    """Secure φ-weighted FedAvg on the available nodes, sealed to the readers; each
    validator opens it and evaluates it on its holdout; their median AUC (phase 5).
    Returns the model (as a reader opens it), the release, the nodes used, each
    validator's AUC and the metric."""
    available = [n.index for n in r.fed.compute_nodes if n.index not in set(down_nodes)]
    sealed: SealedModel | None = None
    if sum(r.phi.values()) == 0:
        model, used = r.global_model, []
    else:
        assert r.outcome is not None
        sealed = seal_aggregate(
            r.fed,
            round_id=r.round_id,
            nodes=r.outcome.nodes,
            phi=r.phi,
            available=available,
            step=f"{r.key}/aggregate",
        )
        model = load_model(sealed.blob, fed=r.fed, reader=r.fed.hospitals[0].name)
        used = available
    metrics = (
        {v.validator_id: model.evaluate(v.holdout, "auc") for v in r.fed.validators}
        if sealed is None
        else _secure_aucs(r, sealed, available)
    )
    metric = stake_weighted_median(
        [[metric_to_fixed(min(max(metrics[n], 0.0), 1.0))] for n in r.stakes],
        list(r.stakes.values()),
    )[0]
    return model, sealed, used, metrics, metric


def _secure_aucs(r: _Round, sealed: SealedModel, available: Sequence[int]) -> dict[str, float]:
    """Each validator's AUC of the aggregate, computed on shares (:func:`flai.mpc.holdout_auc`):
    the nodes convert their aggregation shares to inference shares without reconstruction
    (:func:`flai.mpc.convert_aggregate`), the validator sends its holdout as masked queries
    and its labels as shares, and only the rank sum U is opened, to it."""
    agg = r.fed.aggregation
    config = InferenceConfig(n_nodes=agg.n_nodes, threshold=agg.threshold)
    try:
        parts, _ = convert_aggregate(
            sealed.partials, sealed.weights, aggregation=agg, inference=config
        )
        deployment = MaskedInference.from_parts(
            parts,
            config=config,
            model_id=b"flai/pipeline/acceptance" + struct.pack(">Q", r.round_id),
            keypairs={n.index: n.keypair for n in r.fed.compute_nodes},
        )
        return {
            v.validator_id: holdout_auc(
                deployment,
                deployment.user(r.fed.validator_keys[v.validator_id]),
                v.holdout.X,
                v.holdout.y,
                available_nodes=available,
            )
            for v in r.fed.validators
        }
    except MPCError as exc:
        raise PipelineError(f"{r.key}: the acceptance AUC on shares failed: {exc}") from exc


def _post(
    r: _Round, model: LogisticModel, sealed: SealedModel | None, metric: int
) -> tuple[str, int]:
    """Store and post the sealed aggregate (the global model's CID when nothing was
    credited), then check the ledger's consensus (phase 6)."""
    if sealed is None:
        cid = r.global_cid
    else:
        blob = sealed.blob
        cid = r.journal.once(f"{r.key}/aggregate", lambda: r.storage.put(blob))

    def finalize() -> list[Any]:
        r.port.finalize_round(round_id=r.round_id, aggregate_cid=cid, metric=metric)
        return [cid, metric]

    def posted() -> list[Any] | None:
        got = r.port.aggregate(r.round_id)
        return None if got is None else [got[0], got[1]]

    cid, metric = r.journal.once(f"{r.key}/finalize", finalize, probe=posted)
    # the posted CID is authoritative: a resumed run must continue from exactly that model
    stored = fetch(r.storage, cid, step=f"{r.key}/finalize")
    if load_model(stored, fed=r.fed, reader=r.fed.hospitals[0].name) != model:
        raise PipelineError(
            f"{r.key}: the aggregate posted as {cid} differs from the one recomputed"
        )
    ledger_subs, ledger_phi = r.port.consensus(r.round_id)
    local = tuple(r.phi.get(n, -1) for n in ledger_subs)
    if tuple(ledger_subs) != tuple(r.submitters) or tuple(ledger_phi) != local:
        raise ConsensusMismatchError(round_id=r.round_id, local=local, ledger=tuple(ledger_phi))
    return str(cid), int(metric)


def _settle(r: _Round, metrics: Mapping[str, float]) -> tuple[dict[str, bool], str]:
    """Validators vote on the aggregate; the round is settled (phase 7)."""
    votes: dict[str, bool] = {}
    for v in r.fed.validators:
        if r.port.scores_of(r.round_id, v.validator_id) is None:
            continue
        before = r.global_model.evaluate(v.holdout, "auc")
        approve = bool(metrics[v.validator_id] >= before - r.fed.vote_tolerance)

        def vote(v: Validator = v, approve: bool = approve) -> bool:
            r.port.vote_aggregate(round_id=r.round_id, validator=v.validator_id, approve=approve)
            return approve

        def voted(v: Validator = v) -> bool | None:
            return r.port.aggregate_vote(r.round_id, v.validator_id)

        votes[v.validator_id] = bool(
            r.journal.once(f"{r.key}/vote/{v.validator_id}", vote, probe=voted)
        )

    def settled() -> str | None:
        phase = r.port.round_phase(r.round_id)
        return phase.value if phase in (RoundPhase.ACCEPTED, RoundPhase.REJECTED) else None

    phase = r.journal.once(
        f"{r.key}/settle", lambda: r.port.settle_round(round_id=r.round_id).value, probe=settled
    )
    return votes, str(phase)


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
    r = _Round(
        fed=fed,
        port=port,
        storage=storage,
        journal=journal,
        t=t,
        round_id=round_id,
        global_model=global_model,
    )
    _open_round(r)
    _commit(r)
    _score(r)
    _agree(r)
    model, sealed, used, metrics, metric = _aggregate(r, down_nodes)
    aggregate_cid, metric = _post(r, model, sealed, metric)
    votes, phase = _settle(r, metrics)
    next_model = model if phase == RoundPhase.ACCEPTED.value else global_model
    flags = majority_flags(
        [a.scored for a in r.assessments],
        [any(n in a.rejected for a in r.assessments) for n in r.submitters],
    )
    record = RoundRecord(
        round_index=t,
        round_id=round_id,
        global_cid=r.global_cid,
        update_cids=r.update_cids,
        submitters=tuple(r.submitters),
        validator_scores={a.validator: a.scores for a in r.assessments},
        consensus=tuple(r.phi[n] for n in r.submitters),
        flags={
            n: tuple(sorted(f.value for f in fl)) for n, fl in zip(r.submitters, flags, strict=True)
        },
        aggregate_cid=aggregate_cid,
        metric_fixed=metric,
        validator_metrics=metrics,
        test_auc=float(test_auc_of(next_model)),
        kept_previous=sum(r.phi.values()) == 0,
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
