// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title Configurable ERC-20 stand-in for genuinely external tokens (test only)
/// @notice Open mint. Besides a plain token (a stablecoin, any decimals) it models the two
/// fee-charging kinds a payment token can be, on transfers between two accounts:
///  - fee on transfer (`transferFeeBps`, PAXG/STA-style): the fee is burnt out of the value, the
///    receiver gets `value − fee`;
///  - fee on top (`topFeeBps`): the receiver gets the full `value` and the sender is charged
///    `value · topFeeBps / 10000` more (burnt), so a receive-side balance delta looks exact.
/// Mints and burns are never charged.
contract TestToken is ERC20 {
    uint256 private constant _BPS = 10_000;

    uint8 private immutable _DECIMALS;
    uint16 private immutable _TRANSFER_FEE_BPS;
    uint16 private immutable _TOP_FEE_BPS;
    /// @dev A plain token skips the fee arithmetic (gas figures measured with it stay those of an ERC-20).
    bool private immutable _CHARGES;

    constructor(string memory name_, string memory symbol_, uint8 decimals_, uint16 transferFeeBps_, uint16 topFeeBps_)
        ERC20(name_, symbol_)
    {
        _DECIMALS = decimals_;
        _TRANSFER_FEE_BPS = transferFeeBps_;
        _TOP_FEE_BPS = topFeeBps_;
        _CHARGES = transferFeeBps_ != 0 || topFeeBps_ != 0;
    }

    /// @notice Mints `amount` to `to` (anyone may call: test token only).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice The fee on transfer and the fee on top, in basis points of the value.
    function fees() external view returns (uint16 transferFeeBps, uint16 topFeeBps) {
        return (_TRANSFER_FEE_BPS, _TOP_FEE_BPS);
    }

    function decimals() public view override returns (uint8) {
        return _DECIMALS;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (_CHARGES && from != address(0) && to != address(0)) {
            uint256 onTop = (value * _TOP_FEE_BPS) / _BPS;
            if (onTop != 0) super._update(from, address(0), onTop);
            uint256 cut = (value * _TRANSFER_FEE_BPS) / _BPS;
            if (cut != 0) {
                super._update(from, address(0), cut);
                value -= cut;
            }
        }
        super._update(from, to, value);
    }
}
