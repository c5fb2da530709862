"""A persistent memo of per-file digests, so an unchanged context is re-checked by `stat` alone.

Records are keyed by inode (dev, ino) and trusted only while size, mtime_ns and ctime_ns are
unchanged: any write, chmod, chown, xattr change or rename moves ctime, which the kernel sets and
nobody can roll back. A file modified within the same clock tick as it was hashed could keep its
timestamps (git's "racy" problem), so files whose times are too close to the moment they were
hashed are not recorded; they are simply hashed again next time.

The memo is a cache: SQLite in WAL mode so two builds can share it, a corrupt or unreadable file
is deleted and rebuilt, and if even that fails the build goes on with an in-memory memo. It is
shared by every context built on the machine, so a small build looks its files up one by one
and only a big one loads the whole table; the table is capped, dropping the oldest records.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from pybuildkit.context.walker import EntryStat

__all__ = ["MemoRecord", "DigestMemo", "RACY_MARGIN_NS", "MAX_ROWS"]

#: Timestamps this close to the hashing start are not trusted (kernel timestamps are coarse:
#: one scheduler tick, up to 10 ms).
RACY_MARGIN_NS = 50_000_000

#: Records kept at most (about 120 bytes each); the oldest written go first.
MAX_ROWS = 1_000_000

#: Lookups answered one query at a time before the whole table is loaded instead.
_LAZY_LOOKUPS = 2048

_SCHEMA_VERSION = 2
_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS files (
        dev INTEGER NOT NULL,
        ino INTEGER NOT NULL,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        ctime_ns INTEGER NOT NULL,
        content TEXT NOT NULL,
        xattrs TEXT,
        seen_ns INTEGER NOT NULL,
        PRIMARY KEY (dev, ino)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX IF NOT EXISTS files_seen ON files (seen_ns)",
)

_Key = tuple[int, int]
_Stamp = tuple[int, int, int]
_Row = tuple[int, int, int, str, "str | None"]  # size, mtime_ns, ctime_ns, content, xattrs


class MemoRecord(NamedTuple):
    """What is remembered about one inode: its content digest (`""` for non-files) and, when it
    was computed, the digest of its extended attributes. A NamedTuple rather than an attrs class
    because a memo of 100,000 files builds 100,000 of them."""

    content: str
    xattrs: str | None = None


def _identity(st: os.stat_result | EntryStat) -> tuple[_Key, _Stamp]:
    return (st.st_dev, st.st_ino), (st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class DigestMemo:
    """Per-inode digests, read on demand and written back in one transaction by `flush()`.

    `path=None` keeps everything in memory (one build's worth of reuse, e.g. the same file copied
    by two steps). Use it as a context manager or call `flush()` at the end; `close()` only
    releases the file (pending records stay pending).
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        racy_margin_ns: int = RACY_MARGIN_NS,
        max_rows: int = MAX_ROWS,
    ) -> None:
        self.path = os.fspath(path) if path is not None else None
        self.racy_margin_ns = racy_margin_ns
        self.max_rows = max_rows
        # Rows as SQLite returns them: building 100,000 record objects on load would cost more
        # than the lookups they serve.
        self._rows: dict[_Key, _Row | None] = {}
        self._dirty: dict[_Key, tuple[_Stamp, MemoRecord]] = {}
        self._conn: sqlite3.Connection | None = None
        self._lookups = 0
        self._complete = self.path is None  # True once _rows holds the whole table

    def __enter__(self) -> DigestMemo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- the SQLite file -----------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        assert self.path is not None
        # check_same_thread=False: a build hashes from its stage threads; callers serialise access.
        conn = sqlite3.connect(self.path, timeout=5.0, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, _SCHEMA_VERSION):
                raise sqlite3.DatabaseError(f"unknown memo schema {version}")
            for statement in _SCHEMA:
                conn.execute(statement)
            if version == 0:
                conn.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")
        except BaseException:
            conn.close()
            raise
        return conn

    def _discard_file(self) -> None:
        self.close()
        assert self.path is not None
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path + suffix)

    def _db(self, action: str, *args: object) -> object:
        """Run one of the memo's queries, recovering from a corrupt file once. Returns None when
        the memo cannot be used right now (locked, unwritable): callers carry on without it."""
        for attempt in range(2):
            try:
                if self._conn is None:
                    self._conn = self._open()
                return getattr(self, action)(self._conn, *args)
            except sqlite3.OperationalError:
                self.close()
                if action != "_q_write":
                    self._complete = True  # unreadable now: stop asking for the rest of this build
                return None
            except sqlite3.DatabaseError:
                if attempt == 0:
                    self._discard_file()  # corrupt or foreign: drop it and start a fresh one
                    continue
                self.close()
                return None
        return None

    @staticmethod
    def _q_one(conn: sqlite3.Connection, key: _Key) -> tuple[_Row | None]:
        row = conn.execute(
            "SELECT size, mtime_ns, ctime_ns, content, xattrs FROM files WHERE dev = ? AND ino = ?", key
        ).fetchone()
        return (row,)

    @staticmethod
    def _q_all(conn: sqlite3.Connection) -> list[tuple[int, int, int, int, int, str, str | None]]:
        return conn.execute("SELECT dev, ino, size, mtime_ns, ctime_ns, content, xattrs FROM files").fetchall()

    def _q_write(self, conn: sqlite3.Connection, rows: list[tuple[object, ...]]) -> bool:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            excess = conn.execute("SELECT count(*) FROM files").fetchone()[0] - self.max_rows
            if excess > 0:
                conn.execute(
                    "DELETE FROM files WHERE (dev, ino) IN (SELECT dev, ino FROM files ORDER BY seen_ns LIMIT ?)",
                    (excess,),
                )
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        return True

    # -- lookups and records -------------------------------------------------------------------

    def _load_all(self) -> None:
        self._complete = True
        rows = self._db("_q_all")
        if isinstance(rows, list):
            loaded: dict[_Key, _Row | None] = {(r[0], r[1]): (r[2], r[3], r[4], r[5], r[6]) for r in rows}
            loaded.update(self._rows)  # rows already fetched one by one are as fresh
            self._rows = loaded

    def _row(self, key: _Key) -> _Row | None:
        if key in self._rows or self._complete:
            return self._rows.get(key)
        if self._lookups >= _LAZY_LOOKUPS:
            self._load_all()
            return self._rows.get(key)
        self._lookups += 1
        found = self._db("_q_one", key)
        row = found[0] if isinstance(found, tuple) else None
        self._rows[key] = row
        return row

    def get(self, st: os.stat_result | EntryStat) -> MemoRecord | None:
        """The record for this stat if the inode is unchanged since it was recorded."""
        key, stamp = _identity(st)
        dirty = self._dirty.get(key)
        if dirty is not None:
            return dirty[1] if dirty[0] == stamp else None
        row = self._row(key)
        if row is None or (row[0], row[1], row[2]) != stamp:
            return None
        return MemoRecord(row[3], row[4])

    def put(self, st: os.stat_result | EntryStat, record: MemoRecord, started_ns: int) -> bool:
        """Remember `record` for the inode `st` describes, unless its timestamps are racy with
        respect to `started_ns` (taken before the content was read). Returns whether it was kept."""
        if max(st.st_mtime_ns, st.st_ctime_ns) >= started_ns - self.racy_margin_ns:
            return False
        key, stamp = _identity(st)
        self._dirty[key] = (stamp, record)
        return True

    @staticmethod
    def now_ns() -> int:
        return time.time_ns()

    def flush(self) -> None:
        """Write new records back (one transaction) and release the file until the next lookup.
        A busy or broken memo loses them: it is a cache."""
        try:
            self._flush()
        finally:
            self.close()

    def _flush(self) -> None:
        if not self._dirty:
            return
        dirty, self._dirty = self._dirty, {}
        seen = time.time_ns()
        rows: list[tuple[object, ...]] = []
        for (dev, ino), ((size, mtime_ns, ctime_ns), record) in dirty.items():
            self._rows[(dev, ino)] = (size, mtime_ns, ctime_ns, record.content, record.xattrs)
            rows.append((dev, ino, size, mtime_ns, ctime_ns, record.content, record.xattrs, seen))
        if self.path is not None:
            self._db("_q_write", rows)
