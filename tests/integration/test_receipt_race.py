"""flai.chain.harden_receipt_wait: a receipt served a moment after the sender's nonce moved is
a confirmed transaction, not brownie 1.22's "Tx dropped without known replacement"."""

import time

import brownie
import pytest
from brownie.network.transaction import TransactionReceipt
from web3.exceptions import TransactionNotFound

from flai.chain import harden_receipt_wait

LAG_S = 0.6


def _lag_receipts(monkeypatch, lag_s):
    """The node serves no receipt (by either web3 path) until ``lag_s`` after this call,
    while automine has already advanced the sender's nonce: the race seen under load."""
    eth = brownie.web3.eth
    served_after = time.monotonic() + lag_s

    def lagging(real):
        def call(tx_hash, *args, **kwargs):
            if time.monotonic() < served_after:
                raise TransactionNotFound(f"receipt of {tx_hash!r} not served yet")
            return real(tx_hash, *args, **kwargs)

        return call

    monkeypatch.setattr(eth, "get_transaction_receipt", lagging(eth.get_transaction_receipt))
    monkeypatch.setattr(eth, "_transaction_receipt", lagging(eth._transaction_receipt))


@pytest.fixture
def lagging_receipts(monkeypatch):
    """Receipts served LAG_S late."""
    _lag_receipts(monkeypatch, LAG_S)


@pytest.fixture
def missing_receipts(monkeypatch):
    """Receipts never served while the test runs: brownie's own wait, however slow the
    machine, sees the nonce moved and no receipt."""
    _lag_receipts(monkeypatch, float("inf"))


def test_the_suite_runs_with_the_hardened_wait():
    assert getattr(TransactionReceipt._await_confirmation, "_flai_hardened", False)
    harden_receipt_wait()  # idempotent: no second wrapper
    assert not getattr(TransactionReceipt._await_confirmation.__wrapped__, "_flai_hardened", False)


def test_brownie_alone_calls_a_lagging_receipt_dropped(accounts, missing_receipts, monkeypatch):
    monkeypatch.setattr(
        TransactionReceipt,
        "_await_confirmation",
        TransactionReceipt._await_confirmation.__wrapped__,
    )
    with pytest.raises(brownie.exceptions.TransactionError, match="dropped without known"):
        accounts[0].transfer(accounts[1], 1)


def test_hardened_wait_confirms_a_lagging_receipt(accounts, lagging_receipts):
    before = accounts[1].balance()
    tx = accounts[0].transfer(accounts[1], 1)
    assert tx.status == 1 and tx.block_number > 0
    assert accounts[1].balance() == before + 1
