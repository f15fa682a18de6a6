"""Explorer bench: index 1,000 training rounds of a real TrainingRounds on Anvil, time the pages.

Usage: ``python bench/explorer.py [ROUNDS]`` with the Makefile's environment (``make bench``
runs it). Sets the suites up the way the lifecycle does
(:func:`flai.chain.lifecycle.setup_lifecycle`: platform, RFM approved by a SuperDAO vote,
crowdfund, onboarding, FLock auto-accept, the analytics SubDAO beside it, here with λ = 0.99
so 1,000 accepted rounds stay within the SBGT index horizon), then drives the training
suite's TrainingRounds through ``ROUNDS`` rounds with plain ``eth_sendTransaction`` (Anvil's
automine off, one block per phase: open, commits, scores, finalize, votes, settle). Every
twentieth round one validator deviates and is slashed; every fiftieth round the validators
reject the aggregate. All events are the contracts' own.

``FLAI_BENCH_KEEP=DIR`` keeps the index in ``DIR/bench.sqlite`` (to profile pages on it).

Then it reports
- index time: a from-scratch :meth:`ExplorerIndex.sync` (best of 3), beside the reference
  of fetching the same logs with one bare ``eth_getLogs`` per contract;
- page time: p50/p95 over HTTP (uvicorn on loopback) of the SubDAO page, round pages,
  the all-rounds list, the platform, revenue and a validator's address page (goal: p95 ≤
  100 ms).
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WAD = 10**18
GOAL_P95_MS = 100.0
GAS = 3_000_000


def _setup() -> tuple[Any, Any, Any]:
    from flai.chain.runtime import connect_own_chain, isolate_brownie_home, load_project

    isolate_brownie_home(ROOT)
    load_project(ROOT)
    connect_own_chain()
    import yaml
    from brownie import accounts

    from flai.chain import GasMeter, harden_receipt_wait, lifecycle_roles
    from flai.chain.lifecycle import setup_lifecycle
    from flai.pipeline.config import parse_config
    from flai.storage import LocalStore

    harden_receipt_wait()
    raw = yaml.safe_load((ROOT / "configs" / "breast-cancer.yaml").read_text())
    raw["hospitals"] = raw["hospitals"][:3]
    raw["backers"] = {
        k: v
        for k, v in raw["backers"].items()
        if k in {raw["requester"], *(h["name"] for h in raw["hospitals"])}
    }
    raw["points_decay"] = 0.99
    config = parse_config(raw)
    roles = lifecycle_roles(config, list(accounts))
    with (
        tempfile.TemporaryDirectory() as ipfs,  # the RFM spec and the FA pipeline documents
        contextlib.redirect_stdout(io.StringIO()),  # brownie's per-transaction lines
    ):
        deployment = setup_lifecycle(
            config=config, roles=roles, gas=GasMeter(), storage=LocalStore(root=ipfs)
        )
    return deployment, roles, config


class _Driver:
    """Sends rounds' transactions from Anvil's unlocked accounts, one mined block per phase."""

    def __init__(self, *, uri: str, rounds: Any) -> None:
        from web3 import Web3

        self.w3 = Web3(Web3.HTTPProvider(uri, request_kwargs={"timeout": 60}))
        self.contract = self.w3.eth.contract(address=rounds.address, abi=rounds.abi)
        self.nonces: dict[str, int] = {}
        self.sent = 0

    def rpc(self, method: str, params: list[Any]) -> Any:
        response = self.w3.provider.make_request(method, params)
        if "error" in response:
            raise RuntimeError(f"{method}: {response['error']}")
        return response["result"]

    def batch(self, requests: list[tuple[str, list[Any]]]) -> list[Any]:
        responses = self.w3.provider.make_batch_request(requests)  # type: ignore[attr-defined]
        if not isinstance(responses, list):
            raise RuntimeError(f"batch refused: {responses}")
        out = []
        for (method, _), response in zip(requests, sorted(responses, key=lambda r: r["id"])):
            if "error" in response:
                raise RuntimeError(f"{method}: {response['error']}")
            out.append(response["result"])
        return out

    def phase(self, calls: list[tuple[str, str, list[Any]]]) -> None:
        """Send every (sender, function, args) in one batch, mine one block, check every
        receipt (one batch)."""
        requests = []
        for sender, fn, args in calls:
            if sender not in self.nonces:
                self.nonces[sender] = self.w3.eth.get_transaction_count(sender)
            tx = {
                "from": sender,
                "to": self.contract.address,
                "data": self.contract.encode_abi(fn, args=args),
                "gas": hex(GAS),
                "gasPrice": "0x0",
                "nonce": hex(self.nonces[sender]),
            }
            self.nonces[sender] += 1
            requests.append(("eth_sendTransaction", [tx]))
        hashes = self.batch(requests)
        self.rpc("evm_mine", [])
        self.sent += len(hashes)
        receipts = self.batch([("eth_getTransactionReceipt", [h]) for h in hashes])
        for (_, fn, _), receipt in zip(calls, receipts):
            if receipt is None or int(receipt["status"], 16) != 1:
                raise RuntimeError(f"{fn} failed: {receipt}")


def _drive(deployment: Any, roles: Any, count: int) -> tuple[int, float]:
    from brownie import web3

    from flai.storage import import_bytes

    suite = deployment.suite
    driver = _Driver(uri=web3.provider.endpoint_uri, rounds=suite.rounds)
    coordinator = str(suite.subdao.coordinator())
    hospitals = sorted(
        (str(roles.account(n).address) for n in roles.hospitals),
        key=lambda a: int(suite.rounds.contributor(a)[1]),
    )
    validators = [str(roles.account(n).address) for n in roles.validators]
    rng = random.Random(7)
    driver.rpc("evm_setAutomine", [False])
    started = time.perf_counter()
    try:
        for r in range(1, count + 1):
            base = int(driver.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
            model = str(import_bytes(f"global model before round {r}".encode()).cid)
            driver.phase([(coordinator, "openRound", [model, base + 30])])
            driver.phase(
                [
                    (h, "commitUpdate", [r, str(import_bytes(f"update {r} {h}".encode()).cid)])
                    for h in hospitals
                ]
            )
            driver.rpc("evm_increaseTime", [60])
            phi = [rng.randint(WAD // 10, WAD // 2) for _ in hospitals]
            scores = []
            for i, v in enumerate(validators):
                if r % 20 == 0 and i == 0:  # one validator deviates: slashed at finalization
                    row = [WAD - p for p in phi]
                else:
                    row = [min(WAD, max(0, p + rng.randint(-WAD // 100, WAD // 100))) for p in phi]
                scores.append((v, "submitScores", [r, row]))
            driver.phase(scores)
            aggregate = str(import_bytes(f"aggregate of round {r}".encode()).cid)
            metric = 800_000 + min(199_999, r * 150 + rng.randint(0, 5_000))
            driver.phase([(coordinator, "finalizeRound", [r, aggregate, metric])])
            approve = r % 50 != 0
            driver.phase([(v, "voteAggregate", [r, approve]) for v in validators])
            driver.phase([(coordinator, "settleRound", [r])])
    finally:
        driver.rpc("evm_setAutomine", [True])
    return driver.sent, time.perf_counter() - started


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _time_pages(base: str, paths: dict[str, list[str]], repeat: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {k: [] for k in paths}
    for _ in range(repeat):
        for kind, group in paths.items():
            for path in group:
                started = time.perf_counter()
                with urllib.request.urlopen(base + path, timeout=60) as response:
                    response.read()
                    assert response.status == 200, path
                timings[kind].append((time.perf_counter() - started) * 1000)
    return timings


def main(rounds: int = 1000) -> None:
    print(f"setting up a suite (lifecycle set-up), then {rounds} rounds on Anvil …", flush=True)
    deployment, roles, _ = _setup()

    from brownie import network, web3

    from flai.explorer.deployment import platform_addresses
    from flai.explorer.index import ExplorerIndex
    from flai.explorer.rpc import connect
    from flai.explorer.service import url
    from flai.explorer.web import create_app

    sent, drive_s = _drive(deployment, roles, rounds)
    head = web3.eth.block_number
    print(f"drove {rounds} rounds: {sent} transactions, chain head {head}, {drive_s:.1f} s")

    platform = platform_addresses(deployment.record(network=network.show_active()).to_json())
    w3 = connect(web3.provider.endpoint_uri)
    keep = os.environ.get("FLAI_BENCH_KEEP")  # a folder to keep the index in, for profiling
    with tempfile.TemporaryDirectory() as tmp:
        database = Path(keep or tmp) / "bench.sqlite"
        database.parent.mkdir(parents=True, exist_ok=True)
        index = ExplorerIndex(
            w3=w3, platform=platform, database=database, build_dir=ROOT / "build" / "contracts"
        )
        runs = []
        for _ in range(3):
            index.rebuild()
            before = w3.provider.request_count  # type: ignore[attr-defined]
            report = index.sync()
            runs.append((report.seconds, report, w3.provider.request_count - before))  # type: ignore[attr-defined]
        best, report, requests = min(runs, key=lambda x: x[0])
        addresses = [str(r[0]) for r in index.conn.execute("SELECT address FROM contracts")]
        reference = []
        for _ in range(3):
            started = time.perf_counter()
            total = 0
            for address in addresses:
                logs = w3.provider.make_request(  # type: ignore[attr-defined]
                    "eth_getLogs",
                    [{"fromBlock": hex(index.start), "toBlock": hex(head), "address": address}],
                )
                total += len(logs["result"])
            reference.append(time.perf_counter() - started)
        logs = index.conn.execute("SELECT COUNT(*) FROM logs").fetchone()[0]
        index.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = database.stat().st_size
        index.close()

        app = create_app(database=database, abis=index.abis)
        import uvicorn

        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        base = url(server)
        hub = deployment.suite.subdao.address
        rng = random.Random(3)
        picks = sorted(rng.sample(range(1, rounds + 1), min(20, rounds)))
        validator = roles.account(roles.validators[0]).address
        paths = {
            "SubDAO page": [f"/subdao/{hub}"],
            "round page": [f"/subdao/{hub}/round/{r}" for r in picks],
            f"all {rounds} rounds": [f"/subdao/{hub}/rounds"],
            "platform": ["/"],
            "revenue": [f"/revenue/{hub}"],
            "validator address": [f"/address/{validator}"],
        }
        _time_pages(base, paths, 1)  # warm-up (templates compiled, connections opened)
        timings = _time_pages(base, paths, 5)
        server.should_exit = True
        thread.join(timeout=10)

    every = [t for values in timings.values() for t in values]
    print()
    print(
        f"index from scratch: {best:.2f} s (best of 3: {', '.join(f'{r[0]:.2f}' for r in runs)})"
        f" for {logs} logs over {head - int(deployment.start_block) + 1}"
        f" blocks, {requests} JSON-RPC requests, database {size / 1e6:.1f} MB"
    )
    print(
        f"reference, bare eth_getLogs of the same contracts: {min(reference):.2f} s"
        f" (best of 3, {total} logs)"
    )
    print()
    print(f"{'page':<22} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for kind, values in timings.items():
        print(
            f"{kind:<22} {len(values):>4} {statistics.median(values):>8.1f} "
            f"{_percentile(values, 0.95):>8.1f} {max(values):>8.1f}"
        )
    p95 = _percentile(every, 0.95)
    print(
        f"{'all pages':<22} {len(every):>4} {statistics.median(every):>8.1f} {p95:>8.1f} "
        f"{max(every):>8.1f}"
    )
    print(f"goal: p95 ≤ {GOAL_P95_MS:.0f} ms → {'met' if p95 <= GOAL_P95_MS else 'NOT met'}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
