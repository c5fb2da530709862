"""Dockerfile checks: BuildKit's build-check rules plus pybuildkit's cache-efficiency rules.

`run_checks(document, dockerfile, build_args=..., target=...)` returns a :class:`CheckResult`
(findings with rule, message, URL, span and level; `failed` when the build must stop). The
`# check=` directive and `BUILDKIT_DOCKERFILE_CHECK` select rules, as in BuildKit. `outline` and
`targets` give what `--call=outline|targets` print. No I/O here: the caller reads the files.
"""

from __future__ import annotations

from pybuildkit.checks.analysis import BaseImage, BaseLookup
from pybuildkit.checks.config import CHECK_VARIABLE, CheckConfig, parse_check_options, resolve_config
from pybuildkit.checks.findings import CheckResult, Finding
from pybuildkit.checks.outline import Outline, OutlineArg, OutlineSecret, Target, outline, targets
from pybuildkit.checks.rules import INFO, RULES, RULES_BY_NAME, WARNING, Rule
from pybuildkit.checks.run import CHECKS, run_checks

__all__ = [
    "run_checks",
    "CheckResult",
    "Finding",
    "CheckConfig",
    "CHECK_VARIABLE",
    "parse_check_options",
    "resolve_config",
    "Rule",
    "RULES",
    "RULES_BY_NAME",
    "CHECKS",
    "WARNING",
    "INFO",
    "BaseImage",
    "BaseLookup",
    "Outline",
    "OutlineArg",
    "OutlineSecret",
    "Target",
    "outline",
    "targets",
]
