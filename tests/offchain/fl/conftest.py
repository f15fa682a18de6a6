"""Shared fixtures for the FL engine tests (pure Python, no chain)."""

from __future__ import annotations

import pytest

from flai.fl import (
    Dataset,
    FederatedSplit,
    SplitConfig,
    load_breast_cancer_dataset,
    split_federated,
)


@pytest.fixture(scope="session")
def breast_cancer() -> Dataset:
    return load_breast_cancer_dataset()


@pytest.fixture(scope="session")
def split5(breast_cancer: Dataset) -> FederatedSplit:
    """Five non-IID custodians (Dirichlet α = 0.5), one validator, a test set."""
    return split_federated(breast_cancer, SplitConfig(num_custodians=5, alpha=0.5, seed=0))
