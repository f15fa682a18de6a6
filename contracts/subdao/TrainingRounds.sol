// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ITrainingRounds} from "../interfaces/ITrainingRounds.sol";
import {ISubDAO} from "../interfaces/ISubDAO.sol";
import {ISBGT} from "../interfaces/ISBGT.sol";
import {PackedScores} from "../libraries/PackedScores.sol";
import {StakeWeightedConsensus} from "../libraries/StakeWeightedConsensus.sol";
import {TrainingOnboarding} from "./TrainingOnboarding.sol";

/// @title Training rounds of one SubDAO
/// @notice See {ITrainingRounds}. Onboarding lives in {TrainingOnboarding}; this contract adds
/// the round state machine, with the consensus and slashing math in {StakeWeightedConsensus}
/// and the packed score vectors in {PackedScores}. The FLAI token (deposits, collateral) is an
/// immutable of the implementation, shared by every clone at no storage cost.
contract TrainingRounds is TrainingOnboarding {
    using SafeERC20 for IERC20;
    using PackedScores for mapping(uint256 => uint256);

    uint256 public constant MAX_POINTS_PER_ROUND = 2 ** 80;
    uint64 private constant _ONE = 1e18;
    uint64 private constant _DEFAULT_TOLERANCE = 0.1e18;
    uint16 private constant _DEFAULT_SLASH_BPS = 1000;
    uint32 private constant _DEFAULT_VOTE_WINDOW = 1 days;
    uint128 private constant _DEFAULT_POINTS = 100e18;

    /// @dev One slot; pointsPerRound == 0 means "defaults" (saves a slot at creation).
    Params private _params;
    mapping(uint256 roundId => Round) private _rounds;
    mapping(uint256 roundId => uint256 bitmap) private _committed; // by member index
    mapping(uint256 roundId => uint256 bitmap) private _scored; // by validator index
    mapping(uint256 roundId => uint256 bitmap) private _voted; // by validator index
    mapping(uint256 roundId => mapping(address contributor => bytes32 digest)) private _updates;
    /// @dev Each validator's score vector, packed (PackedScores).
    mapping(uint256 roundId => mapping(uint16 validatorIndex => mapping(uint256 word => uint256))) private _scores;
    mapping(uint256 roundId => mapping(uint256 word => uint256)) private _consensus;
    mapping(uint256 roundId => string cid) private _aggregateCid;
    mapping(uint256 roundId => uint64 metric) private _metric;
    mapping(uint32 version => uint256 roundId) private _versionRound;

    modifier onlyCoordinator() {
        _checkCaller(ISubDAO(_subDAO).coordinator());
        _;
    }

    constructor(IERC20 flai) TrainingOnboarding(flai) {
        _disableInitializers();
    }

    /// @inheritdoc ITrainingRounds
    function initialize(address subDAO_) external initializer {
        _subDAO = subDAO_;
    }

    /// @inheritdoc ITrainingRounds
    function setParams(Params calldata p) external onlyTechnical {
        if (
            p.tolerance > _ONE || p.slashBps > StakeWeightedConsensus.BPS || p.voteWindow == 0 || p.pointsPerRound == 0
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
        _checkStatus(roundId, r.status, _bit(RoundStatus.Open));
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
        _checkStatus(roundId, r.status, _bit(RoundStatus.Open));
        if (block.timestamp <= r.deadline) revert RoundsScoringNotOpen(roundId, r.deadline);
        Member storage v = _validators[msg.sender];
        if (v.status != MemberStatus.Whitelisted) revert RoundsNotValidator(msg.sender);
        uint16 vIdx = v.index;
        uint256 scored = _scored[roundId];
        if (scored & (1 << vIdx) != 0) revert RoundsAlreadyScored(roundId, msg.sender);
        uint256 n = _popcount(_committed[roundId]);
        if (scores.length != n) revert RoundsScoreLengthMismatch(roundId, n, scores.length);
        uint256 bad = _scores[roundId][vIdx].storeBounded(scores, _ONE);
        if (bad != n) revert RoundsScoreOutOfRange(bad, scores[bad]);
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
        _checkStatus(roundId, r.status, _bit(RoundStatus.Open));
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
        _checkStatus(roundId, r.status, _bit(RoundStatus.Finalized));
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
        _checkStatus(roundId, r.status, _bit(RoundStatus.Finalized));
        if (r.voteCount < r.scoreCount && block.timestamp <= r.deadline) revert RoundsVotingOpen(roundId, r.deadline);
        if (r.aggVote >= 0) _accept(roundId, r);
        else _reject(roundId, r);
    }

    /// @inheritdoc ITrainingRounds
    function acceptRound(uint256 roundId) external onlyTechnical {
        Round storage r = _rounds[roundId];
        _checkStatus(roundId, r.status, _bit(RoundStatus.Finalized));
        _accept(roundId, r);
    }

    /// @inheritdoc ITrainingRounds
    function rejectRound(uint256 roundId) external onlyTechnical {
        Round storage r = _rounds[roundId];
        // a finalized round, or one whose commit deadline passed without finalization
        bytes32 allowed = _bit(RoundStatus.Finalized);
        if (block.timestamp > r.deadline) allowed |= _bit(RoundStatus.Open);
        _checkStatus(roundId, r.status, allowed);
        _reject(roundId, r);
    }

    // ---- views ----

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
        return _scores[roundId][v.index].load(_popcount(_committed[roundId]));
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
        phi = _consensus[roundId].load(accounts.length);
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
        return _consensus[roundId].at(_popcount(bitmap & ((1 << m.index) - 1)));
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
        phi = _consensus[roundId].at(_popcount(bitmap & ((1 << m.index) - 1)));
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
        phi = new uint64[](subs.length);
        for (uint256 i; i < subs.length; ++i) {
            phi[i] = StakeWeightedConsensus.lowerWeightedMedian(s, w, i);
            phiSum += phi[i];
        }
        _consensus[roundId].store(phi);
        if (subs.length != 0) _slashDeviators(roundId, s, phi, vIdx, w, p);
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
                s[k] = _scores[roundId][uint16(i)].load(subs.length);
                ++k;
            }
            scored >>= 1;
        }
    }

    function _slashDeviators(
        uint256 roundId,
        uint64[][] memory s,
        uint64[] memory phi,
        uint16[] memory vIdx,
        uint256[] memory w,
        Params memory p
    ) private {
        uint256 slashedTotal = 0;
        for (uint256 v; v < vIdx.length; ++v) {
            uint256 dev = StakeWeightedConsensus.meanAbsDeviation(s[v], phi);
            if (dev <= p.tolerance) continue;
            address account = _validatorAt[vIdx[v]];
            uint256 amount = StakeWeightedConsensus.slashAmount(w[v], p.slashBps);
            _validators[account].amount = uint96(w[v] - amount); // amount ≤ w[v] < 2**96
            slashedTotal += amount;
            emit ValidatorSlashed(roundId, account, dev, amount);
        }
        if (slashedTotal != 0) {
            _totalSlashed += slashedTotal;
            _FLAI.safeTransfer(_subDAO, slashedTotal);
        }
    }

    /// @dev The one status check of the round state machine: reverts with {RoundsWrongStatus}
    /// (current status and the allowed ones) unless `current`'s bit is in `allowed`.
    function _checkStatus(uint256 roundId, RoundStatus current, bytes32 allowed) private pure {
        if (_bit(current) & allowed == 0) revert RoundsWrongStatus(roundId, current, allowed);
    }

    function _bit(RoundStatus s) private pure returns (bytes32) {
        return bytes32(1 << uint8(s));
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
