// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Onboarding and training rounds of one SubDAO
/// @notice Onboarding (001 §8.2–8.3): contributors apply with an attestation CID and optional
/// FLAI collateral, validators with a FLAI slashing deposit; the technical chamber whitelists
/// them in batches. Bootstrap: the technical chamber cannot vote before anyone holds SBGT, so
/// the RFM requester calls `launch` exactly once in Onboarding — it whitelists the founding
/// contributors with their pre-allocated SBGT points and the first validators (001 §8.2
/// "initial SBGTs are pre-allocated at launch") and moves the SubDAO to Training. After that
/// only the technical chamber whitelists or revokes.
/// Rounds (003 §VI, 004 §5.2): the coordinator opens round t with the global model CID and a
/// commit deadline; each whitelisted contributor commits one update CID (the chain keeps its
/// keccak256 digest, the event carries the string); after the deadline each validator submits
/// one score vector φ ∈ [0, 1e18] for the round's submitters in ascending member-index order;
/// the coordinator finalizes with the aggregated-model CID and its validation metric, which
/// computes the consensus φ_k = stake-weighted (lower) median of the validators' scores
/// (weights = deposits) and slashes `slashBps` of the deposit of every validator whose mean
/// absolute deviation from consensus exceeds `tolerance` (slashed FLAI goes to the SubDAO
/// treasury). The round is then decided by the technical chamber (`acceptRound`/`rejectRound`)
/// or, if the SubDAO chose the FLock rule, by the validators' ±1 votes on the aggregate:
/// accept iff aggVote = Σ vote ≥ 0 (003 §VI.E), settled after every scorer voted or the vote
/// window closed. Acceptance makes the aggregate the next model version (new inference epoch)
/// and updates SBGT points π_k ← λπ_k + φ_k·M; rejection keeps the previous version.
/// Limits: 256 contributor and 256 validator indices per SubDAO (one-word bitmaps); indices
/// are never reused.
interface ITrainingRounds {
    /// @notice Membership status of a contributor or validator.
    enum MemberStatus {
        None,
        Applied,
        Whitelisted,
        Revoked
    }

    /// @notice Why the technical chamber revoked a contributor (001 §2.3).
    enum RevocationReason {
        Inactivity,
        Exit,
        Malice
    }

    /// @notice Round states. `Finalized`: consensus known, awaiting the decision.
    enum RoundStatus {
        None,
        Open,
        Finalized,
        Accepted,
        Rejected
    }

    /// @notice Governable round parameters (the technical chamber sets them).
    struct Params {
        uint64 tolerance; // max mean |score - consensus| per submitter before slashing, 1e18 = 1.0
        uint16 slashBps; // fraction of the deposit slashed
        uint32 voteWindow; // seconds validators have to vote on an aggregate (FLock mode)
        bool autoAccept; // decide by the FLock rule instead of the technical chamber
        uint128 pointsPerRound; // M: SBGT points for φ = 1 (≤ 2**80)
    }

    /// @notice A round's public record.
    struct Round {
        uint64 deadline; // commit deadline while Open, vote deadline once Finalized (FLock mode)
        RoundStatus status;
        uint16 scoreCount;
        uint16 voteCount;
        int16 aggVote;
        uint32 version; // model version if accepted
        uint96 phiSum; // Σ consensus φ of the submitters
    }

    event ContributorApplied(address indexed account, string attestationCid, uint256 collateral);
    event ValidatorApplied(address indexed account, uint256 deposit);
    event ContributorWhitelisted(address indexed account, uint16 indexed memberIndex, uint256 initialPoints);
    event ValidatorWhitelisted(address indexed account, uint16 indexed validatorIndex, uint256 deposit);
    event ContributorRevoked(address indexed account, RevocationReason reason, uint256 collateralSlashed);
    event ValidatorRemoved(address indexed account);
    event CollateralWithdrawn(address indexed account, uint256 amount);
    event DepositWithdrawn(address indexed account, uint256 amount);
    event Launched(uint256 founders, uint256 validators);
    event ParamsSet(Params params);
    event RoundOpened(uint256 indexed roundId, string globalModelCid, uint64 commitDeadline);
    event UpdateCommitted(uint256 indexed roundId, address indexed contributor, uint16 memberIndex, string updateCid);
    event ScoresSubmitted(uint256 indexed roundId, address indexed validator, uint64[] scores);
    event ValidatorSlashed(uint256 indexed roundId, address indexed validator, uint256 deviation, uint256 amount);
    event RoundFinalized(
        uint256 indexed roundId,
        string aggregateCid,
        uint64 metric,
        address[] submitters,
        uint64[] consensus,
        uint256 phiSum
    );
    event AggregateVoted(uint256 indexed roundId, address indexed validator, bool approve, int256 aggVote);
    event RoundAccepted(uint256 indexed roundId, uint32 indexed version, int256 aggVote);
    event RoundRejected(uint256 indexed roundId, uint32 keptVersion, int256 aggVote);

    error RoundsUnauthorized(address caller);
    error RoundsAlreadyApplied(address account, MemberStatus status);
    error RoundsNotApplied(address account, MemberStatus status);
    error RoundsNotWhitelisted(address account);
    error RoundsNotValidator(address account);
    error RoundsMemberLimit(uint256 limit);
    error RoundsNotEnoughValidators(uint256 have, uint256 need);
    error RoundsDepositTooSmall(uint256 deposit, uint256 minimum);
    error RoundsLengthMismatch(uint256 a, uint256 b);
    error RoundsPreviousRoundOpen(uint256 roundId, RoundStatus status);
    error RoundsInvalidDeadline(uint64 deadline);
    error RoundsWrongStatus(uint256 roundId, RoundStatus status);
    error RoundsCommitClosed(uint256 roundId, uint64 deadline);
    error RoundsAlreadyCommitted(uint256 roundId, address contributor);
    error RoundsScoringNotOpen(uint256 roundId, uint64 deadline);
    error RoundsAlreadyScored(uint256 roundId, address validator);
    error RoundsScoreLengthMismatch(uint256 roundId, uint256 expected, uint256 got);
    error RoundsScoreOutOfRange(uint256 position, uint256 score);
    error RoundsNotEnoughScores(uint256 roundId, uint256 have, uint256 need);
    error RoundsNotAutoAccept(uint256 roundId);
    error RoundsAlreadyVoted(uint256 roundId, address validator);
    error RoundsVotingOpen(uint256 roundId, uint64 voteDeadline);
    error RoundsNothingToWithdraw(address account);
    error RoundsInvalidParams(Params params);

    /// @notice Initializes a clone.
    function initialize(address subDAO) external;

    /// @notice Apply as a contributor with an attestation CID and optional FLAI collateral.
    function applyContributor(string calldata attestationCid, uint256 collateral) external;

    /// @notice Apply as a validator with a FLAI slashing deposit (≥ MIN_DEPOSIT).
    function applyValidator(uint256 deposit) external;

    /// @notice Requester, once, in Onboarding: whitelist founders with pre-allocated points and
    /// validators, then start training.
    function launch(address[] calldata founders, uint256[] calldata points, address[] calldata validators_) external;

    /// @notice Technical chamber: whitelist applied contributors (mints their SBGT, 0 points).
    function whitelistContributors(address[] calldata accounts) external;

    /// @notice Technical chamber: whitelist applied validators.
    function whitelistValidators(address[] calldata accounts) external;

    /// @notice Technical chamber: revoke a contributor (burns its SBGT; Malice confiscates collateral).
    function revokeContributor(address account, RevocationReason reason) external;

    /// @notice Technical chamber: remove a validator (its deposit becomes withdrawable).
    function removeValidator(address account) external;

    /// @notice Technical chamber: set round parameters.
    function setParams(Params calldata params_) external;

    /// @notice Technical chamber: set SBGT decay λ.
    function setDecay(uint64 lambdaWad) external;

    /// @notice Withdraw collateral when not (or no longer) whitelisted, or after retirement.
    function withdrawCollateral() external returns (uint256 amount);

    /// @notice Withdraw a validator deposit when not whitelisted, or after retirement.
    function withdrawDeposit() external returns (uint256 amount);

    /// @notice Coordinator: open the next round.
    function openRound(string calldata globalModelCid, uint64 commitDeadline) external returns (uint256 roundId);

    /// @notice Whitelisted contributor: commit one update CID before the deadline.
    function commitUpdate(uint256 roundId, string calldata updateCid) external;

    /// @notice Whitelisted validator: one score per submitter, ascending member index, after the deadline.
    function submitScores(uint256 roundId, uint64[] calldata scores) external;

    /// @notice Coordinator: post the aggregate and compute consensus + slashing.
    function finalizeRound(uint256 roundId, string calldata aggregateCid, uint64 metric) external;

    /// @notice Validator who scored the round: FLock ±1 vote on the aggregate (FLock mode only).
    function voteAggregate(uint256 roundId, bool approve) external;

    /// @notice Anyone, FLock mode: settle by aggVote ≥ 0 once everyone voted or the window closed.
    function settleRound(uint256 roundId) external;

    /// @notice Technical chamber: accept a finalized round as the next model version.
    function acceptRound(uint256 roundId) external;

    /// @notice Technical chamber: reject a finalized round (keeps the previous version).
    function rejectRound(uint256 roundId) external;

    function subDAO() external view returns (address);
    function flaiToken() external view returns (address);
    function params() external view returns (Params memory);
    function roundCount() external view returns (uint256);
    function round(uint256 roundId) external view returns (Round memory);
    function contributor(address account)
        external
        view
        returns (MemberStatus status, uint16 memberIndex, uint256 collateral, bytes32 attestationDigest);
    function validator(address account) external view returns (MemberStatus status, uint16 validatorIndex, uint256 deposit);
    function contributorCount() external view returns (uint16);
    function validatorCount() external view returns (uint16);
    function activeValidators() external view returns (uint256);
    function totalSlashed() external view returns (uint256);
    /// @notice keccak256 digest of `contributor`'s committed update CID (zero if none).
    function updateDigest(uint256 roundId, address contributor) external view returns (bytes32);
    /// @notice The round's submitters in score-vector order.
    function submitters(uint256 roundId) external view returns (address[] memory);
    /// @notice A validator's stored score vector.
    function scoresOf(uint256 roundId, address validator) external view returns (uint64[] memory);
    /// @notice Consensus φ of a finalized round, in submitter order.
    function consensus(uint256 roundId) external view returns (address[] memory accounts, uint64[] memory phi, uint256 phiSum);
    /// @notice The aggregated-model CID and metric posted for a round.
    function aggregate(uint256 roundId) external view returns (string memory cid, uint64 metric);
    /// @notice Consensus φ per model version (for the revenue splitter, 001 eq. 10).
    function versionScores(uint32 version) external view returns (address[] memory accounts, uint64[] memory phi, uint256 phiSum);
    /// @notice φ_k of `account` in `version` (0 if it did not submit).
    function versionScoreOf(uint32 version, address account) external view returns (uint256);
    /// @notice Round that produced `version`.
    function versionRound(uint32 version) external view returns (uint256);
    /// @notice Aggregated-model CID of the SubDAO's current model version ("" if none).
    function currentModelCid() external view returns (string memory);
}
