"""One AST node to one typed instruction: arity, flags, heredocs and per-instruction rules.

This is BuildKit's ``instructions.ParseInstruction`` in Python. Each keyword has one small
function; flags come from the declarative :data:`~pybuildkit.model.flags.FLAG_TABLE`. Values stay
unexpanded (variable substitution needs the ARG/ENV scope: the planner's job), but everything that
can be checked without the scope is checked here, so a mistake is reported at its line before any
build work starts. Every error leaving :func:`from_node` carries the node's span.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence

from pybuildkit.errors import DockerfileError, ParseError, PlanError
from pybuildkit.model.chmod import validate_chmod
from pybuildkit.model.devices import parse_device
from pybuildkit.model.durations import MINIMUM_HEALTHCHECK_DURATION, DurationError, parse_go_duration
from pybuildkit.model.flags import ParsedFlags, flags_for, parse_flags
from pybuildkit.model.heredocs import chomp_heredoc_content, heredoc_marker
from pybuildkit.model.instructions import (
    Add,
    Arg,
    ArgDef,
    Cmd,
    Copy,
    Entrypoint,
    Env,
    Expose,
    From,
    Healthcheck,
    HealthcheckInstr,
    InlineFile,
    Instruction,
    KeyValue,
    Label,
    Maintainer,
    Onbuild,
    Run,
    Shell,
    Stopsignal,
    User,
    Volume,
    Workdir,
)
from pybuildkit.model.mounts import parse_mount
from pybuildkit.model.ports import parse_port
from pybuildkit.model.values import go_quote, has_variable
from pybuildkit.syntax.ast import Heredoc, Node

__all__ = [
    "KEYWORDS",
    "NETWORK_MODES",
    "SECURITY_MODES",
    "STAGE_NAME",
    "from_node",
    "get_comment",
    "validate_stage_name",
]

NETWORK_MODES = ("default", "none", "host")
SECURITY_MODES = ("sandbox", "insecure")
#: BuildKit's stage-name rule, applied to the lower-cased name.
STAGE_NAME = re.compile(r"[a-z][a-z0-9_.-]*")
_ONBUILD_PREFIX = re.compile(r"^\s*ONBUILD\s*", re.IGNORECASE)


def _at_least_one(name: str) -> ParseError:
    return ParseError(f"{name} requires at least one argument")


def _exactly_one(name: str) -> ParseError:
    return ParseError(f"{name} requires exactly one argument")


def get_comment(comments: Sequence[str], name: str) -> str:
    """The doc comment of `name`: the first comment line starting with `name ` minus that prefix."""
    if not name:
        return ""
    prefix = name + " "
    for line in comments:
        if line.startswith(prefix):
            return line[len(prefix) :]
    return ""


def validate_stage_name(name: str) -> str:
    """Lower-case and check a stage name (`FROM x AS name`); PlanError if BuildKit would refuse it."""
    lowered = name.lower()
    if not STAGE_NAME.fullmatch(lowered):
        raise PlanError(
            f"invalid name for build stage: {go_quote(name)}, name can't start with a number or contain symbols"
        )
    return lowered


class _Request:
    """What every per-keyword parser needs: the node, its keyword and its flags parsed once."""

    def __init__(self, node: Node, keyword: str) -> None:
        self.node = node
        self.keyword = keyword
        self.name = keyword.upper()
        self.args: tuple[str, ...] = tuple(node.args)
        self.flags: ParsedFlags | None = None

    def parse_flags(self) -> ParsedFlags:
        self.flags = parse_flags(self.node.flags, flags_for(self.keyword), self.name)
        return self.flags

    def common(self) -> dict[str, object]:
        used = self.flags.used_sorted if self.flags is not None else ()
        return {"span": self.node.span, "original": self.node.original, "flags_used": used}


def _command_line(req: _Request) -> tuple[tuple[str, ...], bool]:
    """Exec form keeps the argv; shell form is one string (BuildKit joins stray words with spaces)."""
    if req.node.json:
        return req.args, True
    return ((" ".join(req.args),) if req.args else ()), False


def _kv_pairs(req: _Request) -> tuple[KeyValue, ...]:
    """ENV/LABEL operands: BuildKit's (key, value, separator) triples, or plain key/value pairs."""
    args = req.args
    if not args:
        raise _at_least_one(req.name)
    if len(args) % 3 == 0 and all(sep in ("", "=") for sep in args[2::3]):
        triples = [(args[i], args[i + 1], args[i + 2] == "") for i in range(0, len(args), 3)]
    elif len(args) % 2 == 0:
        triples = [(args[i], args[i + 1], False) for i in range(0, len(args), 2)]
    else:
        raise ParseError(f"Bad input to {req.name}, too many arguments")
    pairs = []
    for key, value, legacy in triples:
        if not key:
            raise ParseError(f"{req.name} names can not be blank")
        pairs.append(KeyValue(key=key, value=value, legacy_form=legacy))
    return tuple(pairs)


def _parse_env(req: _Request) -> Env:
    req.parse_flags()
    return Env(env=_kv_pairs(req), **req.common())


def _parse_label(req: _Request) -> Label:
    req.parse_flags()
    return Label(labels=_kv_pairs(req), **req.common())


def _parse_maintainer(req: _Request) -> Maintainer:
    if len(req.args) != 1:
        raise _exactly_one(req.name)
    req.parse_flags()
    return Maintainer(maintainer=req.args[0], **req.common())


def _single(req: _Request) -> str:
    if len(req.args) != 1:
        raise _exactly_one(req.name)
    req.parse_flags()
    return req.args[0]


def _parse_user(req: _Request) -> User:
    return User(user=_single(req), **req.common())


def _parse_workdir(req: _Request) -> Workdir:
    return Workdir(path=_single(req), **req.common())


def _parse_stopsignal(req: _Request) -> Stopsignal:
    return Stopsignal(signal=_single(req), **req.common())


def _heredoc_by_name(node: Node) -> dict[str, Heredoc]:
    return {heredoc.name: heredoc for heredoc in node.heredocs}


def _require_destination(req: _Request) -> None:
    if len(req.args) < 2:
        raise ParseError(
            f"{req.name} requires at least two arguments, but only one was provided. "
            "Destination could not be determined"
        )


def _sources_and_dest(req: _Request) -> dict[str, object]:
    *sources, dest = req.args
    if not req.node.json and heredoc_marker(dest) is not None:
        raise ParseError(f"{req.name} cannot accept a heredoc as a destination")
    lookup = _heredoc_by_name(req.node)
    unused = list(req.node.heredocs)
    paths: list[str] = []
    contents: list[InlineFile] = []
    for source in sources:
        marker = None if req.node.json else heredoc_marker(source)
        if marker is None:
            paths.append(source)
            continue
        heredoc = lookup.get(marker.name) or (unused[0] if unused else None)
        if heredoc is None:
            raise ParseError(f"{req.name}: no heredoc body found for {source}")
        if heredoc in unused:
            unused.remove(heredoc)
        data = chomp_heredoc_content(heredoc.content) if marker.chomp else heredoc.content
        contents.append(
            InlineFile(
                name=marker.name,
                data=data,
                expand=heredoc.expand,
                chomp=marker.chomp,
                file_descriptor=marker.file_descriptor,
            )
        )
    flags = req.flags
    assert flags is not None
    chmod = flags.string("chmod") or None
    if chmod is not None:
        validate_chmod(chmod)
    return {
        "sources": tuple(paths),
        "dest": dest,
        "contents": tuple(contents),
        "chown": flags.string("chown") or None,
        "chmod": chmod,
        "link": flags.bool("link"),
        "excludes": flags.strings("exclude"),
    }


def _parse_copy(req: _Request) -> Copy:
    _require_destination(req)
    flags = req.parse_flags()
    operands = _sources_and_dest(req)
    return Copy(from_=flags.string("from") or None, parents=flags.bool("parents"), **operands, **req.common())


def _parse_add(req: _Request) -> Add:
    _require_destination(req)
    flags = req.parse_flags()
    operands = _sources_and_dest(req)
    return Add(
        keep_git_dir=flags.bool("keep-git-dir"),
        checksum=flags.string("checksum") or None,
        unpack=flags.bool("unpack") if "unpack" in flags.used else None,
        **operands,
        **req.common(),
    )


def _parse_from(req: _Request) -> From:
    args = req.args
    alias: str | None = None
    if len(args) == 3 and args[1].casefold() == "as":
        alias = validate_stage_name(args[2])
    elif len(args) != 1:
        raise ParseError("FROM requires either one or three arguments", hint="FROM image [AS name]")
    flags = req.parse_flags()
    return From(base=args[0], alias=alias, platform=flags.string("platform") or None, **req.common())


def _parse_onbuild(req: _Request) -> Onbuild:
    child = req.node.child
    trigger = child.keyword if child is not None else (req.args[0] if req.args else "")
    if not trigger.strip():
        raise _at_least_one(req.name)
    req.parse_flags()
    trigger = trigger.strip().upper()
    if trigger == "ONBUILD":
        raise ParseError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
    if trigger in ("MAINTAINER", "FROM"):
        raise ParseError(f"{trigger} isn't allowed as an ONBUILD trigger")
    expression = _ONBUILD_PREFIX.sub("", req.node.original, count=1)
    if not expression and child is not None:
        expression = child.original
    heredocs = req.node.heredocs or (child.heredocs if child is not None else ())
    for heredoc in heredocs:
        expression += "\n" + heredoc.content + heredoc.name
    return Onbuild(expression=expression, trigger=trigger, **req.common())


def _run_files(node: Node) -> tuple[InlineFile, ...]:
    return tuple(
        InlineFile(
            name=heredoc.name,
            data=heredoc.content,
            expand=heredoc.expand,
            chomp=heredoc.chomp,
            file_descriptor=heredoc.file_descriptor,
        )
        for heredoc in node.heredocs
    )


def _parse_run(req: _Request) -> Run:
    flags = req.parse_flags()
    mounts = tuple(parse_mount(spec) for spec in flags.strings("mount"))
    network = flags.optional("network")
    if network is not None and network not in NETWORK_MODES:
        raise PlanError(f"invalid network mode {go_quote(network)}", hint="use one of: " + ", ".join(NETWORK_MODES))
    security = flags.optional("security")
    if security is not None and security not in SECURITY_MODES:
        raise PlanError(f"security {go_quote(security)} is not valid", hint="use sandbox or insecure")
    devices = tuple(parse_device(value) for value in flags.strings("device"))
    cmd, json_form = _command_line(req)
    return Run(
        cmd=cmd,
        json=json_form,
        files=_run_files(req.node),
        mounts=mounts,
        network=network,
        security=security,
        devices=devices,
        **req.common(),
    )


def _parse_cmd(req: _Request) -> Cmd:
    req.parse_flags()
    cmd, json_form = _command_line(req)
    return Cmd(cmd=cmd, json=json_form, files=_run_files(req.node), **req.common())


def _parse_entrypoint(req: _Request) -> Entrypoint:
    req.parse_flags()
    cmd, json_form = _command_line(req)
    return Entrypoint(cmd=cmd, json=json_form, files=_run_files(req.node), **req.common())


def _duration(flags: ParsedFlags, name: str) -> int:
    text = flags.string(name)
    if text == "":
        return 0
    try:
        value = parse_go_duration(text)
    except DurationError as exc:
        raise PlanError(f"--{name}={text}: {exc}", hint="use Go duration syntax, e.g. 30s, 1m30s, 500ms") from None
    if value != 0 and value < MINIMUM_HEALTHCHECK_DURATION:
        raise PlanError(f'Interval "{name}" cannot be less than 1ms (--{name}={text})')
    return value


def _parse_healthcheck(req: _Request) -> HealthcheckInstr:
    if not req.args:
        raise _at_least_one(req.name)
    kind = req.args[0].upper()
    rest = req.args[1:]
    flags = req.parse_flags()
    if kind == "NONE":
        if rest:
            raise ParseError("HEALTHCHECK NONE takes no arguments")
        return HealthcheckInstr(health=Healthcheck(test=("NONE",)), **req.common())
    if kind != "CMD":
        raise ParseError(f"Unknown type {go_quote(kind)} in HEALTHCHECK (try CMD)")
    if req.node.json:
        test = ("CMD", *rest)
    else:
        test = ("CMD-SHELL", " ".join(rest)) if rest else ("CMD-SHELL",)
    if len(test) == 1 or (not req.node.json and not test[1]):
        raise ParseError("Missing command after HEALTHCHECK CMD")
    retries_text = flags.string("retries")
    retries = 0
    if retries_text:
        if not re.fullmatch(r"[+-]?[0-9]+", retries_text) or not -(2**31) <= int(retries_text) < 2**31:
            raise PlanError(f"--retries={retries_text}: not a valid number")
        retries = int(retries_text)
        if retries < 0:
            raise PlanError(f"--retries cannot be negative ({retries})")
    health = Healthcheck(
        test=test,
        interval=_duration(flags, "interval"),
        timeout=_duration(flags, "timeout"),
        start_period=_duration(flags, "start-period"),
        start_interval=_duration(flags, "start-interval"),
        retries=retries,
    )
    return HealthcheckInstr(health=health, **req.common())


def _parse_expose(req: _Request) -> Expose:
    if not req.args:
        raise _at_least_one(req.name)
    req.parse_flags()
    for spec in req.args:
        if not has_variable(spec):
            parse_port(spec)
    return Expose(ports=tuple(sorted(req.args)), **req.common())


def _parse_volume(req: _Request) -> Volume:
    if not req.args:
        raise _at_least_one(req.name)
    req.parse_flags()
    volumes = tuple(volume.strip() for volume in req.args)
    if any(not volume for volume in volumes):
        raise ParseError("VOLUME specified can not be an empty string")
    return Volume(volumes=volumes, **req.common())


def _parse_arg(req: _Request) -> Arg:
    if not req.args:
        raise _at_least_one(req.name)
    req.parse_flags()
    defs = []
    for word in req.args:
        key, eq, value = word.partition("=")
        if eq and not key:
            raise ParseError("ARG names can not be blank")
        defs.append(
            ArgDef(key=key, value=value if eq else None, doc_comment=get_comment(req.node.prev_comment, key))
        )
    return Arg(args=tuple(defs), **req.common())


def _parse_shell(req: _Request) -> Shell:
    req.parse_flags()
    if not req.args:
        raise _at_least_one(req.name)
    if not req.node.json:
        raise ParseError("SHELL requires the arguments to be in JSON form", hint='SHELL ["/bin/sh", "-c"]')
    return Shell(shell=req.args, **req.common())


_PARSERS: dict[str, Callable[[_Request], Instruction]] = {
    "add": _parse_add,
    "arg": _parse_arg,
    "cmd": _parse_cmd,
    "copy": _parse_copy,
    "entrypoint": _parse_entrypoint,
    "env": _parse_env,
    "expose": _parse_expose,
    "from": _parse_from,
    "healthcheck": _parse_healthcheck,
    "label": _parse_label,
    "maintainer": _parse_maintainer,
    "onbuild": _parse_onbuild,
    "run": _parse_run,
    "shell": _parse_shell,
    "stopsignal": _parse_stopsignal,
    "user": _parse_user,
    "volume": _parse_volume,
    "workdir": _parse_workdir,
}

#: Every instruction keyword, upper-case, sorted.
KEYWORDS: tuple[str, ...] = tuple(sorted(name.upper() for name in _PARSERS))


def _written_keyword(node: Node) -> str:
    """The keyword as the user typed it (the AST keeps it lower-cased)."""
    first = node.original.strip().split(None, 1)
    if first and first[0].lower() == node.keyword.lower():
        return first[0]
    return node.keyword


def _unknown_instruction(node: Node) -> ParseError:
    written = _written_keyword(node)
    close = difflib.get_close_matches(written.upper(), KEYWORDS, n=1, cutoff=0.6)
    return ParseError(f"unknown instruction: {written}", hint=f"did you mean {close[0]}?" if close else None)


def from_node(node: Node) -> Instruction:
    """Turn one parsed instruction into its typed, validated form (raises DockerfileError with span)."""
    keyword = node.keyword.lower()
    try:
        parser = _PARSERS.get(keyword)
        if parser is None:
            raise _unknown_instruction(node)
        return parser(_Request(node, keyword))
    except DockerfileError as exc:
        raise exc.with_location(node.span) from None
