// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Payment-token policy of the platform
/// @notice Which ERC-20 tokens a SubDAO may be paid in (crowdfund, marketplace fees, revenue
/// splitter). Every escrow of the suite measures what it receives by balance delta, which keeps
/// fee-on-transfer tokens exact but cannot see a token that charges its sender a fee on top of
/// the value: each payout would then take more than the escrow booked. So tokens are refused at
/// configuration time unless governance listed them; the RFM registry (owned by the SuperDAO
/// timelock) keeps the list, and the registry, the SubDAO factory (forks) and the marketplace
/// (listings) consult it.
interface IPaymentTokenPolicy {
    /// @notice Whether SubDAOs may be created with, and listings sell in, `token`.
    function isPaymentTokenAllowed(address token) external view returns (bool);
}
