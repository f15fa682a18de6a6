// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title FLAI round-bounty pool of one SubDAO (000 §3, §4.1; 003 Algorithm 2)
/// @notice The RFM requester or the platform treasury funds the pool in FLAI and sets how
/// many rounds it should last. Each accepted training round releases pool / roundsLeft
/// (anyone triggers `releaseRound` once per accepted round); that round's contributors pull
/// ⌊bounty·φ_k/Σφ⌋ by their consensus score. Slashed collateral sent to the pool is taken in
/// by `sync` (it joins the pool); `fund` books any such unsynced FLAI to the pool first and
/// credits the funder with exactly what its own transfer delivered (balance delta). Each round's rounding remainder returns to the pool with
/// `sweepRoundDust` (one loop over the ≤256 submitters, once). When the SubDAO is Retired or
/// Failed, `close` returns the unspent pool to the funders pro rata to what they funded (the
/// platform treasury takes the rounding remainder; slashed inflow with no funder goes to it too);
/// funders pull with `withdraw`.
///
/// Invariants (tests/stateful/test_bounty_state.py):
///  (B1) flai.balanceOf(this) == accounted() + FLAI sent here and not yet booked (by the next
///       `sync` or `fund`, into the pool)
///  (B2) totalIn == pool + Σ_r (bounty_r − claimed_r − dust_r) + totalClaimed + Σ credited
///       (unwithdrawn) + totalWithdrawn, with dust swept before close counted back in the pool
///  (B3) no contributor's claimed + claimable for a round exceeds bounty_r·φ_k/Σφ.
interface IBountyPool {
    /// @notice A released round bounty.
    struct RoundBounty {
        uint128 amount;
        uint128 claimed;
        uint32 version;
        uint96 phiSum;
        uint96 dust; // rounding remainder returned by `sweepRoundDust`
        bool dustSwept;
    }

    event Funded(address indexed funder, uint256 amount, uint256 pool, uint32 roundsLeft);
    event SlashInflow(uint256 amount, uint256 pool);
    event RoundReleased(uint256 indexed roundId, uint32 indexed version, uint256 amount, uint32 roundsLeft);
    event BountyClaimed(address indexed account, uint256 indexed roundId, uint256 amount);
    event RoundDustSwept(uint256 indexed roundId, uint256 amount);
    event Closed(uint256 unspent, uint256 toRequester, uint256 toPlatformTreasury);
    event Withdrawn(address indexed account, uint256 amount);

    error BountyUnauthorized(address caller);
    error BountyZeroAmount();
    error BountyNoRoundsLeft();
    error BountyRoundNotAccepted(uint256 roundId, uint8 status);
    error BountyRoundReleased(uint256 roundId);
    error BountyUnknownRound(uint256 roundId);
    error BountyNoScores(uint256 roundId);
    error BountyNothingToClaim(address account);
    error BountyDustSwept(uint256 roundId);
    error BountyClosed();
    error BountyNotRetired(uint8 state);
    error BountyZeroAddress();

    /// @notice Initializes a clone.
    function initialize(address subDAO, address flai, address platformTreasury) external;

    /// @notice Requester or platform treasury: add `amount` FLAI (balance delta of this transfer
    /// only; unsynced inflow is booked to the pool first); `rounds` ≠ 0 resets rounds left.
    function fund(uint256 amount, uint32 rounds) external returns (uint256 received);

    /// @notice Takes FLAI that arrived without `fund` (slashed collateral) into the pool.
    function sync() external returns (uint256 received);

    /// @notice Anyone: release pool / roundsLeft for an accepted round (once per round).
    function releaseRound(uint256 roundId) external returns (uint256 amount);

    /// @notice Claims the caller's bounty share of `roundIds`.
    function claim(uint256[] calldata roundIds) external returns (uint256 amount);

    /// @notice Anyone, once per round: return the round's rounding remainder to the pool.
    function sweepRoundDust(uint256 roundId) external returns (uint256 amount);

    /// @notice Anyone, once the SubDAO is Retired or Failed: credit the unspent pool back to the funders.
    function close() external;

    /// @notice Pays `account` its credited unspent-pool return.
    function withdraw(address account) external returns (uint256 amount);

    /// @notice The current pool and rounds left.
    function pool() external view returns (uint256 amount, uint32 roundsLeft);

    /// @notice A round's bounty.
    function roundBounty(uint256 roundId) external view returns (RoundBounty memory);

    /// @notice What `account` can claim from `roundId` now.
    function claimable(uint256 roundId, address account) external view returns (uint256);

    /// @notice What `account` claimed from `roundId`.
    function claimed(uint256 roundId, address account) external view returns (uint256);

    /// @notice FLAI funded by `funder`.
    function fundedBy(address funder) external view returns (uint256);

    /// @notice Unspent-pool return credited to `account` and not yet withdrawn.
    function creditOf(address account) external view returns (uint256);

    /// @notice Lifetime totals.
    function totals() external view returns (uint256 totalIn, uint256 totalClaimed, uint256 totalWithdrawn);

    /// @notice FLAI the pool accounts for (its balance, less inflow not yet booked).
    function accounted() external view returns (uint256);

    /// @notice Whether the pool was closed.
    function closed() external view returns (bool);
}
