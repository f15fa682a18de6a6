// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title The slice of a SubDAO the marketplace, splitter and bounty pool read
/// @notice ABI-compatible subset of the SubDAO suite's `ISubDAO` (enums travel as uint8):
/// lifecycle state (3 = Deployed, 2 = Training, 4 = Retired, 5 = Failed), module slots
/// (2 = TechnicalChamber, 3 = FinancialChamber, 4 = TrainingRounds, 5 = RevenueSplitter),
/// requester, payment token and the current model version / inference epoch.
/// @dev Kept apart from the SubDAO branch's interface so the market layer compiles and is
/// tested independently; the ABI is what binds them.
interface IMarketSubDAO {
    /// @notice Current lifecycle state (ISubDAO.State as uint8).
    function state() external view returns (uint8);

    /// @notice A module of the suite (ISubDAO.Module as uint8).
    function module(uint8 module_) external view returns (address);

    /// @notice The RFM submitter.
    function requester() external view returns (address);

    /// @notice The SubDAO's payment token.
    function paymentToken() external view returns (address);

    /// @notice Current model version (0 = none yet) and inference epoch.
    function modelVersion() external view returns (uint32 version, uint32 inferenceEpoch);
}
