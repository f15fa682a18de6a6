// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ITrainingRounds} from "../interfaces/ITrainingRounds.sol";
import {ISubDAO} from "../interfaces/ISubDAO.sol";
import {ISBGT} from "../interfaces/ISBGT.sol";

/// @title Onboarding and training rounds of one SubDAO
/// @notice See {ITrainingRounds}. The FLAI token (deposits, collateral) is an immutable of the
/// implementation, shared by every clone at no storage cost.
contract TrainingRounds is Initializable, ReentrancyGuardTransient, ITrainingRounds {
    using SafeERC20 for IERC20;

    uint256 public constant MAX_MEMBERS = 256;
    uint256 public constant MIN_DEPOSIT = 1e18;
    uint256 public constant MAX_POINTS_PER_ROUND = 2 ** 80;
    uint64 private constant _ONE = 1e18;
    uint64 private constant _DEFAULT_TOLERANCE = 0.1e18;
    uint16 private constant _DEFAULT_SLASH_BPS = 1000;
    uint32 private constant _DEFAULT_VOTE_WINDOW = 1 days;
    uint128 private constant _DEFAULT_POINTS = 100e18;

    IERC20 private immutable _FLAI;

    struct Member {
        MemberStatus status;
        uint16 index;
        uint96 amount; // collateral (contributor) or deposit (validator), FLAI
    }

    // slot 0: subDAO (20) + contributorCount (2) + validatorCount (2) + roundCount (4) + activeValidators (2)
    address private _subDAO;
    uint16 private _contributorCount;
    uint16 private _validatorCount;
    uint32 private _roundCount;
    uint16 private _activeValidators;
    /// @dev One slot; pointsPerRound == 0 means "defaults" (saves a slot at creation).
    Params private _params;
    uint256 private _totalSlashed;
    mapping(address account => Member) private _contributors;
    mapping(address account => bytes32 digest) private _attestations;
    mapping(uint16 memberIndex => address account) private _contributorAt;
    mapping(address account => Member) private _validators;
    mapping(uint16 validatorIndex => address account) private _validatorAt;
    mapping(uint256 roundId => Round) private _rounds;
    mapping(uint256 roundId => uint256 bitmap) private _committed; // by member index
    mapping(uint256 roundId => uint256 bitmap) private _scored; // by validator index
    mapping(uint256 roundId => uint256 bitmap) private _voted; // by validator index
    mapping(uint256 roundId => mapping(address contributor => bytes32 digest)) private _updates;
    /// @dev Four uint64 scores per word, word w holds positions 4w..4w+3 (low bits first).
    mapping(uint256 roundId => mapping(uint16 validatorIndex => mapping(uint256 word => uint256))) private _scores;
    mapping(uint256 roundId => mapping(uint256 word => uint256)) private _consensus;
    mapping(uint256 roundId => string cid) private _aggregateCid;
    mapping(uint256 roundId => uint64 metric) private _metric;
    mapping(uint32 version => uint256 roundId) private _versionRound;

    modifier onlyTechnical() {
        _checkCaller(_hubModule(ISubDAO.Module.TechnicalChamber));
        _;
    }

    modifier onlyCoordinator() {
        _checkCaller(ISubDAO(_subDAO).coordinator());
        _;
    }

    constructor(IERC20 flai) {
        _FLAI = flai;
        _disableInitializers();
    }

    /// @inheritdoc ITrainingRounds
    function initialize(address subDAO_) external initializer {
        _subDAO = subDAO_;
    }

    // ---- onboarding ----

    /// @inheritdoc ITrainingRounds
    function applyContributor(string calldata attestationCid, uint256 collateral) external nonReentrant {
        Member storage m = _contributors[msg.sender];
        if (m.status != MemberStatus.None) revert RoundsAlreadyApplied(msg.sender, m.status);
        uint96 received = _pull(collateral);
        m.status = MemberStatus.Applied;
        m.amount = received;
        _attestations[msg.sender] = keccak256(bytes(attestationCid));
        emit ContributorApplied(msg.sender, attestationCid, received);
    }

    /// @inheritdoc ITrainingRounds
    function applyValidator(uint256 deposit) external nonReentrant {
        Member storage m = _validators[msg.sender];
        if (m.status != MemberStatus.None) revert RoundsAlreadyApplied(msg.sender, m.status);
        if (deposit < MIN_DEPOSIT) revert RoundsDepositTooSmall(deposit, MIN_DEPOSIT);
        uint96 received = _pull(deposit);
        if (received < MIN_DEPOSIT) revert RoundsDepositTooSmall(received, MIN_DEPOSIT);
        m.status = MemberStatus.Applied;
        m.amount = received;
        emit ValidatorApplied(msg.sender, received);
    }

    /// @inheritdoc ITrainingRounds
    function launch(address[] calldata founders, uint256[] calldata points, address[] calldata validators_) external {
        ISubDAO hub = ISubDAO(_subDAO);
        _checkCaller(hub.requester());
        if (founders.length != points.length) revert RoundsLengthMismatch(founders.length, points.length);
        uint256 need = hub.minValidators();
        if (validators_.length < need || validators_.length == 0) {
            revert RoundsNotEnoughValidators(validators_.length, need);
        }
        ISBGT sbgt = ISBGT(hub.module(ISubDAO.Module.SBGT));
        for (uint256 i; i < founders.length; ++i) {
            _whitelistContributor(sbgt, founders[i], points[i]);
        }
        for (uint256 i; i < validators_.length; ++i) {
            _whitelistValidator(validators_[i]);
        }
        emit Launched(founders.length, validators_.length);
        hub.onLaunched(); // reverts unless Onboarding: launch happens once
    }

    /// @inheritdoc ITrainingRounds
    function whitelistContributors(address[] calldata accounts) external onlyTechnical {
        ISBGT sbgt = ISBGT(_hubModule(ISubDAO.Module.SBGT));
        for (uint256 i; i < accounts.length; ++i) {
            _whitelistContributor(sbgt, accounts[i], 0);
        }
    }

    /// @inheritdoc ITrainingRounds
    function whitelistValidators(address[] calldata accounts) external onlyTechnical {
        for (uint256 i; i < accounts.length; ++i) {
            _whitelistValidator(accounts[i]);
        }
    }

    /// @inheritdoc ITrainingRounds
    function revokeContributor(address account, RevocationReason reason) external onlyTechnical nonReentrant {
        Member storage m = _contributors[account];
        if (m.status != MemberStatus.Whitelisted) revert RoundsNotWhitelisted(account);
        m.status = MemberStatus.Revoked;
        uint256 slashed = 0;
        if (reason == RevocationReason.Malice) {
            slashed = m.amount;
            m.amount = 0;
            _totalSlashed += slashed;
        }
        ISBGT(_hubModule(ISubDAO.Module.SBGT)).revoke(account);
        emit ContributorRevoked(account, reason, slashed);
        if (slashed != 0) _FLAI.safeTransfer(_subDAO, slashed);
    }

    /// @inheritdoc ITrainingRounds
    function removeValidator(address account) external onlyTechnical {
        Member storage m = _validators[account];
        if (m.status != MemberStatus.Whitelisted) revert RoundsNotValidator(account);
        m.status = MemberStatus.Revoked;
        --_activeValidators; // ≥ 1 because `account` was whitelisted
        emit ValidatorRemoved(account);
    }

    /// @inheritdoc ITrainingRounds
    function setParams(Params calldata p) external onlyTechnical {
        if (
            p.tolerance > _ONE || p.slashBps > 10_000 || p.voteWindow == 0 || p.pointsPerRound == 0
                || p.pointsPerRound > MAX_POINTS_PER_ROUND
        ) revert RoundsInvalidParams(p);
        _params = p;
        emit ParamsSet(p);
    }

    /// @inheritdoc ITrainingRounds
    function setDecay(uint64 lambdaWad) external onlyTechnical {
        ISBGT(_hubModule(ISubDAO.Module.SBGT)).setDecay(lambdaWad);
    }

    /// @inheritdoc ITrainingRounds
    function withdrawCollateral() external nonReentrant returns (uint256 amount) {
        Member storage m = _contributors[msg.sender];
        amount = m.amount;
        if (amount == 0 || (m.status == MemberStatus.Whitelisted && !_retired())) {
            revert RoundsNothingToWithdraw(msg.sender);
        }
        m.amount = 0;
        if (m.status == MemberStatus.Applied) m.status = MemberStatus.None;
        emit CollateralWithdrawn(msg.sender, amount);
        _FLAI.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc ITrainingRounds
    function withdrawDeposit() external nonReentrant returns (uint256 amount) {
        Member storage m = _validators[msg.sender];
        amount = m.amount;
        if (amount == 0 || (m.status == MemberStatus.Whitelisted && !_retired())) {
            revert RoundsNothingToWithdraw(msg.sender);
        }
        m.amount = 0;
        if (m.status == MemberStatus.Applied) m.status = MemberStatus.None;
        emit DepositWithdrawn(msg.sender, amount);
        _FLAI.safeTransfer(msg.sender, amount);
    }

    // ---- rounds ----

    /// @inheritdoc ITrainingRounds
    function openRound(string calldata globalModelCid, uint64 commitDeadline)
        external
        onlyCoordinator
        returns (uint256 roundId)
    {
        uint32 last = _roundCount;
        if (last != 0) {
            RoundStatus s = _rounds[last].status;
            if (s == RoundStatus.Open || s == RoundStatus.Finalized) revert RoundsPreviousRoundOpen(last, s);
        }
        if (commitDeadline <= block.timestamp) revert RoundsInvalidDeadline(commitDeadline);
        roundId = last + 1;
        _roundCount = SafeCast.toUint32(roundId);
        _rounds[roundId] = Round({
            deadline: commitDeadline,
            status: RoundStatus.Open,
            scoreCount: 0,
            voteCount: 0,
            aggVote: 0,
            version: 0,
            phiSum: 0,
            autoAccept: false
        });
        emit RoundOpened(roundId, globalModelCid, commitDeadline);
        ISubDAO(_subDAO).onRoundOpened(); // reverts unless Training or Deployed (not Retired)
    }

    /// @inheritdoc ITrainingRounds
    function commitUpdate(uint256 roundId, string calldata updateCid) external {
        Round storage r = _rounds[roundId];
        if (r.status != RoundStatus.Open) revert RoundsWrongStatus(roundId, r.status);
        if (block.timestamp > r.deadline) revert RoundsCommitClosed(roundId, r.deadline);
        Member storage m = _contributors[msg.sender];
        if (m.status != MemberStatus.Whitelisted) revert RoundsNotWhitelisted(msg.sender);
        uint16 idx = m.index;
        uint256 bitmap = _committed[roundId];
        uint256 bit = 1 << idx;
        if (bitmap & bit != 0) revert RoundsAlreadyCommitted(roundId, msg.sender);
        _committed[roundId] = bitmap | bit;
        _updates[roundId][msg.sender] = keccak256(bytes(updateCid));
        emit UpdateCommitted(roundId, msg.sender, idx, updateCid);
    }

    /// @inheritdoc ITrainingRounds
    function submitScores(uint256 roundId, uint64[] calldata scores) external {
        Round storage r = _rounds[roundId];
        if (r.status != RoundStatus.Open) revert RoundsWrongStatus(roundId, r.status);
        if (block.timestamp <= r.deadline) revert RoundsScoringNotOpen(roundId, r.deadline);
        Member storage v = _validators[msg.sender];
        if (v.status != MemberStatus.Whitelisted) revert RoundsNotValidator(msg.sender);
        uint16 vIdx = v.index;
        uint256 scored = _scored[roundId];
        if (scored & (1 << vIdx) != 0) revert RoundsAlreadyScored(roundId, msg.sender);
        uint256 n = _popcount(_committed[roundId]);
        if (scores.length != n) revert RoundsScoreLengthMismatch(roundId, n, scores.length);
        mapping(uint256 => uint256) storage packed = _scores[roundId][vIdx];
        uint256 word = 0;
        for (uint256 i; i < n; ++i) {
            uint256 s = scores[i];
            if (s > _ONE) revert RoundsScoreOutOfRange(i, s);
            word |= s << ((i & 3) * 64);
            if (i & 3 == 3 || i == n - 1) {
                packed[i >> 2] = word;
                word = 0;
            }
        }
        _scored[roundId] = scored | (1 << vIdx);
        ++r.scoreCount; // ≤ 256 validators
        emit ScoresSubmitted(roundId, msg.sender, scores);
    }

    /// @inheritdoc ITrainingRounds
    function finalizeRound(uint256 roundId, string calldata aggregateCid, uint64 metric)
        external
        onlyCoordinator
        nonReentrant
    {
        Round storage r = _rounds[roundId];
        if (r.status != RoundStatus.Open) revert RoundsWrongStatus(roundId, r.status);
        if (block.timestamp <= r.deadline) revert RoundsScoringNotOpen(roundId, r.deadline);
        uint256 need = ISubDAO(_subDAO).minValidators();
        if (need == 0) need = 1;
        if (r.scoreCount < need) revert RoundsNotEnoughScores(roundId, r.scoreCount, need);

        _aggregateCid[roundId] = aggregateCid;
        _metric[roundId] = metric;
        Params memory p = params();
        (address[] memory subs, uint64[] memory phi, uint256 phiSum) = _scoreRound(roundId, p);
        r.phiSum = uint96(phiSum); // ≤ 256·1e18 < 2**96
        r.status = RoundStatus.Finalized;
        if (p.autoAccept) {
            // the decision rule is fixed here: a later setParams does not move a finalized round
            r.autoAccept = true;
            r.deadline = SafeCast.toUint64(block.timestamp + p.voteWindow);
        }
        emit RoundFinalized(roundId, aggregateCid, metric, subs, phi, phiSum);
    }

    /// @inheritdoc ITrainingRounds
    function voteAggregate(uint256 roundId, bool approve) external {
        Round storage r = _rounds[roundId];
        if (!r.autoAccept) revert RoundsNotAutoAccept(roundId);
        if (r.status != RoundStatus.Finalized) revert RoundsWrongStatus(roundId, r.status);
        // slither-disable-next-line timestamp (the vote window is a coarse, voteWindow-second deadline)
        if (block.timestamp > r.deadline) revert RoundsVotingClosed(roundId, r.deadline);
        Member storage v = _validators[msg.sender];
        uint256 bit = 1 << v.index;
        if (!_indexed(v.status) || _scored[roundId] & bit == 0) revert RoundsNotValidator(msg.sender);
        uint256 voted = _voted[roundId];
        if (voted & bit != 0) revert RoundsAlreadyVoted(roundId, msg.sender);
        _voted[roundId] = voted | bit;
        ++r.voteCount;
        int16 agg = r.aggVote + (approve ? int16(1) : int16(-1)); // |agg| ≤ 256
        r.aggVote = agg;
        emit AggregateVoted(roundId, msg.sender, approve, agg);
    }

    /// @inheritdoc ITrainingRounds
    function settleRound(uint256 roundId) external {
        Round storage r = _rounds[roundId];
        if (!r.autoAccept) revert RoundsNotAutoAccept(roundId);
        if (r.status != RoundStatus.Finalized) revert RoundsWrongStatus(roundId, r.status);
        if (r.voteCount < r.scoreCount && block.timestamp <= r.deadline) revert RoundsVotingOpen(roundId, r.deadline);
        if (r.aggVote >= 0) _accept(roundId, r);
        else _reject(roundId, r);
    }

    /// @inheritdoc ITrainingRounds
    function acceptRound(uint256 roundId) external onlyTechnical {
        Round storage r = _rounds[roundId];
        if (r.status != RoundStatus.Finalized) revert RoundsWrongStatus(roundId, r.status);
        _accept(roundId, r);
    }

    /// @inheritdoc ITrainingRounds
    function rejectRound(uint256 roundId) external onlyTechnical {
        Round storage r = _rounds[roundId];
        if (r.status != RoundStatus.Finalized && !(r.status == RoundStatus.Open && block.timestamp > r.deadline)) {
            revert RoundsWrongStatus(roundId, r.status);
        }
        _reject(roundId, r);
    }

    // ---- views ----

    /// @inheritdoc ITrainingRounds
    function subDAO() external view returns (address) {
        return _subDAO;
    }

    /// @inheritdoc ITrainingRounds
    function flaiToken() external view returns (address) {
        return address(_FLAI);
    }

    /// @inheritdoc ITrainingRounds
    function params() public view returns (Params memory p) {
        p = _params;
        if (p.pointsPerRound == 0) {
            p = Params({
                tolerance: _DEFAULT_TOLERANCE,
                slashBps: _DEFAULT_SLASH_BPS,
                voteWindow: _DEFAULT_VOTE_WINDOW,
                autoAccept: false,
                pointsPerRound: _DEFAULT_POINTS
            });
        }
    }

    /// @inheritdoc ITrainingRounds
    function roundCount() external view returns (uint256) {
        return _roundCount;
    }

    /// @inheritdoc ITrainingRounds
    function round(uint256 roundId) external view returns (Round memory) {
        return _rounds[roundId];
    }

    /// @inheritdoc ITrainingRounds
    function contributor(address account)
        external
        view
        returns (MemberStatus status, uint16 memberIndex, uint256 collateral, bytes32 attestationDigest)
    {
        Member memory m = _contributors[account];
        return (m.status, m.index, m.amount, _attestations[account]);
    }

    /// @inheritdoc ITrainingRounds
    function validator(address account) external view returns (MemberStatus status, uint16 validatorIndex, uint256 deposit) {
        Member memory m = _validators[account];
        return (m.status, m.index, m.amount);
    }

    /// @inheritdoc ITrainingRounds
    function contributorCount() external view returns (uint16) {
        return _contributorCount;
    }

    /// @inheritdoc ITrainingRounds
    function validatorCount() external view returns (uint16) {
        return _validatorCount;
    }

    /// @inheritdoc ITrainingRounds
    function activeValidators() external view returns (uint256) {
        return _activeValidators;
    }

    /// @inheritdoc ITrainingRounds
    function totalSlashed() external view returns (uint256) {
        return _totalSlashed;
    }

    /// @inheritdoc ITrainingRounds
    function updateDigest(uint256 roundId, address contributor_) external view returns (bytes32) {
        return _updates[roundId][contributor_];
    }

    /// @inheritdoc ITrainingRounds
    function submitters(uint256 roundId) public view returns (address[] memory accounts) {
        uint256 bitmap = _committed[roundId];
        accounts = new address[](_popcount(bitmap));
        uint256 k = 0;
        for (uint256 i; bitmap != 0; ++i) {
            if (bitmap & 1 != 0) accounts[k++] = _contributorAt[uint16(i)];
            bitmap >>= 1;
        }
    }

    /// @inheritdoc ITrainingRounds
    function scoresOf(uint256 roundId, address validator_) external view returns (uint64[] memory) {
        Member memory v = _validators[validator_];
        // slither-disable-next-line incorrect-equality (a bit test on a membership bitmap)
        if (!_indexed(v.status) || _scored[roundId] & (1 << v.index) == 0) return new uint64[](0);
        return _unpack(_scores[roundId][v.index], _popcount(_committed[roundId]));
    }

    /// @inheritdoc ITrainingRounds
    function consensus(uint256 roundId)
        public
        view
        returns (address[] memory accounts, uint64[] memory phi, uint256 phiSum)
    {
        Round memory r = _rounds[roundId];
        if (uint8(r.status) < uint8(RoundStatus.Finalized)) return (accounts, phi, 0); // None or Open
        accounts = submitters(roundId);
        phi = _unpack(_consensus[roundId], accounts.length);
        phiSum = r.phiSum;
    }

    /// @inheritdoc ITrainingRounds
    function aggregate(uint256 roundId) external view returns (string memory cid, uint64 metric) {
        return (_aggregateCid[roundId], _metric[roundId]);
    }

    /// @inheritdoc ITrainingRounds
    function versionScores(uint32 version)
        external
        view
        returns (address[] memory accounts, uint64[] memory phi, uint256 phiSum)
    {
        uint256 roundId = _versionRound[version];
        if (roundId == 0) return (accounts, phi, 0);
        return consensus(roundId);
    }

    /// @inheritdoc ITrainingRounds
    function versionScoreOf(uint32 version, address account) external view returns (uint256) {
        uint256 roundId = _versionRound[version];
        if (roundId == 0) return 0;
        uint256 bitmap = _committed[roundId];
        Member memory m = _contributors[account];
        // slither-disable-next-line incorrect-equality (a bit test on a membership bitmap)
        if (!_indexed(m.status) || bitmap & (1 << m.index) == 0) return 0;
        uint256 pos = _popcount(bitmap & ((1 << m.index) - 1));
        return uint64(_consensus[roundId][pos >> 2] >> ((pos & 3) * 64));
    }

    /// @inheritdoc ITrainingRounds
    function versionShareOf(uint32 version, address account)
        external
        view
        returns (uint256 phi, uint16 memberIndex, bool superseded)
    {
        uint256 roundId = _versionRound[version];
        if (roundId == 0) return (0, 0, false);
        superseded = _versionRound[version + 1] != 0;
        Member memory m = _contributors[account];
        memberIndex = m.index;
        uint256 bitmap = _committed[roundId];
        // slither-disable-next-line incorrect-equality (a bit test on a membership bitmap)
        if (!_indexed(m.status) || bitmap & (1 << m.index) == 0) return (0, memberIndex, superseded);
        uint256 pos = _popcount(bitmap & ((1 << m.index) - 1));
        phi = uint64(_consensus[roundId][pos >> 2] >> ((pos & 3) * 64));
    }

    /// @inheritdoc ITrainingRounds
    function versionRound(uint32 version) external view returns (uint256) {
        return _versionRound[version];
    }

    /// @inheritdoc ITrainingRounds
    function currentModelCid() external view returns (string memory) {
        // slither-disable-next-line unused-return (the inference epoch is not needed here)
        (uint32 version,) = ISubDAO(_subDAO).modelVersion();
        return _aggregateCid[_versionRound[version]];
    }

    // ---- internal ----

    function _accept(uint256 roundId, Round storage r) private {
        r.status = RoundStatus.Accepted;
        ISubDAO hub = ISubDAO(_subDAO);
        // slither-disable-next-line unused-return (the inference epoch is not needed here)
        (uint32 current,) = hub.modelVersion();
        uint32 version = current + 1; // the hub numbers the accepted version the same way
        r.version = version;
        _versionRound[version] = roundId;
        // slither-disable-next-line unused-return (returns `version`, computed above)
        hub.onVersionAccepted(roundId);
        (address[] memory accounts, uint64[] memory phi,) = consensus(roundId);
        uint256 m = params().pointsPerRound;
        uint256[] memory points = new uint256[](accounts.length);
        for (uint256 i; i < accounts.length; ++i) {
            points[i] = (uint256(phi[i]) * m) / _ONE; // ≤ 1e18·2**80, no overflow
        }
        ISBGT(_hubModule(ISubDAO.Module.SBGT)).applyRound(accounts, points);
        emit RoundAccepted(roundId, version, r.aggVote);
    }

    function _reject(uint256 roundId, Round storage r) private {
        r.status = RoundStatus.Rejected;
        ISubDAO hub = ISubDAO(_subDAO);
        hub.onVersionRejected();
        // slither-disable-next-line unused-return (the inference epoch is not needed here)
        (uint32 kept,) = hub.modelVersion();
        emit RoundRejected(roundId, kept, r.aggVote);
    }

    function _whitelistContributor(ISBGT sbgt, address account, uint256 points) private {
        Member storage m = _contributors[account];
        if (m.status != MemberStatus.Applied) revert RoundsNotApplied(account, m.status);
        uint16 idx = _contributorCount;
        if (idx >= MAX_MEMBERS) revert RoundsMemberLimit(MAX_MEMBERS);
        m.status = MemberStatus.Whitelisted;
        m.index = idx;
        _contributorAt[idx] = account;
        _contributorCount = idx + 1;
        emit ContributorWhitelisted(account, idx, points);
        // slither-disable-next-line unused-return (the token id is the account's address)
        sbgt.mint(account, points);
    }

    function _whitelistValidator(address account) private {
        Member storage m = _validators[account];
        if (m.status != MemberStatus.Applied) revert RoundsNotApplied(account, m.status);
        uint16 idx = _validatorCount;
        if (idx >= MAX_MEMBERS) revert RoundsMemberLimit(MAX_MEMBERS);
        m.status = MemberStatus.Whitelisted;
        m.index = idx;
        _validatorAt[idx] = account;
        _validatorCount = idx + 1;
        ++_activeValidators;
        emit ValidatorWhitelisted(account, idx, m.amount);
    }

    /// @dev Consensus φ (stored) and slashing of deviating validators.
    function _scoreRound(uint256 roundId, Params memory p)
        private
        returns (address[] memory subs, uint64[] memory phi, uint256 phiSum)
    {
        uint16[] memory vIdx;
        uint64[][] memory s;
        (subs, vIdx, s) = _loadScores(roundId);
        uint256[] memory w = new uint256[](vIdx.length);
        for (uint256 v; v < vIdx.length; ++v) {
            w[v] = _validators[_validatorAt[vIdx[v]]].amount;
        }
        (phi, phiSum) = _computeConsensus(roundId, s, w, subs.length);
        if (subs.length != 0) _slashDeviators(roundId, s, phi, vIdx, w, p);
    }

    function _computeConsensus(uint256 roundId, uint64[][] memory s, uint256[] memory w, uint256 n)
        private
        returns (uint64[] memory phi, uint256 phiSum)
    {
        phi = new uint64[](n);
        uint256 word = 0;
        for (uint256 i; i < n; ++i) {
            phi[i] = _weightedMedian(s, w, i);
            phiSum += phi[i];
            word |= uint256(phi[i]) << ((i & 3) * 64);
            if (i & 3 == 3 || i == n - 1) {
                _consensus[roundId][i >> 2] = word;
                word = 0;
            }
        }
    }

    function _loadScores(uint256 roundId)
        private
        view
        returns (address[] memory subs, uint16[] memory vIdx, uint64[][] memory s)
    {
        subs = submitters(roundId);
        uint256 scored = _scored[roundId];
        uint256 nv = _popcount(scored);
        vIdx = new uint16[](nv);
        s = new uint64[][](nv);
        uint256 k = 0;
        for (uint256 i; scored != 0; ++i) {
            if (scored & 1 != 0) {
                vIdx[k] = uint16(i);
                s[k] = _unpack(_scores[roundId][uint16(i)], subs.length);
                ++k;
            }
            scored >>= 1;
        }
    }

    /// @dev Lower stake-weighted median of column `i`: the smallest score x such that the
    /// validators scoring ≤ x hold at least half the total weight (2·cum ≥ total).
    function _weightedMedian(uint64[][] memory s, uint256[] memory w, uint256 i) private pure returns (uint64) {
        uint256 nv = s.length;
        uint64[] memory xs = new uint64[](nv);
        uint256[] memory ws = new uint256[](nv);
        uint256 total = 0;
        for (uint256 v; v < nv; ++v) {
            uint64 x = s[v][i];
            uint256 wt = w[v];
            total += wt;
            uint256 j = v;
            while (j > 0 && xs[j - 1] > x) {
                xs[j] = xs[j - 1];
                ws[j] = ws[j - 1];
                --j;
            }
            xs[j] = x;
            ws[j] = wt;
        }
        uint256 cum = 0;
        for (uint256 v; v < nv; ++v) {
            cum += ws[v];
            if (2 * cum >= total) return xs[v];
        }
        return xs[nv - 1];
    }

    function _slashDeviators(
        uint256 roundId,
        uint64[][] memory s,
        uint64[] memory phi,
        uint16[] memory vIdx,
        uint256[] memory w,
        Params memory p
    ) private {
        uint256 n = phi.length;
        uint256 slashedTotal = 0;
        for (uint256 v; v < vIdx.length; ++v) {
            uint256 dev = 0;
            for (uint256 i; i < n; ++i) {
                uint64 a = s[v][i];
                uint64 b = phi[i];
                dev += a > b ? a - b : b - a;
            }
            dev /= n; // mean absolute deviation, 1e18 fixed point
            if (dev <= p.tolerance) continue;
            address account = _validatorAt[vIdx[v]];
            uint256 amount = (w[v] * p.slashBps) / 10_000;
            _validators[account].amount = uint96(w[v] - amount); // amount ≤ w[v] < 2**96
            slashedTotal += amount;
            emit ValidatorSlashed(roundId, account, dev, amount);
        }
        if (slashedTotal != 0) {
            _totalSlashed += slashedTotal;
            _FLAI.safeTransfer(_subDAO, slashedTotal);
        }
    }

    function _unpack(mapping(uint256 => uint256) storage packed, uint256 n) private view returns (uint64[] memory out) {
        out = new uint64[](n);
        uint256 word = 0;
        for (uint256 i; i < n; ++i) {
            if (i & 3 == 0) word = packed[i >> 2];
            out[i] = uint64(word >> ((i & 3) * 64));
        }
    }

    function _pull(uint256 amount) private returns (uint96) {
        if (amount == 0) return 0;
        uint256 before = _FLAI.balanceOf(address(this));
        _FLAI.safeTransferFrom(msg.sender, address(this), amount);
        return SafeCast.toUint96(_FLAI.balanceOf(address(this)) - before);
    }

    function _retired() private view returns (bool) {
        return ISubDAO(_subDAO).state() == ISubDAO.State.Retired;
    }

    function _hubModule(ISubDAO.Module m) private view returns (address) {
        return ISubDAO(_subDAO).module(m);
    }

    function _checkCaller(address expected) private view {
        if (msg.sender != expected) revert RoundsUnauthorized(msg.sender);
    }

    /// @dev Only whitelisted (or later revoked) members own their index; Applied/None read index 0.
    function _indexed(MemberStatus status) private pure returns (bool) {
        return uint8(status) >= uint8(MemberStatus.Whitelisted); // Whitelisted or Revoked
    }

    function _popcount(uint256 x) private pure returns (uint256 n) {
        unchecked {
            // each iteration clears the lowest set bit: at most 256 iterations, no overflow
            while (x != 0) {
                x &= x - 1;
                ++n;
            }
        }
    }
}
