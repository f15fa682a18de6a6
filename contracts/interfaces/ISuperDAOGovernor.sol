// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice What a SuperDAO proposal decides, which sets its approval threshold (000 §7.1.3).
/// Ordered from strictest to weakest: a proposal takes the strictest kind among its actions.
/// `PlatformUpdate` is the zero value, so an action nobody classified is a platform update.
enum ProposalKind {
    PlatformUpdate, // >= 66% of for+against (protocol upgrades, parameters, credentials, ...)
    RFMApproval, // >= 66% of for+against (approve or reject a Request-for-Model)
    Operational // >= 51% of for+against (routine parameters, treasury spends)
}

/// @notice One entry of the governance-maintained action classification.
struct ActionKindRule {
    address target; // contract the timelock calls
    bytes4 selector; // function selector of the call
    ProposalKind kind; // kind of a proposal containing this action (strictest wins)
}

/// @title SuperDAO governor
/// @notice OpenZeppelin Governor over the staking contract's checkpointed votes, executing
/// through a TimelockController that holds the platform treasury. Beyond quorum (a fraction of
/// all voting units at the snapshot, counting for + abstain), a proposal passes only if its
/// for-votes reach the threshold of its kind, in basis points of for + against:
/// 6600 for PlatformUpdate and RFMApproval, 5100 for Operational.
///
/// The kind is derived from the proposal's actions, never chosen by the proposer: each
/// (target, selector) pair maps to a kind in a table only governance can change; unknown
/// pairs are PlatformUpdate; the strictest kind among the actions wins. Hard-coded minimum
/// kinds ({minimumKind}) win over the table, which refuses anything weaker: every call that
/// changes how RFMs, platform updates or thresholds are decided, who holds the votes, or that
/// forwards arbitrary calls is a PlatformUpdate, and RFM decisions are at least RFMApproval —
/// so no 51 % majority can lower a 66 % rule (e.g. the endorsement threshold) to route around it. It is fixed at
/// propose time, so a later change of the table does not move a running proposal.
/// Storage: none beyond OZ's. The proposal id is the OZ hash of the actions with its lowest bit
/// replaced by a simple-majority flag (1 = Operational), so the threshold travels with the id
/// and proposing any kind writes only OZ's ProposalCore (a one-action proposal stays under 80k
/// gas). Always take ids from {getProposalId} or ProposalCreated, not from {hashProposal}. If
/// governance reclassifies an action while a proposal with it runs, {getProposalId} still finds
/// that proposal under its original id; the same actions and description may then be proposed
/// again under the other id, but the timelock schedules one operation id only once, so at most
/// one of the two can execute.
/// The exact kind of a proposal is `kindOf(targets, calldatas)` over its ProposalCreated
/// actions (as classified now); its threshold is {proposalApprovalThresholdBps}.
interface ISuperDAOGovernor {
    /// @notice Governance classified calls to `selector` on `target` as `kind`.
    event ActionKindSet(address indexed target, bytes4 indexed selector, ProposalKind kind);

    /// @notice A classification rule had the zero address as target.
    error SuperDAOGovernorZeroTarget();

    /// @notice `kind` is weaker than the hard-coded minimum `minimum` of `selector` (on `target`).
    error SuperDAOGovernorKindTooWeak(address target, bytes4 selector, ProposalKind kind, ProposalKind minimum);

    /// @notice {kindOf} was given `targets` targets but `calldatas` calldatas.
    error SuperDAOGovernorInvalidActions(uint256 targets, uint256 calldatas);

    /// @notice Threshold of the 66% kinds, in basis points of for + against.
    function SUPERMAJORITY_BPS() external view returns (uint16);

    /// @notice Threshold of Operational proposals, in basis points of for + against.
    function SIMPLE_MAJORITY_BPS() external view returns (uint16);

    /// @notice Sets the kind of calls to `selector` on `target` (governance only; itself always a
    /// PlatformUpdate). Reverts with {SuperDAOGovernorKindTooWeak} below {minimumKind}.
    /// @dev Only the top-level actions of a proposal are classified: never give a weaker kind
    /// to a function that forwards arbitrary calls (multicall, relay, execute), or a proposer
    /// could wrap a platform update in it.
    function setActionKind(address target, bytes4 selector, ProposalKind kind) external;

    /// @notice The kind of a call to `selector` on `target` (PlatformUpdate if unclassified).
    function actionKind(address target, bytes4 selector) external view returns (ProposalKind);

    /// @notice The weakest kind a call to `selector` can have, on any target (hard-coded).
    function minimumKind(bytes4 selector) external pure returns (ProposalKind);

    /// @notice The kind a proposal with these actions would get now (strictest action wins);
    /// reverts with {SuperDAOGovernorInvalidActions} unless the arrays have the same length
    /// (propose, queue, execute and getProposalId revert with OZ's GovernorInvalidProposalLength).
    function kindOf(address[] memory targets, bytes[] memory calldatas) external view returns (ProposalKind);

    /// @notice The approval threshold of `kind`, in basis points of for + against.
    function approvalThresholdBps(ProposalKind kind) external pure returns (uint16);

    /// @notice The approval threshold fixed for proposal `proposalId` at propose time (its id's flag).
    /// @dev Reverts with GovernorNonexistentProposal for an unknown id.
    function proposalApprovalThresholdBps(uint256 proposalId) external view returns (uint16);
}
