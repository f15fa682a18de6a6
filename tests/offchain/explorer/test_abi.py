"""Event decoding per contract kind, against logs encoded with eth_abi."""

import json

import eth_abi
import pytest
from eth_utils import keccak

from flai.explorer.abi import EventCodec, load_abi, selector_names
from flai.explorer.errors import ArtifactError

ALICE = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
BOB = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"


def _event(name, *inputs):
    return {"type": "event", "name": name, "anonymous": False, "inputs": list(inputs)}


def _p(name, kind, indexed=False, components=None):
    out = {"name": name, "type": kind, "indexed": indexed}
    if components:
        out["components"] = components
    return out


def _topic(address):
    return bytes(12) + bytes.fromhex(address[2:])


ERC20_TRANSFER = _event(
    "Transfer", _p("from", "address", True), _p("to", "address", True), _p("value", "uint256")
)
ERC721_TRANSFER = _event(
    "Transfer",
    _p("from", "address", True),
    _p("to", "address", True),
    _p("tokenId", "uint256", True),
)
FINALIZED = _event(
    "RoundFinalized",
    _p("roundId", "uint256", True),
    _p("aggregateCid", "string"),
    _p("metric", "uint64"),
    _p("submitters", "address[]"),
    _p("consensus", "uint64[]"),
    _p("phiSum", "uint256"),
)
CREATED = _event(
    "SubDAOCreated",
    _p("rfmId", "uint256", True),
    _p("subDAO", "address", True),
    _p("suite", "tuple", components=[_p("sbgt", "address"), _p("sdt", "address")]),
    _p("domain", "bytes32"),
)
SIGNATURE = keccak(text="Transfer(address,address,uint256)")


def test_erc20_and_erc721_transfers_share_a_topic_but_decode_per_kind():
    erc20, erc721 = EventCodec(abi=[ERC20_TRANSFER]), EventCodec(abi=[ERC721_TRANSFER])
    value = eth_abi.encode(["uint256"], [5])
    topics20 = [SIGNATURE, _topic(ALICE), _topic(BOB)]
    assert erc20.decode(topics20, value).args == {"from": ALICE, "to": BOB, "value": 5}
    assert erc721.decode(topics20, value) is None  # three indexed args expected
    topics721 = topics20 + [eth_abi.encode(["uint256"], [int(ALICE, 16)])]
    decoded = erc721.decode(topics721, b"")
    assert decoded.name == "Transfer" and decoded.args["tokenId"] == int(ALICE, 16)
    assert erc20.decode(topics721, b"") is None


def test_arrays_strings_and_tuples_become_json_values():
    codec = EventCodec(abi=[FINALIZED, CREATED])
    topic = keccak(text="RoundFinalized(uint256,string,uint64,address[],uint64[],uint256)")
    data = eth_abi.encode(
        ["string", "uint64", "address[]", "uint64[]", "uint256"],
        ["bafkreiabc", 850_000, [ALICE, BOB], [3 * 10**17, 7 * 10**17], 10**18],
    )
    event = codec.decode([topic, eth_abi.encode(["uint256"], [4])], data)
    assert event.args == {
        "roundId": 4,
        "aggregateCid": "bafkreiabc",
        "metric": 850_000,
        "submitters": [ALICE, BOB],
        "consensus": [3 * 10**17, 7 * 10**17],
        "phiSum": 10**18,
    }
    json.dumps(event.args)  # JSON-ready
    topic = keccak(text="SubDAOCreated(uint256,address,(address,address),bytes32)")
    domain = b"healthcare".ljust(32, b"\0")
    data = eth_abi.encode(["(address,address)", "bytes32"], [(ALICE, BOB), domain])
    event = codec.decode([topic, eth_abi.encode(["uint256"], [1]), _topic(ALICE)], data)
    assert event.args["suite"] == {"sbgt": ALICE, "sdt": BOB}
    assert event.args["domain"] == "0x" + domain.hex()
    assert list(event.args) == ["rfmId", "subDAO", "suite", "domain"]  # ABI order


def test_unknown_topics_and_malformed_data_are_not_decoded():
    codec = EventCodec(abi=[FINALIZED])
    assert codec.decode([keccak(text="Other()")], b"") is None
    assert codec.decode([], b"") is None
    topic = keccak(text="RoundFinalized(uint256,string,uint64,address[],uint64[],uint256)")
    assert codec.decode([topic, bytes(32)], b"\x01\x02") is None


def test_selectors_name_functions_and_missing_artifacts_are_named(tmp_path):
    abi = [
        {"type": "function", "name": "approve", "inputs": [_p("rfmId", "uint256")], "outputs": []}
    ]
    selector = "0x" + keccak(text="approve(uint256)")[:4].hex()
    assert selector_names(abi) == {selector: ("approve", ["uint256"])}
    with pytest.raises(ArtifactError) as err:
        load_abi("RFMRegistry", build_dir=tmp_path)
    assert err.value.contract == "RFMRegistry" and "make compile" in str(err.value)
    (tmp_path / "Broken.json").write_text('{"abi": 3}')
    with pytest.raises(ArtifactError, match="not a list"):
        load_abi("Broken", build_dir=tmp_path)
