"""Container records on disk: `<store root>/containers/<id>/{config,state}.json` plus the log and
the container's own writable layer (`upper`, `work`, `merged`).

Plain JSON files, each replaced atomically (temp file in the same dir, fsync, rename), because
the writers are separate processes (the CLI, a detached monitor, `pybuild stop` from another
shell) and a reader must never see half a state. Creation takes a lock file so two `run --name x`
cannot both win the name.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import attrs

from pybuildkit.atomicfile import atomic_write_json
from pybuildkit.containers.options import Limits, VolumeSpec, valid_name
from pybuildkit.errors import StoreError, UsageError

__all__ = [
    "ContainerConfig",
    "ContainerState",
    "Container",
    "ContainerRecords",
    "new_id",
    "now_iso",
]

Status = Literal["created", "running", "exited"]


def new_id() -> str:
    """64 hex digits, like Docker's container ids."""
    return secrets.token_hex(32)


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@attrs.frozen
class ContainerConfig:
    """What a container is: fixed when it is created."""

    id: str
    name: str
    image: str  # as the user named it
    image_digest: str
    argv: tuple[str, ...] = attrs.field(converter=tuple)
    env: tuple[str, ...] = attrs.field(converter=tuple)
    entrypoint: tuple[str, ...] = attrs.field(default=(), converter=tuple)  # argv's two halves,
    cmd: tuple[str, ...] = attrs.field(default=(), converter=tuple)  # kept apart for commit
    cwd: str = "/"
    user: str = ""
    hostname: str = ""
    network: Literal["host", "none"] = "host"
    read_only: bool = False
    tty: bool = False
    interactive: bool = False
    volumes: tuple[VolumeSpec, ...] = attrs.field(default=(), converter=tuple)
    limits: Limits = attrs.field(factory=Limits)
    stop_signal: str = "SIGTERM"
    auto_remove: bool = False
    created: str = attrs.field(factory=now_iso)

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self, recurse=True)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ContainerConfig:
        fields = dict(data)
        fields["volumes"] = tuple(VolumeSpec(**v) for v in data.get("volumes", ()))
        fields["limits"] = Limits(**data.get("limits", {}))
        return cls(**fields)


@attrs.frozen
class ContainerState:
    """Where a container is in its life. `pid` is the sandbox process (signals go there),
    `init_pid` the container's PID 1 as the host sees it (exec joins its namespaces), `monitor`
    the process that waits for it and records the exit; `cgroups` are the group dirs made for it."""

    status: Status = "created"
    pid: int = 0
    pid_start: int = 0
    init_pid: int = 0
    monitor: int = 0
    exit_code: int | None = None
    started_at: str = ""
    finished_at: str = ""
    error: str = ""
    cgroups: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    anonymous_volumes: tuple[str, ...] = attrs.field(default=(), converter=tuple)

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ContainerState:
        return cls(**data)


@attrs.frozen
class Container:
    """A container as last recorded: its config, its state and its directory."""

    config: ContainerConfig
    state: ContainerState
    path: Path

    @property
    def id(self) -> str:
        return self.config.id

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def upper(self) -> Path:
        return self.path / "upper"

    @property
    def work(self) -> Path:
        return self.path / "work"

    @property
    def merged(self) -> Path:
        return self.path / "merged"

    @property
    def log(self) -> Path:
        return self.path / "container.log"


def _random_name() -> str:
    adjectives = ("brave", "calm", "eager", "fond", "keen", "lucid", "merry", "quiet", "sharp", "witty")
    nouns = ("babbage", "curie", "darwin", "euler", "hopper", "lovelace", "noether", "ritchie", "turing")
    return f"{secrets.choice(adjectives)}_{secrets.choice(nouns)}_{secrets.token_hex(2)}"


class ContainerRecords:
    """Every container under `<store root>/containers`."""

    def __init__(self, store_root: Path) -> None:
        self.root = Path(store_root) / "containers"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {self.root}: {exc.strerror}") from None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def create(self, config: ContainerConfig) -> Container:
        """Record a new container (status created); the name must be free."""
        with self._locked():
            if not config.name:
                config = attrs.evolve(config, name=self._free_name())
            elif not valid_name(config.name):
                raise UsageError(f"invalid container name {config.name!r}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
            else:
                for other in self.list():
                    if other.name == config.name:
                        raise UsageError(
                            f'the container name "/{config.name}" is already in use by container "{other.id}"',
                            hint="remove that container (pybuild rm) or choose another --name",
                        )
            path = self.root / config.id
            work = Path(tempfile.mkdtemp(prefix=".new-", dir=self.root))
            try:
                for sub in ("upper", "work", "merged"):
                    (work / sub).mkdir()
                (work / "container.log").touch()
                atomic_write_json(work / "config.json", config.to_json(), mode=0o600)
                atomic_write_json(work / "state.json", ContainerState().to_json(), mode=0o600)
                os.rename(work, path)
            except BaseException:
                shutil.rmtree(work, ignore_errors=True)
                raise
        return Container(config, ContainerState(), path)

    def _free_name(self) -> str:
        taken = {c.name for c in self.list()}
        while (name := _random_name()) in taken:
            pass
        return name

    def _load(self, path: Path) -> Container | None:
        try:
            config = json.loads((path / "config.json").read_text())
            state = json.loads((path / "state.json").read_text())
            return Container(ContainerConfig.from_json(config), ContainerState.from_json(state), path)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as exc:
            raise StoreError(f"container record {path.name} is unreadable: {exc}") from None

    def list(self) -> list[Container]:
        """Every container, newest first."""
        out = []
        for entry in os.scandir(self.root):
            if entry.is_dir() and not entry.name.startswith("."):
                found = self._load(Path(entry.path))
                if found is not None:
                    out.append(found)
        out.sort(key=lambda c: c.config.created, reverse=True)
        return out

    def get(self, ref: str) -> Container:
        """By name, full id or unique id prefix; StoreError `No such container` otherwise."""
        containers = self.list()
        for c in containers:
            if ref in (c.name, c.id):
                return c
        matches = [c for c in containers if len(ref) >= 1 and c.id.startswith(ref.lower())]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise UsageError(f"multiple containers match id prefix {ref!r}: give more of the id")
        raise StoreError(f"No such container: {ref}")

    def reload(self, container: Container) -> Container:
        found = self._load(container.path)
        if found is None:
            raise StoreError(f"No such container: {container.name}")
        return found

    def set_state(self, container: Container, **changes: Any) -> Container:
        """Write the state with `changes` applied, based on what is on disk now."""
        current = self.reload(container)
        state = attrs.evolve(current.state, **changes)
        atomic_write_json(container.path / "state.json", state.to_json(), mode=0o600)
        return attrs.evolve(current, state=state)

    def delete(self, container: Container) -> None:
        """Remove the container's directory (it must be unmounted first)."""
        grave = self.root / f".rm-{container.id}-{time.monotonic_ns()}"
        try:
            os.rename(container.path, grave)
        except FileNotFoundError:
            return
        shutil.rmtree(grave, ignore_errors=True)
