"""Shared set-up of the gas benches: the brownie project and network (once, as
``bench/gas.py`` runs every section in one process), a bare SubDAO factory (the RFM registry is
a plain account) and the oncology request's ``RFMParams`` tuple, built with
:class:`flai.chain.RFMRequest`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

SPEC_CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"


def connect() -> Any:
    """The loaded project (loading it if needed), connected to ``$FLAI_BENCH_NETWORK``
    (default ``development``, i.e. a fresh Anvil)."""
    import brownie
    from brownie import network

    from flai.chain import harden_receipt_wait

    harden_receipt_wait()  # brownie's false "Tx dropped" verdict under load
    loaded = brownie.project.get_loaded_projects()
    project = loaded[0] if loaded else brownie.project.load(ROOT)
    if not network.is_connected():
        network.connect(os.environ.get("FLAI_BENCH_NETWORK", "development"))
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
    """The request's ``RFMParams`` tuple: AUC ≥ 0.85, 0.5 USDC per inference, a week to fund."""
    from brownie import chain

    from flai.chain import RFMRequest

    return RFMRequest(
        spec_cid=SPEC_CID,
        domain="healthcare.oncology",
        model_class="binary-classifier",
        data_schema="HL7-FHIR-R4",
        metric_id="AUC",
        metric_threshold=0.85,
        min_validators=min_validators,
        quorum_bps=2_000,
        epoch_length=86_400,
        crowdfund_deadline=chain.time() + 7 * 86_400,
        payment_token=payment_token,
        price_per_inference=500_000,
        crowdfund_goal=crowdfund_goal,
        sdt_per_payment_unit=10**30,
        sdt_cap=10**25,
    ).as_tuple()
