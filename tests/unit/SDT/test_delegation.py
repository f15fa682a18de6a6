"""SDT delegation: address(0) means "self", and every path that moves votes agrees with delegates().

ISDT: an account that never delegated is its own delegate, and delegating to address(0) means
"delegate to self" again; votes are never parked with nobody, so Σ getVotes == totalSupply and
a holder's transfers and crowdfund refund always find its voting units where delegates() says.
"""

import brownie
from brownie import chain

from tests.fixtures.subdao import USDC
from tests.helpers import custom_error

WAD = 10**18


def _contribute(suite, pay_token, backer, amount):
    pay_token.mint(backer, amount, {"from": backer})
    pay_token.approve(suite.subdao, amount, {"from": backer})
    return suite.subdao.contribute(amount, {"from": backer})


def test_delegate_to_zero_keeps_votes_with_the_holder(suite, pay_token, backers):
    b, c = backers[0], backers[1]
    _contribute(suite, pay_token, b, 100 * USDC)
    sdt = suite.sdt
    tx = sdt.delegate(brownie.ZERO_ADDRESS, {"from": b})
    assert tx.events["DelegateChanged"]["fromDelegate"] == b
    assert tx.events["DelegateChanged"]["toDelegate"] == b
    assert sdt.delegates(b) == b
    assert sdt.getVotes(b) == 100 * WAD
    sdt.transfer(c, 40 * WAD, {"from": b})
    assert sdt.getVotes(b) == 60 * WAD and sdt.getVotes(c) == 40 * WAD
    assert sdt.getVotes(b) + sdt.getVotes(c) == sdt.totalSupply()


def test_delegate_elsewhere_then_to_zero_returns_the_votes(suite, pay_token, backers):
    b, c = backers[0], backers[1]
    _contribute(suite, pay_token, b, 100 * USDC)
    sdt = suite.sdt
    sdt.delegate(c, {"from": b})
    assert sdt.getVotes(b) == 0 and sdt.getVotes(c) == 100 * WAD
    tx = sdt.delegate(brownie.ZERO_ADDRESS, {"from": b})
    assert tx.events["DelegateChanged"]["fromDelegate"] == c
    assert tx.events["DelegateChanged"]["toDelegate"] == b
    assert sdt.delegates(b) == b
    assert sdt.getVotes(b) == 100 * WAD and sdt.getVotes(c) == 0


def test_refund_after_delegating_to_zero(suite, pay_token, backers, crowdfund_deadline):
    b = backers[0]
    _contribute(suite, pay_token, b, 100 * USDC)
    suite.sdt.delegate(brownie.ZERO_ADDRESS, {"from": b})
    chain.sleep(crowdfund_deadline - chain.time() + 10)
    chain.mine()
    tx = suite.subdao.refund({"from": b})
    assert tx.events["Refunded"]["amount"] == 100 * USDC
    assert pay_token.balanceOf(b) == 100 * USDC
    assert suite.sdt.totalSupply() == 0 and suite.sdt.getVotes(b) == 0


def test_delegate_by_sig_to_zero_means_self(bare_sdt, accounts, backers):
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    hub = accounts[18]
    holder = Account.create()
    bare_sdt.mint(holder.address, 5 * WAD, {"from": hub})
    expiry = chain.time() + 3600
    data = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Delegation": [
                {"name": "delegatee", "type": "address"},
                {"name": "nonce", "type": "uint256"},
                {"name": "expiry", "type": "uint256"},
            ],
        },
        "primaryType": "Delegation",
        "domain": {
            "name": "FLAI SubDAO Token",
            "version": "1",
            "chainId": chain.id,
            "verifyingContract": bare_sdt.address,
        },
        "message": {"delegatee": brownie.ZERO_ADDRESS, "nonce": 0, "expiry": expiry},
    }
    sig = Account.sign_message(encode_typed_data(full_message=data), holder.key)
    bare_sdt.delegateBySig(
        brownie.ZERO_ADDRESS,
        0,
        expiry,
        sig.v,
        sig.r.to_bytes(32, "big"),
        sig.s.to_bytes(32, "big"),
        {"from": backers[0]},
    )
    assert bare_sdt.delegates(holder.address) == holder.address
    assert bare_sdt.getVotes(holder.address) == 5 * WAD
    with brownie.reverts(
        custom_error("ERC20InsufficientBalance", holder.address, 5 * WAD, 6 * WAD)
    ):
        bare_sdt.burn(holder.address, 6 * WAD, {"from": hub})
    bare_sdt.burn(holder.address, 5 * WAD, {"from": hub})
    assert bare_sdt.getVotes(holder.address) == 0 and bare_sdt.totalSupply() == 0
