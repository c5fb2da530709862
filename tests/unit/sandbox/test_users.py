"""USER resolution: pure parsing against passwd/group text, and scoped reading from a rootfs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pybuildkit.errors import SandboxError
from pybuildkit.sandbox.users import (
    ExecUser,
    lookup_user,
    parse_group,
    parse_id,
    parse_passwd,
    resolve_user,
    resolve_user_in,
)

PASSWD = """\
root:x:0:0:root:/root:/bin/sh
# a comment
daemon:x:1:1::/usr/sbin:/usr/sbin/nologin
broken line
bad:x:notanumber:0::/:/bin/sh
app:x:1000:1000:App:/home/app:/bin/sh
svc:x:1001:1001
"""

GROUP = """\
root:x:0:root
daemon:x:1:
app:x:1000:
audio:x:29:app,svc
video:x:44:svc,app
staff:x:50:
dup:x:29:app
"""

USERS = parse_passwd(PASSWD)
GROUPS = parse_group(GROUP)


def test_parse_passwd_skips_malformed_lines() -> None:
    assert [u.name for u in USERS] == ["root", "daemon", "app", "svc"]
    assert USERS[2].home == "/home/app" and USERS[3].home == "/"


def test_parse_group_members() -> None:
    audio = next(g for g in GROUPS if g.name == "audio")
    assert audio.gid == 29 and audio.members == ("app", "svc")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("", ExecUser(0, 0, (), "/root")),
        ("root", ExecUser(0, 0, (), "/root")),
        ("app", ExecUser(1000, 1000, (29, 44), "/home/app")),
        ("1000", ExecUser(1000, 1000, (29, 44), "/home/app")),
        ("app:staff", ExecUser(1000, 50, (), "/home/app")),
        ("app:7", ExecUser(1000, 7, (), "/home/app")),
        ("1000:1000", ExecUser(1000, 1000, (), "/home/app")),
        ("4242", ExecUser(4242, 0, (), "/")),
        ("4242:4343", ExecUser(4242, 4343, (), "/")),
        ("svc", ExecUser(1001, 1001, (29, 44), "/")),
        (" daemon ", ExecUser(1, 1, (), "/usr/sbin")),
    ],
)
def test_resolve_user_in(spec: str, expected: ExecUser) -> None:
    assert resolve_user_in(spec, USERS, GROUPS) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nobody-here", "unable to find user nobody-here"),
        ("app:nogroup", "unable to find group nogroup"),
        ("app:", "empty group"),
        (":app", "empty user"),
        ("99999999999", "unable to find user"),
    ],
)
def test_resolve_user_in_errors(spec: str, message: str) -> None:
    with pytest.raises(SandboxError, match=message):
        resolve_user_in(spec, USERS, GROUPS)


def _rootfs(tmp_path: Path) -> Path:
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text(PASSWD)
    (root / "etc" / "group").write_text(GROUP)
    return root


def test_resolve_user_reads_rootfs_files(tmp_path: Path) -> None:
    assert resolve_user(_rootfs(tmp_path), "app") == (1000, 1000, (29, 44))


def test_resolve_user_without_files_allows_numbers_only(tmp_path: Path) -> None:
    root = tmp_path / "empty"
    root.mkdir()
    assert resolve_user(root, "123:45") == (123, 45, ())
    with pytest.raises(SandboxError, match="unable to find user app"):
        resolve_user(root, "app")


def test_resolve_user_never_follows_symlinks_out_of_rootfs(tmp_path: Path) -> None:
    host_etc = tmp_path / "host-etc"
    host_etc.mkdir()
    (host_etc / "passwd").write_text("hostonly:x:7:7::/:/bin/sh\n")
    root = tmp_path / "rootfs"
    root.mkdir()
    (root / "etc").symlink_to(os.path.relpath(host_etc, root))  # ../host-etc: escapes if followed naively
    with pytest.raises(SandboxError, match="hostonly"):
        resolve_user(root, "hostonly")


def test_resolve_user_missing_rootfs(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match="does not exist"):
        resolve_user(tmp_path / "nope", "root")


def test_passwd_that_is_not_a_file_is_an_error(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    (root / "etc" / "passwd").mkdir(parents=True)
    with pytest.raises(SandboxError, match="not a regular file"):
        resolve_user(root, "root")


def test_lookup_user_gives_home(tmp_path: Path) -> None:
    assert lookup_user(_rootfs(tmp_path), "app") == ExecUser(1000, 1000, (29, 44), "/home/app")


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0), ("1000", 1000), ("4294967294", 4294967294), ("4294967295", None), ("-1", None), ("app", None), ("", None), ("1e3", None)],
)
def test_parse_id(text: str, value: int | None) -> None:
    assert parse_id(text) == value
