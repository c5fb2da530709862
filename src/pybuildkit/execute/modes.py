"""`COPY/ADD --chmod` applied to one file's mode, as BuildKit applies it.

The model only validates the text; what a symbolic mode *means* depends on the file it lands on
(`X` adds execute only to directories and already-executable files, `g=u` copies bits), so the
value is compiled once per step into a `ModeChange` and evaluated per entry.

BuildKit evaluates symbolic modes with a Go port of BSD's setmode(3) (tonistiigi/dchapes-mode),
so that is what is reproduced here, not GNU chmod: the two agree on everything people write
(`u+x`, `a+rX`, `go-w`, `u=rwx,go=rx`) and differ on corners (BSD's `u+t` sets the sticky bit,
`o+t` does not; `u=rw` clears a directory's setuid bit; `X` looks at the mode before the whole
change). A clause without a `who` acts on everyone: a build has no umask. Octal modes replace all
twelve permission bits (so `755` clears a source's setuid bit and `4755` sets it).
"""

from __future__ import annotations

import re
import stat

import attrs

from pybuildkit.errors import BuildError

__all__ = ["ModeChange", "parse_mode_change"]

_OCTAL = re.compile(r"[0-7]+")
_STANDARD = stat.S_ISUID | stat.S_ISGID | 0o777
_STICKY = stat.S_ISVTX
_ALL = _STANDARD | _STICKY
_WHO = {"a": _STANDARD, "u": stat.S_ISUID | 0o700, "g": stat.S_ISGID | 0o070, "o": 0o007}

# Copy-command flags (setmode's cmd2): which classes receive the copied bits, and how.
_CLEAR, _SET, _UBITS, _GBITS, _OBITS = 1, 2, 4, 8, 16


@attrs.frozen
class _Cmd:
    """One setmode bit command: `+`/`-` set/clear `bits`, `X` sets them for dirs and
    executables, `u`/`g`/`o` copy that class's bits (with `flags`) masked by `bits`."""

    op: str
    bits: int
    flags: int = 0


@attrs.frozen
class ModeChange:
    """A compiled --chmod value: an ordered list of setmode commands."""

    text: str
    cmds: tuple[_Cmd, ...] = ()
    octal: int | None = None

    def apply(self, mode: int, *, is_dir: bool) -> int:
        """The new permission bits (the low 12 bits) for an entry whose mode is `mode`."""
        original = stat.S_IMODE(mode)
        new = original
        for cmd in self.cmds:
            if cmd.op == "+":
                new |= cmd.bits
            elif cmd.op == "-":
                new &= ~cmd.bits
            elif cmd.op == "X":
                if original & 0o111 or is_dir:
                    new |= cmd.bits
            else:
                shift = {"u": 6, "g": 3, "o": 0}[cmd.op]
                new = _copy_class(new, cmd, (new >> shift) & 0o7)
        return new & _ALL


def _copy_class(new: int, cmd: _Cmd, value: int) -> int:
    if cmd.flags & _CLEAR:
        clear = 0o7 if cmd.flags & _SET else value
        for flag, shift in ((_UBITS, 6), (_GBITS, 3), (_OBITS, 0)):
            if cmd.flags & flag:
                new &= ~((clear << shift) & cmd.bits)
    if cmd.flags & _SET:
        for flag, shift in ((_UBITS, 6), (_GBITS, 3), (_OBITS, 0)):
            if cmd.flags & flag:
                new |= (value << shift) & cmd.bits
    return new


def _add(cmds: list[_Cmd], op: str, who: int, arg: int | str) -> None:
    """setmode's addcmd, with the umask mask fixed at 'everything' (no umask in a build)."""
    if op == "=":
        cmds.append(_Cmd("-", who or _STANDARD))
        op = "+"
    if op in "+-X":
        assert isinstance(arg, int)
        cmds.append(_Cmd(op, (who & arg) if who else (_ALL & arg)))
        return
    if who:
        flags = (_UBITS if who & 0o400 else 0) | (_GBITS if who & 0o040 else 0) | (_OBITS if who & 0o004 else 0)
        bits = ~0
    else:
        flags, bits = _UBITS | _GBITS | _OBITS, _ALL
    flags |= {"+": _SET, "-": _CLEAR, "=": _SET | _CLEAR}[str(arg)]
    cmds.append(_Cmd(op, bits, flags))


def _invalid(text: str) -> BuildError:
    return BuildError(
        f"invalid chmod parameter: '{text}'. it should be octal string and between 0 and 07777, or a symbolic mode",
        hint="for example --chmod=755 or --chmod=u+rwx,go=rx",
    )


def _parse_symbolic(text: str) -> list[_Cmd]:
    cmds: list[_Cmd] = []
    s = text
    while True:
        who = 0
        while s and s[0] in _WHO:
            who |= _WHO[s[0]]
            s = s[1:]
        while True:  # one or more operators for this `who`
            if not s or s[0] not in "+-=":
                raise _invalid(text)
            op, s = s[0], s[1:]
            equal_done = False
            who &= ~_STICKY
            perm = perm_x = 0
            while True:
                char = s[0] if s else ""
                if char == "r":
                    perm |= 0o444
                elif char == "w":
                    perm |= 0o222
                elif char == "x":
                    perm |= 0o111
                elif char == "X":
                    if op == "+":
                        perm_x = 0o111
                elif char == "s":
                    if who == 0 or who & ~0o007:
                        perm |= stat.S_ISUID | stat.S_ISGID
                elif char == "t":
                    if who == 0 or who & ~0o007:
                        who |= _STICKY
                        perm |= _STICKY
                elif char and char in "ugo":
                    if perm:
                        _add(cmds, op, who, perm)
                        perm = 0
                    if op == "=":
                        equal_done = True
                    if perm_x:
                        _add(cmds, "X", who, perm_x)
                        perm_x = 0
                    _add(cmds, char, who, op)
                else:
                    if perm or (op == "=" and not equal_done):
                        _add(cmds, op, who, perm)
                        perm = 0
                    if perm_x:
                        _add(cmds, "X", who, perm_x)
                    break
                s = s[1:]
            if not s or s[0] == ",":
                break
        if not s:
            return cmds
        s = s[1:]  # the comma
        if not s:
            raise _invalid(text)


def parse_mode_change(text: str) -> ModeChange:
    """Compile a --chmod value (`755`, `0644`, `u+rwx,g=rx,o-w`, `a=r`, `+X`); BuildError if invalid."""
    value = text.strip()
    if _OCTAL.fullmatch(value):
        octal = int(value, 8)
        if octal > 0o7777:
            raise _invalid(text)
        return ModeChange(text, (_Cmd("-", _ALL), _Cmd("+", octal)), octal)
    if not value or value[0].isdigit():
        raise _invalid(text)
    return ModeChange(text, tuple(_parse_symbolic(value)))
