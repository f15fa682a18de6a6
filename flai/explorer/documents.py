"""Public IPFS documents the indexed logs point at (RFM specs, models), fetched once.

Content addressing makes a fetched document never stale; one that was not available is
asked for again after :data:`DOCUMENT_RETRY` seconds. At most ``limit`` bytes of each are
kept for its page.
"""

from __future__ import annotations

import sqlite3
import time

from flai.storage import Storage, StorageError

__all__ = ["DOCUMENT_RETRY", "fetch_document", "fetch_documents"]

#: Seconds before a CID that was not available is asked for again.
DOCUMENT_RETRY = 60.0


def fetch_documents(conn: sqlite3.Connection, storage: Storage, *, limit: int) -> None:
    """Fetch every CID of the ``cids`` table not stored yet (or missing and due again)."""
    now = time.time()
    rows = list(
        conn.execute(
            "SELECT DISTINCT c.cid FROM cids c LEFT JOIN documents d ON d.cid = c.cid "
            "WHERE d.cid IS NULL OR (d.status = 'missing' AND d.checked < ?)",
            (now - DOCUMENT_RETRY,),
        )
    )
    for row in rows:
        cid = str(row[0])
        status, size, body, detail = fetch_document(storage, cid, limit=limit)
        with conn:
            conn.execute(
                "INSERT OR REPLACE INTO documents(cid, status, size, body, detail, checked) "
                "VALUES (?,?,?,?,?,?)",
                (cid, status, size, body, detail, now),
            )


def fetch_document(
    storage: Storage, cid: str, *, limit: int
) -> tuple[str, int | None, bytes | None, str | None]:
    """Status (``ok``, ``truncated``, ``missing``, ``invalid``), size, the first ``limit``
    bytes and the error detail of the document ``cid``."""
    try:
        if not storage.has(cid):
            return "missing", None, None, "not on the IPFS node"
        kept = bytearray()
        size = 0
        for chunk in storage.get_stream(cid):
            size += len(chunk)
            if len(kept) < limit:
                kept += chunk[: limit - len(kept)]
        status = "ok" if size <= limit else "truncated"
        return status, size, bytes(kept), None
    except StorageError as exc:
        name = type(exc).__name__
        status = "invalid" if name == "InvalidCIDError" else "missing"
        return status, None, None, str(exc)
