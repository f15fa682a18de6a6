"""The whole lifecycle offline: the pipeline over the test ledger and the embedded IPFS node."""

from __future__ import annotations

import json
import re
from collections import Counter

import numpy as np
import pytest
from numpy.testing import assert_allclose

from flai.fl import LogisticModel, phi_weighted_fedavg, run_round, stake_weighted_median
from flai.pipeline import KeyStore, build_setting, run_lifecycle, write_report
from flai.pipeline.model_release import load_model
from flai.pipeline.report import amount as in_units
from flai.pipeline.report import short, table
from flai.storage import IpfsHttpStorage, IpfsNode, LocalStore
from tests.offchain.pipeline.approx import assert_same_run
from tests.offchain.pipeline.conftest import make_ledger

ONE = 10**18


@pytest.fixture(scope="module")
def run(scenario, tmp_path_factory):
    base = tmp_path_factory.mktemp("scenario")
    node = IpfsNode(repo=base / "ipfs").start()
    storage = IpfsHttpStorage(address=node.address, timeout=10)
    ledger = make_ledger(scenario)
    try:
        lifecycle = run_lifecycle(
            config=scenario, port=ledger, storage=storage, workdir=base / "work"
        )
        yield {
            "lifecycle": lifecycle,
            "result": lifecycle.to_json(),
            "ledger": ledger,
            "storage": storage,
            "base": base,
        }
    finally:
        storage.close()
        node.stop()


def _engine(scenario, base):
    setting = build_setting(scenario, keys=KeyStore(directory=base / "work" / "keys"))
    fed = setting.federation
    custodians = [h.custodian for h in fed.hospitals]
    validators = list(fed.validators)  # the engine's own Validator type
    return fed, custodians, validators


def test_every_round_matches_the_engine(run, scenario):
    result, ledger, storage = run["result"], run["ledger"], run["storage"]
    fed, custodians, validators = _engine(scenario, run["base"])
    model = LogisticModel.zeros(custodians[0].data.num_features)
    assert len(result["rounds"]) == scenario.rounds
    for t, rec in enumerate(result["rounds"]):
        assert load_model(storage.get(rec["global_cid"]), fed=fed, reader="st-mary") == model
        engine = run_round(
            custodians=custodians,
            validators=validators,
            global_model=model,
            config=fed.round_config,
            round_index=t,
        )
        # consensus φ in 1e18 fixed point: pipeline == ledger == the contract's rule, exactly
        rows = [list(rec["validator_scores"][v.validator_id]) for v in validators]
        phi = stake_weighted_median(rows, [v.stake for v in validators])
        assert tuple(rec["consensus"]) == phi
        assert ledger.consensus(rec["round_id"]) == (tuple(rec["submitters"]), phi)
        # secure scoring ranks like the engine's plaintext exact Shapley: the same updates
        # are credited and each credited φ is within 0.1 of the plaintext one
        np.testing.assert_array_equal(np.array(phi) == 0, np.array(engine.phi_fixed) == 0)
        assert_allclose(np.array(phi) / ONE, np.array(engine.phi_fixed) / ONE, atol=0.1)
        # the posted aggregate CID re-fetched from IPFS is exactly the aggregate computed
        cid, metric = ledger.aggregate(rec["round_id"])
        assert cid == rec["aggregate_cid"] and metric == rec["metric_fixed"]
        aggregate = load_model(storage.get(cid), fed=fed, reader="charite")
        # secure aggregation equals plaintext φ-FedAvg (001 eq. 1) of the round's updates
        # under the posted consensus, within the sMPC bound
        updates = [LogisticModel.from_bytes(o.update) for o in engine.outcomes]
        plain, _ = phi_weighted_fedavg(updates, [p / ONE for p in phi], previous=model)
        assert_allclose(aggregate.params, plain.params, atol=2e-4)
        # the acceptance AUC, computed on the nodes' shares, is the AUC of the opened model
        for v in validators:
            assert_allclose(
                rec["validator_metrics"][v.validator_id],
                aggregate.evaluate(v.holdout, "auc"),
                atol=2e-3,
            )
        assert rec["phase"] == "accepted"
        model = aggregate
    version, version_cid = ledger.model_version()
    assert version == scenario.rounds
    assert version_cid == result["rounds"][-1]["aggregate_cid"] == result["model_cid"]


def test_free_rider_and_label_flipper(run):
    for rec in run["result"]["rounds"]:
        phi = dict(zip(rec["submitters"], rec["consensus"], strict=True))
        assert phi["free-clinic"] <= ONE // 100  # φ ≈ 0
        assert "free_rider" in rec["flags"]["free-clinic"]
        assert phi["rogue-lab"] == 0
        assert "poisoner" in rec["flags"]["rogue-lab"]
        honest = [phi[h] for h in ("st-mary", "charite", "karolinska")]
        assert min(honest) > ONE // 10
    points = run["ledger"].points()
    assert points["rogue-lab"] == 0 and points["free-clinic"] <= ONE
    assert run["result"]["ranks"][-2:] == ["free-clinic", "rogue-lab"]


def test_round_with_a_compute_node_down_completes(run, scenario):
    down = scenario.compute.down_in(1)
    assert down == (2,)
    rec = run["result"]["rounds"][1]
    assert rec["nodes_used"] == [0, 1] and rec["phase"] == "accepted"
    assert run["result"]["rounds"][0]["nodes_used"] == [0, 1, 2]


def test_secret_shared_inference_equals_plaintext(run, scenario):
    served = run["result"]["inference"]
    assert len(served) == scenario.inference.total >= 50
    diffs = [abs(o["probability"] - o["plaintext"]) for o in served]
    assert max(diffs) < 1e-4
    assert len({round(o["plaintext"], 3) for o in served}) > 10  # varied inputs
    tiers = Counter(o["tier"] for o in served)
    assert tiers == {"external": 30, "requester": 12, "member": 15}
    ledger, ranks, x = run["ledger"], run["result"]["ranks"], scenario.inference.base_price
    for o in served:
        if o["tier"] == "external":
            assert o["fee"] == 10 * x
        elif o["tier"] == "requester":
            assert o["fee"] == 3 * x
        else:
            assert o["fee"] == x * ranks.index(o["user"]) // (len(ranks) - 1)
        request = ledger.request(o["request_id"])
        assert request.input_cid == o["input_cid"] and request.output_cid == o["output_cid"]


def test_federated_analytics_query(run, scenario):
    fa = run["result"]["analytics"]
    assert fa["count"] == sum(h["samples"] for h in run["result"]["hospitals"])
    assert_allclose(fa["mean"], fa["plaintext_mean"], atol=1e-5)
    assert_allclose(fa["variance"], fa["plaintext_variance"], rtol=1e-5, atol=1e-5)
    request = run["ledger"].request(fa["request_id"])
    assert request.kind == "query" and request.output_cid == fa["result_cid"]
    assert run["storage"].get_json(fa["result_cid"])["count"] == fa["count"]


def test_no_ledger_write_is_duplicated(run, scenario):
    log = run["ledger"].log
    ops = Counter(entry[0] for entry in log)
    k, v, r = len(scenario.hospitals), len(scenario.validators), scenario.rounds
    assert ops["open_round"] == r and ops["close_commits"] == r and ops["finalize_round"] == r
    assert ops["commit_update"] == r * k and ops["submit_scores"] == r * v
    assert ops["vote_aggregate"] == r * v and ops["settle_round"] == r
    assert ops["request_inference"] == scenario.inference.total and ops["request_query"] == 1
    assert ops["fulfil"] == scenario.inference.total + 1
    keys = [(e[0], e[1], e[2]) for e in log if e[0] in ("commit_update", "submit_scores")]
    assert len(keys) == len(set(keys))


def test_revenue_split_follows_eq_10_11(run, scenario):
    rev = run["result"]["revenue"]
    total = rev["total"]
    assert total == run["ledger"].revenue()
    assert rev["sides"]["platform"] == total * 3000 // 10_000
    last = run["result"]["rounds"][-1]
    phi = dict(zip(last["submitters"], last["consensus"], strict=True))
    for name, amount in rev["sbgt"].items():
        assert amount == rev["sides"]["sbgt"] * phi[name] // sum(phi.values())
    assert rev["sbgt"]["rogue-lab"] == 0
    paid = sum(rev["sbgt"].values()) + sum(rev["sdt"].values())
    assert (
        paid + rev["sides"]["platform"] + rev["sides"]["treasury"] + rev["sides"]["dust"] == total
    )
    assert 0 <= rev["sides"]["dust"] < len(rev["sbgt"]) + len(rev["sdt"])


def test_revocation_fork_and_claims_close_the_lifecycle(run, scenario):
    lifecycle, ledger = run["lifecycle"], run["ledger"]
    assert lifecycle.revoked == {"rogue-lab": scenario.onboarding.collateral * ONE}
    assert ledger.points()["rogue-lab"] == 0
    assert lifecycle.fork.parent_model_version == scenario.rounds
    assert lifecycle.fork.domain == scenario.rfm.fork_domain
    assert lifecycle.fork.parent_state == "Retired"
    # the offline ledger pays exactly the expected split: claims == eq. 10/11, to the wei
    assert dict(lifecycle.claimed.sbgt) == {
        h: lifecycle.revenue.sbgt.get(h, 0) for h in scenario.hospital_names
    }
    assert dict(lifecycle.claimed.sdt) == dict(lifecycle.revenue.sdt)
    assert lifecycle.claimed.received == lifecycle.revenue.total
    ops = Counter(entry[0] for entry in ledger.log)
    assert ops["revoke"] == 1 and ops["fork_and_retire"] == 1
    assert dict(lifecycle.costs.writes) == dict(ops)


def test_report_files(run, tmp_path):
    paths = write_report(run["lifecycle"], directory=tmp_path / "reports" / "demo")
    assert json.loads(paths["json"].read_text()) == run["result"]
    md = paths["markdown"].read_text()
    assert "| free-clinic |" in md and "auc_by_round.png" in md
    for name in ("auc_by_round", "phi_points_by_hospital", "revenue_by_party"):
        assert paths[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _md_tables(md):
    """The Markdown pipe tables of ``md``: lists of rows, each a list of stripped cells."""
    tables, current = [], []
    for line in md.splitlines():
        if line.startswith("|"):
            current.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif current:
            tables.append(current)
            current = []
    return tables + ([current] if current else [])


def test_report_md_is_markdown_tables_in_token_units_with_the_charts(run, tmp_path):
    lifecycle = run["lifecycle"]
    paths = write_report(lifecycle, directory=tmp_path / "r", payment_symbol="USDC")
    md = paths["markdown"].read_text()
    assert "```" not in md  # tables, not a code block
    assert "## Rounds" in md and "## Learning: each hospital alone vs federated (test AUC)" in md
    tables = _md_tables(md)
    assert len(tables) >= 7  # rounds, learning, hospitals, validators, tiers, revenue, claims
    for rows in tables:
        header, rule, *body = rows
        assert body and all(len(r) == len(header) for r in (rule, *body))
        assert all(set(c) <= {"-", ":"} and c.count("-") >= 3 for c in rule)
    # no wei in the Markdown: every amount is in units with its symbol
    assert not re.search(r"(?<![.\d])\d{10,}", md.replace(",", ""))  # no integer of wei
    total = lifecycle.revenue.total
    assert f"Total received {total / ONE:,.6f} USDC" in md
    stake = next(iter(lifecycle.validators.values())).stake
    assert f"{stake / ONE:,.6f} FLAI" in md
    # numeric columns are right-aligned, in the rule row and in the padded cells
    hospitals = next(t for t in tables if t[0][0] == "hospital")
    assert hospitals[1][2].endswith(":") and hospitals[1][0].endswith("-")
    section = md.split("## Hospitals", 1)[1].split("\n## ", 1)[0]
    row = next(x for x in section.splitlines() if x.startswith("| charite "))
    samples = row.split("|")[3][1:-1]  # the samples cell without its one-space margins
    value = f"{next(h.samples for h in lifecycle.hospitals if h.name == 'charite'):,}"
    assert samples == value.rjust(len(samples)) and len(samples) >= len("samples")
    # each hospital alone vs federated: the baselines and the rounds' test AUC
    base = lifecycle.baselines
    learning = next(t for t in tables if t[0][0] == "model")
    figures = {r[0]: float(r[-1]) for r in learning[2:]}
    assert figures["each hospital alone (mean)"] == pytest.approx(base.mean_alone, abs=1e-4)
    assert figures["central (all data pooled)"] == pytest.approx(base.central, abs=1e-4)
    last = lifecycle.rounds[-1]
    assert figures[f"federated, round {last.round_index}"] == pytest.approx(last.test_auc, abs=1e-4)
    assert set(base.alone) == {h.name for h in lifecycle.hospitals}
    # the charts are embedded from the files next to report.md
    for name in ("auc_by_round", "phi_points_by_hospital", "revenue_by_party"):
        assert re.search(rf"!\[[^\]]+\]\({name}\.png\)", md)
        assert (paths["markdown"].parent / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
    # report.json keeps the exact wei
    data = json.loads(paths["json"].read_text())
    assert data["revenue"]["total"] == total and isinstance(total, int)
    assert data["baselines"]["central"] == base.central


def test_amounts_addresses_and_tables_format():
    assert in_units(27_577_752_159_299_241_630, "FLAI") == "27.577752 FLAI"
    assert in_units(0, "USDC") == "0.000000 USDC"
    assert in_units(3, "FLAI") == "0.000000000000000003 FLAI"
    assert in_units(-12 * 10**18, "FLAI") == "-12.000000 FLAI"
    assert in_units(1_234_567 * 10**18, "FLAI", decimals=2) == "1,234,567.00 FLAI"
    assert short("0x5FbDB2315678afecb367f032d93F642f64180aa3") == "0x5FbDB2…180aa3"
    assert short("bafkreih74saijda6jxclxgco3ljsgigxjpshzzftbbq72nsqfkk4lki5ou") == ("bafkre…lki5ou")
    assert short("val-eu") == "val-eu"
    text = table(
        ["party", "amount"], [["a", in_units(10**18, "FLAI")], ["bb", in_units(0, "FLAI")]]
    )
    lines = text.splitlines()
    assert len({len(line) for line in lines}) == 1  # padded: the columns line up
    assert lines[1] == "| ----- | ------------: |"
    assert lines[2] == "| a     | 1.000000 FLAI |" and lines[3] == "| bb    | 0.000000 FLAI |"


def test_same_seed_same_run(run, scenario, tmp_path):
    again = run_lifecycle(
        config=scenario,
        port=make_ledger(scenario),
        storage=LocalStore(root=tmp_path / "store"),
        workdir=tmp_path / "work",
    ).to_json()
    first = run["result"]["rounds"]
    assert first[0]["global_cid"] == again["rounds"][0]["global_cid"]
    for a, b in zip(first, again["rounds"], strict=True):
        # sealed bundles use fresh ephemeral keys and seeds: randomized by design
        assert set(a["update_cids"].values()).isdisjoint(b["update_cids"].values())
    # secure scoring truncates on fresh shares: the same run up to ~1e-5 of φ
    assert_same_run(
        {k: v for k, v in again.items() if k != "run"},
        {k: v for k, v in run["result"].items() if k != "run"},
    )
    assert again["analytics"]["result_cid"] == run["result"]["analytics"]["result_cid"]
