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

from collections.abc import Mapping

from flai.pipeline.config import RevenueShares

__all__ = ["split_revenue"]

_BPS = 10_000


def split_revenue(
    total: int,
    *,
    shares: RevenueShares,
    phi: Mapping[str, int],
    sdt: Mapping[str, int],
) -> dict[str, dict[str, int]]:
    """Split ``total`` into ``{"platform", "treasury", "sbgt", "sdt", "dust"}`` parts.

    Returns
    -------
    dict
        ``"sides"`` (platform, treasury, sbgt, sdt, dust totals), ``"sbgt"`` (per
        contributor) and ``"sdt"`` (per SDT holder).
    """
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
    return {
        "sides": {
            "platform": platform,
            "treasury": treasury,
            "sbgt": sbgt_pool,
            "sdt": sdt_pool,
            "dust": total - paid,
        },
        "sbgt": by_phi,
        "sdt": by_sdt,
    }
