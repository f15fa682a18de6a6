"""SubDAO crowdfund: contributions past the uint128 books revert with SafeCast's named error."""

import brownie

from tests.helpers import custom_error


def test_raise_beyond_uint128(suite, pay_token, backers):
    b = backers[0]
    pay_token.mint(b, 2**129, {"from": b})
    pay_token.approve(suite.subdao, 2**256 - 1, {"from": b})
    suite.subdao.contribute(1, {"from": b})
    with brownie.reverts(custom_error("SafeCastOverflowedUintDowncast", 128, 2**128)):
        suite.subdao.contribute(2**128 - 1, {"from": b})
    assert suite.subdao.crowdfund()[0] == 1
