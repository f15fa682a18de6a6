"""Scenario validation time, each figure beside its reference from the same run:

1. ``parse_config`` of the largest scenario it accepts (63 hospitals, 256 validators, 64
   external users): against a plain ``yaml.safe_load`` of the same file, the floor.
2. ``load_config`` of a 20 000-hospital file (refused at the hospital bound; libyaml's
   loader): against PyYAML's pure-Python ``yaml.safe_load`` of that file alone.
3. The party-name duplicate check alone over 20 000 names: the set-based check
   ``parse_config`` uses against the quadratic ``list.count`` scan (timed on 2 000 names
   and scaled by 100, the factor a quadratic scan grows by).

Run: ``.venv/bin/python bench/config.py [--repeats N]``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from flai.errors import ConfigError
from flai.pipeline import config as cfg
from flai.pipeline import load_config, parse_config

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "configs" / "scenario.yaml"


def _best(fn: Callable[[], Any], repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def _largest() -> dict[str, Any]:
    raw = copy.deepcopy(yaml.safe_load(SCENARIO.read_text()))
    raw["hospitals"] = [{"name": f"h{i}", "size": 1.0} for i in range(cfg.MAX_HOSPITALS)]
    raw["validators"] = [{"name": f"v{i}", "stake": 1} for i in range(cfg.MAX_VALIDATORS)]
    raw["inference"]["externals"] = cfg.MAX_EXTERNALS
    raw["backers"] = {"h0": 10}
    return raw


def _refused(path: Path) -> None:
    try:
        load_config(path)
    except ConfigError:
        return
    raise AssertionError("the 20k-hospital file was accepted")


def _unique_set(names: list[str]) -> bool:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            return False
        seen.add(name)
    return True


def _unique_count(names: list[str]) -> bool:
    return all(names.count(name) == 1 for name in names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    n = parser.parse_args().repeats
    with tempfile.TemporaryDirectory() as tmp:
        largest = Path(tmp) / "largest.yaml"
        largest.write_text(yaml.safe_dump(_largest()))
        huge = Path(tmp) / "huge.yaml"
        raw = copy.deepcopy(yaml.safe_load(SCENARIO.read_text()))
        raw["hospitals"] = [{"name": f"h{i}", "size": 1.0} for i in range(20_000)]
        huge.write_text(yaml.safe_dump(raw))

        decoded = yaml.safe_load(largest.read_text())
        ours = _best(lambda: parse_config(decoded), n)
        floor = _best(lambda: yaml.safe_load(largest.read_text()), n)
        print(
            f"1. parse_config, largest accepted scenario: best {ours[0] * 1e3:.2f} ms "
            f"(median {ours[1] * 1e3:.2f}); yaml.safe_load of it: {floor[0] * 1e3:.2f} ms"
        )
        ours = _best(lambda: _refused(huge), n)
        floor = _best(lambda: yaml.safe_load(huge.read_text()), n)
        print(
            f"2. load_config, 20 000 hospitals (refused): best {ours[0] * 1e3:.0f} ms; "
            f"pure-Python yaml.safe_load alone: {floor[0] * 1e3:.0f} ms"
        )
    names = [f"party-{i}" for i in range(20_000)]
    ours = _best(lambda: _unique_set(names), n)
    quadratic = _best(lambda: _unique_count(names[:2_000]), n)
    print(
        f"3. duplicate check, 20 000 names: set {ours[0] * 1e3:.2f} ms; "
        f"list.count scan ≈ {quadratic[0] * 100:.1f} s (2 000 names: {quadratic[0] * 1e3:.0f} ms × 100)"
    )


if __name__ == "__main__":
    main()
