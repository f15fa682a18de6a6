// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title Test ERC-20 with permissionless mint
/// @notice Stand-in for a genuinely external token in tests: a stablecoin the crowdfund is paid
/// in, or the FLAI token before the platform layer (issue 2) is merged.
contract TestERC20 is ERC20 {
    uint8 private immutable _DECIMALS;

    constructor(string memory name_, string memory symbol_, uint8 decimals_) ERC20(name_, symbol_) {
        _DECIMALS = decimals_;
    }

    /// @notice Mints `amount` to `to` (anyone may call: test token only).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function decimals() public view override returns (uint8) {
        return _DECIMALS;
    }
}
