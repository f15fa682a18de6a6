"""`make demo`: the worked pharma/hospitals scenario of 001 §9, end to end on Anvil.

Runs ``configs/scenario.yaml`` through :mod:`scripts.rfm_lifecycle` (the same code path as
``flai run scripts/rfm_lifecycle.py``): the SuperDAO platform and SubDAO factory are
deployed, PharmaCo's RFM is approved by a SuperDAO vote, backers fund the crowdfund,
hospitals and validators onboard, five hospitals holding label-skewed shares of the SUPPORT
data set (one free-rider, one label-flipper) train for five rounds under three validators
and three compute nodes (one node down in round 1), the SBGT chamber lists the model, 57
paid secret-shared inferences are served across the price tiers, one federated-analytics
query is sold by an FA SubDAO, revenue is claimed by φ (eq. 10) and by SDT (eq. 11), the
label-flipper is revoked for malice, a subtype child is forked and the parent retired.
Prints the tables (rounds and AUC; each hospital alone vs federated; φ, SBGT points,
slashing and revenue per party; gas per step) and writes ``reports/<run>/report.{json,md}``
with PNG charts. Exits with status 1 if any party's claimed revenue differs from its
eq. 10/11 share by a single wei.
"""

from __future__ import annotations

import contextlib
import io
import sys
import time
import warnings

from flai.pipeline import LifecycleResult
from flai.pipeline.report import format_tables
from scripts.rfm_lifecycle import lifecycle


def say(text: str = "") -> None:
    print(text, file=sys.__stdout__, flush=True)


def claim_mismatches(result: LifecycleResult) -> list[str]:
    """Parties whose claimed revenue is not their expected eq. 10/11 share, to the wei."""
    claimed, expected = result.claimed, result.revenue
    out = []
    for side, want, got in (
        ("SBGT", expected.sbgt, claimed.sbgt),
        ("SDT", expected.sdt, claimed.sdt),
    ):
        for name, amount in want.items():
            if got.get(name, 0) != amount:
                out.append(f"{name} ({side}): claimed {got.get(name, 0)} wei, expected {amount}")
    if claimed.received != expected.total:
        out.append(f"splitter received {claimed.received} wei, split {expected.total}")
    return out


def main(config_path: str = "configs/scenario.yaml") -> None:
    # brownie's per-transaction lines (stdout) and deprecation warnings are muted: the
    # report is the output; errors and tracebacks still reach stderr
    warnings.filterwarnings("ignore")
    started = time.perf_counter()
    say("FLAI demo: the pharma/hospitals RFM lifecycle on a local Anvil chain (001 §9)")
    say("running: deploy → RFM approval → crowdfund → onboarding → rounds → market → claims …")
    with contextlib.redirect_stdout(io.StringIO()):
        result, port, report_dir = lifecycle(config_path, None)
    wall = time.perf_counter() - started

    say()
    say(format_tables(result, payment_symbol=port.payment_symbol()))
    say(f"listing #{port.listing_id()} of the retired parent refuses new requests")
    say(f"accepted model version {result.model_version}: {result.model_cid}")
    say(f"listings: inference #{port.listing_id()}, analytics #{port.analytics_listing_id()}")
    costs = result.costs
    say(f"transactions: {sum(costs.writes.values())}, gas {sum(costs.gas.values()):,}")
    mismatches = claim_mismatches(result)
    say(
        "revenue claimed == eq. 10/11 shares, to the wei"
        if not mismatches
        else "revenue claims differ from eq. 10/11: " + "; ".join(mismatches)
    )
    say(f"report: {report_dir}/report.md (+ report.json, 3 PNG charts)")
    say(f"lifecycle time: {wall:.1f} s")
    if mismatches:
        raise SystemExit(1)
