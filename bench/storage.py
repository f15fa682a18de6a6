"""Storage throughput: put/get MB/s for 1 MiB and 64 MiB objects, on the local store and
over HTTP (IpfsHttpStorage -> embedded IpfsNode on 127.0.0.1).

Run: ``.venv/bin/python bench/storage.py [--repeats N] [--no-fsync]``. Prints figures; asserts
nothing. Each put stores fresh random bytes (no deduplication shortcut); each get verifies
every block against its CID. MB here is 10^6 bytes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flai.storage import IpfsHttpStorage, IpfsNode, LocalStore, Storage

MIB = 1 << 20
SIZES = {"1 MiB": MIB, "64 MiB": 64 * MIB}


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeats", type=int, default=0, help="runs per size (default: 10 for 1 MiB, 3 for 64 MiB)"
    )
    parser.add_argument("--no-fsync", action="store_true", help="skip fsync on block writes")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=FutureWarning)  # ipfshttpclient 0.7 vs urllib3 2
    fsync = not args.no_fsync
    print(
        f"flai.storage throughput (median MB/s, fsync={'on' if fsync else 'off'}, CIDv1 raw leaves)"
    )
    print(f"{'backend':<28}{'object':>8}{'put MB/s':>12}{'get MB/s':>12}")
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
                    repeats = args.repeats or (10 if size == MIB else 3)
                    put_rate, get_rate = _measure(storage, size, repeats)
                    print(f"{name:<28}{label:>8}{put_rate:>12.1f}{get_rate:>12.1f}", flush=True)
            http.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
