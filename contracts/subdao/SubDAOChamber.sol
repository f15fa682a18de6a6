// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {GovernorUpgradeable} from "@openzeppelin/contracts-upgradeable/governance/GovernorUpgradeable.sol";
import {GovernorVotesUpgradeable} from
    "@openzeppelin/contracts-upgradeable/governance/extensions/GovernorVotesUpgradeable.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ISubDAOChamber} from "../interfaces/ISubDAOChamber.sol";
import {ISubDAO} from "../interfaces/ISubDAO.sol";
import {ITrainingRounds} from "../interfaces/ITrainingRounds.sol";

/// @title Technical or financial chamber of a SubDAO
/// @notice See {ISubDAOChamber}. One implementation, two clones per SubDAO. The Governor's
/// name and EIP-712 domain are constants (no string storage at creation); initialization writes
/// the token (GovernorVotes) and one packed slot (subDAO, quorumBps, kind).
/// @dev Counting is Bravo-style (against/for/abstain) like GovernorCountingSimple, but the tally
/// slots are written non-zero at proposal time (they carry the proposal's kind), so a first vote
/// of each type updates a non-zero slot (5k instead of 22.1k gas): castVote stays ≤ 86k.
contract SubDAOChamber is GovernorUpgradeable, GovernorVotesUpgradeable, ISubDAOChamber {
    uint256 private constant _BPS = 10_000;
    uint256 private constant _SIGNIFICANT_BPS = 7_500;
    uint256 private constant _OPERATIONAL_BPS = 5_000;

    uint48 private immutable _VOTING_DELAY;
    uint32 private immutable _VOTING_PERIOD;

    // slot: subDAO (20) + quorumBps (2) + kind (1)
    address private _subDAO;
    uint16 private _quorumBps;
    ChamberKind private _kind;
    /// @dev Two slots per proposal, both non-zero from `propose` on. Weights fit 120 bits
    /// (SDT cap < 2**96, SBGT points < 2**98 in total).
    struct Tally {
        uint120 forVotes;
        uint120 againstVotes;
        uint8 kindTag; // kind + 1
        uint120 abstainVotes;
        uint8 marker; // 1
        mapping(address voter => bool) hasVoted;
    }

    mapping(uint256 proposalId => Tally) private _tallies;
    /// @dev 0 = default map, 1 = Operational, 2 = Significant (set by governance).
    mapping(bytes4 selector => uint8) private _selectorOverride;

    /// @param votingDelay_ Blocks between proposal and snapshot (shared by all clones).
    /// @param votingPeriod_ Blocks a vote stays open (shared by all clones).
    constructor(uint48 votingDelay_, uint32 votingPeriod_) {
        _VOTING_DELAY = votingDelay_;
        _VOTING_PERIOD = votingPeriod_;
        _disableInitializers();
    }

    /// @inheritdoc ISubDAOChamber
    function initialize(address subDAO_, address token_, uint16 quorumBps_, ChamberKind kind_) external initializer {
        if (quorumBps_ > _BPS) revert ChamberInvalidQuorum(quorumBps_);
        __GovernorVotes_init(IVotes(token_));
        _subDAO = subDAO_;
        _quorumBps = quorumBps_;
        _kind = kind_;
    }

    /// @inheritdoc ISubDAOChamber
    function setSelectorKind(bytes4 selector, ProposalKind kind_) external onlyGovernance {
        if (_isFixedSignificant(selector)) revert ChamberSelectorKindFixed(selector);
        _selectorOverride[selector] = uint8(kind_) + 1;
        emit SelectorKindSet(selector, kind_);
    }

    /// @inheritdoc ISubDAOChamber
    function subDAO() external view returns (address) {
        return _subDAO;
    }

    /// @inheritdoc ISubDAOChamber
    function chamberKind() external view returns (ChamberKind) {
        return _kind;
    }

    /// @inheritdoc ISubDAOChamber
    function quorumBps() external view returns (uint16) {
        return _quorumBps;
    }

    /// @inheritdoc ISubDAOChamber
    function proposalKind(uint256 proposalId) public view returns (ProposalKind) {
        uint8 tag = _tallies[proposalId].kindTag;
        return tag == 0 ? ProposalKind.Significant : ProposalKind(tag - 1);
    }

    // solhint-disable-next-line func-name-mixedcase
    function COUNTING_MODE() public pure override returns (string memory) {
        return "support=bravo&quorum=for,abstain";
    }

    function hasVoted(uint256 proposalId, address account) public view override returns (bool) {
        return _tallies[proposalId].hasVoted[account];
    }

    /// @notice Against, for and abstain totals (GovernorCountingSimple's accessor).
    function proposalVotes(uint256 proposalId)
        public
        view
        returns (uint256 againstVotes, uint256 forVotes, uint256 abstainVotes)
    {
        Tally storage t = _tallies[proposalId];
        return (t.againstVotes, t.forVotes, t.abstainVotes);
    }

    /// @inheritdoc ISubDAOChamber
    function selectorKind(bytes4 selector) public view returns (ProposalKind) {
        // the hard-coded rules first: the table cannot weaken them
        if (_isFixedSignificant(selector)) return ProposalKind.Significant;
        uint8 o = _selectorOverride[selector];
        if (o != 0) return ProposalKind(o - 1);
        if (
            selector == ITrainingRounds.whitelistContributors.selector
                || selector == ITrainingRounds.whitelistValidators.selector
                || selector == ITrainingRounds.acceptRound.selector || selector == ITrainingRounds.rejectRound.selector
                || selector == ISubDAO.setCoordinator.selector || selector == ISubDAO.setTrainingConfig.selector
        ) return ProposalKind.Operational;
        return ProposalKind.Significant;
    }

    /// @inheritdoc ISubDAOChamber
    function kindOf(bytes[] calldata calldatas) external view returns (ProposalKind) {
        return _kindOf(calldatas);
    }

    function name() public view override returns (string memory) {
        return _kind == ChamberKind.Technical ? "FLAI SubDAO Technical Chamber" : "FLAI SubDAO Financial Chamber";
    }

    function votingDelay() public view override returns (uint256) {
        return _VOTING_DELAY;
    }

    function votingPeriod() public view override returns (uint256) {
        return _VOTING_PERIOD;
    }

    /// @notice Holders with at least one vote unit may propose.
    function proposalThreshold() public pure override returns (uint256) {
        return 1;
    }

    /// @notice quorumBps of the token's total supply (points) at `timepoint`.
    function quorum(uint256 timepoint) public view override returns (uint256) {
        return (token().getPastTotalSupply(timepoint) * _quorumBps) / _BPS;
    }

    /// @dev Derives and stores the proposal's kind from its actions before the Governor records it.
    function _propose(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        string memory description,
        address proposer
    ) internal override returns (uint256 proposalId) {
        proposalId = super._propose(targets, values, calldatas, description, proposer);
        ProposalKind k = _kindOf(calldatas);
        for (uint256 i; i < values.length; ++i) {
            if (values[i] != 0) k = ProposalKind.Significant;
        }
        Tally storage t = _tallies[proposalId];
        t.kindTag = uint8(k) + 1;
        t.marker = 1;
        emit ProposalKindAssigned(proposalId, k);
    }

    /// @dev Bravo counting: 0 = against, 1 = for, 2 = abstain; one vote per account.
    function _countVote(uint256 proposalId, address account, uint8 support, uint256 totalWeight, bytes memory)
        internal
        override
        returns (uint256)
    {
        Tally storage t = _tallies[proposalId];
        if (t.hasVoted[account]) revert GovernorAlreadyCastVote(account);
        t.hasVoted[account] = true;
        uint120 w = SafeCast.toUint120(totalWeight);
        if (support == 0) t.againstVotes += w;
        else if (support == 1) t.forVotes += w;
        else if (support == 2) t.abstainVotes += w;
        else revert GovernorInvalidVoteType();
        return totalWeight;
    }

    /// @dev Quorum counts for + abstain.
    function _quorumReached(uint256 proposalId) internal view override returns (bool) {
        Tally storage t = _tallies[proposalId];
        return quorum(proposalSnapshot(proposalId)) <= uint256(t.forVotes) + t.abstainVotes;
    }

    /// @dev Significant: for ≥ 75 % of for+against; Operational: for > 50 % of for+against.
    function _voteSucceeded(uint256 proposalId) internal view override returns (bool) {
        (uint256 againstVotes, uint256 forVotes,) = proposalVotes(proposalId);
        uint256 cast = forVotes + againstVotes;
        if (forVotes == 0) return false;
        if (proposalKind(proposalId) == ProposalKind.Significant) {
            return forVotes * _BPS >= _SIGNIFICANT_BPS * cast;
        }
        return forVotes * _BPS > _OPERATIONAL_BPS * cast;
    }

    function _EIP712Name() internal view override returns (string memory) {
        return name();
    }

    function _EIP712Version() internal pure override returns (string memory) {
        return "1";
    }

    /// @dev Calls that change how the SubDAO decides or who holds its votes: the classification
    /// itself, the round rules (FLock auto-accept, tolerance, slashing), the SBGT decay that
    /// weighs technical votes, SDT minting (financial votes) and SBGT revocation (technical votes).
    function _isFixedSignificant(bytes4 selector) private pure returns (bool) {
        return selector == ISubDAOChamber.setSelectorKind.selector || selector == ITrainingRounds.setParams.selector
            || selector == ITrainingRounds.setDecay.selector || selector == ISubDAO.mintSDT.selector
            || selector == ITrainingRounds.revokeContributor.selector;
    }

    function _kindOf(bytes[] memory calldatas) private view returns (ProposalKind) {
        for (uint256 i; i < calldatas.length; ++i) {
            bytes memory data = calldatas[i];
            if (data.length < 4 || selectorKind(bytes4(data)) == ProposalKind.Significant) {
                return ProposalKind.Significant;
            }
        }
        return ProposalKind.Operational;
    }
}
