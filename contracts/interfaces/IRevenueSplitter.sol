// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ISDTBalanceHook} from "./ISDTBalanceHook.sol";

/// @title Revenue splitter of one SubDAO (001 §3.6, §6.3 eq. 10–11; 000 §6.5.1)
/// @notice Every amount R received (marketplace fees, subscriptions, donations) is split on
/// arrival by basis points into
///  - the platform treasury (`platformBps`, set by the platform admin within `MAX_PLATFORM_BPS`),
///  - the SubDAO treasury (`treasuryBps`, set by the financial chamber within the platform's
///    bounds `[minTreasuryBps, maxTreasuryBps]`),
///  - the SBGT side (`sbgtBps`): pooled per inference epoch and paid to that epoch's model
///    version contributors by consensus score, r_k = φ_k/Σφ · R_SBGT (eq. 10), claimable once
///    the epoch is over (the next model version was accepted, or the SubDAO retired) — a pool
///    is final by then, so each contributor claims it once and the claim only clears its
///    member-index bit in the epoch's one-word `unclaimed` mask (MerkleDistributor-style; the
///    mask is written all-ones by the epoch's first SBGT-side deposit, so no claim pays for a
///    fresh storage slot),
///  - the SDT side (the rest): r_i = T_i/ΣT · R_SDT (eq. 11) through a reward-per-token
///    accumulator that the SDT settles before every balance change (`onSDTBalanceChange`).
/// A deposit costs the same whatever the number of holders or contributors; claims are pulled.
///
/// Rounding (all of it tracked, none stranded silently):
///  - the split itself is exact: the SDT side takes R minus the three floored shares;
///  - SDT side: the accumulator grows by ⌊R_SDT·1e36/ΣT⌋, the remainder goes to `dustScaled`;
///    settling an account floors its scaled earnings to wei and adds the fraction to `dustScaled`;
///  - SBGT side: account k is owed ⌊pool_e·φ_k/Σφ⌋; once epoch e is over, `sweepEpochDust(e)`
///    moves pool_e − Σ_k ⌊pool_e·φ_k/Σφ⌋ to the SubDAO treasury (one loop over the ≤256
///    contributors of that version, once per epoch);
///  - `sweepDust` moves ⌊dustScaled/1e36⌋ wei to the SubDAO treasury.
/// Revenue arriving while the SDT supply is 0 is carried (`sdtCarry`) and added to the next
/// distribution with a non-zero supply; an SBGT share arriving when the epoch's Σφ is 0 (no
/// scored version) or after the SubDAO retired (its last epoch is over) goes to the SubDAO treasury.
///
/// Wiring: the SubDAO factory clones and initializes the splitter in `createSubDAO`, and the
/// SubDAO makes it the SDT's balance hook at initialization, so every SDT mint (crowdfund
/// backers included) and transfer settles through `onSDTBalanceChange`; the settlement writes
/// the holder's `paidPerToken` (≥ 1, the accumulator base), so a later `claimSDT` never pays
/// for a fresh storage slot.
///
/// Invariants (tests/stateful/test_splitter_state.py):
///  (I1) token.balanceOf(this) == platformAccrued + treasuryAccrued + sdtCarry +
///       Σ_i claimableSDT(i) + Σ_e Σ_k claimableSBGT(e, k) + Σ_e unswept SBGT remainder(e) +
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

    /// @notice Per-epoch SBGT-side pool (one slot).
    struct EpochPool {
        uint112 pool; // SBGT-side revenue received during the epoch
        uint32 version; // the model version whose φ share this pool
        uint96 phiSum; // Σφ of that version (0 = no scores: the SBGT share went to the treasury)
        bool seen; // revenue arrived during the epoch (version and phiSum are cached)
        bool dustSwept; // the rounding remainder went to the treasury
    }

    /// @notice `amount` of revenue arrived from `from` during `epoch` and was split.
    event RevenueReceived(
        address indexed from,
        uint32 indexed epoch,
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

    /// @notice `account` claimed `amount` of epoch `epoch`'s SBGT-side pool.
    event SBGTRevenueClaimed(address indexed account, uint32 indexed epoch, uint256 amount);

    /// @notice Epoch `epoch`'s rounding remainder `amount` was credited to the SubDAO treasury.
    event EpochDustSwept(uint32 indexed epoch, uint256 amount);

    /// @notice SDT-side rounding dust `amount` was credited to the SubDAO treasury.
    event DustSwept(uint256 amount);

    /// @notice Accrued treasury shares were paid out.
    event TreasuriesReleased(address indexed platformTreasury, uint256 toPlatform, address indexed subDAO, uint256 toSubDAO);

    /// @notice The split changed (applies to revenue received afterwards).
    event SharesSet(Shares shares);

    /// @notice The SubDAO retired: its last inference epoch is over (claimable and sweepable),
    /// and later SBGT-side revenue goes to the SubDAO treasury.
    event RetirementRecorded();

    /// @notice The caller is not allowed to do this.
    error SplitterUnauthorized(address caller);

    /// @notice The shares are out of bounds (platform + treasury + SBGT > 100%, or outside the platform bounds).
    error SplitterInvalidShares(Shares shares);

    /// @notice Nothing arrived (or the token delivered nothing).
    error SplitterZeroRevenue();

    /// @notice `account` has nothing to claim.
    error SplitterNothingToClaim(address account);

    /// @notice Epoch `epoch` is still current (or was never seen): it cannot be swept or claimed yet.
    error SplitterEpochOpen(uint32 epoch, uint32 currentEpoch);

    /// @notice Epoch `epoch`'s dust was already swept.
    error SplitterEpochSwept(uint32 epoch);

    /// @notice A zero address where one is required.
    error SplitterZeroAddress();

    /// @notice Initializes a clone.
    /// @param subDAO The SubDAO (its treasury; its modules give the SDT, the financial chamber
    /// and the rounds; the SDT and rounds modules are read once here).
    /// @param token The ERC-20 revenue is paid in (the SubDAO's payment token).
    /// @param platformTreasury The platform treasury (SuperDAO timelock).
    /// @param platformAdmin The account that sets the platform share and the treasury bounds.
    /// @param shares Initial shares.
    function initialize(
        address subDAO,
        address token,
        address platformTreasury,
        address platformAdmin,
        Shares calldata shares
    ) external;

    /// @notice SubDAO hook from `retire()`: the current inference epoch is over.
    function onSubDAORetired() external;

    /// @notice Pulls `amount` from the caller (approve first) and splits what arrived (balance delta).
    /// @return received The amount actually received.
    function deposit(uint256 amount) external returns (uint256 received);

    /// @notice Distributes the carried SDT-side revenue once the SDT supply is non-zero (anyone).
    function distributeCarry() external;

    /// @notice Claims the caller's SDT-side revenue.
    function claimSDT() external returns (uint256 amount);

    /// @notice Claims the caller's SBGT-side revenue of `epochs` (each one over, claimed once;
    /// epochs with nothing owed to the caller are skipped).
    function claimSBGT(uint32[] calldata epochs) external returns (uint256 amount);

    /// @notice Credits a finished epoch's rounding remainder to the SubDAO treasury (anyone, once).
    function sweepEpochDust(uint32 epoch) external returns (uint256 amount);

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

    /// @notice SBGT-side revenue of `epoch` owed to `account` and not claimed yet (accruing
    /// while the epoch is current; claimable once it is over).
    function claimableSBGT(uint32 epoch, address account) external view returns (uint256);

    /// @notice Whether `account` already claimed its share of `epoch`'s SBGT pool.
    function hasClaimedSBGT(uint32 epoch, address account) external view returns (bool);

    /// @notice The epoch's unclaimed mask: bit i set = member index i has not claimed
    /// (0 = no SBGT-side pool yet).
    function unclaimedMask(uint32 epoch) external view returns (uint256);

    /// @notice Reverts with {SplitterInvalidShares} unless `candidate` respects the bounds
    /// (platform ≤ MAX_PLATFORM_BPS, min ≤ treasury ≤ max, platform + treasury + SBGT ≤ 100%).
    function checkShares(Shares calldata candidate) external pure;

    /// @notice An SDT holder's accumulator state.
    function holder(address account) external view returns (Holder memory);

    /// @notice An epoch's SBGT pool.
    function epochPool(uint32 epoch) external view returns (EpochPool memory);

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
