"""USER resolution: `name`, `uid`, `name:group`, `uid:gid` against the image's own passwd/group.

Semantics follow runc/Docker (libcontainer `GetExecUser`): a name must exist in /etc/passwd; a
number need not (its gid then defaults to 0, like Docker); an explicit group replaces the primary
group and suppresses the supplementary-group lookup; otherwise the user's supplementary groups are
every /etc/group entry listing the user's name. The parsing is pure (`parse_passwd`,
`parse_group`, `parse_id`, `resolve_user_in`) so it is tested without files; `resolve_user` only
adds the safe, rootfs-scoped reading (`read_account_file`). `COPY --chown` (execute/owners.py)
shares the parsing and the reading but has BuildKit's different lookup rules.
"""

from __future__ import annotations

from pathlib import Path

import attrs

from pybuildkit.errors import SandboxError
from pybuildkit.sandbox.paths import read_scoped

__all__ = [
    "PasswdEntry",
    "GroupEntry",
    "ExecUser",
    "parse_passwd",
    "parse_group",
    "parse_id",
    "read_account_file",
    "resolve_user_in",
    "resolve_user",
    "lookup_user",
]

_MAX_ID = 2**32 - 2


@attrs.frozen
class PasswdEntry:
    name: str
    uid: int
    gid: int
    home: str = "/"
    shell: str = ""


@attrs.frozen
class GroupEntry:
    name: str
    gid: int
    members: tuple[str, ...] = ()


@attrs.frozen
class ExecUser:
    """What a process runs as: ids plus supplementary groups (primary gid not repeated)."""

    uid: int
    gid: int
    groups: tuple[int, ...] = ()
    home: str = "/"

    def as_tuple(self) -> tuple[int, int, tuple[int, ...]]:
        return (self.uid, self.gid, self.groups)


def parse_id(text: str) -> int | None:
    """A uid/gid written in decimal, or None if `text` is not one (a name, or out of range)."""
    if not text.isdigit():
        return None
    value = int(text)
    return value if value <= _MAX_ID else None


def parse_passwd(text: str) -> tuple[PasswdEntry, ...]:
    """Entries of a passwd file; malformed lines are skipped, as libc does."""
    entries = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        fields = line.split(":")
        if len(fields) < 4:
            continue
        uid, gid = parse_id(fields[2]), parse_id(fields[3])
        if not fields[0] or uid is None or gid is None:
            continue
        home = fields[5] if len(fields) > 5 else "/"
        shell = fields[6] if len(fields) > 6 else ""
        entries.append(PasswdEntry(fields[0], uid, gid, home or "/", shell))
    return tuple(entries)


def parse_group(text: str) -> tuple[GroupEntry, ...]:
    """Entries of a group file; malformed lines are skipped."""
    entries = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        fields = line.split(":")
        if len(fields) < 3:
            continue
        gid = parse_id(fields[2])
        if not fields[0] or gid is None:
            continue
        members = tuple(m for m in (fields[3].split(",") if len(fields) > 3 else ()) if m)
        entries.append(GroupEntry(fields[0], gid, members))
    return tuple(entries)


def resolve_user_in(
    spec: str,
    passwd: tuple[PasswdEntry, ...],
    groups: tuple[GroupEntry, ...],
) -> ExecUser:
    """Resolve a USER value against parsed passwd/group entries (pure)."""
    user_part, sep, group_part = spec.strip().partition(":")
    if sep and not group_part:
        raise SandboxError(f"invalid user {spec!r}: empty group after ':'")
    if not user_part:
        if sep:
            raise SandboxError(f"invalid user {spec!r}: empty user before ':'")
        user_part = "0"

    entry = next((e for e in passwd if e.name == user_part), None)
    if entry is None:
        uid = parse_id(user_part)
        if uid is None:
            raise SandboxError(
                f"unable to find user {user_part}: no matching entries in passwd file",
                hint="create the user in an earlier RUN, or use a numeric uid",
            )
        entry = next((e for e in passwd if e.uid == uid), None)
        if entry is None:
            entry = PasswdEntry(name="", uid=uid, gid=0)

    if group_part:
        group = next((g for g in groups if g.name == group_part), None)
        if group is not None:
            gid = group.gid
        else:
            number = parse_id(group_part)
            if number is None:
                raise SandboxError(f"unable to find group {group_part}: no matching entries in group file")
            gid = number
        return ExecUser(entry.uid, gid, (), entry.home)

    supplementary: list[int] = []
    if entry.name:
        for group in groups:
            if entry.name in group.members and group.gid != entry.gid and group.gid not in supplementary:
                supplementary.append(group.gid)
    return ExecUser(entry.uid, entry.gid, tuple(supplementary), entry.home)


def resolve_user(rootfs: Path, user: str) -> tuple[int, int, tuple[int, ...]]:
    """(uid, gid, supplementary groups) for a USER value, read from the rootfs's own files.

    The files are read through `read_scoped`, so a hostile symlink cannot point at host files.
    """
    return lookup_user(rootfs, user).as_tuple()


def lookup_user(rootfs: Path, user: str) -> ExecUser:
    """Like `resolve_user`, with the home directory too (for a default $HOME)."""
    rootfs = Path(rootfs)
    if not rootfs.is_dir():
        raise SandboxError(f"root filesystem {rootfs} does not exist")
    passwd = parse_passwd(read_account_file(rootfs, "/etc/passwd"))
    groups = parse_group(read_account_file(rootfs, "/etc/group"))
    return resolve_user_in(user, passwd, groups)


def read_account_file(rootfs: Path, path: str) -> str:
    """The text of `path` (/etc/passwd, /etc/group) inside `rootfs`, "" if absent.

    Read through `read_scoped`, so a hostile symlink cannot point at host files; undecodable
    bytes are replaced, since only well-formed lines matter to the parsers.
    """
    return (read_scoped(rootfs, path) or b"").decode("utf-8", "replace")
