"""The lifecycle report: ``reports/<run>/report.json``, ``report.md``, PNG charts, tables.

Input is the :class:`~flai.pipeline.lifecycle.LifecycleResult` of
:func:`flai.pipeline.run_lifecycle`; ``report.json`` is its
:meth:`~flai.pipeline.lifecycle.LifecycleResult.to_json` (every amount in wei).
``report.md`` and the terminal tables (:func:`format_tables`) show amounts in token units
with their symbol (FLAI for stakes and collateral, the payment token's symbol for fees
and revenue), addresses and CIDs shortened, numbers right-aligned: GitHub-flavoured
Markdown pipe tables, padded so they line up as plain text too. Charts use matplotlib's
object API (no pyplot, no global backend): AUC by round beside each hospital alone and
all data pooled, φ and SBGT points by hospital, revenue by party.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from flai.pipeline.lifecycle import LifecycleResult

__all__ = ["amount", "format_tables", "short", "table", "write_report"]

_PHI = 10**18
_WAD_DECIMALS = 18
#: Decimals shown for a token amount (the exact wei are in report.json).
AMOUNT_DECIMALS = 6


class Num(str):
    """A formatted number: a cell the tables right-align."""


def amount(wei: int, symbol: str, *, decimals: int = AMOUNT_DECIMALS) -> Num:
    """``wei`` of an 18-decimal token in whole units with ``decimals`` places and the
    token's symbol (``27.577752 FLAI``, ``0.000000 FLAI`` for zero); a non-zero amount too
    small for ``decimals`` places is shown to the wei (``0.000000000000000003 FLAI``)."""
    if 0 < abs(int(wei)) < 10 ** (_WAD_DECIMALS - decimals):
        decimals = _WAD_DECIMALS
    units = Decimal(int(wei)).scaleb(-_WAD_DECIMALS)
    return Num(f"{units:,.{decimals}f} {symbol}")


def short(text: str, *, keep: int = 6) -> str:
    """An address or CID shortened to its first and last characters (``0x5FbD…0aa3``);
    short strings are returned unchanged."""
    text = str(text)
    head = keep + 2 if text.startswith("0x") else keep
    return text if len(text) <= head + keep + 1 else f"{text[:head]}…{text[-keep:]}"


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _numeric(value: Any) -> bool:
    return isinstance(value, Num | float) or (
        isinstance(value, int) and not isinstance(value, bool)
    )


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown pipe table: numbers right-aligned (``---:``), text left-aligned, every
    cell padded to its column's width, so it renders as a table and reads as one in a
    terminal."""
    cells = [[_cell(v) for v in row] for row in rows]
    right = [bool(rows) and all(_numeric(row[i]) for row in rows) for i in range(len(headers))]
    widths = [max(3, len(str(h)), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]

    def line(r: Sequence[str]) -> str:
        padded = (c.rjust(w) if a else c.ljust(w) for c, w, a in zip(r, widths, right, strict=True))
        return "| " + " | ".join(padded) + " |"

    rule = (
        "| "
        + " | ".join(
            "-" * (w - 1) + ":" if a else "-" * w for w, a in zip(widths, right, strict=True)
        )
        + " |"
    )
    return "\n".join([line([str(h) for h in headers]), rule, *(line(r) for r in cells)])


def _hospital_rows(result: Mapping[str, Any]) -> list[list[Any]]:
    """Per hospital: name, behaviour, samples, φ last, φ mean, SBGT points, flags, revenue
    (wei)."""
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


def _sections(
    lifecycle: LifecycleResult, *, payment_symbol: str, stake_symbol: str
) -> list[tuple[str, list[str]]]:
    """The report as ``(heading, paragraphs and tables)`` pairs."""
    result = lifecycle.to_json()
    pay = payment_symbol

    def money(wei: int) -> Num:
        return amount(wei, pay)

    def flai(wei: int) -> Num:
        return amount(wei, stake_symbol)

    out: list[tuple[str, list[str]]] = []
    rounds = result["rounds"]
    out.append(
        (
            "Rounds",
            [
                table(
                    ["round", "ledger id", "phase", "posted AUC", "test AUC", "nodes", "aggregate"],
                    [
                        [
                            r["round_index"],
                            r["round_id"],
                            r["phase"],
                            r["metric_fixed"] / 1e6,
                            r["test_auc"],
                            ",".join(map(str, r["nodes_used"])) or "-",
                            short(r["aggregate_cid"] or "-"),
                        ]
                        for r in rounds
                    ],
                ),
                (
                    "posted AUC: the validators' median on their holdouts, as posted on chain "
                    "(1e6 fixed point in report.json); test AUC: the global model on the test set."
                ),
            ],
        )
    )
    base = result.get("baselines")
    if base and rounds:
        alone = base["alone"]
        rows: list[list[Any]] = [[f"{n} alone", "own rows", v] for n, v in alone.items()]
        rows += [
            ["each hospital alone (mean)", "own rows", base["mean_alone"]],
            ["federated, round 0", "all hospitals, federated", rounds[0]["test_auc"]],
            [
                f"federated, round {len(rounds) - 1}",
                "all hospitals, federated",
                rounds[-1]["test_auc"],
            ],
            ["central (all data pooled)", "all hospitals' rows in one place", base["central"]],
        ]
        gain = rounds[-1]["test_auc"] - base["mean_alone"]
        out.append(
            (
                "Learning: each hospital alone vs federated (test AUC)",
                [
                    table(["model", "trained on", "test AUC"], rows),
                    (
                        f"federated − mean alone: {gain:+.4f}; central − federated: "
                        f"{base['central'] - rounds[-1]['test_auc']:+.4f} (same learner, "
                        "hyper-parameters and epochs)."
                    ),
                ],
            )
        )
    out.append(
        (
            "Hospitals",
            [
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
                    [[*r[:7], money(r[7])] for r in _hospital_rows(result)],
                )
            ],
        )
    )
    out.append(
        (
            "Validators",
            [
                table(
                    ["validator", "stake", "slashed"],
                    [
                        [n, flai(v["stake"]), flai(v["slashed"])]
                        for n, v in result["validators"].items()
                    ],
                )
            ],
        )
    )
    tiers: dict[str, list[int]] = {}
    for o in result["inference"]:
        tiers.setdefault(o["tier"], []).append(o["fee"])
    err = max((abs(o["probability"] - o["plaintext"]) for o in result["inference"]), default=0.0)
    out.append(
        (
            "Inference",
            [
                (
                    f"{len(result['inference'])} paid secret-shared requests; "
                    f"max |secure − plaintext| = {err:.2e}."
                ),
                table(
                    ["tier", "requests", "fees"],
                    [[t, len(f), money(sum(f))] for t, f in sorted(tiers.items())],
                ),
            ],
        )
    )
    fa = result["analytics"]
    out.append(
        (
            "Federated analytics",
            [f"N = {fa['count']:,}, features {fa['features']}, fee {money(fa['fee'])}."],
        )
    )
    rev = result["revenue"]
    claimed = rev["claimed"]
    claims = [
        [
            name,
            side,
            money(expected),
            money(claimed[key].get(name, 0)),
            "exact"
            if claimed[key].get(name, 0) == expected
            else amount(claimed[key].get(name, 0) - expected, pay, decimals=18),
        ]
        for key, side in (("sbgt", "SBGT φ (eq. 10)"), ("sdt", "SDT (eq. 11)"))
        for name, expected in rev[key].items()
    ]
    out.append(
        (
            "Revenue",
            [
                f"Total received {money(rev['total'])}, split per 001 eq. 10/11.",
                table(["party", "amount"], [[k, money(v)] for k, v in _revenue_rows(result)]),
                'Claimed vs expected ("exact": equal to the wei):',
                table(["party", "side", "expected", "claimed", "difference"], claims),
            ],
        )
    )
    closing = [
        f"{name}: revoked for malice, collateral slashed {flai(v)}."
        for name, v in result["revoked"].items()
    ]
    fork = result["fork"]
    closing.append(
        f"Fork: child {short(fork['child'])} ({fork['domain']}) from model version "
        f"{fork['parent_model_version']}; parent {fork['parent_state']}."
    )
    out.append(("Revocation and fork", closing))
    if result.get("gas"):
        out.append(
            (
                "Gas per step",
                [
                    table(
                        ["step", "transactions", "gas"],
                        [
                            [k, result["gas_calls"].get(k, 0), v]
                            for k, v in sorted(result["gas"].items())
                        ],
                    )
                ],
            )
        )
    return out


def format_tables(
    lifecycle: LifecycleResult, *, payment_symbol: str = "FLAI", stake_symbol: str = "FLAI"
) -> str:
    """The report's sections as text (Markdown pipe tables, aligned for a terminal): rounds
    and AUC; each hospital alone vs federated; φ, points, flags and revenue per hospital;
    validators' stake and slashing; inference by tier; revenue by party, expected and
    claimed; revocations, the fork; gas per step.

    ``payment_symbol`` labels fees and revenue (the RFM's payment token; the scenario's
    RFM is paid in FLAI), ``stake_symbol`` stakes and collateral."""
    result = lifecycle.to_json()
    parts = [
        f"FLAI scenario {result['scenario']} (run {result['run']}, network {result['network']})"
    ]
    for heading, body in _sections(
        lifecycle, payment_symbol=payment_symbol, stake_symbol=stake_symbol
    ):
        parts.append(f"\n{heading}")
        parts.extend(body)
    return "\n".join(parts) + "\n"


def _revenue_rows(result: Mapping[str, Any]) -> list[list[Any]]:
    rev = result["revenue"]
    parties: dict[str, int] = {
        "platform treasury": rev["sides"]["platform"],
        "SubDAO treasury": rev["sides"]["treasury"],
    }
    for who, value in [*rev["sbgt"].items(), *rev["sdt"].items()]:
        parties[who] = parties.get(who, 0) + value
    parties["dust"] = rev["sides"]["dust"]
    return [[k, v] for k, v in parties.items()]


def _charts(result: Mapping[str, Any], directory: Path, *, payment_symbol: str) -> list[Path]:
    paths = []
    rounds = result["rounds"]
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    xs = [r["round_index"] for r in rounds]
    ax.plot(
        xs,
        [r["metric_fixed"] / 1e6 for r in rounds],
        marker="o",
        label="federated: posted (validators' median)",
    )
    ax.plot(xs, [r["test_auc"] for r in rounds], marker="s", label="federated: test set")
    base = result.get("baselines")
    if base:
        ax.axhline(
            base["central"], color="tab:green", linestyle="--", label="all data pooled: test set"
        )
        ax.axhline(
            base["mean_alone"],
            color="tab:red",
            linestyle=":",
            label="each hospital alone, mean: test set",
        )
        best = max(base["alone"].values())
        ax.axhline(
            best, color="tab:red", linestyle="-.", alpha=0.5, label="best hospital alone: test set"
        )
    ax.set_xticks(xs)
    ax.set_xlabel("round")
    ax.set_ylabel("AUC")
    ax.set_title("AUC by round: federated vs each hospital alone")
    ax.legend(fontsize="small")
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
    ax.set_ylabel(payment_symbol)
    ax.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    paths.append(directory / "revenue_by_party.png")
    fig.savefig(paths[-1], dpi=100)
    return paths


_CHART_TITLES = {
    "auc_by_round": "AUC by round, each hospital alone and all data pooled",
    "phi_points_by_hospital": "φ and SBGT points by hospital",
    "revenue_by_party": "Revenue by party",
}


def write_report(
    lifecycle: LifecycleResult,
    *,
    directory: str | Path,
    payment_symbol: str = "FLAI",
    stake_symbol: str = "FLAI",
) -> dict[str, Path]:
    """Write ``report.json`` (amounts in wei), ``report.md`` (Markdown: a heading and its
    tables per section, amounts in token units, each chart embedded from the PNG file next
    to it) and the PNG charts into ``directory``. The symbols are those of
    :func:`format_tables`."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    result = lifecycle.to_json()
    json_path = out / "report.json"
    json_path.write_text(json.dumps(result, indent=2, sort_keys=True), encoding="utf-8")
    charts = _charts(result, out, payment_symbol=payment_symbol)
    md = [
        f"# FLAI scenario report: {result['scenario']}",
        "",
        (
            f"Run `{result['run']}` on network `{result['network']}`, seed {result['seed']}. "
            f"Amounts in token units ({stake_symbol} for stakes and collateral, {payment_symbol} "
            "for fees and revenue); exact wei in `report.json`."
        ),
    ]
    figures = {p.stem: p for p in charts}
    placement = {
        "Rounds": "auc_by_round",
        "Hospitals": "phi_points_by_hospital",
        "Revenue": "revenue_by_party",
    }
    for heading, body in _sections(
        lifecycle, payment_symbol=payment_symbol, stake_symbol=stake_symbol
    ):
        md += ["", f"## {heading}"]
        for block in body:
            md += ["", block]
        chart = figures.get(placement.get(heading, ""))
        if chart is not None:
            md += ["", f"![{_CHART_TITLES[chart.stem]}]({chart.name})"]
    md_path = out / "report.md"
    md_path.write_text("\n".join(md) + "\n", encoding="utf-8")
    return {"json": json_path, "markdown": md_path, **figures}
