"""An append-only, fsync'ed JSONL journal that makes every orchestrator step idempotent.

Each step has a key (``round/1/commit/st-mary``). :meth:`Journal.once` runs a step at most
once *per effect*:

1. a ``done`` record for the key → its recorded result is returned, nothing runs;
2. otherwise, if the step has a ``probe`` (a read of the ledger or store that tells
   whether the effect already happened, e.g. ``port.update_cid(round, custodian)``), the
   probe is asked first; if the effect is there its answer is recorded as the result —
   this reconciles a step that crashed after its effect but before its record, so nothing
   is posted twice;
3. otherwise a ``pending`` record is written, the step runs, and only after it returned
   (its effect confirmed) is ``done`` written with the result.

Every record is one JSON line written with ``flush`` + ``os.fsync``; a torn last line left
by a crash is ignored (and cut) when the journal is reopened. Steps without a probe must
be safe to repeat (content-addressed IPFS puts, pure computations).

Fault injection (for crash tests, documented and deliberate): when the environment
variable ``FLAI_PIPELINE_FAULT`` is ``kill:<phase>:<pattern>`` the process sends itself
``SIGKILL`` at ``phase`` of the first step whose key matches the :mod:`fnmatch`
``pattern`` (once per process). The journal's phases are ``before`` (pending written,
effect not done), ``effect`` (effect done, ``done`` not written) and ``after`` (``done``
written); ``tx`` is the chain adapter's: a transaction of the gas-meter step ``pattern``
(``technical/fork+retire/propose``, ``market/ranks (financial chamber)/vote``,
``onboard/apply contributor``) is mined and its gas line not yet written
(:meth:`flai.chain.gas.GasMeter.send`). :func:`fault_point` is the hook;
:func:`check_fault_hook` validates the variable (the lifecycle calls it before its first
transaction). Unset, the hook costs one dictionary lookup per step.
"""

from __future__ import annotations

import fnmatch
import json
import os
import signal
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from flai.pipeline.errors import ConfigError, JournalError, StorageUnavailableError
from flai.storage import UnreachableError

__all__ = ["FAULT_ENV", "FAULT_PHASES", "Journal", "check_fault_hook", "fault_point"]

FAULT_ENV = "FLAI_PIPELINE_FAULT"
"""Environment variable of the fault-injection hook (``kill:<phase>:<key pattern>``)."""

FAULT_PHASES = ("before", "effect", "after", "tx")
"""The phases of the fault hook (see the module docstring)."""

_T = TypeVar("_T")
_fired = False  # the hook kills once per process


def _fault(environ: Mapping[str, str]) -> tuple[str, str] | None:
    spec = environ.get(FAULT_ENV, "").strip()
    if not spec:
        return None
    action, _, rest = spec.partition(":")
    phase, _, pattern = rest.partition(":")
    if action != "kill" or phase not in FAULT_PHASES or not pattern:
        raise JournalError(
            "<env>",
            f"{FAULT_ENV}={spec!r}: expected kill:<{'|'.join(FAULT_PHASES)}>:<step pattern>",
        )
    return phase, pattern


def check_fault_hook(environ: Mapping[str, str] | None = None) -> None:
    """Refuse a malformed ``FLAI_PIPELINE_FAULT`` (default: in ``os.environ``), so a run
    checks it at its start, before its first transaction, not when its journal opens.

    Raises
    ------
    ConfigError
        Naming the variable.
    """
    try:
        _fault(os.environ if environ is None else environ)
    except JournalError as exc:
        raise ConfigError(exc.detail, field=FAULT_ENV) from exc


def fault_point(phase: str, step: str, environ: Mapping[str, str] | None = None) -> None:
    """Kill this process (``SIGKILL``) if the fault hook names ``phase`` and a pattern
    ``step`` matches, and it has not fired yet in this process."""
    global _fired
    if _fired:
        return
    fault = _fault(os.environ if environ is None else environ)
    if fault is None:
        return
    want, pattern = fault
    if want == phase and fnmatch.fnmatchcase(step, pattern):
        _fired = True
        os.kill(os.getpid(), signal.SIGKILL)


class Journal:
    """The local journal of one run.

    Parameters
    ----------
    path
        The JSONL file (created with its directory).
    run_id
        Identifies the scenario; reopening a journal written for another run raises.
    environ
        Environment to read the fault hook from (default ``os.environ``).

    Raises
    ------
    JournalError
        A record in the middle of the file is not JSON (or not UTF-8 text), the run id
        differs, or the fault hook's variable is malformed.
    """

    def __init__(
        self, *, path: str | Path, run_id: str, environ: Mapping[str, str] | None = None
    ) -> None:
        self.path = Path(path)
        self.run_id = run_id
        self._done: dict[str, Any] = {}
        self._pending: set[str] = set()
        self._environ = os.environ if environ is None else environ
        _fault(self._environ)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._load()
        self._file = self.path.open("a", encoding="utf-8")
        if not self.path.stat().st_size:
            self._write({"kind": "header", "run": run_id})

    # ------------------------------------------------------------------ records
    def _load(self) -> None:
        if not self.path.exists():
            return
        raw = self.path.read_bytes()
        complete = raw[: raw.rfind(b"\n") + 1]
        if len(complete) != len(raw):  # torn final record from a crash: drop it
            with self.path.open("r+b") as f:
                f.truncate(len(complete))
                f.flush()
                os.fsync(f.fileno())
        try:
            text = complete.decode("utf-8")
        except UnicodeDecodeError as exc:
            where = complete[: exc.start].count(b"\n") + 1
            raise JournalError(
                str(self.path), f"line {where} is not UTF-8 text (byte {exc.start}): {exc.reason}"
            ) from exc
        for n, line in enumerate(text.splitlines(), start=1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise JournalError(str(self.path), f"line {n} is not JSON: {exc}") from exc
            if not isinstance(record, dict):
                raise JournalError(str(self.path), f"line {n} is not a JSON object")
            kind = record.get("kind")
            if kind == "header":
                if record.get("run") != self.run_id:
                    raise JournalError(
                        str(self.path),
                        f"written for run {record.get('run')!r}, not {self.run_id!r}",
                    )
            elif kind in ("pending", "done") and not isinstance(record.get("step"), str):
                raise JournalError(str(self.path), f"line {n} has no step key")
            elif kind == "pending":
                self._pending.add(record["step"])
            elif kind == "done":
                self._done[record["step"]] = record.get("result")
                self._pending.discard(record["step"])
            else:
                raise JournalError(str(self.path), f"line {n} has unknown kind {kind!r}")

    def _write(self, record: Mapping[str, Any]) -> None:
        line = json.dumps(record, sort_keys=True, separators=(",", ":"), allow_nan=False)
        self._file.write(line + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    # ------------------------------------------------------------------ queries
    def is_done(self, step: str) -> bool:
        """Whether ``step`` has a ``done`` record."""
        return step in self._done

    def result(self, step: str) -> Any:
        """The recorded result of a done step (``KeyError`` if not done)."""
        return self._done[step]

    @property
    def pending(self) -> frozenset[str]:
        """Steps started but not recorded done (what a crash interrupted)."""
        return frozenset(self._pending)

    @property
    def done_steps(self) -> tuple[str, ...]:
        """Keys of the done steps, in completion order."""
        return tuple(self._done)

    # ------------------------------------------------------------------ steps
    def _maybe_kill(self, phase: str, step: str) -> None:
        fault_point(phase, step, self._environ)

    def once(
        self,
        step: str,
        fn: Callable[[], _T],
        *,
        probe: Callable[[], _T | None] | None = None,
    ) -> _T:
        """Run ``fn`` unless ``step`` is done (or ``probe`` finds its effect); record it.

        ``fn``'s result must be JSON-serialisable (it is what a rerun gets back).

        Raises
        ------
        StorageUnavailableError
            ``fn`` or ``probe`` could not reach the IPFS node (naming its address); the
            step stays pending and a rerun repeats it.
        """
        if step in self._done:
            return self._done[step]  # type: ignore[no-any-return]
        try:
            if probe is not None:
                found = probe()
                if found is not None:
                    self._write({"kind": "done", "step": step, "result": found, "via": "probe"})
                    self._done[step] = found
                    self._pending.discard(step)
                    return found
            self._write({"kind": "pending", "step": step})
            self._pending.add(step)
            self._maybe_kill("before", step)
            result = fn()
        except UnreachableError as exc:
            raise StorageUnavailableError(
                address=exc.address, step=step, reason=exc.reason
            ) from exc
        self._maybe_kill("effect", step)
        self._write({"kind": "done", "step": step, "result": result})
        self._done[step] = result
        self._pending.discard(step)
        self._maybe_kill("after", step)
        return result
