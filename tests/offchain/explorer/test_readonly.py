"""The explorer's chain connection refuses every method that is not a read, before sending."""

import pytest

from flai.explorer.errors import ChainReadError, ExplorerError, ReadOnlyViolationError
from flai.explorer.rpc import READ_METHODS, ReadOnlyHTTPProvider, connect
from flai.explorer.service import ExplorerConfig, load_names

# nothing listens on the discard port: a request that got through would fail to connect
UNREACHABLE = "http://127.0.0.1:9"


@pytest.mark.parametrize(
    "method",
    [
        "eth_sendTransaction",
        "eth_sendRawTransaction",
        "eth_sign",
        "eth_signTransaction",
        "eth_signTypedData_v4",
        "personal_sign",
        "personal_unlockAccount",
        "eth_accounts",
        "anvil_impersonateAccount",
        "anvil_setBalance",
        "evm_mine",
        "evm_revert",
        "hardhat_reset",
    ],
)
def test_writes_and_key_methods_are_refused_before_any_request(method):
    provider = ReadOnlyHTTPProvider(UNREACHABLE)
    with pytest.raises(ReadOnlyViolationError) as err:
        provider.make_request(method, [])
    assert err.value.method == method
    with pytest.raises(ReadOnlyViolationError):
        provider.make_batch_request([("eth_blockNumber", []), (method, [])])
    assert provider.request_count == 0


def test_reads_are_forwarded_and_counted():
    provider = ReadOnlyHTTPProvider(UNREACHABLE, timeout=0.5)
    assert "eth_getLogs" in READ_METHODS and "eth_sendTransaction" not in READ_METHODS
    with pytest.raises(Exception):  # forwarded: the connection itself fails
        provider.make_request("eth_blockNumber", [])
    assert provider.request_count == 1


def test_connect_names_an_unreachable_node():
    with pytest.raises(ChainReadError) as err:
        connect(UNREACHABLE, timeout=0.5)
    assert err.value.method == "eth_chainId" and UNREACHABLE in str(err.value)


def test_config_serves_on_loopback_only_and_names_bad_fields(tmp_path):
    ExplorerConfig(rpc="http://x", deployment=tmp_path / "d.json", host="::1")
    for host in ("0.0.0.0", "192.168.1.4", "example.org"):
        with pytest.raises(ExplorerError, match="host"):
            ExplorerConfig(rpc="http://x", deployment=tmp_path / "d.json", host=host)
    with pytest.raises(ExplorerError, match="port"):
        ExplorerConfig(rpc="http://x", deployment=tmp_path / "d.json", port=70000)
    with pytest.raises(ExplorerError, match="poll"):
        ExplorerConfig(rpc="http://x", deployment=tmp_path / "d.json", poll=-1)
    with pytest.raises(ExplorerError, match="ipfs_api, ipfs_repo"):
        ExplorerConfig(
            rpc="http://x",
            deployment=tmp_path / "d.json",
            ipfs_api="http://a:1",
            ipfs_repo=tmp_path,
        )


def test_names_file_is_checked(tmp_path):
    good = tmp_path / "names.json"
    good.write_text('{"0x90f79bf6eb2c4f870365e785982e1f101e93b906": "st-mary"}')
    assert load_names(good) == {"0x90F79bf6EB2c4f870365E785982E1f101E93b906": "st-mary"}
    bad = tmp_path / "bad.json"
    bad.write_text('{"not-an-address": "x"}')
    with pytest.raises(ExplorerError, match="not-an-address"):
        load_names(bad)
