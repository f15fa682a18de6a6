"""SDT: capped, SubDAO-only mint/burn, votes without delegate, permit, balance hook before update."""

import brownie
import pytest
from brownie import chain

from tests.helpers import custom_error

WAD = 10**18


@pytest.fixture(scope="module")
def hub(accounts):
    return accounts[18]


def test_mint_only_by_subdao_and_capped(bare_sdt, hub, backers):
    tx = bare_sdt.mint(backers[0], 10 * WAD, {"from": hub})
    assert tx.events["Transfer"]["to"] == backers[0] and tx.events["Transfer"]["value"] == 10 * WAD
    with brownie.reverts(custom_error("SDTUnauthorized", backers[0])):
        bare_sdt.mint(backers[0], 1, {"from": backers[0]})
    with brownie.reverts(custom_error("SDTCapExceeded", 10**24 + 1, 10**24)):
        bare_sdt.mint(backers[1], 10**24 - 10 * WAD + 1, {"from": hub})
    bare_sdt.mint(backers[1], 10**24 - 10 * WAD, {"from": hub})
    assert bare_sdt.totalSupply() == bare_sdt.cap() == 10**24


def test_burn_only_by_subdao(bare_sdt, hub, backers):
    bare_sdt.mint(backers[0], 10 * WAD, {"from": hub})
    with brownie.reverts(custom_error("SDTUnauthorized", backers[0])):
        bare_sdt.burn(backers[0], 1, {"from": backers[0]})
    tx = bare_sdt.burn(backers[0], 4 * WAD, {"from": hub})
    assert tx.events["Transfer"]["from"] == backers[0] and tx.events["Transfer"]["value"] == 4 * WAD
    assert bare_sdt.balanceOf(backers[0]) == 6 * WAD


def test_votes_without_delegate_call(bare_sdt, hub, backers):
    a, b, c = backers
    bare_sdt.mint(a, 10 * WAD, {"from": hub})
    assert bare_sdt.delegates(a) == a
    assert bare_sdt.getVotes(a) == 10 * WAD
    snap = chain.height
    chain.mine()
    bare_sdt.transfer(b, 3 * WAD, {"from": a})
    assert bare_sdt.getVotes(a) == 7 * WAD and bare_sdt.getVotes(b) == 3 * WAD
    assert bare_sdt.getPastVotes(a, snap) == 10 * WAD and bare_sdt.getPastVotes(b, snap) == 0
    tx = bare_sdt.delegate(c, {"from": b})
    assert tx.events["DelegateChanged"]["fromDelegate"] == b
    assert tx.events["DelegateChanged"]["toDelegate"] == c
    assert bare_sdt.getVotes(b) == 0 and bare_sdt.getVotes(c) == 3 * WAD
    chain.mine()
    assert bare_sdt.getPastTotalSupply(chain.height - 1) == 10 * WAD


def test_metadata(bare_sdt, hub):
    assert bare_sdt.name() == "FLAI SubDAO Token" and bare_sdt.symbol() == "SDT"
    assert bare_sdt.decimals() == 18 and bare_sdt.subDAO() == hub
    assert bare_sdt.eip712Domain()[1] == "FLAI SubDAO Token"


def test_initialize_rejects_bad_cap(cloner, deployer, hub):
    from brownie import SDT

    impl = SDT.deploy({"from": deployer})
    with brownie.reverts(custom_error("SDTInvalidCap", 2**96)):
        cloner.clone(impl, impl.initialize.encode_input(hub, 2**96), {"from": deployer})
    with brownie.reverts(custom_error("SDTInvalidCap", 0)):
        cloner.clone(impl, impl.initialize.encode_input(hub, 0), {"from": deployer})


def test_balance_hook_called_before_update(bare_sdt, hub, backers, deployer):
    from brownie import RecordingSDTHook

    hook = RecordingSDTHook.deploy({"from": deployer})
    with brownie.reverts(custom_error("SDTUnauthorized", backers[0])):
        bare_sdt.setBalanceHook(hook, {"from": backers[0]})
    tx = bare_sdt.setBalanceHook(hook, {"from": hub})
    assert tx.events["BalanceHookSet"]["hook"] == hook and bare_sdt.balanceHook() == hook
    with brownie.reverts(custom_error("SDTHookAlreadySet", hook)):
        bare_sdt.setBalanceHook(backers[0], {"from": hub})
    bare_sdt.mint(backers[0], 10 * WAD, {"from": hub})
    tx = bare_sdt.transfer(backers[1], 4 * WAD, {"from": backers[0]})
    ev = tx.events["HookCalled"]
    assert (ev["from"], ev["to"], ev["amount"]) == (backers[0], backers[1], 4 * WAD)
    assert ev["fromBalance"] == 10 * WAD and ev["toBalance"] == 0  # seen before the move
    assert hook.calls() == 2


def test_permit(bare_sdt, hub, backers):
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    owner = Account.create()
    bare_sdt.mint(owner.address, 5 * WAD, {"from": hub})
    deadline = chain.time() + 3600
    data = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Permit": [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "Permit",
        "domain": {
            "name": "FLAI SubDAO Token",
            "version": "1",
            "chainId": chain.id,
            "verifyingContract": bare_sdt.address,
        },
        "message": {
            "owner": owner.address,
            "spender": backers[0].address,
            "value": 2 * WAD,
            "nonce": 0,
            "deadline": deadline,
        },
    }
    sig = Account.sign_message(encode_typed_data(full_message=data), owner.key)
    tx = bare_sdt.permit(
        owner.address,
        backers[0],
        2 * WAD,
        deadline,
        sig.v,
        sig.r.to_bytes(32, "big"),
        sig.s.to_bytes(32, "big"),
        {"from": backers[0]},
    )
    assert tx.events["Approval"]["value"] == 2 * WAD
    assert bare_sdt.allowance(owner.address, backers[0]) == 2 * WAD
    assert bare_sdt.nonces(owner.address) == 1
