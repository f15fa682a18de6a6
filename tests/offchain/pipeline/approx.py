"""Comparing two runs' results when secure scoring is part of them.

Secure scoring truncates fixed-point values probabilistically on fresh shares, so two runs
of the same scenario (or a run and its resumption) post score vectors that agree to about
10⁻⁵ of φ, not bit for bit; everything computed from φ (the aggregate and its CID, AUCs,
points, revenue) inherits that. :func:`assert_same_run` checks that two results have the
same structure and the same discrete facts (phases, submitters, flags, counts, which
transactions) and that every number agrees to within ``rel``; content-addressed ids of
randomized or φ-dependent blobs are compared by position only.
"""

from __future__ import annotations

from typing import Any

_CID_PREFIXES = ("bafy", "bafk", "Qm")


def _is_cid(value: object) -> bool:
    return isinstance(value, str) and value.startswith(_CID_PREFIXES)


def assert_same_run(a: Any, b: Any, *, rel: float = 1e-3, wei: int = 16, path: str = "$") -> None:
    """``a`` and ``b`` are the same run up to secure scoring's noise (see module doc):
    numbers within ``rel`` of each other or ``wei`` apart (rounding dust of integer
    splits), zero exactly where the other is."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), f"{path}: keys {sorted(a)} vs {sorted(b)}"
        for k in a:
            assert_same_run(a[k], b[k], rel=rel, wei=wei, path=f"{path}.{k}")
    elif isinstance(a, list | tuple) and isinstance(b, list | tuple):
        assert len(a) == len(b), f"{path}: length {len(a)} vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same_run(x, y, rel=rel, wei=wei, path=f"{path}[{i}]")
    elif isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        assert a == b, f"{path}: {a!r} vs {b!r}"
    elif isinstance(a, int | float) and isinstance(b, int | float):
        if a == b or (isinstance(a, int) and isinstance(b, int) and abs(a - b) <= wei):
            return
        assert (a == 0) == (b == 0), f"{path}: {a!r} vs {b!r} (one is zero)"
        assert abs(a - b) <= rel * max(abs(a), abs(b)), f"{path}: {a!r} vs {b!r}"
    elif _is_cid(a) and _is_cid(b):
        return
    else:
        assert a == b, f"{path}: {a!r} vs {b!r}"
