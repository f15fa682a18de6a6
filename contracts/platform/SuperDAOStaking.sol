// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Votes} from "@openzeppelin/contracts/governance/utils/Votes.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ISuperDAOStaking} from "../interfaces/ISuperDAOStaking.sol";

/// @title SuperDAOStaking
/// @notice FLAI staking, membership and checkpointed voting power of the SuperDAO.
/// @dev Extends OpenZeppelin {Votes} (ERC-5805, block-number clock). Each account is its
/// own delegate ({delegates} returns the account; {delegate} and {delegateBySig} revert), so
/// the account's checkpointed votes are exactly its own units and its stake is derived as
/// `getVotes(account) - credentialsOf(account)`; no separate stake slot is written, which
/// keeps an account's first stake near 125k gas (bench/gas_platform.py; target 130k).
/// The owner is the SuperDAO timelock (`flai.chain.deploy_platform` hands it over).
contract SuperDAOStaking is ISuperDAOStaking, Votes, Ownable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @inheritdoc ISuperDAOStaking
    uint16 public constant MAX_EXIT_FEE_BPS = 1_000;
    uint16 private constant _BPS = 10_000;

    IERC20 private immutable _flai;
    address private immutable _treasury;

    uint256 private _minimumStake;
    uint16 private _exitFeeBps;
    uint256 private _totalCredentials;
    mapping(address account => uint256) private _credentials;

    /// @param flai_ The FLAI token.
    /// @param treasury_ Receiver of swept fees (the SuperDAO timelock).
    /// @param initialOwner Temporary owner during deployment; ownership goes to the timelock.
    /// @param minimumStake_ Initial minimum stake.
    /// @param exitFeeBps_ Initial exit fee in basis points (<= MAX_EXIT_FEE_BPS).
    constructor(
        IERC20 flai_,
        address treasury_,
        address initialOwner,
        uint256 minimumStake_,
        uint16 exitFeeBps_
    ) EIP712("FLAI SuperDAO Staking", "1") Ownable(initialOwner) {
        if (address(flai_) == address(0) || treasury_ == address(0)) revert StakingZeroAddress();
        _flai = flai_;
        _treasury = treasury_;
        _setMinimumStake(minimumStake_);
        _setExitFeeBps(exitFeeBps_);
    }

    // --- membership -----------------------------------------------------------------------

    /// @inheritdoc ISuperDAOStaking
    function stake(uint256 amount) external nonReentrant {
        if (amount == 0) revert StakingZeroAmount();
        // pulled first: an amount beyond the caller's FLAI fails there, by name; afterwards the
        // new stake is bounded by the FLAI supply and cannot overflow
        _flai.safeTransferFrom(msg.sender, address(this), amount);
        uint256 newStake = stakeOf(msg.sender) + amount;
        uint256 minimum = _minimumStake;
        if (newStake < minimum) revert StakingBelowMinimum(newStake, minimum);
        _transferVotingUnits(address(0), msg.sender, amount);
        emit Staked(msg.sender, amount, newStake);
    }

    /// @inheritdoc ISuperDAOStaking
    function unstake(uint256 amount) external nonReentrant {
        if (amount == 0) revert StakingZeroAmount();
        address account = msg.sender;
        uint256 available = stakeOf(account);
        if (amount > available) revert StakingInsufficientStake(account, available, amount);
        uint256 newStake;
        unchecked {
            newStake = available - amount; // amount <= available checked above
        }
        uint256 minimum = _minimumStake;
        if (newStake != 0 && newStake < minimum) revert StakingBelowMinimum(newStake, minimum);

        // The fee simply stays in the contract: it is the part of the balance above the stakes.
        uint256 fee = (amount * _exitFeeBps) / _BPS;
        _transferVotingUnits(account, address(0), amount);
        emit Unstaked(account, amount, fee, newStake);
        _flai.safeTransfer(account, amount - fee);
    }

    /// @inheritdoc ISuperDAOStaking
    function sweepFees() external nonReentrant returns (uint256 amount) {
        amount = pendingFees();
        if (amount == 0) revert StakingNothingToSweep();
        emit FeesSwept(_treasury, amount);
        _flai.safeTransfer(_treasury, amount);
    }

    // --- governance -----------------------------------------------------------------------

    /// @inheritdoc ISuperDAOStaking
    function grantCredentials(address account, uint256 units) external onlyOwner {
        if (account == address(0)) revert StakingZeroAddress();
        if (units == 0) revert StakingZeroAmount();
        // votes are uint208 checkpoints: the total must stay in range
        uint256 room = type(uint208).max - _getTotalSupply();
        if (units > room) revert StakingUnitsTooLarge(units, room);
        uint256 newCredentials = _credentials[account] + units;
        _credentials[account] = newCredentials;
        _totalCredentials += units;
        _transferVotingUnits(address(0), account, units);
        emit CredentialsGranted(account, units, newCredentials);
    }

    /// @inheritdoc ISuperDAOStaking
    function revokeCredentials(address account, uint256 units) external onlyOwner {
        if (units == 0) revert StakingZeroAmount();
        uint256 available = _credentials[account];
        if (units > available) revert StakingInsufficientCredentials(account, available, units);
        uint256 newCredentials;
        unchecked {
            newCredentials = available - units; // units <= available checked above
            _totalCredentials -= units; // the total is a sum that includes `available`
        }
        _credentials[account] = newCredentials;
        _transferVotingUnits(account, address(0), units);
        emit CredentialsRevoked(account, units, newCredentials);
    }

    /// @inheritdoc ISuperDAOStaking
    function setMinimumStake(uint256 newMinimumStake) external onlyOwner {
        _setMinimumStake(newMinimumStake);
    }

    /// @inheritdoc ISuperDAOStaking
    function setExitFeeBps(uint16 newExitFeeBps) external onlyOwner {
        _setExitFeeBps(newExitFeeBps);
    }

    // --- delegation is disabled --------------------------------------------------------------

    /// @notice Always reverts with {StakingDelegationDisabled}: power is personal.
    function delegate(address) public pure override {
        revert StakingDelegationDisabled();
    }

    /// @notice Always reverts with {StakingDelegationDisabled}: power is personal.
    function delegateBySig(address, uint256, uint256, uint8, bytes32, bytes32) public pure override {
        revert StakingDelegationDisabled();
    }

    /// @notice Every account is its own delegate.
    function delegates(address account) public pure override returns (address) {
        return account;
    }

    // --- views ----------------------------------------------------------------------------

    /// @inheritdoc ISuperDAOStaking
    function flai() external view returns (address) {
        return address(_flai);
    }

    /// @inheritdoc ISuperDAOStaking
    function treasury() external view returns (address) {
        return _treasury;
    }

    /// @inheritdoc ISuperDAOStaking
    function minimumStake() external view returns (uint256) {
        return _minimumStake;
    }

    /// @inheritdoc ISuperDAOStaking
    function exitFeeBps() external view returns (uint16) {
        return _exitFeeBps;
    }

    /// @inheritdoc ISuperDAOStaking
    function credentialsOf(address account) external view returns (uint256) {
        return _credentials[account];
    }

    /// @inheritdoc ISuperDAOStaking
    function totalCredentials() external view returns (uint256) {
        return _totalCredentials;
    }

    /// @inheritdoc ISuperDAOStaking
    function isMember(address account) external view returns (bool) {
        uint256 staked = stakeOf(account);
        return staked != 0 && staked >= _minimumStake;
    }

    /// @inheritdoc ISuperDAOStaking
    function stakeOf(address account) public view returns (uint256) {
        unchecked {
            // votes == stake + credentials for every account (no delegation)
            return getVotes(account) - _credentials[account];
        }
    }

    /// @inheritdoc ISuperDAOStaking
    function totalStaked() public view returns (uint256) {
        unchecked {
            // the total supply of votes == total stake + total credentials
            return _getTotalSupply() - _totalCredentials;
        }
    }

    /// @inheritdoc ISuperDAOStaking
    function pendingFees() public view returns (uint256) {
        // The balance never drops below the total stake: stakes only leave through unstake.
        return _flai.balanceOf(address(this)) - totalStaked();
    }

    // --- internal -------------------------------------------------------------------------

    /// @dev Voting units of an account: its stake plus its legacy credentials, which (with no
    /// delegation) is exactly its latest checkpoint.
    function _getVotingUnits(address account) internal view override returns (uint256) {
        return getVotes(account);
    }

    function _setMinimumStake(uint256 newMinimumStake) private {
        uint256 oldMinimumStake = _minimumStake;
        _minimumStake = newMinimumStake;
        emit MinimumStakeUpdated(oldMinimumStake, newMinimumStake);
    }

    function _setExitFeeBps(uint16 newExitFeeBps) private {
        if (newExitFeeBps > MAX_EXIT_FEE_BPS) revert StakingExitFeeTooHigh(newExitFeeBps, MAX_EXIT_FEE_BPS);
        uint16 oldExitFeeBps = _exitFeeBps;
        _exitFeeBps = newExitFeeBps;
        emit ExitFeeUpdated(oldExitFeeBps, newExitFeeBps);
    }
}
