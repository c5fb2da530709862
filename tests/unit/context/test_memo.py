"""The persistent digest memo: stat-only re-checks, change detection, racy files, corruption,
and two processes sharing one memo file."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from pybuildkit.context.checksum import Checksummer
from pybuildkit.context.memo import RACY_MARGIN_NS, DigestMemo
from pybuildkit.context.walker import walk


def _context(root: Path, files: int = 30) -> None:
    for i in range(files):
        sub = root / f"d{i % 3}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{i}.txt").write_text(f"content {i}\n" * (i + 1))


def _check(root: Path, memo_path: Path, mode: str = "full", margin: int = 0) -> tuple[str, Checksummer]:
    with DigestMemo(memo_path, racy_margin_ns=margin) as memo:
        checksummer = Checksummer(mode, memo)  # type: ignore[arg-type]
        digest = checksummer.tree_digest(walk(root))
    return digest, checksummer


def test_unchanged_context_is_verified_by_stat_alone(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    _context(ctx)
    memo = tmp_path / "memo.db"
    cold_digest, cold = _check(ctx, memo)
    warm_digest, warm = _check(ctx, memo)
    assert cold.reads == 30
    assert warm.reads == 0
    assert warm.hits == 30 + 3  # files and directories (xattrs of dirs are memoised too)
    assert warm_digest == cold_digest


def test_git_mode_reuses_content_recorded_in_full_mode(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    _context(ctx, 5)
    memo = tmp_path / "memo.db"
    _check(ctx, memo, "full")
    _, git = _check(ctx, memo, "git")
    assert git.reads == 0


def test_changed_file_is_read_again(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    _context(ctx, 5)
    memo = tmp_path / "memo.db"
    before, _ = _check(ctx, memo)
    target = ctx / "d0" / "f0.txt"
    size = target.stat().st_size
    target.write_text("X" * size)  # same size: only mtime/ctime reveal it
    after, checksummer = _check(ctx, memo)
    assert checksummer.reads == 1
    assert after != before


def test_racy_files_are_not_recorded(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    _context(ctx, 3)
    memo = tmp_path / "memo.db"
    _check(ctx, memo, margin=3_600 * 10**9)  # everything counts as "just written"
    _, again = _check(ctx, memo, margin=3_600 * 10**9)
    assert again.reads == 3


def test_corrupt_memo_is_discarded_and_rebuilt(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    _context(ctx, 4)
    memo = tmp_path / "memo.db"
    memo.write_bytes(b"this is not a database" * 100)
    digest, cold = _check(ctx, memo)
    assert cold.reads == 4
    _, warm = _check(ctx, memo)
    assert warm.reads == 0
    with sqlite3.connect(memo) as conn:
        assert conn.execute("SELECT count(*) FROM files").fetchone()[0] == 4 + 3  # files and their three directories


def test_foreign_schema_version_is_rebuilt(tmp_path: Path) -> None:
    memo = tmp_path / "memo.db"
    with sqlite3.connect(memo) as conn:
        conn.execute("PRAGMA user_version=99")
    ctx = tmp_path / "ctx"
    _context(ctx, 2)
    _check(ctx, memo)
    _, warm = _check(ctx, memo)
    assert warm.reads == 0


def test_memo_in_unwritable_place_degrades_to_memory(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    _context(ctx, 2)
    digest, checksummer = _check(ctx, tmp_path / "missing-dir" / "memo.db")
    assert checksummer.reads == 2
    assert digest == _check(ctx, tmp_path / "memo.db")[0]


_WORKER = textwrap.dedent(
    """
    import sys
    from pybuildkit.context.checksum import Checksummer
    from pybuildkit.context.memo import RACY_MARGIN_NS, DigestMemo
    from pybuildkit.context.walker import walk
    with DigestMemo(sys.argv[2], racy_margin_ns=0) as memo:
        print(Checksummer("full", memo).tree_digest(walk(sys.argv[1])))
    """
)


def test_two_processes_share_one_memo(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    _context(ctx, 200)
    memo = tmp_path / "memo.db"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    procs = [
        subprocess.Popen([sys.executable, "-c", _WORKER, str(ctx), str(memo)], stdout=subprocess.PIPE, env=env)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert outputs[0] == outputs[1]
    digest, warm = _check(ctx, memo)
    assert warm.reads == 0
    assert digest.encode() + b"\n" == outputs[0]


def test_digest_sources_uses_and_fills_the_memo(tmp_path: Path) -> None:
    from pybuildkit.context.checksum import digest_sources
    from pybuildkit.context.dockerignore import PatternMatcher

    ctx = tmp_path / "ctx"
    _context(ctx, 6)
    time.sleep(RACY_MARGIN_NS / 1e9 + 0.02)  # ctime cannot be backdated: let the files age
    memo = tmp_path / "memo.db"
    ignore = PatternMatcher.from_patterns(["d2"])
    digest, selection = digest_sources(ctx, ["."], ignore=ignore, memo_path=memo)
    assert [e.path for e in selection[0].entries if e.kind == "file"] == ["d0/f0.txt", "d0/f3.txt", "d1/f1.txt", "d1/f4.txt"]
    with sqlite3.connect(memo) as conn:
        assert conn.execute("SELECT count(*) FROM files").fetchone()[0] > 0
    assert digest_sources(ctx, ["."], ignore=ignore, memo_path=memo)[0] == digest


def test_memo_is_capped_oldest_first(tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    _context(ctx, 12)
    memo_path = tmp_path / "memo.db"
    with DigestMemo(memo_path, racy_margin_ns=0, max_rows=5) as memo:
        Checksummer("full", memo).tree_digest(walk(ctx))
    with sqlite3.connect(memo_path) as conn:
        assert conn.execute("SELECT count(*) FROM files").fetchone()[0] == 5


def test_small_lookups_one_by_one_then_bulk(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pybuildkit.context.memo as memo_mod

    ctx = tmp_path / "ctx"
    _context(ctx, 10)
    memo_path = tmp_path / "memo.db"
    _check(ctx, memo_path)
    monkeypatch.setattr(memo_mod, "_LAZY_LOOKUPS", 3)
    _, warm = _check(ctx, memo_path)
    assert warm.reads == 0
