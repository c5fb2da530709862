"""Every check rule as data: name, what it means, where it is documented, how loud it is.

Keeping the catalogue apart from the code that detects each problem lets `pybuild check`, the
`# check=` directive and the docs agree on one list, and lets a test assert that every rule has a
triggering and a clean Dockerfile. BuildKit's rules keep BuildKit's names, descriptions and URLs
(users search for them); pybuildkit's own rules are marked `origin="pybuildkit"`.
"""

from __future__ import annotations

import re

import attrs

__all__ = ["Rule", "RULES", "RULES_BY_NAME", "rule", "kebab", "WARNING", "INFO"]

WARNING = "warning"
INFO = "info"


def kebab(name: str) -> str:
    """`JSONArgsRecommended` -> `json-args-recommended` (BuildKit's URL slugs)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", name).lower()


def _default_url(rule: Rule) -> str:
    if rule.origin == "buildkit":
        return f"https://docs.docker.com/go/dockerfile/rule/{kebab(rule.name)}/"
    return f"docs/checks.md#{rule.name.lower()}"


@attrs.frozen
class Rule:
    """One check: `experimental` rules run only when the `experimental=` option names them."""

    name: str
    description: str
    level: str = WARNING
    experimental: bool = False
    origin: str = "buildkit"
    url: str = attrs.field(default=attrs.Factory(_default_url, takes_self=True))


RULES: tuple[Rule, ...] = (
    Rule("StageNameCasing", "Stage names should be lowercase"),
    Rule("FromAsCasing", "The 'as' keyword should match the case of the 'from' keyword"),
    Rule("NoEmptyContinuation", "Empty continuation lines will become errors in a future release"),
    Rule(
        "ConsistentInstructionCasing",
        "All commands within the Dockerfile should use the same casing (either upper or lower)",
    ),
    Rule("DuplicateStageName", "Stage names should be unique"),
    Rule("ReservedStageName", "Reserved words should not be used as stage names"),
    Rule(
        "JSONArgsRecommended",
        "JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals",
    ),
    Rule(
        "MaintainerDeprecated",
        "The MAINTAINER instruction is deprecated, use a label instead to define an image author",
    ),
    Rule("UndefinedArgInFrom", "FROM command must use declared ARGs"),
    Rule(
        "WorkdirRelativePath",
        "Relative workdir without an absolute workdir declared within the build can have unexpected "
        "results if the base image changes",
    ),
    Rule("UndefinedVar", "Variables should be defined before their use"),
    Rule("MultipleInstructionsDisallowed", "Multiple instructions of the same type should not be used in the same stage"),
    Rule("LegacyKeyValueFormat", "Legacy key/value format with whitespace separator should not be used"),
    Rule(
        "InvalidBaseImagePlatform",
        "Base image platform does not match expected target platform",
    ),
    Rule(
        "RedundantTargetPlatform",
        "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior",
    ),
    Rule("SecretsUsedInArgOrEnv", "Sensitive data should not be used in the ARG or ENV commands"),
    Rule(
        "InvalidDefaultArgInFrom",
        "Default value for global ARG results in an empty or invalid base image name",
    ),
    Rule("FromPlatformFlagConstDisallowed", "FROM --platform flag should not use a constant value"),
    Rule("CopyIgnoredFile", "Attempting to Copy file that is excluded by .dockerignore", experimental=True),
    Rule(
        "InvalidDefinitionDescription",
        "Comment for build stage or argument should follow the format: `# <arg/stage name> <description>`. "
        "If this is not intended to be a description comment, add an empty line or comment between the "
        "instruction and the comment.",
        experimental=True,
    ),
    Rule("ExposeProtoCasing", "Protocol in EXPOSE instruction should be lowercase"),
    Rule(
        "ExposeInvalidFormat",
        "IP address and host-port mapping should not be used in EXPOSE instruction. "
        "This will become an error in a future release",
    ),
    Rule(
        "CopyAllBeforeDependencyInstall",
        "Copying the whole context before installing dependencies re-runs the install on every source change",
        level=INFO,
        origin="pybuildkit",
    ),
    Rule(
        "RunAptGetWithoutCacheMount",
        "apt-get install without a cache mount downloads every package again whenever the layer is rebuilt",
        level=INFO,
        origin="pybuildkit",
    ),
)

RULES_BY_NAME: dict[str, Rule] = {r.name: r for r in RULES}


def rule(name: str) -> Rule:
    """The rule called `name` (KeyError for a name that is not in the catalogue)."""
    return RULES_BY_NAME[name]
