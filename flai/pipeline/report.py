"""The lifecycle report: ``reports/<run>/report.json``, ``report.md``, PNG charts, tables.

Input is the :class:`~flai.pipeline.lifecycle.LifecycleResult` of
:func:`flai.pipeline.run_lifecycle`; ``report.json`` is its
:meth:`~flai.pipeline.lifecycle.LifecycleResult.to_json`. Charts use matplotlib's
object API (no pyplot, no global backend): AUC by round, φ and SBGT points by hospital,
revenue by party.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from flai.pipeline.lifecycle import LifecycleResult

__all__ = ["format_tables", "table", "write_report"]

_PHI = 10**18


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table with right-aligned numbers (readable in a terminal and in Markdown)."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(r: Sequence[str]) -> str:
        return "| " + " | ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), sep, *(line(r) for r in cells[1:])])


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _hospital_rows(result: Mapping[str, Any]) -> list[list[Any]]:
    rounds = result["rounds"]
    revenue = result["revenue"]
    rows = []
    for h in result["hospitals"]:
        name = h["name"]
        phis = []
        flags: set[str] = set()
        for r in rounds:
            if name in r["submitters"]:
                phis.append(r["consensus"][r["submitters"].index(name)] / _PHI)
                flags.update(r["flags"].get(name, []))
        rows.append(
            [
                name,
                h["behaviour"],
                h["samples"],
                phis[-1] if phis else 0.0,
                sum(phis) / len(phis) if phis else 0.0,
                result["points"].get(name, 0) / _PHI,
                ",".join(sorted(flags)) or "-",
                revenue["sbgt"].get(name, 0) + revenue["sdt"].get(name, 0),
            ]
        )
    return rows


def format_tables(lifecycle: LifecycleResult) -> str:
    """The report's tables as text: rounds and AUC; φ, points, flags and revenue per
    hospital; validators' stake and slashing; inference by tier; revenue by party, expected
    and claimed; revocations, the fork; gas per step."""
    result = lifecycle.to_json()
    parts = [
        f"FLAI scenario {result['scenario']} (run {result['run']}, network {result['network']})"
    ]
    parts.append("\nRounds")
    parts.append(
        table(
            [
                "round",
                "ledger id",
                "phase",
                "metric (AUC, 1e6)",
                "test AUC",
                "nodes",
                "aggregate CID",
            ],
            [
                [
                    r["round_index"],
                    r["round_id"],
                    r["phase"],
                    r["metric_fixed"],
                    r["test_auc"],
                    ",".join(map(str, r["nodes_used"])) or "-",
                    r["aggregate_cid"],
                ]
                for r in result["rounds"]
            ],
        )
    )
    parts.append("\nHospitals")
    parts.append(
        table(
            [
                "hospital",
                "behaviour",
                "samples",
                "φ last",
                "φ mean",
                "SBGT points",
                "flags",
                "revenue",
            ],
            _hospital_rows(result),
        )
    )
    parts.append("\nValidators")
    parts.append(
        table(
            ["validator", "stake", "slashed"],
            [[n, v["stake"], v["slashed"]] for n, v in result["validators"].items()],
        )
    )
    tiers: dict[str, list[int]] = {}
    for o in result["inference"]:
        tiers.setdefault(o["tier"], []).append(o["fee"])
    err = max((abs(o["probability"] - o["plaintext"]) for o in result["inference"]), default=0.0)
    parts.append(
        f"\nInference ({len(result['inference'])} paid requests, max |secure − plaintext| = {err:.2e})"
    )
    parts.append(
        table(["tier", "requests", "fees"], [[t, len(f), sum(f)] for t, f in sorted(tiers.items())])
    )
    fa = result["analytics"]
    parts.append(
        f"\nFederated analytics: N = {fa['count']}, features {fa['features']}, fee {fa['fee']}"
    )
    rev = result["revenue"]
    parts.append(f"\nRevenue (total {rev['total']}, expected split per 001 eq. 10/11)")
    parts.append(table(["party", "amount"], _revenue_rows(result)))
    claimed = result["revenue"]["claimed"]
    rows = [
        [name, side, expected, claimed[key].get(name, 0), claimed[key].get(name, 0) - expected]
        for key, side in (("sbgt", "SBGT φ (eq. 10)"), ("sdt", "SDT (eq. 11)"))
        for name, expected in result["revenue"][key].items()
    ]
    parts.append("\nRevenue claimed vs expected (diff in wei)")
    parts.append(table(["party", "side", "expected", "claimed", "diff"], rows))
    for name, amount in result["revoked"].items():
        parts.append(f"\n{name}: revoked for malice, collateral slashed {amount}")
    fork = result["fork"]
    parts.append(
        f"\nfork: child {fork['child']} ({fork['domain']}) from model version "
        f"{fork['parent_model_version']}; parent {fork['parent_state']}"
    )
    if result.get("gas"):
        parts.append("\nGas per step")
        parts.append(table(["step", "gas"], sorted(result["gas"].items())))
    return "\n".join(parts) + "\n"


def _revenue_rows(result: Mapping[str, Any]) -> list[list[Any]]:
    rev = result["revenue"]
    parties: dict[str, int] = {
        "platform treasury": rev["sides"]["platform"],
        "SubDAO treasury": rev["sides"]["treasury"],
    }
    for who, amount in [*rev["sbgt"].items(), *rev["sdt"].items()]:
        parties[who] = parties.get(who, 0) + amount
    parties["dust"] = rev["sides"]["dust"]
    return [[k, v] for k, v in parties.items()]


def _charts(result: Mapping[str, Any], directory: Path) -> list[Path]:
    paths = []
    rounds = result["rounds"]
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    xs = [r["round_index"] for r in rounds]
    ax.plot(
        xs,
        [r["metric_fixed"] / 1e6 for r in rounds],
        marker="o",
        label="posted (validators' median)",
    )
    ax.plot(xs, [r["test_auc"] for r in rounds], marker="s", label="test set")
    ax.set_xticks(xs)
    ax.set_xlabel("round")
    ax.set_ylabel("AUC")
    ax.set_title("AUC by round")
    ax.legend()
    fig.tight_layout()
    paths.append(directory / "auc_by_round.png")
    fig.savefig(paths[-1], dpi=100)

    rows = _hospital_rows(result)
    fig = Figure(figsize=(10, 4))
    a1, a2 = fig.subplots(1, 2)
    names = [r[0] for r in rows]
    a1.bar(names, [r[4] for r in rows])
    a1.set_title("mean consensus φ by hospital")
    a2.bar(names, [r[5] for r in rows], color="tab:orange")
    a2.set_title("SBGT points by hospital")
    for a in (a1, a2):
        a.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    paths.append(directory / "phi_points_by_hospital.png")
    fig.savefig(paths[-1], dpi=100)

    rev = _revenue_rows(result)
    fig = Figure(figsize=(8, 4))
    ax = fig.subplots()
    ax.bar([r[0] for r in rev], [r[1] / 1e18 for r in rev], color="tab:green")
    ax.set_title("revenue by party")
    ax.set_ylabel("tokens (amount / 1e18)")
    ax.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    paths.append(directory / "revenue_by_party.png")
    fig.savefig(paths[-1], dpi=100)
    return paths


def write_report(lifecycle: LifecycleResult, *, directory: str | Path) -> dict[str, Path]:
    """Write ``report.json``, ``report.md`` and the PNG charts into ``directory``."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    result = lifecycle.to_json()
    json_path = out / "report.json"
    json_path.write_text(json.dumps(result, indent=2, sort_keys=True), encoding="utf-8")
    charts = _charts(result, out)
    md = ["# FLAI scenario report", "", "```", format_tables(lifecycle).rstrip(), "```", ""]
    md += [f"![{p.stem}]({p.name})" for p in charts]
    md_path = out / "report.md"
    md_path.write_text("\n".join(md) + "\n", encoding="utf-8")
    return {"json": json_path, "markdown": md_path, **{p.stem: p for p in charts}}
