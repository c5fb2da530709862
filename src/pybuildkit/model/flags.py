"""Instruction flags (`--name=value`), parsed from one declarative table.

BuildKit defines each instruction's flags imperatively (``BFlags.AddString`` ...) and then parses
the raw words the parser recorded. Here the definitions are data (:data:`FLAG_TABLE`), so the
documentation, the "did you mean" hint and the parser all read the same source of truth. The
parsing rules are BuildKit's: a bare ``--`` stops flag processing, booleans accept ``--b``,
``--b=true`` and ``--b=false`` (any case), string flags need ``=`` (``--s=`` is the empty string),
"strings" flags may repeat and collect every value, any other repetition is an error.
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Iterable, Mapping, Sequence

import attrs

from pybuildkit.errors import ParseError

__all__ = [
    "FlagKind",
    "FlagSpec",
    "ParsedFlags",
    "FLAG_TABLE",
    "flags_for",
    "parse_flags",
]


class FlagKind(enum.Enum):
    """How a flag takes its value."""

    BOOL = "bool"
    STRING = "string"
    STRINGS = "strings"  # repeatable, every value kept in order


@attrs.frozen
class FlagSpec:
    """One accepted flag: its name (without ``--``), kind and default."""

    name: str
    kind: FlagKind
    default: bool | str | None = None

    def initial(self) -> bool | str | tuple[str, ...]:
        if self.kind is FlagKind.STRINGS:
            return ()
        if self.kind is FlagKind.BOOL:
            return bool(self.default)
        return "" if self.default is None else str(self.default)


@attrs.frozen
class ParsedFlags:
    """The result of parsing: every declared flag's value, and which ones the user gave."""

    values: Mapping[str, bool | str | tuple[str, ...]]
    used: frozenset[str] = frozenset()

    def bool(self, name: str) -> bool:
        value = self.values[name]
        assert isinstance(value, bool)
        return value

    def string(self, name: str) -> str:
        value = self.values[name]
        assert isinstance(value, str)
        return value

    def optional(self, name: str) -> str | None:
        """The string value if the flag was given, else None (so "unset" differs from "")."""
        return self.string(name) if name in self.used else None

    def strings(self, name: str) -> tuple[str, ...]:
        value = self.values[name]
        assert isinstance(value, tuple)
        return value

    @property
    def used_sorted(self) -> tuple[str, ...]:
        return tuple(sorted(self.used))


def _b(name: str, default: bool = False) -> FlagSpec:
    return FlagSpec(name, FlagKind.BOOL, default)


def _s(name: str, default: str = "") -> FlagSpec:
    return FlagSpec(name, FlagKind.STRING, default)


def _m(name: str) -> FlagSpec:
    return FlagSpec(name, FlagKind.STRINGS)


_COPY_LIKE = (_s("chown"), _s("chmod"), _b("link"), _m("exclude"))

#: Flags each instruction accepts (keywords lower-case). Instructions absent here take no flags.
FLAG_TABLE: Mapping[str, tuple[FlagSpec, ...]] = {
    "from": (_s("platform"),),
    "run": (_m("mount"), _s("network", "default"), _s("security", "sandbox"), _m("device")),
    "copy": (_s("from"), *_COPY_LIKE, _b("parents")),
    "add": (*_COPY_LIKE, _b("keep-git-dir"), _s("checksum"), _b("unpack")),
    "healthcheck": (
        _s("interval"),
        _s("timeout"),
        _s("start-period"),
        _s("start-interval"),
        _s("retries"),
    ),
}


def flags_for(keyword: str) -> tuple[FlagSpec, ...]:
    """The flag specs of one instruction keyword (empty for instructions without flags)."""
    return FLAG_TABLE.get(keyword.lower(), ())


def _unknown(name: str, specs: Sequence[FlagSpec], instruction: str) -> ParseError:
    names = [spec.name for spec in specs]
    if names:
        accepted = ", ".join(f"--{n}" for n in names)
        message = f"unknown flag: --{name} ({instruction} accepts {accepted})"
    else:
        message = f"unknown flag: --{name} ({instruction} takes no flags)"
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"did you mean --{close[0]}?" if close else None
    return ParseError(message, hint=hint)


def parse_flags(words: Iterable[str], specs: Sequence[FlagSpec], instruction: str = "instruction") -> ParsedFlags:
    """Parse raw flag words against `specs`; raise ParseError naming the flag and `instruction`."""
    by_name = {spec.name: spec for spec in specs}
    values: dict[str, bool | str | tuple[str, ...]] = {spec.name: spec.initial() for spec in specs}
    used: set[str] = set()
    for word in words:
        if not word.startswith("--"):
            raise ParseError(f"{instruction}: flag should start with --: {word}")
        if word == "--":
            break
        name, eq, value = word[2:].partition("=")
        spec = by_name.get(name)
        if spec is None:
            raise _unknown(name, specs, instruction)
        if name in used and spec.kind is not FlagKind.STRINGS:
            raise ParseError(f"duplicate flag specified: --{name} ({instruction})")
        used.add(name)
        if spec.kind is FlagKind.BOOL:
            if eq and value == "":
                raise ParseError(f"missing a value on flag: --{name} ({instruction})")
            lower = value.lower()
            if lower not in ("", "true", "false"):
                raise ParseError(f"expecting boolean value for flag --{name}, not: {value} ({instruction})")
            values[name] = lower != "false"
        else:
            if not eq:
                raise ParseError(
                    f"missing a value on flag: --{name} ({instruction})", hint=f"write --{name}=VALUE"
                )
            if spec.kind is FlagKind.STRINGS:
                current = values[name]
                assert isinstance(current, tuple)
                values[name] = (*current, value)
            else:
                values[name] = value
    return ParsedFlags(values=values, used=frozenset(used))
