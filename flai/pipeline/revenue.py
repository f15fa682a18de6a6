"""Expected revenue split of one SBGT pool, the off-chain reference of 001 eq. 10/11.

On chain the SBGT side is pooled per model version and at most ``epochLength`` seconds per
pool (claimable once the pool's end time passed, its version was superseded or the SubDAO
retired); revenue spread over several pools floors once per pool, so the sum of per-pool
splits may differ from one split of the total by at most one wei per party and pool.

Mirrors ``RevenueSplitter._split``: ``platform = ⌊R·p/10⁴⌋``, ``treasury = ⌊R·t/10⁴⌋``,
``R_SBGT = ⌊R·s/10⁴⌋`` and the SDT side gets the rest; within the sides
``r_k = ⌊R_SBGT·φ_k/Σφ⌋`` (eq. 10) and ``r_i = ⌊R_SDT·T_i/ΣT⌋`` (eq. 11). With no scored
contributor the SBGT side goes to the treasury, as on chain. What floors away is
reported as ``dust``. The chain's accumulator may floor differently by a few wei per
holder; integration tests compare claims with this within dust.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["RevenueShares", "RevenueSplit", "split_revenue"]

_BPS = 10_000


@dataclass(frozen=True, kw_only=True)
class RevenueShares:
    """A SubDAO's revenue split in basis points (001 §6.3, 000 §6.5.1); the SDT side gets
    what the platform, SubDAO-treasury and SBGT shares leave.

    The mirror of ``IRevenueSplitter.Shares``: ``min_treasury_bps``/``max_treasury_bps``
    bound the treasury share the SubDAO's financial chamber may set. A scenario's shares
    are checked when the config is loaded, as ``RevenueSplitter._checkShares`` checks them.
    """

    platform_bps: int = 3_000
    treasury_bps: int = 1_000
    sbgt_bps: int = 3_000
    min_treasury_bps: int = 1_000
    max_treasury_bps: int = 1_500

    def as_tuple(self) -> tuple[int, int, int, int, int]:
        """The ``IRevenueSplitter.Shares`` struct in member order."""
        return (
            self.platform_bps,
            self.treasury_bps,
            self.sbgt_bps,
            self.min_treasury_bps,
            self.max_treasury_bps,
        )

    @classmethod
    def from_tuple(cls, values: Sequence[Any]) -> RevenueShares:
        """The shares from an ``IRevenueSplitter.Shares`` value returned by the chain."""
        platform, treasury, sbgt, low, high = (int(v) for v in values)
        return cls(
            platform_bps=platform,
            treasury_bps=treasury,
            sbgt_bps=sbgt,
            min_treasury_bps=low,
            max_treasury_bps=high,
        )


@dataclass(frozen=True)
class RevenueSplit:
    """The expected split of ``total`` (001 eq. 10/11).

    Attributes
    ----------
    total
        Revenue received.
    platform, treasury, sbgt_side, sdt_side
        The sides: platform and SubDAO-treasury shares, the SBGT pool, the SDT rest.
    dust
        What the floors leave unpaid.
    sbgt
        Contributor → ``⌊R_SBGT·φ_k/Σφ⌋``.
    sdt
        SDT holder → ``⌊R_SDT·T_i/ΣT⌋``.
    """

    total: int
    platform: int
    treasury: int
    sbgt_side: int
    sdt_side: int
    dust: int
    sbgt: Mapping[str, int]
    sdt: Mapping[str, int]

    def to_json(self) -> dict[str, Any]:
        """A JSON-compatible dict."""
        return {
            "total": self.total,
            "sides": {
                "platform": self.platform,
                "treasury": self.treasury,
                "sbgt": self.sbgt_side,
                "sdt": self.sdt_side,
                "dust": self.dust,
            },
            "sbgt": dict(self.sbgt),
            "sdt": dict(self.sdt),
        }


def split_revenue(
    total: int,
    *,
    shares: RevenueShares,
    phi: Mapping[str, int],
    sdt: Mapping[str, int],
) -> RevenueSplit:
    """Split ``total`` by ``shares``: the SBGT side by consensus ``phi`` (eq. 10), the SDT
    side by SDT balances ``sdt`` (eq. 11); with no scored contributor the SBGT side goes to
    the treasury, as on chain."""
    platform = total * shares.platform_bps // _BPS
    treasury = total * shares.treasury_bps // _BPS
    sbgt_pool = total * shares.sbgt_bps // _BPS
    sdt_pool = total - platform - treasury - sbgt_pool
    phi_sum = sum(phi.values())
    if phi_sum == 0:
        treasury += sbgt_pool
        sbgt_pool = 0
    by_phi = {k: sbgt_pool * v // phi_sum for k, v in phi.items()} if phi_sum else {}
    sdt_sum = sum(sdt.values())
    by_sdt = {k: sdt_pool * v // sdt_sum for k, v in sdt.items()} if sdt_sum else {}
    paid = platform + treasury + sum(by_phi.values()) + sum(by_sdt.values())
    return RevenueSplit(
        total=total,
        platform=platform,
        treasury=treasury,
        sbgt_side=sbgt_pool,
        sdt_side=sdt_pool,
        dust=total - paid,
        sbgt=by_phi,
        sdt=by_sdt,
    )
