"""The off-chain orchestrator of FLAI's RFM lifecycle.

It joins the FL engine (:mod:`flai.fl`), the sMPC layer (:mod:`flai.mpc`) and IPFS
(:mod:`flai.storage`) into the whole lifecycle (:func:`run_lifecycle`): per-round data flow
(:mod:`~flai.pipeline.round_flow`), paid secret-shared inference
(:mod:`~flai.pipeline.inference`), a federated-analytics query
(:mod:`~flai.pipeline.analytics`), the revenue split, revocation, fork and retirement, and
the claims. The chain is reached only through the :class:`~flai.pipeline.ports.ChainPort`
protocol, which ``flai.chain`` implements over the contracts;
:class:`~flai.pipeline.ledger.InMemoryLedger` / :class:`FileLedger` are its test doubles,
on which the whole lifecycle also runs offline (``python -m flai.pipeline``). Every step
goes through a resumable journal (:mod:`~flai.pipeline.journal`).
"""

from flai.fl.consensus import mean_abs_deviation, slash_amounts, stake_weighted_median
from flai.pipeline.analytics import AnalyticsOutcome
from flai.pipeline.config import (
    RFMSpec,
    ScenarioConfig,
    load_config,
    load_rfm_spec,
    parse_config,
    parse_rfm_spec,
)
from flai.pipeline.errors import (
    ConfigError,
    ConsensusMismatchError,
    JournalError,
    LedgerRuleError,
    MalformedBlobError,
    PipelineError,
    StorageUnavailableError,
    ThresholdUnavailableError,
)
from flai.pipeline.inference import InferenceOutcome, SecretSharedService, serve_inference
from flai.pipeline.journal import FAULT_ENV, Journal, check_fault_hook
from flai.pipeline.ledger import FileLedger, InMemoryLedger
from flai.pipeline.lifecycle import (
    LifecycleResult,
    run_lifecycle,
    run_next_round,
    serve_paid_requests,
)
from flai.pipeline.ports import (
    ChainPort,
    ForkRecord,
    LedgerCosts,
    PaidRequest,
    RevenueClaims,
    RoundPhase,
    Tier,
)
from flai.pipeline.report import format_tables, write_report
from flai.pipeline.revenue import RevenueShares, RevenueSplit, split_revenue
from flai.pipeline.roles import ComputeNode, Federation, Hospital, KeyStore, ModelUser
from flai.pipeline.round_flow import RoundRecord, run_round_flow
from flai.pipeline.scenario import build_setting, preflight, run_id

__all__ = [
    "FAULT_ENV",
    "AnalyticsOutcome",
    "ChainPort",
    "ComputeNode",
    "ConfigError",
    "ConsensusMismatchError",
    "Federation",
    "FileLedger",
    "ForkRecord",
    "Hospital",
    "InMemoryLedger",
    "InferenceOutcome",
    "Journal",
    "JournalError",
    "KeyStore",
    "LedgerCosts",
    "LedgerRuleError",
    "LifecycleResult",
    "MalformedBlobError",
    "ModelUser",
    "PaidRequest",
    "PipelineError",
    "RFMSpec",
    "RevenueClaims",
    "RevenueShares",
    "RevenueSplit",
    "RoundPhase",
    "RoundRecord",
    "ScenarioConfig",
    "SecretSharedService",
    "StorageUnavailableError",
    "ThresholdUnavailableError",
    "Tier",
    "build_setting",
    "check_fault_hook",
    "format_tables",
    "load_config",
    "load_rfm_spec",
    "mean_abs_deviation",
    "parse_config",
    "parse_rfm_spec",
    "preflight",
    "run_id",
    "run_lifecycle",
    "run_next_round",
    "run_round_flow",
    "serve_inference",
    "serve_paid_requests",
    "slash_amounts",
    "split_revenue",
    "stake_weighted_median",
    "write_report",
]
