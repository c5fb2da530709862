"""Small value parsers shared by the flag interpreters: Go booleans, unsigned ints, byte sizes.

BuildKit reads these with Go's ``strconv`` and docker's ``units`` packages; accepting exactly the
same spellings keeps a Dockerfile portable between BuildKit and pybuildkit.
"""

from __future__ import annotations

import csv
import re

__all__ = ["parse_go_bool", "parse_uint", "parse_ram_bytes", "has_variable", "split_csv", "go_quote"]

_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
_RAM = re.compile(r"(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?")
_RAM_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def parse_go_bool(text: str) -> bool:
    """Go's ``strconv.ParseBool``; ValueError for anything else."""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"invalid boolean {text!r}")


def parse_uint(text: str, base: int = 10, bits: int = 32) -> int:
    """Go's ``strconv.ParseUint`` without prefixes or underscores; ValueError when out of range."""
    digits = "01234567" if base == 8 else "0123456789"
    if not text or any(ch not in digits for ch in text):
        raise ValueError(f"invalid number {text!r}")
    value = int(text, base)
    if value >= 1 << bits:
        raise ValueError(f"number out of range {text!r}")
    return value


def parse_ram_bytes(text: str) -> int:
    """docker/go-units ``RAMInBytes``: `64m`, `1.5GiB`, `512` (binary multiples)."""
    match = _RAM.fullmatch(text)
    if match is None:
        raise ValueError(f"invalid size {text!r}")
    number, unit = match.groups()
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"invalid size {text!r}") from None
    size = int(value * _RAM_UNITS[(unit or "").lower()])
    if size >= 1 << 63:
        raise ValueError(f"size out of range {text!r}")
    return size


def has_variable(text: str) -> bool:
    """True when `text` references a variable, so it can only be checked after expansion."""
    return "$" in text


def split_csv(text: str) -> list[str]:
    """One CSV record (BuildKit reads `--mount`/`--device` values as CSV); ValueError if malformed."""
    if "\n" in text or "\r" in text:
        raise ValueError("line breaks are not allowed")
    try:
        rows = list(csv.reader([text], strict=True))
    except csv.Error as exc:
        raise ValueError(str(exc)) from None
    return rows[0] if rows else []


def go_quote(text: str) -> str:
    """Double-quote like Go's %q for the common cases, so messages read like BuildKit's."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
