// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ISubDAOFactory, RFMParams} from "./ISubDAOFactory.sol";
import {IRevenueSplitter} from "./IRevenueSplitter.sol";

/// @title SubDAO factory: the full view (registry-facing `createSubDAO` + lookups + forks)
/// @notice One call clones (EIP-1167) and initializes SubDAO, SBGT, SDT, technical chamber,
/// financial chamber, TrainingRounds (the crowdfund lives in the SubDAO) and the revenue
/// splitter (the SDT's balance hook from the first crowdfund mint on), wires them and
/// registers the SubDAO by RFM id, domain and model class. Implementations are immutables of
/// the factory; their constructors disable initializers. Every splitter starts with the
/// factory's revenue defaults (platform treasury and admin, shares); afterwards the platform
/// admin sets the platform share and treasury bounds and the SubDAO's financial chamber its
/// treasury and SBGT shares.
interface ISubDAOSuiteFactory is ISubDAOFactory {
    /// @notice Addresses of one suite.
    struct Suite {
        address subDAO;
        address sbgt;
        address sdt;
        address technicalChamber;
        address financialChamber;
        address trainingRounds;
        address revenueSplitter;
    }

    /// @notice What every new revenue splitter starts with.
    struct RevenueDefaults {
        address platformTreasury;
        address platformAdmin;
        IRevenueSplitter.Shares shares;
    }

    /// @notice Emitted when a suite is created (parent is zero unless it is a fork).
    event SubDAOCreated(
        uint256 indexed rfmId,
        address indexed subDAO,
        address indexed requester,
        bytes32 domain,
        bytes32 modelClass,
        string specCid,
        Suite suite,
        address parent,
        uint32 parentModelVersion,
        uint256 pricePerInference
    );

    /// @notice The caller is not the registry (create) or a registered SubDAO (fork).
    error FactoryUnauthorized(address caller);
    /// @notice The RFM already has a SubDAO.
    error FactoryRFMAlreadyRegistered(uint256 rfmId, address subDAO);
    /// @notice The crowdfund deadline is not in the future.
    error FactoryInvalidDeadline(uint64 deadline, uint256 nowTimestamp);
    /// @notice A required address is zero.
    error FactoryZeroAddress();
    /// @notice Goal, rate and cap must be non-zero, and the rate at most cap·1e18 (one payment
    /// wei never mints more than the cap).
    error FactoryInvalidAmount(uint256 goal, uint256 sdtPerPaymentUnit, uint256 sdtCap);
    /// @notice quorumBps above 10000.
    error FactoryInvalidQuorum(uint16 quorumBps);
    /// @notice A fork asked for a payment token other than its parent's that is not on the
    /// registry's allow-list ({IPaymentTokenPolicy}).
    error FactoryPaymentTokenNotAllowed(address token);

    /// @notice Creates a child suite for a registered SubDAO (msg.sender), recording lineage.
    /// @param params The child's RFM parameters (chosen by the parent's technical chamber). The
    /// child keeps the parent's payment token, or takes one the registry lists
    /// ({FactoryPaymentTokenNotAllowed} otherwise).
    /// @param parentModelVersion The parent's model version at the fork.
    function forkSubDAO(RFMParams calldata params, uint32 parentModelVersion) external returns (address child);

    /// @notice The RFM registry allowed to call `createSubDAO`.
    function registry() external view returns (address);

    /// @notice Implementation addresses.
    function implementations() external view returns (Suite memory);

    /// @notice Platform treasury, platform admin and initial shares of every new splitter.
    function revenueDefaults() external view returns (RevenueDefaults memory);

    /// @notice The SubDAO created for `rfmId` (zero if none).
    function subDAOOf(uint256 rfmId) external view returns (address);

    /// @notice All SubDAOs (incl. forks) in a domain.
    function subDAOsByDomain(bytes32 domain) external view returns (address[] memory);

    /// @notice All SubDAOs (incl. forks) of a model class.
    function subDAOsByModelClass(bytes32 modelClass) external view returns (address[] memory);

    /// @notice Whether `account` is a SubDAO this factory created.
    function isSubDAO(address account) external view returns (bool);

    /// @notice Number of SubDAOs created.
    function subDAOCount() external view returns (uint256);
}
