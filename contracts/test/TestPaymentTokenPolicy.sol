// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IPaymentTokenPolicy} from "../interfaces/IPaymentTokenPolicy.sol";

/// @title Payment-token allow-list stand-in for the RFM registry (test only)
/// @notice Lets market and factory tests run without the platform layer: anyone lists tokens.
contract TestPaymentTokenPolicy is IPaymentTokenPolicy {
    mapping(address token => bool) private _allowed;

    /// @notice Lists (`allowed`) or delists `token`.
    function setAllowed(address token, bool allowed) external {
        _allowed[token] = allowed;
    }

    /// @inheritdoc IPaymentTokenPolicy
    function isPaymentTokenAllowed(address token) external view returns (bool) {
        return _allowed[token];
    }
}
