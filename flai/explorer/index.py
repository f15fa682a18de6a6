"""The explorer's event index: an SQLite database built incrementally from logs.

What is stored
--------------
- ``logs``: every log of a known contract, decoded (event name, arguments as JSON, a key
  column holding the round/proposal/RFM/listing/request/pool id it is about);
- ``mentions`` / ``cids``: every address and every CID argument of those logs, so an
  address or CID page is one indexed lookup;
- ``contracts``: the platform contracts (from the deployment) and every contract discovered
  from events: each suite of a factory's ``SubDAOCreated`` (hub, SBGT, SDT, chambers, rounds,
  splitter), a registry's new factory (``FactoryUpdated``), a SubDAO's marketplace module
  (``ModuleSet``);
- ``blocks``: number, hash and time of every block that had a log, and of each range end;
- ``snapshots``: view calls read at the indexed head (proposal states, balances, claimable
  revenue, crowdfund figures), refreshed for what the new logs touched;
- ``documents``: public IPFS documents the logs point at (RFM specs, models), fetched once
  (content-addressed, so never stale) through :mod:`flai.storage`.

Reorgs
------
Each pass first compares the stored hash of the indexed head with the chain's. On a
mismatch it walks back over the stored block hashes to the newest block the chain still
has, deletes everything above it (logs, mentions, CIDs, discovered contracts, blocks,
snapshots) and indexes again from there. A range is read between two reads of its last
block's header; if that hash moved meanwhile the range is read again, so no range mixes
two forks.

The tables are in :mod:`flai.explorer.schema`, the choice of view calls a pass reads in
:mod:`flai.explorer.snapshots` and the document fetching in :mod:`flai.explorer.documents`.
Pages read this database only; nothing here runs on a page request.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3

from flai.explorer.abi import CONTRACT_KINDS, EventCodec, load_abi
from flai.explorer.calls import Call, CallBook
from flai.explorer.deployment import PlatformAddresses
from flai.explorer.documents import fetch_documents
from flai.explorer.errors import ChainReadError, ExplorerError
from flai.explorer.schema import SCHEMA, SCHEMA_VERSION, TABLES
from flai.explorer.snapshots import SnapshotPlanner, Touched
from flai.storage import Storage

__all__ = ["KEY_FIELDS", "ExplorerIndex", "SyncReport"]

log = logging.getLogger(__name__)

#: Argument names that identify what an event is about, first match wins (the ``key`` column).
KEY_FIELDS = ("roundId", "proposalId", "rfmId", "listingId", "requestId", "poolId", "planId")

#: Suite struct field of SubDAOCreated -> (contract kind, role).
_SUITE_MEMBERS = {
    "subDAO": ("SubDAO", "SubDAO"),
    "sbgt": ("SBGT", "SBGT"),
    "sdt": ("SDT", "SDT"),
    "technicalChamber": ("SubDAOChamber", "TechnicalChamber"),
    "financialChamber": ("SubDAOChamber", "FinancialChamber"),
    "trainingRounds": ("TrainingRounds", "TrainingRounds"),
    "revenueSplitter": ("RevenueSplitter", "RevenueSplitter"),
}
_MARKETPLACE_MODULE = 6  # ISubDAO.Module.Marketplace
_ZERO = "0x0000000000000000000000000000000000000000"


@dataclass(frozen=True)
class SyncReport:
    """What one :meth:`ExplorerIndex.sync` did.

    Attributes
    ----------
    head
        The block the index now stands at.
    indexed_from
        First block read in this pass (``head + 1`` when nothing was new).
    logs
        Logs stored in this pass.
    rolled_back_to
        The fork point if a reorg was undone (the index dropped everything above it).
    calls
        View calls made to refresh snapshots.
    seconds
        Wall time of the pass.
    """

    head: int
    indexed_from: int
    logs: int
    rolled_back_to: int | None
    calls: int
    seconds: float


def _walk(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}[{i}]")
    else:
        yield path, value


def _is_cid_field(path: str) -> bool:
    leaf = path.rsplit(".", 1)[-1].split("[", 1)[0]
    return leaf.endswith("Cid") or leaf == "cid"


def _event_key(args: Mapping[str, Any]) -> str | None:
    for name in KEY_FIELDS:
        if name in args:
            return str(args[name])
    return None


class ExplorerIndex:
    """Builds and keeps up to date the SQLite index of one deployment on one chain.

    Parameters
    ----------
    w3
        A read-only :class:`~web3.Web3` (see :func:`flai.explorer.rpc.connect`).
    platform
        The platform addresses (from the deployment document).
    database
        Path of the SQLite file (created if missing).
    build_dir
        Folder of brownie's ``build/contracts`` artifacts (the ABIs).
    storage
        Where public IPFS documents are fetched from (``None``: not fetched).
    batch_blocks
        Blocks per ``eth_getLogs`` range (halved when a node refuses a range).
    document_limit
        Bytes of an IPFS document kept for its page.
    """

    def __init__(
        self,
        *,
        w3: Web3,
        platform: PlatformAddresses,
        database: Path,
        build_dir: Path,
        storage: Storage | None = None,
        batch_blocks: int = 5000,
        document_limit: int = 256 * 1024,
    ) -> None:
        if batch_blocks < 1:
            raise ExplorerError(f"batch_blocks must be positive, got {batch_blocks}")
        self.w3 = w3
        self.platform = platform
        self.database = Path(database)
        self.storage = storage
        self.batch_blocks = batch_blocks
        self.document_limit = document_limit
        abis = {kind: load_abi(kind, build_dir=build_dir) for kind in CONTRACT_KINDS}
        self.abis = abis
        self.codecs = {kind: EventCodec(abi=abi) for kind, abi in abis.items()}
        self.calls = CallBook(abis=abis)
        self.database.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(self.database, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(SCHEMA)
        self._planner = SnapshotPlanner(conn=self.conn, platform=platform)
        self._full_refresh = False
        self._ensure_identity()

    # -- identity and reset -------------------------------------------------------------

    def _meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def _identity(self) -> dict[str, str]:
        genesis = self.w3.eth.get_block(0)
        platform = json.dumps(self.platform.named(), sort_keys=True)
        return {
            "schema": SCHEMA_VERSION,
            "chain_id": str(self.w3.eth.chain_id),
            "genesis": genesis["hash"].hex(),
            "platform": platform,
        }

    def _ensure_identity(self) -> None:
        """Start over when the file indexes another chain, deployment or schema."""
        identity = self._identity()
        stored = {key: self._meta(key) for key in identity}
        if stored != identity:
            if any(v is not None for v in stored.values()):
                log.info(
                    "index %s belongs to another chain or deployment: rebuilding", self.database
                )
            self._reset(identity)

    def _reset(self, identity: Mapping[str, str]) -> None:
        with self.conn:
            for table in TABLES:
                self.conn.execute(f"DELETE FROM {table}")
            for key, value in identity.items():
                self._set_meta(key, value)
            start = self._start_block()
            self._set_meta("start", str(start))
            self._set_meta("head", str(start - 1))
            for role, address in self.platform.named().items():
                self._add_contract(address, kind=role, role=role, suite=None, block=-1)

    def rebuild(self) -> None:
        """Drop everything (documents included) and index again from the start block."""
        self._reset(self._identity())

    def _start_block(self) -> int:
        if self.platform.start_block is not None:
            return self.platform.start_block
        registry = to_checksum_address(self.platform.registry)
        head = int(self.w3.eth.block_number)
        try:
            if not self.w3.eth.get_code(registry, head):
                return 0
            low, high = 0, head  # the first block whose state holds the registry's code
            while low < high:
                mid = (low + high) // 2
                if self.w3.eth.get_code(registry, mid):
                    high = mid
                else:
                    low = mid + 1
            return low
        except Exception:  # noqa: BLE001 - no historical state (any node error): from genesis
            return 0

    # -- public -------------------------------------------------------------------------

    @property
    def head(self) -> int:
        """The last block indexed."""
        return int(self._meta("head") or -1)

    @property
    def start(self) -> int:
        """The first block the index covers."""
        return int(self._meta("start") or 0)

    def close(self) -> None:
        """Close the database connection."""
        self.conn.close()

    def sync(self, *, to_block: int | None = None) -> SyncReport:
        """Undo a reorg if there was one, index every new block up to ``to_block`` (default:
        the chain head), refresh the snapshots the new logs touched and fetch new documents.

        Raises
        ------
        ChainReadError
            If the node cannot be read.
        """
        started = time.perf_counter()
        counter = getattr(self.w3.provider, "request_count", 0)
        rolled = self._undo_reorg()
        try:
            chain_head = int(self.w3.eth.block_number)
        except Exception as exc:
            raise ChainReadError("eth_blockNumber", str(exc)) from exc
        target = chain_head if to_block is None else min(to_block, chain_head)
        begin = self.head + 1
        touched = Touched()
        stored = 0
        position = begin
        step = self.batch_blocks
        while position <= target:
            end = min(position + step - 1, target)
            try:
                stored += self._index_range(position, end, touched)
            except _RangeTooLarge:
                if step == 1:
                    raise ChainReadError(
                        "eth_getLogs", f"block {position} alone is refused"
                    ) from None
                step = max(1, step // 2)
                continue
            position = end + 1
        calls = 0
        if target >= begin or rolled is not None or self._full_refresh:
            calls = self._refresh(touched, block=self.head)
        if self.storage is not None:
            fetch_documents(self.conn, self.storage, limit=self.document_limit)
        done = getattr(self.w3.provider, "request_count", 0)
        log.debug("sync to %s: %s logs, %s requests", self.head, stored, done - counter)
        return SyncReport(
            head=self.head,
            indexed_from=begin,
            logs=stored,
            rolled_back_to=rolled,
            calls=calls,
            seconds=time.perf_counter() - started,
        )

    # -- reorgs -------------------------------------------------------------------------

    def _chain_hashes(self, numbers: Sequence[int]) -> dict[int, str | None]:
        out: dict[int, str | None] = {}
        for start in range(0, len(numbers), 100):
            chunk = numbers[start : start + 100]
            requests = [("eth_getBlockByNumber", [hex(n), False]) for n in chunk]
            try:
                responses = self.w3.provider.make_batch_request(requests)  # type: ignore[attr-defined]
            except Exception as exc:
                raise ChainReadError("eth_getBlockByNumber", str(exc)) from exc
            if not isinstance(responses, list):
                raise ChainReadError("eth_getBlockByNumber", f"batch refused: {responses}")
            for number, response in zip(chunk, sorted(responses, key=lambda r: int(r["id"]))):
                block = response.get("result")
                out[number] = None if not block else str(block["hash"])
        return out

    def _undo_reorg(self) -> int | None:
        """Roll back to the fork point if the indexed head is no longer on the chain."""
        head = self.head
        if head < self.start:
            return None
        row = self.conn.execute("SELECT hash FROM blocks WHERE number = ?", (head,)).fetchone()
        if row is not None and self._chain_hashes([head]).get(head) == row[0]:
            return None
        fork = self.start - 1
        rows = self.conn.execute("SELECT number, hash FROM blocks ORDER BY number DESC").fetchall()
        for start in range(0, len(rows), 100):
            chunk = rows[start : start + 100]
            chain = self._chain_hashes([int(r[0]) for r in chunk])
            match = next((int(r[0]) for r in chunk if chain.get(int(r[0])) == r[1]), None)
            if match is not None:
                fork = match
                break
        self._rollback(fork)
        log.info("reorg: index rolled back from block %s to %s", head, fork)
        return fork

    def _rollback(self, fork: int) -> None:
        with self.conn:
            for table in ("logs", "mentions", "cids", "snapshots"):
                self.conn.execute(f"DELETE FROM {table} WHERE block > ?", (fork,))
            self.conn.execute("DELETE FROM contracts WHERE block > ?", (fork,))
            self.conn.execute("DELETE FROM blocks WHERE number > ?", (fork,))
            self._set_meta("head", str(fork))
        self._full_refresh = True

    # -- logs ---------------------------------------------------------------------------

    def _known(self) -> dict[str, str]:
        return {r[0]: r[1] for r in self.conn.execute("SELECT address, kind FROM contracts")}

    def _add_contract(
        self, address: str, *, kind: str, role: str, suite: str | None, block: int
    ) -> bool:
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO contracts(address, kind, role, suite, block) VALUES (?,?,?,?,?)",
            (address, kind, role, suite, block),
        )
        return cur.rowcount > 0

    def _get_logs(self, addresses: Sequence[str], start: int, end: int) -> list[dict[str, Any]]:
        if not addresses:
            return []
        params = {"fromBlock": hex(start), "toBlock": hex(end), "address": list(addresses)}
        try:
            response = self.w3.provider.make_request("eth_getLogs", [params])  # type: ignore[arg-type]
        except Exception as exc:
            raise ChainReadError("eth_getLogs", str(exc)) from exc
        if "error" in response:
            if end > start:
                raise _RangeTooLarge
            raise ChainReadError("eth_getLogs", str(response["error"]))
        return list(response["result"])

    def _header(self, number: int) -> dict[str, Any]:
        response = self.w3.provider.make_request(
            "eth_getBlockByNumber",  # type: ignore[arg-type]
            [hex(number), False],
        )
        block = response.get("result")
        if not block:
            raise ChainReadError("eth_getBlockByNumber", f"block {number} not found")
        return dict(block)

    def _index_range(self, start: int, end: int, touched: Touched) -> int:
        """Store the logs of blocks [start, end]; returns how many. One transaction."""
        for _ in range(5):
            before = self._header(end)
            with self.conn:
                stored = self._store_range(start, end, touched)
                after = self._header(end)
                if after["hash"] != before["hash"]:
                    self.conn.rollback()
                    continue
                self.conn.execute(
                    "INSERT OR REPLACE INTO blocks(number, hash, time) VALUES (?,?,?)",
                    (end, after["hash"], int(after["timestamp"], 16)),
                )
                self._set_meta("head", str(end))
            return stored
        raise ChainReadError("eth_getLogs", f"blocks {start}-{end} kept changing (reorgs)")

    def _store_range(self, start: int, end: int, touched: Touched) -> int:
        known = self._known()
        pending = self._get_logs(sorted(known), start, end)
        seen: set[tuple[int, int]] = set()
        stored = 0
        while pending:
            discovered: list[tuple[str, int]] = []
            pending.sort(key=lambda x: (int(x["blockNumber"], 16), int(x["logIndex"], 16)))
            for raw in pending:
                position = (int(raw["blockNumber"], 16), int(raw["logIndex"], 16))
                if position in seen:
                    continue
                seen.add(position)
                address = str(to_checksum_address(raw["address"]))
                kind = known.get(address)
                if kind is None:
                    continue
                found = self._store_log(raw, address, kind, touched)
                if found is None:
                    continue
                stored += 1
                for new_address, new_kind in found:
                    known[new_address] = new_kind
                    discovered.append((new_address, position[0]))
            if not discovered:
                break
            first = min(block for _, block in discovered)
            pending = self._get_logs(sorted({a for a, _ in discovered}), first, end)
        return stored

    def _block_time(self, raw: Mapping[str, Any], number: int) -> int:
        stamp = raw.get("blockTimestamp")
        if stamp is not None:
            return int(stamp, 16) if isinstance(stamp, str) else int(stamp)
        row = self.conn.execute("SELECT time FROM blocks WHERE number = ?", (number,)).fetchone()
        if row is not None:
            return int(row[0])
        return int(self._header(number)["timestamp"], 16)

    def _store_log(
        self, raw: Mapping[str, Any], address: str, kind: str, touched: Touched
    ) -> list[tuple[str, str]] | None:
        topics = [bytes.fromhex(t[2:]) for t in raw["topics"]]
        decoded = self.codecs[kind].decode(topics, bytes.fromhex(raw["data"][2:]))
        if decoded is None:
            return None
        number = int(raw["blockNumber"], 16)
        self.conn.execute(
            "INSERT OR IGNORE INTO blocks(number, hash, time) VALUES (?,?,?)",
            (number, raw["blockHash"], self._block_time(raw, number)),
        )
        key = _event_key(decoded.args)
        cur = self.conn.execute(
            "INSERT INTO logs(block, log_index, tx, address, event, key, args) "
            "VALUES (?,?,?,?,?,?,?)",
            (
                number,
                int(raw["logIndex"], 16),
                raw["transactionHash"],
                address,
                decoded.name,
                key,
                json.dumps(decoded.args, separators=(",", ":")),
            ),
        )
        log_id = cur.lastrowid
        mentions = []
        cids = []
        for path, value in _walk(decoded.args, ""):
            if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
                if value != _ZERO:
                    mentions.append((value, log_id, number, path))
            elif isinstance(value, str) and value and _is_cid_field(path):
                cids.append((value, log_id, number, path))
        self.conn.executemany(
            "INSERT INTO mentions(address, log, block, field) VALUES (?,?,?,?)", mentions
        )
        self.conn.executemany("INSERT INTO cids(cid, log, block, field) VALUES (?,?,?,?)", cids)
        touched.add(address, decoded.name, key)
        return self._discover(kind, decoded.name, decoded.args, number)

    def _discover(
        self, kind: str, event: str, args: Mapping[str, Any], block: int
    ) -> list[tuple[str, str]]:
        """Contracts a log reveals: (address, kind) of each one not known before."""
        found: list[tuple[str, str]] = []
        if kind == "SubDAOFactory" and event == "SubDAOCreated":
            suite = args["suite"]
            hub = str(suite["subDAO"])
            for member, (member_kind, role) in _SUITE_MEMBERS.items():
                address = str(suite[member])
                if address != _ZERO and self._add_contract(
                    address, kind=member_kind, role=role, suite=hub, block=block
                ):
                    found.append((address, member_kind))
        elif kind == "RFMRegistry" and event == "FactoryUpdated":
            address = str(args["newFactory"])
            if address != _ZERO and self._add_contract(
                address, kind="SubDAOFactory", role="SubDAOFactory", suite=None, block=block
            ):
                found.append((address, "SubDAOFactory"))
        elif (
            kind == "SubDAO" and event == "ModuleSet" and int(args["module"]) == _MARKETPLACE_MODULE
        ):
            address = str(args["module_"])
            if address != _ZERO and self._add_contract(
                address, kind="Marketplace", role="Marketplace", suite=None, block=block
            ):
                found.append((address, "Marketplace"))
        return found

    # -- snapshots ----------------------------------------------------------------------

    def _store_snapshots(self, calls: Sequence[Call], *, block: int) -> None:
        results = self.calls.run(self.w3, calls, block=block)
        rows = [
            (c.address, c.label, c.key, block, json.dumps(v))
            for c, v in zip(calls, results)
            if v is not None
        ]
        with self.conn:
            self.conn.executemany(
                "INSERT OR REPLACE INTO snapshots(address, name, key, block, value) "
                "VALUES (?,?,?,?,?)",
                rows,
            )

    def _refresh(self, touched: Touched, *, block: int) -> int:
        """Read the planned views at ``block``; returns the number of calls made."""
        if block < 0:
            return 0
        calls = self._planner.plan(touched, full=self._full_refresh, head=self.head)
        self._store_snapshots(calls, block=block)
        balance = self.w3.eth.get_balance(to_checksum_address(self.platform.timelock), block)
        with self.conn:
            self.conn.execute(
                "INSERT OR REPLACE INTO snapshots(address, name, key, block, value) "
                "VALUES (?,?,?,?,?)",
                (self.platform.timelock, "ethBalance", "", block, json.dumps(int(balance))),
            )
        tokens = self._planner.token_calls()  # needs the paymentToken snapshots just stored
        if tokens:
            self._store_snapshots(tokens, block=block)
        self._full_refresh = False
        return len(calls) + len(tokens) + 1


class _RangeTooLarge(Exception):
    """The node refused an eth_getLogs range (too many results): split it."""
