// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC721Upgradeable} from "@openzeppelin/contracts-upgradeable/token/ERC721/ERC721Upgradeable.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IERC5192} from "../interfaces/IERC5192.sol";
import {ISBGT} from "../interfaces/ISBGT.sol";

/// @title Soul-bound governance token with decaying contribution points
/// @notice See {ISBGT}: ERC-5192 locked ERC-721, points π_k = floor(s_k·D/ONE) with an O(1)
/// global decay index D, checkpointed by block number for the technical chamber.
contract SBGT is ERC721Upgradeable, ISBGT {
    using Checkpoints for Checkpoints.Trace224;

    uint256 public constant INDEX_ONE = 2 ** 200;
    uint256 public constant INDEX_MIN = 2 ** 90;
    uint256 public constant MAX_AWARD = 2 ** 80;
    uint64 public constant MIN_LAMBDA = 0.8e18;
    uint64 public constant MAX_LAMBDA = 0.999e18;
    uint256 private constant _WAD = 1e18;

    // slot: operator (20) + lambda (8) = 28 bytes
    address private _operator;
    uint64 private _lambda;
    mapping(address account => Checkpoints.Trace224) private _scaled;
    Checkpoints.Trace224 private _totalScaled;
    /// @dev Empty means INDEX_ONE (saves a checkpoint at creation); D only decreases and is > 0.
    Checkpoints.Trace224 private _index;

    modifier onlyOperator() {
        _checkOperator();
        _;
    }

    constructor() {
        _disableInitializers();
    }

    /// @inheritdoc ISBGT
    function initialize(address operator_, uint64 lambdaWad) external initializer {
        _checkLambda(lambdaWad);
        _operator = operator_;
        _lambda = lambdaWad;
    }

    /// @inheritdoc ISBGT
    function mint(address to, uint256 points) external onlyOperator returns (uint256 tokenId) {
        if (balanceOf(to) != 0) revert SBGTAlreadyHolder(to);
        tokenId = uint256(uint160(to));
        _mint(to, tokenId);
        emit Locked(tokenId);
        if (points != 0) {
            uint48 now_ = clock();
            uint256 d = _currentIndex();
            uint256 s = _award(to, points, d, now_);
            // slither-disable-next-line unused-return (Checkpoints.push returns the old/new values)
            _totalScaled.push(SafeCast.toUint32(now_), SafeCast.toUint224(_totalScaled.latest() + s));
        }
    }

    /// @inheritdoc ISBGT
    function applyRound(address[] calldata accounts, uint256[] calldata points) external onlyOperator {
        if (accounts.length != points.length) revert SBGTLengthMismatch(accounts.length, points.length);
        uint48 now_ = clock();
        uint256 previous = _currentIndex();
        uint256 lambda = _lambda;
        uint256 d = Math.mulDiv(previous, lambda, _WAD); // rounds down
        if (d < INDEX_MIN) revert SBGTIndexExhausted(d);
        // slither-disable-next-line unused-return (Checkpoints.push returns the old/new values)
        _index.push(SafeCast.toUint32(now_), uint224(d)); // d ≤ previous < 2**224
        emit IndexDecayed(previous, d, lambda);
        uint256 added = 0;
        for (uint256 i; i < accounts.length; ++i) {
            if (points[i] == 0 || balanceOf(accounts[i]) == 0) continue;
            added += _award(accounts[i], points[i], d, now_);
        }
        // slither-disable-next-line unused-return (Checkpoints.push returns the old/new values)
        if (added != 0) _totalScaled.push(SafeCast.toUint32(now_), SafeCast.toUint224(_totalScaled.latest() + added));
    }

    /// @inheritdoc ISBGT
    function revoke(address account) external onlyOperator {
        if (balanceOf(account) == 0) revert SBGTNotHolder(account);
        _burn(uint256(uint160(account)));
        uint256 s = _scaled[account].latest();
        uint256 pointsRemoved = 0;
        if (s != 0) {
            uint32 now_ = SafeCast.toUint32(clock());
            pointsRemoved = Math.mulDiv(s, _currentIndex(), INDEX_ONE);
            // slither-disable-next-line unused-return (Checkpoints.push returns the old/new values)
            _scaled[account].push(now_, 0);
            // S is the exact sum of every holder's s, so s ≤ S
            // slither-disable-next-line unused-return (Checkpoints.push returns the old/new values)
            _totalScaled.push(now_, uint224(_totalScaled.latest() - s));
        }
        emit PointsRevoked(account, s, pointsRemoved);
    }

    /// @inheritdoc ISBGT
    function setDecay(uint64 lambdaWad) external onlyOperator {
        _checkLambda(lambdaWad);
        emit DecayChanged(_lambda, lambdaWad);
        _lambda = lambdaWad;
    }

    // ---- ERC-5192 / ERC-721 soul-binding ----

    /// @inheritdoc IERC5192
    function locked(uint256 tokenId) external view returns (bool) {
        _requireOwned(tokenId);
        return true;
    }

    /// @notice Always reverts: the token is soul-bound.
    function approve(address, uint256 tokenId) public pure override {
        revert SBGTSoulbound(tokenId);
    }

    /// @notice Always reverts: the token is soul-bound.
    function setApprovalForAll(address, bool) public pure override {
        revert SBGTSoulbound(0);
    }

    /// @notice Always reverts: the token is soul-bound.
    function transferFrom(address, address, uint256 tokenId) public pure override {
        revert SBGTSoulbound(tokenId);
    }

    /// @notice Always reverts: the token is soul-bound (the 3-argument overload calls this one).
    function safeTransferFrom(address, address, uint256 tokenId, bytes memory)
        public
        pure
        override
    {
        revert SBGTSoulbound(tokenId);
    }

    function name() public pure override returns (string memory) {
        return "FLAI Soul-Bound Governance Token";
    }

    function symbol() public pure override returns (string memory) {
        return "SBGT";
    }

    /// @notice ERC-165: ERC-5192 (0xb45a3c0e), ERC-721, ERC-721 Metadata, ERC-165.
    function supportsInterface(bytes4 interfaceId)
        public
        view
        override
        returns (bool)
    {
        return interfaceId == type(IERC5192).interfaceId || super.supportsInterface(interfaceId);
    }

    // ---- IERC5805 (votes = points) ----

    function clock() public view returns (uint48) {
        return uint48(block.number);
    }

    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() external pure returns (string memory) {
        return "mode=blocknumber&from=default";
    }

    function getVotes(address account) public view returns (uint256) {
        return Math.mulDiv(_scaled[account].latest(), _currentIndex(), INDEX_ONE);
    }

    function getPastVotes(address account, uint256 timepoint) external view returns (uint256) {
        uint32 key = _checkPast(timepoint);
        return Math.mulDiv(_scaled[account].upperLookupRecent(key), _pastIndex(key), INDEX_ONE);
    }

    function getPastTotalSupply(uint256 timepoint) external view returns (uint256) {
        uint32 key = _checkPast(timepoint);
        return Math.mulDiv(_totalScaled.upperLookupRecent(key), _pastIndex(key), INDEX_ONE);
    }

    /// @notice A holder is always its own delegate.
    function delegates(address account) external pure returns (address) {
        return account;
    }

    function delegate(address) external pure {
        revert SBGTDelegationDisabled();
    }

    function delegateBySig(address, uint256, uint256, uint8, bytes32, bytes32) external pure {
        revert SBGTDelegationDisabled();
    }

    // ---- views ----

    /// @inheritdoc ISBGT
    function operator() external view returns (address) {
        return _operator;
    }

    /// @inheritdoc ISBGT
    function decay() external view returns (uint256) {
        return _lambda;
    }

    /// @inheritdoc ISBGT
    function index() external view returns (uint256) {
        return _currentIndex();
    }

    /// @inheritdoc ISBGT
    function pointsOf(address account) external view returns (uint256) {
        return getVotes(account);
    }

    /// @inheritdoc ISBGT
    function totalPoints() external view returns (uint256) {
        return Math.mulDiv(_totalScaled.latest(), _currentIndex(), INDEX_ONE);
    }

    /// @inheritdoc ISBGT
    function scaledPointsOf(address account) external view returns (uint256) {
        return _scaled[account].latest();
    }

    /// @inheritdoc ISBGT
    function totalScaledPoints() external view returns (uint256) {
        return _totalScaled.latest();
    }

    /// @inheritdoc ISBGT
    function tokenOf(address account) external view returns (uint256 tokenId) {
        if (balanceOf(account) == 0) revert SBGTNotHolder(account);
        return uint256(uint160(account));
    }

    // ---- internal ----

    /// @dev Blocks every transfer (mint and burn only).
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        from = _ownerOf(tokenId);
        if (from != address(0) && to != address(0)) revert SBGTSoulbound(tokenId);
        return super._update(to, tokenId, auth);
    }

    function _award(address account, uint256 points, uint256 d, uint48 now_) private returns (uint256 ds) {
        if (points > MAX_AWARD) revert SBGTPointsTooLarge(points);
        ds = Math.mulDiv(points, INDEX_ONE, d); // rounds down; ≤ 2**80·2**200/2**90 = 2**190
        uint256 s = _scaled[account].latest() + ds;
        // slither-disable-next-line unused-return (Checkpoints.push returns the old/new values)
        _scaled[account].push(SafeCast.toUint32(now_), SafeCast.toUint224(s));
        emit PointsAwarded(account, points, s);
    }

    function _currentIndex() private view returns (uint256) {
        // slither-disable-next-line unused-return (the key of the latest checkpoint is not needed)
        (bool exists,, uint224 d) = _index.latestCheckpoint();
        return exists ? d : INDEX_ONE;
    }

    function _pastIndex(uint32 key) private view returns (uint256) {
        uint256 d = _index.upperLookupRecent(key);
        return d == 0 ? INDEX_ONE : d;
    }

    function _checkPast(uint256 timepoint) private view returns (uint32) {
        uint48 now_ = clock();
        if (timepoint >= now_) revert SBGTFutureLookup(timepoint, now_);
        return SafeCast.toUint32(timepoint);
    }

    function _checkOperator() private view {
        if (msg.sender != _operator) revert SBGTUnauthorized(msg.sender);
    }

    function _checkLambda(uint64 lambdaWad) private pure {
        if (lambdaWad < MIN_LAMBDA || lambdaWad > MAX_LAMBDA) revert SBGTInvalidDecay(lambdaWad);
    }
}
