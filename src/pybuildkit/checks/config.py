"""Which rules run and whether a finding fails the build: the `# check=` option string.

The same `skip=<rules|all>;error=<bool>;experimental=<rules|all>` text comes from three places, and
BuildKit's precedence is kept: the `BUILDKIT_DOCKERFILE_CHECK` build arg replaces everything, the
`BUILDKIT_DOCKERFILE_CHECK` environment variable replaces the directive, and the directive applies
otherwise. A source replaces the others whole (options are not merged), so a CI job can override a
Dockerfile's `error=true` without editing it.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from pybuildkit.checks.rules import Rule
from pybuildkit.errors import ParseError, PybuildkitError, Span, UsageError
from pybuildkit.model.values import go_quote, parse_go_bool
from pybuildkit.syntax.directives import parse_directive

__all__ = ["CHECK_VARIABLE", "CheckConfig", "parse_check_options", "resolve_config"]

#: Name of both the build arg and the environment variable that override the directive.
CHECK_VARIABLE = "BUILDKIT_DOCKERFILE_CHECK"


@attrs.frozen
class CheckConfig:
    """Parsed check options; `source` says where they came from (for error messages)."""

    skip_all: bool = False
    skip: frozenset[str] = frozenset()
    error: bool = False
    experimental_all: bool = False
    experimental: frozenset[str] = frozenset()
    source: str = "default"

    def enabled(self, rule: Rule) -> bool:
        """Experimental rules run only when named (even under skip=all); others unless skipped."""
        if rule.experimental:
            return self.experimental_all or rule.name in self.experimental
        return not (self.skip_all or rule.name in self.skip)


def _rule_list(value: str) -> tuple[bool, frozenset[str]]:
    value = value.strip()
    if value == "all":
        return True, frozenset()
    return False, frozenset(part.strip() for part in value.split(","))


def parse_check_options(text: str, *, source: str = "directive") -> CheckConfig:
    """Parse option text as BuildKit does; ValueError with BuildKit's wording when it is malformed."""
    text = text.strip()
    if not text:
        return CheckConfig(source=source)
    fields: dict[str, object] = {"source": source}
    for part in text.split(";", 2):
        key, eq, value = part.partition("=")
        if not eq:
            raise ValueError(f"invalid check option {go_quote(part)}")
        key = key.strip()
        if key == "skip":
            fields["skip_all"], fields["skip"] = _rule_list(value)
        elif key == "experimental":
            fields["experimental_all"], fields["experimental"] = _rule_list(value)
        elif key == "error":
            try:
                fields["error"] = parse_go_bool(value.strip())
            except ValueError:
                raise ValueError(
                    f'failed to parse check option {go_quote(part)}: strconv.ParseBool: parsing '
                    f'{go_quote(value.strip())}: invalid syntax'
                ) from None
        else:
            raise ValueError(f"invalid check option {go_quote(key)}")
    return CheckConfig(**fields)  # type: ignore[arg-type]


def resolve_config(
    text: str,
    *,
    build_args: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    path: str = "Dockerfile",
) -> CheckConfig:
    """The options in force for Dockerfile `text`: build arg, else environment variable, else the
    `# check=` directive (found as BuildKit's linter finds it: a `#!` first line is skipped).

    A malformed directive is a ParseError at its line; a malformed override is a UsageError.
    """
    for origin, values in (("build arg", build_args), ("environment variable", environ)):
        if values is not None and CHECK_VARIABLE in values:
            try:
                return parse_check_options(values[CHECK_VARIABLE], source=origin)
            except ValueError as exc:
                raise UsageError(f"{CHECK_VARIABLE} ({origin}): failed to parse check options: {exc}") from None
    directive = parse_directive("check", text)
    if directive is None:
        return CheckConfig()
    try:
        return parse_check_options(directive.value, source="directive")
    except ValueError as exc:
        span = Span(line=max(directive.line, 1), file=path)
        error: PybuildkitError = ParseError(f"failed to parse check options: {exc}", span, source=text)
        raise error from None
