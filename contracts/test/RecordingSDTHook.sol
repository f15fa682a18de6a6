// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ISDTBalanceHook} from "../interfaces/ISDTBalanceHook.sol";

/// @title Balance hook that records what it saw (unit tests of the SDT hook)
/// @notice Records the sender's and receiver's balances at call time, proving the SDT calls the
/// hook BEFORE balances change.
contract RecordingSDTHook is ISDTBalanceHook {
    event HookCalled(address from, address to, uint256 amount, uint256 fromBalance, uint256 toBalance);

    uint256 public calls;

    /// @inheritdoc ISDTBalanceHook
    function onSDTBalanceChange(address from, address to, uint256 amount) external {
        IERC20 token = IERC20(msg.sender);
        uint256 fromBalance = from == address(0) ? 0 : token.balanceOf(from);
        uint256 toBalance = to == address(0) ? 0 : token.balanceOf(to);
        ++calls;
        emit HookCalled(from, to, amount, fromBalance, toBalance);
    }
}
