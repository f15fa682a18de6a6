// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {RFMParams} from "./ISubDAOFactory.sol";

/// @title SubDAO: lifecycle, crowdfund escrow, treasury and module registry of one model
/// @notice Lifecycle (001 §7.5, §8.2–8.5):
///   Crowdfunding ──goal reached──▶ Onboarding ──launch──▶ Training ⇄ Deployed ──▶ Retired
///   Crowdfunding ──deadline, goal missed──▶ Failed (every backer refunds in full)
/// Training → Deployed when a model version is accepted; Deployed → Training when the next
/// round opens; a rejected round returns to Deployed if a version exists. Onboarding, Training
/// and Deployed can be Retired by the technical chamber (no new rounds; the marketplace
/// reads `state()` to stop sales). A fork (technical chamber) creates a child suite through the
/// factory that records this SubDAO and its current model version.
/// Governance: two OpenZeppelin Governor clones execute directly on the suite (no per-SubDAO
/// timelock: the ~1.6M-gas TimelockController does not fit the 1.5M creation budget; the
/// voting period is the only delay). The technical chamber (SBGT-weighted) and the financial
/// chamber (SDT-weighted) are the only callers of the guarded setters below.
/// Treasury: the SubDAO itself holds the raised payment tokens (after the goal is reached),
/// slashed FLAI, its revenue-splitter releases and the SDT-side revenue of SDT allocated to it
/// (`claimSDTRevenue`); the financial chamber spends it with `spendTreasury` (pull by proposal).
/// While the crowdfund may still refund (Crowdfunding, Failed) the payment tokens owed to
/// backers (`escrowOf`) are untouchable; anything the hub holds beyond them is treasury.
interface ISubDAO {
    /// @notice Lifecycle states.
    enum State {
        Crowdfunding,
        Onboarding,
        Training,
        Deployed,
        Retired,
        Failed
    }

    /// @notice Module slots of the suite. The first six (incl. the RevenueSplitter,
    /// which is also the SDT's balance hook from creation on) are wired at creation and fixed;
    /// Marketplace is an extension slot (settable once by the factory or the technical chamber).
    enum Module {
        SBGT,
        SDT,
        TechnicalChamber,
        FinancialChamber,
        TrainingRounds,
        RevenueSplitter,
        Marketplace
    }

    /// @notice Creation arguments (the factory fills them from RFMParams).
    struct InitArgs {
        uint256 rfmId;
        address requester;
        address paymentToken;
        uint64 crowdfundDeadline;
        uint16 minValidators;
        uint128 crowdfundGoal;
        uint256 sdtPerPaymentUnit;
        address sbgt;
        address sdt;
        address technicalChamber;
        address financialChamber;
        address trainingRounds;
        address revenueSplitter;
        address parent;
        uint32 parentModelVersion;
    }

    /// @notice Emitted on every lifecycle transition.
    event StateChanged(State indexed previous, State indexed next);

    /// @notice Emitted when a backer contributes `paid` payment tokens and receives `sdtMinted`.
    event Contributed(address indexed backer, uint256 paid, uint256 sdtMinted, uint256 totalRaised);

    /// @notice Emitted when a backer of a failed crowdfund is refunded (its SDT burned).
    event Refunded(address indexed backer, uint256 amount, uint256 sdtBurned);

    /// @notice Emitted when the financial chamber moves treasury funds.
    event TreasurySpent(address indexed token, address indexed to, uint256 amount);

    /// @notice Emitted when the financial chamber mints SDT (emissions / treasury allocation).
    event SDTEmitted(address indexed to, uint256 amount);

    /// @notice Emitted when a module slot is set.
    event ModuleSet(Module indexed module, address indexed module_);

    /// @notice Emitted when the technical chamber changes the round coordinator.
    event CoordinatorSet(address indexed previous, address indexed next);

    /// @notice Emitted when the technical chamber sets the data standard and hyperparameter config.
    event TrainingConfigSet(bytes32 dataStandard, string configCid);

    /// @notice Emitted when a model version is accepted: a new inference epoch starts.
    event ModelVersionAccepted(uint32 indexed version, uint256 indexed roundId, uint32 inferenceEpoch);

    /// @notice Emitted when a child SubDAO is forked from this one.
    event Forked(address indexed child, uint32 parentModelVersion);

    /// @notice Emitted when the SDT-side revenue owed to the SDT the SubDAO holds was claimed
    /// from `splitter` into the treasury.
    event SDTRevenueCollected(address indexed splitter, uint256 amount);

    /// @notice The action is not allowed in the current state.
    error SubDAOInvalidState(State current, bytes32 allowedStates);

    /// @notice The caller lacks the role the action needs.
    error SubDAOUnauthorized(address caller);

    /// @notice A contribution arrived after the crowdfund deadline.
    error SubDAOCrowdfundClosed(uint64 deadline, uint256 nowTimestamp);

    /// @notice The crowdfund can be closed only once the goal is reached or the deadline passed.
    error SubDAOCrowdfundOpen(uint256 raised, uint256 goal, uint64 deadline);

    /// @notice The contribution was zero (or the token delivered nothing).
    error SubDAOZeroContribution();

    /// @notice `backer` has nothing to refund.
    error SubDAONothingToRefund(address backer);

    /// @notice The module slot is fixed or already set.
    error SubDAOModuleLocked(Module module);

    /// @notice Spending `amount` of `token` would leave less than the crowdfund escrow `escrow`
    /// (the hub holds `balance`).
    error SubDAOEscrowLocked(address token, uint256 balance, uint256 escrow, uint256 amount);

    /// @notice Initializes a clone (factory only; the factory becomes `factory()`) and makes
    /// `args.revenueSplitter` the SDT's balance hook (the SDT must be initialized already).
    function initialize(InitArgs calldata args) external;

    /// @notice Pays `amount` payment tokens into the crowdfund and mints SDT at the RFM rate.
    /// @dev Measured by balance delta (fee-on-transfer safe). SDT = paid·rate/1e18.
    function contribute(uint256 amount) external returns (uint256 sdtMinted);

    /// @notice Closes the crowdfund: → Onboarding if the goal is reached (any time), → Failed
    /// if the deadline passed with the goal missed.
    function closeCrowdfund() external;

    /// @notice Refunds the caller's whole contribution of a failed crowdfund (burns its SDT).
    /// @dev The backer must still hold the SDT it received (SDT is tradable during the crowdfund);
    /// otherwise the burn reverts with ERC20InsufficientBalance — whoever holds the SDT can hand it
    /// back first. Escrow is untouchable meanwhile (`spendTreasury` never leaves less than {escrowOf}).
    function refund() external returns (uint256 amount);

    /// @notice TrainingRounds hook: onboarding is complete (Onboarding → Training).
    function onLaunched() external;

    /// @notice TrainingRounds hook: a round opened (Deployed → Training).
    function onRoundOpened() external;

    /// @notice TrainingRounds hook: a round was accepted as the next model version.
    function onVersionAccepted(uint256 roundId) external returns (uint32 version);

    /// @notice TrainingRounds hook: a round was rejected (back to Deployed if a version exists).
    function onVersionRejected() external;

    /// @notice Technical chamber: retire the model (no new rounds, no sales); tells the revenue
    /// splitter that the last inference epoch (and its last SBGT pool) is over.
    function retire() external;

    /// @notice Technical chamber: fork a child SubDAO that records this one as parent.
    function fork(RFMParams calldata childParams) external returns (address child);

    /// @notice Technical chamber: set the round coordinator.
    function setCoordinator(address coordinator_) external;

    /// @notice Technical chamber: set the data standard and the hyperparameter config CID.
    function setTrainingConfig(bytes32 dataStandard, string calldata configCid) external;

    /// @notice Factory or technical chamber: set the extension module slot (Marketplace) once.
    function setModule(Module module_, address moduleAddress) external;

    /// @notice Financial chamber: move treasury funds, in any state; of the payment token, never
    /// below the crowdfund escrow ({escrowOf}: reverts with {SubDAOEscrowLocked}).
    function spendTreasury(address token, address to, uint256 amount) external;

    /// @notice Anyone: claims from the revenue splitter the SDT-side revenue (eq. 11) owed to the
    /// SDT this SubDAO holds or held (treasury allocation), into the treasury. Reverts with the
    /// splitter's SplitterNothingToClaim when nothing is owed.
    function claimSDTRevenue() external returns (uint256 amount);

    /// @notice Financial chamber: mint SDT (emissions, treasury allocation) within the cap.
    function mintSDT(address to, uint256 amount) external;

    /// @notice Current lifecycle state.
    function state() external view returns (State);

    /// @notice The factory that created this SubDAO.
    function factory() external view returns (address);

    /// @notice The RFM id (a fork carries its parent's RFM id).
    function rfmId() external view returns (uint256);

    /// @notice The RFM submitter.
    function requester() external view returns (address);

    /// @notice The round coordinator (the requester until the technical chamber changes it).
    function coordinator() external view returns (address);

    /// @notice A module of the suite.
    function module(Module module_) external view returns (address);

    /// @notice The crowdfund's payment token.
    function paymentToken() external view returns (address);

    /// @notice Minimum validators before training can start.
    function minValidators() external view returns (uint16);

    /// @notice Crowdfund figures.
    function crowdfund()
        external
        view
        returns (uint256 raised, uint256 goal, uint64 deadline, uint256 sdtPerPaymentUnit);

    /// @notice Payment tokens held for backers' refunds: Σ paid of unrefunded backers while
    /// Crowdfunding or Failed, else 0 (the raise became treasury).
    function escrowOf() external view returns (uint256);

    /// @notice Payment tokens and SDT recorded for `backer`.
    function contributionOf(address backer) external view returns (uint256 paid, uint256 sdtMinted);

    /// @notice Current model version (0 = none yet) and inference epoch.
    function modelVersion() external view returns (uint32 version, uint32 inferenceEpoch);

    /// @notice Parent SubDAO (zero if none) and the parent's model version at the fork.
    function lineage() external view returns (address parent, uint32 parentModelVersion);

    /// @notice The current data standard and the digest of the hyperparameter config CID.
    function trainingConfig() external view returns (bytes32 dataStandard, bytes32 configCidDigest);
}
