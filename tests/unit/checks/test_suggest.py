"""Name suggestions and the rule catalogue's URLs."""

from __future__ import annotations

import pytest

from pybuildkit.checks.rules import RULES, kebab
from pybuildkit.checks.suggest import levenshtein, suggest


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("", "", 0), ("abc", "", 3), ("kitten", "sitting", 3), ("PATH", "PAHT", 2), ("flaw", "lawn", 2)],
)
def test_levenshtein(a: str, b: str, distance: int) -> None:
    assert levenshtein(a, b) == distance == levenshtein(b, a)


@pytest.mark.parametrize(
    ("name", "options", "expected"),
    [
        ("PAHT", ["PATH", "HOME"], "PATH"),
        ("DIR_ASSET", ["DIR_ASSETS", "DIR_CONFIG", "DIR_BINARIES"], "DIR_ASSETS"),
        ("PATH", ["PATH", "PAT"], ""),  # known names get no suggestion
        ("version", ["TARGETARCH", "tag"], ""),  # nothing close enough
        ("ab", ["ac", "ab_"], "ab_"),  # ties: the first in sorted order
        ("x", [], ""),
    ],
)
def test_suggest(name: str, options: list[str], expected: str) -> None:
    assert suggest(name, options) == expected


@pytest.mark.parametrize(
    ("name", "slug"),
    [("JSONArgsRecommended", "json-args-recommended"), ("FromAsCasing", "from-as-casing"), ("UndefinedVar", "undefined-var")],
)
def test_kebab(name: str, slug: str) -> None:
    assert kebab(name) == slug


def test_rule_names_are_unique_and_urls_well_formed() -> None:
    assert len({r.name for r in RULES}) == len(RULES)
    for rule in RULES:
        if rule.origin == "buildkit":
            assert rule.url == f"https://docs.docker.com/go/dockerfile/rule/{kebab(rule.name)}/"
        else:
            assert rule.url.startswith("docs/checks.md#") and rule.level == "info"
