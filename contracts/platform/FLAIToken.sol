// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {IFLAIToken} from "../interfaces/IFLAIToken.sol";

/// @title FLAIToken
/// @notice ERC-20 + EIP-2612 permit. The whole supply is minted once, at construction, to
/// `holder` (the deployer's distribution account; `flai.chain.deploy_platform` then moves the
/// configured treasury allocation to the timelock). There is no owner and no later minting,
/// so the supply is fixed for the token's lifetime.
contract FLAIToken is ERC20Permit, IFLAIToken {
    /// @param name_ Token name (also the EIP-712 domain name used by permit).
    /// @param symbol_ Token symbol.
    /// @param holder Account that receives the entire supply.
    /// @param supply Fixed total supply, in wei (18 decimals).
    constructor(string memory name_, string memory symbol_, address holder, uint256 supply)
        ERC20(name_, symbol_)
        ERC20Permit(name_)
    {
        _mint(holder, supply);
    }

    /// @inheritdoc IERC20Permit
    function nonces(address owner) public view override(ERC20Permit, IERC20Permit) returns (uint256) {
        return super.nonces(owner);
    }
}
