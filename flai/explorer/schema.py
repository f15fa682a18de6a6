"""The SQLite schema of the explorer's index, and read-only connections to it.

Tables: ``meta`` (chain identity, start and head), ``blocks``, ``contracts``, ``logs``,
``mentions`` and ``cids`` (the addresses and CIDs each log carries), ``snapshots`` (view
calls read at the head) and ``documents`` (public IPFS documents); see
:mod:`flai.explorer.index` for what each holds.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = ["SCHEMA", "SCHEMA_VERSION", "TABLES", "connect_reader"]

SCHEMA_VERSION = "2"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blocks(number INTEGER PRIMARY KEY, hash TEXT NOT NULL,
    time INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS contracts(address TEXT PRIMARY KEY, kind TEXT NOT NULL,
    role TEXT NOT NULL, suite TEXT, block INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS contracts_by_suite ON contracts(suite);
CREATE TABLE IF NOT EXISTS logs(id INTEGER PRIMARY KEY, block INTEGER NOT NULL,
    log_index INTEGER NOT NULL, tx TEXT NOT NULL, address TEXT NOT NULL, event TEXT NOT NULL,
    key TEXT, args TEXT NOT NULL, UNIQUE(block, log_index));
CREATE INDEX IF NOT EXISTS logs_by_event ON logs(address, event, key);
CREATE INDEX IF NOT EXISTS logs_by_key ON logs(address, key);
CREATE INDEX IF NOT EXISTS logs_by_tx ON logs(tx);
CREATE TABLE IF NOT EXISTS mentions(address TEXT NOT NULL, log INTEGER NOT NULL,
    block INTEGER NOT NULL, field TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS mentions_by_address ON mentions(address, log);
CREATE INDEX IF NOT EXISTS mentions_by_log ON mentions(log);
CREATE INDEX IF NOT EXISTS mentions_by_block ON mentions(block);
CREATE TABLE IF NOT EXISTS cids(cid TEXT NOT NULL, log INTEGER NOT NULL,
    block INTEGER NOT NULL, field TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS cids_by_cid ON cids(cid);
CREATE INDEX IF NOT EXISTS cids_by_block ON cids(block);
CREATE TABLE IF NOT EXISTS snapshots(address TEXT NOT NULL, name TEXT NOT NULL,
    key TEXT NOT NULL, block INTEGER NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY(address, name, key));
CREATE TABLE IF NOT EXISTS documents(cid TEXT PRIMARY KEY, status TEXT NOT NULL,
    size INTEGER, body BLOB, detail TEXT, checked REAL NOT NULL);
"""

TABLES = ("meta", "blocks", "contracts", "logs", "mentions", "cids", "snapshots", "documents")


def connect_reader(database: Path) -> sqlite3.Connection:
    """A read-only connection to the index at ``database`` (rows as :class:`sqlite3.Row`)."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    return conn
