// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title The slice of a SubDAO's SBGT the marketplace reads
/// @notice ABI-compatible subset of the SubDAO suite's `ISBGT`: contribution points π (001 eq. 12).
interface IMarketSBGT {
    /// @notice Current points of `account` (0 if it holds no SBGT).
    function pointsOf(address account) external view returns (uint256);
}
