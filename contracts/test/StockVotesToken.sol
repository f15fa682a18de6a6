// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/// @title Stock OpenZeppelin ERC20Votes token (benchmark reference, test only)
/// @notice ERC-20 + permit + ERC-5805 votes exactly as OpenZeppelin ships them, deployed
/// directly (no proxy), with open mint: the reference the SDT's transfer gas is measured against.
contract StockVotesToken is ERC20, ERC20Permit, ERC20Votes {
    constructor() ERC20("Stock Votes", "SVT") ERC20Permit("Stock Votes") {}

    /// @notice Mints `amount` to `to` (anyone may call: benchmark token only).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        super._update(from, to, value);
    }
}
