"""The one error hierarchy of pybuildkit.

Every failure a user can cause surfaces as a subclass of :class:`PybuildkitError`, so the CLI can
render it (with a caret excerpt when it has a source span) instead of a traceback. Low layers raise
these typed errors; foreign exceptions (lark, OSError, tarfile) are translated at the boundary.
"""

from __future__ import annotations

import attrs

__all__ = [
    "Span",
    "excerpt",
    "PybuildkitError",
    "DockerfileError",
    "ParseError",
    "PlanError",
    "BuildError",
    "ExecError",
    "ContextError",
    "StoreError",
    "ImageError",
    "SandboxError",
    "RegistryError",
    "UsageError",
]


@attrs.frozen
class Span:
    """A region of a Dockerfile: 1-based lines and columns, end inclusive of its last line."""

    line: int
    column: int = 1
    end_line: int | None = None
    end_column: int | None = None
    file: str = "Dockerfile"

    def label(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


def excerpt(span: Span | None, source: str | None) -> str:
    """The source line of `span` with a caret under its column, as a compiler prints it."""
    if span is None or source is None:
        return ""
    lines = source.splitlines()
    if not 1 <= span.line <= len(lines):
        return ""
    text = lines[span.line - 1].expandtabs(1)
    gutter = f"{span.line:>4} | "
    caret = " " * (len(gutter) + max(span.column - 1, 0)) + "^"
    return f"{gutter}{text}\n{caret}"


class PybuildkitError(Exception):
    """Root of every error pybuildkit raises on purpose; `exit_code` is what the CLI exits with."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        """The text a user sees: the message, then the hint if any."""
        text = f"error: {self.message}"
        if self.hint:
            text += f"\nhint: {self.hint}"
        return text


class DockerfileError(PybuildkitError):
    """An error located in a Dockerfile; renders as `PATH:LINE:COL: message` with an excerpt."""

    def __init__(
        self,
        message: str,
        span: Span | None = None,
        *,
        source: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.span = span
        self.source = source

    def with_location(self, span: Span, source: str | None = None) -> DockerfileError:
        """Attach a span (and the file text for the excerpt) unless one is already there."""
        if self.span is None:
            self.span = span
        if self.source is None:
            self.source = source
        return self

    def excerpt(self) -> str:
        return excerpt(self.span, self.source)

    def render(self) -> str:
        where = f"{self.span.label()}: " if self.span else ""
        text = f"{where}{self.message}"
        excerpt = self.excerpt()
        if excerpt:
            text += "\n" + excerpt
        if self.hint:
            text += f"\nhint: {self.hint}"
        return text

    def __str__(self) -> str:
        where = f"{self.span.label()}: " if self.span else ""
        return f"{where}{self.message}"


class ParseError(DockerfileError):
    """The Dockerfile text is not valid Dockerfile syntax."""


class PlanError(DockerfileError):
    """The Dockerfile parses but means nothing buildable (undefined stage, cycle, bad flag value)."""


class BuildError(PybuildkitError):
    """A build step failed while executing."""

    def __init__(self, message: str, *, span: Span | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.span = span
        self.source: str | None = None

    def render(self) -> str:
        where = f"{self.span.label()}: " if self.span else ""
        text = f"{where}{self.message}"
        shown = excerpt(self.span, self.source)
        if shown:
            text += "\n" + shown
        if self.hint:
            text += f"\nhint: {self.hint}"
        return text


class ExecError(BuildError):
    """A RUN exited non-zero: carries the command, its exit code and the tail of its output."""

    def __init__(
        self,
        command: str,
        status: int,
        log_tail: tuple[str, ...] = (),
        *,
        span: Span | None = None,
    ) -> None:
        super().__init__(f"process {command!r} did not complete successfully: exit code {status}", span=span)
        self.command = command
        self.status = status
        self.log_tail = log_tail

    def render(self) -> str:
        text = super().render()
        if self.log_tail:
            text += "\n" + "\n".join(f"  > {line}" for line in self.log_tail)
        return text


class ContextError(PybuildkitError):
    """The build context cannot be read as asked (missing file, path outside the context)."""


class StoreError(PybuildkitError):
    """The image store is missing something, inconsistent, or cannot be written."""


class ImageError(PybuildkitError):
    """An image, manifest or layer is malformed or hostile."""


class SandboxError(PybuildkitError):
    """The sandbox could not be set up (namespaces, mounts, pivot_root)."""


class RegistryError(PybuildkitError):
    """A registry refused, was unreachable, or served content that does not verify."""


class UsageError(PybuildkitError):
    """The command line asks for something that cannot be done."""

    exit_code = 2
