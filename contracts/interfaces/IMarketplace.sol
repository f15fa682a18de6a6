// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Model marketplace: listings, tiered pay-per-inference, subscriptions, FA pay-per-query
/// @notice One platform-wide registry of listings, one per deployed SubDAO (001 §7.1).
///
/// Listings: a SubDAO's technical or financial chamber lists its model once the SubDAO is
/// Deployed, with kind (FL inference or FA analytics, 001 §7.3), domain, model class,
/// validation metric, licence CID, model-card CID, base price x, request timeout and operator.
/// The payment token, the requester and the revenue splitter come from the SubDAO; the current
/// model version is read live from it. Discoverable by domain, model class and SubDAO. Sales
/// stop (`MarketListingRetired`) when the listing is delisted — by a chamber at any time or by
/// anyone once the SubDAO is Retired/Failed — or the SubDAO is no longer Training/Deployed.
///
/// Prices (000 §6.5.1–6.5.2): external users pay 10x, the RFM requester 3x, SubDAO members
/// ranked by contribution pay x·r/(n−1) for rank r ∈ [0, n) (0 = top contributor: free; the
/// lowest of n ranked members pays x; a single ranked member is free). The financial chamber
/// sets x and posts the ranking (it also governs pricing per 001 §6.5); the contract checks the
/// posted order against the SubDAO's SBGT points (every ranked member holds points, and points
/// never increase down the list), so the chamber chooses who is ranked but not the order.
/// A ranked requester pays its member price.
///
/// Requests: `requestInference` (FL) / `requestQuery` (FA) consume one subscription credit if
/// the caller has an unexpired one, otherwise pull the tier fee (measured by balance delta, so
/// fee-on-transfer tokens are accounted at what arrived; SafeERC20, so tokens without return
/// values work). The chain stores only keccak256 of the request record; the `Requested` event
/// carries the record, which `fulfil`/`refund` take back as calldata. The operator fulfils with
/// the encrypted-output CID before the deadline — the fee then goes to the SubDAO's revenue
/// splitter; after the deadline anyone can refund the payer in full (fee or credit).
///
/// Subscriptions (000 §6.4): the financial chamber adds plans (N queries per period at a fixed
/// price); buying one pays the price to the splitter at once and credits N queries valid for
/// the period (buying again before expiry adds N and extends by one period).
///
/// Payment tokens: a listing sells in its SubDAO's payment token, which must be on the
/// platform's allow-list ({IPaymentTokenPolicy}, the RFM registry) when it is listed, so no
/// listing sells in a token that charges the marketplace on top of each refund.
///
/// Invariant: token.balanceOf(this) ≥ Σ paid of pending requests (escrow), per token.
interface IMarketplace {
    /// @notice What a listing sells.
    enum ListingKind {
        Inference, // FL model: encrypted input CID in, encrypted output CID out
        Analytics // FA: query-schema CID in, report CID out
    }

    /// @notice Request lifecycle (the chain stores a hash while Pending).
    enum RequestStatus {
        None,
        Pending,
        Fulfilled,
        Refunded
    }

    /// @notice Price tiers.
    enum Tier {
        External,
        Requester,
        Member,
        Subscriber
    }

    /// @notice Listing parameters chosen by the SubDAO.
    struct ListingParams {
        ListingKind kind;
        bytes32 domain;
        bytes32 modelClass;
        bytes32 metricId; // e.g. "AUC"
        uint64 metricValue; // fixed point, 1e6 = 1.0
        uint96 basePrice; // x, in the SubDAO's payment token
        uint32 timeout; // seconds the operator has to fulfil
        address operator;
        string licenceCid;
        string modelCardCid;
    }

    /// @notice The hot part of a listing (3 slots read per request).
    struct Listing {
        // slot 0 (all a subscription-credit request reads)
        address subDAO;
        uint48 nonce; // requests made so far (request id = listingId << 64 | nonce)
        uint32 timeout;
        ListingKind kind;
        bool delisted;
        // slot 1
        address token;
        uint96 basePrice;
        // slot 2
        address requester;
        uint32 rankGeneration; // bumped whenever the ranking is replaced
        uint16 rankCount; // n ranked members
        // slot 3
        address operator;
        // slot 4
        address splitter;
    }

    /// @notice Descriptive metadata of a listing.
    struct ListingInfo {
        bytes32 domain;
        bytes32 modelClass;
        bytes32 metricId;
        uint64 metricValue;
        string licenceCid;
        string modelCardCid;
    }

    /// @notice A user's per-listing state (one slot).
    struct Account {
        uint64 credits; // subscription queries left
        uint64 creditsExpireAt; // unix time the credits lapse
        uint32 rankGeneration; // rank valid iff equal to the listing's (0 = never ranked)
        uint16 rank; // 0 = top contributor
        bool requester; // the RFM requester (marked at listing: an external request reads no more)
    }

    /// @notice A subscription plan.
    struct Plan {
        uint96 price;
        uint64 queries;
        uint32 period;
        bool active;
    }

    /// @notice The record of a request; only its keccak256 is stored.
    struct Request {
        address payer;
        uint64 deadline;
        uint128 paid; // token amount received (0 if paid by credit or free tier)
        bool credit; // paid with a subscription credit
    }

    event Listed(
        uint256 indexed listingId,
        address indexed subDAO,
        bytes32 indexed domain,
        bytes32 modelClass,
        ListingKind kind,
        address token,
        address sdt,
        uint32 modelVersion,
        ListingParams params
    );
    event Delisted(uint256 indexed listingId, address indexed by);
    event PriceSet(uint256 indexed listingId, uint96 basePrice);
    event OperatorSet(uint256 indexed listingId, address indexed operator);
    event MetadataSet(uint256 indexed listingId, bytes32 metricId, uint64 metricValue, string licenceCid, string modelCardCid);
    event RanksSet(uint256 indexed listingId, uint32 rankGeneration, address[] ranked);
    event PlanAdded(uint256 indexed listingId, uint256 indexed planId, uint96 price, uint64 queries, uint32 period);
    event PlanActiveSet(uint256 indexed listingId, uint256 indexed planId, bool active);
    event Subscribed(
        uint256 indexed listingId,
        address indexed account,
        uint256 indexed planId,
        uint256 paid,
        uint64 credits,
        uint64 expiresAt
    );
    /// @notice A request was made. `Request(payer, deadline, paid, credit)` is the record
    /// `fulfil`/`refund` take back; the listing is `requestId >> 64` and the tier follows from
    /// `paid`/`credit` and `priceOf` (kept out of the event: every byte costs on the hot path).
    event Requested(
        uint256 indexed requestId, address indexed payer, string inputCid, uint64 deadline, uint128 paid, bool credit
    );
    event Fulfilled(uint256 indexed requestId, address indexed operator, string outputCid, uint256 revenue);
    event Refunded(uint256 indexed requestId, address indexed payer, uint256 amount, bool credit);

    error MarketUnknownListing(uint256 listingId);
    error MarketUnauthorized(address caller);
    error MarketNotOperator(uint256 listingId, address caller);
    error MarketListingRetired(uint256 listingId);
    error MarketNotDeployed(address subDAO, uint8 state);
    error MarketAlreadyListed(address subDAO, uint256 listingId);
    error MarketNoSplitter(address subDAO);
    error MarketInvalidToken(address token);
    error MarketTokenNotAllowed(address token);
    error MarketCreditsOverflow(uint256 listingId, uint64 credits, uint64 queries);
    error MarketInvalidParams();
    error MarketWrongKind(uint256 listingId, ListingKind kind);
    error MarketPriceAboveMax(uint256 price, uint256 maxFee);
    error MarketRequestNotPending(uint256 requestId, RequestStatus status);
    error MarketRequestMismatch(uint256 requestId);
    error MarketRequestExpired(uint256 requestId, uint64 deadline);
    error MarketRequestNotExpired(uint256 requestId, uint64 deadline);
    error MarketUnknownPlan(uint256 listingId, uint256 planId);
    error MarketPlanInactive(uint256 listingId, uint256 planId);
    error MarketTooManyRanked(uint256 count);
    error MarketDuplicateRanked(address account);
    error MarketRankOrder(address account, uint256 points, uint256 previousPoints);

    /// @notice Lists `subDAO`'s model (its technical or financial chamber; SubDAO Deployed).
    function list(address subDAO, ListingParams calldata params) external returns (uint256 listingId);

    /// @notice Delists: a chamber any time, anyone once the SubDAO is Retired or Failed.
    function delist(uint256 listingId) external;

    /// @notice Financial chamber: set the base price x.
    function setBasePrice(uint256 listingId, uint96 basePrice) external;

    /// @notice Technical chamber: set the inference operator.
    function setOperator(uint256 listingId, address operator) external;

    /// @notice Technical chamber: update the validation metric and licence / model-card CIDs.
    function setMetadata(
        uint256 listingId,
        bytes32 metricId,
        uint64 metricValue,
        string calldata licenceCid,
        string calldata modelCardCid
    ) external;

    /// @notice Financial chamber: post the member ranking, top contributor first (≤ 1024), in
    /// non-increasing SBGT points, each member holding points (checked when the SubDAO has an SBGT).
    function setRanks(uint256 listingId, address[] calldata ranked) external;

    /// @notice Financial chamber: add a subscription plan.
    function addPlan(uint256 listingId, uint96 price, uint64 queries, uint32 period) external returns (uint256 planId);

    /// @notice Financial chamber: (de)activate a plan.
    function setPlanActive(uint256 listingId, uint256 planId, bool active) external;

    /// @notice Buys a plan: pays its price (to the splitter) and credits its queries.
    function subscribe(uint256 listingId, uint256 planId) external returns (uint64 credits, uint64 expiresAt);

    /// @notice Requests one inference on an FL listing, paying at most `maxFee`.
    function requestInference(uint256 listingId, string calldata inputCid, uint256 maxFee)
        external
        returns (uint256 requestId);

    /// @notice Requests one report on an FA listing (query-schema CID in), paying at most `maxFee`.
    function requestQuery(uint256 listingId, string calldata querySchemaCid, uint256 maxFee)
        external
        returns (uint256 requestId);

    /// @notice Operator: deliver the encrypted output (or report) CID before the deadline.
    function fulfil(uint256 requestId, Request calldata request, string calldata outputCid) external;

    /// @notice Anyone, after the deadline: refund the payer in full (fee, or the credit).
    function refund(uint256 requestId, Request calldata request) external;

    /// @notice The price `account` pays per request on `listingId`, and its tier (ignoring credits).
    function priceOf(uint256 listingId, address account) external view returns (uint256 price, Tier tier);

    /// @notice A listing.
    function listing(uint256 listingId) external view returns (Listing memory);

    /// @notice A listing's metadata.
    function listingInfo(uint256 listingId) external view returns (ListingInfo memory);

    /// @notice The SubDAO's current model version (read live).
    function modelVersionOf(uint256 listingId) external view returns (uint32);

    /// @notice Number of listings (ids start at 1).
    function listingCount() external view returns (uint256);

    /// @notice The payment-token allow-list consulted at listing (set at construction).
    function tokenPolicy() external view returns (address);

    /// @notice The listing of `subDAO` (0 if none).
    function listingOf(address subDAO) external view returns (uint256);

    /// @notice Listings in a domain.
    function listingsByDomain(bytes32 domain) external view returns (uint256[] memory);

    /// @notice Listings of a model class.
    function listingsByModelClass(bytes32 modelClass) external view returns (uint256[] memory);

    /// @notice A user's credits and rank on a listing.
    function account(uint256 listingId, address user) external view returns (Account memory);

    /// @notice A listing's plans.
    function plans(uint256 listingId) external view returns (Plan[] memory);

    /// @notice Status of a request.
    function requestStatus(uint256 requestId) external view returns (RequestStatus);
}
