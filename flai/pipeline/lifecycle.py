"""The whole RFM lifecycle of a scenario, driven through a :class:`ChainPort` (001 §9).

:func:`run_lifecycle` plays the configured scenario end to end and returns one
:class:`LifecycleResult`: it splits the data among the hospitals and validators, runs the
training rounds (:func:`~flai.pipeline.round_flow.run_round_flow`), ranks the members by
SBGT points for member-tier pricing, serves the paid secret-shared inferences, runs the
federated-analytics query, computes the expected revenue split (001 eq. 10/11), has the
technical chamber revoke the poisoners, forks a subtype child and retires the parent
(which ends the last SBGT pool), and lets every party claim its revenue. Every ledger
write and IPFS put is a journal step (``workdir/journal.jsonl``), so calling it again
after a crash (or an IPFS outage) with the same work directory continues where it stopped.

The same function runs on the contracts (``flai.chain``'s port) and offline on the test
ledgers (``python -m flai.pipeline``). :func:`run_next_round` and
:func:`serve_paid_requests` are the one-step versions the step scripts call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from flai.errors import ConfigError
from flai.fl import LogisticModel, baseline_scores
from flai.mpc import AnalyticsConfig, InferenceConfig
from flai.pipeline.analytics import AnalyticsOutcome, run_fa_query
from flai.pipeline.config import ScenarioConfig
from flai.pipeline.errors import PipelineError
from flai.pipeline.inference import InferenceOutcome, SecretSharedService, serve_inference
from flai.pipeline.journal import Journal
from flai.pipeline.model_release import load_model
from flai.pipeline.ports import (
    ChainPort,
    ForkRecord,
    LedgerCosts,
    RevenueClaims,
    RoundPhase,
)
from flai.pipeline.revenue import RevenueSplit, split_revenue
from flai.pipeline.roles import KeyStore
from flai.pipeline.round_flow import RoundRecord, fetch, run_round_flow
from flai.pipeline.scenario import Setting, build_setting, run_id
from flai.storage import Storage

__all__ = [
    "Baselines",
    "HospitalSummary",
    "LifecycleResult",
    "ValidatorSummary",
    "run_lifecycle",
    "run_next_round",
    "serve_paid_requests",
]


@dataclass(frozen=True)
class HospitalSummary:
    """A hospital of the scenario: its behaviour and how many samples it holds."""

    name: str
    behaviour: str
    samples: int


@dataclass(frozen=True)
class ValidatorSummary:
    """A validator's deposit on the ledger and what was slashed of it."""

    stake: int
    slashed: int


@dataclass(frozen=True)
class Baselines:
    """Test AUC of the models the federation is compared with (:func:`flai.fl.baseline_scores`:
    the same learner and hyper-parameters, ``rounds × epochs`` epochs): each hospital alone
    on its own rows, and one model on all hospitals' rows pooled."""

    alone: Mapping[str, float]
    central: float

    @property
    def mean_alone(self) -> float:
        """Mean AUC of the hospitals alone."""
        return float(np.mean(list(self.alone.values())))

    def to_json(self) -> dict[str, Any]:
        """``{"alone": {hospital: AUC}, "mean_alone": AUC, "central": AUC}``."""
        return {"alone": dict(self.alone), "mean_alone": self.mean_alone, "central": self.central}


@dataclass(frozen=True)
class LifecycleResult:
    """Everything a lifecycle produced; :func:`flai.pipeline.report.write_report` renders it."""

    run: str
    scenario: str
    network: str
    seed: int
    hospitals: tuple[HospitalSummary, ...]
    validators: Mapping[str, ValidatorSummary]
    rounds: tuple[RoundRecord, ...]
    model_version: int
    model_cid: str | None
    points: Mapping[str, int]
    ranks: tuple[str, ...]
    inference: tuple[InferenceOutcome, ...]
    analytics: AnalyticsOutcome
    revenue: RevenueSplit
    """The expected split of the revenue received (001 eq. 10/11)."""
    claimed: RevenueClaims
    revoked: Mapping[str, int]
    """Contributor revoked for malice → collateral slashed."""
    fork: ForkRecord
    costs: LedgerCosts
    baselines: Baselines

    def to_json(self) -> dict[str, Any]:
        """A JSON-compatible dict (``report.json``)."""
        return {
            "run": self.run,
            "scenario": self.scenario,
            "network": self.network,
            "seed": self.seed,
            "hospitals": [asdict(h) for h in self.hospitals],
            "validators": {n: asdict(v) for n, v in self.validators.items()},
            "rounds": [r.to_json() for r in self.rounds],
            "model_version": self.model_version,
            "model_cid": self.model_cid,
            "points": dict(self.points),
            "ranks": list(self.ranks),
            "inference": [o.to_json() for o in self.inference],
            "analytics": self.analytics.to_json(),
            "revenue": self.revenue.to_json() | {"claimed": self.claimed.to_json()},
            "revoked": dict(self.revoked),
            "fork": asdict(self.fork),
            "gas": dict(self.costs.gas),
            "gas_calls": dict(self.costs.writes),
            "baselines": self.baselines.to_json(),
        }


def _model(setting: Setting, storage: Storage, cid: str | None) -> LogisticModel:
    """The model at ``cid`` as a custodian opens it; zeros for ``None`` (none accepted yet)."""
    if cid is None:
        return LogisticModel.zeros(setting.test.num_features)
    fed = setting.federation
    blob = fetch(storage, cid, step="ledger/model")
    return load_model(blob, fed=fed, reader=fed.hospitals[0].name)


def _service(config: ScenarioConfig, setting: Setting, model: LogisticModel) -> SecretSharedService:
    return SecretSharedService(
        model=model,
        nodes=setting.federation.compute_nodes,
        config=InferenceConfig(n_nodes=config.compute.nodes, threshold=config.compute.threshold),
    )


def run_lifecycle(
    *, config: ScenarioConfig, port: ChainPort, storage: Storage, workdir: str | Path
) -> LifecycleResult:
    """Run (or resume) the scenario's whole lifecycle.

    Parameters
    ----------
    config
        A validated scenario.
    port
        The ledger: ``flai.chain``'s port over the contracts, or a test ledger.
    storage
        IPFS (embedded node, Kubo, or a local store).
    workdir
        Holds the journal (``journal.jsonl``) and the parties' keys (``keys/``).

    The lifecycle owns its ledger (the chain adapter deploys a SubDAO per work directory,
    the file ledger is per work directory): its rounds are the ledger's rounds ``1…rounds``
    and its inference listing serves only its request plan. So a rerun whose journal was
    lost reconciles from the ledger alone: rounds found settled are read back, not trained
    again, and a request is matched to its payment by the user's position in the plan (no
    payment is made twice).
    """
    work = Path(workdir)
    journal = Journal(path=work / "journal.jsonl", run_id=run_id(config))
    try:
        setting = build_setting(config, keys=KeyStore(directory=work / "keys"))
        fed = setting.federation
        model = _model(setting, storage, None)
        rounds = []
        for t in range(config.rounds):
            record, model = run_round_flow(
                t=t,
                round_id=t + 1,
                fed=fed,
                global_model=model,
                port=port,
                storage=storage,
                journal=journal,
                test_auc_of=lambda m: m.evaluate(setting.test, "auc"),
                down_nodes=config.compute.down_in(t),
            )
            rounds.append(record)

        version, version_cid = port.model_version()
        model = _model(setting, storage, version_cid)
        def trained_points() -> dict[str, int]:
            # the points training left: a revocation below burns the poisoners' (a rerun
            # whose journal was lost adds back what it burned)
            burned = port.revoked_points()
            return {n: p + burned.get(n, 0) for n, p in port.points().items()}

        points = dict(journal.once("lifecycle/points", trained_points))
        ranking = [
            h.name for h in sorted(fed.hospitals, key=lambda h: (-points.get(h.name, 0), h.index))
        ]

        def rank() -> list[str]:
            port.set_member_ranks(ranked=ranking)
            return ranking

        journal.once(
            "market/ranks",
            rank,
            probe=lambda: ranking if list(port.member_ranks()) == ranking else None,
        )
        available = [n.index for n in fed.compute_nodes]
        served = serve_inference(
            service=_service(config, setting, model),
            model=model,
            requests=[(setting.users[u], setting.test.X[row]) for u, row in setting.requests],
            port=port,
            storage=storage,
            journal=journal,
            available=available,
            by_position=True,
        )
        fa = run_fa_query(
            sites=[h.data for h in fed.hospitals],
            features=config.analytics.features,
            user=config.requester,
            price=config.analytics.price,
            port=port,
            storage=storage,
            journal=journal,
            config=AnalyticsConfig(
                n_nodes=config.compute.nodes, threshold=config.compute.threshold
            ),
            available=available,
        )
        accepted = [r for r in rounds if r.phase == RoundPhase.ACCEPTED.value]
        phi = (
            dict(zip(accepted[-1].submitters, accepted[-1].consensus, strict=True))
            if accepted
            else {}
        )
        split = split_revenue(port.revenue(), shares=config.revenue, phi=phi, sdt=config.backers)

        poisoners = sorted({n for r in rounds for n, f in r.flags.items() if "poisoner" in f})

        def revoke() -> dict[str, int]:
            port.revoke(names=poisoners)
            return dict(port.revoked())

        def revoked_already() -> dict[str, int] | None:
            done = dict(port.revoked())
            return done if set(poisoners) <= set(done) else None

        revoked = journal.once("lifecycle/revoke", revoke, probe=revoked_already)

        def fork() -> dict[str, Any]:
            port.fork_and_retire(domain=config.rfm.fork_domain)
            forked = port.fork()
            if forked is None:
                raise AssertionError("the ledger recorded no fork after fork_and_retire")
            return asdict(forked)

        def forked_already() -> dict[str, Any] | None:
            forked = port.fork()
            return None if forked is None or forked.parent_state != "Retired" else asdict(forked)

        forked = ForkRecord(**journal.once("lifecycle/fork+retire", fork, probe=forked_already))
        # the retirement ended the last SBGT pool: every pool is final and claimable
        port.claim_revenue(backers=list(config.backers))
        pooled = np.vstack([h.data.X[:, list(config.analytics.features)] for h in fed.hospitals])
        alone = baseline_scores(
            [h.data for h in fed.hospitals],
            setting.test,
            train=fed.round_config.train,
            rounds=config.rounds,
            seed=config.seed,
        )
        return LifecycleResult(
            run=run_id(config),
            scenario=config.name,
            network=config.network,
            seed=config.seed,
            hospitals=tuple(
                HospitalSummary(
                    name=h.name, behaviour=h.custodian.behaviour.name, samples=h.data.num_samples
                )
                for h in fed.hospitals
            ),
            validators={
                n: ValidatorSummary(stake=s, slashed=port.slashed().get(n, 0))
                for n, s in port.validator_stakes().items()
            },
            rounds=tuple(rounds),
            model_version=version,
            model_cid=version_cid,
            points=points,
            ranks=tuple(ranking),
            inference=tuple(served),
            analytics=fa.with_plaintext(
                mean=pooled.mean(axis=0).tolist(), variance=pooled.var(axis=0, ddof=1).tolist()
            ),
            revenue=split,
            claimed=port.claimed(),
            revoked={n: int(v) for n, v in revoked.items()},
            fork=forked,
            costs=port.costs(),
            baselines=Baselines(
                alone=dict(zip(alone.names, alone.alone, strict=True)), central=alone.central
            ),
        )
    finally:
        journal.close()


def run_next_round(
    *, config: ScenarioConfig, port: ChainPort, storage: Storage, workdir: str | Path
) -> RoundRecord:
    """Run (or resume) one training round from the accepted model on the ledger.

    The round is the ledger's last one if it is still open or finalized (a crashed run is
    resumed), else a new one; a round opens on the accepted model, so that is its base.
    Its journal is ``workdir/round-<id>.jsonl``; the parties' keys are in ``workdir/keys``.
    """
    work = Path(workdir)
    setting = build_setting(config, keys=KeyStore(directory=work / "keys"))
    count = port.round_count()
    settled = (RoundPhase.NONE, RoundPhase.ACCEPTED, RoundPhase.REJECTED)
    round_id = count + 1 if count == 0 or port.round_phase(count) in settled else count
    journal = Journal(path=work / f"round-{round_id}.jsonl", run_id=f"{run_id(config)}:step")
    try:
        record, _ = run_round_flow(
            t=round_id - 1,
            round_id=round_id,
            fed=setting.federation,
            global_model=_model(setting, storage, port.model_version()[1]),
            port=port,
            storage=storage,
            journal=journal,
            test_auc_of=lambda m: m.evaluate(setting.test, "auc"),
            down_nodes=config.compute.down_in(round_id - 1),
        )
    finally:
        journal.close()
    return record


def serve_paid_requests(
    *, config: ScenarioConfig, port: ChainPort, storage: Storage, workdir: str | Path, count: int
) -> list[InferenceOutcome]:
    """Pay and serve the first ``count`` requests of the scenario's request plan through the
    secret-shared accepted model (resumable: requests paid but not fulfilled before a crash
    are found on the ledger and served once).

    Only requests sealed under this workdir's journal can be served: a query is sealed by
    its user to the compute nodes' keys (``workdir/keys``) with a query id the operator
    learns from the journal, so foreign pending requests are out of reach.

    Raises
    ------
    ConfigError
        ``count`` exceeds the request plan.
    PipelineError
        No model version is accepted yet.
    """
    work = Path(workdir)
    setting = build_setting(config, keys=KeyStore(directory=work / "keys"))
    if count > len(setting.requests):
        raise ConfigError(f"the request plan has {len(setting.requests)} requests", field="count")
    version, cid = port.model_version()
    if cid is None:
        raise PipelineError("no accepted model version to serve: run a round first")
    model = _model(setting, storage, cid)
    journal = Journal(path=work / f"serve-v{version}.jsonl", run_id=f"{run_id(config)}:serve")
    try:
        return serve_inference(
            service=_service(config, setting, model),
            model=model,
            requests=[
                (setting.users[u], setting.test.X[row]) for u, row in setting.requests[:count]
            ],
            port=port,
            storage=storage,
            journal=journal,
            available=[n.index for n in setting.federation.compute_nodes],
        )
    finally:
        journal.close()
