"""The image config blob: runtime config, root filesystem diff_ids and history.

Field names on the wire are Docker's (`Env`, `Cmd`, `WorkingDir`...; `rootfs.diff_ids`,
`history[].empty_layer`) because BuildKit, Docker and the OCI spec all write them so. Empty fields
are omitted as Go's `omitempty` does, except `config` and `rootfs`, which BuildKit always writes.
Fields this module does not model (Docker's legacy `container_config`, `Hostname`...) are kept in
`extra` so an imported config survives a parse/serialise round trip.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from pybuildkit.errors import ImageError
from pybuildkit.oci.canonical import canonical_json
from pybuildkit.oci.descriptor import as_json_object
from pybuildkit.oci.digest import sha256_digest, validate_digest
from pybuildkit.oci.frozenmap import FrozenMap, freeze_map
from pybuildkit.oci.jsonfields import get_bool, get_int, get_list, get_obj, get_opt_str, get_str, get_str_list, get_str_map

__all__ = ["Healthcheck", "ImageConfig", "RootFS", "History", "Image"]


def _opt_tuple(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def _sorted_tuple(value: Any) -> tuple[str, ...]:
    return tuple(sorted(set(value or ())))


def _set_keys(obj: dict[str, Any], key: str, what: str) -> tuple[str, ...]:
    """Docker writes sets (ExposedPorts, Volumes) as objects with `{}` values."""
    value = get_obj(obj, key, what)
    return tuple(sorted(value)) if value else ()


@attrs.frozen
class Healthcheck:
    """HEALTHCHECK: durations are nanoseconds, as Docker's Go `time.Duration` serialises."""

    test: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    interval: int = 0
    timeout: int = 0
    start_period: int = 0
    start_interval: int = 0
    retries: int = 0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.test:
            out["Test"] = list(self.test)
        for key, value in (
            ("Interval", self.interval),
            ("Timeout", self.timeout),
            ("StartPeriod", self.start_period),
            ("StartInterval", self.start_interval),
            ("Retries", self.retries),
        ):
            if value:
                out[key] = value
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Healthcheck:
        what = "healthcheck"
        obj = as_json_object(data, what)
        return cls(
            test=get_str_list(obj, "Test", what) or (),
            interval=get_int(obj, "Interval", what, 0),
            timeout=get_int(obj, "Timeout", what, 0),
            start_period=get_int(obj, "StartPeriod", what, 0),
            start_interval=get_int(obj, "StartInterval", what, 0),
            retries=get_int(obj, "Retries", what, 0),
        )


_CONFIG_KEYS = frozenset(
    {
        "User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes", "WorkingDir", "Labels",
        "StopSignal", "ArgsEscaped", "Healthcheck", "OnBuild", "Shell",
    }
)  # fmt: skip


@attrs.frozen
class ImageConfig:
    """The runtime defaults of a container started from the image (the config blob's `config`).

    `cmd`, `entrypoint` and `shell` are None when unset, so "inherit" and "set to empty" stay
    distinguishable while a build evolves the value; both serialise as absent, as Docker does.
    """

    user: str = ""
    exposed_ports: tuple[str, ...] = attrs.field(default=(), converter=_sorted_tuple)
    env: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    entrypoint: tuple[str, ...] | None = attrs.field(default=None, converter=_opt_tuple)
    cmd: tuple[str, ...] | None = attrs.field(default=None, converter=_opt_tuple)
    volumes: tuple[str, ...] = attrs.field(default=(), converter=_sorted_tuple)
    working_dir: str = ""
    labels: FrozenMap[str, str] = attrs.field(factory=FrozenMap, converter=freeze_map)
    stop_signal: str = ""
    args_escaped: bool = False
    healthcheck: Healthcheck | None = None
    on_build: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    shell: tuple[str, ...] | None = attrs.field(default=None, converter=_opt_tuple)
    extra: FrozenMap[str, Any] = attrs.field(factory=FrozenMap, converter=freeze_map)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.extra)
        if self.user:
            out["User"] = self.user
        if self.exposed_ports:
            out["ExposedPorts"] = {port: {} for port in self.exposed_ports}
        if self.env:
            out["Env"] = list(self.env)
        if self.entrypoint:
            out["Entrypoint"] = list(self.entrypoint)
        if self.cmd:
            out["Cmd"] = list(self.cmd)
        if self.volumes:
            out["Volumes"] = {volume: {} for volume in self.volumes}
        if self.working_dir:
            out["WorkingDir"] = self.working_dir
        if self.labels:
            out["Labels"] = dict(self.labels)
        if self.stop_signal:
            out["StopSignal"] = self.stop_signal
        if self.args_escaped:
            out["ArgsEscaped"] = True
        if self.healthcheck is not None:
            out["Healthcheck"] = self.healthcheck.to_json()
        if self.on_build:
            out["OnBuild"] = list(self.on_build)
        if self.shell:
            out["Shell"] = list(self.shell)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | bytes | str) -> ImageConfig:
        what = "image config 'config'"
        obj = as_json_object(data, what)
        health = get_obj(obj, "Healthcheck", what)
        return cls(
            user=get_str(obj, "User", what, ""),
            exposed_ports=_set_keys(obj, "ExposedPorts", what),
            env=get_str_list(obj, "Env", what) or (),
            entrypoint=get_str_list(obj, "Entrypoint", what),
            cmd=get_str_list(obj, "Cmd", what),
            volumes=_set_keys(obj, "Volumes", what),
            working_dir=get_str(obj, "WorkingDir", what, ""),
            labels=get_str_map(obj, "Labels", what),
            stop_signal=get_str(obj, "StopSignal", what, ""),
            args_escaped=get_bool(obj, "ArgsEscaped", what),
            healthcheck=Healthcheck.from_json(health) if health is not None else None,
            on_build=get_str_list(obj, "OnBuild", what) or (),
            shell=get_str_list(obj, "Shell", what),
            extra={k: v for k, v in obj.items() if k not in _CONFIG_KEYS and v is not None},
        )


def _check_diff_ids(_: Any, __: Any, value: tuple[str, ...]) -> None:
    for diff_id in value:
        validate_digest(diff_id, what="diff_id")


@attrs.frozen
class RootFS:
    """The ordered uncompressed-layer digests (diff_ids) that make the image's filesystem."""

    diff_ids: tuple[str, ...] = attrs.field(default=(), converter=tuple, validator=_check_diff_ids)
    type: str = "layers"

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "diff_ids": list(self.diff_ids)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RootFS:
        what = "image config 'rootfs'"
        obj = as_json_object(data, what)
        diff_ids = get_str_list(obj, "diff_ids", what) or ()
        return cls(diff_ids=diff_ids, type=get_str(obj, "type", what, "layers"))


@attrs.frozen
class History:
    """One build step; `empty_layer` steps (ENV, CMD...) have no entry in `rootfs.diff_ids`."""

    created: str | None = None
    created_by: str = ""
    author: str = ""
    comment: str = ""
    empty_layer: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.created:
            out["created"] = self.created
        if self.created_by:
            out["created_by"] = self.created_by
        if self.author:
            out["author"] = self.author
        if self.comment:
            out["comment"] = self.comment
        if self.empty_layer:
            out["empty_layer"] = True
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> History:
        what = "image config 'history'"
        obj = as_json_object(data, what)
        return cls(
            created=get_opt_str(obj, "created", what),
            created_by=get_str(obj, "created_by", what, ""),
            author=get_str(obj, "author", what, ""),
            comment=get_str(obj, "comment", what, ""),
            empty_layer=get_bool(obj, "empty_layer", what),
        )


_IMAGE_KEYS = frozenset(
    {"architecture", "os", "variant", "os.version", "os.features", "created", "author", "config", "rootfs", "history"}
)


@attrs.frozen
class Image:
    """The config blob an image manifest points at; its digest is Docker's "image ID"."""

    architecture: str = "amd64"
    os: str = "linux"
    config: ImageConfig = attrs.field(factory=ImageConfig)
    rootfs: RootFS = attrs.field(factory=RootFS)
    history: tuple[History, ...] = attrs.field(default=(), converter=tuple)
    created: str | None = None
    author: str = ""
    variant: str | None = None
    os_version: str | None = None
    os_features: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    extra: FrozenMap[str, Any] = attrs.field(factory=FrozenMap, converter=freeze_map)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.extra)
        out["architecture"] = self.architecture
        out["os"] = self.os
        if self.variant:
            out["variant"] = self.variant
        if self.os_version:
            out["os.version"] = self.os_version
        if self.os_features:
            out["os.features"] = list(self.os_features)
        if self.created:
            out["created"] = self.created
        if self.author:
            out["author"] = self.author
        out["config"] = self.config.to_json()
        out["rootfs"] = self.rootfs.to_json()
        if self.history:
            out["history"] = [h.to_json() for h in self.history]
        return out

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_json())

    def digest(self) -> str:
        return sha256_digest(self.to_bytes())

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | bytes | str) -> Image:
        what = "image config"
        obj = as_json_object(data, what)
        config = get_obj(obj, "config", what)
        rootfs = get_obj(obj, "rootfs", what)
        history = []
        for item in get_list(obj, "history", what):
            if not isinstance(item, dict):
                raise ImageError(f"{what}: every history entry must be an object")
            history.append(History.from_json(item))
        return cls(
            architecture=get_str(obj, "architecture", what, ""),
            os=get_str(obj, "os", what, ""),
            config=ImageConfig.from_json(config) if config is not None else ImageConfig(),
            rootfs=RootFS.from_json(rootfs) if rootfs is not None else RootFS(),
            history=history,
            created=get_opt_str(obj, "created", what),
            author=get_str(obj, "author", what, ""),
            variant=get_opt_str(obj, "variant", what),
            os_version=get_opt_str(obj, "os.version", what),
            os_features=get_str_list(obj, "os.features", what) or (),
            extra={k: v for k, v in obj.items() if k not in _IMAGE_KEYS and v is not None},
        )

    def with_layer(self, diff_id: str, history: History) -> Image:
        """This image plus one layer on top, with its history entry."""
        return attrs.evolve(
            self,
            rootfs=attrs.evolve(self.rootfs, diff_ids=(*self.rootfs.diff_ids, validate_digest(diff_id, what="diff_id"))),
            history=(*self.history, attrs.evolve(history, empty_layer=False)),
        )

    def with_history(self, history: History) -> Image:
        """This image plus a config-only step (`empty_layer`)."""
        return attrs.evolve(self, history=(*self.history, attrs.evolve(history, empty_layer=True)))
