// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {GovernorCountingSimple} from "@openzeppelin/contracts/governance/extensions/GovernorCountingSimple.sol";
import {GovernorSettings} from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
import {GovernorTimelockControl} from "@openzeppelin/contracts/governance/extensions/GovernorTimelockControl.sol";
import {GovernorVotes} from "@openzeppelin/contracts/governance/extensions/GovernorVotes.sol";
import {GovernorVotesQuorumFraction} from
    "@openzeppelin/contracts/governance/extensions/GovernorVotesQuorumFraction.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";
import {ActionKindRule, ISuperDAOGovernor, ProposalKind} from "../interfaces/ISuperDAOGovernor.sol";
import {IRFMRegistry} from "../interfaces/IRFMRegistry.sol";
import {ISuperDAOStaking} from "../interfaces/ISuperDAOStaking.sol";

/// @title SuperDAOGovernor
/// @notice The FLAI-SuperDAO's governor: OZ Governor + Settings + Votes(staking) +
/// QuorumFraction + TimelockControl, with kind-dependent approval thresholds layered on
/// GovernorCountingSimple through its `_voteSucceeded` hook.
/// @dev The staking contract uses OZ Votes' block-number clock; the governor reads the block
/// number directly instead of asking the token on every call (tests assert the clocks agree).
contract SuperDAOGovernor is
    ISuperDAOGovernor,
    Governor,
    GovernorSettings,
    GovernorCountingSimple,
    GovernorVotes,
    GovernorVotesQuorumFraction,
    GovernorTimelockControl
{
    /// @inheritdoc ISuperDAOGovernor
    uint16 public constant SUPERMAJORITY_BPS = 6_600;
    /// @inheritdoc ISuperDAOGovernor
    uint16 public constant SIMPLE_MAJORITY_BPS = 5_100;
    uint256 private constant _BPS = 10_000;
    uint256 private constant _SIMPLE_MAJORITY_FLAG = 1;

    mapping(address target => mapping(bytes4 selector => ProposalKind)) private _actionKind;
    /// @param staking The SuperDAO staking contract (ERC-5805 votes, block-number clock).
    /// @param timelock The timelock that executes proposals and holds the treasury.
    /// @param votingDelay_ Blocks between propose and the vote start (>= 1; the snapshot).
    /// @param votingPeriod_ Blocks the vote stays open.
    /// @param proposalThreshold_ Votes a proposer needs (at the previous block).
    /// @param quorumPercent Quorum, in percent of all voting units at the snapshot.
    /// @param rules Initial action classification.
    constructor(
        IVotes staking,
        TimelockController timelock,
        uint48 votingDelay_,
        uint32 votingPeriod_,
        uint256 proposalThreshold_,
        uint256 quorumPercent,
        ActionKindRule[] memory rules
    )
        Governor("FLAI SuperDAO")
        GovernorSettings(votingDelay_, votingPeriod_, proposalThreshold_)
        GovernorVotes(staking)
        GovernorVotesQuorumFraction(quorumPercent)
        GovernorTimelockControl(timelock)
    {
        for (uint256 i = 0; i < rules.length; ++i) {
            _setActionKind(rules[i].target, rules[i].selector, rules[i].kind);
        }
    }

    // --- classification -------------------------------------------------------------------

    /// @inheritdoc ISuperDAOGovernor
    function setActionKind(address target, bytes4 selector, ProposalKind kind) external onlyGovernance {
        _setActionKind(target, selector, kind);
    }

    /// @inheritdoc ISuperDAOGovernor
    function actionKind(address target, bytes4 selector) external view returns (ProposalKind) {
        return _actionKind[target][selector];
    }

    /// @inheritdoc ISuperDAOGovernor
    function minimumKind(bytes4 selector) external pure returns (ProposalKind) {
        return _minimumKind(selector);
    }

    /// @inheritdoc ISuperDAOGovernor
    function proposalApprovalThresholdBps(uint256 proposalId) external view returns (uint16) {
        if (proposalSnapshot(proposalId) == 0) revert GovernorNonexistentProposal(proposalId);
        return _thresholdBps(proposalId);
    }

    /// @notice The id of the proposal with these actions: their hash with the lowest bit replaced
    /// by the simple-majority flag (1 for an Operational proposal), so the id carries the
    /// threshold fixed at propose time and proposing writes nothing beyond OZ's ProposalCore.
    /// @dev For a proposal that exists, returns its id even if governance has reclassified one of
    /// its actions since (the flag of that id no longer matches the table); otherwise the id the
    /// actions would get if proposed now.
    function getProposalId(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) public view override returns (uint256) {
        // OZ checks the lengths after computing the id; the kind needs them matched first
        if (targets.length != values.length || targets.length != calldatas.length) {
            revert GovernorInvalidProposalLength(targets.length, calldatas.length, values.length);
        }
        uint256 hashed = hashProposal(targets, values, calldatas, descriptionHash) & ~_SIMPLE_MAJORITY_FLAG;
        uint256 proposalId = _kindOf(targets, calldatas) == ProposalKind.Operational
            ? hashed | _SIMPLE_MAJORITY_FLAG
            : hashed;
        // Inside propose (the only caller of `_propose`) the id is always the one for the kind the
        // actions have now: skip the look-up of an id proposed under an earlier classification.
        if (msg.sig == this.propose.selector || proposalSnapshot(proposalId) != 0) return proposalId;
        uint256 other = proposalId ^ _SIMPLE_MAJORITY_FLAG;
        return proposalSnapshot(other) != 0 ? other : proposalId;
    }

    /// @inheritdoc ISuperDAOGovernor
    function kindOf(address[] memory targets, bytes[] memory calldatas) external view returns (ProposalKind) {
        if (targets.length != calldatas.length) revert SuperDAOGovernorInvalidActions(targets.length, calldatas.length);
        return _kindOf(targets, calldatas);
    }

    /// @inheritdoc ISuperDAOGovernor
    function approvalThresholdBps(ProposalKind kind) public pure returns (uint16) {
        return kind == ProposalKind.Operational ? SIMPLE_MAJORITY_BPS : SUPERMAJORITY_BPS;
    }

    // --- clock ----------------------------------------------------------------------------

    /// @notice Block number, the staking contract's clock.
    function clock() public view override(Governor, GovernorVotes) returns (uint48) {
        return Time.blockNumber();
    }

    /// @notice ERC-6372 clock mode: block numbers.
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override(Governor, GovernorVotes) returns (string memory) {
        return "mode=blocknumber&from=default";
    }

    // --- OZ plumbing ----------------------------------------------------------------------

    function votingDelay() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.votingDelay();
    }

    function votingPeriod() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.votingPeriod();
    }

    function proposalThreshold() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.proposalThreshold();
    }

    function quorum(uint256 timepoint) public view override(Governor, GovernorVotesQuorumFraction) returns (uint256) {
        return super.quorum(timepoint);
    }

    function state(uint256 proposalId)
        public
        view
        override(Governor, GovernorTimelockControl)
        returns (ProposalState)
    {
        return super.state(proposalId);
    }

    function proposalNeedsQueuing(uint256 proposalId)
        public
        view
        override(Governor, GovernorTimelockControl)
        returns (bool)
    {
        return super.proposalNeedsQueuing(proposalId);
    }

    /// @dev for / (for + against) must reach the proposal's threshold; no votes never succeed.
    function _voteSucceeded(uint256 proposalId)
        internal
        view
        override(Governor, GovernorCountingSimple)
        returns (bool)
    {
        (uint256 againstVotes, uint256 forVotes,) = proposalVotes(proposalId);
        // Votes are uint208 checkpoints, so neither product can overflow.
        return forVotes != 0 && forVotes * _BPS >= (forVotes + againstVotes) * _thresholdBps(proposalId);
    }

    function _queueOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint48) {
        return super._queueOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _executeOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) {
        super._executeOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _cancel(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint256) {
        return super._cancel(targets, values, calldatas, descriptionHash);
    }

    function _executor() internal view override(Governor, GovernorTimelockControl) returns (address) {
        return super._executor();
    }

    /// @dev The strictest kind among the actions; `targets` and `calldatas` have the same length.
    function _kindOf(address[] memory targets, bytes[] memory calldatas) private view returns (ProposalKind kind) {
        kind = ProposalKind.Operational; // the weakest kind; every action can only make it stricter
        for (uint256 i = 0; i < targets.length; ++i) {
            // the table never holds a kind weaker than the hard-coded minimum (every write checks
            // it), so its entry already is the stricter of the two
            ProposalKind k = _actionKind[targets[i]][bytes4(calldatas[i])];
            if (k < kind) kind = k;
        }
    }

    /// @dev The weakest kind a call may have, whatever the table says: PlatformUpdate for what
    /// changes how RFMs, platform updates or thresholds are decided (classification, voting
    /// rules, quorum, the timelock and its delay and roles, ownership of the governed contracts,
    /// endorsement threshold, stake age and TTL, the SubDAO factory), for what changes who holds
    /// the votes (legacy credentials) and for what forwards arbitrary calls (relay, timelock
    /// execute); RFMApproval for RFM decisions; Operational otherwise. Matched by selector on
    /// any target: a colliding selector elsewhere can only be made stricter.
    function _minimumKind(bytes4 s) private pure returns (ProposalKind) {
        if (
            s == ISuperDAOGovernor.setActionKind.selector || s == Governor.relay.selector
                || s == GovernorSettings.setVotingDelay.selector || s == GovernorSettings.setVotingPeriod.selector
                || s == GovernorSettings.setProposalThreshold.selector
                || s == GovernorVotesQuorumFraction.updateQuorumNumerator.selector
                || s == GovernorTimelockControl.updateTimelock.selector || s == TimelockController.updateDelay.selector
                || s == IAccessControl.grantRole.selector || s == IAccessControl.revokeRole.selector
                || s == IAccessControl.renounceRole.selector || s == TimelockController.execute.selector
                || s == TimelockController.executeBatch.selector || s == Ownable.transferOwnership.selector
                || s == Ownable.renounceOwnership.selector || s == ISuperDAOStaking.grantCredentials.selector
                || s == ISuperDAOStaking.revokeCredentials.selector
                || s == IRFMRegistry.setEndorsementThresholdBps.selector
                || s == IRFMRegistry.setEndorsementStakeAge.selector || s == IRFMRegistry.setSubmissionTTL.selector
                || s == IRFMRegistry.setFactory.selector
        ) return ProposalKind.PlatformUpdate;
        if (s == IRFMRegistry.approve.selector || s == IRFMRegistry.reject.selector) return ProposalKind.RFMApproval;
        return ProposalKind.Operational;
    }

    function _thresholdBps(uint256 proposalId) private pure returns (uint16) {
        return proposalId & _SIMPLE_MAJORITY_FLAG != 0 ? SIMPLE_MAJORITY_BPS : SUPERMAJORITY_BPS;
    }

    function _setActionKind(address target, bytes4 selector, ProposalKind kind) private {
        if (target == address(0)) revert SuperDAOGovernorZeroTarget();
        ProposalKind floor = _minimumKind(selector);
        if (kind > floor) revert SuperDAOGovernorKindTooWeak(target, selector, kind, floor);
        _actionKind[target][selector] = kind;
        emit ActionKindSet(target, selector, kind);
    }
}
