"""The gas meter's file: records, send intents matched by sender and nonce, bad lines."""

from __future__ import annotations

import json

import pytest

from flai.chain import ChainError, GasMeter


def _write(path, *items):
    path.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")


def test_records_and_matched_intents_load_without_a_chain(tmp_path):
    path = tmp_path / "gas.jsonl"
    _write(
        path,
        ["deploy/protocol", 900],
        {"sent": "fund/FLAI", "from": "0xA", "nonce": 3},
        ["fund/FLAI", 51_000, "0xA", 3],
        {"sent": "round/open", "from": "0xB", "nonce": 0},
        {"resolved": "round/open", "from": "0xB", "nonce": 0},  # never sent
    )
    meter = GasMeter(path=path)
    assert meter.entries == [("deploy/protocol", 900), ("fund/FLAI", 51_000)]
    assert meter.counts() == {"deploy/protocol": 1, "fund/FLAI": 1}
    assert meter.totals() == {"deploy/protocol": 900, "fund/FLAI": 51_000}


def test_a_torn_last_line_is_cut(tmp_path):
    path = tmp_path / "gas.jsonl"
    path.write_bytes(b'["deploy/protocol", 900]\n["fund/FL')
    assert GasMeter(path=path).entries == [("deploy/protocol", 900)]
    assert path.read_bytes() == b'["deploy/protocol", 900]\n'


@pytest.mark.parametrize("line", [b"\xff\xfe garbage", b'{"sent": "x"}', b'["x"]', b"7"])
def test_a_line_that_is_not_a_gas_record_is_a_chain_error_naming_file_and_line(tmp_path, line):
    path = tmp_path / "gas.jsonl"
    path.write_bytes(b'["deploy/protocol", 900]\n' + line + b"\n")
    with pytest.raises(ChainError, match="line 2 is not a gas record") as info:
        GasMeter(path=path)
    assert str(path) in str(info.value)
