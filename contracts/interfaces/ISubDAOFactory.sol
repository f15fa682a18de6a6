// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title RFM parameters shared by the registry and the SubDAO factory
/// @notice The structured part of a Request-for-Model (001 §8.1). The free-form spec
/// (goal, model class details, data schema, metric, governance params, price) is the JSON
/// document behind `specCid` on IPFS; the fields below are the ones contracts enforce or index.
struct RFMParams {
    string specCid; // IPFS CID (CIDv1 base32 or CIDv0) of the JSON spec
    bytes32 domain; // e.g. "healthcare.oncology", a bytes32 short string (indexed)
    bytes32 modelClass; // e.g. "binary-classifier" (indexed)
    bytes32 dataSchema; // e.g. "HL7-FHIR-R4", "OMOP-CDM-5.4"
    bytes32 metricId; // e.g. "AUC"
    uint32 metricThreshold; // fixed point, 1e6 = 1.0 (AUC >= 0.85 -> 850_000)
    uint16 minValidators; // validators needed before training starts
    uint16 quorumBps; // SubDAO chamber quorum in basis points of supply
    uint32 epochLength; // seconds per training round / inference epoch
    uint64 crowdfundDeadline; // unix time; contributions after it revert
    address paymentToken; // ERC-20 the SubDAO is funded and paid in (FLAI or a stablecoin)
    uint256 pricePerInference; // base price x in paymentToken units (000 §6.5)
    uint256 crowdfundGoal; // in paymentToken units
    uint256 sdtPerPaymentUnit; // SDT minted per payment unit backed, 1e18 fixed point (≤ sdtCap·1e18)
    uint256 sdtCap; // maximum SDT supply (< 2**96)
}

/// @title SubDAO factory, as seen by the RFM registry
/// @notice The registry calls `createSubDAO` exactly once per approved RFM.
interface ISubDAOFactory {
    /// @notice Creates the whole suite of contracts for an approved RFM and registers it.
    /// @dev Only callable by the RFM registry the factory was built for.
    /// @param rfmId The registry's id of the approved RFM.
    /// @param requester The RFM submitter (gets requester pricing in the marketplace).
    /// @param params The RFM's structured parameters.
    /// @return subDAO The address of the new SubDAO (the suite's entry point).
    function createSubDAO(uint256 rfmId, address requester, RFMParams calldata params)
        external
        returns (address subDAO);
}
