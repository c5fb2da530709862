"""What `pybuild run` was asked for, and Docker's rules for turning it into one process (pure).

Kept free of I/O so every override rule (entrypoint/cmd, env, working dir, user) and every flag
syntax (`-v`, `--memory`, `--cpus`, `--env-file` lines, signals) is tested as a table.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Iterable, Mapping
from typing import Literal

import attrs

from pybuildkit.errors import UsageError

__all__ = [
    "CPU_PERIOD",
    "VolumeSpec",
    "Limits",
    "Process",
    "parse_env_arg",
    "parse_env_file",
    "merge_env",
    "parse_volume",
    "parse_memory",
    "parse_cpus",
    "parse_signal",
    "resolve_process",
    "valid_name",
]

#: CFS period Docker uses for --cpus (100 ms): quota = cpus * period.
CPU_PERIOD = 100_000

_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def valid_name(name: str) -> bool:
    """Docker's rule for container and volume names: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`."""
    return bool(_NAME.match(name))


@attrs.frozen
class VolumeSpec:
    """One `-v`/`--tmpfs`/image VOLUME: a host dir bound in, a named or anonymous volume, a tmpfs.

    `source` is the host path (bind) or the volume name (volume; None until an anonymous volume
    is created).
    """

    kind: Literal["bind", "volume", "tmpfs"]
    target: str
    source: str | None = None
    readonly: bool = False
    anonymous: bool = False


@attrs.frozen
class Limits:
    """Resource limits for a container's cgroup; None means unlimited."""

    memory: int | None = None
    cpu_quota: int | None = None
    cpu_period: int = CPU_PERIOD
    pids: int | None = None

    def empty(self) -> bool:
        return self.memory is None and self.cpu_quota is None and self.pids is None


@attrs.frozen
class Process:
    """The process a container runs: Docker's merge of image config and command line."""

    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    env: tuple[str, ...]
    cwd: str
    user: str

    @property
    def argv(self) -> tuple[str, ...]:
        return self.entrypoint + self.cmd


def parse_env_arg(item: str, environ: Mapping[str, str]) -> tuple[str, ...]:
    """`-e K=V` as is; `-e K` takes K from the caller's environment (nothing if unset), as Docker."""
    key, sep, _ = item.partition("=")
    if not key or key != key.strip() or any(c.isspace() for c in key):
        raise UsageError(f"invalid environment variable: {item!r}")
    if sep:
        return (item,)
    return (f"{key}={environ[key]}",) if key in environ else ()


def parse_env_file(text: str, environ: Mapping[str, str], *, path: str = "env file") -> tuple[str, ...]:
    """An `--env-file`: one `K=V` (or bare `K`) per line; blank lines and `#` comments skipped.

    Values are taken verbatim (no quotes removed, trailing spaces kept), like Docker.
    """
    out: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.lstrip()
        if not line or line.startswith("#"):
            continue
        key = line.partition("=")[0]
        if any(c.isspace() for c in key):
            raise UsageError(f"{path}:{number}: variable {key!r} contains whitespaces")
        out.extend(parse_env_arg(line, environ))
    return tuple(out)


def merge_env(*groups: Iterable[str]) -> tuple[str, ...]:
    """Later `K=V` items replace earlier ones with the same key, keeping the first position."""
    merged: dict[str, str] = {}
    for group in groups:
        for item in group:
            key, _, value = item.partition("=")
            merged[key] = value
    return tuple(f"{k}={v}" for k, v in merged.items())


def _check_target(target: str, spec: str) -> str:
    if not target.startswith("/"):
        raise UsageError(f"invalid volume specification {spec!r}: the container path must be absolute")
    if target.rstrip("/") == "":
        raise UsageError(f"invalid volume specification {spec!r}: cannot mount over /")
    return target.rstrip("/")


def parse_volume(spec: str) -> VolumeSpec:
    """`-v HOST:CTR[:ro|rw]` (HOST absolute), `-v NAME:CTR[:ro|rw]`, or `-v CTR` (anonymous)."""
    parts = spec.split(":")
    readonly = False
    if len(parts) == 3:
        mode = parts.pop()
        if mode not in ("ro", "rw"):
            raise UsageError(f"invalid volume specification {spec!r}: unknown mode {mode!r} (ro or rw)")
        readonly = mode == "ro"
    if len(parts) == 1:
        return VolumeSpec("volume", _check_target(parts[0], spec), None, readonly, anonymous=True)
    if len(parts) != 2 or not parts[0]:
        raise UsageError(f"invalid volume specification {spec!r}")
    source, target = parts
    target = _check_target(target, spec)
    if source.startswith("/"):
        return VolumeSpec("bind", target, source, readonly)
    if source.startswith(".") or "/" in source:
        raise UsageError(
            f"invalid volume specification {spec!r}: a host path must be absolute",
            hint="use $PWD/... for a path relative to the current directory",
        )
    if not valid_name(source):
        raise UsageError(f"invalid volume name {source!r}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
    return VolumeSpec("volume", target, source, readonly)


def parse_memory(text: str) -> int:
    """`512m`, `1g`, `1048576` (bytes) -> bytes, 1024-based like Docker; at least 6 MiB."""
    match = _MEMORY.match(text)
    if not match:
        raise UsageError(f"invalid memory size {text!r}", hint="use a number with an optional unit b, k, m or g")
    value = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    if value < 6 << 20:
        raise UsageError(f"minimum memory limit allowed is 6MB (got {text!r})")
    return value


def parse_cpus(text: str) -> int:
    """`--cpus 1.5` -> CFS quota in microseconds per `CPU_PERIOD`."""
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"invalid value for --cpus: {text!r}") from None
    if not value > 0 or value != value or value > 1024:
        raise UsageError(f"invalid value for --cpus: {text!r} (must be a positive number)")
    return max(1000, round(value * CPU_PERIOD))


def parse_signal(text: str) -> int:
    """`SIGTERM`, `TERM`, `term` or `15` -> 15 (Docker's STOPSIGNAL / `kill -s` spellings)."""
    value = text.strip()
    if value.isdigit():
        number = int(value)
        if 0 < number < signal.NSIG:
            return number
        raise UsageError(f"invalid signal: {text!r}")
    name = value.upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    try:
        return int(signal.Signals[name])
    except KeyError:
        raise UsageError(f"invalid signal: {text!r}") from None


def resolve_process(
    *,
    image_entrypoint: tuple[str, ...] | None,
    image_cmd: tuple[str, ...] | None,
    image_env: Iterable[str],
    image_workdir: str,
    image_user: str,
    command: tuple[str, ...] = (),
    entrypoint: str | None = None,
    env: Iterable[str] = (),
    workdir: str | None = None,
    user: str | None = None,
) -> Process:
    """Docker's override rules.

    CMD args replace the image's Cmd; `--entrypoint` replaces Entrypoint *and* clears the image's
    Cmd (an empty `--entrypoint ""` leaves just the command); env is the image's Env then `-e`;
    WorkingDir and User come from the image unless `-w`/`-u` are given.
    """
    if entrypoint is not None:
        head: tuple[str, ...] = (entrypoint,) if entrypoint else ()
        tail = tuple(command)
    else:
        head = tuple(image_entrypoint or ())
        tail = tuple(command) if command else tuple(image_cmd or ())
    if not head + tail:
        raise UsageError("no command specified", hint="the image has no CMD or ENTRYPOINT: give a command after the image")
    cwd = workdir if workdir else (image_workdir or "/")
    if not cwd.startswith("/"):
        raise UsageError(f"the working directory {cwd!r} is invalid, it needs to be an absolute path")
    return Process(entrypoint=head, cmd=tail, env=merge_env(image_env, env), cwd=cwd, user=user if user is not None else image_user)
