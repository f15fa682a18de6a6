"""The explorer's web app (Starlette + Jinja2, served by uvicorn on loopback).

Why this stack: pages are server-rendered HTML with inline SVG charts, so the browser needs
no script and nothing from a CDN. Jinja2 autoescapes everything (chain and IPFS strings are
untrusted); Starlette gives typed path routes, GET-only endpoints (anything else is 405) and
sync handlers run off the event loop; uvicorn (h11) parses HTTP robustly and stops cleanly on
SIGINT. Together they add about 6 MB installed and start in well under two seconds, the
bulk of which is importing web3 for the indexer.

Every handler opens its own read-only connection to the index and renders from it; no
handler holds a chain connection.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from eth_utils import is_address, to_checksum_address
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from flai.explorer import charts, fmt
from flai.explorer.abi import selector_names
from flai.explorer.queries import NotFound, Reader
from flai.explorer.schema import connect_reader

__all__ = ["create_app"]

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        amount=fmt.amount,
        fixed=fmt.fixed,
        bps=fmt.bps,
        text32=fmt.text32,
        timestamp=fmt.timestamp,
        short=fmt.short_hex,
    )
    env.globals.update(
        link_cid=fmt.link_cid,
        link_tx=fmt.link_tx,
        link_block=fmt.link_block,
        charts=charts,
        Series=charts.Series,
    )
    return env


def _address(value: str) -> str:
    text = unquote(value)
    if not is_address(text):
        raise NotFound(f"{text!r} is not an address")
    return str(to_checksum_address(text))


def _int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise NotFound(f"{value!r} is not a number") from None
    if number < 0:
        raise NotFound(f"{value!r} is negative")
    return number


def create_app(
    *,
    database: Path,
    abis: Mapping[str, Sequence[Mapping[str, Any]]],
    names: Mapping[str, str] | None = None,
) -> Starlette:
    """The Starlette app serving the pages from the index at ``database``.

    Parameters
    ----------
    database
        The SQLite index (built by :class:`flai.explorer.index.ExplorerIndex`).
    abis
        Contract kind -> ABI (proposal actions are decoded with them).
    names
        Optional address -> display name.
    """
    env = _environment()
    local = threading.local()
    selectors = {kind: selector_names(abi) for kind, abi in abis.items()}

    def reader() -> Reader:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = connect_reader(database)
            local.conn = conn
        return Reader(conn=conn, selectors=selectors, names=names)

    def render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(**context), status_code=status)

    def page(
        template: str, build: Callable[[Reader, Request], dict[str, Any]]
    ) -> Callable[[Request], Response]:
        def endpoint(request: Request) -> Response:
            r = reader()
            labels = r.labels()

            def link_address(address: Any) -> Markup:
                return fmt.link_address(address, labels)

            def args(values: Mapping[str, Any]) -> Markup:
                return fmt.render_args(values, labels)

            base: dict[str, Any] = {
                "link_address": link_address,
                "render_args": args,
                "labels": labels,
                "request": request,
            }
            try:
                r.conn.execute("BEGIN")  # one consistent view of the index per page
                try:
                    base["head"] = r.head()
                    data = build(r, request)
                    return render(template, **base, **data)
                finally:
                    r.conn.rollback()
            except NotFound as exc:
                return render("not_found.html", 404, message=str(exc), **base)
            except sqlite3.OperationalError as exc:  # the index file is not created yet
                return render("not_found.html", 503, message=f"index not ready: {exc}", **base)

        return endpoint

    def q(request: Request, name: str) -> str:
        return str(request.query_params.get(name, "")).strip()

    def status(request: Request) -> Response:
        try:
            return JSONResponse(reader().status())
        except sqlite3.OperationalError as exc:
            return JSONResponse({"error": str(exc)}, status_code=503)

    routes = [
        Route("/", page("platform.html", lambda r, req: r.platform_page())),
        Route(
            "/proposal/{governor}/{pid}",
            page(
                "proposal.html",
                lambda r, req: {
                    "p": r.proposal(
                        _address(req.path_params["governor"]),
                        str(_int(req.path_params["pid"])),
                    )
                },
            ),
        ),
        Route(
            "/rfms",
            page(
                "rfms.html",
                lambda r, req: r.rfm_list(
                    q=q(req, "q"),
                    domain=q(req, "domain"),
                    data_schema=q(req, "data_schema"),
                    model_class=q(req, "model_class"),
                    status=q(req, "status"),
                ),
            ),
        ),
        Route(
            "/rfm/{rfm_id}",
            page("rfm.html", lambda r, req: {"r": r.rfm_page(_int(req.path_params["rfm_id"]))}),
        ),
        Route(
            "/subdao/{hub}",
            page(
                "subdao.html", lambda r, req: {"s": r.subdao_page(_address(req.path_params["hub"]))}
            ),
        ),
        Route(
            "/subdao/{hub}/rounds",
            page(
                "rounds.html",
                lambda r, req: {
                    "s": r.rounds_page(
                        _address(req.path_params["hub"]), _int(q(req, "page") or "1")
                    )
                },
            ),
        ),
        Route(
            "/subdao/{hub}/round/{round_id}",
            page(
                "round.html",
                lambda r, req: {
                    "rd": r.round_page(
                        _address(req.path_params["hub"]), _int(req.path_params["round_id"])
                    )
                },
            ),
        ),
        Route("/market", page("market.html", lambda r, req: r.market_page())),
        Route(
            "/market/{market}/listing/{listing_id}",
            page(
                "listing.html",
                lambda r, req: {
                    "l": r.listing_page(
                        _address(req.path_params["market"]), _int(req.path_params["listing_id"])
                    )
                },
            ),
        ),
        Route("/revenue", page("revenue.html", lambda r, req: r.revenue_page())),
        Route(
            "/revenue/{hub}",
            page("revenue_suite.html", lambda r, req: {"v": _revenue(r, req.path_params["hub"])}),
        ),
        Route(
            "/address/{address}",
            page(
                "address.html",
                lambda r, req: {"a": r.address_page(_address(req.path_params["address"]))},
            ),
        ),
        Route(
            "/cid/{cid:path}",
            page("cid.html", lambda r, req: {"c": r.cid_page(unquote(req.path_params["cid"]))}),
        ),
        Route("/tx/{tx}", page("tx.html", lambda r, req: {"t": r.tx_page(req.path_params["tx"])})),
        Route(
            "/block/{number}",
            page("block.html", lambda r, req: {"b": r.block_page(_int(req.path_params["number"]))}),
        ),
        Route("/status.json", status),
    ]
    return Starlette(routes=routes)


def _revenue(r: Reader, hub: str) -> dict[str, Any]:
    address = _address(hub)
    if address not in r.suites():
        raise NotFound(f"SubDAO {address}")
    return r.revenue(address)
