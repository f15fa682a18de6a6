// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IMarketplace} from "../interfaces/IMarketplace.sol";
import {IPaymentTokenPolicy} from "../interfaces/IPaymentTokenPolicy.sol";
import {IRevenueSplitter} from "../interfaces/IRevenueSplitter.sol";
import {ISubDAO} from "../interfaces/ISubDAO.sol";
import {ISBGT} from "../interfaces/ISBGT.sol";
import {TokenPull} from "../libraries/TokenPull.sol";

/// @title Model marketplace
/// @notice See {IMarketplace}.
contract Marketplace is ReentrancyGuardTransient, IMarketplace {
    using SafeERC20 for IERC20;

    uint256 private constant _EXTERNAL_MULTIPLIER = 10;
    uint256 private constant _REQUESTER_MULTIPLIER = 3;
    uint256 private constant _MAX_RANKED = 1024;
    bytes32 private constant _FULFILLED = bytes32(uint256(1));
    bytes32 private constant _REFUNDED = bytes32(uint256(2));

    IPaymentTokenPolicy private immutable _TOKEN_POLICY;

    uint256 private _listingCount;
    mapping(uint256 listingId => Listing) private _listings;
    mapping(uint256 listingId => ListingInfo) private _info;
    mapping(address subDAO => uint256 listingId) private _listingOf;
    mapping(bytes32 domain => uint256[] listingIds) private _byDomain;
    mapping(bytes32 modelClass => uint256[] listingIds) private _byModelClass;
    mapping(uint256 listingId => mapping(address user => Account)) private _accounts;
    mapping(uint256 listingId => Plan[]) private _plans;
    /// @dev keccak256(abi.encode(Request)) while pending, then _FULFILLED / _REFUNDED.
    mapping(uint256 requestId => bytes32) private _requests;

    /// @param tokenPolicy The platform's payment-token allow-list (the RFM registry).
    constructor(IPaymentTokenPolicy tokenPolicy) {
        if (address(tokenPolicy) == address(0)) revert MarketInvalidParams();
        _TOKEN_POLICY = tokenPolicy;
    }

    /// @inheritdoc IMarketplace
    function list(address subDAO, ListingParams calldata p) external returns (uint256 listingId) {
        ISubDAO s = ISubDAO(subDAO);
        if (msg.sender != s.module(ISubDAO.Module.TechnicalChamber) && msg.sender != s.module(ISubDAO.Module.FinancialChamber)) {
            revert MarketUnauthorized(msg.sender);
        }
        ISubDAO.State st = s.state();
        if (st != ISubDAO.State.Deployed) revert MarketNotDeployed(subDAO, uint8(st));
        uint256 existing = _listingOf[subDAO];
        if (existing != 0) revert MarketAlreadyListed(subDAO, existing);
        address splitter = s.module(ISubDAO.Module.RevenueSplitter);
        if (splitter == address(0)) revert MarketNoSplitter(subDAO);
        address token = s.paymentToken();
        if (token.code.length == 0 || IRevenueSplitter(splitter).token() != token) revert MarketInvalidToken(token);
        if (!_TOKEN_POLICY.isPaymentTokenAllowed(token)) revert MarketTokenNotAllowed(token);
        if (p.timeout == 0 || p.operator == address(0)) revert MarketInvalidParams();

        listingId = ++_listingCount;
        _listings[listingId] = Listing({
            subDAO: subDAO,
            nonce: 0,
            timeout: p.timeout,
            kind: p.kind,
            delisted: false,
            token: token,
            basePrice: p.basePrice,
            requester: s.requester(),
            rankGeneration: 0,
            rankCount: 0,
            operator: p.operator,
            splitter: splitter
        });
        _info[listingId] = ListingInfo({
            domain: p.domain,
            modelClass: p.modelClass,
            metricId: p.metricId,
            metricValue: p.metricValue,
            licenceCid: p.licenceCid,
            modelCardCid: p.modelCardCid
        });
        _listingOf[subDAO] = listingId;
        _accounts[listingId][_listings[listingId].requester].requester = true;
        _byDomain[p.domain].push(listingId);
        _byModelClass[p.modelClass].push(listingId);
        _emitListed(listingId, s, token, p);
    }

    /// @inheritdoc IMarketplace
    function delist(uint256 listingId) external {
        Listing storage l = _listing(listingId);
        if (l.delisted) revert MarketListingRetired(listingId);
        ISubDAO s = ISubDAO(l.subDAO);
        ISubDAO.State st = s.state();
        if (
            st != ISubDAO.State.Retired && st != ISubDAO.State.Failed && msg.sender != s.module(ISubDAO.Module.TechnicalChamber)
                && msg.sender != s.module(ISubDAO.Module.FinancialChamber)
        ) revert MarketUnauthorized(msg.sender);
        l.delisted = true;
        emit Delisted(listingId, msg.sender);
    }

    /// @inheritdoc IMarketplace
    function setBasePrice(uint256 listingId, uint96 basePrice) external {
        Listing storage l = _listing(listingId);
        _checkChamber(l.subDAO, ISubDAO.Module.FinancialChamber);
        l.basePrice = basePrice;
        emit PriceSet(listingId, basePrice);
    }

    /// @inheritdoc IMarketplace
    function setOperator(uint256 listingId, address operator) external {
        Listing storage l = _listing(listingId);
        _checkChamber(l.subDAO, ISubDAO.Module.TechnicalChamber);
        if (operator == address(0)) revert MarketInvalidParams();
        l.operator = operator;
        emit OperatorSet(listingId, operator);
    }

    /// @inheritdoc IMarketplace
    function setMetadata(
        uint256 listingId,
        bytes32 metricId,
        uint64 metricValue,
        string calldata licenceCid,
        string calldata modelCardCid
    ) external {
        Listing storage l = _listing(listingId);
        _checkChamber(l.subDAO, ISubDAO.Module.TechnicalChamber);
        ListingInfo storage info = _info[listingId];
        info.metricId = metricId;
        info.metricValue = metricValue;
        info.licenceCid = licenceCid;
        info.modelCardCid = modelCardCid;
        emit MetadataSet(listingId, metricId, metricValue, licenceCid, modelCardCid);
    }

    /// @inheritdoc IMarketplace
    function setRanks(uint256 listingId, address[] calldata ranked) external {
        Listing storage l = _listing(listingId);
        _checkChamber(l.subDAO, ISubDAO.Module.FinancialChamber);
        uint256 n = ranked.length;
        if (n > _MAX_RANKED) revert MarketTooManyRanked(n);
        uint32 generation = l.rankGeneration + 1;
        ISBGT sbgt = ISBGT(ISubDAO(l.subDAO).module(ISubDAO.Module.SBGT));
        uint256 previous = type(uint256).max;
        for (uint256 r = 0; r < n; ++r) {
            if (address(sbgt) != address(0)) {
                uint256 points = sbgt.pointsOf(ranked[r]);
                if (points == 0 || points > previous) revert MarketRankOrder(ranked[r], points, previous);
                previous = points;
            }
            Account storage a = _accounts[listingId][ranked[r]];
            if (a.rankGeneration == generation) revert MarketDuplicateRanked(ranked[r]);
            a.rankGeneration = generation;
            a.rank = uint16(r); // r < 1024
        }
        l.rankGeneration = generation;
        l.rankCount = uint16(n);
        emit RanksSet(listingId, generation, ranked);
    }

    /// @inheritdoc IMarketplace
    function addPlan(uint256 listingId, uint96 price, uint64 queries, uint32 period)
        external
        returns (uint256 planId)
    {
        Listing storage l = _listing(listingId);
        _checkChamber(l.subDAO, ISubDAO.Module.FinancialChamber);
        if (queries == 0 || period == 0) revert MarketInvalidParams();
        planId = _plans[listingId].length;
        _plans[listingId].push(Plan({price: price, queries: queries, period: period, active: true}));
        emit PlanAdded(listingId, planId, price, queries, period);
    }

    /// @inheritdoc IMarketplace
    function setPlanActive(uint256 listingId, uint256 planId, bool active) external {
        Listing storage l = _listing(listingId);
        _checkChamber(l.subDAO, ISubDAO.Module.FinancialChamber);
        if (planId >= _plans[listingId].length) revert MarketUnknownPlan(listingId, planId);
        _plans[listingId][planId].active = active;
        emit PlanActiveSet(listingId, planId, active);
    }

    /// @inheritdoc IMarketplace
    function subscribe(uint256 listingId, uint256 planId)
        external
        nonReentrant
        returns (uint64 credits, uint64 expiresAt)
    {
        Listing storage l = _listing(listingId);
        _checkOpen(listingId, l);
        if (planId >= _plans[listingId].length) revert MarketUnknownPlan(listingId, planId);
        Plan memory plan = _plans[listingId][planId];
        if (!plan.active) revert MarketPlanInactive(listingId, planId);

        Account storage a = _accounts[listingId][msg.sender];
        if (block.timestamp < a.creditsExpireAt) {
            uint256 total = uint256(a.credits) + plan.queries;
            if (total > type(uint64).max) revert MarketCreditsOverflow(listingId, a.credits, plan.queries);
            credits = uint64(total);
            expiresAt = a.creditsExpireAt + plan.period;
        } else {
            credits = plan.queries;
            expiresAt = uint64(block.timestamp) + plan.period;
        }
        a.credits = credits;
        a.creditsExpireAt = expiresAt;

        uint256 paid = 0;
        if (plan.price != 0) {
            // subscription revenue is earned on purchase: straight on to the splitter
            paid = TokenPull.pullFromSender(IERC20(l.token), plan.price);
        }
        emit Subscribed(listingId, msg.sender, planId, paid, credits, expiresAt);
        if (paid != 0) _payRevenue(l, paid);
    }

    /// @inheritdoc IMarketplace
    function requestInference(uint256 listingId, string calldata inputCid, uint256 maxFee)
        external
        nonReentrant
        returns (uint256 requestId)
    {
        return _request(listingId, ListingKind.Inference, inputCid, maxFee);
    }

    /// @inheritdoc IMarketplace
    function requestQuery(uint256 listingId, string calldata querySchemaCid, uint256 maxFee)
        external
        nonReentrant
        returns (uint256 requestId)
    {
        return _request(listingId, ListingKind.Analytics, querySchemaCid, maxFee);
    }

    /// @inheritdoc IMarketplace
    function fulfil(uint256 requestId, Request calldata request, string calldata outputCid) external nonReentrant {
        Listing storage l = _listings[requestId >> 64];
        if (msg.sender != l.operator) revert MarketNotOperator(requestId >> 64, msg.sender);
        _checkPending(requestId, request);
        if (block.timestamp > request.deadline) revert MarketRequestExpired(requestId, request.deadline);
        _requests[requestId] = _FULFILLED;
        uint256 revenue = request.paid;
        emit Fulfilled(requestId, msg.sender, outputCid, revenue);
        if (revenue != 0) _payRevenue(l, revenue);
    }

    /// @inheritdoc IMarketplace
    function refund(uint256 requestId, Request calldata request) external nonReentrant {
        _checkPending(requestId, request);
        if (block.timestamp <= request.deadline) revert MarketRequestNotExpired(requestId, request.deadline);
        _requests[requestId] = _REFUNDED;
        uint256 listingId = requestId >> 64;
        emit Refunded(requestId, request.payer, request.paid, request.credit);
        if (request.credit) {
            // the credit lapses with the subscription period it came from
            _accounts[listingId][request.payer].credits += 1;
        } else if (request.paid != 0) {
            IERC20(_listings[listingId].token).safeTransfer(request.payer, request.paid);
        }
    }

    /// @inheritdoc IMarketplace
    function priceOf(uint256 listingId, address user) external view returns (uint256 price, Tier tier) {
        Listing storage l = _listing(listingId);
        return _priceOf(l, _accounts[listingId][user]);
    }

    /// @inheritdoc IMarketplace
    function listing(uint256 listingId) external view returns (Listing memory) {
        return _listing(listingId);
    }

    /// @inheritdoc IMarketplace
    function listingInfo(uint256 listingId) external view returns (ListingInfo memory) {
        _listing(listingId);
        return _info[listingId];
    }

    /// @inheritdoc IMarketplace
    function modelVersionOf(uint256 listingId) external view returns (uint32 version) {
        // slither-disable-next-line unused-return (only the version is asked for)
        (version,) = ISubDAO(_listing(listingId).subDAO).modelVersion();
    }

    /// @inheritdoc IMarketplace
    function tokenPolicy() external view returns (address) {
        return address(_TOKEN_POLICY);
    }

    /// @inheritdoc IMarketplace
    function listingCount() external view returns (uint256) {
        return _listingCount;
    }

    /// @inheritdoc IMarketplace
    function listingOf(address subDAO) external view returns (uint256) {
        return _listingOf[subDAO];
    }

    /// @inheritdoc IMarketplace
    function listingsByDomain(bytes32 domain) external view returns (uint256[] memory) {
        return _byDomain[domain];
    }

    /// @inheritdoc IMarketplace
    function listingsByModelClass(bytes32 modelClass) external view returns (uint256[] memory) {
        return _byModelClass[modelClass];
    }

    /// @inheritdoc IMarketplace
    function account(uint256 listingId, address user) external view returns (Account memory) {
        return _accounts[listingId][user];
    }

    /// @inheritdoc IMarketplace
    function plans(uint256 listingId) external view returns (Plan[] memory) {
        return _plans[listingId];
    }

    /// @inheritdoc IMarketplace
    function requestStatus(uint256 requestId) external view returns (RequestStatus) {
        return _statusOf(_requests[requestId]);
    }

    /// @dev Hands `amount` to the listing's splitter through its balance-delta `deposit`. The
    /// allowance is exactly `amount` (never standing): the marketplace escrows every listing's
    /// fees in one balance per token, so a SubDAO's splitter must not be able to pull more than
    /// its own revenue.
    function _payRevenue(Listing storage l, uint256 amount) private {
        address splitter = l.splitter;
        IERC20(l.token).forceApprove(splitter, amount);
        // slither-disable-next-line unused-return (the splitter emits what it received)
        IRevenueSplitter(splitter).deposit(amount);
    }

    function _emitListed(uint256 listingId, ISubDAO s, address token, ListingParams calldata p) private {
        // slither-disable-next-line unused-return (only the version is listed)
        (uint32 version,) = s.modelVersion();
        emit Listed(listingId, address(s), p.domain, p.modelClass, p.kind, token, s.module(ISubDAO.Module.SDT), version, p);
    }

    function _request(uint256 listingId, ListingKind kind, string calldata inputCid, uint256 maxFee)
        private
        returns (uint256 requestId)
    {
        Listing storage l = _listings[listingId];
        _checkOpen(listingId, l);
        if (l.kind != kind) revert MarketWrongKind(listingId, l.kind);

        Account storage a = _accounts[listingId][msg.sender];
        Request memory r = Request({payer: msg.sender, deadline: 0, paid: 0, credit: false});
        if (a.credits != 0 && block.timestamp < a.creditsExpireAt) {
            a.credits -= 1;
            r.credit = true;
        } else {
            (uint256 fee,) = _priceOf(l, a);
            if (fee > maxFee) revert MarketPriceAboveMax(fee, maxFee);
            if (fee != 0) {
                // ≤ fee ≤ 10 · 2^96: fits in uint128
                r.paid = uint128(TokenPull.pullFromSender(IERC20(l.token), fee));
            }
        }
        uint48 nonce = l.nonce + 1;
        l.nonce = nonce;
        r.deadline = uint64(block.timestamp) + l.timeout;
        requestId = (listingId << 64) | nonce;
        _requests[requestId] = keccak256(abi.encode(r));
        emit Requested(requestId, msg.sender, inputCid, r.deadline, r.paid, r.credit);
    }

    function _priceOf(Listing storage l, Account storage a) private view returns (uint256 price, Tier tier) {
        uint256 x = l.basePrice;
        uint32 generation = a.rankGeneration;
        // never-ranked accounts skip the listing's ranking slot (the external-user hot path)
        if (generation != 0 && generation == l.rankGeneration) {
            uint256 n = l.rankCount;
            // n ≥ 1 here; rank r ∈ [0, n): x·r/(n−1), top contributor free
            return (n == 1 ? 0 : (x * a.rank) / (n - 1), Tier.Member);
        }
        if (a.requester) return (x * _REQUESTER_MULTIPLIER, Tier.Requester);
        return (x * _EXTERNAL_MULTIPLIER, Tier.External);
    }

    function _checkOpen(uint256 listingId, Listing storage l) private view {
        address subDAO = l.subDAO;
        if (subDAO == address(0)) revert MarketUnknownListing(listingId);
        if (l.delisted) revert MarketListingRetired(listingId);
        ISubDAO.State st = ISubDAO(subDAO).state();
        if (st != ISubDAO.State.Deployed && st != ISubDAO.State.Training) revert MarketListingRetired(listingId);
    }

    function _checkPending(uint256 requestId, Request calldata request) private view {
        bytes32 h = _requests[requestId];
        RequestStatus status = _statusOf(h);
        if (status != RequestStatus.Pending) revert MarketRequestNotPending(requestId, status);
        if (h != keccak256(abi.encode(request))) revert MarketRequestMismatch(requestId);
    }

    /// @dev The stored word is a hash while pending, else one of the sentinels 0, 1, 2.
    function _statusOf(bytes32 h) private pure returns (RequestStatus) {
        // slither-disable-next-line incorrect-equality (sentinel words, not balances)
        if (h == bytes32(0)) return RequestStatus.None;
        // slither-disable-next-line incorrect-equality (sentinel words, not balances)
        if (h == _FULFILLED) return RequestStatus.Fulfilled;
        // slither-disable-next-line incorrect-equality (sentinel words, not balances)
        if (h == _REFUNDED) return RequestStatus.Refunded;
        return RequestStatus.Pending;
    }

    function _checkChamber(address subDAO, ISubDAO.Module chamber) private view {
        if (msg.sender != ISubDAO(subDAO).module(chamber)) revert MarketUnauthorized(msg.sender);
    }

    function _listing(uint256 listingId) private view returns (Listing storage l) {
        l = _listings[listingId];
        if (l.subDAO == address(0)) revert MarketUnknownListing(listingId);
    }
}
