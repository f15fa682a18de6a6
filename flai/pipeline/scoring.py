"""The round's contribution scoring, inside sMPC (001 §3.2, §5.3 eq. 7).

Neither a validator nor a compute node sees an individual update or a validator's holdout:

1. the three compute nodes fetch every committed bundle by its on-chain CID and decode it
   defensively: a bundle that does not decode, whose header contradicts the ledger (round,
   sender) or whose shares do not fit the model or do not open is its sender's fault —
   rejected (φ = 0, flagged ``rejected``), the round goes on;
2. each node keeps its scoring share (Z_{2^128}, :class:`flai.mpc.ScoringNode`) and its
   aggregation share (Z_{2^44}, :class:`flai.mpc.AggregationNode`) of every upload; the
   nodes open ‖Δ_k‖² (update-norm check, free-rider test) and 40 random linear combinations
   of the difference of each custodian's two uploads under a challenge drawn from all the
   committed CIDs (:meth:`flai.mpc.ScoringNode.consistency_part`): a custodian whose
   scoring and aggregation uploads differ is rejected (``inconsistent``), so the update the
   validators' scores are about is the update the nodes aggregate;
3. each (non-lazy) validator secret-shares its prepared holdout to the nodes
   (:class:`flai.mpc.ScoringValidator`); the nodes run the scoring protocol per validator
   and open its SV_k and SE_k to it only, sealed; the nodes open ⟨Δ_k, Δ̄_{−k}⟩ and
   ‖Δ̄_{−k}‖² for the updates whose poisoner flag depends on the cosine;
4. each validator computes φ from what was opened to it (:func:`flai.mpc.finalize_scores`,
   the plaintext rules) and posts its own score vector, as in the plaintext protocol.

What is opened is therefore the per-validator (SV, SE) vectors (to that validator), the
update norms, the cosine statistics of borderline updates and the consistency values (0 for
an honest custodian) — see ``flai/mpc/README.md`` for why that leaks little; no coalition
utility, no logit, no holdout row and no coordinate of an update.

Secure scoring is a three-party protocol with t = 1 (:mod:`flai.mpc.rss3`): all three
compute nodes must be up to score; a node lost afterwards only affects the aggregation,
which needs t + 1.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from flai.fl import (
    Flag,
    LogisticModel,
    Validator,
    ValidatorScores,
    phi_to_fixed,
)
from flai.mpc import (
    AggregationNode,
    MPCError,
    OpenedScores,
    ScoringNode,
    ScoringValidator,
    SecureScoringConfig,
    combine_public,
    cosine_requests,
    estimator,
    finalize_scores,
)
from flai.mpc.rss3 import run
from flai.pipeline.codec import UpdateBundle, decode_bundle
from flai.pipeline.errors import MalformedBlobError, PipelineError, ThresholdUnavailableError
from flai.pipeline.roles import Federation

__all__ = ["ScoringOutcome", "ValidatorAssessment", "score_on_shares"]

SCORING_NODES = 3
CONSISTENCY_CHECKS = 40
_MEASURES = ("shapley", "loo", "cosine", "lmv")


@dataclass(frozen=True)
class ValidatorAssessment:
    """What one validator concluded about a round's submissions."""

    validator: str
    scores: tuple[int, ...]
    """φ·1e18 per submitter (ledger order); 0 for a rejected update."""
    flags: Mapping[str, tuple[str, ...]]
    rejected: Mapping[str, str]
    """Submitter → failed check."""
    scored: ValidatorScores
    """The score phase's result for this validator."""


@dataclass(frozen=True, eq=False)
class ScoringOutcome:
    """Everything the scoring step produced.

    Attributes
    ----------
    assessments
        One per validator (federation order).
    rejected
        Submitter → why its upload was rejected (public: every party learns it).
    norms
        ‖Δ_k‖ of every upload that decoded and opened (public).
    nodes
        The compute nodes' aggregation side, holding the uploads of the round.
    validator_view
        Validator → every blob it received during scoring (its sealed outputs).
    public
        Every value opened to everyone (norms, cosine statistics, consistency values).
    """

    assessments: tuple[ValidatorAssessment, ...]
    rejected: Mapping[str, str]
    norms: Mapping[str, float]
    nodes: Mapping[int, AggregationNode]
    validator_view: Mapping[str, tuple[bytes, ...]] = field(default_factory=dict)
    public: tuple[int, ...] = ()


def secure_config(fed: Federation) -> SecureScoringConfig:
    """The secure-scoring parameters of ``fed`` (its plaintext scoring rules and checks)."""
    return SecureScoringConfig(scoring=fed.round_config.scoring, checks=fed.round_config.checks)


def _opened_bundle(
    raw: object, *, name: str, client_id: int, round_id: int, width: int
) -> tuple[UpdateBundle | None, str]:
    """The decoded bundle, or ``None`` and why it is rejected."""
    try:
        bundle = decode_bundle(raw)
    except MalformedBlobError:
        return None, "bundle"
    if (bundle.round_id, bundle.custodian, bundle.client_id) != (round_id, name, client_id):
        return None, "bundle"
    if bundle.num_samples < 1:
        return None, "bundle"
    if bundle.for_scoring.shape != (1, width) or bundle.for_nodes.length != width:
        return None, "shape"
    return bundle, ""


def _lazy(validator: Validator, submitters: Sequence[str]) -> ValidatorAssessment:
    """A lazy validator gives everyone ⌊10¹⁸/n⌋ without looking (the slashed deviation)."""
    n = len(submitters)
    share = 1.0 / n if n else 0.0
    zeros = (0.0,) * n
    scored = ValidatorScores(
        validator_id=validator.validator_id,
        phi=(share,) * n,
        phi_fixed=(phi_to_fixed(share),) * n,
        flags=(frozenset(),) * n,
        measures={m: zeros for m in _MEASURES},
    )
    return ValidatorAssessment(
        validator=validator.validator_id,
        scores=scored.phi_fixed,
        flags={},
        rejected={},
        scored=scored,
    )


def _cosine(num: int, den: int, norm_sq: int) -> float:
    """cos = num / √(‖Δ_k‖²·den), all at scale 2f (0 when a vector is zero)."""
    if den <= 0 or norm_sq <= 0:
        return 0.0
    return float(np.clip(num / math.sqrt(float(den) * float(norm_sq)), -1.0, 1.0))


def score_on_shares(
    fed: Federation,
    *,
    t: int,
    round_id: int,
    global_model: LogisticModel,
    submitters: Sequence[str],
    bundles: Mapping[str, object],
    cids: Mapping[str, str],
    down_nodes: Sequence[int] = (),
    step: str,
) -> ScoringOutcome:
    """Score a round's committed uploads on shares; see the module docstring.

    Parameters
    ----------
    bundles
        Submitter → the bytes fetched for its committed CID (anything: decoded defensively).
    cids
        Submitter → its committed CID (the consistency challenge is drawn from them).
    down_nodes
        Compute nodes unavailable while scoring.

    Raises
    ------
    ThresholdUnavailableError
        A scoring node is down (the three-party protocol needs all three).
    """
    cfg = secure_config(fed)
    nodes = [n for n in fed.compute_nodes if n.index not in set(down_nodes)]
    if len(fed.compute_nodes) != SCORING_NODES or len(nodes) != SCORING_NODES:
        raise ThresholdUnavailableError(step=step, available=len(nodes), required=SCORING_NODES)
    keys = {n.index: n.keypair.public_bytes for n in nodes}
    scorers = [ScoringNode(index=n.index, config=cfg, keypair=n.keypair) for n in nodes]
    aggregators = {
        n.index: AggregationNode(index=n.index, config=fed.aggregation, keypair=n.keypair)
        for n in nodes
    }
    width = int(global_model.params.shape[0])
    index = {h.name: h.index for h in fed.hospitals}
    rejected: dict[str, str] = {}
    samples: dict[str, int] = {}
    for name in submitters:
        client = index[name]
        bundle, why = _opened_bundle(
            bundles.get(name), name=name, client_id=client, round_id=round_id, width=width
        )
        if bundle is None:
            rejected[name] = why
            continue
        try:
            for s in scorers:
                s.receive_update(bundle.for_scoring, round_id=round_id, client_id=client)
            for a in aggregators.values():
                a.receive(bundle.for_nodes, round_id=round_id, client_id=client)
        except (MPCError, ValueError, struct.error):
            rejected[name] = "envelope"
            continue
        samples[name] = bundle.num_samples
    valid = [n for n in submitters if n not in rejected]
    public: list[int] = []
    norms: dict[str, float] = {}
    norm_sq: dict[str, int] = {}
    accepted: list[int] = []  # positions in ``valid``
    if valid:
        weighting = cfg.scoring.coalition_weighting
        counts = [samples[n] for n in valid] if weighting == "samples" else None
        for s in scorers:
            s.begin_round(
                round_id=round_id,
                base=global_model,
                clients=[index[n] for n in valid],
                node_public_keys=keys,
                num_samples=counts,
            )
        norm_ints = combine_public([s.open_norms(round_id=round_id) for s in scorers])
        public.extend(norm_ints)
        scale = 2.0 ** (2 * cfg.frac_bits)
        bound = cfg.checks.max_update_norm
        for i, name in enumerate(valid):
            norm_sq[name] = norm_ints[i]
            norms[name] = math.sqrt(max(norm_ints[i], 0) / scale)
            if bound is not None and norms[name] > bound:
                rejected[name] = "norm"
        inconsistent = _consistency(
            scorers,
            aggregators,
            valid=valid,
            index=index,
            cids=cids,
            round_id=round_id,
            ring_bits=fed.aggregation.ring_bits,
            public=public,
        )
        for name in inconsistent:
            rejected.setdefault(name, "inconsistent")
        accepted = [i for i, n in enumerate(valid) if n not in rejected]
    assessments, views = _validators(
        fed,
        scorers,
        cfg=cfg,
        t=t,
        round_id=round_id,
        global_model=global_model,
        submitters=submitters,
        valid=valid,
        accepted=accepted,
        samples=samples,
        norms=norms,
        norm_sq=norm_sq,
        rejected=rejected,
        keys=keys,
        public=public,
    )
    return ScoringOutcome(
        assessments=assessments,
        rejected=dict(rejected),
        norms=norms,
        nodes=aggregators,
        validator_view=views,
        public=tuple(public),
    )


def _consistency(
    scorers: Sequence[ScoringNode],
    aggregators: Mapping[int, AggregationNode],
    *,
    valid: Sequence[str],
    index: Mapping[str, int],
    cids: Mapping[str, str],
    round_id: int,
    ring_bits: int,
    public: list[int],
) -> list[str]:
    """Submitters whose scoring and aggregation uploads differ (opened checks ≠ 0)."""
    challenge = hashlib.sha256(
        b"flai/pipeline/consistency"
        + struct.pack(">Q", round_id)
        + b"".join(cids.get(n, "").encode() + b"\0" for n in valid)
    ).digest()
    parts = []
    for s in scorers:
        shares = {
            index[n]: aggregators[s.index].weighted_partial(
                round_id=round_id, weights={index[n]: 1}
            )
            for n in valid
        }
        parts.append(
            s.consistency_part(
                round_id=round_id,
                aggregation=shares,
                challenge=challenge,
                ring_bits=ring_bits,
                checks=CONSISTENCY_CHECKS,
            )
        )
    values = combine_public(parts)
    public.extend(values)
    modulus = 1 << ring_bits
    out = []
    for i, name in enumerate(valid):
        row = values[i * CONSISTENCY_CHECKS : (i + 1) * CONSISTENCY_CHECKS]
        if any(v % modulus for v in row):
            out.append(name)
    return out


def _validators(
    fed: Federation,
    scorers: Sequence[ScoringNode],
    *,
    cfg: SecureScoringConfig,
    t: int,
    round_id: int,
    global_model: LogisticModel,
    submitters: Sequence[str],
    valid: Sequence[str],
    accepted: Sequence[int],
    samples: Mapping[str, int],
    norms: Mapping[str, float],
    norm_sq: Mapping[str, int],
    rejected: Mapping[str, str],
    keys: Mapping[int, bytes],
    public: list[int],
) -> tuple[tuple[ValidatorAssessment, ...], dict[str, tuple[bytes, ...]]]:
    """Holdouts shared, the protocol run per validator, φ finalised by each validator."""
    players = [valid[i] for i in accepted]
    views: dict[str, tuple[bytes, ...]] = {}
    honest = [
        (
            v,
            ScoringValidator(
                validator_id=i,
                holdout=v.holdout,
                config=cfg,
                keypair=fed.validator_keys[v.validator_id],
            ),
        )
        for i, v in enumerate(fed.validators)
        if v.behaviour != "lazy"
    ]
    opened: dict[str, OpenedScores] = {}
    if players:
        weighting = cfg.scoring.coalition_weighting
        est = estimator(
            num_players=len(players),
            config=cfg.scoring,
            num_samples=[samples[n] for n in players] if weighting == "samples" else None,
            rng=np.random.default_rng([fed.round_config.seed, t, 2**21]),
        )
        for v, party in honest:
            sealed = party.share_holdout(
                base=global_model, round_id=round_id, node_public_keys=keys
            )
            try:
                for s in scorers:
                    s.receive_holdout(sealed, round_id=round_id, validator_id=party.validator_id)
            except MPCError:
                continue  # the validator's fault: it scores nothing and deviates
            outputs = run(
                [
                    s.score(
                        round_id=round_id,
                        validator_id=party.validator_id,
                        players=list(accepted),
                        validator_public=party.public_key,
                        est=est,
                    )
                    for s in scorers
                ]
            )
            views[v.validator_id] = tuple(outputs)
            try:
                opened[v.validator_id] = party.open_outputs(
                    dict(enumerate(outputs)), round_id=round_id, est=est
                )
            except MPCError as exc:
                raise PipelineError(
                    f"round {round_id}: the compute nodes' scores for {v.validator_id} do not "
                    f"open: {exc}"
                ) from exc
    cosines: dict[int, float] = {}
    wanted = cosine_requests(list(opened.values()), cfg.scoring) if opened else []
    if wanted:
        parts = [
            s.open_cosines(round_id=round_id, players=list(accepted), targets=wanted)
            for s in scorers
        ]
        values = combine_public(parts)
        public.extend(values)
        for i, k in enumerate(wanted):
            cosines[k] = _cosine(values[2 * i], values[2 * i + 1], norm_sq[players[k]])
    out = []
    for v in fed.validators:
        if v.behaviour == "lazy":
            out.append(_lazy(v, submitters))
            continue
        out.append(
            _assessment(
                v,
                submitters=submitters,
                players=players,
                opened=opened.get(v.validator_id),
                norms=norms,
                cosines=cosines,
                rejected=rejected,
                cfg=cfg,
            )
        )
    for s in scorers:
        s.forget(round_id)
    return tuple(out), views


def _assessment(
    v: Validator,
    *,
    submitters: Sequence[str],
    players: Sequence[str],
    opened: OpenedScores | None,
    norms: Mapping[str, float],
    cosines: Mapping[int, float],
    rejected: Mapping[str, str],
    cfg: SecureScoringConfig,
) -> ValidatorAssessment:
    phi = dict.fromkeys(submitters, 0.0)
    flags: dict[str, frozenset[Flag]] = {s: frozenset() for s in submitters}
    measures = {m: dict.fromkeys(submitters, 0.0) for m in _MEASURES}
    method = "none"
    if opened is not None and players:
        scores = finalize_scores(
            opened, norms=[norms[p] for p in players], cosines=cosines, config=cfg.scoring
        )
        for j, name in enumerate(players):
            phi[name] = float(scores.phi[j])
            flags[name] = scores.flags[j]
            measures["shapley"][name] = float(scores.shapley[j])
            measures["cosine"][name] = float(scores.cosine[j])
            measures["lmv"][name] = float(scores.lmv[j])
        method = "secure-exact" if opened.exact else "secure-sampled"
    scored = ValidatorScores(
        validator_id=v.validator_id,
        phi=tuple(phi[s] for s in submitters),
        phi_fixed=tuple(phi_to_fixed(phi[s]) for s in submitters),
        flags=tuple(flags[s] for s in submitters),
        measures={m: tuple(vals[s] for s in submitters) for m, vals in measures.items()},
        method=method,
    )
    return ValidatorAssessment(
        validator=v.validator_id,
        scores=scored.phi_fixed,
        flags={s: tuple(sorted(f.value for f in flags[s])) for s in submitters if s in players},
        rejected=dict(rejected),
        scored=scored,
    )
