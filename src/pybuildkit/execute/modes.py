"""`COPY/ADD --chmod` applied to one file's mode, as chmod(1) would.

The model only validates the text; what a symbolic mode *means* depends on the file it lands on
(`X` adds execute only to directories and already-executable files, `g=u` copies bits), so the
value is compiled once per step into a `ModeChange` and evaluated per entry. Octal modes replace
all twelve permission bits (so `755` clears a source's setuid bit and `4755` sets it). A clause
without a `who` acts on everyone, as chmod(1) does with a zero umask: a build has no umask.
"""

from __future__ import annotations

import re
import stat

import attrs

from pybuildkit.errors import BuildError

__all__ = ["ModeChange", "parse_mode_change"]

_OCTAL = re.compile(r"[0-7]+")
_CLAUSE = re.compile(r"([ugoa]*)((?:[-+=](?:[ugo]|[rwxXst]*))+)")
_ACTION = re.compile(r"([-+=])([ugo]|[rwxXst]*)")

_WHO_BITS = {
    "u": stat.S_ISUID | stat.S_IRWXU,
    "g": stat.S_ISGID | stat.S_IRWXG,
    "o": stat.S_ISVTX | stat.S_IRWXO,
}
_SHIFT = {"u": 6, "g": 3, "o": 0}


@attrs.frozen
class _Action:
    op: str  # "+", "-" or "="
    perms: str  # letters from rwxXst, or "" with `copy_from` set
    copy_from: str | None = None


@attrs.frozen
class _Clause:
    who: str  # subset of "ugo", never empty
    actions: tuple[_Action, ...]


@attrs.frozen
class ModeChange:
    """A compiled --chmod value: `octal` for a numeric mode, else symbolic clauses in order."""

    text: str
    octal: int | None = None
    clauses: tuple[_Clause, ...] = ()

    def apply(self, mode: int, *, is_dir: bool) -> int:
        """The new permission bits (the low 12 bits) for an entry whose mode is `mode`."""
        current = stat.S_IMODE(mode)
        if self.octal is not None:
            return self.octal
        for clause in self.clauses:
            for action in clause.actions:
                current = _apply_action(current, clause.who, action, is_dir)
        return current


def _perm_bits(who: str, perms: str, current: int, is_dir: bool) -> int:
    bits = 0
    for w in who:
        shift = _SHIFT[w]
        for letter in perms:
            if letter == "r":
                bits |= 0o4 << shift
            elif letter == "w":
                bits |= 0o2 << shift
            elif letter == "x":
                bits |= 0o1 << shift
            elif letter == "X":
                if is_dir or current & 0o111:
                    bits |= 0o1 << shift
            elif letter == "s":
                if w == "u":
                    bits |= stat.S_ISUID
                elif w == "g":
                    bits |= stat.S_ISGID
            elif letter == "t":
                if w == "o":
                    bits |= stat.S_ISVTX
    return bits


def _copied_bits(who: str, source: str, current: int) -> int:
    """`g=u`: the rwx of `source`, placed at each target class."""
    rwx = (current >> _SHIFT[source]) & 0o7
    bits = 0
    for w in who:
        bits |= rwx << _SHIFT[w]
    return bits


def _apply_action(current: int, who: str, action: _Action, is_dir: bool) -> int:
    if action.copy_from is not None:
        bits = _copied_bits(who, action.copy_from, current)
    else:
        bits = _perm_bits(who, action.perms, current, is_dir)
    if action.op == "+":
        return current | bits
    if action.op == "-":
        return current & ~bits
    affected = 0
    for w in who:
        affected |= _WHO_BITS[w]
    if is_dir:
        # chmod(1) keeps a directory's setuid/setgid on `=` unless they are named explicitly.
        affected &= ~(stat.S_ISUID | stat.S_ISGID)
    return (current & ~affected) | bits


def parse_mode_change(text: str) -> ModeChange:
    """Compile a --chmod value (`755`, `0644`, `u+rwx,g=rx,o-w`, `a=r`, `+X`); BuildError if invalid."""
    value = text.strip()
    if _OCTAL.fullmatch(value):
        octal = int(value, 8)
        if octal > 0o7777:
            raise BuildError(f"invalid chmod parameter: '{text}'. it should be octal string and between 0 and 07777")
        return ModeChange(text, octal=octal)
    clauses = []
    for part in value.split(","):
        match = _CLAUSE.fullmatch(part)
        if not match:
            raise BuildError(
                f"invalid chmod parameter: '{text}'. it should be octal string and between 0 and 07777, "
                "or a symbolic mode",
                hint="for example --chmod=755 or --chmod=u+rwx,go=rx",
            )
        who = match.group(1)
        if not who or "a" in who:
            who = "ugo"
        else:
            who = "".join(w for w in "ugo" if w in who)
        actions = []
        for op, perms in _ACTION.findall(match.group(2)):
            if perms in ("u", "g", "o"):
                actions.append(_Action(op, "", copy_from=perms))
            else:
                actions.append(_Action(op, perms))
        clauses.append(_Clause(who, tuple(actions)))
    return ModeChange(text, clauses=tuple(clauses))
