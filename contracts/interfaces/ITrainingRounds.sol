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
/// window closed. Which rule decides a round is fixed when it is finalized (`Round.autoAccept`);
/// votes are accepted only inside the window (until `Round.deadline`), so settlement counts
/// in-window votes only. Acceptance makes the aggregate the next model version (new inference epoch)
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
        bool autoAccept; // decided by the FLock vote (fixed at finalization), else by the technical chamber
    }

    /// @notice A contributor applied with its attestation CID and collateral (FLAI actually received).
    event ContributorApplied(address indexed account, string attestationCid, uint256 collateral);
    /// @notice A validator applied with its slashing deposit (FLAI actually received).
    event ValidatorApplied(address indexed account, uint256 deposit);
    /// @notice A contributor was whitelisted (its SBGT minted with `initialPoints`).
    event ContributorWhitelisted(address indexed account, uint16 indexed memberIndex, uint256 initialPoints);
    /// @notice A validator was whitelisted; `deposit` is its stake weight.
    event ValidatorWhitelisted(address indexed account, uint16 indexed validatorIndex, uint256 deposit);
    /// @notice The technical chamber revoked a contributor (SBGT burned); Malice confiscates collateral.
    event ContributorRevoked(address indexed account, RevocationReason reason, uint256 collateralSlashed);
    /// @notice The technical chamber removed a validator; its deposit became withdrawable.
    event ValidatorRemoved(address indexed account);
    /// @notice A contributor withdrew its collateral.
    event CollateralWithdrawn(address indexed account, uint256 amount);
    /// @notice A validator withdrew its deposit.
    event DepositWithdrawn(address indexed account, uint256 amount);
    /// @notice The requester launched the SubDAO (founders and validators whitelisted; Training starts).
    event Launched(uint256 founders, uint256 validators);
    /// @notice The technical chamber changed the round parameters.
    event ParamsSet(Params params);
    /// @notice The coordinator opened a round with the global model CID.
    event RoundOpened(uint256 indexed roundId, string globalModelCid, uint64 commitDeadline);
    /// @notice A contributor committed its update CID (the chain keeps its keccak256 digest).
    event UpdateCommitted(uint256 indexed roundId, address indexed contributor, uint16 memberIndex, string updateCid);
    /// @notice A validator submitted its score vector (submitter order = ascending member index).
    event ScoresSubmitted(uint256 indexed roundId, address indexed validator, uint64[] scores);
    /// @notice A validator deviated beyond tolerance (mean |score − φ|, 1e18 = 1.0) and lost `amount` FLAI.
    event ValidatorSlashed(uint256 indexed roundId, address indexed validator, uint256 deviation, uint256 amount);
    /// @notice Consensus φ computed and the aggregate posted; the round awaits its decision.
    event RoundFinalized(
        uint256 indexed roundId,
        string aggregateCid,
        uint64 metric,
        address[] submitters,
        uint64[] consensus,
        uint256 phiSum
    );
    /// @notice FLock mode: a scoring validator voted ±1 on the aggregate; `aggVote` is the running sum.
    event AggregateVoted(uint256 indexed roundId, address indexed validator, bool approve, int256 aggVote);
    /// @notice The round became model version `version` (SBGT points updated).
    event RoundAccepted(uint256 indexed roundId, uint32 indexed version, int256 aggVote);
    /// @notice The round was rejected; `keptVersion` stays current.
    event RoundRejected(uint256 indexed roundId, uint32 keptVersion, int256 aggVote);

    /// @notice The caller lacks the role (requester, coordinator or technical chamber).
    error RoundsUnauthorized(address caller);
    /// @notice The account already applied (or is a member).
    error RoundsAlreadyApplied(address account, MemberStatus status);
    /// @notice Whitelisting needs a pending application.
    error RoundsNotApplied(address account, MemberStatus status);
    /// @notice The account is not a whitelisted contributor.
    error RoundsNotWhitelisted(address account);
    /// @notice The account is not a whitelisted validator (or did not score the round).
    error RoundsNotValidator(address account);
    /// @notice The 256-index bitmap limit is reached.
    error RoundsMemberLimit(uint256 limit);
    /// @notice Launch needs at least `minValidators` (≥ 1) validators.
    error RoundsNotEnoughValidators(uint256 have, uint256 need);
    /// @notice The validator deposit is below MIN_DEPOSIT.
    error RoundsDepositTooSmall(uint256 deposit, uint256 minimum);
    /// @notice Array arguments differ in length.
    error RoundsLengthMismatch(uint256 a, uint256 b);
    /// @notice The previous round is not decided yet.
    error RoundsPreviousRoundOpen(uint256 roundId, RoundStatus status);
    /// @notice The commit deadline is not in the future.
    error RoundsInvalidDeadline(uint64 deadline);
    /// @notice The round is in `current`, not in one of the statuses the action needs
    /// (`allowedStatuses`: bit i set = RoundStatus i allowed).
    error RoundsWrongStatus(uint256 roundId, RoundStatus current, bytes32 allowedStatuses);
    /// @notice The commit deadline passed.
    error RoundsCommitClosed(uint256 roundId, uint64 deadline);
    /// @notice The contributor already committed in this round.
    error RoundsAlreadyCommitted(uint256 roundId, address contributor);
    /// @notice Scoring and finalization start after the commit deadline.
    error RoundsScoringNotOpen(uint256 roundId, uint64 deadline);
    /// @notice The validator already scored this round.
    error RoundsAlreadyScored(uint256 roundId, address validator);
    /// @notice One score per submitter is required.
    error RoundsScoreLengthMismatch(uint256 roundId, uint256 expected, uint256 got);
    /// @notice A score exceeds 1e18.
    error RoundsScoreOutOfRange(uint256 position, uint256 score);
    /// @notice Finalization needs max(1, minValidators) score vectors.
    error RoundsNotEnoughScores(uint256 roundId, uint256 have, uint256 need);
    /// @notice The round is not decided by the FLock rule (it was finalized with autoAccept off).
    error RoundsNotAutoAccept(uint256 roundId);
    /// @notice The FLock vote window of the round closed at `voteDeadline`.
    error RoundsVotingClosed(uint256 roundId, uint64 voteDeadline);
    /// @notice The validator already voted on this aggregate.
    error RoundsAlreadyVoted(uint256 roundId, address validator);
    /// @notice Settlement waits for every scorer to vote or for the vote deadline.
    error RoundsVotingOpen(uint256 roundId, uint64 voteDeadline);
    /// @notice Nothing withdrawable (or still whitelisted in a live SubDAO).
    error RoundsNothingToWithdraw(address account);
    /// @notice tolerance ≤ 1e18, slashBps ≤ 10000, voteWindow > 0, 0 < pointsPerRound ≤ 2**80.
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

    /// @notice Validator who scored the round: FLock ±1 vote on the aggregate, until the vote
    /// deadline (rounds finalized in FLock mode only).
    function voteAggregate(uint256 roundId, bool approve) external;

    /// @notice Anyone, FLock mode: settle by aggVote ≥ 0 once everyone voted or the window closed.
    function settleRound(uint256 roundId) external;

    /// @notice Technical chamber: accept a finalized round as the next model version.
    function acceptRound(uint256 roundId) external;

    /// @notice Technical chamber: reject a finalized round (keeps the previous version).
    function rejectRound(uint256 roundId) external;

    /// @notice The SubDAO hub.
    function subDAO() external view returns (address);
    /// @notice FLAI token of deposits and collateral (implementation immutable).
    function flaiToken() external view returns (address);
    /// @notice Current round parameters (defaults until the chamber sets them).
    function params() external view returns (Params memory);
    /// @notice Number of rounds opened.
    function roundCount() external view returns (uint256);
    /// @notice A round record.
    function round(uint256 roundId) external view returns (Round memory);
    /// @notice A contributor record.
    function contributor(address account)
        external
        view
        returns (MemberStatus status, uint16 memberIndex, uint256 collateral, bytes32 attestationDigest);
    /// @notice A validator record.
    function validator(address account) external view returns (MemberStatus status, uint16 validatorIndex, uint256 deposit);
    /// @notice Contributor indices assigned.
    function contributorCount() external view returns (uint16);
    /// @notice Validator indices assigned.
    function validatorCount() external view returns (uint16);
    /// @notice Whitelisted, not removed validators.
    function activeValidators() external view returns (uint256);
    /// @notice FLAI slashed to the treasury so far (validators + malicious contributors).
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
    /// @notice What the revenue splitter needs for one SBGT-side claim, in one call: φ_k of
    /// `account` in `version` (0 if it did not submit), its member index (the bit of the
    /// splitter's per-pool claim mask; 0 if it never applied) and whether a later version was
    /// accepted (the version's inference epoch, and every SBGT pool of it, is over).
    function versionShareOf(uint32 version, address account)
        external
        view
        returns (uint256 phi, uint16 memberIndex, bool superseded);
    /// @notice Round that produced `version`.
    function versionRound(uint32 version) external view returns (uint256);
    /// @notice Aggregated-model CID of the SubDAO's current model version ("" if none).
    function currentModelCid() external view returns (string memory);
}
