"""The platform addresses the explorer needs, from either deployment layout."""

import json

import pytest

from flai.explorer.deployment import load_deployment, platform_addresses
from flai.explorer.errors import DeploymentError

ADDRESSES = {
    "FLAIToken": "0x5fbdb2315678afecb367f032d93f642f64180aa3",
    "SuperDAOStaking": "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
    "TimelockController": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
    "SuperDAOGovernor": "0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9",
    "RFMRegistry": "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9",
    "SubDAOFactory": "0x9A676e781A523b5d0C0e43731313A708CB607508",
}
MARKET = "0x998abeb3E57409262aE5b751f60747921B33613E"


def test_deploy_script_layout_gives_the_platform_without_market_or_start():
    found = platform_addresses({"network": "development", "platform": ADDRESSES})
    assert found.token == "0x5FbDB2315678afecb367f032d93F642f64180aa3"  # checksummed
    assert found.registry == ADDRESSES["RFMRegistry"]
    assert found.marketplace is None and found.start_block is None
    assert set(found.named()) == set(ADDRESSES)


def test_lifecycle_layout_adds_the_marketplace_and_start_block():
    document = {
        **ADDRESSES,
        "Marketplace": MARKET,
        "startBlock": 7,
        "rfmId": 1,
        "suite": {"SubDAO": MARKET},
        "workdir": "x",
    }
    found = platform_addresses(document)
    assert found.marketplace == MARKET and found.start_block == 7
    assert found.named()["Marketplace"] == MARKET


@pytest.mark.parametrize("layout", ["platform", "flat"])
def test_a_missing_address_is_named(layout):
    partial = {k: v for k, v in ADDRESSES.items() if k != "SuperDAOGovernor"}
    document = {"platform": partial} if layout == "platform" else partial
    with pytest.raises(DeploymentError) as err:
        platform_addresses(document)
    assert err.value.field == "SuperDAOGovernor"


def test_a_malformed_address_or_start_block_is_named():
    with pytest.raises(DeploymentError, match="RFMRegistry"):
        platform_addresses({**ADDRESSES, "RFMRegistry": "0x1234"})
    with pytest.raises(DeploymentError, match="Marketplace"):
        platform_addresses({**ADDRESSES, "Marketplace": 12})
    with pytest.raises(DeploymentError, match="startBlock"):
        platform_addresses({**ADDRESSES, "startBlock": -1})
    with pytest.raises(DeploymentError, match="platform"):
        platform_addresses({"platform": ["not", "an", "object"]})


def test_load_deployment_reads_a_file_and_names_an_unreadable_one(tmp_path):
    path = tmp_path / "development.json"
    path.write_text(json.dumps({"network": "development", "platform": ADDRESSES}))
    assert load_deployment(path).factory == ADDRESSES["SubDAOFactory"]
    path.write_text("{not json")
    with pytest.raises(DeploymentError) as err:
        load_deployment(path)
    assert err.value.field == "<file>"
    with pytest.raises(DeploymentError, match="cannot read"):
        load_deployment(tmp_path / "missing.json")
