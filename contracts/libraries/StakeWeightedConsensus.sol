// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Stake-weighted consensus scores and the slashing of deviating validators
/// @notice Pure math of a training round's decision (003 §VI, 004 §5.2): each submitter's
/// consensus score is the lower stake-weighted median of the validators' scores for it, and a
/// validator whose mean absolute deviation from consensus exceeds the tolerance loses a share of
/// its deposit. Scores are 1e18 fixed point; the off-chain engine applies the same rule.
library StakeWeightedConsensus {
    uint256 internal constant BPS = 10_000;

    /// @dev Lower stake-weighted median of column `i` of `s` (one row per validator, weights `w`):
    /// the smallest score x such that the validators scoring ≤ x hold at least half the total
    /// weight (2·cum ≥ total). `s` has at least one row.
    function lowerWeightedMedian(uint64[][] memory s, uint256[] memory w, uint256 i) internal pure returns (uint64) {
        uint256 nv = s.length;
        uint64[] memory xs = new uint64[](nv);
        uint256[] memory ws = new uint256[](nv);
        uint256 total = 0;
        for (uint256 v; v < nv; ++v) {
            uint64 x = s[v][i];
            uint256 wt = w[v];
            total += wt;
            uint256 j = v;
            while (j > 0 && xs[j - 1] > x) {
                xs[j] = xs[j - 1];
                ws[j] = ws[j - 1];
                --j;
            }
            xs[j] = x;
            ws[j] = wt;
        }
        uint256 cum = 0;
        for (uint256 v; v < nv; ++v) {
            cum += ws[v];
            if (2 * cum >= total) return xs[v];
        }
        return xs[nv - 1];
    }

    /// @dev Mean absolute deviation of `scores` from `phi` (same non-zero length), 1e18 fixed point.
    function meanAbsDeviation(uint64[] memory scores, uint64[] memory phi) internal pure returns (uint256 dev) {
        uint256 n = phi.length;
        for (uint256 i; i < n; ++i) {
            uint64 a = scores[i];
            uint64 b = phi[i];
            dev += a > b ? a - b : b - a;
        }
        dev /= n;
    }

    /// @dev The part of `deposit` a deviating validator loses: ⌊deposit·slashBps/10000⌋ (≤ deposit
    /// for slashBps ≤ 10000).
    function slashAmount(uint256 deposit, uint256 slashBps) internal pure returns (uint256) {
        return (deposit * slashBps) / BPS;
    }
}
