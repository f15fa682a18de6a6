"""The index primitives every page query builds on.

:class:`ReaderBase` holds the read-only connection and the per-request caches, and reads
logs, snapshots, documents and the known contracts; each module beside this one adds the
queries of one family of pages to :class:`~flai.explorer.queries.Reader`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flai.explorer.abi import selector_names
from flai.explorer.fmt import short_hex

__all__ = ["CHART_POINTS", "Event", "NotFound", "ReaderBase", "thin"]

#: Points kept per series in a chart (the newest; a table lists every value).
CHART_POINTS = 240


class NotFound(LookupError):
    """The index holds nothing under the id or address a page asked for."""


@dataclass(frozen=True)
class Event:
    """One indexed log."""

    id: int
    block: int
    log_index: int
    tx: str
    address: str
    event: str
    key: str | None
    args: dict[str, Any]
    time: int


def thin(
    points: list[tuple[float, float]], limit: int = CHART_POINTS
) -> tuple[tuple[float, float], ...]:
    """The newest ``limit`` points of a series."""
    return tuple(points[-limit:])


class ReaderBase:
    """The index primitives of :class:`~flai.explorer.queries.Reader` (its parameters
    are documented there) and the caches of one request."""

    def __init__(
        self,
        *,
        conn: sqlite3.Connection,
        abis: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
        selectors: Mapping[str, Mapping[str, tuple[str, list[str]]]] | None = None,
        names: Mapping[str, str] | None = None,
    ) -> None:
        self.conn = conn
        if selectors is None:
            selectors = {kind: selector_names(abi) for kind, abi in (abis or {}).items()}
        self._selectors = selectors
        self._names = dict(names or {})
        self._contracts: dict[str, sqlite3.Row] | None = None
        self._labels: dict[str, str] | None = None
        self._created: dict[str, Event] | None = None
        self._proposals: dict[str, list[dict[str, Any]]] = {}

    def _event(self, row: sqlite3.Row) -> Event:
        return Event(
            id=int(row["id"]),
            block=int(row["block"]),
            log_index=int(row["log_index"]),
            tx=str(row["tx"]),
            address=str(row["address"]),
            event=str(row["event"]),
            key=row["key"],
            args=json.loads(row["args"]),
            time=int(row["time"]),
        )

    def events(self, address: str | None, *names: str, key: Any = None) -> list[Event]:
        """Logs of ``address`` (any address if ``None``) named ``names``, in chain order."""
        sql = "SELECT l.*, b.time FROM logs l JOIN blocks b ON b.number = l.block WHERE 1=1"
        params: list[Any] = []
        if address is not None:
            sql += " AND l.address = ?"
            params.append(address)
        if names:
            sql += f" AND l.event IN ({','.join('?' * len(names))})"
            params += list(names)
        if key is not None:
            sql += " AND l.key = ?"
            params.append(str(key))
        sql += " ORDER BY l.block, l.log_index"
        return [self._event(r) for r in self.conn.execute(sql, params)]

    def snap(self, address: str | None, name: str, key: Any = "") -> Any:
        """The snapshot ``name`` (``key``) of ``address`` read at the indexed head, or None."""
        if address is None:
            return None
        row = self.conn.execute(
            "SELECT value FROM snapshots WHERE address = ? AND name = ? AND key = ?",
            (address, name, str(key)),
        ).fetchone()
        return None if row is None else json.loads(row[0])

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def contracts(self) -> dict[str, sqlite3.Row]:
        """Every known contract by address."""
        if self._contracts is None:
            self._contracts = {
                str(r["address"]): r
                for r in self.conn.execute("SELECT * FROM contracts ORDER BY block, rowid")
            }
        return self._contracts

    def by_role(self, role: str) -> list[str]:
        return [a for a, r in self.contracts().items() if r["role"] == role]

    def platform(self) -> dict[str, str]:
        """Role -> address of the platform contracts (from the deployment)."""
        return {str(r["role"]): a for a, r in self.contracts().items() if int(r["block"]) < 0}

    def suites(self) -> list[str]:
        """SubDAO hub addresses in creation order."""
        return self.by_role("SubDAO")

    def suite(self, hub: str) -> dict[str, str]:
        """Role -> address of the contracts of the suite behind ``hub``."""
        return {str(r["role"]): a for a, r in self.contracts().items() if r["suite"] == hub}

    def labels(self) -> dict[str, str]:
        """Address -> display label of every known contract (plus given names)."""
        if self._labels is None:
            labels: dict[str, str] = {}
            numbers = {hub: i + 1 for i, hub in enumerate(self.suites())}
            for address, row in self.contracts().items():
                suite = row["suite"]
                if suite is None:
                    labels[address] = str(row["role"])
                elif row["role"] == "SubDAO":
                    labels[address] = f"SubDAO #{numbers[address]}"
                else:
                    labels[address] = f"{row['role']} #{numbers.get(suite, '?')}"
            labels.update(self._names)
            self._labels = labels
        return self._labels

    def _short(self, address: str) -> str:
        return self.labels().get(address) or short_hex(address)

    def head(self) -> dict[str, Any]:
        number = int(self.meta("head") or -1)
        row = self.conn.execute("SELECT time FROM blocks WHERE number = ?", (number,)).fetchone()
        return {
            "number": number,
            "time": None if row is None else int(row[0]),
            "chain_id": self.meta("chain_id"),
            "start": int(self.meta("start") or 0),
        }

    def token(self, address: str | None) -> dict[str, Any]:
        """symbol/decimals of a token (FLAI defaults when unknown)."""
        symbol = self.snap(address, "symbol")
        decimals = self.snap(address, "decimals")
        return {
            "address": address,
            "symbol": symbol if isinstance(symbol, str) else "?",
            "decimals": int(decimals) if decimals is not None else 18,
        }

    def _mentioning(self, contract: str, account: str, *names: str) -> list[Event]:
        """Logs of ``contract`` named ``names`` that carry ``account`` as an argument."""
        marks = ",".join("?" * len(names))
        return [
            self._event(r)
            for r in self.conn.execute(
                "SELECT DISTINCT l.*, b.time FROM mentions m JOIN logs l ON l.id = m.log "
                "JOIN blocks b ON b.number = l.block WHERE m.address = ? AND l.address = ? "
                f"AND l.event IN ({marks}) ORDER BY l.block, l.log_index",
                (account, contract, *names),
            )
        ]

    def document(self, cid: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT * FROM documents WHERE cid = ?", (cid,)).fetchone()
        if row is None:
            return None
        body = row["body"]
        parsed = None
        text = None
        if body is not None and row["status"] == "ok":
            try:
                text = bytes(body).decode("utf-8")
                parsed = json.loads(text)
            except (UnicodeDecodeError, ValueError):
                parsed = None
        return {
            "cid": cid,
            "status": row["status"],
            "size": row["size"],
            "detail": row["detail"],
            "json": parsed,
            "text": text,
            "body": None if body is None else bytes(body),
        }

    def status(self) -> dict[str, Any]:
        counts = {
            table: int(self.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
            for table in ("logs", "contracts", "snapshots", "documents", "blocks")
        }
        return {**self.head(), "counts": counts}
