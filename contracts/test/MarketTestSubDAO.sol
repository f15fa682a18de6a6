// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ITrainingRounds} from "../interfaces/ITrainingRounds.sol";
import {IRevenueSplitter} from "../interfaces/IRevenueSplitter.sol";

/// @title Scriptable SubDAO + TrainingRounds views for the market-layer unit tests
/// @notice Test harness only: answers the exact views the marketplace, splitter and bounty
/// pool read from a real SubDAO suite (the `ISubDAO` / `ITrainingRounds` ABI: enums travel as
/// uint8), with setters so a test can drive lifecycle state, model versions/epochs and
/// consensus φ without running governance. The real suite is exercised by
/// tests/unit/Marketplace/test_real_suite.py and the integration tests.
contract MarketTestSubDAO {
    uint8 private _state;
    uint32 private _version;
    uint32 private _epoch;
    address private _requester;
    address private _paymentToken;
    mapping(uint8 module_ => address) private _modules;
    mapping(uint256 roundId => ITrainingRounds.Round) private _rounds;
    mapping(uint256 roundId => address[]) private _submitters;
    mapping(uint256 roundId => uint64[]) private _phi;
    mapping(uint32 version => uint256 roundId) private _versionRound;
    mapping(uint32 version => mapping(address account => uint256)) private _versionScore;
    /// @dev Member index + 1, assigned on an account's first appearance in a round.
    mapping(address account => uint16) private _memberIndexPlusOne;
    uint16 private _members;

    constructor(address requester_, address paymentToken_) {
        _requester = requester_;
        _paymentToken = paymentToken_;
        _modules[4] = address(this); // TrainingRounds
    }

    function setState(uint8 state_) external {
        _state = state_;
    }

    /// @notice Like SubDAO.retire: state Retired and the splitter (module 5) told.
    function retire() external {
        _state = 4;
        address splitter = _modules[5];
        if (splitter != address(0)) IRevenueSplitter(splitter).onSubDAORetired();
    }

    function setModule(uint8 module_, address moduleAddress) external {
        _modules[module_] = moduleAddress;
    }

    /// @notice Records round `roundId` as accepted into the next version (new inference epoch)
    /// with consensus `phi` for `accounts`, like TrainingRounds.finalizeRound + acceptRound.
    function acceptRound(uint256 roundId, address[] calldata accounts, uint64[] calldata phi) external {
        uint256 phiSum;
        for (uint256 i; i < phi.length; ++i) {
            phiSum += phi[i];
        }
        _version += 1;
        _epoch += 1;
        _rounds[roundId] = ITrainingRounds.Round({
            deadline: uint64(block.timestamp),
            status: ITrainingRounds.RoundStatus.Accepted,
            scoreCount: 1,
            voteCount: 0,
            aggVote: 0,
            version: _version,
            phiSum: uint96(phiSum),
            autoAccept: false
        });
        _submitters[roundId] = accounts;
        _phi[roundId] = phi;
        _versionRound[_version] = roundId;
        for (uint256 i; i < accounts.length; ++i) {
            _versionScore[_version][accounts[i]] = phi[i];
            if (_memberIndexPlusOne[accounts[i]] == 0) _memberIndexPlusOne[accounts[i]] = ++_members;
        }
    }

    /// @notice Records round `roundId` as finished but rejected (status 4).
    function rejectRound(uint256 roundId) external {
        _rounds[roundId].status = ITrainingRounds.RoundStatus.Rejected;
    }

    function state() external view returns (uint8) {
        return _state;
    }

    function module(uint8 module_) external view returns (address) {
        return _modules[module_];
    }

    function requester() external view returns (address) {
        return _requester;
    }

    function paymentToken() external view returns (address) {
        return _paymentToken;
    }

    function modelVersion() external view returns (uint32 version, uint32 inferenceEpoch) {
        return (_version, _epoch);
    }

    function round(uint256 roundId) external view returns (ITrainingRounds.Round memory) {
        return _rounds[roundId];
    }

    function submitters(uint256 roundId) external view returns (address[] memory) {
        return _submitters[roundId];
    }

    function versionScores(uint32 version)
        external
        view
        returns (address[] memory accounts, uint64[] memory phi, uint256 phiSum)
    {
        uint256 roundId = _versionRound[version];
        return (_submitters[roundId], _phi[roundId], _rounds[roundId].phiSum);
    }

    function versionScoreOf(uint32 version, address account) external view returns (uint256) {
        return _versionScore[version][account];
    }

    function versionShareOf(uint32 version, address account)
        external
        view
        returns (uint256 phi, uint16 memberIndex, bool superseded)
    {
        uint16 plusOne = _memberIndexPlusOne[account];
        return (
            _versionScore[version][account],
            plusOne == 0 ? 0 : plusOne - 1,
            _versionRound[version + 1] != 0
        );
    }

    function versionRound(uint32 version) external view returns (uint256) {
        return _versionRound[version];
    }
}
