"""Validated reading of a decoded YAML/JSON document into dataclass fields.

The helpers the configuration parsers share: each failure is a
:class:`flai.errors.ConfigError` naming the field by its dotted path.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

import yaml

from flai.errors import ConfigError

__all__ = [
    "MAX_NAME_LENGTH",
    "UINT32_MAX",
    "UINT96_MAX",
    "UINT256_MAX",
    "at",
    "bad",
    "bounded",
    "check_keys",
    "get",
    "identifier",
    "is_identifier",
    "mapping",
    "positive",
    "read",
    "scalars",
]

_T = TypeVar("_T")

UINT32_MAX = 2**32 - 1
"""Largest ``uint32`` (the contracts' timeouts, windows and epoch lengths)."""
UINT96_MAX = 2**96 - 1
"""Largest ``uint96`` (the marketplace's base prices, the SDT cap)."""
UINT256_MAX = 2**256 - 1
"""Largest ``uint256``: no integer of a config exceeds it."""

MAX_NAME_LENGTH = 64
"""Longest party or scenario name (characters)."""

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML was built with it (the same documents, ~20× faster)."""

_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def bad(field: str, problem: str) -> ConfigError:
    """The error for ``field`` (dotted path) and what is wrong with it."""
    return ConfigError(problem, field=field)


def get(raw: Mapping[str, Any], key: str, kind: type[_T], path: str, default: Any = ...) -> _T:
    """``raw[key]`` checked to be a ``kind`` (an int is a float; a bool is no number; a
    float is finite, an int within ±(2²⁵⁶ − 1)); ``default`` when absent, or missing if
    there is none."""
    where = f"{path}.{key}" if path else key
    if key not in raw:
        if default is ...:
            raise bad(where, "missing")
        return default  # type: ignore[no-any-return]
    value = raw[key]
    if isinstance(value, bool) and kind is not bool:
        raise bad(where, f"expected {kind.__name__}, got bool")
    if isinstance(value, int) and not isinstance(value, bool):
        if not -UINT256_MAX <= value <= UINT256_MAX:
            raise bad(where, f"a {value.bit_length()}-bit integer is out of uint256 range")
        if kind is float:
            value = float(value)
    if not isinstance(value, kind):
        raise bad(where, f"expected {kind.__name__}, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise bad(where, f"must be a finite number, got {value}")
    return value


def mapping(raw: Any, path: str) -> Mapping[str, Any]:
    """``raw`` checked to be a mapping."""
    if not isinstance(raw, Mapping):
        raise bad(path or "<root>", f"expected a mapping, got {type(raw).__name__}")
    return raw


def check_keys(raw: Mapping[str, Any], allowed: Sequence[str], path: str) -> None:
    """Refuse a key of ``raw`` that is not in ``allowed``."""
    for key in raw:
        if key not in allowed:
            where = f"{path}.{key}" if path else str(key)
            raise bad(where, f"unknown field (expected one of {sorted(allowed)})")


def positive(value: float, where: str, *, allow_zero: bool = False) -> None:
    """Refuse a negative ``value`` (and zero unless ``allow_zero``)."""
    if value < 0 or (value == 0 and not allow_zero):
        raise bad(where, f"must be {'>= 0' if allow_zero else '> 0'}, got {value}")


def bounded(value: float, where: str, low: float, high: float) -> None:
    """Refuse a ``value`` outside ``[low, high]`` (NaN included)."""
    if not low <= value <= high:
        raise bad(where, f"must lie in [{low}, {high}], got {value}")


def is_identifier(name: object) -> bool:
    """Whether ``name`` is a safe identifier: 1..:data:`MAX_NAME_LENGTH` ASCII letters,
    digits, ``-`` and ``_``, starting with a letter or digit (so it is a plain file name,
    never a path, a hidden file or an option)."""
    return (
        isinstance(name, str)
        and len(name) <= MAX_NAME_LENGTH
        and _IDENTIFIER.fullmatch(name) is not None
    )


def identifier(name: object, where: str) -> str:
    """``name`` checked to be a safe identifier (:func:`is_identifier`)."""
    if not is_identifier(name):
        raise bad(
            where,
            f"must be 1..{MAX_NAME_LENGTH} characters of [A-Za-z0-9_-] starting with a "
            f"letter or digit, got {name!r}",
        )
    return name  # type: ignore[return-value]


def scalars(
    raw: Mapping[str, Any],
    cls: type[Any],
    path: str,
    *,
    extra: Sequence[str] = (),
    skip: Sequence[str] = (),
) -> dict[str, Any]:
    """The scalar fields of dataclass ``cls`` from ``raw`` (defaults where absent, a field
    without default is required); ``extra`` keys are allowed and left to the caller, as
    are the fields named in ``skip``."""
    hints = get_type_hints(cls)
    fields = [
        f
        for f in dataclasses.fields(cls)
        if hints[f.name] in (int, float, str, bool) and f.name not in skip
    ]
    check_keys(raw, [*(f.name for f in fields), *extra], path)
    out: dict[str, Any] = {}
    for f in fields:
        has_default = f.default is not dataclasses.MISSING
        out[f.name] = get(raw, f.name, hints[f.name], path, f.default if has_default else ...)
    return out


def at(path: str, name: str) -> str:
    """The dotted path of field ``name`` under ``path``."""
    return f"{path}.{name}" if path else name


def read(path: str | Path) -> Any:
    """The decoded content of a ``.json`` or YAML file (field ``<file>`` if unreadable)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise bad("<file>", f"cannot read {p}: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise bad("<file>", f"{p} is not UTF-8 text: {exc}") from exc
    try:
        return json.loads(text) if p.suffix == ".json" else yaml.load(text, Loader=_YAML_LOADER)
    except (yaml.YAMLError, ValueError) as exc:
        # ValueError covers json's decode errors and an integer longer than Python's
        # int-from-text digit limit (sys.get_int_max_str_digits), raised by both parsers
        raise bad("<file>", f"cannot parse {p}: {exc}") from exc
