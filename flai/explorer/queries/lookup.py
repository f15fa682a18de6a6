"""The pages found by an identifier: a transaction, a block, an address, a CID."""

from __future__ import annotations

import json
from typing import Any

from flai.explorer.queries.base import NotFound
from flai.explorer.queries.platform import Platform

__all__ = ["Lookup"]


class Lookup(Platform):
    """Lookup queries over the index (an address page shows SuperDAO membership from
    :class:`Platform` and holdings from :class:`Holdings`)."""

    def tx_page(self, tx: str) -> dict[str, Any]:
        rows = self.conn.execute(
            "SELECT l.*, b.time FROM logs l JOIN blocks b ON b.number = l.block "
            "WHERE l.tx = ? ORDER BY l.log_index",
            (tx.lower(),),
        ).fetchall()
        if not rows:
            raise NotFound(f"transaction {tx}")
        events = [self._event(r) for r in rows]
        return {
            "tx": tx.lower(),
            "block": events[0].block,
            "time": events[0].time,
            "events": events,
        }

    def block_page(self, number: int) -> dict[str, Any]:
        row = self.conn.execute("SELECT * FROM blocks WHERE number = ?", (number,)).fetchone()
        if row is None:
            raise NotFound(f"block {number}")
        events = [
            self._event(r)
            for r in self.conn.execute(
                "SELECT l.*, b.time FROM logs l JOIN blocks b ON b.number = l.block "
                "WHERE l.block = ? ORDER BY l.log_index",
                (number,),
            )
        ]
        return {"number": number, "hash": row["hash"], "time": int(row["time"]), "events": events}

    def address_page(self, address: str, *, limit: int = 200) -> dict[str, Any]:
        contract = self.contracts().get(address)
        mentioned = [
            self._event(r)
            for r in self.conn.execute(
                "SELECT l.*, b.time FROM logs l JOIN blocks b ON b.number = l.block WHERE l.id IN "
                "(SELECT DISTINCT log FROM mentions WHERE address = ? ORDER BY log DESC LIMIT ?) "
                "ORDER BY l.block DESC, l.log_index DESC",
                (address, limit),
            )
        ]
        emitted = [
            self._event(r)
            for r in self.conn.execute(
                "SELECT l.*, b.time FROM logs l JOIN blocks b ON b.number = l.block "
                "WHERE l.address = ? ORDER BY l.block DESC, l.log_index DESC LIMIT ?",
                (address, limit),
            )
        ]
        if contract is None and not mentioned:
            raise NotFound(f"address {address}")
        holdings = []
        member = next((m for m in self.members() if m["account"] == address), None)
        for hub in self.suites():
            suite = self.suite(hub)
            points = self.points_of(suite.get("SBGT"), address)
            balance = self.sdt_balance_of(suite.get("SDT"), address)
            if points is not None or balance is not None:
                holdings.append({"hub": hub, "points": points, "sdt": balance})
        return {
            "address": address,
            "contract": None if contract is None else dict(contract),
            "label": self.labels().get(address),
            "member": member,
            "holdings": holdings,
            "mentioned": mentioned,
            "emitted": emitted,
            "limit": limit,
        }

    def cid_page(self, cid: str) -> dict[str, Any]:
        refs = [
            (str(r["field"]), self._event(r))
            for r in self.conn.execute(
                "SELECT c.field, l.*, b.time FROM cids c JOIN logs l ON l.id = c.log "
                "JOIN blocks b ON b.number = l.block WHERE c.cid = ? ORDER BY l.block, l.log_index",
                (cid,),
            )
        ]
        if not refs:
            raise NotFound(f"CID {cid}")
        doc = self.document(cid)
        preview = None
        if doc is not None and doc["body"] is not None and doc["json"] is None:
            body = doc["body"]
            preview = body[:512].hex(" ", 16)
        return {
            "cid": cid,
            "refs": refs,
            "document": doc,
            "pretty": None
            if doc is None or doc["json"] is None
            else json.dumps(doc["json"], indent=2, sort_keys=True),
            "preview": preview,
        }
