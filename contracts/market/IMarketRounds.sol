// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title The slice of a SubDAO's TrainingRounds the splitter and bounty pool read
/// @notice ABI-compatible subset of the SubDAO suite's `ITrainingRounds`: consensus
/// contribution scores φ (1e18 = 1.0) per model version and per round (001 eq. 10).
interface IMarketRounds {
    /// @notice A round's public record (same layout as ITrainingRounds.Round).
    struct Round {
        uint64 deadline;
        uint8 status; // ITrainingRounds.RoundStatus: 3 = Accepted
        uint16 scoreCount;
        uint16 voteCount;
        int16 aggVote;
        uint32 version;
        uint96 phiSum;
    }

    /// @notice A round's record.
    function round(uint256 roundId) external view returns (Round memory);

    /// @notice The round's submitters in score-vector order.
    function submitters(uint256 roundId) external view returns (address[] memory);

    /// @notice Consensus φ per model version.
    function versionScores(uint32 version)
        external
        view
        returns (address[] memory accounts, uint64[] memory phi, uint256 phiSum);

    /// @notice φ_k of `account` in `version` (0 if it did not submit).
    function versionScoreOf(uint32 version, address account) external view returns (uint256);

    /// @notice Round that produced `version`.
    function versionRound(uint32 version) external view returns (uint256);
}
