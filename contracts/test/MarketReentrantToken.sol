// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Callback a MarketReentrantToken makes on every transfer once armed (ERC-777-style).
interface IMarketReentrantReceiver {
    function onTokenTransfer(address from, address to, uint256 amount) external;
}

/// @title Malicious ERC-20: hands control to an attacker on every transfer, for reentrancy tests
contract MarketReentrantToken is ERC20 {
    address public callbackTarget;

    constructor() ERC20("Reentrant", "RE") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Arms (or with zero, disarms) the transfer callback.
    function setCallbackTarget(address target) external {
        callbackTarget = target;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        address target = callbackTarget;
        if (target != address(0) && from != address(0)) {
            IMarketReentrantReceiver(target).onTokenTransfer(from, to, value);
        }
    }
}
