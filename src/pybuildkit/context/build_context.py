"""One build's context as the executor meets it: a root directory plus the ignore rules chosen
for the Dockerfile being built, so every COPY of the build sees the same filtered tree."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import attrs

from pybuildkit.context.checksum import Checksummer
from pybuildkit.context.dockerignore import PatternMatcher
from pybuildkit.context.ignorefile import load_ignore
from pybuildkit.context.walker import Entry, Selected, select, walk

__all__ = ["BuildContext"]


@attrs.frozen
class BuildContext:
    """A context root and its `.dockerignore` (or `<Dockerfile>.dockerignore`) matcher."""

    root: str
    ignore: PatternMatcher = attrs.field(factory=PatternMatcher)

    @classmethod
    def open(cls, root: str | os.PathLike[str], dockerfile: str | os.PathLike[str] | None = None) -> BuildContext:
        """Load the ignore file that applies to `dockerfile`; ContextError if it is malformed."""
        return cls(os.fspath(root), load_ignore(root, dockerfile))

    def walk(self, start: str = "") -> Iterator[Entry]:
        """Everything the context holds below `start`, ignored paths left out."""
        return walk(self.root, start, ignore=self.ignore)

    def select(self, sources: Sequence[str], exclude: Sequence[str] = ()) -> tuple[Selected, ...]:
        """What a COPY/ADD of `sources` (wildcards allowed) with `--exclude` patterns brings."""
        return select(self.root, sources, ignore=self.ignore, exclude=exclude)

    def digest(self, sources: Sequence[str], checksummer: Checksummer, exclude: Sequence[str] = ()) -> str:
        """The content digest a COPY's cache key needs: `select` then `selection_digest`."""
        return checksummer.selection_digest(self.select(sources, exclude))
