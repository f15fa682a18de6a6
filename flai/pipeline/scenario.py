"""The off-chain half of an RFM lifecycle, driven through a :class:`ChainPort`.

:func:`run_scenario` plays the configured scenario (001 §9): it splits the data among the
hospitals and validators, runs the training rounds (:func:`run_round_flow`), ranks the
members by SBGT points for member-tier pricing, serves the paid secret-shared
inferences, runs the federated-analytics query, and computes the expected revenue split.
Every ledger write and IPFS put is a journal step, so calling it again after a crash (or
an IPFS outage) with the same work directory continues where it stopped.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from flai.fl import (
    CheckConfig,
    Custodian,
    Dataset,
    LogisticModel,
    RoundConfig,
    SplitConfig,
    TrainConfig,
    load_breast_cancer_dataset,
    split_federated,
)
from flai.mpc import AggregationConfig, AnalyticsConfig, InferenceConfig
from flai.pipeline.analytics import run_fa_query
from flai.pipeline.config import ScenarioConfig
from flai.pipeline.inference import SecretSharedService, serve_inference
from flai.pipeline.journal import Journal
from flai.pipeline.ports import ChainPort
from flai.pipeline.revenue import split_revenue
from flai.pipeline.roles import ComputeNode, Hospital, KeyStore, ModelUser, Validator
from flai.pipeline.round_flow import Federation, fetch, run_round_flow
from flai.storage import Storage

__all__ = ["Setting", "build_setting", "run_id", "run_scenario"]


class Setting:
    """The parties and data of a scenario (built by :func:`build_setting`)."""

    def __init__(
        self,
        *,
        federation: Federation,
        test: Dataset,
        users: dict[str, ModelUser],
        requests: list[tuple[str, int]],
    ) -> None:
        self.federation = federation
        self.test = test
        self.users = users
        self.requests = requests
        """``(user name, test row)`` per paid inference, in serving order."""


def run_id(config: ScenarioConfig) -> str:
    """Journal identity of a scenario: its name and a digest of its whole configuration."""
    digest = hashlib.sha256(
        json.dumps(asdict(config), sort_keys=True, default=str).encode()
    ).hexdigest()[:16]
    return f"{config.name}:{digest}"


def build_setting(config: ScenarioConfig, *, keys: KeyStore) -> Setting:
    """Split the data and create every party (keys from ``keys``)."""
    split = split_federated(
        load_breast_cancer_dataset(),
        SplitConfig(
            num_custodians=len(config.hospitals),
            sizes=tuple(h.size for h in config.hospitals),
            num_validators=len(config.validators),
            test_fraction=config.training.test_fraction,
            validation_fraction=config.training.validation_fraction,
            seed=config.seed,
        ),
    )
    hospitals = tuple(
        Hospital(
            name=h.name,
            index=k,
            custodian=Custodian(
                custodian_id=h.name,
                data=Dataset(X=split.custodians[k].X, y=split.custodians[k].y, name=h.name),
                behaviour=h.make_behaviour(),
            ),
        )
        for k, h in enumerate(config.hospitals)
    )
    validators = tuple(
        Validator(
            name=v.name,
            index=i,
            holdout=Dataset(X=split.validators[i].X, y=split.validators[i].y, name=v.name),
            keypair=keys.key(v.name),
            behaviour=v.behaviour,
        )
        for i, v in enumerate(config.validators)
    )
    nodes = tuple(
        ComputeNode(name=f"node-{j}", index=j, keypair=keys.key(f"node-{j}"))
        for j in range(config.compute.nodes)
    )
    tr = config.training
    federation = Federation(
        hospitals=hospitals,
        validators=validators,
        compute_nodes=nodes,
        round_config=RoundConfig(
            train=TrainConfig(
                epochs=tr.epochs, learning_rate=tr.learning_rate, batch_size=tr.batch_size
            ),
            checks=CheckConfig(max_update_norm=tr.max_update_norm),
            seed=config.seed,
        ),
        aggregation=AggregationConfig(
            n_nodes=config.compute.nodes, threshold=config.compute.threshold
        ),
        vote_tolerance=tr.vote_tolerance,
    )
    plan = config.inference
    externals = [f"external-{i}" for i in range(3)]
    names = (
        [externals[i % len(externals)] for i in range(plan.external)]
        + [config.requester] * plan.requester
        + [hospitals[i % len(hospitals)].name for i in range(plan.member)]
    )
    order = np.random.default_rng([config.seed, 7]).permutation(len(names))
    requests = [(names[int(i)], int(n % split.test.num_samples)) for n, i in enumerate(order)]
    users = {n: ModelUser(name=n, keypair=keys.key(f"user-{n}")) for n in sorted(set(names))}
    return Setting(federation=federation, test=split.test, users=users, requests=requests)


def run_scenario(
    *,
    config: ScenarioConfig,
    port: ChainPort,
    storage: Storage,
    workdir: str | Path,
) -> dict[str, Any]:
    """Run (or resume) the off-chain scenario; return the result document for the report.

    Parameters
    ----------
    config
        A validated scenario.
    port
        The ledger (``flai.chain`` adapter, or a test double).
    storage
        IPFS (embedded node, Kubo, or a local store).
    workdir
        Holds the journal (``journal.jsonl``) and the parties' keys (``keys/``).
    """
    work = Path(workdir)
    journal = Journal(path=work / "journal.jsonl", run_id=run_id(config))
    try:
        setting = build_setting(config, keys=KeyStore(directory=work / "keys"))
        fed = setting.federation
        model = LogisticModel.zeros(setting.test.num_features)
        rounds = []
        for t in range(config.rounds):
            record, model = run_round_flow(
                t=t,
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
        if version_cid is not None:
            model = LogisticModel.from_bytes(fetch(storage, version_cid, step="market/model"))
        points = dict(port.points())
        ranked = sorted(fed.hospitals, key=lambda h: (-points.get(h.name, 0), h.index))
        ranking = [h.name for h in ranked]

        def rank() -> list[str]:
            port.set_member_ranks(ranked=ranking)
            return ranking

        def ranked_already() -> list[str] | None:
            return ranking if list(port.member_ranks()) == ranking else None

        journal.once("market/ranks", rank, probe=ranked_already)

        available = [n.index for n in fed.compute_nodes]
        service = SecretSharedService(
            model=model,
            nodes=fed.compute_nodes,
            config=InferenceConfig(
                n_nodes=config.compute.nodes, threshold=config.compute.threshold
            ),
        )
        served = serve_inference(
            service=service,
            model=model,
            requests=[(setting.users[u], setting.test.X[row]) for u, row in setting.requests],
            port=port,
            storage=storage,
            journal=journal,
            available=available,
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
        accepted = [r for r in rounds if r.phase == "accepted"]
        phi = (
            dict(zip(accepted[-1].submitters, accepted[-1].consensus, strict=True))
            if accepted
            else {}
        )
        revenue = port.revenue()
        split = split_revenue(revenue, shares=config.revenue, phi=phi, sdt=config.backers)
        pooled = np.vstack([h.data.X[:, list(config.analytics.features)] for h in fed.hospitals])
        return {
            "run": run_id(config),
            "scenario": config.name,
            "network": config.network,
            "seed": config.seed,
            "hospitals": [
                {
                    "name": h.name,
                    "behaviour": h.custodian.behaviour.name,
                    "samples": h.data.num_samples,
                }
                for h in fed.hospitals
            ],
            "validators": {
                n: {"stake": s, "slashed": port.slashed().get(n, 0)}
                for n, s in port.validator_stakes().items()
            },
            "rounds": [r.to_json() for r in rounds],
            "model_version": version,
            "model_cid": version_cid,
            "points": points,
            "ranks": ranking,
            "inference": [o.to_json() for o in served],
            "analytics": {
                **fa,
                "plaintext_mean": pooled.mean(axis=0).tolist(),
                "plaintext_variance": pooled.var(axis=0, ddof=1).tolist(),
            },
            "revenue": {"total": revenue, **split},
        }
    finally:
        journal.close()
