"""Gas benchmark for every contract layer: runs each ``bench/gas_*.py`` section in turn.

Usage: ``make bench`` or ``python bench/gas.py`` (with the Makefile's environment). Each
section loads the brownie project, connects to ``$FLAI_BENCH_NETWORK`` (default
``development``, i.e. a fresh Anvil), deploys what it measures and prints a table.
"""

from __future__ import annotations

import pathlib
import runpy
import sys

HERE = pathlib.Path(__file__).resolve().parent


def main() -> int:
    sections = sorted(p for p in HERE.glob("gas_*.py"))
    if not sections:
        print("no gas sections found", file=sys.stderr)
        return 1
    for path in sections:
        print(f"\n### {path.stem}")
        runpy.run_path(str(path), run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
