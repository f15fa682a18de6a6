"""Formatting and linking helpers the templates use (registered as Jinja filters/globals).

Everything that reaches HTML from the chain or IPFS is untrusted text: these helpers escape
it (Markup is built only around escaped values), and every address, CID, transaction and
block becomes a link to its own page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from markupsafe import Markup, escape

__all__ = [
    "amount",
    "bps",
    "fixed",
    "link_address",
    "link_block",
    "link_cid",
    "link_tx",
    "render_args",
    "short_hex",
    "text32",
    "timestamp",
]

_ZERO = "0x0000000000000000000000000000000000000000"


def amount(value: Any, decimals: int = 18, places: int = 6) -> str:
    """A token amount in whole units with thousands separators (``1,234.5`` for 1234.5e18)."""
    if value is None:
        return "–"
    number = Decimal(int(value)) / (Decimal(10) ** int(decimals))
    text = f"{number:,.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def fixed(value: Any, scale: int = 10**18, places: int = 6) -> str:
    """A fixed-point number (φ in 1e18, AUC in 1e6) as a decimal."""
    if value is None:
        return "–"
    return f"{Decimal(int(value)) / Decimal(scale):.{places}f}"


def bps(value: Any) -> str:
    """Basis points as a percentage."""
    if value is None:
        return "–"
    return f"{int(value) / 100:.2f} %"


def text32(value: Any) -> str:
    """A ``bytes32`` short string (``0x6865...00``) as text; other bytes stay hex."""
    if not isinstance(value, str) or not value.startswith("0x"):
        return str(value)
    raw = bytes.fromhex(value[2:]).rstrip(b"\0")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return value
    return text if text.isprintable() else value


def timestamp(value: Any) -> str:
    """A unix time as ``YYYY-MM-DD HH:MM:SS UTC``."""
    if value is None:
        return "–"
    return datetime.fromtimestamp(int(value), tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def short_hex(value: str, head: int = 6, tail: int = 4) -> str:
    """``0x1234…abcd``."""
    if len(value) <= head + tail + 1:
        return value
    return f"{value[:head]}…{value[-tail:]}"


def link_address(address: Any, labels: Mapping[str, str] | None = None) -> Markup:
    """A link to an address's page, shown by its label when it has one."""
    text = str(address)
    if text == _ZERO:
        return Markup('<span class="zero">0x0</span>')
    label = (labels or {}).get(text)
    shown = f"{label} ({short_hex(text)})" if label else short_hex(text)
    return Markup('<a class="addr" href="/address/{0}" title="{0}">{1}</a>').format(text, shown)


def link_cid(cid: Any) -> Markup:
    """A link to a CID's page."""
    text = str(cid)
    if not text:
        return Markup('<span class="zero">–</span>')
    return Markup('<a class="cid" href="/cid/{0}" title="{1}">{2}</a>').format(
        quote(text, safe=""), text, short_hex(text, 10, 6)
    )


def link_tx(tx: Any) -> Markup:
    """A link to a transaction's page."""
    text = str(tx)
    return Markup('<a class="tx" href="/tx/{0}" title="{0}">{1}</a>').format(text, short_hex(text))


def link_block(number: Any) -> Markup:
    """A link to a block's page."""
    return Markup('<a class="block" href="/block/{0}">{0}</a>').format(int(number))


def _is_cid_field(name: str) -> bool:
    return name.endswith("Cid") or name == "cid"


def render_args(
    args: Mapping[str, Any],
    labels: Mapping[str, str] | None = None,
    link: Callable[[str, Any], Markup | None] | None = None,
) -> Markup:
    """Event arguments as a compact definition list, with addresses and CIDs linked."""

    def value(name: str, v: Any) -> Markup:
        if link is not None:
            custom = link(name, v)
            if custom is not None:
                return custom
        if isinstance(v, dict):
            return render_args(v, labels, link)
        if isinstance(v, list):
            inner = Markup(", ").join(value(name, x) for x in v)
            return Markup("[{0}]").format(inner)
        if isinstance(v, str) and v.startswith("0x") and len(v) == 42:
            return link_address(v, labels)
        if isinstance(v, str) and _is_cid_field(name) and v:
            return link_cid(v)
        if isinstance(v, str) and v.startswith("0x") and len(v) == 66:
            decoded = text32(v)
            return escape(decoded if decoded != v else short_hex(v, 10, 6))
        return escape(str(v))

    items = Markup("").join(
        Markup("<span class='arg'><b>{0}</b> {1}</span>").format(k, value(k, v))
        for k, v in args.items()
    )
    return Markup("<span class='args'>{0}</span>").format(items)
