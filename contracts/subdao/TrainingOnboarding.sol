// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ITrainingRounds} from "../interfaces/ITrainingRounds.sol";
import {ISubDAO} from "../interfaces/ISubDAO.sol";
import {ISBGT} from "../interfaces/ISBGT.sol";
import {TokenPull} from "../libraries/TokenPull.sol";

/// @title Onboarding of a SubDAO's contributors and validators
/// @notice The membership half of {ITrainingRounds}: applications with collateral or deposits,
/// the requester's one-time launch, whitelisting, revocation and removal by the technical
/// chamber, withdrawals. {TrainingRounds} adds the rounds on the same storage (one contract,
/// one clone: no call between the two halves).
abstract contract TrainingOnboarding is Initializable, ReentrancyGuardTransient, ITrainingRounds {
    using SafeERC20 for IERC20;

    uint256 public constant MAX_MEMBERS = 256;
    uint256 public constant MIN_DEPOSIT = 1e18;

    IERC20 internal immutable _FLAI;

    struct Member {
        MemberStatus status;
        uint16 index;
        uint96 amount; // collateral (contributor) or deposit (validator), FLAI
    }

    // slot 0: subDAO (20) + contributorCount (2) + validatorCount (2) + activeValidators (2) +
    // roundCount (4): openRound reads the hub and the round counter in one SLOAD
    address internal _subDAO;
    uint16 internal _contributorCount;
    uint16 internal _validatorCount;
    uint16 internal _activeValidators;
    uint32 internal _roundCount;
    uint256 internal _totalSlashed;
    mapping(address account => Member) internal _contributors;
    mapping(address account => bytes32 digest) internal _attestations;
    mapping(uint16 memberIndex => address account) internal _contributorAt;
    mapping(address account => Member) internal _validators;
    mapping(uint16 validatorIndex => address account) internal _validatorAt;

    modifier onlyTechnical() {
        _checkCaller(_hubModule(ISubDAO.Module.TechnicalChamber));
        _;
    }

    constructor(IERC20 flai) {
        _FLAI = flai;
    }

    /// @inheritdoc ITrainingRounds
    function applyContributor(string calldata attestationCid, uint256 collateral) external nonReentrant {
        Member storage m = _contributors[msg.sender];
        if (m.status != MemberStatus.None) revert RoundsAlreadyApplied(msg.sender, m.status);
        uint96 received = _pull(collateral);
        m.status = MemberStatus.Applied;
        m.amount = received;
        _attestations[msg.sender] = keccak256(bytes(attestationCid));
        emit ContributorApplied(msg.sender, attestationCid, received);
    }

    /// @inheritdoc ITrainingRounds
    function applyValidator(uint256 deposit) external nonReentrant {
        Member storage m = _validators[msg.sender];
        if (m.status != MemberStatus.None) revert RoundsAlreadyApplied(msg.sender, m.status);
        if (deposit < MIN_DEPOSIT) revert RoundsDepositTooSmall(deposit, MIN_DEPOSIT);
        uint96 received = _pull(deposit);
        if (received < MIN_DEPOSIT) revert RoundsDepositTooSmall(received, MIN_DEPOSIT);
        m.status = MemberStatus.Applied;
        m.amount = received;
        emit ValidatorApplied(msg.sender, received);
    }

    /// @inheritdoc ITrainingRounds
    function launch(address[] calldata founders, uint256[] calldata points, address[] calldata validators_) external {
        ISubDAO hub = ISubDAO(_subDAO);
        _checkCaller(hub.requester());
        if (founders.length != points.length) revert RoundsLengthMismatch(founders.length, points.length);
        uint256 need = hub.minValidators();
        if (validators_.length < need || validators_.length == 0) {
            revert RoundsNotEnoughValidators(validators_.length, need);
        }
        ISBGT sbgt = ISBGT(hub.module(ISubDAO.Module.SBGT));
        for (uint256 i; i < founders.length; ++i) {
            _whitelistContributor(sbgt, founders[i], points[i]);
        }
        for (uint256 i; i < validators_.length; ++i) {
            _whitelistValidator(validators_[i]);
        }
        emit Launched(founders.length, validators_.length);
        hub.onLaunched(); // reverts unless Onboarding: launch happens once
    }

    /// @inheritdoc ITrainingRounds
    function whitelistContributors(address[] calldata accounts) external onlyTechnical {
        ISBGT sbgt = ISBGT(_hubModule(ISubDAO.Module.SBGT));
        for (uint256 i; i < accounts.length; ++i) {
            _whitelistContributor(sbgt, accounts[i], 0);
        }
    }

    /// @inheritdoc ITrainingRounds
    function whitelistValidators(address[] calldata accounts) external onlyTechnical {
        for (uint256 i; i < accounts.length; ++i) {
            _whitelistValidator(accounts[i]);
        }
    }

    /// @inheritdoc ITrainingRounds
    function revokeContributor(address account, RevocationReason reason) external onlyTechnical nonReentrant {
        Member storage m = _contributors[account];
        if (m.status != MemberStatus.Whitelisted) revert RoundsNotWhitelisted(account);
        m.status = MemberStatus.Revoked;
        uint256 slashed = 0;
        if (reason == RevocationReason.Malice) {
            slashed = m.amount;
            m.amount = 0;
            _totalSlashed += slashed;
        }
        ISBGT(_hubModule(ISubDAO.Module.SBGT)).revoke(account);
        emit ContributorRevoked(account, reason, slashed);
        if (slashed != 0) _FLAI.safeTransfer(_subDAO, slashed);
    }

    /// @inheritdoc ITrainingRounds
    function removeValidator(address account) external onlyTechnical {
        Member storage m = _validators[account];
        if (m.status != MemberStatus.Whitelisted) revert RoundsNotValidator(account);
        m.status = MemberStatus.Revoked;
        --_activeValidators; // ≥ 1 because `account` was whitelisted
        emit ValidatorRemoved(account);
    }

    /// @inheritdoc ITrainingRounds
    function withdrawCollateral() external nonReentrant returns (uint256 amount) {
        amount = _withdraw(_contributors[msg.sender]);
        emit CollateralWithdrawn(msg.sender, amount);
        _FLAI.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc ITrainingRounds
    function withdrawDeposit() external nonReentrant returns (uint256 amount) {
        amount = _withdraw(_validators[msg.sender]);
        emit DepositWithdrawn(msg.sender, amount);
        _FLAI.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc ITrainingRounds
    function subDAO() external view returns (address) {
        return _subDAO;
    }

    /// @inheritdoc ITrainingRounds
    function flaiToken() external view returns (address) {
        return address(_FLAI);
    }

    /// @inheritdoc ITrainingRounds
    function contributor(address account)
        external
        view
        returns (MemberStatus status, uint16 memberIndex, uint256 collateral, bytes32 attestationDigest)
    {
        Member memory m = _contributors[account];
        return (m.status, m.index, m.amount, _attestations[account]);
    }

    /// @inheritdoc ITrainingRounds
    function validator(address account) external view returns (MemberStatus status, uint16 validatorIndex, uint256 deposit) {
        Member memory m = _validators[account];
        return (m.status, m.index, m.amount);
    }

    /// @inheritdoc ITrainingRounds
    function contributorCount() external view returns (uint16) {
        return _contributorCount;
    }

    /// @inheritdoc ITrainingRounds
    function validatorCount() external view returns (uint16) {
        return _validatorCount;
    }

    /// @inheritdoc ITrainingRounds
    function activeValidators() external view returns (uint256) {
        return _activeValidators;
    }

    /// @inheritdoc ITrainingRounds
    function totalSlashed() external view returns (uint256) {
        return _totalSlashed;
    }

    function _hubModule(ISubDAO.Module m) internal view returns (address) {
        return ISubDAO(_subDAO).module(m);
    }

    function _checkCaller(address expected) internal view {
        if (msg.sender != expected) revert RoundsUnauthorized(msg.sender);
    }

    /// @dev Only whitelisted (or later revoked) members own their index; Applied/None read index 0.
    function _indexed(MemberStatus status) internal pure returns (bool) {
        return uint8(status) >= uint8(MemberStatus.Whitelisted); // Whitelisted or Revoked
    }

    function _whitelistContributor(ISBGT sbgt, address account, uint256 points) private {
        Member storage m = _contributors[account];
        if (m.status != MemberStatus.Applied) revert RoundsNotApplied(account, m.status);
        uint16 idx = _contributorCount;
        if (idx >= MAX_MEMBERS) revert RoundsMemberLimit(MAX_MEMBERS);
        m.status = MemberStatus.Whitelisted;
        m.index = idx;
        _contributorAt[idx] = account;
        _contributorCount = idx + 1;
        emit ContributorWhitelisted(account, idx, points);
        // slither-disable-next-line unused-return (the token id is the account's address)
        sbgt.mint(account, points);
    }

    function _whitelistValidator(address account) private {
        Member storage m = _validators[account];
        if (m.status != MemberStatus.Applied) revert RoundsNotApplied(account, m.status);
        uint16 idx = _validatorCount;
        if (idx >= MAX_MEMBERS) revert RoundsMemberLimit(MAX_MEMBERS);
        m.status = MemberStatus.Whitelisted;
        m.index = idx;
        _validatorAt[idx] = account;
        _validatorCount = idx + 1;
        ++_activeValidators;
        emit ValidatorWhitelisted(account, idx, m.amount);
    }

    /// @dev Empties a member's collateral or deposit once it is withdrawable: not whitelisted, or
    /// the SubDAO retired. An applicant that withdraws may apply again.
    function _withdraw(Member storage m) private returns (uint256 amount) {
        amount = m.amount;
        if (amount == 0 || (m.status == MemberStatus.Whitelisted && !_retired())) {
            revert RoundsNothingToWithdraw(msg.sender);
        }
        m.amount = 0;
        if (m.status == MemberStatus.Applied) m.status = MemberStatus.None;
    }

    function _pull(uint256 amount) private returns (uint96) {
        if (amount == 0) return 0;
        return SafeCast.toUint96(TokenPull.pullFromSender(_FLAI, amount));
    }

    function _retired() private view returns (bool) {
        return ISubDAO(_subDAO).state() == ISubDAO.State.Retired;
    }
}
