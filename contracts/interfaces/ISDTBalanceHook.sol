// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Balance-change hook of a SubDAO token (SDT)
/// @notice Implemented by the revenue splitter so that it can settle an account's
/// accrued SDT-side revenue (001 eq. 11) before the account's balance changes.
interface ISDTBalanceHook {
    /// @notice Called by the SDT in `_update` BEFORE any balance changes, when a hook is set.
    /// @param from The sender (zero on mint).
    /// @param to The receiver (zero on burn).
    /// @param amount The amount about to move.
    function onSDTBalanceChange(address from, address to, uint256 amount) external;
}
