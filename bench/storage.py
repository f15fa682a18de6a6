"""Storage figures, each printed beside its reference from the same run:

1. CID import of a 45 MB file: ours (CIDv1 raw leaves, CIDv0) against the npm
   ``ipfs-unixfs-importer`` on the same file (tools/ipfs/bench-import.mjs, Kubo's settings,
   a black-hole blockstore as ours keeps no blocks either) and against the hashlib.sha256
   floor; from memory and streamed from the file; best and median of N interleaved rounds.
2. Streaming import of 1 GB generated on the fly (hash only, and into a local store), in a
   fresh process: its peak resident memory.
3. The embedded node under a ``Content-Length: -1`` request with a 64 MiB body and under a
   normal 64 MiB add: the node process's peak resident memory.
4. put/get MB/s for 1 MiB and 64 MiB objects, on the local store and over HTTP.

Run: ``.venv/bin/python bench/storage.py [--repeats N] [--no-fsync] [--skip-1g]``. Prints
figures; asserts nothing. MB here is 10^6 bytes; MiB 2^20.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from flai.storage import IpfsHttpStorage, IpfsNode, LocalStore, Storage
from flai.storage.unixfs import ImportOptions, import_bytes, import_stream

MIB = 1 << 20
SIZES = {"1 MiB": MIB, "64 MiB": 64 * MIB}
IMPORT_SIZE = 45_000_000
REFERENCE_SCRIPT = REPO_ROOT / "tools" / "ipfs" / "bench-import.mjs"


# -- 1. CID import against the reference importer and the sha256 floor ---------------------


class _Reference:
    """The npm importer as a child process answering one timed import per request."""

    def __init__(self, path: Path) -> None:
        node = shutil.which("node")
        if node is None:
            raise SystemExit("node is required for the reference importer")
        self._process = subprocess.Popen(
            [node, str(REFERENCE_SCRIPT), str(path)],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._request("")  # the ready line

    def _request(self, line: str) -> dict[str, object]:
        assert self._process.stdin is not None and self._process.stdout is not None
        if line:
            self._process.stdin.write(line + "\n")
            self._process.stdin.flush()
        answer: dict[str, object] = json.loads(self._process.stdout.readline())
        if "error" in answer:
            raise SystemExit(f"reference importer: {answer['error']}")
        return answer

    def run(self, mode: str, source: str) -> tuple[float, str]:
        answer = self._request(f"{mode} {source}")
        return float(answer["ms"]) / 1e3, str(answer["cid"])  # type: ignore[arg-type]

    def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=30)


def _timed(run: Callable[[], str]) -> tuple[float, str]:
    start = time.perf_counter()
    cid = run()
    return time.perf_counter() - start, cid


def _sha256_file(path: Path) -> str:
    hasher = hashlib.sha256()
    buffer = memoryview(bytearray(MIB))
    with path.open("rb", buffering=0) as handle:
        while count := handle.readinto(buffer):
            hasher.update(buffer[:count])
    return hasher.hexdigest()


def bench_import(repeats: int) -> None:
    print(f"CID import of a {IMPORT_SIZE / 1e6:.0f} MB file (best / median of {repeats} rounds,")
    print("  interleaved; MB/s from the best; 'vs npm' = our throughput / the reference's)")
    with tempfile.TemporaryDirectory(prefix="flai-bench-") as tmp:
        path = Path(tmp) / "import.bin"
        data = random.Random(45).randbytes(IMPORT_SIZE)
        path.write_bytes(data)
        v0 = ImportOptions(cid_version=0)

        def ours_file(options: ImportOptions | None) -> str:
            with path.open("rb", buffering=0) as handle:
                return str(import_stream(handle, options=options).cid)

        reference = _Reference(path)
        runs: dict[str, Callable[[], tuple[float, str]]] = {
            "sha256 floor (memory)": lambda: _timed(lambda: hashlib.sha256(data).hexdigest()),
            "ours v1 (memory)": lambda: _timed(lambda: str(import_bytes(data).cid)),
            "npm v1 (memory)": lambda: reference.run("v1", "memory"),
            "ours v0 (memory)": lambda: _timed(lambda: str(import_bytes(data, options=v0).cid)),
            "npm v0 (memory)": lambda: reference.run("v0", "memory"),
            "sha256 floor (file)": lambda: _timed(lambda: _sha256_file(path)),
            "ours v1 (file)": lambda: _timed(lambda: ours_file(None)),
            "npm v1 (file)": lambda: reference.run("v1", "file"),
            "ours v0 (file)": lambda: _timed(lambda: ours_file(v0)),
            "npm v0 (file)": lambda: reference.run("v0", "file"),
        }
        times: dict[str, list[float]] = {name: [] for name in runs}
        cids: dict[str, set[str]] = {name: set() for name in runs}
        try:
            for _ in range(repeats):
                for name, run in runs.items():
                    seconds, cid = run()
                    times[name].append(seconds)
                    cids[name].add(cid)
        finally:
            reference.close()
    for version in ("v1", "v0"):
        agreed = {c for name, found in cids.items() if f" {version} " in name for c in found}
        if len(agreed) != 1:
            raise SystemExit(f"{version} CIDs disagree between ours and the reference: {agreed}")
    print(f"  v1 CID {cids['ours v1 (memory)'].pop()}, v0 CID {cids['ours v0 (memory)'].pop()}")
    print(f"  {'run':<24}{'best ms':>9}{'median ms':>11}{'MB/s':>8}{'x floor':>9}{'vs npm':>8}")
    for name, found in times.items():
        best = min(found)
        source = "memory" if "memory" in name else "file"
        floor = min(times[f"sha256 floor ({source})"])
        line = (
            f"  {name:<24}{best * 1e3:>9.1f}{statistics.median(found) * 1e3:>11.1f}"
            f"{IMPORT_SIZE / best / 1e6:>8.0f}{best / floor:>9.2f}"
        )
        if name.startswith("ours"):
            counterpart = min(times[name.replace("ours", "npm")])
            line += f"{counterpart / best:>8.2f}"
        print(line, flush=True)


# -- 2. Streaming import of 1 GB in bounded memory ----------------------------------------

_STREAM_CHILD = textwrap.dedent(
    """
    import json, random, sys, tempfile, time
    from pathlib import Path
    from flai.storage import LocalStore
    from flai.storage.unixfs import import_stream

    def status(field):
        for line in open("/proc/self/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise KeyError(field)

    class Generated:
        # byte i is pattern[i % len(pattern)]; no two chunks equal, nothing held
        def __init__(self, size):
            self.pattern = memoryview(random.Random(1).randbytes((1 << 20) + 4099))
            self.size, self.position = size, 0
        def readinto(self, buffer):
            count = min(len(buffer), self.size - self.position)
            filled, period = 0, len(self.pattern)
            while filled < count:
                offset = (self.position + filled) % period
                take = min(period - offset, count - filled)
                buffer[filled : filled + take] = self.pattern[offset : offset + take]
                filled += take
            self.position += count
            return count

    size, target = int(sys.argv[1]), sys.argv[2]
    source = Generated(size)
    baseline = status("VmRSS")
    start = time.perf_counter()
    if target == "hash":
        result = import_stream(source)
    else:
        with tempfile.TemporaryDirectory(dir=target) as repo:
            result = LocalStore(root=Path(repo), fsync=False).add(source)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "baseline": baseline, "peak": status("VmHWM"),
                      "cid": str(result.cid), "size": result.file_size}))
    """
)


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["PYTHONWARNINGS"] = "ignore::FutureWarning"
    return env


def bench_stream(size: int) -> None:
    print(f"Streaming import of {size / 1e9:.1f} GB generated on the fly (fresh process each)")
    print(f"  {'target':<34}{'s':>7}{'MB/s':>8}{'peak RSS MB':>13}{'before MB':>11}")
    with tempfile.TemporaryDirectory(prefix="flai-bench-1g-") as tmp:
        for label, target in (("hash only", "hash"), ("local store (fsync off)", tmp)):
            completed = subprocess.run(
                [sys.executable, "-c", _STREAM_CHILD, str(size), target],
                cwd=REPO_ROOT,
                env=_child_env(),
                capture_output=True,
                text=True,
                check=True,
            )
            figures = json.loads(completed.stdout)
            print(
                f"  {label:<34}{figures['seconds']:>7.2f}{size / figures['seconds'] / 1e6:>8.0f}"
                f"{figures['peak'] / 1e6:>13.1f}{figures['baseline'] / 1e6:>11.1f}",
                flush=True,
            )


# -- 3. The node process under hostile and large bodies ------------------------------------


def _process_memory(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of ``pid`` in bytes."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) * 1024
    return fields["VmRSS"], fields["VmHWM"]


def _send_refused(port: int, headers: str, body_size: int) -> str:
    """Send ``headers`` then ``body_size`` bytes while reading the answer (the node answers
    before reading the body); return its status line."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    answer = bytearray()

    def read() -> None:
        try:
            while data := sock.recv(65536):
                answer.extend(data)
        except OSError:
            pass

    reader = threading.Thread(target=read)
    reader.start()
    piece = os.urandom(MIB)
    try:
        sock.sendall(headers.encode("latin-1"))
        for _ in range(body_size // MIB):
            sock.sendall(piece)
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass  # the node refused the body and closed
    reader.join(timeout=60)
    sock.close()
    return bytes(answer).split(b"\r\n", 1)[0].decode("latin-1")


def _send_add(port: int, body_size: int) -> str:
    """A well-framed multipart add of ``body_size`` random bytes; its status line."""
    boundary = "b"
    head = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=file; filename=f\r\n"
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    headers = (
        "POST /api/v0/add?pin=false HTTP/1.1\r\nHost: x\r\n"
        f"Content-Length: {len(head) + body_size + len(tail)}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        sock.sendall(headers + head)
        piece = os.urandom(MIB)
        for _ in range(body_size // MIB):
            sock.sendall(piece)
        sock.sendall(tail)
        answer = b""
        while b"\r\n" not in answer and (data := sock.recv(65536)):
            answer += data
    return answer.split(b"\r\n", 1)[0].decode("latin-1")


def bench_node_bodies() -> None:
    print("Embedded node process, 64 MiB request bodies (peak RSS of the node process)")
    with tempfile.TemporaryDirectory(prefix="flai-bench-node-") as tmp:
        process = subprocess.Popen(
            [sys.executable, "-m", "flai.storage.node", "--repo", tmp, "--port", "0"],
            cwd=REPO_ROOT,
            env=_child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert process.stdout is not None
            port = 0
            for line in process.stdout:
                if line.startswith("RPC API server listening on "):
                    port = int(line.rsplit("/tcp/", 1)[1].split("/")[0])
                    break
            print(f"  {'request':<44}{'answer':<30}{'peak RSS MB':>12}")
            idle = _process_memory(process.pid)[1]
            print(f"  {'(idle node)':<44}{'':<30}{idle / 1e6:>12.1f}")
            status = _send_refused(
                port,
                "POST /api/v0/add HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n"
                "Content-Type: multipart/form-data; boundary=b\r\n\r\n",
                64 * MIB,
            )
            peak = _process_memory(process.pid)[1]
            print(f"  {'add, Content-Length: -1, 64 MiB body':<44}{status:<30}{peak / 1e6:>12.1f}")
            status = _send_add(port, 64 * MIB)
            peak = _process_memory(process.pid)[1]
            print(f"  {'add of 64 MiB, correct Content-Length':<44}{status:<30}{peak / 1e6:>12.1f}")
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


# -- 4. put/get throughput -----------------------------------------------------------------


def _measure(storage: Storage, size: int, repeats: int) -> tuple[float, float]:
    puts: list[float] = []
    gets: list[float] = []
    for _ in range(repeats):
        data = os.urandom(size)
        start = time.perf_counter()
        cid = storage.put(data)
        middle = time.perf_counter()
        back = storage.get(cid)
        end = time.perf_counter()
        if back != data:
            raise SystemExit(f"round trip mismatch for {cid}")
        puts.append(size / (middle - start) / 1e6)
        gets.append(size / (end - middle) / 1e6)
    return statistics.median(puts), statistics.median(gets)


def bench_put_get(fsync: bool) -> None:
    print(
        f"flai.storage throughput (median MB/s, fsync={'on' if fsync else 'off'}, CIDv1 raw leaves)"
    )
    print(f"  {'backend':<28}{'object':>8}{'put MB/s':>12}{'get MB/s':>12}")
    with tempfile.TemporaryDirectory(prefix="flai-bench-") as tmp:
        local = LocalStore(root=Path(tmp) / "local", fsync=fsync)
        node_store = LocalStore(root=Path(tmp) / "node", fsync=fsync)
        with IpfsNode(store=node_store) as node:
            http = IpfsHttpStorage(address=node.address)
            backends: list[tuple[str, Storage]] = [
                ("local store", local),
                ("HTTP -> embedded node", http),
            ]
            for name, storage in backends:
                for label, size in SIZES.items():
                    repeats = 10 if size == MIB else 3
                    put_rate, get_rate = _measure(storage, size, repeats)
                    print(f"  {name:<28}{label:>8}{put_rate:>12.1f}{get_rate:>12.1f}", flush=True)
            http.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="CID import rounds (default 7)")
    parser.add_argument("--no-fsync", action="store_true", help="skip fsync on block writes")
    parser.add_argument("--skip-1g", action="store_true", help="skip the 1 GB streaming import")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=FutureWarning)  # ipfshttpclient 0.7 vs urllib3 2
    bench_import(args.repeats)
    print()
    if not args.skip_1g:
        bench_stream(1_000_000_000)
        print()
    bench_node_bodies()
    print()
    bench_put_get(not args.no_fsync)
    return 0


if __name__ == "__main__":
    sys.exit(main())
