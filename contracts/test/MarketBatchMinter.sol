// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The SDT entry points the batch minter drives.
interface IMarketMintableSDT {
    function mint(address to, uint256 amount) external;
    function setBalanceHook(address hook) external;
}

/// @title Holds an SDT's SubDAO role in benchmarks and mints to many holders per transaction
contract MarketBatchMinter {
    /// @notice Mints `amount` to each of the `n` addresses `first`, `first + 1`, …
    function mintMany(address sdt, uint160 first, uint256 n, uint256 amount) external {
        for (uint160 i; i < n; ++i) {
            IMarketMintableSDT(sdt).mint(address(first + i), amount);
        }
    }

    /// @notice Sets the SDT's balance hook (the SubDAO does this when the splitter is attached).
    function setBalanceHook(address sdt, address hook) external {
        IMarketMintableSDT(sdt).setBalanceHook(hook);
    }
}
