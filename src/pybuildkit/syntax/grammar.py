"""Where the Lark grammar lives and how it is loaded: once, lazily, from the package or the repo.

`import pybuildkit.syntax` must stay cheap (the CLI starts fast), so Lark is imported and the
grammar compiled only on the first parse. Lark's grammar cache (a pickle in a private per-user cache dir,
keyed by the grammar text and options) makes that compile a load after the first run.

The grammar ships in the wheel as `pybuildkit/grammar/dockerfile.lark`; in an editable checkout
it is the repository's top-level `grammar/dockerfile.lark`. Reading it is this package's only
contact with the filesystem, and it goes through `importlib.resources`.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import TYPE_CHECKING

from pybuildkit.errors import ParseError

if TYPE_CHECKING:  # pragma: no cover
    from lark import Lark

__all__ = ["START_RULES", "grammar_text", "grammar_origin", "parser"]

#: The grammar's entry points (see the comments in the grammar file).
START_RULES = ("line", "json_form", "words", "fields")

_GRAMMAR_NAME = "dockerfile.lark"


@functools.cache
def _locate() -> tuple[str, str]:
    package = resources.files("pybuildkit")
    packaged = package.joinpath("grammar", _GRAMMAR_NAME)
    # In a source checkout the package is src/pybuildkit and the grammar is ../../grammar/.
    checkout = package.joinpath("..", "..", "grammar", _GRAMMAR_NAME)
    for candidate, origin in ((packaged, f"pybuildkit/grammar/{_GRAMMAR_NAME}"), (checkout, str(checkout))):
        try:
            if candidate.is_file():
                return candidate.read_text(encoding="utf-8"), origin
        except OSError:  # pragma: no cover - unreadable file: try the next place
            continue
    raise ParseError(
        f"the Dockerfile grammar is missing: neither pybuildkit/grammar/{_GRAMMAR_NAME} "
        f"in the installed package nor grammar/{_GRAMMAR_NAME} in a source checkout"
    )


def grammar_text() -> str:
    """The grammar's source text."""
    return _locate()[0]


def grammar_origin() -> str:
    """Where the grammar was read from (the package resource, or the checkout's file)."""
    return _locate()[1]


def _cache_file() -> str | bool:
    """Lark's compiled-grammar cache in a private per-user directory (never a shared /tmp path,
    where another user could plant a pickle); False (no cache) when that directory is unusable."""
    import hashlib
    import os

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "pybuildkit")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        st = os.stat(folder)
        if st.st_uid != os.getuid() or st.st_mode & 0o077:
            return False
    except OSError:
        return False
    digest = hashlib.sha256(grammar_text().encode("utf-8")).hexdigest()[:16]
    return os.path.join(folder, f"grammar-{digest}.lark-cache")


@functools.cache
def parser() -> Lark:
    """The compiled LALR parser for every entry point; built once per process."""
    from lark import Lark
    from lark.exceptions import LarkError

    try:
        return Lark(
            grammar_text(),
            parser="lalr",
            lexer="contextual",
            start=list(START_RULES),
            propagate_positions=True,
            maybe_placeholders=False,
            cache=_cache_file(),
        )
    except LarkError as exc:  # a broken installation, not a broken Dockerfile
        raise ParseError(f"the Dockerfile grammar ({grammar_origin()}) does not compile: {exc}") from None
