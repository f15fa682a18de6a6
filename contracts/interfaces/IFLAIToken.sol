// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";

/// @title FLAI platform token
/// @notice The platform currency: members stake it in the SuperDAO, RFM
/// submitters pay creation fees in it, and the platform treasury holds it. A plain ERC-20
/// with EIP-2612 permit: no transfer fee, no rebasing, no mint or burn after construction,
/// so contracts that receive FLAI can account for it exactly.
interface IFLAIToken is IERC20, IERC20Metadata, IERC20Permit {}
