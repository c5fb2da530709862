"""`COPY/ADD --chown` to numeric ids, read from the destination's own /etc/passwd and /etc/group.

BuildKit's rules (solver/llbsolver/file/user_linux.go) differ from USER's: a bare number is used
for both uid and gid (`--chown=1000` is 1000:1000), a bare name takes the user's primary group,
and an explicit group (name or number) replaces it. Unlike BuildKit, which silently falls back to
0 for a name it cannot find, an unknown name is an error: a file quietly owned by root is a worse
surprise than a failed step. The files are read and parsed by sandbox/users.py (the same code as
USER), so a hostile image cannot point them at the host; only the lookup rules here differ.
"""

from __future__ import annotations

from pathlib import Path

import attrs

from pybuildkit.errors import BuildError, SandboxError
from pybuildkit.sandbox.users import parse_group, parse_id, parse_passwd, read_account_file

__all__ = ["Owner", "resolve_chown"]

@attrs.frozen
class Owner:
    uid: int
    gid: int


def _read(root: Path, path: str) -> str:
    try:
        return read_account_file(root, path)
    except SandboxError as exc:
        raise BuildError(f"cannot read {path} to resolve --chown: {exc.message}") from None


def resolve_chown(chown: str, root: Path) -> Owner:
    """Numeric owner for a --chown value (`user`, `user:group`, ids or names) against `root`."""
    user, sep, group = chown.strip().partition(":")
    if not user or (sep and not group):
        raise BuildError(f"invalid --chown value {chown!r}: expected user[:group]")
    uid = parse_id(user)
    if uid is not None:
        gid = uid
    else:
        entry = next((e for e in parse_passwd(_read(root, "/etc/passwd")) if e.name == user), None)
        if entry is None:
            raise BuildError(
                f"unable to find user {user}: no matching entries in passwd file",
                hint="create the user in an earlier RUN, or use numeric ids",
            )
        uid, gid = entry.uid, entry.gid
    if group:
        number = parse_id(group)
        if number is not None:
            gid = number
        else:
            found = next((g for g in parse_group(_read(root, "/etc/group")) if g.name == group), None)
            if found is None:
                raise BuildError(f"unable to find group {group}: no matching entries in group file")
            gid = found.gid
    return Owner(uid, gid)
