// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title Token pull measured by balance delta
/// @notice Every escrow of the suite books what actually arrived, not what was asked for: a
/// fee-on-transfer token that delivers less is booked at what it delivered. (A token that
/// charges its sender on top of the value is invisible here; the payment-token allow-list keeps
/// such tokens out, see IPaymentTokenPolicy.) SafeERC20, so tokens without return values work.
library TokenPull {
    using SafeERC20 for IERC20;

    /// @dev Pulls `amount` of `token` from the caller (`msg.sender`, who approved this contract)
    /// and returns the increase of this contract's balance.
    function pullFromSender(IERC20 token, uint256 amount) internal returns (uint256 received) {
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        received = token.balanceOf(address(this)) - before;
    }
}
