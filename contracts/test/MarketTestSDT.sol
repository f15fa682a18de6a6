// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ISDTBalanceHookMarket} from "../market/ISDTBalanceHookMarket.sol";

/// @title SDT stand-in for the market-layer unit tests
/// @notice Test harness only: an ERC-20 that calls the balance hook BEFORE balances change,
/// exactly like the SubDAO suite's SDT `_update`, with open mint/burn so tests drive supply.
contract MarketTestSDT is ERC20 {
    address public balanceHook;

    constructor() ERC20("Market Test SDT", "tSDT") {}

    function setBalanceHook(address hook) external {
        balanceHook = hook;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function burn(address from, uint256 amount) external {
        _burn(from, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        address hook = balanceHook;
        if (hook != address(0)) ISDTBalanceHookMarket(hook).onSDTBalanceChange(from, to, value);
        super._update(from, to, value);
    }
}
