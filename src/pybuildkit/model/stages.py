"""A whole parsed Dockerfile to global ARGs and stages (BuildKit's ``instructions.Parse``).

Only ARG may precede the first FROM (those ARGs are visible to FROM lines only); every later
instruction belongs to the stage opened by the FROM above it. Stage names are case-insensitive,
so they are lower-cased and must be unique.
"""

from __future__ import annotations

from pybuildkit.errors import DockerfileError, ParseError, PlanError
from pybuildkit.model.instructions import Arg, Dockerfile, From, Instruction, Stage
from pybuildkit.model.parse import from_node, get_comment
from pybuildkit.syntax.ast import Document

__all__ = ["parse_dockerfile"]


def parse_dockerfile(document: Document) -> Dockerfile:
    """Type every instruction of `document` and group them into stages.

    Raises a DockerfileError located at the offending line (with the file text for the excerpt).
    """
    global_args: list[Arg] = []
    stages: list[Stage] = []
    commands: list[Instruction] = []
    first_line_of: dict[str, int] = {}

    def close_stage() -> None:
        if stages:
            stages[-1] = Stage(
                index=stages[-1].index,
                from_=stages[-1].from_,
                commands=tuple(commands),
                name=stages[-1].name,
                doc_comment=stages[-1].doc_comment,
            )

    for node in document.nodes:
        try:
            instruction = from_node(node)
            if isinstance(instruction, From):
                close_stage()
                commands = []
                name = instruction.alias
                if name is not None:
                    if name in first_line_of:
                        raise PlanError(
                            f"duplicate stage name {name!r}",
                            hint=f"the name is first used on line {first_line_of[name]}; stage names are case-insensitive",
                        )
                    first_line_of[name] = node.span.line
                stages.append(
                    Stage(
                        index=len(stages),
                        from_=instruction,
                        name=name,
                        doc_comment=get_comment(node.prev_comment, name or ""),
                    )
                )
            elif not stages:
                if not isinstance(instruction, Arg):
                    raise ParseError(
                        f"no build stage in current context: {node.keyword.upper()} comes before the first FROM",
                        hint="only ARG may appear before the first FROM",
                    )
                global_args.append(instruction)
            else:
                commands.append(instruction)
        except DockerfileError as exc:
            raise exc.with_location(node.span, document.source or None) from None
    close_stage()
    return Dockerfile(
        global_args=tuple(global_args),
        stages=tuple(stages),
        path=document.path,
        source=document.source,
        escape=document.directives.escape,
        check_directive=document.directives.check,
    )
