"""The closed set of build operations the planner lowers a Dockerfile into.

Four kinds are enough for every instruction: a `SourceOp` names a filesystem that comes from
outside the stage (an image, scratch, the build context, another stage's result); an `ExecOp` runs
a command on its parent's filesystem (RUN); a `FileOp` changes files without a container (COPY,
ADD, WORKDIR's mkdir); a `ConfigOp` only changes the image config (ENV, CMD, LABEL...). Keeping the
set closed is what lets the executor, the cache and the progress printer be exhaustive.

Every op knows its inputs by op id, carries the image config as it stands after the op (so the
executor never re-derives config semantics), its history text as BuildKit writes it, and the build
args it used. `key_fields()` is the op's meaning as JSON: what a cache key may hash. Positions,
op ids, history text and display names are left out of it on purpose (inputs appear as `context` or
`input<N>`, N being the position in `op.inputs`), so moving a line invalidates nothing.
"""

from __future__ import annotations

from typing import Any, Literal, Union

import attrs

from pybuildkit.errors import Span
from pybuildkit.model.instructions import Device
from pybuildkit.oci.config import History, Image
from pybuildkit.oci.frozenmap import FrozenMap, freeze_map

__all__ = [
    "HISTORY_COMMENT",
    "CONTEXT_ID",
    "SourceKind",
    "SourceOp",
    "ExecMount",
    "ExecFile",
    "ExecOp",
    "CopySource",
    "FileOp",
    "ConfigOp",
    "Op",
    "input_label",
]

#: The `comment` BuildKit writes on every history entry of a Dockerfile build.
HISTORY_COMMENT = "buildkit.dockerfile.v0"

#: Op id of the build context; every plan has exactly one context source under this id.
CONTEXT_ID = "context"

SourceKind = Literal["scratch", "image", "context", "stage"]


def input_label(inputs: tuple[str, ...], op_id: str | None) -> str | None:
    """How `key_fields` names an input: `context`, or `input<N>` by position in `inputs`.

    Op ids are positional (`1:4`) and shift when a line is inserted above; a cache key must not
    see them, only which input slot is meant (the executor hashes that slot's cache key).
    """
    if op_id is None or op_id == CONTEXT_ID:
        return op_id
    return f"input{inputs.index(op_id)}"


@attrs.frozen(kw_only=True)
class _OpBase:
    """Fields every op has. `config` is the image as it stands after this op.

    `stage` is the stage's display name; `display` the step's progress name as BuildKit shows it
    (the instruction text, keyword upper-cased, known variables expanded: `RUN make $TARGET`).
    """

    id: str
    config: Image
    span: Span | None = None
    created_by: str = ""
    empty_layer: bool = True
    build_args: FrozenMap[str, str] = attrs.field(factory=FrozenMap, converter=freeze_map)
    stage: str = ""
    display: str = ""

    @property
    def has_history(self) -> bool:
        """ONBUILD and source ops write no history entry; every other step writes one."""
        return bool(self.created_by)

    def history(self, created: str | None = None) -> History:
        """The image-history entry of this op, as BuildKit writes it."""
        return History(created=created, created_by=self.created_by, comment=HISTORY_COMMENT, empty_layer=self.empty_layer)


@attrs.frozen(kw_only=True)
class SourceOp(_OpBase):
    """A filesystem from outside the stage.

    `kind` is `scratch`, `image` (`ref` as written after ARG expansion: a registry name, a store
    image, or an `oci-layout://` reference), `context` (the build context) or `stage` (`inputs[0]` is
    that stage's result op). `platform` is the platform the image must be resolved for.
    """

    kind: SourceKind
    ref: str | None = None
    platform: str = "linux/amd64"
    inputs: tuple[str, ...] = ()

    def key_fields(self) -> dict[str, Any]:
        return {"op": "source", "kind": self.kind, "ref": self.ref, "platform": self.platform}


@attrs.frozen
class ExecMount:
    """One RUN mount after expansion: `input` is the op id it mounts (None for tmpfs/secret/ssh).

    For `bind`/`cache` without `from`, `input` is the context (bind) or None (a cache starting
    empty, as BuildKit's scratch). `target` is absolute. `id` is the cache/secret/ssh id after
    BuildKit's defaults (cache: the target; secret: source or target's basename; ssh: `default`).
    """

    type: str
    target: str
    input: str | None = None
    source: str = "/"
    readonly: bool = False
    id: str | None = None
    sharing: str = "shared"
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    size: int | None = None
    required: bool = False
    env: str | None = None

    def key_fields(self, inputs: tuple[str, ...] = ()) -> dict[str, Any]:
        fields = attrs.asdict(self)
        fields["input"] = input_label(inputs, self.input) if inputs else self.input
        return fields


@attrs.frozen
class ExecFile:
    """A file the executor must provide read-only at `path` for the command (a heredoc script)."""

    path: str
    data: str
    mode: int = 0o755


@attrs.frozen(kw_only=True)
class ExecOp(_OpBase):
    """RUN: `argv` already has the SHELL applied for shell form; `env` is `KEY=value` in order.

    `env` is the image ENV plus the ARGs in scope (BuildKit puts every ARG in scope into the RUN
    environment, so a changed ARG value changes the step). `proxy_env` holds proxy values given as
    --build-arg without an ARG declaration: they reach the process but, as in BuildKit, neither the
    history nor the cache key. `cwd` is absolute; `user` is as written (resolved by the executor).
    `devices` are the `--device` requests (name and whether a missing device is an error).
    """

    parent: str
    argv: tuple[str, ...]
    env: tuple[str, ...] = ()
    proxy_env: FrozenMap[str, str] = attrs.field(factory=FrozenMap, converter=freeze_map)
    user: str = ""
    cwd: str = "/"
    mounts: tuple[ExecMount, ...] = ()
    files: tuple[ExecFile, ...] = ()
    network: str = "default"
    security: str = "sandbox"
    devices: tuple[Device, ...] = ()
    empty_layer: bool = False

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.parent, *(m.input for m in self.mounts if m.input is not None))

    def key_fields(self) -> dict[str, Any]:
        return {
            "op": "exec",
            "argv": list(self.argv),
            "env": list(self.env),
            "user": self.user,
            "cwd": self.cwd,
            "mounts": [m.key_fields(self.inputs) for m in self.mounts],
            "files": [attrs.asdict(f) for f in self.files],
            "network": self.network,
            "security": self.security,
            "devices": [[d.name, d.required] for d in self.devices],
        }


@attrs.frozen
class CopySource:
    """One source of COPY/ADD.

    `kind` is `path` (a pattern relative to `input`'s root: the context, a stage or an image),
    `url` (ADD of an http(s) URL: `path` is the URL), `git` (ADD of a git URL) or `inline` (a
    heredoc: `path` is its name, `data` its content after expansion).
    """

    kind: Literal["path", "url", "git", "inline"]
    path: str
    input: str | None = None
    data: str | None = None

    def key_fields(self, inputs: tuple[str, ...] = ()) -> dict[str, Any]:
        fields = attrs.asdict(self)
        fields["input"] = input_label(inputs, self.input) if inputs else self.input
        return fields


@attrs.frozen(kw_only=True)
class FileOp(_OpBase):
    """COPY/ADD (`action` copy/add) or WORKDIR's directory creation (`action` mkdir).

    `dest` is absolute, resolved against WORKDIR, and keeps a trailing `/` (or `/.`) when written
    with one, because "copy into a directory" depends on it. For mkdir, `dest` is the directory,
    created with parents, mode 0755, owned by `chown` (the USER at that point, as BuildKit does).
    """

    parent: str
    action: Literal["copy", "add", "mkdir"]
    dest: str
    sources: tuple[CopySource, ...] = ()
    chown: str | None = None
    chmod: str | None = None
    link: bool = False
    parents: bool = False
    excludes: tuple[str, ...] = ()
    checksum: str | None = None
    unpack: bool | None = None
    keep_git_dir: bool = False
    empty_layer: bool = False

    @property
    def inputs(self) -> tuple[str, ...]:
        seen: list[str] = [self.parent]
        for src in self.sources:
            if src.input is not None and src.input not in seen:
                seen.append(src.input)
        return tuple(seen)

    def key_fields(self) -> dict[str, Any]:
        return {
            "op": "file",
            "action": self.action,
            "dest": self.dest,
            "sources": [s.key_fields(self.inputs) for s in self.sources],
            "chown": self.chown,
            "chmod": self.chmod,
            "link": self.link,
            "parents": self.parents,
            "excludes": list(self.excludes),
            "checksum": self.checksum,
            "unpack": self.unpack,
            "keep_git_dir": self.keep_git_dir,
        }


@attrs.frozen(kw_only=True)
class ConfigOp(_OpBase):
    """An instruction that only changes the image config (`instruction` is its lower-case keyword).

    No layer is made; the filesystem is the parent's. `key_fields` is the config it produces, so a
    cache can still tell an ENV change apart if it wants to key config-only steps.
    """

    parent: str
    instruction: str

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.parent,)

    def key_fields(self) -> dict[str, Any]:
        return {"op": "config", "instruction": self.instruction, "config": self.config.config.to_json()}


Op = Union[SourceOp, ExecOp, FileOp, ConfigOp]
