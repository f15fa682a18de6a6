// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC5805} from "@openzeppelin/contracts/interfaces/IERC5805.sol";

/// @title SubDAO token (SDT)
/// @notice Tradable ERC-20 (+ EIP-2612 permit + ERC-5805 votes) of one SubDAO (001 §6.3),
/// minted only by its SubDAO (crowdfund, contributor emissions, treasury allocation) under a
/// cap. Holders vote in the financial chamber without calling `delegate`: an account that never
/// delegated is its own delegate (`delegates(a) == a`), so every balance counts at once.
/// @dev Consequence of the self-delegation default: delegating to address(0) (by `delegate` or
/// `delegateBySig`) means "delegate to self" again — the units move back to the account and
/// `DelegateChanged` names it — so votes are never parked with nobody and
/// Σ getVotes == totalSupply at every block.
interface ISDT is IERC20, IERC5805 {
    /// @notice Emitted once, when the SubDAO sets the revenue splitter's balance hook.
    event BalanceHookSet(address indexed hook);

    /// @notice The caller is not this token's SubDAO.
    error SDTUnauthorized(address caller);

    /// @notice Minting would take the supply to `supplyAfter` (saturated at 2**256 − 1), past the cap.
    error SDTCapExceeded(uint256 supplyAfter, uint256 cap);

    /// @notice The balance hook was already set.
    error SDTHookAlreadySet(address hook);

    /// @notice The cap does not fit in 96 bits (or is zero).
    error SDTInvalidCap(uint256 cap);

    /// @notice Initializes a clone.
    /// @param subDAO The SubDAO allowed to mint/burn and to set the hook.
    /// @param cap_ Maximum supply (< 2**96).
    function initialize(address subDAO, uint256 cap_) external;

    /// @notice Mints `amount` to `to` (SubDAO only, within the cap).
    function mint(address to, uint256 amount) external;

    /// @notice Burns `amount` from `from` (SubDAO only: crowdfund refunds return the SDT bought).
    function burn(address from, uint256 amount) external;

    /// @notice Sets the balance-change hook once (SubDAO only); zero means none.
    function setBalanceHook(address hook) external;

    /// @notice The SubDAO this token belongs to.
    function subDAO() external view returns (address);

    /// @notice Maximum supply.
    function cap() external view returns (uint256);

    /// @notice The balance-change hook (zero if none).
    function balanceHook() external view returns (address);
}
