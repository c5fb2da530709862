"""A persistent memo of per-file digests, so an unchanged context is re-checked by `stat` alone.

Records are keyed by inode (dev, ino) and trusted only while size, mtime_ns and ctime_ns are
unchanged: any write, chmod, chown, xattr change or rename moves ctime, which the kernel sets and
nobody can roll back. A file modified within the same clock tick as it was hashed could keep its
timestamps (git's "racy" problem), so files whose times are too close to the moment they were
hashed are not recorded; they are simply hashed again next time.

The memo is a cache: SQLite in WAL mode so two builds can share it, a corrupt or unreadable file
is deleted and rebuilt, and if even that fails the build goes on with an in-memory memo.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time

from typing import NamedTuple

__all__ = ["MemoRecord", "DigestMemo", "RACY_MARGIN_NS"]

#: Timestamps this close to the hashing start are not trusted (kernel timestamps are coarse:
#: one scheduler tick, up to 10 ms).
RACY_MARGIN_NS = 50_000_000

_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    dev INTEGER NOT NULL,
    ino INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL,
    content TEXT NOT NULL,
    xattrs TEXT,
    PRIMARY KEY (dev, ino)
) WITHOUT ROWID
"""

_Key = tuple[int, int]
_Stamp = tuple[int, int, int]


class MemoRecord(NamedTuple):
    """What is remembered about one inode: its content digest (`""` for non-files) and, when it
    was computed, the digest of its extended attributes. A NamedTuple rather than an attrs class
    because a memo of 100,000 files builds 100,000 of them on load."""

    content: str
    xattrs: str | None = None


def _identity(st: os.stat_result) -> tuple[_Key, _Stamp]:
    return (st.st_dev, st.st_ino), (st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class DigestMemo:
    """Per-inode digests, loaded once and written back in one transaction by `flush()`.

    `path=None` keeps everything in memory (one build's worth of reuse, e.g. the same file copied
    by two steps).
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, racy_margin_ns: int = RACY_MARGIN_NS) -> None:
        self.path = os.fspath(path) if path is not None else None
        self.racy_margin_ns = racy_margin_ns
        # Rows as SQLite returns them, (dev, ino, size, mtime_ns, ctime_ns, content, xattrs):
        # building 100,000 record objects on load would cost more than the lookups they serve.
        self._rows: dict[_Key, tuple[int, int, int, int, int, str, str | None]] = {}
        self._dirty: dict[_Key, tuple[_Stamp, MemoRecord]] = {}
        self._loaded = False

    def __enter__(self) -> DigestMemo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()

    def _connect(self) -> sqlite3.Connection:
        assert self.path is not None
        conn = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, _SCHEMA_VERSION):
                raise sqlite3.DatabaseError(f"unknown memo schema {version}")
            conn.execute(_SCHEMA)
            if version == 0:
                conn.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")
        except BaseException:
            conn.close()
            raise
        return conn

    def _discard_file(self) -> None:
        assert self.path is not None
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path + suffix)

    def _load(self) -> None:
        self._loaded = True
        if self.path is None:
            return
        for attempt in range(2):
            try:
                conn = self._connect()
                try:
                    rows = conn.execute("SELECT dev, ino, size, mtime_ns, ctime_ns, content, xattrs FROM files").fetchall()
                finally:
                    conn.close()
            except sqlite3.OperationalError:
                return  # locked or unreadable right now: run without it, keep the file
            except sqlite3.DatabaseError:
                if attempt == 0:
                    self._discard_file()  # corrupt: drop it and start a fresh one
                    continue
                self.path = None
                return
            self._rows = {(row[0], row[1]): row for row in rows}
            return

    def get(self, st: os.stat_result) -> MemoRecord | None:
        """The record for this stat if the inode is unchanged since it was recorded."""
        if not self._loaded:
            self._load()
        key, stamp = _identity(st)
        dirty = self._dirty.get(key)
        if dirty is not None:
            return dirty[1] if dirty[0] == stamp else None
        row = self._rows.get(key)
        if row is None or (row[2], row[3], row[4]) != stamp:
            return None
        return MemoRecord(row[5], row[6])

    def put(self, st: os.stat_result, record: MemoRecord, started_ns: int) -> bool:
        """Remember `record` for the inode `st` describes, unless its timestamps are racy with
        respect to `started_ns` (when the stat was taken). Returns whether it was kept."""
        if not self._loaded:
            self._load()
        if max(st.st_mtime_ns, st.st_ctime_ns) >= started_ns - self.racy_margin_ns:
            return False
        key, stamp = _identity(st)
        self._dirty[key] = (stamp, record)
        return True

    @staticmethod
    def now_ns() -> int:
        return time.time_ns()

    def flush(self) -> None:
        """Write new records back (one transaction). A busy or broken memo loses them: it is a cache."""
        if not self._dirty:
            return
        dirty, self._dirty = self._dirty, {}
        rows = [(k[0], k[1], s[0], s[1], s[2], r.content, r.xattrs) for k, (s, r) in dirty.items()]
        self._rows.update({(row[0], row[1]): row for row in rows})
        if self.path is None:
            return
        for attempt in range(2):
            try:
                conn = self._connect()
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    conn.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
                    conn.execute("COMMIT")
                finally:
                    conn.close()
                return
            except sqlite3.OperationalError:
                return
            except sqlite3.DatabaseError:
                if attempt == 0:
                    self._discard_file()
                    continue
                return
