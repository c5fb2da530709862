"""`COPY/ADD --chmod` values: octal (`755`, `0644`) or symbolic (`u+x,g=r`, `a-w`).

The model only *validates* the text (and keeps it as written): applying a symbolic mode needs the
file's current mode, which only the executor knows. Values holding a variable are checked after
expansion by the planner (call :func:`validate_chmod` again).
"""

from __future__ import annotations

import re

from pybuildkit.errors import PlanError
from pybuildkit.model.values import has_variable

__all__ = ["validate_chmod", "is_octal_mode"]

_OCTAL = re.compile(r"[0-7]+")
_SYMBOLIC_CLAUSE = re.compile(r"[ugoa]*(?:[-+=](?:[rwxXst]*|[ugo]))+")


def is_octal_mode(text: str) -> bool:
    """True for an octal mode BuildKit accepts (any number of octal digits, at most 07777)."""
    return bool(_OCTAL.fullmatch(text)) and int(text, 8) <= 0o7777


def validate_chmod(text: str) -> str:
    """Return `text` unchanged if it is a valid mode (or holds a variable); else PlanError."""
    if has_variable(text) or is_octal_mode(text):
        return text
    if all(_SYMBOLIC_CLAUSE.fullmatch(clause) for clause in text.split(",")):
        return text
    raise PlanError(
        f"invalid chmod parameter: '{text}'. it should be octal string and between 0 and 07777, "
        "or a symbolic mode",
        hint="for example --chmod=755 or --chmod=u+rwx,go=rx",
    )
