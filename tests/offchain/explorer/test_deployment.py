"""The platform addresses the explorer needs, from the deployment file."""

import json

import pytest

from flai.explorer.deployment import load_deployment, platform_addresses
from flai.explorer.errors import DeploymentError

PLATFORM = {
    "FLAIToken": "0x5fbdb2315678afecb367f032d93f642f64180aa3",
    "SuperDAOStaking": "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
    "TimelockController": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
    "SuperDAOGovernor": "0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9",
    "RFMRegistry": "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9",
}
FACTORY = "0x9A676e781A523b5d0C0e43731313A708CB607508"
MARKET = "0x998abeb3E57409262aE5b751f60747921B33613E"
ADDRESSES = {**PLATFORM, "SubDAOFactory": FACTORY}


def _document(**extra):
    return {
        "network": "development",
        "platform": dict(PLATFORM),
        "subdaoFactory": {"SubDAOFactory": FACTORY, "SubDAO": MARKET},
        **extra,
    }


def test_the_platform_and_factory_without_market_or_start():
    found = platform_addresses(_document())
    assert found.token == "0x5FbDB2315678afecb367f032d93F642f64180aa3"  # checksummed
    assert found.registry == PLATFORM["RFMRegistry"] and found.factory == FACTORY
    assert found.marketplace is None and found.start_block is None
    assert set(found.named()) == set(ADDRESSES)


def test_the_market_section_adds_the_marketplace_and_the_start_block():
    found = platform_addresses(_document(market={"Marketplace": MARKET}, startBlock=7))
    assert found.marketplace == MARKET and found.start_block == 7
    assert found.named()["Marketplace"] == MARKET


@pytest.mark.parametrize(
    ("section", "name"), [("platform", "SuperDAOGovernor"), ("subdaoFactory", "SubDAOFactory")]
)
def test_a_missing_address_is_named(section, name):
    document = _document()
    del document[section][name]
    with pytest.raises(DeploymentError) as err:
        platform_addresses(document)
    assert err.value.field == name


def test_a_malformed_address_section_or_start_block_is_named():
    bad = _document()
    bad["platform"]["RFMRegistry"] = "0x1234"
    with pytest.raises(DeploymentError, match="RFMRegistry"):
        platform_addresses(bad)
    with pytest.raises(DeploymentError, match="Marketplace"):
        platform_addresses(_document(market={"Marketplace": 12}))
    with pytest.raises(DeploymentError, match="startBlock"):
        platform_addresses(_document(startBlock=-1))
    with pytest.raises(DeploymentError, match="platform"):
        platform_addresses({**_document(), "platform": ["not", "an", "object"]})
    with pytest.raises(DeploymentError, match="subdaoFactory"):
        platform_addresses({"platform": PLATFORM})


def test_load_deployment_reads_a_file_and_names_an_unreadable_one(tmp_path):
    path = tmp_path / "development.json"
    path.write_text(json.dumps(_document()))
    assert load_deployment(path).factory == FACTORY
    path.write_text("{not json")
    with pytest.raises(DeploymentError) as err:
        load_deployment(path)
    assert err.value.field == "<file>"
    with pytest.raises(DeploymentError, match="cannot read"):
        load_deployment(tmp_path / "missing.json")
