"""flai.chain without a chain: config validation, struct encoding, lazy brownie import."""

import subprocess
import sys
from dataclasses import replace

import pytest

from flai.chain import ConfigError, PlatformConfig, RFMParams, Tag
from flai.chain.abi import Address
from flai.errors import FlaiError

REQUEST = RFMParams(
    spec_cid="bafkreia2heewwaqwhbxlp4nu77bx5uv7orepbing36qzuci2a67qglchca",
    domain=Tag("healthcare.oncology"),
    model_class=Tag("binary-classifier"),
    data_schema=Tag("HL7-FHIR-R4"),
    metric_id=Tag("AUC"),
    metric_threshold=850_000,
    min_validators=3,
    quorum_bps=5_000,
    epoch_length=604_800,
    crowdfund_deadline=2_000_000_000,
    payment_token=Address("0x" + "11" * 20),
    price_per_inference=5 * 10**17,
    crowdfund_goal=10**22,
    sdt_per_payment_unit=10**18,
    sdt_cap=10**24,
)


def test_importing_flai_chain_does_not_import_brownie():
    code = "import sys, flai.chain; assert 'brownie' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "field, value",
    [
        ("total_supply", 0),
        ("treasury_allocation", 10**40),
        ("exit_fee_bps", 1_001),
        ("voting_delay", 0),
        ("voting_period", 0),
        ("quorum_percent", 101),
        ("submission_ttl", 0),
        ("endorsement_threshold_bps", 0),
        ("rejection_refund_bps", 10_001),
        ("success_refund_bps", -1),
    ],
)
def test_out_of_range_config_is_rejected(field, value):
    with pytest.raises(ConfigError, match=field):
        PlatformConfig(**{field: value})


def test_config_errors_are_flai_errors():
    assert issubclass(ConfigError, FlaiError)


def test_config_from_mapping():
    config = PlatformConfig.from_mapping(
        {"voting_period": 50, "operational_actions": [["staking", "setMinimumStake"]]}
    )
    assert config.voting_period == 50
    assert config.operational_actions == (("staking", "setMinimumStake"),)
    with pytest.raises(ConfigError, match="unknown platform config keys"):
        PlatformConfig.from_mapping({"votingPeriod": 50})


def test_rfm_params_encode_tags_and_round_trip():
    encoded = REQUEST.as_tuple()
    assert encoded[1] == b"healthcare.oncology".ljust(32, b"\0")
    assert encoded[4] == b"AUC".ljust(32, b"\0")
    assert encoded[5] == 850_000
    assert len(encoded) == 15
    # what brownie returns for bytes32 members is 0x-hex: decoded back to the tag
    returned = tuple("0x" + v.hex() if isinstance(v, bytes) else v for v in encoded)
    assert RFMParams.from_tuple(returned) == REQUEST


def test_rfm_tag_longer_than_32_bytes_is_rejected():
    with pytest.raises(ConfigError, match="longer than 32 bytes"):
        replace(REQUEST, domain=Tag("x" * 33)).as_tuple()
