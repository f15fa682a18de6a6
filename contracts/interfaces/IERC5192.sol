// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ERC-5192: Minimal Soulbound NFTs
/// @notice Interface id 0xb45a3c0e (the selector of `locked(uint256)`).
interface IERC5192 {
    /// @notice Emitted when the locking status is changed to locked.
    /// @dev If a token is minted and the status is locked, this event should be emitted.
    event Locked(uint256 tokenId);

    /// @notice Emitted when the locking status is changed to unlocked.
    event Unlocked(uint256 tokenId);

    /// @notice Returns the locking status of a Soulbound Token.
    /// @dev SBTs assigned to the zero address are considered invalid; queries about them throw.
    /// @param tokenId The identifier for an SBT.
    function locked(uint256 tokenId) external view returns (bool);
}
