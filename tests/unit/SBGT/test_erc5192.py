"""SBGT ERC-5192 conformance: locked tokens, Locked at mint, interface ids, no transfer path."""

import brownie
import pytest

from tests.helpers import custom_error

WAD = 10**18


@pytest.fixture
def holder_token(bare_sbgt, sbgt_operator, hospital_a):
    tx = bare_sbgt.mint(hospital_a, 5 * WAD, {"from": sbgt_operator})
    return tx


def test_mint_emits_locked_and_transfer(bare_sbgt, holder_token, hospital_a):
    token_id = int(hospital_a.address, 16)
    assert holder_token.return_value == token_id
    assert holder_token.events["Locked"]["tokenId"] == token_id
    t = holder_token.events["Transfer"]
    assert (t["from"], t["to"], t["tokenId"]) == (brownie.ZERO_ADDRESS, hospital_a, token_id)
    assert bare_sbgt.ownerOf(token_id) == hospital_a
    assert bare_sbgt.balanceOf(hospital_a) == 1
    assert bare_sbgt.tokenOf(hospital_a) == token_id
    assert bare_sbgt.locked(token_id) is True


def test_locked_nonexistent_reverts(bare_sbgt, hospital_b):
    token_id = int(hospital_b.address, 16)
    with brownie.reverts(custom_error("ERC721NonexistentToken", token_id)):
        bare_sbgt.locked(token_id)
    with brownie.reverts(custom_error("SBGTNotHolder", hospital_b)):
        bare_sbgt.tokenOf(hospital_b)


def test_interface_ids(bare_sbgt):
    assert bare_sbgt.supportsInterface("0xb45a3c0e")  # ERC-5192
    assert bare_sbgt.supportsInterface("0x80ac58cd")  # ERC-721
    assert bare_sbgt.supportsInterface("0x5b5e139f")  # ERC-721 Metadata
    assert bare_sbgt.supportsInterface("0x01ffc9a7")  # ERC-165
    assert not bare_sbgt.supportsInterface("0xffffffff")
    assert not bare_sbgt.supportsInterface("0x80ac58cc")


def test_every_transfer_and_approval_path_reverts(bare_sbgt, holder_token, hospital_a, hospital_b):
    tid = int(hospital_a.address, 16)
    err = custom_error("SBGTSoulbound", tid)
    with brownie.reverts(err):
        bare_sbgt.transferFrom(hospital_a, hospital_b, tid, {"from": hospital_a})
    with brownie.reverts(err):
        bare_sbgt.safeTransferFrom["address,address,uint256"](
            hospital_a, hospital_b, tid, {"from": hospital_a}
        )
    with brownie.reverts(err):
        bare_sbgt.safeTransferFrom["address,address,uint256,bytes"](
            hospital_a, hospital_b, tid, b"", {"from": hospital_a}
        )
    with brownie.reverts(err):
        bare_sbgt.approve(hospital_b, tid, {"from": hospital_a})
    with brownie.reverts(custom_error("SBGTSoulbound", 0)):
        bare_sbgt.setApprovalForAll(hospital_b, True, {"from": hospital_a})
    assert bare_sbgt.ownerOf(tid) == hospital_a


def test_one_token_per_account(bare_sbgt, holder_token, sbgt_operator, hospital_a):
    with brownie.reverts(custom_error("SBGTAlreadyHolder", hospital_a)):
        bare_sbgt.mint(hospital_a, 0, {"from": sbgt_operator})


def test_only_operator_mints(bare_sbgt, hospital_a):
    with brownie.reverts(custom_error("SBGTUnauthorized", hospital_a)):
        bare_sbgt.mint(hospital_a, 0, {"from": hospital_a})


def test_metadata(bare_sbgt, sbgt_operator):
    assert bare_sbgt.name() == "FLAI Soul-Bound Governance Token"
    assert bare_sbgt.symbol() == "SBGT"
    assert bare_sbgt.operator() == sbgt_operator
    assert bare_sbgt.decay() == 9 * 10**17
