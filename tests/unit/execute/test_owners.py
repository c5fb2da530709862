"""COPY --chown resolution: BuildKit's lookup rules over the same passwd/group parsing as USER."""

from __future__ import annotations

from pathlib import Path

import pytest

from pybuildkit.errors import BuildError
from pybuildkit.execute.owners import Owner, resolve_chown

PASSWD = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n#bad:x:7:7\nbroken\n"
GROUP = "root:x:0:\nstaff:x:50:app\nbig:x:4294967294:\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_text(PASSWD)
    (tmp_path / "etc" / "group").write_text(GROUP)
    return tmp_path


@pytest.mark.parametrize(
    ("chown", "owner"),
    [
        ("1000", Owner(1000, 1000)),  # a bare number is both ids (unlike USER, whose gid would be 0)
        ("app", Owner(1000, 1001)),
        ("app:staff", Owner(1000, 50)),
        ("app:7", Owner(1000, 7)),
        ("5:big", Owner(5, 4294967294)),
        (" 0:0 ", Owner(0, 0)),
    ],
)
def test_resolve_chown(root: Path, chown: str, owner: Owner) -> None:
    assert resolve_chown(chown, root) == owner


@pytest.mark.parametrize(
    ("chown", "message"),
    [
        ("nobody", "unable to find user nobody"),
        ("bad", "unable to find user bad"),
        ("app:nogroup", "unable to find group nogroup"),
        ("app:", "invalid --chown"),
        (":staff", "invalid --chown"),
        ("4294967295", "unable to find user 4294967295"),
    ],
)
def test_resolve_chown_errors(root: Path, chown: str, message: str) -> None:
    with pytest.raises(BuildError, match=message):
        resolve_chown(chown, root)


def test_passwd_through_a_host_link_is_not_read(tmp_path: Path) -> None:
    host = tmp_path / "host"
    host.mkdir()
    (host / "passwd").write_text("hostonly:x:4242:4242::/:/bin/sh\n")
    rootfs = tmp_path / "rootfs"
    (rootfs / "etc").mkdir(parents=True)
    (rootfs / "etc" / "passwd").symlink_to(host / "passwd")
    with pytest.raises(BuildError, match="unable to find user hostonly"):
        resolve_chown("hostonly", rootfs)
