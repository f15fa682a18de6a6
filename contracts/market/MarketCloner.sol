// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";

/// @title Clones and initializes per-SubDAO market modules in one transaction
/// @notice Creates an EIP-1167 clone of `implementation` (BountyPool; a stand-alone
/// RevenueSplitter for a SubDAO stand-in — a factory-made suite has its splitter from creation)
/// and calls its initializer in the same transaction, so nobody can front-run the initialization.
contract MarketCloner {
    /// @notice `clone` of `implementation` was created and initialized.
    event ModuleCloned(address indexed implementation, address indexed clone, address indexed caller);

    /// @notice The initializer call reverted (its revert data is bubbled up).
    error ClonerInitFailed(address clone);

    /// @notice Clones `implementation` and calls it with `initData` (the encoded `initialize`).
    function clone(address implementation, bytes calldata initData) external returns (address instance) {
        instance = Clones.clone(implementation);
        (bool ok, bytes memory ret) = instance.call(initData);
        if (!ok) {
            if (ret.length == 0) revert ClonerInitFailed(instance);
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        emit ModuleCloned(implementation, instance, msg.sender);
    }
}
