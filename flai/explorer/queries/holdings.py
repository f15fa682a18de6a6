"""SBGT points and SDT balances, replayed from the token events of a suite."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from flai.explorer.queries.base import CHART_POINTS, ReaderBase
from flai.explorer.queries.names import INDEX_ONE, ZERO

__all__ = ["Holdings"]


class Holdings(ReaderBase):
    """Token holding queries over the index."""

    def _sbgt_state(self, sbgt: str, before: int) -> tuple[dict[str, int], int]:
        """Every holder's scaled points and the decay index at the end of block ``before - 1``,
        read from the last relevant log of each (no replay)."""
        scaled = {
            str(r[0]): 0
            for r in self.conn.execute(
                "SELECT DISTINCT m.address FROM logs l JOIN mentions m ON m.log = l.id "
                "WHERE l.address = ? AND l.event = 'Transfer' AND m.field = 'to' AND l.block < ?",
                (sbgt, before),
            )
        }
        for account, event, args, _ in self.conn.execute(
            "SELECT m.address, l.event, l.args, MAX(l.block * 1048576 + l.log_index) "
            "FROM logs l JOIN mentions m ON m.log = l.id WHERE l.address = ? AND l.block < ? "
            "AND l.event IN ('PointsAwarded', 'PointsRevoked') AND m.field = 'account' "
            "GROUP BY m.address",
            (sbgt, before),
        ):
            scaled[str(account)] = (
                int(json.loads(args)["scaledBalance"]) if event == "PointsAwarded" else 0
            )
        row = self.conn.execute(
            "SELECT args FROM logs WHERE address = ? AND event = 'IndexDecayed' AND block < ? "
            "ORDER BY block DESC, log_index DESC LIMIT 1",
            (sbgt, before),
        ).fetchone()
        return scaled, INDEX_ONE if row is None else int(json.loads(row[0])["newIndex"])

    def sbgt_points(self, sbgt: str | None, *, window: int = CHART_POINTS) -> dict[str, Any]:
        """SBGT points π_k = ⌊s_k·D / 2^200⌋ (001 eq. 12): today's exactly, and their history
        over the newest ``window`` blocks that changed them (the exact state before the
        window from each holder's last log, then the window's events replayed)."""
        empty: dict[str, Any] = {"current": {}, "history": {}, "totals": [], "times": {}}
        if not sbgt:
            return empty
        names = ("Transfer", "PointsAwarded", "PointsRevoked", "IndexDecayed")
        blocks = [
            int(r[0])
            for r in self.conn.execute(
                "SELECT DISTINCT block FROM logs WHERE address = ? AND event IN (?,?,?,?) "
                "ORDER BY block DESC LIMIT ?",
                (sbgt, *names, window),
            )
        ]
        if not blocks:
            return empty
        first = min(blocks)
        scaled, index = self._sbgt_state(sbgt, first)
        history: dict[str, list[tuple[int, int]]] = defaultdict(list)
        totals: list[tuple[int, int]] = []
        events = [
            self._event(r)
            for r in self.conn.execute(
                "SELECT l.*, b.time FROM logs l JOIN blocks b ON b.number = l.block "
                "WHERE l.address = ? AND l.event IN (?,?,?,?) AND l.block >= ? "
                "ORDER BY l.block, l.log_index",
                (sbgt, *names, first),
            )
        ]
        times: dict[int, int] = {}

        def record(block: int) -> None:
            total = 0
            for account, s in scaled.items():
                points = s * index // INDEX_ONE
                total += points
                history[account].append((block, points))
            totals.append((block, total))

        for i, e in enumerate(events):
            if e.event == "IndexDecayed":
                index = int(e.args["newIndex"])
            elif e.event == "PointsAwarded":
                scaled[str(e.args["account"])] = int(e.args["scaledBalance"])
            elif e.event == "PointsRevoked":
                scaled[str(e.args["account"])] = 0
            elif e.event == "Transfer" and e.args["from"] == ZERO:
                scaled.setdefault(str(e.args["to"]), 0)
            times[e.block] = e.time
            if i + 1 == len(events) or events[i + 1].block != e.block:
                record(e.block)
        current = {a: s * index // INDEX_ONE for a, s in scaled.items()}
        return {"current": current, "history": dict(history), "totals": totals, "times": times}

    def points_of(self, sbgt: str | None, account: str) -> int | None:
        """Current SBGT points of one holder (``None`` if it never held the token): its last
        scaled balance times the last decay index, without replaying every holder."""
        if not sbgt:
            return None
        mine = self._mentioning(sbgt, account, "Transfer", "PointsAwarded", "PointsRevoked")
        if not any(e.event == "Transfer" and e.args["from"] == ZERO for e in mine):
            return None
        scaled = 0
        for e in mine:
            if e.event == "PointsAwarded":
                scaled = int(e.args["scaledBalance"])
            elif e.event == "PointsRevoked":
                scaled = 0
        row = self.conn.execute(
            "SELECT args FROM logs WHERE address = ? AND event = 'IndexDecayed' "
            "ORDER BY block DESC, log_index DESC LIMIT 1",
            (sbgt,),
        ).fetchone()
        index = INDEX_ONE if row is None else int(json.loads(row[0])["newIndex"])
        return scaled * index // INDEX_ONE

    def sdt_balance_of(self, sdt: str | None, account: str) -> int | None:
        """SDT balance of one account from its own transfers (``None`` if it never held SDT)."""
        if not sdt:
            return None
        mine = self._mentioning(sdt, account, "Transfer")
        if not mine:
            return None
        balance = 0
        for e in mine:
            if e.args["to"] == account:
                balance += int(e.args["value"])
            if e.args["from"] == account:
                balance -= int(e.args["value"])
        return balance

    def sdt_holders(self, sdt: str | None) -> dict[str, int]:
        balances: dict[str, int] = defaultdict(int)
        for e in self.events(sdt, "Transfer") if sdt else []:
            value = int(e.args["value"])
            if e.args["from"] != ZERO:
                balances[str(e.args["from"])] -= value
            if e.args["to"] != ZERO:
                balances[str(e.args["to"])] += value
        return {a: b for a, b in balances.items() if b != 0}
