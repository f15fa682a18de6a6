"""Gas accounting of the lifecycle's transactions: :class:`GasMeter`.

Every transaction the lifecycle sends goes through :meth:`GasMeter.send`, which labels its
gas by step and, with a file, keeps an intent line before the transaction and a gas line
after it, so a run killed between the two is completed from the chain on resume.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from flai.chain.errors import ChainError
from flai.chain.plumbing import (
    Account,
    Receipt,
    StaleNonceError,
    _nonce,
    address,
    next_nonce,
    transact,
)

__all__ = ["GasMeter"]


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
        nonce = next_nonce(who)  # the nonce this transaction will take
        self._append({"sent": step, "from": who, "nonce": nonce})
        try:
            tx = transact(method, *args, sender=sender, nonce=nonce)
        except StaleNonceError:  # the account sent on a path next_nonce did not see
            nonce = next_nonce(who)
            self._append({"sent": step, "from": who, "nonce": nonce})
            tx = transact(method, *args, sender=sender, nonce=nonce)
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
