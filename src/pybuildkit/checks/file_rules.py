"""Rules about the file's shape: casing, stage names, comments, FROM lines.

Each function reads the :class:`~pybuildkit.checks.analysis.Analysis` and yields `(message, span)`
pairs; the runner attaches the rule. Messages are BuildKit's, word for word, because users and
tools grep for them.
"""

from __future__ import annotations

from collections.abc import Iterator

from pybuildkit.checks.analysis import Analysis, parse_platform, written_keyword
from pybuildkit.errors import ImageError, Span
from pybuildkit.model.instructions import Arg, From
from pybuildkit.model.values import go_quote
from pybuildkit.oci.reference import parse_reference
from pybuildkit.syntax.ast import Node

__all__ = [
    "Hit",
    "RESERVED_STAGE_NAMES",
    "stage_name_casing",
    "from_as_casing",
    "no_empty_continuation",
    "consistent_instruction_casing",
    "duplicate_stage_name",
    "reserved_stage_name",
    "maintainer_deprecated",
    "invalid_definition_description",
    "undefined_arg_in_from",
    "invalid_default_arg_in_from",
    "redundant_target_platform",
    "from_platform_flag_const_disallowed",
    "invalid_base_image_platform",
]

Hit = tuple[str, Span]
RESERVED_STAGE_NAMES = ("context", "scratch")


def _node_keyword(node: Node) -> str:
    first = node.original.strip().split(None, 1)
    return first[0] if first and first[0].lower() == node.keyword.lower() else node.keyword


def _from_nodes(analysis: Analysis) -> Iterator[Node]:
    limit = analysis.error.span.line if analysis.error is not None and analysis.error.span else None
    for node in analysis.document.nodes:
        if limit is not None and node.span.line >= limit:
            return
        if node.keyword.lower() == "from":
            yield node


def stage_name_casing(analysis: Analysis) -> Iterator[Hit]:
    for node in _from_nodes(analysis):
        if len(node.args) == 3 and node.args[2] != node.args[2].lower():
            yield f"Stage name '{node.args[2]}' should be lowercase", node.span


def from_as_casing(analysis: Analysis) -> Iterator[Hit]:
    for node in _from_nodes(analysis):
        if len(node.args) < 3:
            continue
        keyword, as_word = _node_keyword(node), node.args[1]
        if keyword == keyword.lower():
            ok = as_word == as_word.lower()
        elif keyword == keyword.upper():
            ok = as_word == as_word.upper()
        else:
            ok = True  # mixed-case FROM is ConsistentInstructionCasing's business
        if not ok:
            yield f"'{as_word}' and '{keyword}' keywords' casing do not match", node.span


def no_empty_continuation(analysis: Analysis) -> Iterator[Hit]:
    for warning in analysis.document.warnings:
        if warning.rule == "no-empty-continuation":
            yield "Empty continuation line", warning.span


def consistent_instruction_casing(analysis: Analysis) -> Iterator[Hit]:
    instructions = [i for stage in analysis.stages for i in (stage.from_, *stage.commands)]
    words = [written_keyword(i) for i in instructions]
    lower = sum(1 for w in words if w == w.lower())
    upper = sum(1 for w in words if w == w.upper() and w != w.lower())
    majority_lower = lower > upper
    for instruction, word in zip(instructions, words):
        if majority_lower and word != word.lower():
            yield f"Command '{word}' should match the case of the command majority (lowercase)", instruction.span
        elif not majority_lower and word != word.upper():
            yield f"Command '{word}' should match the case of the command majority (uppercase)", instruction.span


def duplicate_stage_name(analysis: Analysis) -> Iterator[Hit]:
    seen: set[str] = set()
    for stage in analysis.stages:
        if stage.name:
            if stage.name in seen:
                yield f"Duplicate stage name {go_quote(stage.name)}, stage names should be unique", stage.from_.span
            seen.add(stage.name)


def reserved_stage_name(analysis: Analysis) -> Iterator[Hit]:
    for stage in analysis.stages:
        if stage.name in RESERVED_STAGE_NAMES:
            yield f"Stage name should not use the same name as reserved stage {go_quote(stage.name)}", stage.from_.span


def maintainer_deprecated(analysis: Analysis) -> Iterator[Hit]:
    for stage in analysis.stages:
        for instruction in stage.commands:
            if instruction.keyword == "maintainer":
                yield "Maintainer instruction is deprecated in favor of using label", instruction.span


def invalid_definition_description(analysis: Analysis) -> Iterator[Hit]:
    by_line = {node.span.line: node for node in analysis.document.nodes}
    definitions = [*analysis.global_args]
    for stage in analysis.stages:
        definitions.append(stage.from_)
        definitions.extend(i for i in stage.commands if isinstance(i, Arg))
    for instruction in sorted(definitions, key=lambda i: i.span.line):
        node = by_line.get(instruction.span.line)
        if node is None or not node.prev_comment:
            continue
        if isinstance(instruction, From):
            if not instruction.alias:
                continue
            keys, what = [instruction.alias], "FROM"
        else:
            assert isinstance(instruction, Arg)
            keys, what = [a.key for a in instruction.args], "ARG"
        if node.prev_comment[-1].split(" ")[0] in keys:
            continue
        example = keys[0] if len(keys) == 1 else "<arg_key>"
        yield f"Comment for {what} should follow the format: `# {example} <description>`", instruction.span


def undefined_arg_in_from(analysis: Analysis) -> Iterator[Hit]:
    for facts in analysis.froms:
        for undefined in facts.undefined:
            message = f"FROM argument '{undefined.name}' is not declared"
            if undefined.suggestion:
                message += f" (did you mean {undefined.suggestion}?)"
            yield message, facts.stage.from_.span


def invalid_default_arg_in_from(analysis: Analysis) -> Iterator[Hit]:
    for facts in analysis.froms:
        base = facts.stage.from_.base
        # Only ARG-made names are this rule's business; oci-layout:// is pybuildkit's own source.
        if facts.default_base is None or "$" not in base or facts.default_base.startswith("oci-layout://"):
            continue
        try:
            parse_reference(facts.default_base)
        except ImageError:
            yield f"Default value for ARG {base} results in empty or invalid base image name", facts.stage.from_.span


def redundant_target_platform(analysis: Analysis) -> Iterator[Hit]:
    for facts in analysis.froms:
        result = facts.platform
        if result is None or result.matched != {"TARGETPLATFORM"} or result.unmatched:
            continue
        if result.value == facts.target_platform:
            written = facts.stage.from_.platform
            yield (
                f"Setting platform to predefined {written} in FROM is redundant as this is the default behavior",
                facts.stage.from_.span,
            )


def from_platform_flag_const_disallowed(analysis: Analysis) -> Iterator[Hit]:
    for facts in analysis.froms:
        result = facts.platform
        if result is None or result.matched or result.unmatched:
            continue
        platform = parse_platform(result.value)
        if platform is None:
            continue
        name = facts.stage.name or ""
        if platform.os in name or platform.architecture in name:
            continue
        yield f"FROM --platform flag should not use constant value {go_quote(result.value)}", facts.stage.from_.span


def invalid_base_image_platform(analysis: Analysis) -> Iterator[Hit]:
    for facts in analysis.froms:
        image = facts.base_image
        if image is None or not image.platform:
            continue
        wanted_text = facts.platform.value if facts.platform is not None else facts.target_platform
        wanted, actual = parse_platform(wanted_text), parse_platform(image.platform)
        if wanted is None or actual is None:
            continue
        if (wanted.os, wanted.architecture) != (actual.os, actual.architecture):
            base = facts.base.value if facts.base is not None else facts.stage.from_.base
            yield (
                f"Base image {base} was pulled with platform {go_quote(str(actual))}, "
                f"expected {go_quote(str(wanted))} for current build",
                facts.stage.from_.span,
            )
