// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Balance-change hook of a SubDAO token (SDT)
/// @notice ABI-identical to the SubDAO suite's `ISDTBalanceHook`: the SDT calls it in
/// `_update` BEFORE balances change, so the splitter settles accrued SDT-side revenue (eq. 11)
/// at the old balances.
interface ISDTBalanceHookMarket {
    /// @notice Called by the SDT before `amount` moves from `from` (zero on mint) to `to` (zero on burn).
    function onSDTBalanceChange(address from, address to, uint256 amount) external;
}
