"""Typed, frozen Dockerfile instructions: the contract between the parser and the planner.

Each class mirrors the meaning of one Dockerfile instruction after its flags and arguments have
been validated (BuildKit's `instructions` package rules). Values stay *unexpanded* here: variable
substitution needs the ARG/ENV scope, which is the planner's business. Every instruction carries the
span of its source so later errors can point at the line.
"""

from __future__ import annotations

import posixpath

import attrs

from pybuildkit.errors import Span

__all__ = [
    "KeyValue",
    "ArgDef",
    "InlineFile",
    "Mount",
    "Device",
    "Healthcheck",
    "Instruction",
    "From",
    "Run",
    "Cmd",
    "Entrypoint",
    "Label",
    "Maintainer",
    "Expose",
    "Env",
    "Add",
    "Copy",
    "Volume",
    "User",
    "Workdir",
    "Arg",
    "Onbuild",
    "Stopsignal",
    "HealthcheckInstr",
    "Shell",
    "Stage",
    "Dockerfile",
]


@attrs.frozen
class KeyValue:
    """A `key=value` pair of ENV or LABEL (unexpanded)."""

    key: str
    value: str
    legacy_form: bool = False  # written `ENV key value` (no `=`): BuildKit's LegacyKeyValueFormat lint


@attrs.frozen
class ArgDef:
    """One name of an ARG, with its optional default and the doc comment above it."""

    key: str
    value: str | None = None
    doc_comment: str = ""


@attrs.frozen
class InlineFile:
    """A heredoc used as a file: a COPY/ADD source or a RUN script.

    For COPY/ADD `data` is already tab-stripped when the marker was `<<-`; for RUN it is the raw
    body and `chomp` tells the planner to strip it (BuildKit does the same split).
    `file_descriptor` is the `3` of `3<<EOF` (0 when absent).
    """

    name: str
    data: str
    expand: bool = True
    chomp: bool = False
    file_descriptor: int = 0


@attrs.frozen
class Mount:
    """One `RUN --mount=...`, validated. Only the fields of its type are meaningful.

    `type` is bind, cache, tmpfs, secret or ssh. `source`/`from_` name what is mounted (a path in the
    context, a stage or an image); `id` names a cache, secret or ssh socket.
    """

    type: str
    target: str | None = None
    source: str | None = None
    from_: str | None = None
    readonly: bool = False
    id: str | None = None
    sharing: str = "shared"
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    size: int | None = None
    required: bool = False
    env: str | None = None
    spec: str = ""  # the raw `--mount` value, for re-parsing once variables are expanded

    @property
    def needs_expansion(self) -> bool:
        """True when some value holds a variable: re-parse `spec` with an expander before use."""
        return "$" in self.spec

    @property
    def effective_id(self) -> str | None:
        """The id BuildKit uses when none is given: cache -> target, secret -> source or basename of
        target, ssh -> "default"."""
        if self.type == "cache":
            return self.id or (posixpath.normpath(self.target) if self.target else None)
        if self.type == "secret":
            return self.source or self.id or (_go_base(self.target) if self.target else None)
        if self.type == "ssh":
            return self.id or "default"
        return self.id

    @property
    def effective_target(self) -> str | None:
        """Where the mount appears; a secret not exposed as env defaults to /run/secrets/<id>.

        An ssh socket without a target gets `/run/buildkit/ssh_agent.<n>` from the planner, which
        knows `n`; None is returned for it here.
        """
        if self.type == "secret" and not self.target and self.env is None:
            secret_id = self.effective_id
            return "/run/secrets/" + _go_base(secret_id) if secret_id else None
        return self.target


def _go_base(path: str) -> str:
    """Go's path.Base: last element, trailing slashes ignored; "/" for all slashes, "." for ""."""
    if not path:
        return "."
    stripped = path.rstrip("/")
    if not stripped:
        return "/"
    return stripped.rsplit("/", 1)[-1]


@attrs.frozen
class Device:
    """One `RUN --device=name[,required[=bool]]`."""

    name: str
    required: bool = False


@attrs.frozen
class Healthcheck:
    """HEALTHCHECK's value in image-config terms (`test` is `["NONE"]`, `["CMD", ...]` or `["CMD-SHELL", cmd]`).

    Durations are nanoseconds, as in the OCI/Docker image config; 0 means "inherit the default".
    """

    test: tuple[str, ...]
    interval: int = 0
    timeout: int = 0
    start_period: int = 0
    start_interval: int = 0
    retries: int = 0


@attrs.frozen(kw_only=True)
class Instruction:
    """Common fields: where it came from, the original text, and the flags the user gave."""

    span: Span
    original: str = ""
    flags_used: tuple[str, ...] = ()

    @property
    def keyword(self) -> str:
        return type(self).__name__.lower()


@attrs.frozen(kw_only=True)
class From(Instruction):
    base: str
    alias: str | None = None
    platform: str | None = None


@attrs.frozen(kw_only=True)
class _CommandLine(Instruction):
    """A command in exec form (`json=True`: argv as given) or shell form (one string to the SHELL)."""

    cmd: tuple[str, ...]
    json: bool = False
    files: tuple[InlineFile, ...] = ()

    @property
    def prepend_shell(self) -> bool:
        return not self.json


@attrs.frozen(kw_only=True)
class Run(_CommandLine):
    """RUN. `network`/`security` are None when the flag was not given (BuildKit's defaults then
    apply: "default" and "sandbox"); `mounts` are validated, see :func:`pybuildkit.model.parse_mount`."""

    mounts: tuple[Mount, ...] = ()
    network: str | None = None
    security: str | None = None
    devices: tuple[Device, ...] = ()


@attrs.frozen(kw_only=True)
class Cmd(_CommandLine):
    pass


@attrs.frozen(kw_only=True)
class Entrypoint(_CommandLine):
    pass


@attrs.frozen(kw_only=True)
class Label(Instruction):
    labels: tuple[KeyValue, ...]


@attrs.frozen(kw_only=True)
class Maintainer(Instruction):
    maintainer: str


@attrs.frozen(kw_only=True)
class Expose(Instruction):
    ports: tuple[str, ...]


@attrs.frozen(kw_only=True)
class Env(Instruction):
    env: tuple[KeyValue, ...]


@attrs.frozen(kw_only=True)
class _SourcesAndDest(Instruction):
    """COPY/ADD operands: source paths (unexpanded), inline heredoc sources, and the destination."""

    sources: tuple[str, ...]
    dest: str
    contents: tuple[InlineFile, ...] = ()
    chown: str | None = None
    chmod: str | None = None
    link: bool = False
    excludes: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class Add(_SourcesAndDest):
    """ADD. `unpack` is None unless `--unpack` was given (archives from the context unpack by default)."""

    keep_git_dir: bool = False
    checksum: str | None = None
    unpack: bool | None = None


@attrs.frozen(kw_only=True)
class Copy(_SourcesAndDest):
    from_: str | None = None
    parents: bool = False


@attrs.frozen(kw_only=True)
class Volume(Instruction):
    volumes: tuple[str, ...]


@attrs.frozen(kw_only=True)
class User(Instruction):
    user: str


@attrs.frozen(kw_only=True)
class Workdir(Instruction):
    path: str


@attrs.frozen(kw_only=True)
class Arg(Instruction):
    args: tuple[ArgDef, ...]


@attrs.frozen(kw_only=True)
class Onbuild(Instruction):
    """ONBUILD keeps its trigger as text: it runs only when a later build uses this image as base.

    `trigger` is the trigger's keyword, upper-cased (`RUN`), for display and lint rules.
    """

    expression: str
    trigger: str = ""


@attrs.frozen(kw_only=True)
class Stopsignal(Instruction):
    signal: str


@attrs.frozen(kw_only=True)
class HealthcheckInstr(Instruction):
    health: Healthcheck

    @property
    def keyword(self) -> str:
        return "healthcheck"


@attrs.frozen(kw_only=True)
class Shell(Instruction):
    shell: tuple[str, ...]


@attrs.frozen
class Stage:
    """A FROM and the instructions up to the next FROM.

    `name` is the lower-cased alias (stage names are case-insensitive) or None; `index` is the
    position among stages; `doc_comment` is the comment above the FROM naming the stage.
    """

    index: int
    from_: From
    commands: tuple[Instruction, ...] = ()
    name: str | None = None
    doc_comment: str = ""


@attrs.frozen
class Dockerfile:
    """A whole file in typed form: ARGs before the first FROM (visible only to FROM lines) and stages."""

    global_args: tuple[Arg, ...]
    stages: tuple[Stage, ...]
    path: str = "Dockerfile"
    source: str = ""
    escape: str = "\\"
    check_directive: str | None = None
