"""FLAI Protocol off-chain library.

Subpackages (each importable without a chain node or brownie):

- ``flai.fl``      federated learning engine: data, model, update checks, aggregation,
                   contribution scoring, the round engine and its consensus rule.
- ``flai.mpc``     secure multi-party computation: fixed-point encoding, secret sharing,
                   secure aggregation, pairwise masking, envelopes, analytics, inference.
- ``flai.storage`` IPFS storage with Kubo-identical CIDs, an embedded Kubo-RPC node and an
                   ipfshttpclient backend.
- ``flai.pipeline`` the whole RFM lifecycle behind a chain port (on the contracts, or
                   offline on a test ledger).

Chain access lives in one adapter package, ``flai.chain``, which imports brownie lazily.
"""

from flai.errors import FlaiError

__all__ = ["FlaiError"]
__version__ = "0.1.0"
