// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {IBountyPool} from "../interfaces/IBountyPool.sol";
import {ISubDAO} from "../interfaces/ISubDAO.sol";
import {ITrainingRounds} from "../interfaces/ITrainingRounds.sol";

/// @title FLAI round-bounty pool of one SubDAO
/// @notice See {IBountyPool}. Deployed as an EIP-1167 clone per SubDAO.
contract BountyPool is Initializable, ReentrancyGuardTransient, IBountyPool {
    using SafeERC20 for IERC20;

    ISubDAO private _subDAO;
    IERC20 private _flai;
    ITrainingRounds private _rounds;
    address private _platformTreasury;

    // slot: pool (uint128) + roundsLeft (uint32) + closed
    uint128 private _pool;
    uint32 private _roundsLeft;
    bool private _closed;

    uint256 private _accounted;
    uint256 private _totalIn;
    uint256 private _totalClaimed;
    uint256 private _totalWithdrawn;
    uint256 private _totalFunded;
    mapping(address funder => uint256) private _funded;
    mapping(address account => uint256) private _credit;
    mapping(uint256 roundId => RoundBounty) private _bounties;
    mapping(uint256 roundId => mapping(address account => uint256)) private _claimed;

    constructor() {
        _disableInitializers();
    }

    /// @inheritdoc IBountyPool
    function initialize(address subDAO_, address flai_, address platformTreasury_) external initializer {
        if (subDAO_ == address(0) || flai_ == address(0) || platformTreasury_ == address(0)) revert BountyZeroAddress();
        address rounds_ = ISubDAO(subDAO_).module(ISubDAO.Module.TrainingRounds);
        if (rounds_ == address(0)) revert BountyZeroAddress();
        _subDAO = ISubDAO(subDAO_);
        _flai = IERC20(flai_);
        _rounds = ITrainingRounds(rounds_);
        _platformTreasury = platformTreasury_;
    }

    /// @inheritdoc IBountyPool
    function fund(uint256 amount, uint32 rounds) external nonReentrant returns (uint256 received) {
        if (msg.sender != _subDAO.requester() && msg.sender != _platformTreasury) revert BountyUnauthorized(msg.sender);
        if (_closed) revert BountyClosed();
        uint256 before = _flai.balanceOf(address(this));
        // FLAI that arrived without `fund` (slashed collateral) is the pool's, never this funder's
        uint256 unbooked = before - _accounted;
        if (unbooked != 0) _bookInflow(unbooked);
        _flai.safeTransferFrom(msg.sender, address(this), amount);
        received = _flai.balanceOf(address(this)) - before;
        // slither-disable-next-line incorrect-equality (a token that delivered nothing is rejected)
        if (received == 0) revert BountyZeroAmount();
        _accounted += received;
        _totalIn += received;
        _funded[msg.sender] += received;
        _totalFunded += received;
        if (rounds != 0) _roundsLeft = rounds;
        uint128 pool_ = _pool + SafeCast.toUint128(received);
        _pool = pool_;
        emit Funded(msg.sender, received, pool_, _roundsLeft);
    }

    /// @inheritdoc IBountyPool
    function sync() external nonReentrant returns (uint256 received) {
        received = _flai.balanceOf(address(this)) - _accounted;
        // slither-disable-next-line incorrect-equality (nothing new arrived)
        if (received == 0) revert BountyZeroAmount();
        _bookInflow(received);
    }

    /// @inheritdoc IBountyPool
    function releaseRound(uint256 roundId) external nonReentrant returns (uint256 amount) {
        if (_closed) revert BountyClosed();
        uint32 left = _roundsLeft;
        if (left == 0) revert BountyNoRoundsLeft();
        RoundBounty storage b = _bounties[roundId];
        if (b.version != 0) revert BountyRoundReleased(roundId);
        ITrainingRounds.Round memory r = _rounds.round(roundId);
        if (r.status != ITrainingRounds.RoundStatus.Accepted) revert BountyRoundNotAccepted(roundId, uint8(r.status));
        if (r.phiSum == 0) revert BountyNoScores(roundId);
        uint128 pool_ = _pool;
        amount = pool_ / left;
        _pool = pool_ - uint128(amount); // amount ≤ pool_
        _roundsLeft = left - 1;
        b.amount = uint128(amount);
        b.version = r.version;
        b.phiSum = r.phiSum;
        emit RoundReleased(roundId, r.version, amount, left - 1);
    }

    /// @inheritdoc IBountyPool
    function claim(uint256[] calldata roundIds) external nonReentrant returns (uint256 amount) {
        for (uint256 i; i < roundIds.length; ++i) {
            uint256 roundId = roundIds[i];
            uint256 owed = _claimable(roundId, msg.sender);
            if (owed == 0) continue;
            _claimed[roundId][msg.sender] += owed;
            _bounties[roundId].claimed += uint128(owed); // owed ≤ amount (uint128)
            amount += owed;
            emit BountyClaimed(msg.sender, roundId, owed);
        }
        // slither-disable-next-line incorrect-equality (nothing owed is exactly zero)
        if (amount == 0) revert BountyNothingToClaim(msg.sender);
        _totalClaimed += amount;
        _accounted -= amount;
        _flai.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IBountyPool
    function sweepRoundDust(uint256 roundId) external nonReentrant returns (uint256 amount) {
        RoundBounty storage b = _bounties[roundId];
        if (b.version == 0) revert BountyUnknownRound(roundId);
        if (b.dustSwept) revert BountyDustSwept(roundId);
        b.dustSwept = true;
        // slither-disable-next-line unused-return (only the φ vector is needed; Σφ is cached)
        (, uint64[] memory phi,) = _rounds.versionScores(b.version);
        uint256 bounty = b.amount;
        uint256 phiSum = b.phiSum;
        uint256 allocated = 0;
        for (uint256 i; i < phi.length; ++i) {
            allocated += (bounty * phi[i]) / phiSum;
        }
        amount = bounty - allocated;
        b.dust = uint96(amount); // < number of submitters
        if (_closed) {
            _credit[_platformTreasury] += amount;
        } else {
            _pool += uint128(amount);
        }
        emit RoundDustSwept(roundId, amount);
    }

    /// @inheritdoc IBountyPool
    function close() external nonReentrant {
        if (_closed) revert BountyClosed();
        ISubDAO.State st = _subDAO.state();
        if (st != ISubDAO.State.Retired && st != ISubDAO.State.Failed) revert BountyNotRetired(uint8(st));
        _closed = true;
        uint256 unspent = _pool;
        _pool = 0;
        _roundsLeft = 0;
        address requester = _subDAO.requester();
        uint256 toRequester = 0;
        if (_totalFunded != 0 && requester != _platformTreasury) {
            toRequester = (unspent * _funded[requester]) / _totalFunded;
        }
        uint256 toTreasury = unspent - toRequester;
        _credit[requester] += toRequester;
        _credit[_platformTreasury] += toTreasury;
        emit Closed(unspent, toRequester, toTreasury);
    }

    /// @inheritdoc IBountyPool
    function withdraw(address account) external nonReentrant returns (uint256 amount) {
        amount = _credit[account];
        // slither-disable-next-line incorrect-equality (nothing credited is exactly zero)
        if (amount == 0) revert BountyNothingToClaim(account);
        _credit[account] = 0;
        _totalWithdrawn += amount;
        _accounted -= amount;
        emit Withdrawn(account, amount);
        _flai.safeTransfer(account, amount);
    }

    /// @inheritdoc IBountyPool
    function pool() external view returns (uint256 amount, uint32 roundsLeft) {
        return (_pool, _roundsLeft);
    }

    /// @inheritdoc IBountyPool
    function roundBounty(uint256 roundId) external view returns (RoundBounty memory) {
        return _bounties[roundId];
    }

    /// @inheritdoc IBountyPool
    function claimable(uint256 roundId, address account) external view returns (uint256) {
        return _claimable(roundId, account);
    }

    /// @inheritdoc IBountyPool
    function claimed(uint256 roundId, address account) external view returns (uint256) {
        return _claimed[roundId][account];
    }

    /// @inheritdoc IBountyPool
    function fundedBy(address funder) external view returns (uint256) {
        return _funded[funder];
    }

    /// @inheritdoc IBountyPool
    function creditOf(address account) external view returns (uint256) {
        return _credit[account];
    }

    /// @inheritdoc IBountyPool
    function totals() external view returns (uint256 totalIn, uint256 totalClaimed, uint256 totalWithdrawn) {
        return (_totalIn, _totalClaimed, _totalWithdrawn);
    }

    /// @inheritdoc IBountyPool
    function accounted() external view returns (uint256) {
        return _accounted;
    }

    /// @inheritdoc IBountyPool
    function closed() external view returns (bool) {
        return _closed;
    }

    /// @dev Books FLAI that arrived without `fund`: into the pool, or to the platform treasury's
    /// credit once the pool is closed (no funder stands behind it).
    function _bookInflow(uint256 amount) private {
        _accounted += amount;
        _totalIn += amount;
        if (_closed) {
            _credit[_platformTreasury] += amount;
        } else {
            _pool += SafeCast.toUint128(amount);
        }
        emit SlashInflow(amount, _pool);
    }

    /// @dev ⌊bounty·φ_k/Σφ⌋ − claimed (the dust sweep leaves every share intact).
    function _claimable(uint256 roundId, address account) private view returns (uint256) {
        RoundBounty storage b = _bounties[roundId];
        if (b.version == 0) return 0;
        uint256 phi = _rounds.versionScoreOf(b.version, account);
        return (uint256(b.amount) * phi) / b.phiSum - _claimed[roundId][account];
    }
}
