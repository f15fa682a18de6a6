"""Secure multi-party computation layer of FLAI (001 §5, 000 §2.2.1).

Building blocks
    :mod:`~flai.mpc.ring` (Z_{2^ℓ}), :mod:`~flai.mpc.encoding` (fixed point),
    :mod:`~flai.mpc.prg` (CSPRNG seeds, AES-CTR PRG, HKDF), :mod:`~flai.mpc.shamir`
    (Shamir over GF(2^521 − 1)), :mod:`~flai.mpc.replicated` (threshold replicated sharing
    with seed-compressed uploads), :mod:`~flai.mpc.envelope` (X25519 + HKDF +
    ChaCha20-Poly1305 sealed envelopes), :mod:`~flai.mpc.session` (AES-GCM sessions).
    :mod:`~flai.mpc.ring128` (Z_{2^128} on uint64 pairs), :mod:`~flai.mpc.channel`
    (authenticated node-to-node channels and pair seeds), :mod:`~flai.mpc.rss3`
    (three-party multiplication and truncation), :mod:`~flai.mpc.compare` (sign of a shared
    value, opening one bit).
Protocols
    :mod:`~flai.mpc.secure_aggregation` (φ-weighted FedAvg on shares),
    :mod:`~flai.mpc.verify` (verifiable partials: commitments and client check digests),
    :mod:`~flai.mpc.secure_scoring` (Shapley contribution scores on secret-shared holdouts),
    :mod:`~flai.mpc.masking` (Bonawitz et al. pairwise masking with dropout recovery),
    :mod:`~flai.mpc.analytics` (secure sum/count/mean/variance/correlation, small-cell
    suppression),
    :mod:`~flai.mpc.inference` (logistic-regression inference: session protocol with
    masked inputs, one-shot Beaver-triple protocol),
    :mod:`~flai.mpc.conversion` (aggregation shares → inference shares, no reconstruction),
    :mod:`~flai.mpc.release` (the model sealed to its contributors, on-chain commitment),
    :mod:`~flai.mpc.secure_auc` (the acceptance AUC on shares).

Trust model in one paragraph: compute nodes are semi-honest and at most t < n/2 of them
collude; they see uniformly random shares and, when they reconstruct, only the aggregate.
The dealer of Beaver triples, input masks and lookup tables is trusted not to collude
with a node. Clients are trusted to
encode in-range values (an out-of-range sum is detected with high probability, not
prevented). A node that reports a wrong aggregation partial is detected and named
(:mod:`~flai.mpc.verify`); otherwise nothing here is secure against malicious nodes.
"""

from flai.mpc.analytics import (
    AnalyticsConfig,
    FederatedSummary,
    StratifiedMean,
    secure_correlation,
    secure_count,
    secure_describe,
    secure_mean,
    secure_stratified_mean,
    secure_sum,
    secure_variance,
)
from flai.mpc.conversion import ConversionPlan, LiftDealer, convert_aggregate, replicate_partials
from flai.mpc.encoding import FixedPoint
from flai.mpc.envelope import (
    KeyPair,
    MultiEnvelope,
    open_body,
    open_for,
    open_key_for,
    open_sealed,
    seal,
    seal_for_many,
)
from flai.mpc.errors import (
    CohortTooSmallError,
    EncodingRangeError,
    EnvelopeError,
    ModelCommitmentError,
    MPCError,
    PartialMismatchError,
    ProtocolError,
    ReplayError,
    ShareMismatchError,
    ThresholdError,
)
from flai.mpc.inference.beaver import (
    InferenceClient,
    InferenceNode,
    SecureLogisticRegression,
    TripleDealer,
    share_model,
)
from flai.mpc.inference.deployment import MaskedInference, open_offsets
from flai.mpc.inference.masks import MaskDealer, NodeMasks, UserMasks
from flai.mpc.inference.node import MaskedInferenceNode
from flai.mpc.inference.params import InferenceConfig, ModelPart, share_params
from flai.mpc.inference.user import InferenceUser
from flai.mpc.masking import MaskingClient, MaskingConfig, MaskingServer
from flai.mpc.release import (
    ReleaseBundle,
    ReleaseHeader,
    ReleasePart,
    open_release,
    seal_release_part,
)
from flai.mpc.replicated import NodeShare, OpenedUpload, ReplicatedScheme, SealedShares
from flai.mpc.ring import Ring
from flai.mpc.secure_aggregation import (
    AggregationClient,
    AggregationConfig,
    AggregationNode,
    encode_weights,
    reconstruct_aggregate,
    secure_weighted_average,
    verified_weighted_average,
)
from flai.mpc.secure_auc import AucDealer, auc_from_rank_sum, holdout_auc, secure_rank_sum
from flai.mpc.secure_scoring.config import SecureScoringConfig
from flai.mpc.secure_scoring.estimator import estimator
from flai.mpc.secure_scoring.finalize import SecureScores, cosine_requests, finalize_scores
from flai.mpc.secure_scoring.node import ScoringNode, combine_public
from flai.mpc.secure_scoring.parties import OpenedScores, ScoringClient, ScoringValidator
from flai.mpc.secure_scoring.round import secure_score_round
from flai.mpc.session import SecureChannel, SessionHello
from flai.mpc.shamir import ShamirShare, combine_secret, split_secret
from flai.mpc.verify import (
    CheckKey,
    CheckPlan,
    PartialCommitment,
    check_plan,
    open_check_key,
    seal_check_key,
)

__all__ = [
    "AggregationClient",
    "AggregationConfig",
    "AggregationNode",
    "AnalyticsConfig",
    "AucDealer",
    "CheckKey",
    "CheckPlan",
    "CohortTooSmallError",
    "ConversionPlan",
    "EncodingRangeError",
    "EnvelopeError",
    "FederatedSummary",
    "FixedPoint",
    "InferenceClient",
    "InferenceConfig",
    "InferenceNode",
    "InferenceUser",
    "KeyPair",
    "LiftDealer",
    "MPCError",
    "MaskDealer",
    "MaskedInference",
    "MaskedInferenceNode",
    "MaskingClient",
    "MaskingConfig",
    "MaskingServer",
    "ModelCommitmentError",
    "ModelPart",
    "MultiEnvelope",
    "NodeMasks",
    "NodeShare",
    "OpenedScores",
    "OpenedUpload",
    "PartialCommitment",
    "PartialMismatchError",
    "ProtocolError",
    "ReleaseBundle",
    "ReleaseHeader",
    "ReleasePart",
    "ReplayError",
    "ReplicatedScheme",
    "Ring",
    "ScoringClient",
    "ScoringNode",
    "ScoringValidator",
    "SealedShares",
    "SecureChannel",
    "SecureLogisticRegression",
    "SecureScores",
    "SecureScoringConfig",
    "SessionHello",
    "ShamirShare",
    "ShareMismatchError",
    "StratifiedMean",
    "ThresholdError",
    "TripleDealer",
    "UserMasks",
    "auc_from_rank_sum",
    "check_plan",
    "combine_public",
    "combine_secret",
    "convert_aggregate",
    "cosine_requests",
    "encode_weights",
    "estimator",
    "finalize_scores",
    "holdout_auc",
    "open_body",
    "open_check_key",
    "open_for",
    "open_key_for",
    "open_offsets",
    "open_release",
    "open_sealed",
    "reconstruct_aggregate",
    "replicate_partials",
    "seal",
    "seal_check_key",
    "seal_for_many",
    "seal_release_part",
    "secure_correlation",
    "secure_count",
    "secure_describe",
    "secure_mean",
    "secure_rank_sum",
    "secure_score_round",
    "secure_stratified_mean",
    "secure_sum",
    "secure_variance",
    "secure_weighted_average",
    "share_model",
    "share_params",
    "split_secret",
    "verified_weighted_average",
]
