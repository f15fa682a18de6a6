"""The journal: steps run once, crashes between effect and record are reconciled."""

from __future__ import annotations

import pytest

from flai.pipeline import FAULT_ENV, ConfigError, Journal, JournalError, StorageUnavailableError
from flai.storage import UnreachableError


def test_done_step_returns_its_recorded_result_without_running(tmp_path):
    path = tmp_path / "j.jsonl"
    calls = []
    j = Journal(path=path, run_id="r")
    assert j.once("a", lambda: calls.append(1) or {"cid": "x"}) == {"cid": "x"}
    j.close()
    j2 = Journal(path=path, run_id="r")
    assert j2.once("a", lambda: calls.append(2) or {"cid": "y"}) == {"cid": "x"}
    assert calls == [1]
    assert j2.done_steps == ("a",) and not j2.pending


def test_probe_reconciles_an_effect_that_was_not_recorded(tmp_path):
    path = tmp_path / "j.jsonl"
    ledger: dict[str, str] = {}
    j = Journal(path=path, run_id="r")

    def post():
        ledger["commit"] = "cid-1"
        raise KeyboardInterrupt  # the process dies after the effect, before the record

    with pytest.raises(KeyboardInterrupt):
        j.once("commit", post, probe=lambda: ledger.get("commit"))
    j.close()
    j2 = Journal(path=path, run_id="r")
    assert j2.pending == frozenset({"commit"})
    calls = []
    assert j2.once("commit", lambda: calls.append(1), probe=lambda: ledger.get("commit")) == "cid-1"
    assert calls == []  # not posted twice
    assert j2.is_done("commit") and not j2.pending


def test_pending_step_without_effect_is_run_again(tmp_path):
    path = tmp_path / "j.jsonl"
    j = Journal(path=path, run_id="r")
    with pytest.raises(RuntimeError):
        j.once("s", lambda: (_ for _ in ()).throw(RuntimeError("boom")), probe=lambda: None)
    j.close()
    j2 = Journal(path=path, run_id="r")
    assert j2.once("s", lambda: 5, probe=lambda: None) == 5


def test_torn_last_line_is_dropped(tmp_path):
    path = tmp_path / "j.jsonl"
    j = Journal(path=path, run_id="r")
    j.once("a", lambda: 1)
    j.close()
    with path.open("a") as f:
        f.write('{"kind":"done","step":"b","res')  # torn by a crash
    j2 = Journal(path=path, run_id="r")
    assert j2.done_steps == ("a",)
    assert j2.once("b", lambda: 2) == 2
    j2.close()
    assert Journal(path=path, run_id="r").result("b") == 2


def test_journal_of_another_run_is_refused(tmp_path):
    path = tmp_path / "j.jsonl"
    Journal(path=path, run_id="first").close()
    with pytest.raises(JournalError, match="written for run 'first'"):
        Journal(path=path, run_id="second")


def test_corrupt_middle_line_is_refused(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_text('{"kind":"header","run":"r"}\nnot json\n{"kind":"done","step":"a"}\n')
    with pytest.raises(JournalError, match="line 2"):
        Journal(path=path, run_id="r")


def test_unreachable_ipfs_becomes_a_storage_error_naming_address_and_step(tmp_path):
    j = Journal(path=tmp_path / "j.jsonl", run_id="r")

    def put():
        raise UnreachableError("/ip4/127.0.0.1/tcp/5999/http", "connection refused")

    with pytest.raises(StorageUnavailableError) as info:
        j.once("round/0/upload/a", put)
    assert info.value.address == "/ip4/127.0.0.1/tcp/5999/http"
    assert info.value.step == "round/0/upload/a"
    assert "/ip4/127.0.0.1/tcp/5999/http" in str(info.value)
    assert j.pending == frozenset({"round/0/upload/a"})


def test_malformed_fault_hook_is_refused(tmp_path):
    with pytest.raises(JournalError, match=FAULT_ENV):
        Journal(path=tmp_path / "j.jsonl", run_id="r", environ={FAULT_ENV: "explode:now"})


@pytest.mark.parametrize(
    "garbage, where",
    [
        (b'{"kind":"header","run":"r"}\n\xff\xfe\x00\x81binary\n', "line 2 is not UTF-8"),
        (b'{"kind":"header","run":"r"}\n[1, 2]\n', "line 2 is not a JSON object"),
        (b'{"kind":"header","run":"r"}\n{"kind":"done","step":7}\n', "line 2 has no step key"),
    ],
)
def test_binary_or_malformed_records_are_a_journal_error_naming_the_file(tmp_path, garbage, where):
    path = tmp_path / "j.jsonl"
    path.write_bytes(garbage)
    with pytest.raises(JournalError) as info:
        Journal(path=path, run_id="r")
    assert info.value.path == str(path)
    assert str(path) in str(info.value) and where in str(info.value)


def test_fault_hook_tx_phase_is_accepted_and_ignores_other_steps_and_phases(tmp_path):
    from flai.pipeline.journal import check_fault_hook, fault_point

    environ = {FAULT_ENV: "kill:tx:technical/*/propose"}
    check_fault_hook(environ)
    Journal(path=tmp_path / "j.jsonl", run_id="r", environ=environ).close()
    fault_point("tx", "technical/revoke poisoners/vote", environ)  # another step: no kill
    fault_point("after", "technical/revoke poisoners/propose", environ)  # another phase
    with pytest.raises(ConfigError, match="tx"):
        check_fault_hook({FAULT_ENV: "kill:transaction:x"})
