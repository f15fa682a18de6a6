// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title FakeRevenueSplitter (attacker double)
/// @notice A look-alike RevenueSplitter a SubDAO's technical chamber could attach to its
/// RevenueSplitter slot: it names the SubDAO and reports huge revenue without ever having
/// received any. The RFM registry must refuse it for the success refund (000 §6.3), because
/// its runtime code is not an EIP-1167 clone of the governance-set splitter implementation.
contract FakeRevenueSplitter {
    address private immutable _subDAO;

    constructor(address subDAO_) {
        _subDAO = subDAO_;
    }

    /// @notice The SubDAO it claims to serve.
    function subDAO() external view returns (address) {
        return _subDAO;
    }

    /// @notice Made-up lifetime totals: (received, platformPaid, treasuryPaid).
    function totals() external pure returns (uint256 received, uint256 platformPaid, uint256 treasuryPaid) {
        return (type(uint128).max, 0, 0);
    }

    /// @notice Made-up first revenue time.
    function firstRevenueAt() external pure returns (uint64) {
        return 1;
    }

    /// @notice Accepts the SDT balance hook the SubDAO installs with the splitter slot.
    function onSDTBalanceChange(address, address, uint256) external pure {}
}
