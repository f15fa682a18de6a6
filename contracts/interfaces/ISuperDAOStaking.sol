// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title SuperDAO staking
/// @notice Membership and voting power of the FLAI-SuperDAO (000 §6.2, §7.1.2; 001 §2.1).
/// Members join by staking FLAI (at least the governable minimum) and leave by unstaking,
/// minus an exit fee in basis points that accrues here and is pulled to the platform
/// treasury by anyone via {sweepFees}. Voting units are the account's stake plus its legacy
/// credentials (non-transferable units governance grants to early contributors, 001 §2.1).
/// Units are checkpointed per block (ERC-5805, block-number clock), so a proposal reads the
/// power held at its snapshot and stake added afterwards has no weight.
///
/// Voting power is personal: every account is its own delegate from its first stake on, and
/// re-delegation is disabled. That is what makes legacy credentials truly non-transferable
/// (delegating would lend their power) and lets the stake live in the vote checkpoints
/// themselves (stake = votes - credentials) instead of a second per-account slot.
///
/// Invariants (tests/stateful/test_staking_state.py, tests/unit/SuperDAOStaking):
///  - FLAI.balanceOf(this) == totalStaked() + pendingFees()  (pendingFees = exit fees and any
///    FLAI sent here directly, not yet swept);
///  - totalStaked() == Σ stakeOf(a);  getVotes(a) == stakeOf(a) + credentialsOf(a);
///  - getPastTotalSupply(t) == Σ getPastVotes(a, t) (OZ Votes).
interface ISuperDAOStaking {
    /// @notice `account` staked `amount` FLAI; its stake is now `newStake`.
    event Staked(address indexed account, uint256 amount, uint256 newStake);

    /// @notice `account` unstaked `amount`, received `amount - fee`; `fee` stays as pending fees.
    event Unstaked(address indexed account, uint256 amount, uint256 fee, uint256 newStake);

    /// @notice `amount` of pending fees was sent to `treasury`.
    event FeesSwept(address indexed treasury, uint256 amount);

    /// @notice Governance granted `units` legacy credentials to `account` (now `newCredentials`).
    event CredentialsGranted(address indexed account, uint256 units, uint256 newCredentials);

    /// @notice Governance revoked `units` legacy credentials of `account` (now `newCredentials`).
    event CredentialsRevoked(address indexed account, uint256 units, uint256 newCredentials);

    /// @notice The minimum stake changed.
    event MinimumStakeUpdated(uint256 oldMinimumStake, uint256 newMinimumStake);

    /// @notice The exit fee changed.
    event ExitFeeUpdated(uint16 oldExitFeeBps, uint16 newExitFeeBps);

    /// @notice A zero amount was given where a positive one is required.
    error StakingZeroAmount();

    /// @notice The stake after the operation (`stake`) would be positive but below `minimumStake`.
    error StakingBelowMinimum(uint256 stake, uint256 minimumStake);

    /// @notice `account` tried to remove `requested` but holds only `available`.
    error StakingInsufficientStake(address account, uint256 available, uint256 requested);

    /// @notice Governance tried to revoke `requested` credentials from `account`, which holds `available`.
    error StakingInsufficientCredentials(address account, uint256 available, uint256 requested);

    /// @notice An exit fee above `maxExitFeeBps` was requested.
    error StakingExitFeeTooHigh(uint16 exitFeeBps, uint16 maxExitFeeBps);

    /// @notice Delegation is disabled: every account votes with its own units.
    error StakingDelegationDisabled();

    /// @notice The zero address was given where an account is required.
    error StakingZeroAddress();

    /// @notice There are no pending fees to sweep.
    error StakingNothingToSweep();

    /// @notice Granting `units` would take the total voting units past uint208 (`room` remain).
    error StakingUnitsTooLarge(uint256 units, uint256 room);

    /// @notice Stakes `amount` FLAI (pulled with transferFrom; approve or permit first).
    /// @dev The stake after the call must be at least {minimumStake}. Voting power counts
    /// from the next block on (checkpointed at the current block).
    function stake(uint256 amount) external;

    /// @notice Unstakes `amount`; sends `amount - amount * exitFeeBps / 10_000` to the caller.
    /// @dev The remaining stake must be zero (full exit) or at least {minimumStake}.
    function unstake(uint256 amount) external;

    /// @notice Sends all pending fees (exit fees and FLAI sent here directly) to the treasury.
    /// @dev Permissionless; reverts with {StakingNothingToSweep} when there is nothing to send.
    /// @return amount The FLAI sent.
    function sweepFees() external returns (uint256 amount);

    /// @notice Grants `units` non-transferable voting units to `account` (governance only).
    function grantCredentials(address account, uint256 units) external;

    /// @notice Revokes `units` of `account`'s legacy credentials (governance only).
    function revokeCredentials(address account, uint256 units) external;

    /// @notice Sets the minimum stake a member must hold (governance only). Existing stakes
    /// below a raised minimum stay, but {isMember} turns false and partial unstakes must leave
    /// zero or the new minimum.
    function setMinimumStake(uint256 newMinimumStake) external;

    /// @notice Sets the exit fee in basis points, at most {MAX_EXIT_FEE_BPS} (governance only).
    function setExitFeeBps(uint16 newExitFeeBps) external;

    /// @notice The FLAI token staked here.
    function flai() external view returns (address);

    /// @notice Where swept fees go (the platform treasury, i.e. the SuperDAO timelock).
    function treasury() external view returns (address);

    /// @notice Upper bound for the exit fee, in basis points.
    function MAX_EXIT_FEE_BPS() external view returns (uint16);

    /// @notice The current minimum stake.
    function minimumStake() external view returns (uint256);

    /// @notice The current exit fee in basis points.
    function exitFeeBps() external view returns (uint16);

    /// @notice FLAI staked by `account`.
    function stakeOf(address account) external view returns (uint256);

    /// @notice Legacy credential units held by `account`.
    function credentialsOf(address account) external view returns (uint256);

    /// @notice FLAI staked by everyone.
    function totalStaked() external view returns (uint256);

    /// @notice Legacy credential units held by everyone.
    function totalCredentials() external view returns (uint256);

    /// @notice FLAI held here beyond the stakes: exit fees and stray transfers, not yet swept.
    function pendingFees() external view returns (uint256);

    /// @notice Whether `account` holds at least the current minimum stake.
    function isMember(address account) external view returns (bool);
}
