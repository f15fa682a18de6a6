// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20Upgradeable} from "@openzeppelin/contracts-upgradeable/token/ERC20/ERC20Upgradeable.sol";
import {ERC20PermitUpgradeable} from
    "@openzeppelin/contracts-upgradeable/token/ERC20/extensions/ERC20PermitUpgradeable.sol";
import {ERC20VotesUpgradeable} from
    "@openzeppelin/contracts-upgradeable/token/ERC20/extensions/ERC20VotesUpgradeable.sol";
import {VotesUpgradeable} from "@openzeppelin/contracts-upgradeable/governance/utils/VotesUpgradeable.sol";
import {NoncesUpgradeable} from "@openzeppelin/contracts-upgradeable/utils/NoncesUpgradeable.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {ISDT} from "../interfaces/ISDT.sol";
import {ISDTBalanceHook} from "../interfaces/ISDTBalanceHook.sol";

/// @title SubDAO token
/// @notice See {ISDT}. Name, symbol and the EIP-712 domain name are constants (the clone's
/// address tells SubDAOs apart), so initialization writes one slot: subDAO + cap.
contract SDT is ERC20Upgradeable, ERC20PermitUpgradeable, ERC20VotesUpgradeable, ISDT {
    string private constant _NAME = "FLAI SubDAO Token";

    // slot: subDAO (20) + cap (12)
    address private _subDAO;
    uint96 private _cap;
    address private _hook;

    modifier onlySubDAO() {
        _checkSubDAO();
        _;
    }

    constructor() {
        _disableInitializers();
    }

    /// @inheritdoc ISDT
    function initialize(address subDAO_, uint256 cap_) external initializer {
        if (cap_ == 0 || cap_ > type(uint96).max) revert SDTInvalidCap(cap_);
        _subDAO = subDAO_;
        _cap = uint96(cap_);
    }

    /// @inheritdoc ISDT
    function mint(address to, uint256 amount) external onlySubDAO {
        uint256 supply = totalSupply();
        uint256 cap_ = _cap;
        // supply ≤ cap always, so cap − supply cannot underflow; the reported supply saturates
        if (amount > cap_ - supply) {
            uint256 supplyAfter = amount > type(uint256).max - supply ? type(uint256).max : supply + amount;
            revert SDTCapExceeded(supplyAfter, cap_);
        }
        _mint(to, amount);
    }

    /// @inheritdoc ISDT
    function burn(address from, uint256 amount) external onlySubDAO {
        _burn(from, amount);
    }

    /// @inheritdoc ISDT
    function setBalanceHook(address hook) external onlySubDAO {
        if (_hook != address(0)) revert SDTHookAlreadySet(_hook);
        _hook = hook;
        emit BalanceHookSet(hook);
    }

    /// @inheritdoc ISDT
    function subDAO() external view returns (address) {
        return _subDAO;
    }

    /// @inheritdoc ISDT
    function cap() external view returns (uint256) {
        return _cap;
    }

    /// @inheritdoc ISDT
    function balanceHook() external view returns (address) {
        return _hook;
    }

    function name() public pure override returns (string memory) {
        return _NAME;
    }

    function symbol() public pure override returns (string memory) {
        return "SDT";
    }

    /// @notice An account that never delegated is its own delegate (votes without a call).
    function delegates(address account) public view override(VotesUpgradeable, IVotes) returns (address) {
        address d = super.delegates(account);
        return d == address(0) ? account : d;
    }

    function nonces(address owner) public view override(ERC20PermitUpgradeable, NoncesUpgradeable) returns (uint256) {
        return super.nonces(owner);
    }

    /// @dev Calls the balance hook (if any) before balances change, then moves balances and votes.
    function _update(address from, address to, uint256 value)
        internal
        override(ERC20Upgradeable, ERC20VotesUpgradeable)
    {
        address hook = _hook;
        if (hook != address(0)) ISDTBalanceHook(hook).onSDTBalanceChange(from, to, value);
        super._update(from, to, value);
    }

    /// @dev Delegating to address(0) means "delegate to self": the units move to the account, the
    /// delegate `delegates()` reports, so no path ever moves them to or from address(0).
    function _delegate(address account, address delegatee) internal override {
        super._delegate(account, delegatee == address(0) ? account : delegatee);
    }

    function _EIP712Name() internal pure override returns (string memory) {
        return _NAME;
    }

    function _EIP712Version() internal pure override returns (string memory) {
        return "1";
    }

    function _checkSubDAO() private view {
        if (msg.sender != _subDAO) revert SDTUnauthorized(msg.sender);
    }
}
