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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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

    Parameters
    ----------
    path
        A JSON-lines file the entries are appended to (and read back from, so a resumed
        run reports all the gas); in memory only when omitted.
    """

    def __init__(self, *, path: str | Path | None = None) -> None:
        self.entries: list[tuple[str, int]] = []
        self.path = None if path is None else Path(path)
        if self.path is not None and self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    step, gas = json.loads(line)
                    self.entries.append((str(step), int(gas)))

    def record(self, step: str, tx: Receipt) -> Receipt:
        """Record ``tx.gas_used`` under ``step``; return ``tx``."""
        gas = int(tx.gas_used)
        self.entries.append((step, gas))
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps([step, gas]) + "\n")
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
