"""Root test configuration.

Contract tests run on brownie's ``development`` network (Anvil) and are isolated per test
with a chain snapshot; off-chain tests under ``tests/offchain`` are pure Python and never
touch the chain. Deploy fixtures live in the plugin modules under ``tests/fixtures`` and
call the same deploy functions the scripts use.
"""

import os

import pytest

pytest_plugins = [
    "tests.fixtures.accounts",
    "tests.fixtures.platform",
    "tests.fixtures.subdao",
    "tests.fixtures.market",
]


def pytest_configure(config):
    """Contract runs (brownie's plugin active): the suite's own Anvil, and brownie's race closed.

    The ``development`` network is set in memory to a free loopback port (or the chain a
    parent process handed over in ``FLAI_CHAIN_RPC``), so the suite never attaches to a node
    it did not start and never edits brownie's network list.
    """
    if config.pluginmanager.hasplugin("pytest-brownie"):
        from flai.chain import harden_receipt_wait
        from flai.chain.runtime import configure_development

        configure_development()
        harden_receipt_wait()


@pytest.fixture(scope="session", autouse=True)
def _own_chain(request):
    """Refuse to run contract tests on a chain brownie attached to instead of launching."""
    if request.config.pluginmanager.hasplugin("pytest-brownie"):
        import brownie

        from flai.chain.runtime import CHAIN_RPC_ENV, ChainRuntimeError

        handed_over = bool(os.environ.get(CHAIN_RPC_ENV))
        if (
            brownie.network.is_connected()
            and not handed_over
            and not brownie.network.rpc.is_child()
        ):
            raise ChainRuntimeError("the suite is attached to a chain it did not start")
    yield


@pytest.fixture(autouse=True)
def _isolation(request):
    """Revert the chain after every contract test (brownie's fn_isolation)."""
    if "offchain" in request.node.path.parts:
        yield
        return
    request.getfixturevalue("fn_isolation")
    yield
