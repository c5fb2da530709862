"""Tiny tree builders for the file-operation tests (no tests here): a dict in, a directory out, and back."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["make_tree", "read_tree", "DIR", "link"]

DIR = object()


def link(target: str) -> tuple[str, str]:
    return ("link", target)


def make_tree(root: Path, layout: dict[str, object]) -> Path:
    """`{"a.txt": "text", "d": DIR, "l": link("a.txt")}` under `root` (parents made as needed)."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, value in layout.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if value is DIR:
            path.mkdir(exist_ok=True)
        elif isinstance(value, tuple):
            os.symlink(value[1], path)
        else:
            path.write_text(str(value))
    return root


def read_tree(root: Path, *, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Everything below `root` as `{relpath: "dir" | "link:<target>" | "<content>"}`."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            if rel.split("/")[0] in skip:
                continue
            if os.path.islink(full):
                out[rel] = "link:" + os.readlink(full)
            elif os.path.isdir(full):
                out[rel] = "dir"
            else:
                with open(full, encoding="utf-8", errors="replace") as handle:
                    out[rel] = handle.read()
    return out
