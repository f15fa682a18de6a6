// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title Payment-token stand-in (a stablecoin / FLAI) with open mint, for market tests
contract MarketTestToken is ERC20 {
    constructor() ERC20("Market Test USD", "tUSD") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
