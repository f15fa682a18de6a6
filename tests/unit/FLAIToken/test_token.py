"""FLAIToken: fixed supply minted at construction, ERC-20 transfers, EIP-2612 permit."""

import brownie
import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from tests.helpers import custom_error

WAD = 10**18


def test_constructor_mints_whole_supply_to_holder(FLAIToken, deployer, outsider):
    supply = 1_234 * WAD
    token = FLAIToken.deploy("FLAI", "FLAI", outsider, supply, {"from": deployer})

    assert token.totalSupply() == supply
    assert token.balanceOf(outsider) == supply
    assert token.balanceOf(deployer) == 0
    assert (token.name(), token.symbol(), token.decimals()) == ("FLAI", "FLAI", 18)
    event = token.tx.events["Transfer"]
    assert (event["from"], event["to"], event["value"]) == (brownie.ZERO_ADDRESS, outsider, supply)


def test_deployment_moves_treasury_allocation_to_timelock(flai, timelock, platform_config):
    assert flai.totalSupply() == platform_config.total_supply
    assert flai.balanceOf(timelock) == platform_config.treasury_allocation


def test_transfer_moves_balance_and_emits(flai, hospital_a, hospital_b):
    before = flai.balanceOf(hospital_b)
    tx = flai.transfer(hospital_b, 5 * WAD, {"from": hospital_a})

    assert flai.balanceOf(hospital_b) == before + 5 * WAD
    assert tx.events["Transfer"]["value"] == 5 * WAD


def test_transfer_beyond_balance_reverts(flai, outsider, hospital_a):
    balance = flai.balanceOf(outsider)
    with brownie.reverts(custom_error("ERC20InsufficientBalance", outsider, balance, balance + 1)):
        flai.transfer(hospital_a, balance + 1, {"from": outsider})


def _permit_signature(token, owner_key, owner, spender, value, nonce, deadline):
    domain = {
        "name": token.name(),
        "version": "1",
        "chainId": brownie.chain.id,
        "verifyingContract": token.address,
    }
    types = {
        "Permit": [
            {"name": "owner", "type": "address"},
            {"name": "spender", "type": "address"},
            {"name": "value", "type": "uint256"},
            {"name": "nonce", "type": "uint256"},
            {"name": "deadline", "type": "uint256"},
        ]
    }
    message = {
        "owner": owner,
        "spender": spender,
        "value": value,
        "nonce": nonce,
        "deadline": deadline,
    }
    signable = encode_typed_data(domain_data=domain, message_types=types, message_data=message)
    return Account.sign_message(signable, owner_key)


@pytest.fixture
def signer():
    account = Account.create()
    return account.key, account.address


def test_permit_sets_allowance_from_signature(flai, staking, signer, outsider):
    key, owner = signer
    deadline = brownie.chain.time() + 3600
    sig = _permit_signature(flai, key, owner, staking.address, 7 * WAD, 0, deadline)

    tx = flai.permit(owner, staking, 7 * WAD, deadline, sig.v, sig.r, sig.s, {"from": outsider})

    assert flai.allowance(owner, staking) == 7 * WAD
    assert flai.nonces(owner) == 1
    event = tx.events["Approval"]
    assert (event["owner"], event["spender"], event["value"]) == (owner, staking, 7 * WAD)


def test_permit_with_expired_deadline_reverts(flai, staking, signer, outsider):
    key, owner = signer
    deadline = brownie.chain[-1].timestamp - 1
    sig = _permit_signature(flai, key, owner, staking.address, WAD, 0, deadline)

    with brownie.reverts(custom_error("ERC2612ExpiredSignature", deadline)):
        flai.permit(owner, staking, WAD, deadline, sig.v, sig.r, sig.s, {"from": outsider})


def test_permit_signed_by_someone_else_reverts(flai, staking, signer, outsider):
    _, owner = signer
    other = Account.create()
    deadline = brownie.chain.time() + 3600
    sig = _permit_signature(flai, other.key, owner, staking.address, WAD, 0, deadline)

    with brownie.reverts(custom_error("ERC2612InvalidSigner", other.address, owner)):
        flai.permit(owner, staking, WAD, deadline, sig.v, sig.r, sig.s, {"from": outsider})
