"""The parties and data of a scenario: :func:`build_setting` and the journal identity.

:func:`build_setting` splits the data among the hospitals and validators (001 §9), creates
every party with its keys, and lays out the paid-inference request plan; :func:`run_id`
names a scenario's journal, so a journal of another configuration is refused.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

import numpy as np

from flai.fl import (
    CheckConfig,
    Custodian,
    Dataset,
    RoundConfig,
    SplitConfig,
    TrainConfig,
    Validator,
    load_dataset,
    split_federated,
)
from flai.mpc import AggregationConfig
from flai.pipeline.config import WAD, ScenarioConfig
from flai.pipeline.roles import ComputeNode, Federation, Hospital, KeyStore, ModelUser

__all__ = ["Setting", "build_setting", "run_id"]


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
    """Split the scenario's data set (``config.data``) and create every party (keys from
    ``keys``)."""
    split = split_federated(
        load_dataset(config.data.dataset),
        SplitConfig(
            num_custodians=len(config.hospitals),
            sizes=tuple(h.size for h in config.hospitals),
            partition="dirichlet" if config.data.partition == "dirichlet" else "iid",
            alpha=config.data.alpha,
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
            validator_id=v.name,
            holdout=Dataset(X=split.validators[i].X, y=split.validators[i].y, name=v.name),
            stake=v.stake * WAD,
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
        validator_keys={v.name: keys.key(v.name) for v in config.validators},
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
    externals = plan.external_users
    names = (
        [externals[i % len(externals)] for i in range(plan.external)]
        + [config.requester] * plan.requester
        + [hospitals[i % len(hospitals)].name for i in range(plan.member)]
    )
    order = np.random.default_rng([config.seed, 7]).permutation(len(names))
    requests = [(names[int(i)], int(n % split.test.num_samples)) for n, i in enumerate(order)]
    users = {n: ModelUser(name=n, keypair=keys.key(f"user-{n}")) for n in sorted(set(names))}
    return Setting(federation=federation, test=split.test, users=users, requests=requests)
