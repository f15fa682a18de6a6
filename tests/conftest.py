"""Root test configuration.

Contract tests run on brownie's ``development`` network (Anvil) and are isolated per test
with a chain snapshot; off-chain tests under ``tests/offchain`` are pure Python and never
touch the chain. Deploy fixtures live in the plugin modules under ``tests/fixtures`` and
call the same deploy functions the scripts use.
"""

import pytest

pytest_plugins = [
    "tests.fixtures.accounts",
    "tests.fixtures.platform",
    "tests.fixtures.subdao",
    "tests.fixtures.market",
]


def pytest_configure(config):
    """Contract runs (brownie's plugin active): close brownie's false "Tx dropped" race."""
    if config.pluginmanager.hasplugin("pytest-brownie"):
        from flai.chain import harden_receipt_wait

        harden_receipt_wait()


@pytest.fixture(autouse=True)
def _isolation(request):
    """Revert the chain after every contract test (brownie's fn_isolation)."""
    if "offchain" in request.node.path.parts:
        yield
        return
    request.getfixturevalue("fn_isolation")
    yield
