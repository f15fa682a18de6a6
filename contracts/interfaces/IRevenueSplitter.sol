// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ISDTBalanceHook} from "./ISDTBalanceHook.sol";

/// @title Revenue splitter of one SubDAO (001 §3.6, §6.3 eq. 10–11; 000 §6.5.1)
/// @notice Every amount R received (marketplace fees, subscriptions, donations) is split on
/// arrival by basis points into
///  - the platform treasury (`platformBps`, set by the platform admin within `MAX_PLATFORM_BPS`),
///  - the SubDAO treasury (`treasuryBps`, set by the financial chamber within the platform's
///    bounds `[minTreasuryBps, maxTreasuryBps]`),
///  - the SBGT side (`sbgtBps`): pooled in time-sliced SBGT pools and paid to the pool's model
///    version contributors by consensus score, r_k = φ_k/Σφ · R_SBGT (eq. 10). A pool (sequential
///    id from 1) covers ONE model version (its φ vector) and at most `epochLength` seconds of
///    revenue (001 §3.4, §8.1: the RFM's epoch cadence): an SBGT-side deposit opens a new pool
///    when the current pool's `endsAt` has passed, or when a new version was accepted (new
///    inference epoch). A pool is over — final, claimable and its dust sweepable — once
///    `block.timestamp ≥ endsAt`, or its version is superseded, or the SubDAO retired; so a
///    model that is never retrained still pays its contributors at least every `epochLength`
///    seconds. Each contributor claims a pool once and the claim only clears its member-index
///    bit in the pool's one-word `unclaimed` mask (MerkleDistributor-style; the mask is written
///    all-ones when the pool opens, so no claim pays for a fresh storage slot),
///  - the SDT side (the rest): r_i = T_i/ΣT · R_SDT (eq. 11) through a reward-per-token
///    accumulator that the SDT settles before every balance change (`onSDTBalanceChange`).
/// A deposit costs the same whatever the number of holders or contributors; claims are pulled.
///
/// Rounding (all of it tracked, none stranded silently):
///  - the split itself is exact: the SDT side takes R minus the three floored shares;
///  - SDT side: the accumulator grows by ⌊R_SDT·1e36/ΣT⌋, the remainder goes to `dustScaled`;
///    settling an account floors its scaled earnings to wei and adds the fraction to `dustScaled`;
///  - SBGT side: account k is owed ⌊amount_p·φ_k/Σφ⌋ of pool p; once p is over,
///    `sweepEpochDust(p)` moves amount_p − Σ_k ⌊amount_p·φ_k/Σφ⌋ to the SubDAO treasury (one
///    loop over the ≤256 contributors of that version, once per pool);
///  - `sweepDust` moves ⌊dustScaled/1e36⌋ wei to the SubDAO treasury.
/// Revenue arriving while the SDT supply is 0 is carried (`sdtCarry`) and added to the next
/// distribution with a non-zero supply; an SBGT share arriving while the current version's Σφ
/// is 0 (no scored version: no pool is opened) or after the SubDAO retired (its last pool is
/// over) goes to the SubDAO treasury.
///
/// Wiring: the SubDAO factory clones and initializes the splitter in `createSubDAO`, and the
/// SubDAO makes it the SDT's balance hook at initialization, so every SDT mint (crowdfund
/// backers included) and transfer settles through `onSDTBalanceChange`; the settlement writes
/// the holder's `paidPerToken` (≥ 1, the accumulator base), so a later `claimSDT` never pays
/// for a fresh storage slot.
/// SDT held by the suite's own contracts is accounted like any holder's: the SubDAO hub claims
/// the share of its SDT (treasury allocation) into its treasury with `ISubDAO.claimSDTRevenue`
/// (also after the SDT left it: the credit was settled when it left), the chambers claim by
/// proposal, and the splitter refuses to hold SDT (`SplitterSDTNotAccepted`).
///
/// Invariants (tests/stateful/test_splitter_state.py):
///  (I1) token.balanceOf(this) == platformAccrued + treasuryAccrued + sdtCarry +
///       Σ_i claimableSDT(i) + Σ_p Σ_k claimableSBGT(p, k) + Σ_p unswept SBGT remainder(p) +
///       SDT-side dust in wei, where that dust is (dustScaled + Σ_i pendingScaled(i) mod 1e36) /
///       1e36 — an exact integer; and totalReceived == that balance + Σ claimed + platformPaid +
///       treasuryPaid (tokens sent to the splitter without `deposit` are not revenue).
///  (I3) no account's claimed + claimable exceeds its exact eq. 10/11 share.
interface IRevenueSplitter is ISDTBalanceHook {
    /// @notice Splitter parameters, in basis points.
    struct Shares {
        uint16 platformBps;
        uint16 treasuryBps;
        uint16 sbgtBps;
        uint16 minTreasuryBps;
        uint16 maxTreasuryBps;
    }

    /// @notice An SDT holder's accumulator state.
    struct Holder {
        uint128 credit; // settled, unclaimed wei
        uint256 paidPerToken; // accumulator value at the last settlement (0 = never: reads as 1)
    }

    /// @notice One SBGT-side pool (one slot: 104 + 32 + 72 + 40 + 8 bits). Σφ of ≤256 uint64
    /// scores is < 2^72; `endsAt` is a unix time (uint40 lasts until year 36812).
    struct EpochPool {
        uint104 amount; // SBGT-side revenue received into the pool
        uint32 version; // the model version whose φ share this pool
        uint72 phiSum; // Σφ of that version (> 0 for every opened pool; 0 = no such pool)
        uint40 endsAt; // the pool takes deposits while block.timestamp < endsAt
        bool dustSwept; // the rounding remainder went to the treasury
    }

    /// @notice `amount` of revenue arrived from `from` during inference epoch `epoch` and was
    /// split; `toSBGT` went into SBGT pool `poolId` (0 when no pool took it: `toSBGT` is 0).
    event RevenueReceived(
        address indexed from,
        uint32 indexed epoch,
        uint32 indexed poolId,
        uint256 amount,
        uint256 toPlatform,
        uint256 toTreasury,
        uint256 toSBGT,
        uint256 toSDT
    );

    /// @notice The SDT side of `amount` (incl. carry) was distributed over `supply`; `accPerToken` is the new accumulator.
    event SDTDistributed(uint256 amount, uint256 supply, uint256 accPerToken);

    /// @notice SDT-side revenue was carried because the SDT supply was 0.
    event SDTCarried(uint256 amount, uint256 carryTotal);

    /// @notice `account` claimed `amount` of SDT-side revenue.
    event SDTRevenueClaimed(address indexed account, uint256 amount);

    /// @notice SBGT pool `poolId` opened for model `version` (Σφ `phiSum`) during inference
    /// epoch `epoch`; it takes deposits until `endsAt` (or until the version is superseded).
    event PoolOpened(uint32 indexed poolId, uint32 indexed version, uint32 epoch, uint256 phiSum, uint64 endsAt);

    /// @notice `account` claimed `amount` of SBGT pool `poolId`.
    event SBGTRevenueClaimed(address indexed account, uint32 indexed poolId, uint256 amount);

    /// @notice Pool `poolId`'s rounding remainder `amount` was credited to the SubDAO treasury.
    event EpochDustSwept(uint32 indexed poolId, uint256 amount);

    /// @notice SDT-side rounding dust `amount` was credited to the SubDAO treasury.
    event DustSwept(uint256 amount);

    /// @notice Accrued treasury shares were paid out.
    event TreasuriesReleased(address indexed platformTreasury, uint256 toPlatform, address indexed subDAO, uint256 toSubDAO);

    /// @notice The split changed (applies to revenue received afterwards).
    event SharesSet(Shares shares);

    /// @notice The SubDAO retired: its last SBGT pool is over (claimable and sweepable), and
    /// later SBGT-side revenue goes to the SubDAO treasury.
    event RetirementRecorded();

    /// @notice The caller is not allowed to do this.
    error SplitterUnauthorized(address caller);

    /// @notice The shares are out of bounds (platform + treasury + SBGT > 100%, or outside the platform bounds).
    error SplitterInvalidShares(Shares shares);

    /// @notice Nothing arrived (or the token delivered nothing).
    error SplitterZeroRevenue();

    /// @notice `account` has nothing to claim.
    error SplitterNothingToClaim(address account);

    /// @notice Pool `poolId` is still open (its version current, the SubDAO not retired, and
    /// `block.timestamp` < `endsAt`): it cannot be claimed or swept yet.
    error SplitterPoolOpen(uint32 poolId, uint64 endsAt);

    /// @notice No SBGT pool `poolId` was opened (ids run from 1 to `currentPoolId`).
    error SplitterUnknownPool(uint32 poolId, uint32 currentPoolId);

    /// @notice Pool `poolId`'s dust was already swept.
    error SplitterEpochSwept(uint32 poolId);

    /// @notice The epoch length (seconds per SBGT pool) must be non-zero.
    error SplitterInvalidEpochLength(uint32 epochLength);

    /// @notice A zero address where one is required.
    error SplitterZeroAddress();

    /// @notice SDT cannot be sent or minted to the splitter (`splitter`): the SDT-side share of
    /// SDT held here could never be claimed.
    error SplitterSDTNotAccepted(address splitter);

    /// @notice Initializes a clone.
    /// @param subDAO The SubDAO (its treasury; its modules give the SDT, the financial chamber
    /// and the rounds; the SDT and rounds modules are read once here).
    /// @param token The ERC-20 revenue is paid in (the SubDAO's payment token).
    /// @param platformTreasury The platform treasury (SuperDAO timelock).
    /// @param platformAdmin The account that sets the platform share and the treasury bounds.
    /// @param shares Initial shares.
    /// @param epochLength Seconds an SBGT pool takes deposits (the RFM's `epochLength`); 0 is
    /// rejected with {SplitterInvalidEpochLength} (the RFM registry rejects it too).
    function initialize(
        address subDAO,
        address token,
        address platformTreasury,
        address platformAdmin,
        Shares calldata shares,
        uint32 epochLength
    ) external;

    /// @notice SubDAO hook from `retire()`: the current SBGT pool is over.
    function onSubDAORetired() external;

    /// @notice Pulls `amount` from the caller (approve first) and splits what arrived (balance delta).
    /// @return received The amount actually received.
    function deposit(uint256 amount) external returns (uint256 received);

    /// @notice Distributes the carried SDT-side revenue once the SDT supply is non-zero (anyone).
    function distributeCarry() external;

    /// @notice Claims the caller's SDT-side revenue.
    function claimSDT() external returns (uint256 amount);

    /// @notice Claims the caller's SBGT-side revenue of pools `poolIds` (each one over, claimed
    /// once; pools with nothing owed to the caller, or already claimed, are skipped). Reverts
    /// with {SplitterUnknownPool} for an id never opened, {SplitterPoolOpen} for a pool still
    /// open and {SplitterNothingToClaim} if nothing at all was owed.
    function claimSBGT(uint32[] calldata poolIds) external returns (uint256 amount);

    /// @notice Credits a finished pool's rounding remainder to the SubDAO treasury (anyone, once).
    function sweepEpochDust(uint32 poolId) external returns (uint256 amount);

    /// @notice Credits whole wei of SDT-side rounding dust to the SubDAO treasury (anyone).
    function sweepDust() external returns (uint256 amount);

    /// @notice Pays the accrued platform and SubDAO treasury shares out (anyone).
    function releaseTreasuries() external;

    /// @notice Sets the platform share and the SubDAO treasury bounds (platform admin).
    function setPlatformShares(uint16 platformBps, uint16 minTreasuryBps, uint16 maxTreasuryBps) external;

    /// @notice Sets the SubDAO treasury and SBGT shares (the SubDAO's financial chamber).
    function setSubDAOShares(uint16 treasuryBps, uint16 sbgtBps) external;

    /// @notice The maximum platform share (bps).
    function MAX_PLATFORM_BPS() external view returns (uint16);

    /// @notice Current shares.
    function shares() external view returns (Shares memory);

    /// @notice The SubDAO, the revenue token and the platform treasury.
    function subDAO() external view returns (address);

    /// @notice The revenue token.
    function token() external view returns (address);

    /// @notice The platform treasury.
    function platformTreasury() external view returns (address);

    /// @notice The platform admin.
    function platformAdmin() external view returns (address);

    /// @notice SDT-side revenue `account` can claim now.
    function claimableSDT(address account) external view returns (uint256);

    /// @notice SBGT-side revenue of pool `poolId` owed to `account` and not claimed yet
    /// (accruing while the pool is open; claimable once it is over).
    function claimableSBGT(uint32 poolId, address account) external view returns (uint256);

    /// @notice The pools in `[fromId, toId]` (clamped to the opened ids) that are over and owe
    /// `account` something unclaimed, and the sum owed: exactly what `claimSBGT(poolIds)` pays now.
    function claimablePools(address account, uint32 fromId, uint32 toId)
        external
        view
        returns (uint32[] memory poolIds, uint256 total);

    /// @notice Whether `account` already claimed its share of pool `poolId`.
    function hasClaimedSBGT(uint32 poolId, address account) external view returns (bool);

    /// @notice The pool's unclaimed mask: bit i set = member index i has not claimed
    /// (0 = no such pool).
    function unclaimedMask(uint32 poolId) external view returns (uint256);

    /// @notice Whether pool `poolId` is over (claimable, sweepable): its `endsAt` passed, its
    /// version was superseded or the SubDAO retired. False for an id never opened.
    function poolOver(uint32 poolId) external view returns (bool);

    /// @notice The id of the last SBGT pool opened (0 = none yet); ids run from 1.
    function currentPoolId() external view returns (uint32);

    /// @notice Seconds an SBGT pool takes deposits (set once at initialization).
    function epochLength() external view returns (uint32);

    /// @notice Reverts with {SplitterInvalidShares} unless `candidate` respects the bounds
    /// (platform ≤ MAX_PLATFORM_BPS, min ≤ treasury ≤ max, platform + treasury + SBGT ≤ 100%).
    function checkShares(Shares calldata candidate) external pure;

    /// @notice An SDT holder's accumulator state.
    function holder(address account) external view returns (Holder memory);

    /// @notice SBGT pool `poolId` (all zero for an id never opened).
    function epochPool(uint32 poolId) external view returns (EpochPool memory);

    /// @notice The SDT-side reward per token, scaled by 1e36 (starts at 1).
    function accPerToken() external view returns (uint256);

    /// @notice SDT-side rounding dust, scaled by 1e36 (not yet swept).
    function dustScaled() external view returns (uint256);

    /// @notice SDT-side revenue waiting for a non-zero SDT supply.
    function sdtCarry() external view returns (uint256);

    /// @notice Treasury shares accrued and not yet released.
    function accrued() external view returns (uint256 platform, uint256 subDAOTreasury);

    /// @notice Lifetime totals: received, paid to the platform, paid to the SubDAO (claims are
    /// events: not storing their sum saves a write per claim).
    function totals() external view returns (uint256 received, uint256 platformPaid, uint256 treasuryPaid);

    /// @notice Unix time of the first revenue (0 if none yet): the "deployed and earning" signal
    /// for the RFM success refund (000 §6.3).
    function firstRevenueAt() external view returns (uint64);

    /// @notice Whether the SubDAO told the splitter it retired.
    function retired() external view returns (bool);
}
