"""Shared set-up of the gas benches: the brownie project on the project's own chain (once,
as ``bench/gas.py`` runs every section in one process), a bare SubDAO factory (the RFM
registry is a plain account) and the oncology request's ``RFMParams`` tuple, built from the
scenario's RFM (``configs/breast-cancer.yaml``) with :class:`flai.chain.RFMParams`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from flai.chain.runtime import connect_own_chain, isolate_brownie_home, load_project
from flai.pipeline import RFMSpec, load_config

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = load_config(ROOT / "configs" / "breast-cancer.yaml")

# brownie keeps its data in the checkout's .brownie-home, never in ~/.brownie: the home is
# chosen before any section imports brownie
isolate_brownie_home(ROOT)

SPEC_CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"


def connect() -> Any:
    """The loaded project (loading it if needed), connected to an Anvil of its own (or the
    chain handed over in ``$FLAI_CHAIN_RPC``), never to a node it did not start."""
    from brownie import network

    from flai.chain import harden_receipt_wait

    project = load_project(ROOT)
    if not network.is_connected():
        connect_own_chain()
    harden_receipt_wait()  # brownie's false "Tx dropped" verdict under load
    return project


def bare_factory(*, deployer: Any, registry: Any, flai: Any, platform_treasury: Any) -> Any:
    """A SubDAO factory whose registry is the account ``registry`` (chambers: delay 1, period 8)."""
    from flai.chain import deploy_subdao_factory

    return deploy_subdao_factory(
        deployer=deployer,
        registry=registry,
        flai_token=flai,
        platform_treasury=platform_treasury,
        platform_admin=deployer,
        voting_delay=1,
        voting_period=8,
    )


def oncology_params(*, payment_token: Any, min_validators: int, crowdfund_goal: int) -> tuple:
    """The request's ``RFMParams`` tuple: the scenario's tags and AUC threshold, 0.5 USDC per
    inference, a day per epoch, a week to fund."""
    from brownie import chain

    from flai.chain import RFMParams

    spec = RFMSpec(
        plan=replace(
            SCENARIO.rfm, epoch_length=86_400, sdt_per_payment_unit=10**30, sdt_cap=10**25
        ),
        min_validators=min_validators,
        price_per_inference=500_000,
        crowdfund_goal=crowdfund_goal,
    )
    return RFMParams.from_spec(
        spec,
        spec_cid=SPEC_CID,
        payment_token=str(payment_token.address),
        deadline=chain.time() + 7 * 86_400,
    ).as_tuple()
