// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ISubDAOFactory, RFMParams} from "../interfaces/ISubDAOFactory.sol";
import {ISubDAOSuiteFactory} from "../interfaces/ISubDAOSuiteFactory.sol";
import {ISubDAO} from "../interfaces/ISubDAO.sol";
import {ISBGT} from "../interfaces/ISBGT.sol";
import {ISDT} from "../interfaces/ISDT.sol";
import {ISubDAOChamber} from "../interfaces/ISubDAOChamber.sol";
import {ITrainingRounds} from "../interfaces/ITrainingRounds.sol";
import {IRevenueSplitter} from "../interfaces/IRevenueSplitter.sol";
import {IPaymentTokenPolicy} from "../interfaces/IPaymentTokenPolicy.sol";

/// @title SubDAO factory
/// @notice See {ISubDAOSuiteFactory}: seven EIP-1167 clones per suite, initialized and wired in
/// one transaction. New SBGTs start with λ = DEFAULT_LAMBDA (the technical chamber may change it).
contract SubDAOFactory is ISubDAOSuiteFactory {
    uint64 public constant DEFAULT_LAMBDA = 0.9e18;

    address private immutable _REGISTRY;
    address private immutable _SUBDAO_IMPL;
    address private immutable _SBGT_IMPL;
    address private immutable _SDT_IMPL;
    address private immutable _CHAMBER_IMPL;
    address private immutable _ROUNDS_IMPL;
    address private immutable _SPLITTER_IMPL;
    address private immutable _PLATFORM_TREASURY;
    address private immutable _PLATFORM_ADMIN;
    uint16 private immutable _PLATFORM_BPS;
    uint16 private immutable _TREASURY_BPS;
    uint16 private immutable _SBGT_BPS;
    uint16 private immutable _MIN_TREASURY_BPS;
    uint16 private immutable _MAX_TREASURY_BPS;

    mapping(uint256 rfmId => address subDAO) private _byRfm;
    mapping(bytes32 domain => address[] subDAOs) private _byDomain;
    mapping(bytes32 modelClass => address[] subDAOs) private _byClass;
    mapping(address account => bool) private _isSubDAO;
    uint256 private _count;

    /// @param registry_ The RFM registry (the only caller of createSubDAO).
    /// @param impls Implementation addresses (`subDAO`, `sbgt`, `sdt`, `technicalChamber` = the
    /// chamber implementation used for both chambers, `financialChamber` ignored, `trainingRounds`,
    /// `revenueSplitter`).
    /// @param revenue Platform treasury, platform admin and initial shares of every splitter
    /// (checked by the splitter implementation: bad shares revert with SplitterInvalidShares).
    constructor(address registry_, Suite memory impls, RevenueDefaults memory revenue) {
        if (
            registry_ == address(0) || impls.subDAO == address(0) || impls.sbgt == address(0)
                || impls.sdt == address(0) || impls.technicalChamber == address(0) || impls.trainingRounds == address(0)
                || impls.revenueSplitter == address(0) || revenue.platformTreasury == address(0)
        ) revert FactoryZeroAddress();
        IRevenueSplitter(impls.revenueSplitter).checkShares(revenue.shares);
        _REGISTRY = registry_;
        _SUBDAO_IMPL = impls.subDAO;
        _SBGT_IMPL = impls.sbgt;
        _SDT_IMPL = impls.sdt;
        _CHAMBER_IMPL = impls.technicalChamber;
        _ROUNDS_IMPL = impls.trainingRounds;
        _SPLITTER_IMPL = impls.revenueSplitter;
        _PLATFORM_TREASURY = revenue.platformTreasury;
        _PLATFORM_ADMIN = revenue.platformAdmin;
        _PLATFORM_BPS = revenue.shares.platformBps;
        _TREASURY_BPS = revenue.shares.treasuryBps;
        _SBGT_BPS = revenue.shares.sbgtBps;
        _MIN_TREASURY_BPS = revenue.shares.minTreasuryBps;
        _MAX_TREASURY_BPS = revenue.shares.maxTreasuryBps;
    }

    /// @inheritdoc ISubDAOFactory
    function createSubDAO(uint256 rfmId, address requester, RFMParams calldata params)
        external
        returns (address subDAO)
    {
        if (msg.sender != _REGISTRY) revert FactoryUnauthorized(msg.sender);
        address existing = _byRfm[rfmId];
        if (existing != address(0)) revert FactoryRFMAlreadyRegistered(rfmId, existing);
        subDAO = _deploy(rfmId, requester, params, address(0), 0);
    }

    /// @inheritdoc ISubDAOSuiteFactory
    function forkSubDAO(RFMParams calldata params, uint32 parentModelVersion) external returns (address child) {
        if (!_isSubDAO[msg.sender]) revert FactoryUnauthorized(msg.sender);
        ISubDAO parent = ISubDAO(msg.sender);
        // the parent's token was allowed when the parent was created; another one is checked now
        address token = params.paymentToken;
        if (token != parent.paymentToken() && !IPaymentTokenPolicy(_REGISTRY).isPaymentTokenAllowed(token)) {
            revert FactoryPaymentTokenNotAllowed(token);
        }
        child = _deploy(parent.rfmId(), parent.requester(), params, msg.sender, parentModelVersion);
    }

    /// @inheritdoc ISubDAOSuiteFactory
    function registry() external view returns (address) {
        return _REGISTRY;
    }

    /// @inheritdoc ISubDAOSuiteFactory
    function implementations() external view returns (Suite memory) {
        return Suite(_SUBDAO_IMPL, _SBGT_IMPL, _SDT_IMPL, _CHAMBER_IMPL, _CHAMBER_IMPL, _ROUNDS_IMPL, _SPLITTER_IMPL);
    }

    /// @inheritdoc ISubDAOSuiteFactory
    function revenueDefaults() external view returns (RevenueDefaults memory) {
        return RevenueDefaults(_PLATFORM_TREASURY, _PLATFORM_ADMIN, _shares());
    }

    /// @inheritdoc ISubDAOSuiteFactory
    function subDAOOf(uint256 rfmId) external view returns (address) {
        return _byRfm[rfmId];
    }

    /// @inheritdoc ISubDAOSuiteFactory
    function subDAOsByDomain(bytes32 domain) external view returns (address[] memory) {
        return _byDomain[domain];
    }

    /// @inheritdoc ISubDAOSuiteFactory
    function subDAOsByModelClass(bytes32 modelClass) external view returns (address[] memory) {
        return _byClass[modelClass];
    }

    /// @inheritdoc ISubDAOSuiteFactory
    function isSubDAO(address account) external view returns (bool) {
        return _isSubDAO[account];
    }

    /// @inheritdoc ISubDAOSuiteFactory
    function subDAOCount() external view returns (uint256) {
        return _count;
    }

    function _deploy(uint256 rfmId, address requester, RFMParams calldata p, address parent, uint32 parentVersion)
        private
        returns (address)
    {
        _validate(requester, p);
        // 1. clone, 2. register (all state writes), 3. initialize (calls into the new clones)
        Suite memory s = Suite({
            subDAO: Clones.clone(_SUBDAO_IMPL),
            sbgt: Clones.clone(_SBGT_IMPL),
            sdt: Clones.clone(_SDT_IMPL),
            technicalChamber: Clones.clone(_CHAMBER_IMPL),
            financialChamber: Clones.clone(_CHAMBER_IMPL),
            trainingRounds: Clones.clone(_ROUNDS_IMPL),
            revenueSplitter: Clones.clone(_SPLITTER_IMPL)
        });
        if (parent == address(0)) _byRfm[rfmId] = s.subDAO;
        _byDomain[p.domain].push(s.subDAO);
        _byClass[p.modelClass].push(s.subDAO);
        _isSubDAO[s.subDAO] = true;
        ++_count;
        ISBGT(s.sbgt).initialize(s.trainingRounds, DEFAULT_LAMBDA);
        ISDT(s.sdt).initialize(s.subDAO, p.sdtCap);
        ISubDAOChamber(s.technicalChamber).initialize(
            s.subDAO, s.sbgt, p.quorumBps, ISubDAOChamber.ChamberKind.Technical
        );
        ISubDAOChamber(s.financialChamber).initialize(
            s.subDAO, s.sdt, p.quorumBps, ISubDAOChamber.ChamberKind.Financial
        );
        ITrainingRounds(s.trainingRounds).initialize(s.subDAO);
        ISubDAO(s.subDAO).initialize(
            ISubDAO.InitArgs({
                rfmId: rfmId,
                requester: requester,
                paymentToken: p.paymentToken,
                crowdfundDeadline: p.crowdfundDeadline,
                minValidators: p.minValidators,
                crowdfundGoal: SafeCast.toUint128(p.crowdfundGoal),
                sdtPerPaymentUnit: p.sdtPerPaymentUnit,
                sbgt: s.sbgt,
                sdt: s.sdt,
                technicalChamber: s.technicalChamber,
                financialChamber: s.financialChamber,
                trainingRounds: s.trainingRounds,
                revenueSplitter: s.revenueSplitter,
                parent: parent,
                parentModelVersion: parentVersion
            })
        );
        // after the SubDAO: the splitter reads the SDT and TrainingRounds modules from it
        IRevenueSplitter(s.revenueSplitter).initialize(
            s.subDAO, p.paymentToken, _PLATFORM_TREASURY, _PLATFORM_ADMIN, _shares(), p.epochLength
        );
        emit SubDAOCreated(
            rfmId, s.subDAO, requester, p.domain, p.modelClass, p.specCid, s, parent, parentVersion, p.pricePerInference
        );
        return s.subDAO;
    }

    function _shares() private view returns (IRevenueSplitter.Shares memory) {
        return IRevenueSplitter.Shares({
            platformBps: _PLATFORM_BPS,
            treasuryBps: _TREASURY_BPS,
            sbgtBps: _SBGT_BPS,
            minTreasuryBps: _MIN_TREASURY_BPS,
            maxTreasuryBps: _MAX_TREASURY_BPS
        });
    }

    function _validate(address requester, RFMParams calldata p) private view {
        if (requester == address(0) || p.paymentToken == address(0)) revert FactoryZeroAddress();
        if (p.crowdfundDeadline <= block.timestamp) revert FactoryInvalidDeadline(p.crowdfundDeadline, block.timestamp);
        if (
            p.crowdfundGoal == 0 || p.sdtPerPaymentUnit == 0 || p.sdtCap == 0
                || (p.sdtCap <= type(uint96).max && p.sdtPerPaymentUnit > p.sdtCap * 1e18)
        ) {
            revert FactoryInvalidAmount(p.crowdfundGoal, p.sdtPerPaymentUnit, p.sdtCap);
        }
        if (p.quorumBps > 10_000) revert FactoryInvalidQuorum(p.quorumBps);
    }
}
