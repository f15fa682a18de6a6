"""The explorer's chain connection: web3.py over HTTP, restricted to reads.

:class:`ReadOnlyHTTPProvider` forwards only the JSON-RPC methods in :data:`READ_METHODS`
and refuses every other one (``eth_sendTransaction``, ``eth_sendRawTransaction``,
``eth_sign*``, ``personal_*``, ``evm_*``, ``anvil_*`` ...) with
:class:`~flai.explorer.errors.ReadOnlyViolationError` before anything leaves the process.
The explorer holds no key and adds no signing middleware, so this is the whole of what it
can say to a node. The provider also counts the requests it forwards.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from web3 import Web3
from web3.providers.rpc import HTTPProvider
from web3.types import RPCEndpoint, RPCResponse

from flai.explorer.errors import ChainReadError, ReadOnlyViolationError

__all__ = ["READ_METHODS", "ReadOnlyHTTPProvider", "connect"]

#: Everything the explorer asks a node: chain identity, blocks, logs, state reads.
READ_METHODS = frozenset(
    {
        "eth_chainId",
        "net_version",
        "eth_blockNumber",
        "eth_getBlockByNumber",
        "eth_getBlockByHash",
        "eth_getLogs",
        "eth_call",
        "eth_getCode",
        "eth_getBalance",
    }
)


class ReadOnlyHTTPProvider(HTTPProvider):
    """An :class:`~web3.providers.rpc.HTTPProvider` that forwards reads only, and counts them.

    Parameters
    ----------
    endpoint_uri
        The node's HTTP JSON-RPC URL.
    timeout
        Seconds per HTTP request.
    """

    def __init__(self, endpoint_uri: str, *, timeout: float = 30.0) -> None:
        super().__init__(endpoint_uri, request_kwargs={"timeout": timeout})
        self._lock = threading.Lock()
        self._count = 0

    @property
    def request_count(self) -> int:
        """JSON-RPC requests forwarded so far (a batch counts each request in it)."""
        return self._count

    def _admit(self, methods: Iterable[str]) -> None:
        names = list(methods)
        for method in names:
            if method not in READ_METHODS:
                raise ReadOnlyViolationError(method)
        with self._lock:
            self._count += len(names)

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        self._admit([method])
        return super().make_request(method, params)

    def make_batch_request(self, batch_requests: list[tuple[RPCEndpoint, Any]]) -> Any:
        self._admit(method for method, _ in batch_requests)
        return super().make_batch_request(batch_requests)


def connect(rpc_url: str, *, timeout: float = 30.0) -> Web3:
    """A :class:`~web3.Web3` over a :class:`ReadOnlyHTTPProvider` at ``rpc_url``.

    Raises
    ------
    ChainReadError
        If the node does not answer ``eth_chainId``.
    """
    w3 = Web3(ReadOnlyHTTPProvider(rpc_url, timeout=timeout))
    try:
        _ = w3.eth.chain_id
    except Exception as exc:  # connection refused, timeouts, malformed answers
        raise ChainReadError("eth_chainId", f"{rpc_url}: {exc}") from exc
    return w3
