// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {IPaymentTokenPolicy} from "../interfaces/IPaymentTokenPolicy.sol";
import {IRFMRegistry, RFMRecord, RFMStatus} from "../interfaces/IRFMRegistry.sol";
import {IRevenueSplitter} from "../interfaces/IRevenueSplitter.sol";
import {ISubDAO} from "../interfaces/ISubDAO.sol";
import {ISubDAOFactory, RFMParams} from "../interfaces/ISubDAOFactory.sol";
import {TokenPull} from "../libraries/TokenPull.sol";

/// @title RFMRegistry
/// @notice Request-for-Model registry with escrowed creation fees, stake-weighted
/// endorsements and SuperDAO approval (see {IRFMRegistry} for the rules and the fee policy).
/// @dev The owner is the SuperDAO timelock; `flai.chain.deploy_platform` deploys with the
/// deployer as temporary owner, wires the factory, then transfers ownership to the timelock.
contract RFMRegistry is IRFMRegistry, Ownable, ReentrancyGuardTransient {
    using EnumerableSet for EnumerableSet.UintSet;
    using SafeERC20 for IERC20;

    /// @inheritdoc IRFMRegistry
    uint256 public constant DEFAULT_SUCCESS_REVENUE_THRESHOLD = 1;

    uint16 private constant _BPS = 10_000;
    uint32 private constant _METRIC_ONE = 1_000_000;

    IERC20 private immutable _flai;
    IVotes private immutable _staking;
    address private immutable _treasury;

    ISubDAOFactory private _factory;
    uint256 private _creationFee;
    // one slot: governable policy
    uint64 private _submissionTTL;
    uint16 private _endorsementThresholdBps;
    uint16 private _rejectionRefundBps;
    uint16 private _successRefundBps;
    uint32 private _endorsementStakeAge;

    uint256 private _rfmCount;
    uint256 private _treasuryAccrued;

    // success refund (000 §6.3): the genuine splitter implementation and the revenue bar
    address private _splitterImplementation;
    uint256 private _successRevenueThreshold = DEFAULT_SUCCESS_REVENUE_THRESHOLD;

    mapping(uint256 rfmId => RFMRecord) private _rfms;
    mapping(uint256 rfmId => RFMParams) private _params;
    mapping(uint256 rfmId => mapping(address endorser => uint256 weight)) private _endorsements;
    mapping(address account => uint256) private _refunds;
    mapping(address token => bool) private _paymentTokens;

    mapping(RFMStatus status => EnumerableSet.UintSet) private _idsByStatus;
    mapping(bytes32 domain => uint256[]) private _idsByDomain;
    mapping(bytes32 modelClass => uint256[]) private _idsByModelClass;
    mapping(bytes32 dataSchema => uint256[]) private _idsByDataSchema;

    /// @notice Policy values every constructor argument below is checked like its setter.
    /// @param flai_ The FLAI token (fees).
    /// @param staking_ The SuperDAO staking contract (endorsement weights).
    /// @param treasury_ The platform treasury (the SuperDAO timelock).
    /// @param initialOwner Temporary owner during deployment.
    constructor(
        IERC20 flai_,
        IVotes staking_,
        address treasury_,
        address initialOwner,
        uint256 creationFee_,
        uint64 submissionTTL_,
        uint16 endorsementThresholdBps_,
        uint16 rejectionRefundBps_,
        uint16 successRefundBps_,
        uint32 endorsementStakeAge_
    ) Ownable(initialOwner) {
        if (address(flai_) == address(0) || address(staking_) == address(0) || treasury_ == address(0)) {
            revert RFMZeroAddress();
        }
        _flai = flai_;
        _staking = staking_;
        _treasury = treasury_;
        _setCreationFee(creationFee_);
        _setSubmissionTTL(submissionTTL_);
        _setEndorsementThresholdBps(endorsementThresholdBps_);
        _setRefundPolicy(rejectionRefundBps_, successRefundBps_);
        _setEndorsementStakeAge(endorsementStakeAge_);
        _setPaymentTokenAllowed(address(flai_), true);
    }

    // --- lifecycle ------------------------------------------------------------------------

    /// @inheritdoc IRFMRegistry
    function submit(RFMParams calldata params) external nonReentrant returns (uint256 rfmId) {
        _checkParams(params);
        address requester = msg.sender;
        uint256 fee = _creationFee;
        if (fee != 0) {
            uint256 received = TokenPull.pullFromSender(_flai, fee);
            if (received != fee) revert RFMFeeNotReceived(fee, received);
        }

        unchecked {
            rfmId = ++_rfmCount; // a counter of submissions cannot reach 2**256
        }
        uint64 expiresAt = uint64(block.timestamp) + _submissionTTL;
        // stake must be `age` blocks old at the block before submission (block 0 on a young chain)
        uint256 age = uint256(_endorsementStakeAge) + 1;
        uint48 snapshot = block.number > age ? SafeCast.toUint48(block.number - age) : 0;
        RFMRecord storage record = _rfms[rfmId];
        record.requester = requester;
        record.status = RFMStatus.Pending;
        record.expiresAt = expiresAt;
        record.endorsementSnapshot = snapshot;
        record.escrow = SafeCast.toUint128(fee);
        _params[rfmId] = params;

        // A fresh id is in no set yet, so add() returns true.
        // slither-disable-next-line unused-return
        _idsByStatus[RFMStatus.Pending].add(rfmId);
        _idsByDomain[params.domain].push(rfmId);
        _idsByModelClass[params.modelClass].push(rfmId);
        _idsByDataSchema[params.dataSchema].push(rfmId);

        emit RFMSubmitted(rfmId, params.domain, params.modelClass, requester, params, fee, expiresAt, snapshot);
    }

    /// @inheritdoc IRFMRegistry
    function endorse(uint256 rfmId) external {
        RFMRecord storage record = _pendingRecord(rfmId);
        address endorser = msg.sender;
        if (_endorsements[rfmId][endorser] != 0) revert RFMAlreadyEndorsed(rfmId, endorser);
        uint256 weight = _staking.getPastVotes(endorser, record.endorsementSnapshot);
        if (weight == 0) revert RFMNoEndorsementWeight(rfmId, endorser);

        _endorsements[rfmId][endorser] = weight;
        uint128 totalWeight = SafeCast.toUint128(record.endorsementWeight + weight);
        record.endorsementWeight = totalWeight;
        emit RFMEndorsed(rfmId, endorser, weight, totalWeight);
    }

    /// @inheritdoc IRFMRegistry
    function approve(uint256 rfmId) external onlyOwner nonReentrant returns (address subDAO) {
        return _approve(rfmId, _pendingRecord(rfmId), false);
    }

    /// @inheritdoc IRFMRegistry
    function approveByEndorsement(uint256 rfmId) external nonReentrant returns (address subDAO) {
        RFMRecord storage record = _pendingRecord(rfmId);
        uint256 required = _endorsementRequired(record);
        uint256 weight = record.endorsementWeight;
        if (weight == 0 || weight < required) revert RFMEndorsementBelowThreshold(rfmId, weight, required);
        return _approve(rfmId, record, true);
    }

    /// @inheritdoc IRFMRegistry
    function reject(uint256 rfmId) external onlyOwner {
        RFMRecord storage record = _pendingRecord(rfmId);
        uint256 fee = record.escrow;
        uint256 refund = (fee * _rejectionRefundBps) / _BPS;
        uint256 treasuryShare = fee - refund;
        record.escrow = 0;
        _setStatus(rfmId, record, RFMStatus.Rejected);
        _treasuryAccrued += treasuryShare;
        emit RFMRejected(rfmId, refund, treasuryShare);
        _creditRefund(rfmId, record.requester, refund);
    }

    /// @inheritdoc IRFMRegistry
    function expire(uint256 rfmId) external {
        RFMRecord storage record = _knownRecord(rfmId);
        if (record.status != RFMStatus.Pending) revert RFMInvalidStatus(rfmId, record.status);
        if (block.timestamp < record.expiresAt) revert RFMNotExpired(rfmId, record.expiresAt);
        uint256 refund = record.escrow;
        record.escrow = 0;
        _setStatus(rfmId, record, RFMStatus.Expired);
        emit RFMExpired(rfmId, refund);
        _creditRefund(rfmId, record.requester, refund);
    }

    /// @inheritdoc IRFMRegistry
    function creditSuccessRefund(uint256 rfmId) external nonReentrant returns (uint256 amount) {
        RFMRecord storage record = _knownRecord(rfmId);
        if (record.status != RFMStatus.Approved) revert RFMInvalidStatus(rfmId, record.status);
        amount = record.escrow;
        if (amount == 0) revert RFMNoSuccessReserve(rfmId);
        address implementation = _splitterImplementation;
        if (implementation == address(0)) revert RFMSplitterImplementationNotSet();

        // The SubDAO was recorded from the factory's return value at approval: it is genuine.
        ISubDAO subDAO = ISubDAO(record.subDAO);
        // Only the version matters here (the inference epoch is the splitter's business).
        // slither-disable-next-line unused-return
        (uint32 version,) = subDAO.modelVersion();
        if (version == 0) revert RFMNotDeployed(rfmId);
        // The factory fills the slot at creation, but the factory itself is governance-set and
        // replaceable: only a byte-exact EIP-1167 clone of the governance-set implementation
        // that names this SubDAO is believed.
        address splitter = subDAO.module(ISubDAO.Module.RevenueSplitter);
        if (
            keccak256(splitter.code) != _minimalProxyCodeHash(implementation)
                || IRevenueSplitter(splitter).subDAO() != address(subDAO)
        ) revert RFMSplitterNotGenuine(rfmId, splitter);
        // Lifetime revenue received; what was paid out of it is irrelevant to "has earned".
        // slither-disable-next-line unused-return
        (uint256 received,,) = IRevenueSplitter(splitter).totals();
        uint256 threshold = _successRevenueThreshold;
        if (received < threshold) revert RFMRevenueBelowThreshold(rfmId, received, threshold);

        record.escrow = 0;
        address requester = record.requester;
        emit SuccessRefundCredited(rfmId, requester, amount, splitter, received);
        _creditRefund(rfmId, requester, amount);
    }

    /// @inheritdoc IRFMRegistry
    function claimRefund() external nonReentrant returns (uint256 amount) {
        address account = msg.sender;
        amount = _refunds[account];
        if (amount == 0) revert RFMNothingToClaim(account);
        _refunds[account] = 0;
        emit RefundClaimed(account, amount);
        _flai.safeTransfer(account, amount);
    }

    /// @inheritdoc IRFMRegistry
    function sweepToTreasury() external nonReentrant returns (uint256 amount) {
        amount = _treasuryAccrued;
        if (amount == 0) revert RFMNothingToSweep();
        _treasuryAccrued = 0;
        emit TreasurySwept(_treasury, amount);
        _flai.safeTransfer(_treasury, amount);
    }

    // --- governance -----------------------------------------------------------------------

    /// @inheritdoc IRFMRegistry
    function setFactory(address newFactory) external onlyOwner {
        if (newFactory == address(0)) revert RFMZeroAddress();
        address oldFactory = address(_factory);
        _factory = ISubDAOFactory(newFactory);
        emit FactoryUpdated(oldFactory, newFactory);
    }

    /// @inheritdoc IRFMRegistry
    function setPaymentTokenAllowed(address token, bool allowed) external onlyOwner {
        if (token == address(0)) revert RFMZeroAddress();
        _setPaymentTokenAllowed(token, allowed);
    }

    /// @inheritdoc IRFMRegistry
    function setCreationFee(uint256 newFee) external onlyOwner {
        _setCreationFee(newFee);
    }

    /// @inheritdoc IRFMRegistry
    function setSubmissionTTL(uint64 newTTL) external onlyOwner {
        _setSubmissionTTL(newTTL);
    }

    /// @inheritdoc IRFMRegistry
    function setEndorsementThresholdBps(uint16 newThresholdBps) external onlyOwner {
        _setEndorsementThresholdBps(newThresholdBps);
    }

    /// @inheritdoc IRFMRegistry
    function setEndorsementStakeAge(uint32 newStakeAge) external onlyOwner {
        _setEndorsementStakeAge(newStakeAge);
    }

    /// @inheritdoc IRFMRegistry
    function setRefundPolicy(uint16 newRejectionRefundBps, uint16 newSuccessRefundBps) external onlyOwner {
        _setRefundPolicy(newRejectionRefundBps, newSuccessRefundBps);
    }

    /// @inheritdoc IRFMRegistry
    function setSplitterImplementation(address newImplementation) external onlyOwner {
        if (newImplementation == address(0)) revert RFMZeroAddress();
        address oldImplementation = _splitterImplementation;
        _splitterImplementation = newImplementation;
        emit SplitterImplementationUpdated(oldImplementation, newImplementation);
    }

    /// @inheritdoc IRFMRegistry
    function setSuccessRevenueThreshold(uint256 newThreshold) external onlyOwner {
        if (newThreshold == 0) revert RFMInvalidRevenueThreshold(newThreshold);
        uint256 oldThreshold = _successRevenueThreshold;
        _successRevenueThreshold = newThreshold;
        emit SuccessRevenueThresholdUpdated(oldThreshold, newThreshold);
    }

    // --- views ----------------------------------------------------------------------------

    /// @inheritdoc IPaymentTokenPolicy
    function isPaymentTokenAllowed(address token) external view returns (bool) {
        return _paymentTokens[token];
    }

    /// @inheritdoc IRFMRegistry
    function splitterImplementation() external view returns (address) {
        return _splitterImplementation;
    }

    /// @inheritdoc IRFMRegistry
    function successRevenueThreshold() external view returns (uint256) {
        return _successRevenueThreshold;
    }

    /// @inheritdoc IRFMRegistry
    function getRFM(uint256 rfmId) external view returns (RFMRecord memory) {
        return _knownRecord(rfmId);
    }

    /// @inheritdoc IRFMRegistry
    function getParams(uint256 rfmId) external view returns (RFMParams memory) {
        _knownRecord(rfmId);
        return _params[rfmId];
    }

    /// @inheritdoc IRFMRegistry
    function endorsementOf(uint256 rfmId, address endorser) external view returns (uint256) {
        return _endorsements[rfmId][endorser];
    }

    /// @inheritdoc IRFMRegistry
    function endorsementRequired(uint256 rfmId) external view returns (uint256) {
        return _endorsementRequired(_knownRecord(rfmId));
    }

    /// @inheritdoc IRFMRegistry
    function rfmCount() external view returns (uint256) {
        return _rfmCount;
    }

    /// @inheritdoc IRFMRegistry
    function idsByStatus(RFMStatus status, uint256 offset, uint256 limit) external view returns (uint256[] memory ids) {
        EnumerableSet.UintSet storage set = _idsByStatus[status];
        uint256 end = _pageEnd(set.length(), offset, limit);
        ids = new uint256[](end > offset ? end - offset : 0);
        for (uint256 i = offset; i < end; ++i) {
            ids[i - offset] = set.at(i);
        }
    }

    /// @inheritdoc IRFMRegistry
    function countByStatus(RFMStatus status) external view returns (uint256) {
        return _idsByStatus[status].length();
    }

    /// @inheritdoc IRFMRegistry
    function idsByDomain(bytes32 domain, uint256 offset, uint256 limit) external view returns (uint256[] memory) {
        return _page(_idsByDomain[domain], offset, limit);
    }

    /// @inheritdoc IRFMRegistry
    function countByDomain(bytes32 domain) external view returns (uint256) {
        return _idsByDomain[domain].length;
    }

    /// @inheritdoc IRFMRegistry
    function idsByModelClass(bytes32 modelClass, uint256 offset, uint256 limit)
        external
        view
        returns (uint256[] memory)
    {
        return _page(_idsByModelClass[modelClass], offset, limit);
    }

    /// @inheritdoc IRFMRegistry
    function countByModelClass(bytes32 modelClass) external view returns (uint256) {
        return _idsByModelClass[modelClass].length;
    }

    /// @inheritdoc IRFMRegistry
    function idsByDataSchema(bytes32 dataSchema, uint256 offset, uint256 limit)
        external
        view
        returns (uint256[] memory)
    {
        return _page(_idsByDataSchema[dataSchema], offset, limit);
    }

    /// @inheritdoc IRFMRegistry
    function countByDataSchema(bytes32 dataSchema) external view returns (uint256) {
        return _idsByDataSchema[dataSchema].length;
    }

    /// @inheritdoc IRFMRegistry
    function refundOf(address account) external view returns (uint256) {
        return _refunds[account];
    }

    /// @inheritdoc IRFMRegistry
    function treasuryAccrued() external view returns (uint256) {
        return _treasuryAccrued;
    }

    /// @inheritdoc IRFMRegistry
    function flai() external view returns (address) {
        return address(_flai);
    }

    /// @inheritdoc IRFMRegistry
    function staking() external view returns (address) {
        return address(_staking);
    }

    /// @inheritdoc IRFMRegistry
    function treasury() external view returns (address) {
        return _treasury;
    }

    /// @inheritdoc IRFMRegistry
    function factory() external view returns (address) {
        return address(_factory);
    }

    /// @inheritdoc IRFMRegistry
    function creationFee() external view returns (uint256) {
        return _creationFee;
    }

    /// @inheritdoc IRFMRegistry
    function submissionTTL() external view returns (uint64) {
        return _submissionTTL;
    }

    /// @inheritdoc IRFMRegistry
    function endorsementThresholdBps() external view returns (uint16) {
        return _endorsementThresholdBps;
    }

    /// @inheritdoc IRFMRegistry
    function endorsementStakeAge() external view returns (uint32) {
        return _endorsementStakeAge;
    }

    /// @inheritdoc IRFMRegistry
    function rejectionRefundBps() external view returns (uint16) {
        return _rejectionRefundBps;
    }

    /// @inheritdoc IRFMRegistry
    function successRefundBps() external view returns (uint16) {
        return _successRefundBps;
    }

    // --- internal -------------------------------------------------------------------------

    /// @dev Status first, then the factory call (checks-effects-interactions; also nonReentrant).
    function _approve(uint256 rfmId, RFMRecord storage record, bool byEndorsement) private returns (address subDAO) {
        ISubDAOFactory subDAOFactory = _factory;
        if (address(subDAOFactory) == address(0)) revert RFMFactoryNotSet();
        address token = _params[rfmId].paymentToken;
        if (!_paymentTokens[token]) revert RFMPaymentTokenNotAllowed(token);
        uint256 fee = record.escrow;
        uint256 successReserve = (fee * _successRefundBps) / _BPS;
        uint256 treasuryShare = fee - successReserve;
        record.escrow = uint128(successReserve); // <= fee, which fit in uint128
        _treasuryAccrued += treasuryShare;
        _setStatus(rfmId, record, RFMStatus.Approved);

        subDAO = subDAOFactory.createSubDAO(rfmId, record.requester, _params[rfmId]);
        if (subDAO == address(0)) revert RFMFactoryReturnedZero(rfmId);
        record.subDAO = subDAO;
        emit RFMApproved(rfmId, subDAO, byEndorsement, successReserve, treasuryShare);
    }

    /// @dev keccak256 of the 45-byte EIP-1167 runtime code OpenZeppelin's `Clones.clone`
    /// deploys for `implementation`: 363d3d373d3d3d363d73 <implementation> 5af43d82803e903d91602b57fd5bf3.
    function _minimalProxyCodeHash(address implementation) private pure returns (bytes32) {
        return keccak256(
            abi.encodePacked(hex"363d3d373d3d3d363d73", implementation, hex"5af43d82803e903d91602b57fd5bf3")
        );
    }

    /// @dev The one path by which fee money becomes claimable by a user (rejection, expiry,
    /// and the success refund of an approved RFM's reserve).
    function _creditRefund(uint256 rfmId, address account, uint256 amount) private {
        if (amount == 0) return;
        _refunds[account] += amount;
        emit RefundCredited(account, rfmId, amount);
    }

    /// @dev The id is always in the set of its current status and never in the new one (status
    /// only moves forward), so both calls return true; their results carry no information.
    function _setStatus(uint256 rfmId, RFMRecord storage record, RFMStatus newStatus) private {
        // slither-disable-next-line unused-return
        _idsByStatus[record.status].remove(rfmId);
        // slither-disable-next-line unused-return
        _idsByStatus[newStatus].add(rfmId);
        record.status = newStatus;
    }

    function _knownRecord(uint256 rfmId) private view returns (RFMRecord storage record) {
        record = _rfms[rfmId];
        if (record.status == RFMStatus.None) revert RFMUnknown(rfmId);
    }

    function _pendingRecord(uint256 rfmId) private view returns (RFMRecord storage record) {
        record = _knownRecord(rfmId);
        if (record.status != RFMStatus.Pending) revert RFMInvalidStatus(rfmId, record.status);
        if (block.timestamp >= record.expiresAt) revert RFMSubmissionExpired(rfmId, record.expiresAt);
    }

    function _endorsementRequired(RFMRecord storage record) private view returns (uint256) {
        uint256 total = _staking.getPastTotalSupply(record.endorsementSnapshot);
        // ceil(total * bps / 10_000): the weight must reach the threshold, never fall short by rounding
        return (total * _endorsementThresholdBps + _BPS - 1) / _BPS;
    }

    function _checkParams(RFMParams calldata params) private view {
        if (bytes(params.specCid).length == 0) revert RFMInvalidParam("specCid");
        if (params.domain == bytes32(0)) revert RFMInvalidParam("domain");
        if (params.modelClass == bytes32(0)) revert RFMInvalidParam("modelClass");
        if (params.dataSchema == bytes32(0)) revert RFMInvalidParam("dataSchema");
        if (params.metricId == bytes32(0)) revert RFMInvalidParam("metricId");
        if (params.metricThreshold > _METRIC_ONE) revert RFMInvalidParam("metricThreshold");
        if (params.minValidators == 0) revert RFMInvalidParam("minValidators");
        if (params.quorumBps == 0 || params.quorumBps > _BPS) revert RFMInvalidParam("quorumBps");
        if (params.epochLength == 0) revert RFMInvalidParam("epochLength");
        if (params.crowdfundDeadline <= block.timestamp) revert RFMInvalidParam("crowdfundDeadline");
        if (params.paymentToken == address(0)) revert RFMInvalidParam("paymentToken");
        if (!_paymentTokens[params.paymentToken]) revert RFMPaymentTokenNotAllowed(params.paymentToken);
        if (params.crowdfundGoal == 0) revert RFMInvalidParam("crowdfundGoal");
        if (params.sdtPerPaymentUnit == 0) revert RFMInvalidParam("sdtPerPaymentUnit");
        if (params.sdtCap == 0 || params.sdtCap > type(uint96).max) revert RFMInvalidParam("sdtCap");
        // one payment-token wei minting more than the cap is no rate (and could overflow SDT = paid·rate/1e18)
        if (params.sdtPerPaymentUnit > params.sdtCap * 1e18) revert RFMInvalidParam("sdtPerPaymentUnit");
    }

    function _setPaymentTokenAllowed(address token, bool allowed) private {
        _paymentTokens[token] = allowed;
        emit PaymentTokenAllowed(token, allowed);
    }

    function _setCreationFee(uint256 newFee) private {
        if (newFee > type(uint128).max) revert RFMFeeTooLarge(newFee); // escrow is a uint128
        uint256 oldFee = _creationFee;
        _creationFee = newFee;
        emit CreationFeeUpdated(oldFee, newFee);
    }

    function _setSubmissionTTL(uint64 newTTL) private {
        // ≤ 2**32 − 1 seconds (136 years): expiresAt = now + TTL always fits its uint64
        if (newTTL == 0 || newTTL > type(uint32).max) revert RFMInvalidTTL(newTTL);
        uint64 oldTTL = _submissionTTL;
        _submissionTTL = newTTL;
        emit SubmissionTTLUpdated(oldTTL, newTTL);
    }

    function _setEndorsementThresholdBps(uint16 newThresholdBps) private {
        if (newThresholdBps == 0 || newThresholdBps > _BPS) revert RFMInvalidBps(newThresholdBps);
        uint16 oldThresholdBps = _endorsementThresholdBps;
        _endorsementThresholdBps = newThresholdBps;
        emit EndorsementThresholdUpdated(oldThresholdBps, newThresholdBps);
    }

    function _setEndorsementStakeAge(uint32 newStakeAge) private {
        if (newStakeAge == 0) revert RFMInvalidStakeAge(newStakeAge);
        uint32 oldStakeAge = _endorsementStakeAge;
        _endorsementStakeAge = newStakeAge;
        emit EndorsementStakeAgeUpdated(oldStakeAge, newStakeAge);
    }

    function _setRefundPolicy(uint16 newRejectionRefundBps, uint16 newSuccessRefundBps) private {
        if (newRejectionRefundBps > _BPS) revert RFMInvalidBps(newRejectionRefundBps);
        if (newSuccessRefundBps > _BPS) revert RFMInvalidBps(newSuccessRefundBps);
        _rejectionRefundBps = newRejectionRefundBps;
        _successRefundBps = newSuccessRefundBps;
        emit RefundPolicyUpdated(newRejectionRefundBps, newSuccessRefundBps);
    }

    function _page(uint256[] storage ids, uint256 offset, uint256 limit) private view returns (uint256[] memory page) {
        uint256 end = _pageEnd(ids.length, offset, limit);
        page = new uint256[](end > offset ? end - offset : 0);
        for (uint256 i = offset; i < end; ++i) {
            page[i - offset] = ids[i];
        }
    }

    function _pageEnd(uint256 length, uint256 offset, uint256 limit) private pure returns (uint256) {
        if (offset >= length) return offset;
        return limit > length - offset ? length : offset + limit;
    }
}
