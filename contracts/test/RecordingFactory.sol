// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ISubDAOFactory, RFMParams} from "../interfaces/ISubDAOFactory.sol";

/// @title RecordingFactory (test double)
/// @notice Stands in for the SubDAO factory behind the pluggable
/// {ISubDAOFactory} interface, so the registry can be tested on its own: it records every
/// call and returns a distinct, deterministic non-zero address per RFM. It deploys nothing.
/// `setReturnZero` makes it return the zero address, to exercise the registry's check;
/// `setNextSubDAO` makes it return a given contract (a SubDAO stand-in) instead.
contract RecordingFactory is ISubDAOFactory {
    /// @notice The registry asked for a SubDAO for `rfmId`.
    event CreateSubDAOCalled(uint256 indexed rfmId, address indexed requester, bytes32 paramsHash, address subDAO);

    uint256 public calls;
    uint256 public lastRfmId;
    address public lastRequester;
    address public lastCaller;
    bytes32 public lastParamsHash;
    string public lastSpecCid;
    bool public returnZero;
    address public nextSubDAO;

    /// @notice Makes later calls return the zero address (or not).
    function setReturnZero(bool value) external {
        returnZero = value;
    }

    /// @notice Makes later calls return `subDAO` (the zero address restores the prediction).
    function setNextSubDAO(address subDAO) external {
        nextSubDAO = subDAO;
    }

    /// @inheritdoc ISubDAOFactory
    function createSubDAO(uint256 rfmId, address requester, RFMParams calldata params)
        external
        returns (address subDAO)
    {
        calls += 1;
        lastRfmId = rfmId;
        lastRequester = requester;
        lastCaller = msg.sender;
        lastParamsHash = keccak256(abi.encode(params));
        lastSpecCid = params.specCid;
        subDAO = returnZero ? address(0) : nextSubDAO != address(0) ? nextSubDAO : predictSubDAO(rfmId);
        emit CreateSubDAOCalled(rfmId, requester, lastParamsHash, subDAO);
    }

    /// @notice The address returned for `rfmId`.
    function predictSubDAO(uint256 rfmId) public view returns (address) {
        return address(uint160(uint256(keccak256(abi.encode(address(this), rfmId)))));
    }
}
