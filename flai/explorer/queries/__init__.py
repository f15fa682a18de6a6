"""The read model: what each page shows, computed from the index alone.

:class:`Reader` answers every page from one read-only SQLite connection and returns plain
data for a template. Nothing here talks to the chain or to IPFS: figures come from indexed
events (replayed: stakes, votes, SBGT points, SDT balances, revenue sums) and from the
snapshots the indexer read at its head (proposal states, escrow, claimable amounts).

One module per family of pages, each adding its queries to :class:`Reader`:

- :mod:`~flai.explorer.queries.base` — logs, snapshots, documents and known contracts;
- :mod:`~flai.explorer.queries.governance` — proposals of the governor and the chambers;
- :mod:`~flai.explorer.queries.platform` — the platform page (members, treasury);
- :mod:`~flai.explorer.queries.registry` — RFMs;
- :mod:`~flai.explorer.queries.subdaos` — SubDAO pages and fork lineage;
- :mod:`~flai.explorer.queries.rounds` — training rounds and their members;
- :mod:`~flai.explorer.queries.holdings` — SBGT points and SDT balances;
- :mod:`~flai.explorer.queries.market` — marketplace listings and requests;
- :mod:`~flai.explorer.queries.revenue` — revenue splits and claims;
- :mod:`~flai.explorer.queries.lookup` — transaction, block, address and CID pages;
- :mod:`~flai.explorer.queries.names` — Solidity enum member names.
"""

from flai.explorer.queries.base import Event, NotFound
from flai.explorer.queries.lookup import Lookup
from flai.explorer.queries.market import Market
from flai.explorer.queries.names import (
    CHAMBER_KINDS,
    LISTING_KINDS,
    PROPOSAL_STATES,
    RFM_STATUS,
    ROUND_STATUS,
    SUBDAO_STATES,
    SUPERDAO_KINDS,
)
from flai.explorer.queries.registry import Registry
from flai.explorer.queries.revenue import Revenue

__all__ = [
    "CHAMBER_KINDS",
    "LISTING_KINDS",
    "PROPOSAL_STATES",
    "RFM_STATUS",
    "ROUND_STATUS",
    "SUBDAO_STATES",
    "SUPERDAO_KINDS",
    "Event",
    "NotFound",
    "Reader",
]


class Reader(Lookup, Registry, Market, Revenue):
    """Queries over one read-only connection to the index.

    Parameters
    ----------
    conn
        A connection from :func:`flai.explorer.schema.connect_reader`.
    abis
        Contract kind -> ABI (to decode proposal actions).
    selectors
        The same as :func:`flai.explorer.abi.selector_names` per kind, computed once by the
        caller (instead of ``abis``, which costs a keccak per function and request).
    names
        Optional address -> display name (e.g. the parties of a demo run).
    """
