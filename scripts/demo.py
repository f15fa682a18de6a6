"""`make demo`: the worked pharma/hospitals scenario of 001 §9, end to end on Anvil.

Runs ``configs/scenario.yaml`` through :mod:`scripts.rfm_lifecycle` (the same code path as
``flai run scripts/rfm_lifecycle.py``): the SuperDAO platform and SubDAO factory are
deployed, PharmaCo's RFM is approved by a SuperDAO vote, backers fund the crowdfund,
hospitals and validators onboard, five hospitals (one free-rider, one label-flipper) train
for three rounds under three validators and three compute nodes (one node down in round
1), the SBGT chamber lists the model, 57 paid secret-shared inferences are served across
the price tiers, one federated-analytics query is sold by an FA SubDAO, revenue is
claimed by φ (eq. 10) and by SDT (eq. 11), and the label-flipper is revoked for malice.
Prints the tables (rounds and AUC; φ, SBGT points, slashing and revenue per party; gas per
step) and writes ``reports/<run>/report.{json,md}`` with PNG charts.
"""

from __future__ import annotations

import contextlib
import io
import sys
import time
import warnings

from flai.pipeline.report import format_tables, table
from scripts.rfm_lifecycle import lifecycle

WAD = 10**18


def say(text: str = "") -> None:
    print(text, file=sys.__stdout__, flush=True)


def _flai(wei: int) -> str:
    return f"{wei / WAD:,.6f}"


def main(config_path: str = "configs/scenario.yaml") -> None:
    # brownie's per-transaction lines (stdout) and deprecation warnings are muted: the
    # report is the output; errors and tracebacks still reach stderr
    warnings.filterwarnings("ignore")
    started = time.perf_counter()
    say("FLAI demo: the pharma/hospitals RFM lifecycle on a local Anvil chain (001 §9)")
    say("running: deploy → RFM approval → crowdfund → onboarding → 3 rounds → market → claims …")
    with contextlib.redirect_stdout(io.StringIO()):
        result, report_dir = lifecycle(config_path, None)
    wall = time.perf_counter() - started

    say()
    say(format_tables(result))
    rev = result["revenue"]
    claimed = rev["claimed"]
    rows = []
    for name, expected in rev["sbgt"].items():
        got = claimed["sbgt"].get(name, 0)
        rows.append([name, "SBGT φ (eq. 10)", _flai(expected), _flai(got), got - expected])
    for name, expected in rev["sdt"].items():
        got = claimed["sdt"].get(name, 0)
        rows.append([name, "SDT (eq. 11)", _flai(expected), _flai(got), got - expected])
    say("Revenue claimed on chain vs expected (FLAI; diff in wei)")
    say(table(["party", "side", "expected", "claimed", "diff"], rows))
    say()
    revoked = result.get("revoked", {})
    for name, amount in revoked.items():
        say(
            f"{name}: revoked for malice by the technical chamber, collateral slashed {_flai(amount)} FLAI"
        )
    fork = result["fork"]
    say(
        f"fork: child SubDAO {fork['child']} records parent {fork['lineage_parent']} at model "
        f"version {fork['parent_model_version']}; parent {fork['parent_state']}, listing "
        f"#{fork['listing']} refuses new requests"
    )
    version, cid = result["model_version"], result["model_cid"]
    say(f"accepted model version {version}: {cid}")
    say(
        f"listings: inference #{result['listing']['inference']}, analytics #{result['listing']['analytics']}"
    )
    say(f"transactions: {sum(result['gas_calls'].values())}, gas {sum(result['gas'].values()):,}")
    say(f"report: {report_dir}/report.md (+ report.json, 3 PNG charts)")
    say(f"wall time: {wall:.1f} s")
