// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title One chamber of a SubDAO's dual governance (001 §6.5, 000 §7.2.3)
/// @notice An OpenZeppelin Governor (simple counting, votes read at the proposal snapshot from
/// an IERC5805 token: SBGT points for the technical chamber, SDT balances for the financial
/// one). A proposal's kind is derived from its actions, never chosen by the proposer: each
/// call's selector maps to Operational or Significant, the strictest kind of all calls wins, and
/// unknown selectors (and plain value transfers) are Significant. Governance may reclassify a
/// selector (`setSelectorKind`, itself Significant), except the hard-coded Significant calls that
/// change how the SubDAO decides or who holds its votes — `setSelectorKind`,
/// `ITrainingRounds.setParams`, `setDecay` and `revokeContributor`, `ISubDAO.mintSDT` — which
/// the table can never weaken.
///   Significant: for·10000 ≥ 7500·(for + against)      Operational: for·10000 > 5000·(for + against)
/// Quorum: for + abstain ≥ quorumBps of the token's total supply (total points) at the snapshot.
/// Voting delay/period are deploy-time immutables of the implementation (shared by all clones).
/// The chamber is its own executor: proposals call the suite directly (no timelock).
interface ISubDAOChamber {
    /// @notice Which side of the SubDAO a chamber governs.
    enum ChamberKind {
        Technical,
        Financial
    }

    /// @notice Approval threshold class.
    enum ProposalKind {
        Operational,
        Significant
    }

    /// @notice Emitted at proposal time with the kind derived from the actions.
    event ProposalKindAssigned(uint256 indexed proposalId, ProposalKind kind);

    /// @notice Emitted when the chamber (by a Significant proposal) reclassifies a selector.
    event SelectorKindSet(bytes4 indexed selector, ProposalKind kind);

    /// @notice quorumBps above 10000.
    error ChamberInvalidQuorum(uint256 quorumBps);

    /// @notice `selector` is always Significant (a hard-coded rule): it cannot be reclassified.
    error ChamberSelectorKindFixed(bytes4 selector);

    /// @notice Initializes a clone.
    /// @param subDAO The SubDAO this chamber governs.
    /// @param token The IERC5805 vote source (SBGT or SDT).
    /// @param quorumBps Quorum in basis points of the total supply at the snapshot.
    /// @param kind Technical or Financial.
    function initialize(address subDAO, address token, uint16 quorumBps, ChamberKind kind) external;

    /// @notice Governance only: reclassify a selector (this call itself is always Significant);
    /// reverts with {ChamberSelectorKindFixed} for a hard-coded Significant selector.
    function setSelectorKind(bytes4 selector, ProposalKind kind) external;

    /// @notice The SubDAO governed.
    function subDAO() external view returns (address);

    /// @notice Technical or Financial.
    function chamberKind() external view returns (ChamberKind);

    /// @notice Quorum in bps.
    function quorumBps() external view returns (uint16);

    /// @notice The kind stored for a proposal.
    function proposalKind(uint256 proposalId) external view returns (ProposalKind);

    /// @notice The kind a single call would get.
    function selectorKind(bytes4 selector) external view returns (ProposalKind);

    /// @notice The kind a whole proposal would get (strictest wins).
    function kindOf(bytes[] calldata calldatas) external view returns (ProposalKind);
}
