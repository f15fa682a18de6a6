// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ISubDAO} from "../interfaces/ISubDAO.sol";
import {ISDT} from "../interfaces/ISDT.sol";
import {RFMParams} from "../interfaces/ISubDAOFactory.sol";
import {ISubDAOSuiteFactory} from "../interfaces/ISubDAOSuiteFactory.sol";
import {IRevenueSplitter} from "../interfaces/IRevenueSplitter.sol";
import {TokenPull} from "../libraries/TokenPull.sol";

/// @title SubDAO hub: lifecycle, crowdfund, treasury and module registry
/// @notice See {ISubDAO}.
contract SubDAO is Initializable, ReentrancyGuardTransient, ISubDAO {
    using SafeERC20 for IERC20;

    uint256 private constant _WAD = 1e18;

    // slot 0: factory (20) + state (1) + crowdfundDeadline (8)
    address private _factory;
    State private _state;
    uint64 private _deadline;
    // slot 1: paymentToken (20) + modelVersion (4) + inferenceEpoch (4) + minValidators (2)
    address private _paymentToken;
    uint32 private _version;
    uint32 private _epoch;
    uint16 private _minValidators;
    // slot 2: requester (20) + rfmId (12)
    address private _requester;
    uint96 private _rfmId;
    // slot 3: raised (16) + goal (16)
    uint128 private _raised;
    uint128 private _goal;
    uint256 private _rate;
    // slot: parent (20) + parentModelVersion (4): written only for forks
    address private _parent;
    uint32 private _parentVersion;
    /// @dev Zero means "the requester".
    address private _coordinator;
    bytes32 private _dataStandard;
    bytes32 private _configDigest;
    /// @dev Payment tokens refunded to backers of a failed crowdfund (escrow = raised − refunded).
    uint128 private _refunded;
    mapping(Module module => address moduleAddress) private _modules;
    /// @dev paid (16) + sdtMinted (16) per backer.
    mapping(address backer => Contribution) private _contributions;

    struct Contribution {
        uint128 paid;
        uint128 sdt;
    }

    modifier onlyModule(Module m) {
        _checkModule(m);
        _;
    }

    constructor() {
        _disableInitializers();
    }

    /// @inheritdoc ISubDAO
    function initialize(InitArgs calldata a) external initializer {
        _factory = msg.sender;
        _deadline = a.crowdfundDeadline; // _state = Crowdfunding (0)
        _paymentToken = a.paymentToken;
        _minValidators = a.minValidators;
        _requester = a.requester;
        _rfmId = SafeCast.toUint96(a.rfmId);
        _goal = a.crowdfundGoal;
        _rate = a.sdtPerPaymentUnit;
        if (a.parent != address(0)) {
            _parent = a.parent;
            _parentVersion = a.parentModelVersion;
        }
        _modules[Module.SBGT] = a.sbgt;
        _modules[Module.SDT] = a.sdt;
        _modules[Module.TechnicalChamber] = a.technicalChamber;
        _modules[Module.FinancialChamber] = a.financialChamber;
        _modules[Module.TrainingRounds] = a.trainingRounds;
        if (a.revenueSplitter != address(0)) {
            _modules[Module.RevenueSplitter] = a.revenueSplitter;
            // from the first SDT mint on, every balance change settles through the splitter
            ISDT(a.sdt).setBalanceHook(a.revenueSplitter);
        }
    }

    // ---- crowdfund ----

    /// @inheritdoc ISubDAO
    function contribute(uint256 amount) external nonReentrant returns (uint256 sdtMinted) {
        _checkState(_bit(State.Crowdfunding));
        if (block.timestamp > _deadline) revert SubDAOCrowdfundClosed(_deadline, block.timestamp);
        uint256 paid = TokenPull.pullFromSender(IERC20(_paymentToken), amount);
        // slither-disable-next-line incorrect-equality (zero delivered is exactly what is rejected)
        if (paid == 0) revert SubDAOZeroContribution();
        // the raise fits uint128 (so does `paid`, and every backer's paid ≤ raised); with
        // rate ≤ cap·1e18 (checked at creation) paid·rate/1e18 fits uint256
        uint128 raised = SafeCast.toUint128(uint256(_raised) + paid);
        sdtMinted = Math.mulDiv(paid, _rate, _WAD);
        _raised = raised;
        Contribution storage c = _contributions[msg.sender];
        c.paid += uint128(paid);
        c.sdt += SafeCast.toUint128(sdtMinted);
        ISDT(_modules[Module.SDT]).mint(msg.sender, sdtMinted);
        emit Contributed(msg.sender, paid, sdtMinted, raised);
    }

    /// @inheritdoc ISubDAO
    function closeCrowdfund() external {
        _checkState(_bit(State.Crowdfunding));
        if (_raised >= _goal) {
            _setState(State.Onboarding);
        } else if (block.timestamp > _deadline) {
            _setState(State.Failed);
        } else {
            revert SubDAOCrowdfundOpen(_raised, _goal, _deadline);
        }
    }

    /// @inheritdoc ISubDAO
    function refund() external nonReentrant returns (uint256 amount) {
        if (_state == State.Crowdfunding && block.timestamp > _deadline && _raised < _goal) {
            _setState(State.Failed);
        }
        _checkState(_bit(State.Failed));
        Contribution memory c = _contributions[msg.sender];
        if (c.paid == 0) revert SubDAONothingToRefund(msg.sender);
        delete _contributions[msg.sender];
        amount = c.paid;
        _refunded += c.paid;
        ISDT(_modules[Module.SDT]).burn(msg.sender, c.sdt);
        IERC20(_paymentToken).safeTransfer(msg.sender, amount);
        emit Refunded(msg.sender, amount, c.sdt);
    }

    // ---- hooks from TrainingRounds ----

    /// @inheritdoc ISubDAO
    function onLaunched() external onlyModule(Module.TrainingRounds) {
        _checkState(_bit(State.Onboarding));
        _setState(State.Training);
    }

    /// @inheritdoc ISubDAO
    function onRoundOpened() external onlyModule(Module.TrainingRounds) {
        _checkState(_bit(State.Training) | _bit(State.Deployed));
        if (_state == State.Deployed) _setState(State.Training);
    }

    /// @inheritdoc ISubDAO
    function onVersionAccepted(uint256 roundId) external onlyModule(Module.TrainingRounds) returns (uint32 version) {
        _checkState(_bit(State.Training));
        version = _version + 1;
        uint32 epoch = _epoch + 1;
        _version = version;
        _epoch = epoch;
        emit ModelVersionAccepted(version, roundId, epoch);
        _setState(State.Deployed);
    }

    /// @inheritdoc ISubDAO
    function onVersionRejected() external onlyModule(Module.TrainingRounds) {
        _checkState(_bit(State.Training));
        if (_version != 0) _setState(State.Deployed);
    }

    // ---- technical chamber ----

    /// @inheritdoc ISubDAO
    function retire() external onlyModule(Module.TechnicalChamber) {
        _checkState(_bit(State.Onboarding) | _bit(State.Training) | _bit(State.Deployed));
        _setState(State.Retired);
        // the last SBGT pool is over (claimable, dust sweepable), whatever its end time
        address splitter = _modules[Module.RevenueSplitter];
        if (splitter != address(0)) IRevenueSplitter(splitter).onSubDAORetired();
    }

    /// @inheritdoc ISubDAO
    function fork(RFMParams calldata childParams) external onlyModule(Module.TechnicalChamber) returns (address child) {
        _checkState(_bit(State.Training) | _bit(State.Deployed) | _bit(State.Retired));
        uint32 version = _version;
        child = ISubDAOSuiteFactory(_factory).forkSubDAO(childParams, version);
        emit Forked(child, version);
    }

    /// @inheritdoc ISubDAO
    function setCoordinator(address coordinator_) external onlyModule(Module.TechnicalChamber) {
        emit CoordinatorSet(coordinator(), coordinator_);
        _coordinator = coordinator_;
    }

    /// @inheritdoc ISubDAO
    function setTrainingConfig(bytes32 dataStandard, string calldata configCid)
        external
        onlyModule(Module.TechnicalChamber)
    {
        _dataStandard = dataStandard;
        _configDigest = keccak256(bytes(configCid));
        emit TrainingConfigSet(dataStandard, configCid);
    }

    /// @inheritdoc ISubDAO
    function setModule(Module module_, address moduleAddress) external {
        if (msg.sender != _factory && msg.sender != _modules[Module.TechnicalChamber]) {
            revert SubDAOUnauthorized(msg.sender);
        }
        if (module_ != Module.Marketplace || _modules[module_] != address(0)) revert SubDAOModuleLocked(module_);
        _modules[module_] = moduleAddress;
        emit ModuleSet(module_, moduleAddress);
    }

    // ---- financial chamber ----

    /// @inheritdoc ISubDAO
    function spendTreasury(address token, address to, uint256 amount)
        external
        nonReentrant
        onlyModule(Module.FinancialChamber)
    {
        if (token == _paymentToken) {
            uint256 locked = escrowOf();
            if (locked != 0) {
                uint256 balance = IERC20(token).balanceOf(address(this));
                if (amount > balance || balance - amount < locked) {
                    revert SubDAOEscrowLocked(token, balance, locked, amount);
                }
            }
        }
        IERC20(token).safeTransfer(to, amount);
        emit TreasurySpent(token, to, amount);
    }

    /// @inheritdoc ISubDAO
    function claimSDTRevenue() external nonReentrant returns (uint256 amount) {
        address splitter = _modules[Module.RevenueSplitter];
        amount = IRevenueSplitter(splitter).claimSDT();
        emit SDTRevenueCollected(splitter, amount);
    }

    /// @inheritdoc ISubDAO
    function mintSDT(address to, uint256 amount) external onlyModule(Module.FinancialChamber) {
        _checkState(_bit(State.Onboarding) | _bit(State.Training) | _bit(State.Deployed));
        ISDT(_modules[Module.SDT]).mint(to, amount);
        emit SDTEmitted(to, amount);
    }

    // ---- views ----

    /// @inheritdoc ISubDAO
    function state() external view returns (State) {
        return _state;
    }

    /// @inheritdoc ISubDAO
    function factory() external view returns (address) {
        return _factory;
    }

    /// @inheritdoc ISubDAO
    function rfmId() external view returns (uint256) {
        return _rfmId;
    }

    /// @inheritdoc ISubDAO
    function requester() external view returns (address) {
        return _requester;
    }

    /// @inheritdoc ISubDAO
    function coordinator() public view returns (address) {
        address c = _coordinator;
        return c == address(0) ? _requester : c;
    }

    /// @inheritdoc ISubDAO
    function module(Module module_) external view returns (address) {
        return _modules[module_];
    }

    /// @inheritdoc ISubDAO
    function paymentToken() external view returns (address) {
        return _paymentToken;
    }

    /// @inheritdoc ISubDAO
    function minValidators() external view returns (uint16) {
        return _minValidators;
    }

    /// @inheritdoc ISubDAO
    function crowdfund() external view returns (uint256 raised, uint256 goal, uint64 deadline, uint256 rate) {
        return (_raised, _goal, _deadline, _rate);
    }

    /// @inheritdoc ISubDAO
    function contributionOf(address backer) external view returns (uint256 paid, uint256 sdtMinted) {
        Contribution memory c = _contributions[backer];
        return (c.paid, c.sdt);
    }

    /// @inheritdoc ISubDAO
    function escrowOf() public view returns (uint256) {
        State st = _state;
        if (st != State.Crowdfunding && st != State.Failed) return 0;
        return _raised - _refunded; // Σ paid of the backers not refunded yet
    }

    /// @inheritdoc ISubDAO
    function modelVersion() external view returns (uint32 version, uint32 inferenceEpoch) {
        return (_version, _epoch);
    }

    /// @inheritdoc ISubDAO
    function lineage() external view returns (address parent, uint32 parentModelVersion) {
        return (_parent, _parentVersion);
    }

    /// @inheritdoc ISubDAO
    function trainingConfig() external view returns (bytes32 dataStandard, bytes32 configCidDigest) {
        return (_dataStandard, _configDigest);
    }

    // ---- internal ----

    /// @dev The one state-check helper: reverts unless the current state's bit is in `allowed`.
    function _checkState(bytes32 allowed) private view {
        State current = _state;
        if (_bit(current) & allowed == 0) revert SubDAOInvalidState(current, allowed);
    }

    function _setState(State next) private {
        State previous = _state;
        _state = next;
        emit StateChanged(previous, next);
    }

    function _bit(State s) private pure returns (bytes32) {
        return bytes32(1 << uint8(s));
    }

    function _checkModule(Module m) private view {
        if (msg.sender != _modules[m]) revert SubDAOUnauthorized(msg.sender);
    }
}
