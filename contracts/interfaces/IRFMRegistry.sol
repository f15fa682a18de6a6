// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IPaymentTokenPolicy} from "./IPaymentTokenPolicy.sol";
import {RFMParams} from "./ISubDAOFactory.sol";

/// @notice Lifecycle of a Request-for-Model. `None` marks an unknown id.
/// Pending -> Approved (SuperDAO proposal or endorsements) | Rejected (SuperDAO) | Expired (TTL).
enum RFMStatus {
    None,
    Pending,
    Approved,
    Rejected,
    Expired
}

/// @notice The registry's record of one RFM (the structured params are kept beside it).
struct RFMRecord {
    // slot 0
    address requester; // submitter; pays the fee, receives refunds, gets requester pricing
    RFMStatus status;
    uint64 expiresAt; // unix time after which a Pending RFM can only expire
    // slot 1
    uint48 endorsementSnapshot; // staking block whose votes weigh endorsements (submit block - 1 - stake age)
    address subDAO; // set on approval (the factory's return value)
    // slot 2
    uint128 escrow; // FLAI held for this RFM: the fee while Pending, the success reserve once Approved
    uint128 endorsementWeight; // sum of endorsers' votes at the snapshot
}

/// @title Request-for-Model registry
/// @notice The on-chain RFM registry of the FLAI-SuperDAO (001 §8.1–8.2, 000 §6.3).
/// Anyone submits an RFM (spec CID + structured params) paying the governable creation fee
/// in FLAI, which is escrowed here. Stakers endorse it with their staking votes (stake plus
/// legacy credentials) at the endorsement snapshot: `endorsementStakeAge` blocks (governable,
/// ≥ 1) before the block preceding the submission. Only stake held that long before the RFM
/// endorses — stake bought in the block before submitting cannot approve an RFM by itself and
/// leave again for the exit fee — and each unit endorses once per RFM. An RFM is approved either by the owner, the SuperDAO timelock
/// (i.e. an executed RFMApproval proposal), or permissionlessly once its endorsement weight
/// reaches the governable threshold in basis points of all voting units at the snapshot
/// ("sufficient community support", 001 §8.2). Approval calls the pluggable SubDAO factory
/// exactly once and records the SubDAO.
/// Payment tokens ({IPaymentTokenPolicy}): an RFM's `paymentToken` must be on the governance
/// allow-list when it is submitted and again when it is approved (FLAI is listed at
/// construction); a token that charges its sender on top of the value would leave every escrow
/// of the suite short, so governance lists only tokens that do not.
///
/// Fee policy (basis points governable by the timelock):
///  - Approved: `successRefundBps` of the fee stays escrowed as the success reserve (000 §6.3:
///    successful RFMs get a partial refund) and the rest accrues to the treasury.
///    Once the model is deployed and earning, anyone may call {creditSuccessRefund}, which
///    credits the whole reserve to the requester (claimed with {claimRefund}) when: the
///    RFM's SubDAO has an accepted model version (version >= 1); the SubDAO's RevenueSplitter
///    module is a byte-exact EIP-1167 clone (OpenZeppelin `Clones` layout) of the
///    governance-set {splitterImplementation} whose `subDAO()` is that SubDAO (the slot is
///    set by the SubDAO's technical chamber, so a look-alike splitter reporting revenue is
///    refused); and the splitter's lifetime `received` revenue is at least
///    {successRevenueThreshold} (in the splitter's payment-token units; default
///    {DEFAULT_SUCCESS_REVENUE_THRESHOLD} = 1 unit, i.e. "has earned its first revenue").
///    The call is permissionless because the money can only go to the requester; it is
///    credited once (the reserve drops to zero).
///  - Rejected (by the timelock): `rejectionRefundBps` of the fee is credited to the
///    requester, the rest accrues to the treasury.
///  - Expired (anyone, after `expiresAt`): the full fee is credited to the requester.
/// Credited refunds are pulled with {claimRefund}; treasury accruals are pushed to the
/// treasury by anyone with {sweepToTreasury}.
///
/// Invariant: FLAI.balanceOf(this) == Σ escrow(Pending and Approved records) + Σ unclaimed
/// refunds + treasury accrued (tests/unit/RFMRegistry).
/// Discovery: ids by status, domain, model class and data schema (paged views) and events
/// indexed by id, domain and model class.
interface IRFMRegistry is IPaymentTokenPolicy {
    /// @notice `requester` submitted RFM `rfmId` paying `fee`; `params` is the full request.
    event RFMSubmitted(
        uint256 indexed rfmId,
        bytes32 indexed domain,
        bytes32 indexed modelClass,
        address requester,
        RFMParams params,
        uint256 fee,
        uint64 expiresAt,
        uint48 endorsementSnapshot
    );

    /// @notice `endorser` endorsed `rfmId` with `weight`; the RFM's total is now `totalWeight`.
    event RFMEndorsed(uint256 indexed rfmId, address indexed endorser, uint256 weight, uint256 totalWeight);

    /// @notice RFM `rfmId` was approved and the factory created `subDAO`.
    /// @param byEndorsement True if approved by endorsements, false if by the timelock.
    /// @param successReserve Part of the fee kept escrowed for the success refund.
    /// @param treasuryShare Part of the fee accrued to the treasury.
    event RFMApproved(
        uint256 indexed rfmId,
        address indexed subDAO,
        bool byEndorsement,
        uint256 successReserve,
        uint256 treasuryShare
    );

    /// @notice The timelock rejected `rfmId`; `refund` credited to the requester, `treasuryShare` accrued.
    event RFMRejected(uint256 indexed rfmId, uint256 refund, uint256 treasuryShare);

    /// @notice `rfmId` expired unapproved; `refund` (the whole fee) credited to the requester.
    event RFMExpired(uint256 indexed rfmId, uint256 refund);

    /// @notice `amount` became claimable by `account` because of `rfmId`.
    event RefundCredited(address indexed account, uint256 indexed rfmId, uint256 amount);

    /// @notice `account` claimed `amount` of refunds.
    event RefundClaimed(address indexed account, uint256 amount);

    /// @notice `amount` of accrued fees was sent to `treasury`.
    event TreasurySwept(address indexed treasury, uint256 amount);

    /// @notice The SubDAO factory changed.
    event FactoryUpdated(address indexed oldFactory, address indexed newFactory);

    /// @notice Governance listed (`allowed`) or delisted `token` as a payment token.
    event PaymentTokenAllowed(address indexed token, bool allowed);

    /// @notice The creation fee changed.
    event CreationFeeUpdated(uint256 oldFee, uint256 newFee);

    /// @notice The submission time-to-live changed (applies to later submissions).
    event SubmissionTTLUpdated(uint64 oldTTL, uint64 newTTL);

    /// @notice The endorsement threshold changed.
    event EndorsementThresholdUpdated(uint16 oldThresholdBps, uint16 newThresholdBps);

    /// @notice The minimum age (in staking blocks) of stake that endorses changed.
    event EndorsementStakeAgeUpdated(uint32 oldStakeAge, uint32 newStakeAge);

    /// @notice The fee refund policy changed.
    event RefundPolicyUpdated(uint16 rejectionRefundBps, uint16 successRefundBps);

    /// @notice No RFM has id `rfmId`.
    error RFMUnknown(uint256 rfmId);

    /// @notice RFM `rfmId` is in `status`, which does not allow the operation.
    error RFMInvalidStatus(uint256 rfmId, RFMStatus status);

    /// @notice RFM `rfmId` passed `expiresAt`; only {expire} applies now.
    error RFMSubmissionExpired(uint256 rfmId, uint64 expiresAt);

    /// @notice RFM `rfmId` cannot expire before `expiresAt`.
    error RFMNotExpired(uint256 rfmId, uint64 expiresAt);

    /// @notice `endorser` already endorsed `rfmId`.
    error RFMAlreadyEndorsed(uint256 rfmId, address endorser);

    /// @notice `endorser` had no staking votes at `rfmId`'s endorsement snapshot.
    error RFMNoEndorsementWeight(uint256 rfmId, address endorser);

    /// @notice `rfmId`'s endorsement `weight` is below the `required` weight.
    error RFMEndorsementBelowThreshold(uint256 rfmId, uint256 weight, uint256 required);

    /// @notice No SubDAO factory is set, so nothing can be approved yet.
    error RFMFactoryNotSet();

    /// @notice The factory returned the zero address for `rfmId`.
    error RFMFactoryReturnedZero(uint256 rfmId);

    /// @notice A structured parameter is missing or out of range; `field` names it.
    error RFMInvalidParam(bytes32 field);

    /// @notice The fee transfer delivered `received` instead of `expected` (fee-on-transfer token).
    error RFMFeeNotReceived(uint256 expected, uint256 received);

    /// @notice A basis-point value above 10_000 (or zero where a positive one is needed).
    error RFMInvalidBps(uint16 bps);

    /// @notice A zero endorsement stake age (stake of the block before submission would endorse).
    error RFMInvalidStakeAge(uint32 stakeAge);

    /// @notice A creation fee above 2**128 - 1 (escrow amounts are uint128).
    error RFMFeeTooLarge(uint256 fee);

    /// @notice A submission time-to-live of zero or above 2**32 − 1 seconds.
    error RFMInvalidTTL(uint64 ttl);

    /// @notice The zero address where a contract is required.
    error RFMZeroAddress();

    /// @notice `token` is not on the payment-token allow-list.
    error RFMPaymentTokenNotAllowed(address token);

    /// @notice The success reserve of `rfmId` (`amount`) was credited to `requester`; the
    /// SubDAO's genuine `splitter` had received `received` revenue.
    event SuccessRefundCredited(
        uint256 indexed rfmId, address indexed requester, uint256 amount, address splitter, uint256 received
    );

    /// @notice The genuine RevenueSplitter implementation changed.
    event SplitterImplementationUpdated(address indexed oldImplementation, address indexed newImplementation);

    /// @notice The revenue a SubDAO's splitter must have received for the success refund changed.
    event SuccessRevenueThresholdUpdated(uint256 oldThreshold, uint256 newThreshold);

    /// @notice The approved `rfmId` has no success reserve left (already credited, or a zero fee/share).
    error RFMNoSuccessReserve(uint256 rfmId);

    /// @notice Governance has not set the genuine RevenueSplitter implementation yet.
    error RFMSplitterImplementationNotSet();

    /// @notice The SubDAO of `rfmId` has no accepted model version yet.
    error RFMNotDeployed(uint256 rfmId);

    /// @notice The SubDAO's RevenueSplitter module `splitter` is not an EIP-1167 clone of the
    /// genuine implementation bound to that SubDAO (zero when no splitter is attached).
    error RFMSplitterNotGenuine(uint256 rfmId, address splitter);

    /// @notice The splitter of `rfmId` has received `received`, below `threshold`.
    error RFMRevenueBelowThreshold(uint256 rfmId, uint256 received, uint256 threshold);

    /// @notice A success revenue threshold of zero (the refund needs earned revenue).
    error RFMInvalidRevenueThreshold(uint256 threshold);

    /// @notice `account` has no refund to claim.
    error RFMNothingToClaim(address account);

    /// @notice No fees have accrued to the treasury.
    error RFMNothingToSweep();

    /// @notice Submits an RFM, pulling the creation fee in FLAI from the caller.
    /// @return rfmId The new RFM's id (ids start at 1).
    function submit(RFMParams calldata params) external returns (uint256 rfmId);

    /// @notice Endorses `rfmId` with the caller's staking votes at its snapshot.
    function endorse(uint256 rfmId) external;

    /// @notice Approves `rfmId` and creates its SubDAO (owner, i.e. an executed SuperDAO proposal).
    /// @return subDAO The SubDAO the factory created.
    function approve(uint256 rfmId) external returns (address subDAO);

    /// @notice Approves `rfmId` once its endorsements reach the threshold (anyone may call).
    /// @return subDAO The SubDAO the factory created.
    function approveByEndorsement(uint256 rfmId) external returns (address subDAO);

    /// @notice Rejects `rfmId` (owner, i.e. an executed SuperDAO proposal).
    function reject(uint256 rfmId) external;

    /// @notice Marks a Pending `rfmId` past its `expiresAt` as Expired and credits the full fee.
    function expire(uint256 rfmId) external;

    /// @notice Credits the success reserve of the approved `rfmId` to its requester once its
    /// model is deployed and earning (anyone may call; conditions in the contract NatSpec).
    /// Reverts {RFMInvalidStatus} unless Approved, {RFMNoSuccessReserve},
    /// {RFMSplitterImplementationNotSet}, {RFMNotDeployed}, {RFMSplitterNotGenuine},
    /// {RFMRevenueBelowThreshold}.
    /// @return amount The FLAI credited (then pulled with {claimRefund}).
    function creditSuccessRefund(uint256 rfmId) external returns (uint256 amount);

    /// @notice Sends the caller all refunds credited to it.
    /// @return amount The FLAI sent.
    function claimRefund() external returns (uint256 amount);

    /// @notice Sends the fees accrued to the treasury (anyone may call).
    /// @return amount The FLAI sent.
    function sweepToTreasury() external returns (uint256 amount);

    /// @notice Sets the SubDAO factory (owner).
    function setFactory(address newFactory) external;

    /// @notice Lists (`allowed`) or delists `token` as a payment token of new SubDAOs (owner).
    function setPaymentTokenAllowed(address token, bool allowed) external;

    /// @notice Sets the creation fee for later submissions (owner).
    function setCreationFee(uint256 newFee) external;

    /// @notice Sets the time-to-live of later submissions, in seconds (owner).
    function setSubmissionTTL(uint64 newTTL) external;

    /// @notice Sets the endorsement threshold, in basis points of all voting units (owner).
    function setEndorsementThresholdBps(uint16 newThresholdBps) external;

    /// @notice Sets how many staking blocks stake must be held before an RFM's submission to
    /// endorse it (owner; ≥ 1; applies to later submissions).
    function setEndorsementStakeAge(uint32 newStakeAge) external;

    /// @notice Sets the refund shares of rejected and of successful RFMs (owner).
    function setRefundPolicy(uint16 newRejectionRefundBps, uint16 newSuccessRefundBps) external;

    /// @notice Sets the genuine RevenueSplitter implementation whose EIP-1167 clones count as a
    /// SubDAO's revenue for the success refund (owner; non-zero).
    function setSplitterImplementation(address newImplementation) external;

    /// @notice Sets the revenue a SubDAO's splitter must have received for the success refund,
    /// in the splitter's token units (owner; non-zero).
    function setSuccessRevenueThreshold(uint256 newThreshold) external;

    /// @notice The success revenue threshold a fresh registry starts with: 1 token unit, i.e.
    /// the first revenue (000 §6.3); governance raises it per its payment tokens.
    function DEFAULT_SUCCESS_REVENUE_THRESHOLD() external view returns (uint256);

    /// @notice The genuine RevenueSplitter implementation (zero until set).
    function splitterImplementation() external view returns (address);

    /// @notice The revenue a splitter must have received for the success refund.
    function successRevenueThreshold() external view returns (uint256);

    /// @notice The record of `rfmId` (reverts {RFMUnknown} for an unknown id).
    function getRFM(uint256 rfmId) external view returns (RFMRecord memory);

    /// @notice The structured params of `rfmId` (reverts {RFMUnknown} for an unknown id).
    function getParams(uint256 rfmId) external view returns (RFMParams memory);

    /// @notice Votes `endorser` endorsed `rfmId` with (zero if it did not).
    function endorsementOf(uint256 rfmId, address endorser) external view returns (uint256);

    /// @notice Endorsement weight `rfmId` needs for {approveByEndorsement}, at the current threshold.
    function endorsementRequired(uint256 rfmId) external view returns (uint256);

    /// @notice Number of RFMs ever submitted (also the last id).
    function rfmCount() external view returns (uint256);

    /// @notice Ids in `status`, paged (no particular order).
    function idsByStatus(RFMStatus status, uint256 offset, uint256 limit) external view returns (uint256[] memory);

    /// @notice Number of RFMs in `status`.
    function countByStatus(RFMStatus status) external view returns (uint256);

    /// @notice Ids with `domain`, paged in submission order.
    function idsByDomain(bytes32 domain, uint256 offset, uint256 limit) external view returns (uint256[] memory);

    /// @notice Number of RFMs with `domain`.
    function countByDomain(bytes32 domain) external view returns (uint256);

    /// @notice Ids with `modelClass`, paged in submission order.
    function idsByModelClass(bytes32 modelClass, uint256 offset, uint256 limit)
        external
        view
        returns (uint256[] memory);

    /// @notice Number of RFMs with `modelClass`.
    function countByModelClass(bytes32 modelClass) external view returns (uint256);

    /// @notice Ids with `dataSchema`, paged in submission order.
    function idsByDataSchema(bytes32 dataSchema, uint256 offset, uint256 limit)
        external
        view
        returns (uint256[] memory);

    /// @notice Number of RFMs with `dataSchema`.
    function countByDataSchema(bytes32 dataSchema) external view returns (uint256);

    /// @notice Refunds `account` can claim.
    function refundOf(address account) external view returns (uint256);

    /// @notice Fees accrued to the treasury, not yet swept.
    function treasuryAccrued() external view returns (uint256);

    /// @notice The FLAI token fees are paid in.
    function flai() external view returns (address);

    /// @notice The staking contract whose votes weigh endorsements.
    function staking() external view returns (address);

    /// @notice The platform treasury (the SuperDAO timelock).
    function treasury() external view returns (address);

    /// @notice The SubDAO factory (zero until set).
    function factory() external view returns (address);

    /// @notice The current creation fee.
    function creationFee() external view returns (uint256);

    /// @notice The current submission time-to-live, in seconds.
    function submissionTTL() external view returns (uint64);

    /// @notice The current endorsement threshold, in basis points of all voting units.
    function endorsementThresholdBps() external view returns (uint16);

    /// @notice Staking blocks stake must be held before a submission to endorse it.
    function endorsementStakeAge() external view returns (uint32);

    /// @notice Share of the fee refunded on rejection, in basis points.
    function rejectionRefundBps() external view returns (uint16);

    /// @notice Share of the fee kept as the success reserve on approval, in basis points.
    function successRefundBps() external view returns (uint16);
}
