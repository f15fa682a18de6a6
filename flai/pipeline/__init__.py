"""The off-chain orchestrator of FLAI's RFM lifecycle (issue 8, chain-independent half).

It joins the FL engine (:mod:`flai.fl`), the sMPC layer (:mod:`flai.mpc`) and IPFS
(:mod:`flai.storage`) into the per-round data flow (:mod:`~flai.pipeline.round_flow`),
paid secret-shared inference (:mod:`~flai.pipeline.inference`) and a federated-analytics
query (:mod:`~flai.pipeline.analytics`). The chain is reached only through the
:class:`~flai.pipeline.ports.ChainPort` protocol, which ``flai.chain`` implements over the
contracts; :class:`~flai.pipeline.ledger.InMemoryLedger` / :class:`FileLedger` are its test
doubles. Every step goes through a resumable journal (:mod:`~flai.pipeline.journal`).
"""

from flai.pipeline.analytics import run_fa_query
from flai.pipeline.config import (
    KNOWN_NETWORKS,
    ScenarioConfig,
    load_config,
    parse_config,
)
from flai.pipeline.consensus import mean_abs_deviation, slash_amounts, stake_weighted_median
from flai.pipeline.errors import (
    ConfigError,
    ConsensusMismatchError,
    JournalError,
    LedgerRuleError,
    PipelineError,
    StorageUnavailableError,
    ThresholdUnavailableError,
)
from flai.pipeline.inference import InferenceOutcome, SecretSharedService, serve_inference
from flai.pipeline.journal import FAULT_ENV, Journal
from flai.pipeline.ledger import FileLedger, InMemoryLedger
from flai.pipeline.ports import ChainPort, PaidRequest, RoundPhase, Tier
from flai.pipeline.report import format_tables, write_report
from flai.pipeline.revenue import split_revenue
from flai.pipeline.roles import ComputeNode, Hospital, KeyStore, ModelUser, Validator
from flai.pipeline.round_flow import Federation, RoundRecord, run_round_flow
from flai.pipeline.scenario import build_setting, run_id, run_scenario

__all__ = [
    "FAULT_ENV",
    "KNOWN_NETWORKS",
    "ChainPort",
    "ComputeNode",
    "ConfigError",
    "ConsensusMismatchError",
    "Federation",
    "FileLedger",
    "Hospital",
    "InMemoryLedger",
    "InferenceOutcome",
    "Journal",
    "JournalError",
    "KeyStore",
    "LedgerRuleError",
    "ModelUser",
    "PaidRequest",
    "PipelineError",
    "RoundPhase",
    "RoundRecord",
    "ScenarioConfig",
    "SecretSharedService",
    "StorageUnavailableError",
    "ThresholdUnavailableError",
    "Tier",
    "Validator",
    "build_setting",
    "format_tables",
    "load_config",
    "mean_abs_deviation",
    "parse_config",
    "run_fa_query",
    "run_id",
    "run_round_flow",
    "run_scenario",
    "serve_inference",
    "slash_amounts",
    "split_revenue",
    "stake_weighted_median",
    "write_report",
]
