"""Brownie plumbing: the loaded project, transactions, receipts, logs and the chain clock.

The only module of ``flai.chain`` that imports brownie and web3, each lazily inside the
function that needs it, so ``import flai.chain`` works without either. Everything else in
the package reaches the chain through these functions and the contract objects they
return.

Brownie's objects have no type stubs: :data:`Contract`, :data:`Account` and
:data:`Receipt` name what a value is; the functions here convert what they read to plain
``int``/``str``/``bool``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from flai.chain.errors import ChainError

__all__ = [
    "RECEIPT_GRACE_S",
    "Account",
    "Contract",
    "GasMeter",
    "Receipt",
    "address",
    "balance",
    "block_number",
    "chain_time",
    "harden_receipt_wait",
    "has_code",
    "keccak_text",
    "logs",
    "mine",
    "mine_past",
    "network_name",
    "now",
    "project",
    "sleep",
    "transact",
]

Contract = Any
"""A brownie ``ProjectContract`` (or ``Contract``)."""
Account = Any
"""A brownie ``Account`` / ``LocalAccount`` (anything with ``.address`` that can sign)."""
Receipt = Any
"""A brownie ``TransactionReceipt``."""

#: Seconds a transaction's confirmation waits for its receipt before brownie's own logic.
RECEIPT_GRACE_S = 10.0


class GasMeter:
    """Gas used by every transaction sent, labelled by step.

    With a file, :meth:`send` writes the transaction's intent (step, sender, nonce) before
    sending it and its gas once mined, each line flushed and fsync'ed: a process killed
    between a transaction and its gas line leaves the intent, and the next meter on the
    file finds that transaction on the chain by its sender and nonce and writes the line
    it missed, so a resumed run reports every transaction exactly once. A mined
    transaction that reverted is not reported; an intent whose nonce the chain never
    reached was not sent and is dropped.

    Parameters
    ----------
    path
        A JSON-lines file the entries are appended to (and read back from, so a resumed
        run reports all the gas); in memory only when omitted.

    Raises
    ------
    ChainError
        The file has a line that is not a gas record, or the chain has passed an intent's
        nonce but holds no such transaction.
    """

    def __init__(self, *, path: str | Path | None = None) -> None:
        self.entries: list[tuple[str, int]] = []
        self.path = None if path is None else Path(path)
        if self.path is not None and self.path.exists():
            self._load(self.path)

    def _load(self, path: Path) -> None:
        intents: dict[tuple[str, int], str] = {}
        raw = path.read_bytes()
        complete = raw[: raw.rfind(b"\n") + 1]  # a torn last line: the run died writing it
        for n, line in enumerate(complete.decode("utf-8", errors="replace").splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                if isinstance(item, dict):
                    key = (str(item["from"]), int(item["nonce"]))
                    if "sent" in item:
                        intents[key] = str(item["sent"])
                    else:
                        intents.pop(key, None)  # {"resolved": …}: not sent, or reverted
                    continue
                step, gas, *sent = item
                self.entries.append((str(step), int(gas)))
                if sent:
                    intents.pop((str(sent[0]), int(sent[1])), None)
            except (ValueError, TypeError, KeyError) as exc:
                raise ChainError(f"{path}: line {n} is not a gas record: {line[:80]!r}") from exc
        if len(complete) != len(raw):
            with path.open("r+b") as f:
                f.truncate(len(complete))
        for (sender, nonce), step in intents.items():
            gas = _mined_gas(sender, nonce, step=step)
            if gas is None:
                self._append({"resolved": step, "from": sender, "nonce": nonce})
            else:
                self._append([step, gas, sender, nonce])
                self.entries.append((step, gas))

    def _append(self, item: Any) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(item) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def record(self, step: str, tx: Receipt) -> Receipt:
        """Record ``tx.gas_used`` under ``step``; return ``tx``."""
        gas = int(tx.gas_used)
        self.entries.append((step, gas))
        self._append([step, gas])
        return tx

    def send(self, step: str, method: Any, *args: Any, sender: Account) -> Receipt:
        """:func:`transact` ``method(*args)`` from ``sender`` and record its gas under
        ``step``, the intent written first (see the class docstring); return the receipt.

        The fault hook's ``tx`` phase (:func:`flai.pipeline.journal.fault_point`) fires
        between the transaction and its gas line."""
        from flai.pipeline.journal import fault_point

        who = address(sender)
        nonce = _nonce(who, "pending")  # the nonce this transaction will take
        self._append({"sent": step, "from": who, "nonce": nonce})
        tx = transact(method, *args, sender=sender)
        fault_point("tx", step)
        gas = int(tx.gas_used)
        self.entries.append((step, gas))
        self._append([step, gas, who, nonce])
        return tx

    def totals(self) -> dict[str, int]:
        """Step → total gas."""
        out: dict[str, int] = {}
        for step, gas in self.entries:
            out[step] = out.get(step, 0) + gas
        return out

    def counts(self) -> dict[str, int]:
        """Step → number of transactions."""
        out: dict[str, int] = {}
        for step, _ in self.entries:
            out[step] = out.get(step, 0) + 1
        return out


def _nonce(who: str, block: Literal["latest", "pending"] = "latest") -> int:
    from brownie import web3
    from web3 import Web3

    return int(web3.eth.get_transaction_count(Web3.to_checksum_address(who), block))


def _mined_gas(sender: str, nonce: int, *, step: str) -> int | None:
    """Gas of the successful transaction ``sender`` sent with ``nonce`` (searched from the
    newest block back), ``None`` if it was never sent or reverted."""
    from brownie import web3
    from web3 import Web3

    who = Web3.to_checksum_address(sender)
    if _nonce(who) <= nonce:
        return None  # the chain never reached that nonce: not sent
    for height in range(int(web3.eth.block_number), -1, -1):
        block: Any = web3.eth.get_block(height, full_transactions=True)
        for tx in block["transactions"]:
            if tx["from"] == who and int(tx["nonce"]) == nonce:
                receipt = web3.eth.get_transaction_receipt(tx["hash"])
                return int(receipt["gasUsed"]) if int(receipt["status"]) == 1 else None
    raise ChainError(f"{step}: {sender}'s transaction with nonce {nonce} is not on the chain")


def harden_receipt_wait() -> None:
    """Close brownie 1.22's false "Tx dropped without known replacement" race (idempotent).

    ``TransactionReceipt._await_confirmation`` reads the sender's nonce, then the receipt,
    and declares the transaction dropped when the nonce has passed it but the receipt is not
    served yet. Anvil can advance the nonce a moment before the receipt becomes queryable,
    which a loaded machine turns into spurious failures (brownie #1782 fixed the same race in
    ``wait()`` only). The patched method first waits up to :data:`RECEIPT_GRACE_S` for the
    receipt, so brownie then finds it; a transaction that really never mines still ends as
    dropped after that bound. Called by :func:`project`, ``flai run`` and the suite's conftest.
    """
    from brownie import web3
    from brownie.network.transaction import TransactionReceipt
    from web3.exceptions import TimeExhausted

    original = TransactionReceipt._await_confirmation
    if getattr(original, "_flai_hardened", False):
        return

    def _await_confirmation(self: Any, block_number: Any = None, required_confs: int = 1) -> Any:
        if self.nonce is not None:
            try:
                web3.eth.wait_for_transaction_receipt(
                    self.txid, timeout=RECEIPT_GRACE_S, poll_latency=0.05
                )
            except TimeExhausted:
                pass  # brownie decides: replaced or dropped
        return original(self, block_number, required_confs)

    _await_confirmation._flai_hardened = True  # type: ignore[attr-defined]
    _await_confirmation.__wrapped__ = original  # type: ignore[attr-defined]
    TransactionReceipt._await_confirmation = _await_confirmation  # type: ignore[method-assign]


def project() -> Any:
    """The loaded brownie project (``flai run``, ``brownie test`` or ``project.load``)."""
    from brownie import project as projects

    harden_receipt_wait()
    loaded = projects.get_loaded_projects()
    if not loaded:
        raise ChainError(
            "no brownie project is loaded (use `flai run`, `brownie test` or project.load)"
        )
    return loaded[0]


def address(value: Any) -> str:
    """The address of a contract or account object, or ``value`` itself as a string."""
    return str(value.address if hasattr(value, "address") else value)


def transact(method: Any, *args: Any, sender: Account) -> Receipt:
    """``method(*args, {"from": sender})`` with brownie's receipt wait hardened, whoever
    loaded the project."""
    harden_receipt_wait()
    return method(*args, {"from": sender})


def logs(
    contract: Contract, event: str, *, from_block: int, **filters: Any
) -> list[Mapping[str, Any]]:
    """The ``event`` logs of ``contract`` since ``from_block``, filtered on indexed
    arguments (web3 log entries: ``log["args"][name]``)."""
    from brownie import web3
    from web3 import Web3

    c = web3.eth.contract(address=Web3.to_checksum_address(address(contract)), abi=contract.abi)
    return list(
        getattr(c.events, event)().get_logs(from_block=from_block, argument_filters=filters or None)
    )


def now() -> int:
    """The latest block's timestamp (what the contracts compare deadlines with)."""
    from brownie import web3

    return int(web3.eth.get_block("latest")["timestamp"])


def chain_time() -> int:
    """Brownie's chain clock (the next block's earliest timestamp)."""
    from brownie import chain

    return int(chain.time())


def block_number() -> int:
    """The height of the chain."""
    from brownie import web3

    return int(web3.eth.block_number)


def mine(blocks: int = 1) -> None:
    """Mine ``blocks`` empty blocks (local chains)."""
    from brownie import chain

    chain.mine(blocks)


def mine_past(block: int) -> None:
    """Mine until the chain's height is past ``block`` (a proposal deadline)."""
    missing = block - block_number() + 1
    if missing > 0:
        mine(missing)


def sleep(seconds: int) -> None:
    """Advance the chain clock by ``seconds`` (local chains; takes effect at the next block)."""
    from brownie import chain

    chain.sleep(seconds)


def balance(account: Any) -> int:
    """Native balance (wei) of an account or address."""
    from brownie import web3
    from web3 import Web3

    return int(web3.eth.get_balance(Web3.to_checksum_address(address(account))))


def has_code(account: Any) -> bool:
    """Whether a contract is deployed at an address on the connected chain."""
    from brownie import web3
    from web3 import Web3

    return bool(web3.eth.get_code(Web3.to_checksum_address(address(account))))


def keccak_text(text: str) -> bytes:
    """``keccak256(bytes(text))`` (a governor's description hash)."""
    from web3 import Web3

    return bytes(Web3.keccak(text=text))


def network_name() -> str:
    """The active brownie network's id (``development`` on the project's own Anvil)."""
    from brownie import network

    return str(network.show_active())
