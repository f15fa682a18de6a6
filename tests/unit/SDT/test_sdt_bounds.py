"""SDT: a mint past every bound reverts with SDTCapExceeded, never a Panic."""

import brownie
import pytest

from tests.helpers import custom_error

MAX = 2**256 - 1


@pytest.fixture(scope="module")
def hub(accounts):
    return accounts[18]


def test_huge_mint_is_a_cap_error(bare_sdt, hub, backers):
    bare_sdt.mint(backers[0], 5, {"from": hub})
    with brownie.reverts(custom_error("SDTCapExceeded", MAX, 10**24)):
        bare_sdt.mint(backers[1], MAX, {"from": hub})
    with brownie.reverts(custom_error("SDTCapExceeded", MAX, 10**24)):
        bare_sdt.mint(backers[1], MAX - 4, {"from": hub})
    assert bare_sdt.totalSupply() == 5
