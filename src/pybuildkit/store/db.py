"""The store's records in SQLite: tags, images, cache records and the blobs each one needs.

WAL mode and a busy timeout let several pybuild processes read and write at once; every write is a
`BEGIN IMMEDIATE` transaction, so two writers queue instead of failing on a lock upgrade. Each
thread gets its own connection (sqlite3 connections must not be shared across threads).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from pybuildkit.errors import StoreError

__all__ = ["SCHEMA_VERSION", "Database"]

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 60_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS images (
    digest TEXT PRIMARY KEY,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    config_digest TEXT NOT NULL,
    created TEXT,
    total_size INTEGER NOT NULL,
    added REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS image_blobs (
    image TEXT NOT NULL REFERENCES images(digest) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    PRIMARY KEY (image, digest)
);
CREATE INDEX IF NOT EXISTS image_blobs_digest ON image_blobs(digest);
CREATE TABLE IF NOT EXISTS tags (
    name TEXT PRIMARY KEY,
    digest TEXT NOT NULL REFERENCES images(digest),
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS tags_digest ON tags(digest);
CREATE TABLE IF NOT EXISTS cache (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created REAL NOT NULL,
    last_used REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS cache_blobs (
    key TEXT NOT NULL REFERENCES cache(key) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    PRIMARY KEY (key, digest)
);
CREATE INDEX IF NOT EXISTS cache_blobs_digest ON cache_blobs(digest);
"""


class Database:
    """A thread-aware handle on the store's SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        try:
            self._create_schema()
        except sqlite3.Error as exc:
            self.close()
            raise StoreError(f"store database {path} is unusable: {exc}", hint="is it a pybuild store? try another --root") from None
        except StoreError:
            self.close()
            raise

    def _create_schema(self) -> None:
        with self.write() as conn:
            # executescript() would COMMIT the open transaction first; run statements one by one.
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif not str(row[0]).isdigit() or int(row[0]) > SCHEMA_VERSION:
                raise StoreError(
                    f"store {self.path.parent} has schema version {row[0]}, newer than this pybuild's {SCHEMA_VERSION}",
                    hint="upgrade pybuildkit, or use another --root",
                )

    def _connect(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StoreError(f"store database {self.path} cannot use WAL mode (got {mode})")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open store database {self.path}: {exc}") from None
        self._local.conn = conn
        with self._all_lock:
            self._all.append(conn)
        return conn

    def read(self) -> sqlite3.Connection:
        """A connection for reads (each statement is its own consistent snapshot)."""
        return self._connect()

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """Several reads that must agree with each other."""
        conn = self._connect()
        try:
            conn.execute("BEGIN")
        except sqlite3.Error as exc:
            raise StoreError(f"store database error: {exc}") from None
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed on success, rolled back on any exception."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"store database is busy or broken: {exc}") from None
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot commit to the store database: {exc}") from None

    def close(self) -> None:
        with self._all_lock:
            for conn in self._all:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._all.clear()
        self._local = threading.local()
