// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC5805} from "@openzeppelin/contracts/interfaces/IERC5805.sol";
import {IERC5192} from "./IERC5192.sol";

/// @title Soul-bound governance token (SBGT) of one SubDAO
/// @notice One locked ERC-721 (ERC-5192) per contributor per SubDAO (001 §2.3). Each token
/// carries contribution points π that decay by λ after every accepted round and grow by φ_k·M
/// for that round's submitters: π_k ← λ·π_k + φ_k·M (001 eq. 12). The technical chamber weighs
/// votes by points, v_k = π_k / Σπ (001 eq. 9), read at the proposal snapshot (IERC5805).
/// @dev Token id = uint256(uint160(holder)), so "one token per contributor" needs no extra
/// mapping. Decay is O(1): every holder stores scaled units s_k and a global index D
/// (starting at INDEX_ONE = 2**200) scales them: π_k = floor(s_k·D / INDEX_ONE). A round
/// multiplies D by λ (rounded down) — one checkpoint for everyone — and adds
/// Δs_k = floor(p_k·INDEX_ONE / D) for each submitter. The total S = Σ s_k is kept EXACTLY
/// (same integers added and removed), so the conservation law holds in scaled units:
/// Σ_k s_k == S at every block, and the reported total floor(S·D/ONE) satisfies
/// Σ_k π_k ≤ totalPoints < Σ_k π_k + holders (per-holder floors).
/// Bounds (all enforced): an award is ≤ MAX_AWARD = 2**80 points-wei (≈1.2e24) and
/// λ ∈ [MIN_LAMBDA, MAX_LAMBDA] = [0.8, 0.999], so π_k ≤ MAX_AWARD/(1-λ) < 2**90. D may not
/// fall below INDEX_MIN = 2**90 (a round that would cross it reverts {SBGTIndexExhausted}; the
/// SubDAO must then fork — an O(1) renormalisation is impossible without touching every
/// holder). Hence s_k = π_k·ONE/D ≤ ONE = 2**200, S ≤ 256·2**200 < 2**224 (Trace224 values),
/// and the index horizon is 110·ln2/ln(1/λ) accepted rounds (341 at λ = 0.8, 723 at 0.9,
/// 7,590 at 0.99).
/// Rounding: Δs rounds down (a holder loses < D/ONE ≤ 1 unit per award) and D rounds down
/// (π moves by < s_k/ONE ≤ 1 unit per decay), so each round moves π_k by < 2 units away
/// from the exact real-valued recursion; an integer reference that floors λπ each round
/// drifts by < 1 unit per round the other way.
interface ISBGT is IERC5192, IERC5805 {
    /// @notice Emitted when the decay index moves after an accepted round.
    event IndexDecayed(uint256 previousIndex, uint256 newIndex, uint256 lambdaWad);

    /// @notice Emitted when `account` earns `points` (its scaled balance becomes `scaledBalance`).
    event PointsAwarded(address indexed account, uint256 points, uint256 scaledBalance);

    /// @notice Emitted when a token is revoked (burned) and its scaled points leave the total.
    event PointsRevoked(address indexed account, uint256 scaledRemoved, uint256 pointsRemoved);

    /// @notice Emitted when the technical chamber (through the operator) changes λ.
    event DecayChanged(uint256 previousLambdaWad, uint256 newLambdaWad);

    /// @notice A transfer or approval entry point was called: the token is soul-bound.
    error SBGTSoulbound(uint256 tokenId);

    /// @notice Delegation is disabled: a holder always votes with its own points.
    error SBGTDelegationDisabled();

    /// @notice The caller is not the operator (the SubDAO's TrainingRounds).
    error SBGTUnauthorized(address caller);

    /// @notice `account` already holds this SubDAO's SBGT.
    error SBGTAlreadyHolder(address account);

    /// @notice `account` holds no SBGT of this SubDAO.
    error SBGTNotHolder(address account);

    /// @notice λ must lie in [MIN_LAMBDA, 1e18).
    error SBGTInvalidDecay(uint256 lambdaWad);

    /// @notice An award exceeds MAX_POINTS.
    error SBGTPointsTooLarge(uint256 points);

    /// @notice The decay index would fall below INDEX_MIN (see contract NatSpec).
    error SBGTIndexExhausted(uint256 index);

    /// @notice Array arguments differ in length.
    error SBGTLengthMismatch(uint256 accounts, uint256 points);

    /// @notice A timepoint in the future was queried.
    error SBGTFutureLookup(uint256 timepoint, uint48 clock);

    /// @notice Initializes a clone.
    /// @param operator The SubDAO's TrainingRounds (mints, awards, revokes).
    /// @param lambdaWad Decay per accepted round, 1e18 fixed point.
    function initialize(address operator, uint64 lambdaWad) external;

    /// @notice Mints the soul-bound token of `to` with `points` initial points (founders, 001 §8.2).
    /// @dev Only the operator. Emits Transfer, Locked and (if points > 0) PointsAwarded.
    function mint(address to, uint256 points) external returns (uint256 tokenId);

    /// @notice Applies one accepted round: decays everyone by λ (O(1)), then adds `points[i]` to
    /// `accounts[i]`. Accounts without a token (revoked since) are skipped.
    function applyRound(address[] calldata accounts, uint256[] calldata points) external;

    /// @notice Burns `account`'s token and removes its points from the total.
    function revoke(address account) external;

    /// @notice Changes λ for future rounds (operator, on a technical-chamber decision).
    function setDecay(uint64 lambdaWad) external;

    /// @notice The operator (TrainingRounds) allowed to mint, award and revoke.
    function operator() external view returns (address);

    /// @notice Decay per accepted round, 1e18 fixed point.
    function decay() external view returns (uint256 lambdaWad);

    /// @notice Current decay index D (INDEX_ONE at creation).
    function index() external view returns (uint256);

    /// @notice Current points π of `account` (= getVotes).
    function pointsOf(address account) external view returns (uint256);

    /// @notice Current total points floor(S·D/ONE).
    function totalPoints() external view returns (uint256);

    /// @notice Scaled units s of `account`.
    function scaledPointsOf(address account) external view returns (uint256);

    /// @notice Exact total of scaled units S (== Σ scaledPointsOf).
    function totalScaledPoints() external view returns (uint256);

    /// @notice The token id of `account` (its address as an integer); reverts if none.
    function tokenOf(address account) external view returns (uint256);
}
