"""SubDAOFactory.forkSubDAO: a child keeps its parent's payment token or takes a listed one.

The factory's registry here is a payment-token allow-list stand-in (impersonated to call
createSubDAO, as the RFM registry does at approval), so the fork's check reads a real list.
"""

import brownie
import pytest
from brownie import chain

from tests.fixtures.subdao import rfm_params
from tests.helpers import custom_error


@pytest.fixture(scope="module")
def token_policy(module_isolation, TestPaymentTokenPolicy, deployer):
    return TestPaymentTokenPolicy.deploy({"from": deployer})


@pytest.fixture(scope="module")
def rfm_registry(token_policy, accounts):
    """The allow-list contract, impersonated: the only caller of createSubDAO."""
    return accounts.at(token_policy.address, force=True)


@pytest.fixture(scope="module")
def fee_on_top(module_isolation, TestToken, deployer):
    return TestToken.deploy("Fee On Top USD", "FOT", 6, 0, 100, {"from": deployer})


def test_fork_with_an_unlisted_token_reverts(
    subdao_factory, suite, token_policy, fee_on_top, pay_token, accounts
):
    f = subdao_factory.factory
    parent = accounts.at(suite.subdao.address, force=True)
    child = rfm_params(fee_on_top, chain.time() + 86_400)
    with brownie.reverts(custom_error("FactoryPaymentTokenNotAllowed", fee_on_top)):
        f.forkSubDAO(child, 0, {"from": parent})
    # the parent's own token needs no listing; a listed one is accepted
    same = f.forkSubDAO(rfm_params(pay_token, chain.time() + 86_400), 0, {"from": parent})
    assert same.events["SubDAOCreated"]["parent"] == suite.subdao
    token_policy.setAllowed(fee_on_top, True, {"from": parent})
    listed = f.forkSubDAO(child, 0, {"from": parent})
    created = listed.events["SubDAOCreated"]["subDAO"]
    from brownie import SubDAO

    assert SubDAO.at(created).paymentToken() == fee_on_top
