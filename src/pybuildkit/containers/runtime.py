"""The container lifecycle: create, start (attached or detached), stop, kill, remove, logs.

A container's filesystem is an overlay of the image's snapshot lowerdirs (the same
`<store root>/fs` snapshots the build engine unpacks, so an image is unpacked once for both) with
the container's own `upper`/`work` dirs, kept across restarts until `rm`. Its process is one
`pybuildkit.sandbox` run with the sandbox's init as PID 1.

Whoever starts a container stays its *monitor*: it holds the overlay mount, copies the output to
the log, waits, records the exit code and cleans up (unmount, cgroups, `--rm`). Attached, the
monitor is the CLI itself; detached (`-d`, `start` without `-a`), it is a double-forked, setsid'd
process, so the container keeps running after the CLI exits and the exit code is still recorded.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from pybuildkit.containers import cgroups, procinfo
from pybuildkit.containers.attach import FORWARDED, copy_winsize, forwarding, pump, raw_terminal
from pybuildkit.containers.options import Limits, VolumeSpec, parse_signal, resolve_process
from pybuildkit.containers.records import Container, ContainerConfig, ContainerRecords, new_id, now_iso
from pybuildkit.containers.volumes import Volumes
from pybuildkit.errors import PybuildkitError, SandboxError, StoreError, UsageError

__all__ = ["CreateOptions", "Warn", "Runtime", "STOP_TIMEOUT"]

Warn = Callable[[str], None]
STOP_TIMEOUT = 10.0


@attrs.frozen
class CreateOptions:
    """A `pybuild run`/`create` request, flags already parsed (see `containers.options`)."""

    image: str
    command: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    entrypoint: str | None = None
    env: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    volumes: tuple[VolumeSpec, ...] = attrs.field(default=(), converter=tuple)
    workdir: str | None = None
    user: str | None = None
    hostname: str | None = None
    network: str = "host"
    read_only: bool = False
    tty: bool = False
    interactive: bool = False
    limits: Limits = attrs.field(factory=Limits)
    name: str = ""
    auto_remove: bool = False


def _ignore(_message: str) -> None:
    pass


class Runtime:
    """Containers and volumes of the store at `root`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.records = ContainerRecords(self.root)
        self.volumes = Volumes(self.root)

    # -- create ---------------------------------------------------------------------------------

    def create(self, options: CreateOptions) -> Container:
        """Record a container for `options.image` (image config merged with the command line)."""
        from pybuildkit.store import Store

        if options.network not in ("host", "none"):
            raise UsageError(f"unsupported network {options.network!r}: use none or host")
        with Store(self.root) as store:
            image = store.image(options.image)
        cfg = image.config.config
        process = resolve_process(
            image_entrypoint=cfg.entrypoint,
            image_cmd=cfg.cmd,
            image_env=cfg.env,
            image_workdir=cfg.working_dir,
            image_user=cfg.user,
            command=options.command,
            entrypoint=options.entrypoint,
            env=options.env,
            workdir=options.workdir,
            user=options.user,
        )
        cid = new_id()
        explicit = {v.target for v in options.volumes}
        volumes = list(options.volumes)
        volumes += [VolumeSpec("volume", v.rstrip("/") or "/", None, anonymous=True) for v in cfg.volumes if v.rstrip("/") not in explicit]
        volumes = [attrs.evolve(v, source=new_id()) if v.kind == "volume" and v.source is None else v for v in volumes]
        config = ContainerConfig(
            id=cid,
            name=options.name,
            image=options.image,
            image_digest=image.digest,
            argv=process.argv,
            entrypoint=process.entrypoint,
            cmd=process.cmd,
            env=process.env,
            cwd=process.cwd,
            user=process.user,
            hostname=options.hostname or cid[:12],
            network=options.network,  # type: ignore[arg-type]
            read_only=options.read_only,
            tty=options.tty,
            interactive=options.interactive,
            volumes=tuple(volumes),
            limits=options.limits,
            stop_signal=cfg.stop_signal or "SIGTERM",
            auto_remove=options.auto_remove,
        )
        parse_signal(config.stop_signal)
        return self.records.create(config)

    def get(self, ref: str) -> Container:
        return self.refresh(self.records.get(ref))

    def list(self, *, include_stopped: bool = False) -> list[Container]:
        """Running containers (every one with `include_stopped`), newest first."""
        out = [self.refresh(c) for c in self.records.list()]
        return out if include_stopped else [c for c in out if c.state.status == "running"]

    def refresh(self, container: Container) -> Container:
        """A running record whose process and monitor are both gone (a crash, a reboot) is exited."""
        state = container.state
        if state.status != "running" or procinfo.alive(state.pid, state.pid_start) or _monitor_holds_lock(container):
            return container
        return self.records.set_state(
            container, status="exited", exit_code=state.exit_code if state.exit_code is not None else 255,
            finished_at=state.finished_at or now_iso(), error=state.error or "monitor lost", pid=0, init_pid=0,
        )

    # -- start ----------------------------------------------------------------------------------

    def _lowers(self, container: Container) -> list[Path]:
        """Unpack the image's layers (once, shared with builds) and return the lowerdirs."""
        from pybuildkit.snapshot import Snapshots
        from pybuildkit.store import Store

        with Store(self.root) as store, store.lease():
            try:
                image = store.image(container.config.image_digest)
            except StoreError as exc:
                raise StoreError(f"image {container.config.image} of container {container.name} is gone: {exc.message}") from None
            snapshots = Snapshots(self.root / "fs")
            if snapshots.backend != "overlay":
                raise SandboxError("containers need overlayfs, which this machine cannot mount here", hint="run as root on a file system overlayfs accepts")
            by_diff = {d: layer.digest for d, layer in zip(image.config.rootfs.diff_ids, image.manifest.layers)}
            chain = snapshots.ensure(list(image.config.rootfs.diff_ids), lambda d: store.open_blob(by_diff[d]))
            lowers = snapshots.lowerdirs(chain)
        if not lowers:
            empty = container.path / "empty"
            empty.mkdir(exist_ok=True)
            lowers = [empty]
        return lowers

    def _check_startable(self, container: Container) -> Container:
        container = self.refresh(container)
        if container.state.status == "running":
            raise UsageError(f"container {container.name} is already running")
        return container

    def run_attached(
        self,
        container: Container,
        *,
        stdin: int | None = 0,
        stdout: int = 1,
        warn: Warn = _ignore,
    ) -> int:
        """Start `container` and stay with it: output to `stdout`, signals forwarded; its exit code.

        `stdin` is used when the container was created with `-i`.
        """
        container = self._check_startable(container)
        lowers = self._lowers(container)
        interactive = container.config.interactive and stdin is not None
        session = _Session(self, container, lowers, warn)
        pending: list[int] = []

        def send(signum: int) -> None:
            if session.process is not None:
                session.process.send_signal(signum)
            else:
                pending.append(signum)

        # Handlers first: they also replace any ignored disposition the CLI inherited, which the
        # container would otherwise inherit (a shell cannot trap a signal ignored on entry).
        with forwarding(send):
            process = session.launch(stdin=stdin if interactive and not container.config.tty else None)
            try:
                for signum in pending:
                    process.send_signal(signum)
                master = process.output_fd if container.config.tty else None
                if master is not None and stdin is not None:
                    copy_winsize(stdin, master)
                raw = raw_terminal(stdin) if (master is not None and interactive and stdin is not None) else contextlib.nullcontext()
                winsize = (stdin, master) if (master is not None and stdin is not None) else None
                with forwarding(send, winsize=winsize), raw:
                    session.copy_output(out=stdout, stdin=stdin if (interactive and master is not None) else None)
            finally:
                code = session.finish()
        return code

    def start_detached(self, container: Container, *, warn: Warn = _ignore) -> Container:
        """Start `container` under a background monitor and return once it runs (or failed)."""
        container = self._check_startable(container)
        lowers = self._lowers(container)
        read_fd, write_fd = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the monitor, tested through the CLI
            os.close(read_fd)
            _daemon_main(self, container, lowers, write_fd)
        os.close(write_fd)
        os.waitpid(pid, 0)
        with os.fdopen(read_fd, "rb") as fh:
            lines = fh.read().decode(errors="replace").splitlines()
        error = None
        started = False
        for line in lines:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "warn" in message:
                warn(message["warn"])
            elif "error" in message:
                error = message
            elif message.get("started"):
                started = True
        if error is not None:
            raise SandboxError(error["error"], hint=error.get("hint"))
        if not started:
            raise SandboxError(f"container {container.name} did not start (its monitor died)")
        return self.records.reload(container)

    # -- stop, kill, remove ---------------------------------------------------------------------

    def kill(self, container: Container, signum: int = signal.SIGKILL) -> None:
        container = self.refresh(container)
        state = container.state
        if state.status != "running":
            raise UsageError(f"container {container.name} is not running")
        try:
            os.kill(state.pid, signum)
        except ProcessLookupError:
            pass

    def wait(self, container: Container, timeout: float | None = None) -> Container:
        """Until the container is no longer running (or `timeout` seconds); its latest record."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.01
        while True:
            try:
                container = self.refresh(self.records.reload(container))
            except StoreError:  # removed meanwhile (--rm): it has certainly stopped
                return attrs.evolve(container, state=attrs.evolve(container.state, status="exited"))
            if container.state.status != "running":
                return container
            if deadline is not None and time.monotonic() >= deadline:
                return container
            time.sleep(delay)
            delay = min(delay * 2, 0.1)

    def stop(self, container: Container, timeout: float = STOP_TIMEOUT) -> Container:
        """STOPSIGNAL (the image's, else SIGTERM), then SIGKILL after `timeout` seconds."""
        container = self.refresh(container)
        if container.state.status != "running":
            return container
        with contextlib.suppress(UsageError):
            self.kill(container, parse_signal(container.config.stop_signal))
        container = self.wait(container, timeout)
        if container.state.status == "running":
            with contextlib.suppress(UsageError):
                self.kill(container, signal.SIGKILL)
            container = self.wait(container, 10.0)
        return container

    def remove(self, container: Container, *, force: bool = False, volumes: bool = False) -> None:
        """Delete the container, its writable layer and (with `volumes`) its anonymous volumes."""
        container = self.refresh(container)
        if container.state.status == "running":
            if not force:
                raise UsageError(
                    f"cannot remove container {container.name}: it is running",
                    hint="stop it first (pybuild stop), or use rm -f",
                )
            container = self.stop(container, timeout=0)
            if container.state.status == "running":
                raise SandboxError(f"container {container.name} did not die after SIGKILL")
            if not container.path.exists():
                return  # it was started with --rm: its monitor removed it on the way out
        _discard(self, container, volumes=volumes)

    def volume_users(self, name: str) -> list[Container]:
        return [c for c in self.records.list() if any(v.kind == "volume" and v.source == name for v in c.config.volumes)]

    def remove_volume(self, name: str, *, force: bool = False) -> None:
        users = self.volume_users(name)
        if users and not force:
            raise UsageError(f"volume {name} is in use by container(s) {', '.join(c.name for c in users)}", hint="remove those containers first")
        self.volumes.remove(name)

    # -- logs -----------------------------------------------------------------------------------

    def logs(self, container: Container, out: int, *, follow: bool = False) -> None:
        """Copy the log to `out`; with `follow`, keep copying until the container has stopped."""
        try:
            fh = open(container.log, "rb")
        except FileNotFoundError:
            raise StoreError(f"No such container: {container.name}") from None
        with fh:
            while True:
                chunk = fh.read(1 << 16)
                if chunk:
                    os.write(out, chunk)
                    continue
                if not follow:
                    return
                try:
                    current = self.refresh(self.records.reload(container))
                except StoreError:
                    return
                if current.state.status != "running":
                    rest = fh.read()
                    if rest:
                        os.write(out, rest)
                    return
                time.sleep(0.05)


def _monitor_holds_lock(container: Container) -> bool:
    """Whether a monitor still holds the container's lock (it does until the exit is recorded)."""
    try:
        fd = os.open(container.path / "monitor.lock", os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _discard(runtime: Runtime, container: Container, *, volumes: bool) -> None:
    from pybuildkit.snapshot import OverlayMount, unmount

    with contextlib.suppress(PybuildkitError):
        if os.path.ismount(container.merged):
            unmount(OverlayMount(target=container.merged, upper=container.upper))
    cgroups.remove_cgroups(container.state.cgroups, timeout=0.5)
    runtime.records.delete(container)
    if volumes:
        for spec in container.config.volumes:
            if spec.kind == "volume" and spec.anonymous and spec.source and not any(
                c.id != container.id for c in runtime.volume_users(spec.source)
            ):
                with contextlib.suppress(PybuildkitError, OSError):
                    runtime.volumes.remove(spec.source)


def _environment(config: ContainerConfig, home: str) -> list[tuple[str, str]]:
    env = [tuple(item.partition("=")[::2]) for item in config.env]
    keys = {k for k, _ in env}
    if "HOSTNAME" not in keys:
        env.insert(0, ("HOSTNAME", config.hostname))
    if "HOME" not in keys:
        env.append(("HOME", home or "/"))
    if config.tty and "TERM" not in keys:
        env.append(("TERM", "xterm"))
    return env  # type: ignore[return-value]


class _Session:
    """One start of one container by its monitor: mount, limits, sandbox, record, clean up."""

    def __init__(self, runtime: Runtime, container: Container, lowers: list[Path], warn: Warn) -> None:
        self.runtime = runtime
        self.container = container
        self.lowers = lowers
        self.warn = warn
        self.mount: Any = None
        self.groups: tuple[str, ...] = ()
        self.process: Any = None
        self.log_fd: int | None = None
        self.lock_fd: int | None = None

    def _lock(self) -> None:
        """One monitor per container: held from launch until the exit is recorded, so two
        `start`s racing cannot both mount the same upper dir."""
        fd = os.open(self.container.path / "monitor.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UsageError(f"container {self.container.name} is already running") from None
        self.lock_fd = fd

    def _unlock(self) -> None:
        if self.lock_fd is not None:
            os.close(self.lock_fd)
            self.lock_fd = None

    def _mounts(self, merged: Path) -> list[Any]:
        from pybuildkit.sandbox import Mount
        from pybuildkit.sandbox.paths import scoped_join

        mounts = []
        for spec in self.container.config.volumes:
            if spec.kind == "bind":
                source = Path(spec.source or "")
                if not source.exists():
                    source.mkdir(parents=True, exist_ok=True)  # Docker creates a missing -v host dir
                mounts.append(Mount("bind", spec.target, os.fspath(source), readonly=spec.readonly))
            elif spec.kind == "volume":
                assert spec.source is not None
                volume, _ = self.runtime.volumes.create(spec.source, anonymous=spec.anonymous)
                self.runtime.volumes.populate(spec.source, Path(scoped_join(merged, spec.target)))
                mounts.append(Mount("bind", spec.target, os.fspath(volume.mountpoint), readonly=spec.readonly))
            else:
                mounts.append(Mount("tmpfs", spec.target, None, readonly=spec.readonly, options=("mode=1777",)))
        return mounts

    def launch(self, *, stdin: int | None) -> Any:
        """Mount, apply limits and start the sandbox; the record says running when this returns."""
        from pybuildkit.sandbox import SandboxSpec, lookup_user, start
        from pybuildkit.snapshot import mount_overlay

        container, config = self.container, self.container.config
        self._lock()
        try:
            self.mount = mount_overlay(self.lowers, container.merged, upper=container.upper, work=container.work)
            user = lookup_user(container.merged, config.user or "0")
            spec = SandboxSpec(
                rootfs=container.merged,
                argv=config.argv,
                env=_environment(config, user.home),
                cwd=config.cwd,
                uid=user.uid,
                gid=user.gid,
                groups=user.groups,
                hostname=config.hostname,
                network=config.network,
                mounts=self._mounts(container.merged),
                stdin=stdin,
                tty=config.tty,
                readonly_rootfs=config.read_only,
                init=True,
            )
            if not config.limits.empty():
                plan = cgroups.plan_cgroups(f"pybuild-{container.id[:16]}", config.limits)
                self.groups = cgroups.create_cgroups(plan, self.warn)
            self.log_fd = os.open(container.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
            with cgroups.joined(self.groups):
                self.process = start(spec)
        except BaseException as exc:
            self._cleanup()
            message = exc.message if isinstance(exc, PybuildkitError) else str(exc)
            self.runtime.records.set_state(container, status="created" if container.state.status == "created" else "exited", error=message, cgroups=())
            self._unlock()
            if isinstance(exc, OSError):
                raise SandboxError(f"cannot start container {container.name}: {exc}") from None
            raise
        pid = self.process.pid
        self.container = self.runtime.records.set_state(
            container,
            status="running",
            pid=pid,
            pid_start=procinfo.start_time(pid),
            init_pid=procinfo.pid1_of(pid),
            monitor=os.getpid(),
            exit_code=None,
            started_at=now_iso(),
            finished_at="",
            error="",
            cgroups=self.groups,
        )
        return self.process

    def copy_output(self, *, out: int | None = None, stdin: int | None = None) -> None:
        fd = self.process.output_fd
        if fd is not None:
            pump(fd, self.log_fd, out=out, stdin=stdin, master=fd if self.container.config.tty else None)

    def finish(self) -> int:
        """Wait for the exit, record it, undo the mount and the groups; remove if `--rm`."""
        code = self.process.wait() if self.process is not None else 125
        if self.process is not None:
            self.process.close()
        self._cleanup()
        container = self.runtime.records.set_state(
            self.container, status="exited", exit_code=code, finished_at=now_iso(), pid=0, init_pid=0, cgroups=()
        )
        if container.config.auto_remove:
            _discard(self.runtime, container, volumes=True)
        self._unlock()
        return code

    def _cleanup(self) -> None:
        from pybuildkit.snapshot import unmount

        if self.log_fd is not None:
            os.close(self.log_fd)
            self.log_fd = None
        if self.mount is not None:
            with contextlib.suppress(PybuildkitError):
                unmount(self.mount)
            self.mount = None
        cgroups.remove_cgroups(self.groups)
        self.groups = ()


def _daemon_main(runtime: Runtime, container: Container, lowers: list[Path], report_fd: int) -> None:  # pragma: no cover
    """The detached monitor: a grandchild in its own session, stdio on /dev/null."""
    code = 0
    try:
        os.setsid()
        if os.fork() != 0:
            os._exit(0)
        os.chdir("/")
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.close(null)
        # Default dispositions: an ignored signal stays ignored through fork and exec, and a
        # shell may not trap a signal ignored on entry (so STOPSIGNAL could never be handled).
        for signum in FORWARDED:
            signal.signal(signum, signal.SIG_DFL)

        def send(message: Mapping[str, Any]) -> None:
            os.write(report_fd, (json.dumps(message) + "\n").encode())

        session = _Session(runtime, container, lowers, lambda text: send({"warn": text}))
        try:
            session.launch(stdin=None)
        except PybuildkitError as exc:
            send({"error": exc.message, "hint": exc.hint})
            return
        except BaseException as exc:  # noqa: BLE001 - reported to the CLI, never a traceback
            send({"error": f"cannot start container {container.name}: {exc}"})
            return
        send({"started": True})
        os.close(report_fd)
        report_fd = -1
        try:
            session.copy_output()
        finally:
            session.finish()
    except BaseException:  # noqa: BLE001
        code = 1
    finally:
        os._exit(code)
