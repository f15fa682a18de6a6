// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title uint64 scores packed four to a storage word
/// @notice A vector of uint64 values (contribution scores φ in 1e18 fixed point) kept in a
/// `mapping(uint256 word => uint256)`: position p lives in word p / 4 at bits 64·(p mod 4),
/// low bits first, so n values cost ⌈n/4⌉ storage slots.
library PackedScores {
    /// @dev Stores `values` from position 0; returns `values.length` if every value is ≤ `max`,
    /// else the first position above it (the caller reverts: nothing from there on is written).
    function storeBounded(mapping(uint256 => uint256) storage packed, uint64[] calldata values, uint256 max)
        internal
        returns (uint256 firstAbove)
    {
        uint256 n = values.length;
        uint256 word = 0;
        for (uint256 i; i < n; ++i) {
            uint256 s = values[i];
            if (s > max) return i;
            word |= s << ((i & 3) * 64);
            if (i & 3 == 3 || i == n - 1) {
                packed[i >> 2] = word;
                word = 0;
            }
        }
        return n;
    }

    /// @dev Stores `values` from position 0.
    function store(mapping(uint256 => uint256) storage packed, uint64[] memory values) internal {
        uint256 n = values.length;
        uint256 word = 0;
        for (uint256 i; i < n; ++i) {
            word |= uint256(values[i]) << ((i & 3) * 64);
            if (i & 3 == 3 || i == n - 1) {
                packed[i >> 2] = word;
                word = 0;
            }
        }
    }

    /// @dev The first `n` values.
    function load(mapping(uint256 => uint256) storage packed, uint256 n) internal view returns (uint64[] memory out) {
        out = new uint64[](n);
        uint256 word = 0;
        for (uint256 i; i < n; ++i) {
            if (i & 3 == 0) word = packed[i >> 2];
            out[i] = uint64(word >> ((i & 3) * 64));
        }
    }

    /// @dev The value at position `pos`.
    function at(mapping(uint256 => uint256) storage packed, uint256 pos) internal view returns (uint64) {
        return uint64(packed[pos >> 2] >> ((pos & 3) * 64));
    }
}
