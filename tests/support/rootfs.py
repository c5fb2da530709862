"""A tiny, deterministic busybox root filesystem for sandbox and build tests.

/bin/busybox comes from the host (Debian's busybox-static is a static binary, so it runs in any
rootfs), every applet is a symlink to it at the path `busybox --list-full` names, and /etc holds
root, nobody and a test user with supplementary groups. Same host busybox, same tree, same
metadata (mtimes are clamped), so tests can compare trees.

`make_busybox_rootfs(dest)` builds one; the `busybox_rootfs` fixture builds it once per test
session (per xdist worker); `busybox_rootfs` gives each test its own writable copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

__all__ = [
    "BUSYBOX",
    "TEST_USER",
    "TEST_UID",
    "TEST_GID",
    "TEST_GROUPS",
    "EPOCH",
    "make_busybox_rootfs",
    "clone_rootfs",
    "busybox_template",
    "busybox_rootfs",
]

BUSYBOX = Path("/bin/busybox")
EPOCH = 1_700_000_000
TEST_USER = "tester"
TEST_UID = 1000
TEST_GID = 1000
TEST_GROUPS = (2001, 2002)

PASSWD = f"""root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
{TEST_USER}:x:{TEST_UID}:{TEST_GID}:test user:/home/{TEST_USER}:/bin/sh
"""

GROUP = f"""root:x:0:
nogroup:x:65534:
{TEST_USER}:x:{TEST_GID}:
audio:x:{TEST_GROUPS[0]}:{TEST_USER}
video:x:{TEST_GROUPS[1]}:nobody,{TEST_USER}
"""


def _own(path: Path) -> None:
    """Give the test user its home (only root can; others keep their own uid there)."""
    if os.geteuid() == 0:
        os.chown(path, TEST_UID, TEST_GID)


def _applets() -> list[str]:
    out = subprocess.run([str(BUSYBOX), "--list-full"], check=True, capture_output=True, text=True).stdout
    return sorted({line.strip() for line in out.splitlines() if line.strip() and line.strip() != "bin/busybox"})


def make_busybox_rootfs(dest: Path) -> Path:
    """Create the rootfs at `dest` (must not exist) and return it."""
    if not BUSYBOX.is_file():
        pytest.skip("busybox-static is not installed (/bin/busybox missing)")
    dest = Path(dest)
    dest.mkdir(mode=0o755)
    for name, mode in (
        ("bin", 0o755), ("sbin", 0o755), ("usr", 0o755), ("usr/bin", 0o755), ("usr/sbin", 0o755),
        ("etc", 0o755), ("root", 0o700), ("tmp", 0o1777), ("home", 0o755), (f"home/{TEST_USER}", 0o755),
        ("proc", 0o555), ("sys", 0o555), ("dev", 0o755), ("var", 0o755),
    ):
        path = dest / name
        path.mkdir()
        os.chmod(path, mode)
    _own(dest / "home" / TEST_USER)
    shutil.copyfile(BUSYBOX, dest / "bin" / "busybox")
    os.chmod(dest / "bin" / "busybox", 0o755)
    for applet in _applets():
        link = dest / applet
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.exists() and not link.is_symlink():
            link.symlink_to("/bin/busybox")
    (dest / "etc" / "passwd").write_text(PASSWD)
    (dest / "etc" / "group").write_text(GROUP)
    for path in sorted(dest.rglob("*"), reverse=True) + [dest]:
        os.utime(path, (EPOCH, EPOCH), follow_symlinks=False)
    return dest


def clone_rootfs(template: Path, dest: Path) -> Path:
    """A private copy of a rootfs (symlinks kept, metadata kept), for tests that write to it."""
    shutil.copytree(template, dest, symlinks=True)
    _own(dest / "home" / TEST_USER)
    os.utime(dest, (EPOCH, EPOCH))
    return dest


@pytest.fixture(scope="session")
def busybox_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's shared busybox rootfs: read it, never write to it."""
    return make_busybox_rootfs(tmp_path_factory.mktemp("busybox") / "rootfs")


@pytest.fixture()
def busybox_rootfs(busybox_template: Path, tmp_path: Path) -> Path:
    """A per-test writable copy of the busybox rootfs."""
    return clone_rootfs(busybox_template, tmp_path / "rootfs")
