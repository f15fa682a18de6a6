"""FLAI Explorer against a chain populated by the lifecycle.

The pharma/hospitals scenario (shortened: two rounds, a dozen inferences) runs once for the
module through :func:`flai.pipeline.run_lifecycle` over the port
:func:`flai.chain.open_lifecycle` builds, with a real IPFS node; the explorer then indexes
this suite's Anvil over plain HTTP JSON-RPC (its own read-only web3 connection, never
brownie) from the deployment file the lifecycle wrote and serves its pages with uvicorn on
loopback. The tests read every page over HTTP,
cross-check the figures against contract reads, crawl every link, count the JSON-RPC
requests pages make (none), undo a reorg, and drive a real headless Chromium through the
SubDAO page to a round.
"""

from __future__ import annotations

import html
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

import brownie
import pytest
import yaml
from brownie import web3

from flai.chain import lifecycle_roles, load_deployment, open_lifecycle, read_deployment
from flai.explorer import fmt
from flai.explorer.errors import ReadOnlyViolationError
from flai.explorer.queries import Reader
from flai.explorer.service import Explorer, ExplorerConfig, url
from flai.pipeline import run_lifecycle
from flai.pipeline.config import parse_config
from flai.storage import IpfsHttpStorage, IpfsNode

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "configs" / "breast-cancer.yaml"
WAD = 10**18
#: Pages the crawl may visit (the scenario has a few hundred addresses, txs, CIDs, blocks).
CRAWL_LIMIT = 3000


@pytest.fixture(scope="module")
def scenario():
    raw = yaml.safe_load(CONFIG.read_text())
    raw["rounds"] = 2
    raw["inference"]["requests"] = {"external": 3, "requester": 2, "member": 2}
    return parse_config(raw)


@pytest.fixture(scope="module")
def run(module_isolation, accounts, scenario, tmp_path_factory):
    """(result, deployment contracts, storage, IPFS address, deployment file, port) of one
    lifecycle on this chain; the deployment file is the one the lifecycle wrote."""
    work = tmp_path_factory.mktemp("explorer-lifecycle")
    with IpfsNode(repo=work / "ipfs") as node:
        storage = IpfsHttpStorage(address=node.address)
        port = open_lifecycle(
            config=scenario,
            accounts=list(accounts),
            storage=storage,
            workdir=work,
            network=brownie.network.show_active(),
        )
        result = run_lifecycle(config=scenario, port=port, storage=storage, workdir=work)
        record = work / "deployment.json"
        deployment = load_deployment(read_deployment(record))
        yield result.to_json(), deployment, storage, node.address, record, port
        storage.close()


@pytest.fixture(scope="module")
def roles(accounts, scenario):
    return lifecycle_roles(scenario, list(accounts))


@pytest.fixture(scope="module")
def names(roles):
    out = {str(acct.address): name for name, acct in roles.parties.items()}
    out[str(roles.deployer.address)] = "deployer"
    out[str(roles.operator.address)] = "operator"
    for i, member in enumerate(roles.members):
        out[str(member.address)] = f"member-{i}"
    return out


@pytest.fixture(scope="module")
def served(run, names, tmp_path_factory):
    """(explorer, base URL): indexed once, served by uvicorn in a thread, no background sync."""
    _, _, _, ipfs, deployment, _ = run
    folder = tmp_path_factory.mktemp("explorer")
    names_file = folder / "names.json"
    names_file.write_text(json.dumps(names))
    config = ExplorerConfig(
        rpc=web3.provider.endpoint_uri,
        deployment=deployment,
        database=folder / "index.sqlite",
        ipfs_api=ipfs,
        names=names_file,
        port=0,
        poll=0,
    )
    explorer = Explorer(config=config)
    explorer.sync()
    server = explorer.server()
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield explorer, url(server)
    server.should_exit = True
    thread.join(timeout=20)
    explorer.stop()


def _get(address: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(address, timeout=30) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", errors="replace")


def _page(base: str, path: str) -> str:
    status, text = _get(base + path)
    assert status == 200, f"{path}: HTTP {status}"
    return text


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])
        if tag == "form" and values.get("action"):
            self.forms.append(values["action"])


def _links(text: str) -> list[str]:
    parser = _Links()
    parser.feed(text)
    return parser.links


def _by_id(text: str, element_id: str) -> str:
    found = re.search(rf'id="{re.escape(element_id)}"[^>]*>(.*?)</', text, re.S)
    assert found, f"no element #{element_id}"
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def _reader(explorer: Explorer) -> Reader:
    from flai.explorer.schema import connect_reader

    return Reader(conn=connect_reader(explorer.config.database), abis=explorer.index.abis)


def _resync(explorer: Explorer) -> None:
    """Bring the index back to this chain (earlier tests' isolation reverted the chain)."""
    explorer.sync()


# -- every page, every link, no chain reads -------------------------------------------------


def test_every_page_answers_and_every_link_resolves_without_chain_requests(served):
    explorer, base = served
    _resync(explorer)
    before = explorer.provider.request_count
    seen: set[str] = set()
    queue = deque(["/", "/rfms", "/market", "/revenue", "/status.json"])
    kinds: dict[str, int] = {}
    while queue:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        assert len(seen) <= CRAWL_LIMIT, "crawl did not converge"
        status, text = _get(base + path)
        assert status == 200, f"{path}: HTTP {status}"
        kind = urlsplit(path).path.split("/")[1] or "platform"
        kinds[kind] = kinds.get(kind, 0) + 1
        if path.endswith(".json"):
            continue
        for href in _links(text):
            target = urljoin(base + path, href)
            assert target.startswith(base), f"{path} links outside the explorer: {href}"
            local = target[len(base) :]
            if local not in seen:
                queue.append(local)
    # every kind of page was reached through links alone
    for kind in (
        "platform",
        "proposal",
        "rfms",
        "rfm",
        "subdao",
        "market",
        "revenue",
        "address",
        "cid",
        "tx",
        "block",
    ):
        assert kinds.get(kind), f"no {kind} page was linked"
    assert explorer.provider.request_count == before, "serving pages made JSON-RPC requests"


def test_unknown_ids_are_404_and_writes_are_refused(served):
    _, base = served
    for path in (
        "/rfm/999",
        "/subdao/0x0000000000000000000000000000000000000001",
        "/address/not-an-address",
        "/tx/0x" + "ab" * 32,
        "/block/99999999",
        "/cid/bafkreiaaaa",
        "/proposal/0x0000000000000000000000000000000000000001/1",
    ):
        status, text = _get(base + path)
        assert status == 404, path
        assert "Not found" in text
    request = urllib.request.Request(base + "/", data=b"x=1", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 405


# -- figures against contract reads ----------------------------------------------------------


def test_platform_members_proposals_and_treasury_match_the_contracts(served, run):
    explorer, base = served
    _resync(explorer)
    _, d, _, _, _, _ = run
    platform = d.protocol.platform
    page = _page(base, "/")
    assert _by_id(page, "total-staked") == fmt.amount(platform.staking.totalStaked())
    assert _by_id(page, "treasury-flai") == (
        f"{fmt.amount(platform.token.balanceOf(platform.timelock))} FLAI"
    )
    data = _reader(explorer).platform_page()
    assert data["members"], "the scenario stakes members"
    for member in data["members"]:
        assert member["stake"] == platform.staking.stakeOf(member["account"])
        assert member["votes"] == platform.staking.getVotes(member["account"])
    assert len(data["proposals"]) >= 1
    for proposal in data["proposals"]:
        pid = int(proposal["id"])
        against, for_, abstain = platform.governor.proposalVotes(pid)
        assert proposal["votes"] == {"For": for_, "Against": against, "Abstain": abstain}
        assert (
            proposal["state"]
            == (
                "Pending",
                "Active",
                "Canceled",
                "Defeated",
                "Succeeded",
                "Queued",
                "Expired",
                "Executed",
            )[platform.governor.state(pid)]
        )
        assert proposal["threshold_bps"] == platform.governor.proposalApprovalThresholdBps(pid)
        kind = platform.governor.kindOf(
            proposal["created"].args["targets"], proposal["created"].args["calldatas"]
        )
        assert proposal["kind"] == ("PlatformUpdate", "RFMApproval", "Operational")[kind]
        detail = _page(base, f"/proposal/{platform.governor.address}/{pid}")
        assert fmt.amount(for_) in detail


def test_rfm_registry_figures_spec_and_filters(served, run):
    explorer, base = served
    _resync(explorer)
    _, d, storage, _, _, _ = run
    registry = d.protocol.platform.registry
    count = registry.rfmCount()
    listing = _page(base, "/rfms")
    assert len(re.findall(r'href="/rfm/\d+"', listing)) == count >= 2
    for rfm_id in range(1, count + 1):
        record = registry.getRFM(rfm_id)
        params = registry.getParams(rfm_id)
        page = _page(base, f"/rfm/{rfm_id}")
        assert _by_id(page, "rfm-escrow") == f"{fmt.amount(record['escrow'])} FLAI"
        assert _by_id(page, "rfm-endorsement-weight").startswith(
            fmt.amount(record["endorsementWeight"])
        )
        spec = storage.get_json(params["specCid"])
        assert json.loads(html.unescape(_by_id(page, "spec"))) == spec
    # filters agree with the registry's own indexes
    domain = fmt.text32(str(registry.getParams(1)["domain"]))
    rows = lambda text: set(map(int, re.findall(r'href="/rfm/(\d+)"', text)))  # noqa: E731
    filtered = _page(base, "/rfms?" + urlencode({"domain": domain}))
    wanted = {int(i) for i in registry.idsByDomain(registry.getParams(1)["domain"], 0, 100)}
    assert rows(filtered) == wanted
    schema = registry.getParams(1)["dataSchema"]
    by_schema = _page(base, "/rfms?" + urlencode({"data_schema": fmt.text32(str(schema))}))
    assert rows(by_schema) == {int(i) for i in registry.idsByDataSchema(schema, 0, 100)}
    klass = registry.getParams(1)["modelClass"]
    by_class = _page(base, "/rfms?" + urlencode({"model_class": fmt.text32(str(klass))}))
    assert rows(by_class) == {int(i) for i in registry.idsByModelClass(klass, 0, 100)}
    # full-text search reaches into the spec fetched from IPFS
    specs = {
        i: json.dumps(storage.get_json(registry.getParams(i)["specCid"]))
        for i in range(1, count + 1)
    }
    assert (
        rows(_page(base, "/rfms?q=Immunotherapy"))
        == {i for i, text in specs.items() if "immunotherapy" in text.lower()}
        != set()
    )
    last = fmt.text32(str(registry.getParams(count)["domain"]))
    assert rows(_page(base, "/rfms?" + urlencode({"q": last}))) == {
        i for i in range(1, count + 1) if fmt.text32(str(registry.getParams(i)["domain"])) == last
    }
    assert rows(_page(base, "/rfms?q=no-such-words-anywhere")) == set()


def test_subdao_page_matches_the_suite(served, run, names):
    explorer, base = served
    _resync(explorer)
    result, d, _, _, _, _ = run
    suite = d.suite
    hub = suite.subdao.address
    page = _page(base, f"/subdao/{hub}")
    assert (
        _by_id(page, "state")
        == ("Crowdfunding", "Onboarding", "Training", "Deployed", "Retired", "Failed")[
            suite.subdao.state()
        ]
    )
    assert _by_id(page, "model-version") == str(suite.subdao.modelVersion()[0])
    raised, goal, _, _ = suite.subdao.crowdfund()
    assert _by_id(page, "crowdfund-raised") == fmt.amount(raised)
    assert _by_id(page, "crowdfund-goal") == fmt.amount(goal)
    data = _reader(explorer).subdao_page(hub)
    holders = data["sbgt_holders"]
    assert len(holders) == len(result["points"]) == 5
    reader = _reader(explorer)
    for h in holders:
        assert h["points"] == suite.sbgt.pointsOf(h["account"])  # replayed from events, exact
        assert reader.points_of(suite.sbgt.address, h["account"]) == h["points"]  # one holder
    for h in data["sdt_holders"]:
        assert h["balance"] == suite.sdt.balanceOf(h["account"])
        assert reader.sdt_balance_of(suite.sdt.address, h["account"]) == h["balance"]
    assert data["sdt_supply"] == suite.sdt.totalSupply()
    for c in data["members"]["contributors"]:
        status = ("None", "Applied", "Whitelisted", "Revoked")[
            suite.rounds.contributor(c["account"])[0]
        ]
        assert c["status"] == status
    # the points-over-time chart has one line per holder, each ending at today's points
    for account, history in data["points"]["history"].items():
        assert history[-1][1] == suite.sbgt.pointsOf(account)
    chart = re.search(r'<svg[^>]*aria-label="SBGT points by holder".*?</svg>', page, re.S)
    assert chart and chart.group(0).count('class="series"') == len(data["points"]["history"])
    # lineage: the fork records its parent, and both pages show the tree
    child = result["fork"]["child"]
    assert f'href="/subdao/{child}"' in page
    child_page = _page(base, f"/subdao/{child}")
    assert f'href="/subdao/{hub}"' in child_page
    assert "forked at parent version" in child_page
    # both chambers' proposals are listed with the chamber's state
    for chamber in data["chambers"]:
        contract = suite.technical if chamber["role"] == "TechnicalChamber" else suite.financial
        for p in chamber["proposals"]:
            assert (
                p["state"]
                == (
                    "Pending",
                    "Active",
                    "Canceled",
                    "Defeated",
                    "Succeeded",
                    "Queued",
                    "Expired",
                    "Executed",
                )[contract.state(int(p["id"]))]
            )
    assert data["rounds"] and all(r["status"] == "Accepted" for r in data["rounds"])
    assert names[str(suite.subdao.requester())] in page  # display names reach the page


def test_round_pages_show_scores_consensus_and_outcome(served, run, roles):
    explorer, base = served
    _resync(explorer)
    result, d, _, _, _, _ = run
    rounds = d.suite.rounds
    for r in result["rounds"]:
        rid = r["round_id"]
        page = _page(base, f"/subdao/{d.suite.subdao.address}/round/{rid}")
        data = _reader(explorer).round_page(d.suite.subdao.address, rid)
        for row in data["scores"]:
            assert row["scores"] == [int(s) for s in rounds.scoresOf(rid, row["validator"])]
            assert " ".join(fmt.fixed(s) for s in row["scores"]) in " ".join(
                re.sub(r"<[^>]+>", " ", page).split()
            )
        accounts, phi, phi_sum = rounds.consensus(rid)
        assert data["submitters"] == [str(a) for a in accounts]
        assert data["consensus"] == [int(p) for p in phi]
        assert _by_id(page, "phi-sum") == fmt.fixed(phi_sum)
        cid, metric = rounds.aggregate(rid)
        assert data["aggregate_cid"] == cid == r["aggregate_cid"]
        assert _by_id(page, "metric") == fmt.fixed(metric, 10**6)
        committed = {
            roles.name_of(e.args["contributor"]): e.args["updateCid"] for e in data["commits"]
        }
        assert committed == r["update_cids"]
        assert "RoundAccepted" in _by_id(page, "outcome")
        assert data["outcome"].args["version"] == rounds.round(rid)["version"]
        assert len(data["votes"]) == rounds.round(rid)["voteCount"]
        assert 'data-chart="bars"' in page


def test_marketplace_listings_tiers_and_requests(served, run, roles):
    explorer, base = served
    _resync(explorer)
    _, d, _, _, _, port = run
    market = d.marketplace
    page = _page(base, "/market")
    data = _reader(explorer).market_page()
    listings = data["markets"][0]["listings"]
    assert len(listings) == market.listingCount() == 2
    for listing in listings:
        lid = listing["id"]
        assert listing["version"] == market.modelVersionOf(lid)
        assert f'href="/market/{market.address}/listing/{lid}"' in page
        external, tier = market.priceOf(lid, roles.account("external-0"))
        if tier == 0:  # External
            assert listing["prices"]["External"] == external
        detail = _page(base, f"/market/{market.address}/listing/{lid}")
        assert _by_id(detail, "listing-version") == str(market.modelVersionOf(lid))
        for req in listing["requests"]:
            status = ("None", "Pending", "Fulfilled", "Refunded")[market.requestStatus(req["id"])]
            assert req["status"] == status
    inference = next(x for x in listings if x["id"] == port.listing_id())
    requester, tier = market.priceOf(inference["id"], roles.account(roles.requester))
    assert tier == 1 and inference["prices"]["Requester"] == requester
    assert inference["counts"]["Fulfilled"] == len(inference["requests"]) > 0
    tiers = {r["tier"] for r in inference["requests"]}
    assert {"External", "Requester", "Member"} <= tiers


def test_revenue_received_split_claimed_and_claimable(served, run, accounts, roles):
    explorer, base = served
    _resync(explorer)
    result, d, _, _, _, _ = run
    for hub, splitter in (
        (d.suite.subdao.address, d.suite.splitter),
        (d.analytics.subdao.address, d.analytics.splitter),
    ):
        data = _reader(explorer).revenue(hub)
        received = splitter.totals()[0]
        assert data["received"]["amount"] == received > 0
        assert sum(data["received"][k] for k in ("platform", "treasury", "sbgt", "sdt")) == received
        platform, treasury = splitter.accrued()
        parties = {p["party"]: p for p in data["parties"]}
        assert parties["platform treasury"]["claimable"] == platform
        assert parties["SubDAO treasury"]["claimable"] == treasury
        for row in data["sdt"]:
            assert row["claimable"] == splitter.claimableSDT(row["account"])
        page = _page(base, f"/revenue/{hub}")
        assert _by_id(page, "received") == f"{fmt.amount(received)} FLAI"
        assert page.count('class="chart"') >= 2
    main = _reader(explorer).revenue(d.suite.subdao.address)
    claimed = result["revenue"]["claimed"]
    assert {roles.name_of(r["account"]): r["claimed"] for r in main["sdt"]} == claimed["sdt"]
    assert {roles.name_of(r["account"]): r["claimed"] for r in main["sbgt"] if r["claimed"]} == {
        n: v for n, v in claimed["sbgt"].items() if v
    }


def test_new_revenue_is_indexed_incrementally(served, run, accounts):
    """A deposit after the first index shows up after one more sync (and only then)."""
    explorer, base = served
    _resync(explorer)
    _, d, _, _, _, _ = run
    splitter, token = d.analytics.splitter, d.protocol.platform.token
    payer = accounts[0]
    before = _reader(explorer).revenue(d.analytics.subdao.address)["received"]["amount"]
    token.approve(splitter, 3 * WAD, {"from": payer})
    splitter.deposit(3 * WAD, {"from": payer})
    assert _reader(explorer).revenue(d.analytics.subdao.address)["received"]["amount"] == before
    report = explorer.sync()
    assert report.logs > 0 and report.rolled_back_to is None
    data = _reader(explorer).revenue(d.analytics.subdao.address)
    assert data["received"]["amount"] == before + 3 * WAD == splitter.totals()[0]
    for row in data["sdt"]:
        assert row["claimable"] == splitter.claimableSDT(row["account"])
    assert any(row["claimable"] > 0 for row in data["sdt"])


# -- reorgs, rebuilds, read-only ------------------------------------------------------------


def test_reorg_rolls_back_to_the_fork_point_and_reindexes(served, run, accounts):
    explorer, base = served
    _resync(explorer)
    _, d, _, _, _, _ = run
    staking, token = d.protocol.platform.staking, d.protocol.platform.token
    newcomer = accounts[19]
    head = explorer.index.head
    brownie.chain.snapshot()
    token.transfer(newcomer, 500 * WAD, {"from": accounts[0]})
    token.approve(staking, 500 * WAD, {"from": newcomer})
    staking.stake(120 * WAD, {"from": newcomer})
    explorer.sync()
    old = {m["account"]: m["stake"] for m in _reader(explorer).members()}
    assert old[newcomer.address] == 120 * WAD
    # the blocks above `head` are replaced by another history (more blocks, other hashes)
    brownie.chain.revert()
    brownie.chain.mine(2)
    token.transfer(newcomer, 500 * WAD, {"from": accounts[0]})
    token.approve(staking, 500 * WAD, {"from": newcomer})
    staking.stake(150 * WAD, {"from": newcomer})
    report = explorer.sync()
    assert report.rolled_back_to is not None and report.rolled_back_to <= head
    new = {m["account"]: m["stake"] for m in _reader(explorer).members()}
    assert new[newcomer.address] == 150 * WAD == staking.stakeOf(newcomer)
    stakes = [
        e
        for e in _reader(explorer).events(staking.address, "Staked")
        if e.args["account"] == newcomer.address
    ]
    assert [e.args["amount"] for e in stakes] == [150 * WAD]
    stored = explorer.index.conn.execute(
        "SELECT number, hash FROM blocks WHERE number > ?", (head,)
    ).fetchall()
    assert stored
    for number, block_hash in stored:
        assert web3.eth.get_block(number)["hash"].hex() in (block_hash, block_hash[2:])
    page = _page(base, f"/address/{newcomer.address}")
    assert fmt.amount(150 * WAD) in page and fmt.amount(120 * WAD) not in page


def test_rebuild_from_scratch_reproduces_the_index(served):
    explorer, _ = served
    _resync(explorer)

    def dump():
        conn = explorer.index.conn
        logs = conn.execute(
            "SELECT block, log_index, tx, address, event, key, args FROM logs "
            "ORDER BY block, log_index"
        ).fetchall()
        contracts = conn.execute("SELECT * FROM contracts ORDER BY address").fetchall()
        snaps = conn.execute(
            "SELECT address, name, key, value FROM snapshots ORDER BY address, name, key"
        ).fetchall()
        return [tuple(r) for r in logs], [tuple(r) for r in contracts], [tuple(r) for r in snaps]

    before = dump()
    explorer.index.rebuild()
    assert explorer.index.conn.execute("SELECT COUNT(*) FROM logs").fetchone()[0] == 0
    explorer.sync()
    assert dump() == before


def test_the_explorer_never_sends_a_transaction(served, run, accounts):
    explorer, base = served
    nonces = [web3.eth.get_transaction_count(a.address) for a in accounts]
    explorer.index.rebuild()
    explorer.sync()
    for path in ("/", "/rfms", "/market", "/revenue", f"/subdao/{run[1].suite.subdao.address}"):
        _page(base, path)
    assert [web3.eth.get_transaction_count(a.address) for a in accounts] == nonces
    w3 = explorer.w3
    refused = [
        lambda: w3.eth.send_transaction(
            {"from": accounts[0].address, "to": accounts[1].address, "value": 1}
        ),
        lambda: w3.eth.send_raw_transaction(b"\x02"),
        lambda: w3.eth.sign(accounts[0].address, text="x"),
        lambda: w3.eth.accounts,
        lambda: w3.provider.make_request("personal_sign", ["0x00", accounts[0].address]),
        lambda: w3.provider.make_request("anvil_impersonateAccount", [accounts[0].address]),
        lambda: w3.provider.make_request("evm_mine", []),
        lambda: w3.provider.make_batch_request(
            [("eth_blockNumber", []), ("eth_sendTransaction", [{}])]
        ),
    ]
    for call in refused:
        with pytest.raises(ReadOnlyViolationError):
            call()
    assert [web3.eth.get_transaction_count(a.address) for a in accounts] == nonces
    # nothing in the explorer holds key material or a signing middleware
    assert not any("sign" in str(m).lower() for m in w3.middleware_onion.middleware)


def test_platform_and_factory_alone_find_the_same_suites(served, run, tmp_path):
    """A deployment file with only the platform and factory sections (no market, no start
    block, no RFM): every suite is discovered from events."""
    explorer, _ = served
    _resync(explorer)
    _, d, _, _, record, _ = run
    written = json.loads(record.read_text())
    document = tmp_path / "deploy.json"
    document.write_text(
        json.dumps(
            {
                "network": written["network"],
                "platform": written["platform"],
                "subdaoFactory": written["subdaoFactory"],
            }
        )
    )
    other = Explorer(
        config=ExplorerConfig(
            rpc=web3.provider.endpoint_uri,
            deployment=document,
            database=tmp_path / "i.sqlite",
            port=0,
            poll=0,
        )
    )
    try:
        other.sync()
        # found the registry's deployment block by itself
        assert other.index.start >= d.start_block > 0
        assert other.platform.marketplace is None
        mine = _reader(explorer)
        theirs = Reader(conn=other.index.conn, abis=other.index.abis)
        assert theirs.suites() == mine.suites()
        assert {h: theirs.suite(h) for h in theirs.suites()} == {
            h: mine.suite(h) for h in mine.suites()
        }
        assert {d.suite.subdao.address, d.analytics.subdao.address} <= set(theirs.suites())
    finally:
        other.stop()


# -- a real browser --------------------------------------------------------------------------


def test_browser_follows_the_subdao_page_to_a_round(served, run, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    explorer, base = served
    _resync(explorer)
    _, d, _, _, _, _ = run
    os.environ["SE_OFFLINE"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,2000",
        f"--user-data-dir={tmp_path / 'chrome-profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.get(f"{base}/subdao/{d.suite.subdao.address}")
        assert "SubDAO #1" in driver.title
        driver.save_screenshot(str(tmp_path / "subdao.png"))
        driver.find_element(By.LINK_TEXT, "round 1").click()
        assert "/round/1" in driver.current_url
        rows = driver.find_elements(By.CSS_SELECTOR, "#scores tr.score-row")
        rounds = d.suite.rounds
        scorers = [e for e in rows]
        assert len(scorers) == rounds.round(1)["scoreCount"] >= 1
        for row in rows:
            cells = row.find_elements(By.TAG_NAME, "td")
            validator = cells[0].find_element(By.TAG_NAME, "a").get_attribute("title")
            shown = [c.text for c in cells[1:-1]]
            assert shown == [fmt.fixed(s) for s in rounds.scoresOf(1, validator)]
        bars = driver.find_elements(By.CSS_SELECTOR, "svg.chart rect.bar")
        drawn = [b for b in bars if b.size["height"] > 0 and b.size["width"] > 0]
        assert drawn, "the φ chart drew no bar"
        box = driver.execute_script(
            "return document.querySelector('svg.chart').getBoundingClientRect().height"
        )
        assert box > 100
        shot = tmp_path / "round.png"
        driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
    finally:
        driver.quit()


# -- the command line -------------------------------------------------------------------------


def test_cli_serves_the_explorer_until_interrupted(served, run, tmp_path):
    explorer, _ = served
    _resync(explorer)
    deployment = run[4]
    flai_cli = Path(sys.executable).with_name("flai")
    started = time.perf_counter()
    proc = subprocess.Popen(
        [
            str(flai_cli),
            "explorer",
            "--rpc",
            web3.provider.endpoint_uri,
            "--deployment",
            str(deployment),
            "--db",
            str(tmp_path / "cli.sqlite"),
            "--port",
            "0",
            "--poll",
            "0.5",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        match = re.search(r"FLAI_EXPLORER_URL=(\S+)", line)
        assert match, (
            f"no URL line: {line!r} {proc.stderr.read() if proc.poll() is not None else ''}"
        )
        base = match.group(1)
        deadline = time.monotonic() + 30
        while True:  # the background sync fills the fresh index
            status, text = _get(base + "/status.json")
            if status == 200 and json.loads(text)["number"] >= web3.eth.block_number:
                break
            assert time.monotonic() < deadline, "the CLI's index did not reach the head"
            time.sleep(0.2)
        print(
            f"flai explorer: first page served {time.perf_counter() - started:.2f} s after launch"
        )
        assert _get(base + f"/subdao/{run[1].suite.subdao.address}")[0] == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_names_a_bad_deployment_field(tmp_path):
    document = tmp_path / "bad.json"
    document.write_text(json.dumps({"platform": {"FLAIToken": "0x1234"}}))
    flai_cli = Path(sys.executable).with_name("flai")
    done = subprocess.run(
        [
            str(flai_cli),
            "explorer",
            "--rpc",
            web3.provider.endpoint_uri,
            "--deployment",
            str(document),
            "--db",
            str(tmp_path / "x.sqlite"),
            "--index-only",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "FLAIToken" in done.stderr
