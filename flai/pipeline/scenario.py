"""The parties and data of a scenario: :func:`build_setting`, :func:`preflight` and the
journal identity.

:func:`build_setting` splits the data among the hospitals and validators (001 §9), creates
every party with its keys, and lays out the paid-inference request plan; :func:`preflight`
runs the checks a scenario needs beyond its parser (the fault hook, the data split, the
engine's settings) so an entry point can do them before its first transaction;
:func:`run_id` names a scenario's journal, so a journal of another configuration is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict

import numpy as np

from flai.errors import ConfigError
from flai.fl import (
    CheckConfig,
    Custodian,
    DataError,
    Dataset,
    FederatedSplit,
    RoundConfig,
    SplitConfig,
    TrainConfig,
    Validator,
    load_dataset,
    split_federated,
)
from flai.mpc import AggregationConfig, AnalyticsConfig, InferenceConfig
from flai.pipeline.config import WAD, ScenarioConfig
from flai.pipeline.journal import check_fault_hook
from flai.pipeline.roles import ComputeNode, Federation, Hospital, KeyStore, ModelUser

__all__ = ["Setting", "build_setting", "preflight", "run_id"]


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


def _split(config: ScenarioConfig) -> FederatedSplit:
    """Split the scenario's data set (``config.data``) among hospitals and validators."""
    return split_federated(
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


def _round_config(config: ScenarioConfig) -> RoundConfig:
    tr = config.training
    return RoundConfig(
        train=TrainConfig(
            epochs=tr.epochs, learning_rate=tr.learning_rate, batch_size=tr.batch_size
        ),
        checks=CheckConfig(max_update_norm=tr.max_update_norm),
        seed=config.seed,
    )


def preflight(config: ScenarioConfig, *, environ: Mapping[str, str] | None = None) -> None:
    """Check what :func:`~flai.pipeline.config.parse_config` cannot, without side effects:
    the fault-injection hook (``environ``, default ``os.environ``), the data split (every
    hospital and validator gets rows), and the engine's training and secret-sharing
    settings. Entry points call it before their first transaction.

    Raises
    ------
    ConfigError
        Naming the field (``FLAI_PIPELINE_FAULT``, ``hospitals``, ``training``, ``compute``).
    """
    check_fault_hook(environ)
    try:
        _split(config)
    except (DataError, ConfigError) as exc:
        # the split fails on the validators' holdouts or else on the hospitals' parts
        party = "validators" if "validators" in str(exc) else "hospitals"
        raise ConfigError(f"the data split fails: {exc}", field=party) from exc
    try:
        _round_config(config)
    except ConfigError as exc:
        raise ConfigError(str(exc), field="training") from exc
    c = config.compute
    try:
        for engine in (
            AggregationConfig(n_nodes=c.nodes, threshold=c.threshold),
            InferenceConfig(n_nodes=c.nodes, threshold=c.threshold),
            AnalyticsConfig(n_nodes=c.nodes, threshold=c.threshold),
        ):
            _ = engine.scheme
    except ValueError as exc:
        raise ConfigError(str(exc), field="compute") from exc


def build_setting(config: ScenarioConfig, *, keys: KeyStore) -> Setting:
    """Split the data and create every party (keys from ``keys``)."""
    split = _split(config)
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
    federation = Federation(
        hospitals=hospitals,
        validators=validators,
        validator_keys={v.name: keys.key(v.name) for v in config.validators},
        compute_nodes=nodes,
        round_config=_round_config(config),
        aggregation=AggregationConfig(
            n_nodes=config.compute.nodes, threshold=config.compute.threshold
        ),
        vote_tolerance=config.training.vote_tolerance,
        custodian_keys={h.name: keys.key(h.name) for h in config.hospitals},
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
