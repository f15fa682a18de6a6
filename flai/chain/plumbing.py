"""Brownie plumbing: the loaded project, transactions, receipts, logs and the chain clock.

The only module of ``flai.chain`` that imports brownie and web3, each lazily inside the
function that needs it, so ``import flai.chain`` works without either. Everything else in
the package reaches the chain through these functions and the contract objects they
return.

Brownie's objects have no type stubs: :data:`Contract`, :data:`Account` and
:data:`Receipt` name what a value is; the functions here convert what they read to plain
``int``/``str``/``bool``.

On the project's own development chain (Anvil), :func:`transact` sends a transaction of an
unlocked node account in one JSON-RPC call: ``eth_sendTransactionSync`` mines it and returns
its receipt, with a fixed gas limit (:data:`SYNC_GAS_LIMIT`: no estimation) and gas price 0
(the chain has no base fee). Brownie's own path costs about a dozen calls per transaction
(chain id, gas price, nonce, send, receipt polling, the transaction again, a snapshot for
its undo buffer). Gas used does not depend on the limit, so the gas figures stay those of
brownie's path. Reads, the clock and mining go straight to the provider as well
(:func:`rpc`), skipping web3's request middleware. Elsewhere (a live network, a key held
by brownie) everything goes through brownie.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from flai.chain.errors import ChainError

__all__ = [
    "RECEIPT_GRACE_S",
    "SYNC_GAS_LIMIT",
    "Account",
    "Contract",
    "Receipt",
    "SyncReceipt",
    "address",
    "balance",
    "block_number",
    "chain_time",
    "deploy",
    "harden_receipt_wait",
    "has_code",
    "keccak_text",
    "logs",
    "mine",
    "mine_past",
    "network_name",
    "now",
    "project",
    "rpc",
    "sent_transactions",
    "sleep",
    "token_symbol",
    "transact",
    "trim_middleware",
]

Contract = Any
"""A brownie ``ProjectContract`` (or ``Contract``)."""
Account = Any
"""A brownie ``Account`` / ``LocalAccount`` (anything with ``.address`` that can sign)."""
Receipt = Any
"""A brownie ``TransactionReceipt``."""

#: Seconds a transaction's confirmation waits for its receipt before brownie's own logic.
RECEIPT_GRACE_S = 10.0
#: Gas limit of a transaction sent in one call (the development chain's blocks hold 30M).
SYNC_GAS_LIMIT = 29_000_000
#: The brownie network whose chain is an Anvil of the project's own (see flai.chain.runtime).
_DEVELOPMENT = "development"

_sent: list[Any] = []


class SyncReceipt:
    """The receipt of a transaction :func:`transact` sent in one call.

    Carries what the package and its callers read of a brownie ``TransactionReceipt``:
    ``txid``, ``status``, ``gas_used``, ``block_number``, ``sender``, ``receiver``,
    ``contract_address``, the raw ``logs`` and the decoded ``events`` (brownie's
    ``EventDict``, decoded on first use with the loaded project's ABIs).
    """

    def __init__(self, raw: Mapping[str, Any]) -> None:
        from web3 import Web3

        self.raw = raw
        self.txid = str(raw["transactionHash"])
        self.status = int(raw["status"], 16)
        self.gas_used = int(raw["gasUsed"], 16)
        self.block_number = int(raw["blockNumber"], 16)
        self.sender = Web3.to_checksum_address(raw["from"])
        self.receiver = Web3.to_checksum_address(raw["to"]) if raw.get("to") else None
        created = raw.get("contractAddress")
        self.contract_address = Web3.to_checksum_address(created) if created else None
        self.logs: list[Mapping[str, Any]] = [
            dict(log, address=Web3.to_checksum_address(log["address"]))
            for log in raw.get("logs") or ()
        ]
        self._events: Any = None

    @property
    def events(self) -> Any:
        """The decoded events (brownie's ``EventDict``: ``tx.events["Name"]["arg"]``)."""
        if self._events is None:
            from brownie.network.event import _decode_logs

            self._events = _decode_logs(self.logs)
        return self._events

    def __repr__(self) -> str:
        return f"<SyncReceipt {self.txid} status={self.status} gas_used={self.gas_used}>"


class StaleNonceError(ChainError):
    """The node refused a transaction's explicit nonce as already used."""


_FORGET_NONCES = frozenset({"evm_revert", "anvil_revert", "anvil_reset", "anvil_setNonce"})
"""JSON-RPC methods after which no counted nonce can be trusted (the chain moved back)."""


def _nonce_counts() -> dict[str, int]:
    """Sender → the nonce of its next transaction, for accounts whose last transaction went
    through the one-call path (which knows it was mined). Kept on the connected provider,
    so a new connection starts empty; the provider's ``make_request`` is wrapped once to
    forget every count when the chain is reverted or reset through it."""
    from brownie import web3

    provider: Any = web3.provider
    counts: dict[str, int] | None = getattr(provider, "_flai_nonces", None)
    if counts is None:
        counts = {}
        inner = provider.make_request

        def make_request(method: Any, params: Any) -> Any:
            if method in _FORGET_NONCES:
                counts.clear()
            return inner(method, params)

        provider.make_request = make_request
        provider._flai_nonces = counts
    return counts


def next_nonce(who: str) -> int:
    """The nonce ``who``'s next transaction takes: counted on from the one-call path's last
    mined transaction of the account, else the node's pending count."""
    counted = _nonce_counts().get(who.lower())
    return counted if counted is not None else _nonce(who, "pending")


def _sync_send(tx: dict[str, Any], nonce: int | None) -> SyncReceipt:
    """``eth_sendTransactionSync`` of ``tx`` with an explicit nonce (``nonce``, else
    :func:`next_nonce`), the sender's count moved on once it is mined (a revert included).
    A refused nonce forgets the count: with a caller's ``nonce`` it raises
    :class:`StaleNonceError`, else it tries once more with the node's count."""
    who = str(tx["from"]).lower()
    counts = _nonce_counts()
    explicit = nonce is not None
    for _ in range(2):
        use = nonce if nonce is not None else next_nonce(who)
        try:
            raw = rpc("eth_sendTransactionSync", tx | {"nonce": hex(use)})
        except ChainError as exc:
            counts.pop(who, None)
            if "nonce too low" not in str(exc).lower():
                raise
            if explicit:  # the caller recorded this nonce: it recounts and says so
                raise StaleNonceError(str(exc)) from exc
            continue  # counted on a stale figure: once more with the node's count
        counts[who] = use + 1
        return SyncReceipt(raw)
    raise StaleNonceError(f"eth_sendTransactionSync: nonce of {who} still refused")


def _forget_nonce(sender: Any) -> None:
    """An account about to send on brownie's path: its count is no longer known."""
    _nonce_counts().pop(address(sender).lower(), None)


def _nonce(who: str, block: Literal["latest", "pending"] = "latest") -> int:
    from brownie import web3
    from web3 import Web3

    return int(web3.eth.get_transaction_count(Web3.to_checksum_address(who), block))


def harden_receipt_wait() -> None:
    """Close brownie 1.22's false "Tx dropped without known replacement" race (idempotent).

    ``TransactionReceipt._await_confirmation`` reads the sender's nonce, then the receipt,
    and declares the transaction dropped when the nonce has passed it but the receipt is not
    served yet. Anvil can advance the nonce a moment before the receipt becomes queryable,
    which a loaded machine turns into spurious failures (brownie #1782 fixed the same race in
    ``wait()`` only). The patched method first waits up to :data:`RECEIPT_GRACE_S` for the
    receipt, so brownie then finds it; a transaction that really never mines still ends as
    dropped after that bound. Called by :func:`project`, ``flai run`` and the suite's conftest.
    """
    from brownie import web3
    from brownie.network.transaction import TransactionReceipt
    from web3.exceptions import TimeExhausted

    original = TransactionReceipt._await_confirmation
    if getattr(original, "_flai_hardened", False):
        return

    def _await_confirmation(self: Any, block_number: Any = None, required_confs: int = 1) -> Any:
        if self.nonce is not None:
            try:
                web3.eth.wait_for_transaction_receipt(
                    self.txid, timeout=RECEIPT_GRACE_S, poll_latency=0.05
                )
            except TimeExhausted:
                pass  # brownie decides: replaced or dropped
        return original(self, block_number, required_confs)

    _await_confirmation._flai_hardened = True  # type: ignore[attr-defined]
    _await_confirmation.__wrapped__ = original  # type: ignore[attr-defined]
    TransactionReceipt._await_confirmation = _await_confirmation  # type: ignore[method-assign]


def project() -> Any:
    """The loaded brownie project (``flai run``, ``brownie test`` or ``project.load``)."""
    from brownie import project as projects

    harden_receipt_wait()
    trim_middleware()
    loaded = projects.get_loaded_projects()
    if not loaded:
        raise ChainError(
            "no brownie project is loaded (use `flai run`, `brownie test` or project.load)"
        )
    return loaded[0]


def address(value: Any) -> str:
    """The address of a contract or account object, or ``value`` itself as a string."""
    return str(value.address if hasattr(value, "address") else value)


def rpc(method: str, *params: Any) -> Any:
    """One JSON-RPC call to the connected node, straight through the provider (no web3
    middleware); returns its ``result``, or raises :class:`ChainError` with the node's error."""
    from brownie import web3
    from web3.types import RPCEndpoint

    response = web3.provider.make_request(RPCEndpoint(method), list(params))
    if "error" in response:
        raise ChainError(f"{method}: {response['error']}")
    return response.get("result")


def trim_middleware() -> None:
    """On the development chain, drop web3's request-validation middleware (idempotent).

    It asks the node for its chain id before every ``eth_call`` and ``eth_estimateGas`` (one
    extra JSON-RPC call per contract read) to check a ``chainId`` field that the project's
    reads never set, on a chain the project started itself. Called when the project connects
    (:func:`flai.chain.runtime.connect_own_chain`) and by :func:`project`.
    """
    from brownie import network, web3

    if not network.is_connected() or network.show_active() != _DEVELOPMENT:
        return
    onion = web3.middleware_onion
    if "validation" in onion:
        onion.remove("validation")


def _sync_sender(sender: Any) -> str | None:
    """``sender``'s address if :func:`transact` may send for it in one call: an account the
    node holds (brownie ``Account``, not a key brownie signs with) on the development chain."""
    from brownie import network
    from brownie.network.account import Account as NodeAccount

    if not isinstance(sender, NodeAccount) or network.show_active() != _DEVELOPMENT:
        return None
    return str(sender.address)


def _raise_revert(receipt: SyncReceipt) -> None:
    """Raise brownie's ``VirtualMachineError`` for a transaction mined with status 0, as
    brownie's own path would: the revert data is the output of the transaction's own trace
    (``debug_traceTransaction`` with the call tracer), so the custom error and its
    arguments are those of the mined transaction, block time included."""
    from brownie.exceptions import VirtualMachineError

    trace: Any = rpc("debug_traceTransaction", receipt.txid, {"tracer": "callTracer"})
    error = {
        "message": str(trace.get("error") or "execution reverted"),
        "data": str(trace.get("output") or "0x"),
    }
    exc = VirtualMachineError(ValueError(error))
    exc.txid = receipt.txid  # type: ignore[assignment]
    raise exc


def transact(method: Any, *args: Any, sender: Account, nonce: int | None = None) -> Receipt:
    """Send ``method(*args)`` from ``sender`` and return its receipt once mined.

    On the development chain, for an account the node holds, one ``eth_sendTransactionSync``
    call (a :class:`SyncReceipt`; a revert raises brownie's ``VirtualMachineError`` naming
    the custom error, as brownie's path does). Otherwise brownie's
    ``method(*args, {"from": sender})`` with its receipt wait hardened. Every receipt is
    also kept in :func:`sent_transactions`. ``nonce`` is the caller's :func:`next_nonce`
    for the one-call path (brownie's path takes the account's pending nonce itself).
    """
    from_address = _sync_sender(sender)
    if from_address is None:
        _forget_nonce(sender)
        harden_receipt_wait()
        receipt = method(*args, {"from": sender})
        _sent.append(receipt)
        return receipt
    tx = {
        "from": from_address,
        "to": str(method._address),
        "data": method.encode_input(*args),
        "gas": hex(SYNC_GAS_LIMIT),
        "gasPrice": "0x0",
    }
    sync = _sync_send(tx, nonce)
    _sent.append(sync)
    if sync.status != 1:
        _raise_revert(sync)
    return sync


def deploy(container: Any, *args: Any, sender: Account) -> Contract:
    """Deploy ``container`` (a brownie ``ContractContainer``) with constructor ``args`` from
    ``sender``; returns the contract object, its creation receipt as ``.tx``.

    One ``eth_sendTransactionSync`` call on the development chain for an account the node
    holds (as :func:`transact`), then brownie's ``at`` (which checks the code); otherwise
    brownie's ``container.deploy(*args, {"from": sender})``.
    """
    from_address = _sync_sender(sender)
    if from_address is None:
        _forget_nonce(sender)
        harden_receipt_wait()
        contract = container.deploy(*args, {"from": sender})
        _sent.append(contract.tx)
        return contract
    tx = {
        "from": from_address,
        "data": container.deploy.encode_input(*args),
        "gas": hex(SYNC_GAS_LIMIT),
        "gasPrice": "0x0",
    }
    sync = _sync_send(tx, None)
    _sent.append(sync)
    if sync.status != 1 or sync.contract_address is None:
        _raise_revert(sync)
    return container.at(sync.contract_address, owner=sender, tx=sync)


def sent_transactions() -> list[Receipt]:
    """Every transaction :func:`transact` and :func:`deploy` sent in this process (their
    receipts, reverted ones included), oldest first (a copy)."""
    return list(_sent)


_EVENT_TOPICS: dict[tuple[str, str], tuple[str, list[tuple[str, str]], Any]] = {}


def _event_topics(contract: Contract, event: str) -> tuple[str, list[tuple[str, str]], Any]:
    """``(topic0, [(name, type) of each indexed input], eth_event topic map)`` of ``event``
    in ``contract``'s ABI (cached per address and event)."""
    import eth_event

    key = (address(contract), event)
    if key not in _EVENT_TOPICS:
        abi = [e for e in contract.abi if e.get("type") == "event" and e.get("name") == event]
        if not abi:
            raise ChainError(f"{address(contract)} has no event {event!r} in its ABI")
        topic_map = eth_event.get_topic_map(abi[:1])
        indexed = [(i["name"], i["type"]) for i in abi[0]["inputs"] if i.get("indexed")]
        _EVENT_TOPICS[key] = (str(next(iter(topic_map))), indexed, topic_map)
    return _EVENT_TOPICS[key]


def _topic(kind: str, value: Any) -> str:
    """The 32-byte topic of an indexed argument of static ABI type ``kind``."""
    from eth_abi import encode
    from web3 import Web3

    if kind == "address":
        value = Web3.to_checksum_address(address(value))
    return "0x" + encode([kind], [value]).hex()


def logs(
    contract: Contract, event: str, *, from_block: int, **filters: Any
) -> list[Mapping[str, Any]]:
    """The ``event`` logs of ``contract`` since ``from_block``, oldest first, filtered on
    indexed arguments: one ``eth_getLogs`` call, decoded with the contract's ABI. Each entry
    has ``args`` (name → value: ``int``, ``bool``, checksummed address ``str``, ``str``;
    ``bytes32`` as a ``0x`` hex string), ``event``, ``address``, ``blockNumber``,
    ``logIndex`` and ``transactionHash``."""
    import eth_event

    topic0, indexed, topic_map = _event_topics(contract, event)
    names = {name for name, _ in indexed}
    unknown = set(filters) - names
    if unknown:
        raise ChainError(f"{event}: {sorted(unknown)} are not indexed arguments")
    topics: list[str | None] = [topic0]
    topics += [_topic(kind, filters[name]) if name in filters else None for name, kind in indexed]
    while topics[-1] is None:
        topics.pop()
    raw = rpc(
        "eth_getLogs",
        {
            "address": address(contract),
            "fromBlock": hex(from_block),
            "toBlock": "latest",
            "topics": topics,
        },
    )
    out: list[Mapping[str, Any]] = []
    for log in raw:
        decoded: Any = eth_event.decode_logs([log], topic_map, allow_undecoded=False)[0]
        out.append(
            {
                "event": decoded["name"],
                "args": {field["name"]: field["value"] for field in decoded["data"]},
                "address": str(decoded["address"]),
                "blockNumber": int(log["blockNumber"], 16),
                "logIndex": int(log["logIndex"], 16),
                "transactionHash": str(log["transactionHash"]),
            }
        )
    return out


def now() -> int:
    """The latest block's timestamp (what the contracts compare deadlines with)."""
    return int(rpc("eth_getBlockByNumber", "latest", False)["timestamp"], 16)


def chain_time() -> int:
    """The next block's earliest timestamp.

    On the development chain, the node's own clock: Anvil stamps a block with the wall
    clock plus its time offset (``evm_increaseTime(0)`` returns the offset), never before
    the latest block. Brownie's ``chain.time()`` can drift from it (transactions sent
    without brownie, snapshots reverted); elsewhere it is brownie's clock."""
    import time

    from brownie import chain, network

    if network.show_active() != _DEVELOPMENT:
        return int(chain.time())
    raw = rpc("evm_increaseTime", 0)
    offset = int(raw, 0) if isinstance(raw, str) else int(raw)
    return max(now(), int(time.time()) + offset)


def block_number() -> int:
    """The height of the chain."""
    return int(rpc("eth_blockNumber"), 16)


def mine(blocks: int = 1) -> None:
    """Mine ``blocks`` empty blocks (local chains; one ``evm_mine``/``anvil_mine`` call)."""
    if blocks <= 0:
        return
    if blocks == 1:
        rpc("evm_mine")
    else:
        rpc("anvil_mine", hex(blocks))


def mine_past(block: int) -> None:
    """Mine until the chain's height is past ``block`` (a proposal deadline)."""
    missing = block - block_number() + 1
    if missing > 0:
        mine(missing)


def sleep(seconds: int) -> None:
    """Advance the chain clock by ``seconds`` (local chains; takes effect at the next block).

    One ``evm_increaseTime`` call; brownie's clock (``chain.time()``) is moved by as much,
    as its own ``chain.sleep`` would."""
    from brownie import chain

    if seconds <= 0:
        return
    rpc("evm_increaseTime", int(seconds))
    chain._time_offset += int(seconds)


def balance(account: Any) -> int:
    """Native balance (wei) of an account or address."""
    from brownie import web3
    from web3 import Web3

    return int(web3.eth.get_balance(Web3.to_checksum_address(address(account))))


def has_code(account: Any) -> bool:
    """Whether a contract is deployed at an address on the connected chain."""
    from brownie import web3
    from web3 import Web3

    return bool(web3.eth.get_code(Web3.to_checksum_address(address(account))))


def token_symbol(token: Any) -> str:
    """The ``symbol()`` of the ERC-20 at ``token`` (an address or contract object)."""
    from eth_abi import decode
    from web3 import Web3

    to = Web3.to_checksum_address(address(token))
    raw = rpc("eth_call", {"to": to, "data": "0x95d89b41"}, "latest")  # symbol()
    return str(decode(["string"], bytes.fromhex(str(raw)[2:]))[0])


def keccak_text(text: str) -> bytes:
    """``keccak256(bytes(text))`` (a governor's description hash)."""
    from web3 import Web3

    return bytes(Web3.keccak(text=text))


def network_name() -> str:
    """The active brownie network's id (``development`` on the project's own Anvil)."""
    from brownie import network

    return str(network.show_active())
