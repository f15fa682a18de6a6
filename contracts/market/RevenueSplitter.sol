// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {IRevenueSplitter} from "../interfaces/IRevenueSplitter.sol";
import {ISDTBalanceHook} from "../interfaces/ISDTBalanceHook.sol";
import {ISubDAO} from "../interfaces/ISubDAO.sol";
import {ITrainingRounds} from "../interfaces/ITrainingRounds.sol";
import {TokenPull} from "../libraries/TokenPull.sol";

/// @title Revenue splitter of one SubDAO
/// @notice See {IRevenueSplitter}. An EIP-1167 clone per SubDAO, created and initialized by the
/// SubDAO factory with the rest of the suite (the SubDAO's `RevenueSplitter` module and the
/// SDT's balance hook from the start).
contract RevenueSplitter is Initializable, ReentrancyGuardTransient, IRevenueSplitter {
    using SafeERC20 for IERC20;

    uint256 private constant _BPS = 10_000;
    uint256 private constant _SCALE = 1e36;
    /// @dev The accumulator starts at 1 and a holder's `paidPerToken` of 0 reads as 1, so the
    /// first settlement (an SDT mint or transfer) writes a non-zero slot and a later claim only
    /// updates it (no 20k zero-to-non-zero store inside `claimSDT`).
    uint256 private constant _ACC_BASE = 1;

    /// @inheritdoc IRevenueSplitter
    uint16 public constant MAX_PLATFORM_BPS = 5_000;

    // wiring (set once by `initialize`; the financial chamber is read from the SubDAO when needed)
    ISubDAO private _subDAO;
    IERC20 private _token;
    IERC20 private _sdt;
    ITrainingRounds private _rounds;
    address private _platformTreasury;
    address private _platformAdmin;
    uint32 private _epochLength; // packed with the admin: written in the same initialize

    Shares private _shares; // one slot (5 × uint16)
    // slot: firstRevenueAt (8) + retired (1) + current pool id (4), all read by every deposit
    uint64 private _firstRevenueAt;
    bool private _retired;
    uint32 private _currentPool;

    // SDT side
    uint256 private _accPerToken;
    uint256 private _dustScaled;
    uint256 private _sdtCarry;
    mapping(address account => Holder) private _holders;

    // SBGT side: time-sliced pools, ids 1.._currentPool
    mapping(uint32 poolId => EpochPool) private _pools;
    /// @dev Bit i set = member index i has not claimed the pool. Written all-ones when the pool
    /// opens, so a claim only clears a bit of a non-zero word.
    mapping(uint32 poolId => uint256 mask) private _unclaimed;

    // treasuries and totals
    uint256 private _platformAccrued;
    uint256 private _treasuryAccrued;
    uint256 private _totalReceived;
    uint256 private _platformPaid;
    uint256 private _treasuryPaid;

    constructor() {
        _disableInitializers();
    }

    /// @inheritdoc IRevenueSplitter
    function initialize(
        address subDAO_,
        address token_,
        address platformTreasury_,
        address platformAdmin_,
        Shares calldata shares_,
        uint32 epochLength_
    ) external initializer {
        if (subDAO_ == address(0) || token_ == address(0) || platformTreasury_ == address(0)) {
            revert SplitterZeroAddress();
        }
        if (epochLength_ == 0) revert SplitterInvalidEpochLength(epochLength_);
        ISubDAO s = ISubDAO(subDAO_);
        address sdt_ = s.module(ISubDAO.Module.SDT);
        address rounds_ = s.module(ISubDAO.Module.TrainingRounds);
        if (sdt_ == address(0) || rounds_ == address(0)) revert SplitterZeroAddress();
        _subDAO = s;
        _token = IERC20(token_);
        _sdt = IERC20(sdt_);
        _rounds = ITrainingRounds(rounds_);
        _platformTreasury = platformTreasury_;
        _platformAdmin = platformAdmin_;
        _epochLength = epochLength_;
        _accPerToken = _ACC_BASE;
        _setShares(shares_);
    }

    /// @inheritdoc ISDTBalanceHook
    function onSDTBalanceChange(address from, address to, uint256) external {
        if (msg.sender != address(_sdt)) revert SplitterUnauthorized(msg.sender);
        // SDT held here would earn a share nobody can claim: the splitter holds none
        if (to == address(this)) revert SplitterSDTNotAccepted(to);
        if (from != address(0)) _settle(from);
        if (to != address(0) && to != from) _settle(to);
    }

    /// @inheritdoc IRevenueSplitter
    function onSubDAORetired() external {
        if (msg.sender != address(_subDAO)) revert SplitterUnauthorized(msg.sender);
        _retired = true;
        emit RetirementRecorded();
    }

    /// @inheritdoc IRevenueSplitter
    function deposit(uint256 amount) external nonReentrant returns (uint256 received) {
        received = TokenPull.pullFromSender(_token, amount);
        _split(received);
    }

    /// @inheritdoc IRevenueSplitter
    function distributeCarry() external nonReentrant {
        uint256 carry = _sdtCarry;
        uint256 supply = _sdt.totalSupply();
        if (carry == 0 || supply == 0) revert SplitterZeroRevenue();
        _sdtCarry = 0;
        _distribute(carry, supply);
    }

    /// @inheritdoc IRevenueSplitter
    function claimSDT() external nonReentrant returns (uint256 amount) {
        Holder storage h = _holders[msg.sender];
        uint256 acc = _accPerToken;
        uint256 earnedScaled = _sdt.balanceOf(msg.sender) * (acc - _paid(h));
        amount = h.credit + earnedScaled / _SCALE;
        // slither-disable-next-line incorrect-equality (nothing owed is exactly zero)
        if (amount == 0) revert SplitterNothingToClaim(msg.sender);
        if (h.credit != 0) h.credit = 0;
        h.paidPerToken = acc;
        _dustScaled += earnedScaled % _SCALE;
        emit SDTRevenueClaimed(msg.sender, amount);
        _token.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IRevenueSplitter
    function claimSBGT(uint32[] calldata poolIds) external nonReentrant returns (uint256 amount) {
        ITrainingRounds rounds_ = _rounds;
        for (uint256 i; i < poolIds.length; ++i) {
            uint32 id = poolIds[i];
            EpochPool memory p = _pools[id];
            // slither-disable-next-line incorrect-equality (every opened pool has Σφ > 0)
            if (p.phiSum == 0) revert SplitterUnknownPool(id, _currentPool);
            (uint256 phi, uint16 index, bool superseded) = rounds_.versionShareOf(p.version, msg.sender);
            // slither-disable-next-line timestamp (a pool's end is a coarse, epoch-length deadline)
            if (block.timestamp < p.endsAt && !superseded && !_retired) revert SplitterPoolOpen(id, p.endsAt);
            uint256 owed = (uint256(p.amount) * phi) / p.phiSum;
            uint256 mask = _unclaimed[id];
            uint256 bit = 1 << index;
            // slither-disable-next-line incorrect-equality (a bit test on the claim mask)
            if (owed == 0 || mask & bit == 0) continue;
            _unclaimed[id] = mask & ~bit;
            amount += owed;
            emit SBGTRevenueClaimed(msg.sender, id, owed);
        }
        // slither-disable-next-line incorrect-equality (nothing owed is exactly zero)
        if (amount == 0) revert SplitterNothingToClaim(msg.sender);
        _token.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IRevenueSplitter
    function sweepEpochDust(uint32 poolId) external nonReentrant returns (uint256 amount) {
        EpochPool storage p = _pools[poolId];
        uint256 phiSum = p.phiSum;
        // slither-disable-next-line incorrect-equality (every opened pool has Σφ > 0)
        if (phiSum == 0) revert SplitterUnknownPool(poolId, _currentPool);
        uint32 version = p.version;
        if (!_over(version, p.endsAt)) revert SplitterPoolOpen(poolId, p.endsAt);
        if (p.dustSwept) revert SplitterEpochSwept(poolId);
        p.dustSwept = true;
        uint256 pool = p.amount;
        // slither-disable-next-line unused-return (only the φ vector is needed; Σφ is cached)
        (, uint64[] memory phi,) = _rounds.versionScores(version);
        uint256 allocated = 0;
        for (uint256 i; i < phi.length; ++i) {
            allocated += (pool * phi[i]) / phiSum;
        }
        amount = pool - allocated;
        _treasuryAccrued += amount;
        emit EpochDustSwept(poolId, amount);
    }

    /// @inheritdoc IRevenueSplitter
    function sweepDust() external nonReentrant returns (uint256 amount) {
        uint256 dust = _dustScaled;
        amount = dust / _SCALE;
        _dustScaled = dust % _SCALE;
        _treasuryAccrued += amount;
        emit DustSwept(amount);
    }

    /// @inheritdoc IRevenueSplitter
    function releaseTreasuries() external nonReentrant {
        uint256 toPlatform = _platformAccrued;
        uint256 toSubDAO = _treasuryAccrued;
        if (toPlatform + toSubDAO == 0) revert SplitterNothingToClaim(msg.sender);
        _platformAccrued = 0;
        _treasuryAccrued = 0;
        _platformPaid += toPlatform;
        _treasuryPaid += toSubDAO;
        address platform = _platformTreasury;
        address subDAO_ = address(_subDAO);
        emit TreasuriesReleased(platform, toPlatform, subDAO_, toSubDAO);
        if (toPlatform != 0) _token.safeTransfer(platform, toPlatform);
        if (toSubDAO != 0) _token.safeTransfer(subDAO_, toSubDAO);
    }

    /// @inheritdoc IRevenueSplitter
    function setPlatformShares(uint16 platformBps, uint16 minTreasuryBps, uint16 maxTreasuryBps) external {
        if (msg.sender != _platformAdmin) revert SplitterUnauthorized(msg.sender);
        Shares memory s = _shares;
        s.platformBps = platformBps;
        s.minTreasuryBps = minTreasuryBps;
        s.maxTreasuryBps = maxTreasuryBps;
        _setShares(s);
    }

    /// @inheritdoc IRevenueSplitter
    function setSubDAOShares(uint16 treasuryBps, uint16 sbgtBps) external {
        if (msg.sender != _subDAO.module(ISubDAO.Module.FinancialChamber)) revert SplitterUnauthorized(msg.sender);
        Shares memory s = _shares;
        s.treasuryBps = treasuryBps;
        s.sbgtBps = sbgtBps;
        _setShares(s);
    }

    /// @inheritdoc IRevenueSplitter
    function shares() external view returns (Shares memory) {
        return _shares;
    }

    /// @inheritdoc IRevenueSplitter
    function subDAO() external view returns (address) {
        return address(_subDAO);
    }

    /// @inheritdoc IRevenueSplitter
    function token() external view returns (address) {
        return address(_token);
    }

    /// @inheritdoc IRevenueSplitter
    function platformTreasury() external view returns (address) {
        return _platformTreasury;
    }

    /// @inheritdoc IRevenueSplitter
    function platformAdmin() external view returns (address) {
        return _platformAdmin;
    }

    /// @inheritdoc IRevenueSplitter
    function claimableSDT(address account) external view returns (uint256) {
        Holder storage h = _holders[account];
        uint256 pendingScaled = _sdt.balanceOf(account) * (_accPerToken - _paid(h));
        return h.credit + pendingScaled / _SCALE;
    }

    /// @inheritdoc IRevenueSplitter
    function claimableSBGT(uint32 poolId, address account) external view returns (uint256) {
        EpochPool memory p = _pools[poolId];
        // slither-disable-next-line incorrect-equality (no such pool: nothing owed)
        if (p.phiSum == 0) return 0;
        // slither-disable-next-line unused-return (whether the pool is over does not matter here)
        (uint256 phi, uint16 index,) = _rounds.versionShareOf(p.version, account);
        // slither-disable-next-line incorrect-equality (a bit test on the claim mask)
        if (_unclaimed[poolId] & (1 << index) == 0) return 0;
        return (uint256(p.amount) * phi) / p.phiSum;
    }

    /// @inheritdoc IRevenueSplitter
    function claimablePools(address account, uint32 fromId, uint32 toId)
        external
        view
        returns (uint32[] memory poolIds, uint256 total)
    {
        uint32 last = _currentPool;
        if (toId > last) toId = last;
        if (fromId == 0) fromId = 1;
        uint256 n = 0;
        for (uint32 id = fromId; id <= toId; ++id) {
            // slither-disable-next-line calls-loop (a view over a caller-bounded id range)
            if (_owedNow(id, account) != 0) ++n;
        }
        poolIds = new uint32[](n);
        n = 0;
        for (uint32 id = fromId; id <= toId; ++id) {
            // slither-disable-next-line calls-loop (a view over a caller-bounded id range)
            uint256 owed = _owedNow(id, account);
            if (owed != 0) {
                poolIds[n++] = id;
                total += owed;
            }
        }
    }

    /// @inheritdoc IRevenueSplitter
    function hasClaimedSBGT(uint32 poolId, address account) external view returns (bool) {
        // slither-disable-next-line incorrect-equality (no such pool: nothing was claimed)
        if (_pools[poolId].phiSum == 0) return false;
        // slither-disable-next-line unused-return (whether the pool is over does not matter here)
        (uint256 phi, uint16 index,) = _rounds.versionShareOf(_pools[poolId].version, account);
        // slither-disable-next-line incorrect-equality (a bit test on the claim mask)
        return phi != 0 && _unclaimed[poolId] & (1 << index) == 0;
    }

    /// @inheritdoc IRevenueSplitter
    function unclaimedMask(uint32 poolId) external view returns (uint256) {
        return _unclaimed[poolId];
    }

    /// @inheritdoc IRevenueSplitter
    function poolOver(uint32 poolId) external view returns (bool) {
        EpochPool memory p = _pools[poolId];
        // slither-disable-next-line incorrect-equality (no such pool)
        if (p.phiSum == 0) return false;
        return _over(p.version, p.endsAt);
    }

    /// @inheritdoc IRevenueSplitter
    function currentPoolId() external view returns (uint32) {
        return _currentPool;
    }

    /// @inheritdoc IRevenueSplitter
    function epochLength() external view returns (uint32) {
        return _epochLength;
    }

    /// @inheritdoc IRevenueSplitter
    function checkShares(Shares calldata s) external pure {
        _checkShares(s);
    }

    /// @inheritdoc IRevenueSplitter
    function holder(address account) external view returns (Holder memory) {
        return _holders[account];
    }

    /// @inheritdoc IRevenueSplitter
    function epochPool(uint32 poolId) external view returns (EpochPool memory) {
        return _pools[poolId];
    }

    /// @inheritdoc IRevenueSplitter
    function accPerToken() external view returns (uint256) {
        return _accPerToken;
    }

    /// @inheritdoc IRevenueSplitter
    function dustScaled() external view returns (uint256) {
        return _dustScaled;
    }

    /// @inheritdoc IRevenueSplitter
    function sdtCarry() external view returns (uint256) {
        return _sdtCarry;
    }

    /// @inheritdoc IRevenueSplitter
    function accrued() external view returns (uint256 platform, uint256 subDAOTreasury) {
        return (_platformAccrued, _treasuryAccrued);
    }

    /// @inheritdoc IRevenueSplitter
    function totals() external view returns (uint256 received, uint256 platformPaid, uint256 treasuryPaid) {
        return (_totalReceived, _platformPaid, _treasuryPaid);
    }

    /// @inheritdoc IRevenueSplitter
    function firstRevenueAt() external view returns (uint64) {
        return _firstRevenueAt;
    }

    /// @inheritdoc IRevenueSplitter
    function retired() external view returns (bool) {
        return _retired;
    }

    /// @dev Splits `amount` of revenue just received.
    function _split(uint256 amount) private {
        // slither-disable-next-line incorrect-equality (a deposit that delivered nothing is rejected)
        if (amount == 0) revert SplitterZeroRevenue();
        _totalReceived += amount;
        // slither-disable-next-line incorrect-equality (unset timestamp)
        if (_firstRevenueAt == 0) _firstRevenueAt = uint64(block.timestamp);

        Shares memory s = _shares;
        uint256 toPlatform = (amount * s.platformBps) / _BPS;
        uint256 toTreasury = (amount * s.treasuryBps) / _BPS;
        uint256 toSBGT = (amount * s.sbgtBps) / _BPS;
        // the shares sum to ≤ 100% (checked in _setShares), so this cannot underflow
        uint256 toSDT = amount - toPlatform - toTreasury - toSBGT;

        (uint32 version, uint32 epoch) = _subDAO.modelVersion();
        uint32 poolId = 0;
        if (toSBGT != 0) {
            poolId = _currentPool;
            EpochPool storage p = _pools[poolId];
            // after retirement the last pool is over (claimable, its dust sweepable): no more pool
            if (_retired) {
                poolId = 0;
            // slither-disable-next-line timestamp (a pool's end is a coarse, epoch-length deadline)
            } else if (poolId != 0 && p.version == version && block.timestamp < p.endsAt) {
                p.amount = SafeCast.toUint104(p.amount + toSBGT);
            } else {
                // same version, time up: Σφ is known; a new version: read it from the rounds
                uint256 known = poolId != 0 && p.version == version ? p.phiSum : 0;
                poolId = _openPool(version, epoch, toSBGT, known);
            }
            if (poolId == 0) {
                toTreasury += toSBGT; // no scored contributors / SubDAO retired: the treasury keeps it
                toSBGT = 0;
            }
        }
        _platformAccrued += toPlatform;
        _treasuryAccrued += toTreasury;
        emit RevenueReceived(msg.sender, epoch, poolId, amount, toPlatform, toTreasury, toSBGT, toSDT);

        if (toSDT != 0) {
            uint256 supply = _sdt.totalSupply();
            if (supply == 0) {
                _sdtCarry += toSDT;
                emit SDTCarried(toSDT, _sdtCarry);
            } else {
                uint256 carry = _sdtCarry;
                if (carry != 0) _sdtCarry = 0;
                _distribute(toSDT + carry, supply);
            }
        }
    }

    /// @dev acc += ⌊amount·1e36/supply⌋; the remainder is dust (scaled). O(1) in the number of holders.
    function _distribute(uint256 amount, uint256 supply) private {
        uint256 scaled = SafeCast.toUint128(amount) * _SCALE; // < 2^128·2^120: fits
        uint256 acc = _accPerToken + scaled / supply;
        _accPerToken = acc;
        _dustScaled += scaled % supply;
        emit SDTDistributed(amount, supply, acc);
    }

    /// @dev Credits `account`'s accrued SDT-side revenue at its current balance, flooring to wei
    /// and moving the fraction into the tracked dust.
    function _settle(address account) private {
        Holder storage h = _holders[account];
        uint256 acc = _accPerToken;
        uint256 stored = h.paidPerToken;
        // slither-disable-next-line incorrect-equality (already settled at this accumulator value)
        if (acc == stored) return;
        h.paidPerToken = acc;
        uint256 paid = stored == 0 ? _ACC_BASE : stored;
        // slither-disable-next-line incorrect-equality (nothing accrued since the base)
        if (acc == paid) return;
        uint256 balance = _sdt.balanceOf(account);
        // slither-disable-next-line incorrect-equality (an empty balance earns nothing)
        if (balance == 0) return;
        uint256 earnedScaled = balance * (acc - paid);
        h.credit += SafeCast.toUint128(earnedScaled / _SCALE);
        _dustScaled += earnedScaled % _SCALE;
    }

    function _paid(Holder storage h) private view returns (uint256 paid) {
        paid = h.paidPerToken;
        if (paid == 0) paid = _ACC_BASE;
    }

    /// @dev Opens SBGT pool `_currentPool + 1` for `version` with `amount`, or returns 0 (no pool)
    /// when the version has no scores (version 0, or Σφ = 0). `phiSum` is the version's Σφ when
    /// the caller knows it (the previous pool had the same version), else 0 (read it here).
    function _openPool(uint32 version, uint32 epoch, uint256 amount, uint256 phiSum)
        private
        returns (uint32 poolId)
    {
        if (version == 0) return 0;
        if (phiSum == 0) {
            ITrainingRounds rounds_ = _rounds;
            phiSum = rounds_.round(rounds_.versionRound(version)).phiSum;
        }
        // slither-disable-next-line incorrect-equality (an unscored version has no pool)
        if (phiSum == 0) return 0;
        // ids are uint32: one pool per epochLength (≥ 1 s) or per version, so 2^32 pools is > 136 years
        poolId = _currentPool + 1;
        _currentPool = poolId;
        uint40 endsAt = SafeCast.toUint40(block.timestamp + _epochLength);
        _pools[poolId] = EpochPool({
            amount: SafeCast.toUint104(amount),
            version: version,
            phiSum: SafeCast.toUint72(phiSum),
            endsAt: endsAt,
            dustSwept: false
        });
        _unclaimed[poolId] = type(uint256).max;
        emit PoolOpened(poolId, version, epoch, phiSum, endsAt);
    }

    /// @dev What `claimSBGT([poolId])` would pay `account` now (0 if the pool is open,
    /// unknown, already claimed or owes nothing).
    function _owedNow(uint32 poolId, address account) private view returns (uint256) {
        EpochPool memory p = _pools[poolId];
        (uint256 phi, uint16 index, bool superseded) = _rounds.versionShareOf(p.version, account);
        // slither-disable-next-line timestamp,incorrect-equality (pool end; no such pool; mask bit test)
        if (p.phiSum == 0 || (block.timestamp < p.endsAt && !superseded && !_retired)) return 0;
        // slither-disable-next-line incorrect-equality (a bit test on the claim mask)
        if (_unclaimed[poolId] & (1 << index) == 0) return 0;
        return (uint256(p.amount) * phi) / p.phiSum;
    }

    /// @dev Whether a pool of `version` ending at `endsAt` is over.
    function _over(uint32 version, uint40 endsAt) private view returns (bool) {
        // slither-disable-next-line timestamp (a pool's end is a coarse, epoch-length deadline)
        if (block.timestamp >= endsAt || _retired) return true;
        // slither-disable-next-line unused-return (only the current version is needed)
        (uint32 current,) = _subDAO.modelVersion();
        return version < current;
    }

    function _setShares(Shares memory s) private {
        _checkShares(s);
        _shares = s;
        emit SharesSet(s);
    }

    function _checkShares(Shares memory s) private pure {
        if (
            s.platformBps > MAX_PLATFORM_BPS || s.minTreasuryBps > s.maxTreasuryBps
                || s.treasuryBps < s.minTreasuryBps || s.treasuryBps > s.maxTreasuryBps
                || uint256(s.platformBps) + s.treasuryBps + s.sbgtBps > _BPS
        ) revert SplitterInvalidShares(s);
    }
}
