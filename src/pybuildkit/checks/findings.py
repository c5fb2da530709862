"""What a check run produces: findings with their place in the file, and the verdict.

A finding carries everything a reader or a tool needs without looking the rule up again (name,
BuildKit's short description, the URL, the level), so the CLI, JSON output and build progress
events can each render it their own way.
"""

from __future__ import annotations

import attrs

from pybuildkit.checks.config import CheckConfig
from pybuildkit.checks.rules import WARNING, Rule
from pybuildkit.errors import DockerfileError, Span

__all__ = ["Finding", "CheckResult"]


@attrs.frozen
class Finding:
    """One rule violation at one place: `message` is BuildKit's detail text for that case."""

    rule: str
    message: str
    span: Span
    url: str
    level: str = WARNING
    description: str = ""

    @classmethod
    def of(cls, rule: Rule, message: str, span: Span) -> Finding:
        return cls(
            rule=rule.name,
            message=message,
            span=span,
            url=rule.url,
            level=rule.level,
            description=rule.description,
        )

    def short(self) -> str:
        """BuildKit's one-line form: `Rule: message (line N)`."""
        return f"{self.rule}: {self.message} (line {self.span.line})"

    def to_json(self) -> dict[str, object]:
        return {
            "ruleName": self.rule,
            "description": self.description,
            "url": self.url,
            "detail": self.message,
            "level": self.level,
            "location": {
                "file": self.span.file,
                "line": self.span.line,
                "column": self.span.column,
                "endLine": self.span.end_line or self.span.line,
            },
        }


@attrs.frozen
class CheckResult:
    """All findings in file order, the options used, and the Dockerfile error that stopped the
    checks early, if any (findings before it are still reported, as BuildKit does)."""

    findings: tuple[Finding, ...] = ()
    config: CheckConfig = CheckConfig()
    error: DockerfileError | None = None

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.level == WARNING)

    @property
    def violated_rules(self) -> tuple[str, ...]:
        """Rules whose warnings count for `error=true` (sorted, unique); info findings never do."""
        return tuple(sorted({f.rule for f in self.warnings}))

    @property
    def failed(self) -> bool:
        """True when the build must stop: a Dockerfile error, or warnings under `error=true`."""
        return self.error is not None or (self.config.error and bool(self.warnings))

    def violation_message(self) -> str:
        """BuildKit's wording for an `error=true` failure."""
        return "lint violation found for rules: " + ", ".join(self.violated_rules)
