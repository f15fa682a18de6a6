// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IMarketReentrantReceiver} from "./MarketReentrantToken.sol";

/// @title Malicious receiver: a contract account that acts (claim, request, fulfil, refund)
/// and, when the MarketReentrantToken hands it control mid-transfer, re-enters a configured call.
/// @notice Records every re-entry attempt and its outcome so a test can assert it failed.
contract MarketAttacker is IMarketReentrantReceiver {
    address public reentryTarget;
    bytes public reentryData;
    uint256 public attempts;
    bool public lastSucceeded;
    bytes public lastReturn;
    uint256 public maxAttempts = 1;

    /// @notice Performs `data` on `target` as this contract (e.g. claim, requestInference).
    function act(address target, bytes calldata data) external returns (bytes memory) {
        (bool ok, bytes memory ret) = target.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }

    function approveToken(address token, address spender, uint256 amount) external {
        IERC20(token).approve(spender, amount);
    }

    /// @notice Sets the call to re-enter with when the token calls back.
    function setReentry(address target, bytes calldata data) external {
        reentryTarget = target;
        reentryData = data;
    }

    function onTokenTransfer(address, address, uint256) external {
        if (reentryTarget == address(0) || attempts >= maxAttempts) return;
        attempts += 1;
        (bool ok, bytes memory ret) = reentryTarget.call(reentryData);
        lastSucceeded = ok;
        lastReturn = ret;
    }
}
