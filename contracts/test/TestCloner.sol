// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";

/// @title EIP-1167 cloner for unit tests
/// @notice Lets a test clone a real implementation (whose own initializer is disabled) and
/// initialize it with a test account in a privileged role (e.g. the SBGT operator).
contract TestCloner {
    event Cloned(address indexed implementation, address instance);

    /// @notice Clones `implementation`.
    function clone(address implementation) external returns (address instance) {
        instance = Clones.clone(implementation);
        emit Cloned(implementation, instance);
    }
}
