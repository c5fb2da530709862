"""One lowering function per instruction: typed instruction in, op and evolved image config out.

A `StageBuilder` walks one stage. It holds what BuildKit's dispatch state holds: the image config
so far, the environment variable expansion sees (image ENV plus the ARGs in scope, in the order
they were set), the ARGs declared so far (including those inherited from a base stage), and the id
of the op whose filesystem the next step builds on.

Variable expansion follows BuildKit: ADD, COPY, ENV, EXPOSE, FROM, LABEL, STOPSIGNAL, USER,
VOLUME, WORKDIR and ARG defaults are expanded by the builder; RUN, CMD, ENTRYPOINT, SHELL,
HEALTHCHECK, MAINTAINER and ONBUILD are not (the shell sees the ARGs in its environment). Heredoc
bodies of COPY/ADD expand when their delimiter was unquoted; RUN heredoc bodies never do (BuildKit
ignores the option there: the shell expands them).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from pybuildkit.errors import DockerfileError, PlanError, Span
from pybuildkit.model import instructions as ins
from pybuildkit.model.chmod import validate_chmod
from pybuildkit.model.heredocs import chomp_heredoc_content, heredoc_marker
from pybuildkit.model.ports import parse_ports
from pybuildkit.oci.config import Healthcheck, Image, ImageConfig
from pybuildkit.plan.history import go_list, go_quote_list, healthcheck_text, run_text
from pybuildkit.plan.ops import CONTEXT_ID, ConfigOp, CopySource, ExecFile, ExecMount, ExecOp, FileOp, Op, SourceOp
from pybuildkit.plan.paths import normalize_workdir, resolve_dest, resolve_target
from pybuildkit.plan.remote import is_git, is_url
from pybuildkit.syntax.shell import ShellLex, env_from_list, expand_raw

__all__ = ["DEFAULT_PATH", "DEFAULT_SHELL", "StageBuilder", "StageHooks", "with_env", "scratch_image"]

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_SHELL = ("/bin/sh", "-c")
#: ARGs that configure the frontend (SBOM scanning) and never enter a RUN environment.
_NON_ENV_ARGS = frozenset({"BUILDKIT_SBOM_SCAN_CONTEXT", "BUILDKIT_SBOM_SCAN_STAGE"})
_SIGNALS = frozenset(
    "ABRT ALRM BUS CHLD CLD CONT FPE HUP ILL INT IO IOT KILL PIPE POLL PROF PWR QUIT SEGV STKFLT STOP "
    "SYS TERM TRAP TSTP TTIN TTOU URG USR1 USR2 VTALRM WINCH XCPU XFSZ UNUSED".split()
)
_RT_SIGNAL = re.compile(r"RTMIN(\+([0-9]|1[0-5]))?|RTMAX(-([0-9]|1[0-5]))?")


def scratch_image(platform_os: str, architecture: str, variant: str | None) -> Image:
    """BuildKit's emptyImage: WORKDIR `/` and the default PATH."""
    return Image(
        architecture=architecture,
        os=platform_os,
        variant=variant,
        config=ImageConfig(working_dir="/", env=(f"PATH={DEFAULT_PATH}",)),
    )


def with_env(env: Sequence[str], key: str, value: str) -> tuple[str, ...]:
    """Docker's addEnv: replace `key` in place if present, else append."""
    out = list(env)
    for i, entry in enumerate(out):
        if entry.partition("=")[0] == key:
            out[i] = f"{key}={value}"
            return tuple(out)
    out.append(f"{key}={value}")
    return tuple(out)


def _check_signal(signal: str) -> None:
    """Docker's signal.ParseSignal: a number or a known name, with or without the SIG prefix."""
    if signal.isdigit() and int(signal) > 0:
        return
    name = signal.upper().removeprefix("SIG")
    if name in _SIGNALS or _RT_SIGNAL.fullmatch(name):
        return
    raise PlanError(f"Invalid signal: {signal}")



@attrs.define
class StageHooks:
    """What a stage needs from the whole plan, passed in so a builder never reaches for globals.

    `stage_result(ref_value, span, what)` returns the op id of a stage's (or image's) result for a
    `--from` value, planning it first if needed; it may also return a SourceOp to emit. `next_id`
    mints op ids. `proxy_env` holds undeclared proxy --build-args; `build_args` all of them;
    `global_scope` the FROM-line scope (for `ARG name` imports); `consumed` collects the --build-arg
    names some ARG declaration took.
    """

    resolve_from: Callable[[str, Span, str], tuple[str, SourceOp | None]]
    next_id: Callable[[], str]
    lex: ShellLex
    build_args: Mapping[str, str]
    global_scope: Mapping[str, str]
    proxy_env: Mapping[str, str]
    consumed: set[str]


class StageBuilder:
    """Lowers the instructions of one stage, in order, into ops (see the module docstring)."""

    def __init__(
        self,
        *,
        hooks: StageHooks,
        stage_name: str,
        image: Image,
        parent: str,
        args: Sequence[tuple[str, str | None]] = (),
        env: Mapping[str, str] | None = None,
        source: str = "",
    ) -> None:
        self.hooks = hooks
        self.stage_name = stage_name
        self.image = image
        self.parent = parent
        self.ops: list[Op] = []
        self.args: list[tuple[str, str | None]] = list(args)
        self.env: dict[str, str] = dict(env) if env is not None else env_from_list(image.config.env)
        # Names whose current value in `env` was set by an ARG (an ENV after it takes the name back).
        self.from_arg: set[str] = {k for k, v in self.args if v is not None and k in self.env}
        self.cmd_set = False
        self.source = source
        self._ssh_count = 0

    # -- helpers -------------------------------------------------------------------------------

    @property
    def config(self) -> ImageConfig:
        return self.image.config

    def _set_config(self, **changes: Any) -> None:
        self.image = attrs.evolve(self.image, config=attrs.evolve(self.image.config, **changes))

    def _expand(self, word: str, used: dict[str, str]) -> str:
        """Expand one word with the current env; record the ARGs (not shadowed by ENV) it read."""
        result = self.hooks.lex.process_word_with_matches(word, self.env)
        self._note(result.matched, used)
        return result.value

    def _expand_words(self, word: str, used: dict[str, str]) -> list[str]:
        result = self.hooks.lex.process_word_with_matches(word, self.env)
        self._note(result.matched, used)
        return list(result.words)

    def _note(self, names: frozenset[str], used: dict[str, str]) -> None:
        for name in names & self.from_arg:
            used[name] = self.env[name]

    def _args_in_scope(self) -> list[tuple[str, str]]:
        """BuildKit's runCommandString pairs: every ARG declared so far, its current value, once."""
        order: dict[str, str] = {}
        for key, value in self.args:
            order[key] = self.env.get(key, value or "")
        return list(order.items())

    def _emit(self, op: Op) -> Op:
        self.ops.append(op)
        self.parent = op.id
        return op

    def _config_op(self, span: Span, instruction: str, created_by: str, used: Mapping[str, str] | None = None) -> None:
        self._emit(
            ConfigOp(
                id=self.hooks.next_id(),
                parent=self.parent,
                instruction=instruction,
                config=self.image,
                span=span,
                created_by=created_by,
                empty_layer=True,
                build_args=dict(used or {}),
                stage=self.stage_name,
            )
        )

    # -- dispatch ------------------------------------------------------------------------------

    def lower(self, instruction: ins.Instruction) -> None:
        """Lower one instruction; errors get its span attached on the way out."""
        handler = _HANDLERS.get(type(instruction))
        if handler is None:  # pragma: no cover - the model's set of classes is closed
            raise PlanError(f"unsupported instruction {instruction.keyword.upper()}", instruction.span)
        display = self._display(instruction)
        first_new = len(self.ops)
        try:
            handler(self, instruction)
        except DockerfileError as exc:
            raise exc.with_location(instruction.span, self.source or None) from None
        for i in range(first_new, len(self.ops)):
            if not self.ops[i].display:
                self.ops[i] = attrs.evolve(self.ops[i], display=display)

    def _display(self, instruction: ins.Instruction) -> str:
        """BuildKit's progress name: original text, keyword upper-cased, set variables expanded."""
        text = instruction.original.strip() or instruction.keyword.upper()
        lex = ShellLex(escape=self.hooks.lex.escape, raw_quotes=True, raw_escapes=True, skip_unset_env=True)
        try:
            text = lex.process_word(text, self.env)
        except DockerfileError:
            pass
        keyword, _, rest = text.partition(" ")
        text = f"{keyword.upper()} {rest}".rstrip()
        files = getattr(instruction, "files", ())
        if isinstance(instruction, ins.Run) and files:
            lines = files[0].data.strip().replace("\r\n", "\n").split("\n")
            text += f" ({lines[0]}{'...' if len(lines) > 1 else ''})"
        return text

    # -- config-only instructions --------------------------------------------------------------

    def _env(self, c: ins.Env) -> None:
        used: dict[str, str] = {}
        pairs = [(self._expand(kv.key, used), self._expand(kv.value, used)) for kv in c.env]
        env = self.config.env
        for key, value in pairs:
            env = with_env(env, key, value)
            self.env[key] = value
            self.from_arg.discard(key)
        self._set_config(env=env)
        self._config_op(c.span, "env", "ENV " + " ".join(f"{k}={v}" for k, v in pairs), used)

    def _label(self, c: ins.Label) -> None:
        used: dict[str, str] = {}
        pairs = [(self._expand(kv.key, used), self._expand(kv.value, used)) for kv in c.labels]
        labels = dict(self.config.labels)
        labels.update(pairs)
        self._set_config(labels=labels)
        self._config_op(c.span, "label", "LABEL " + " ".join(f"{k}={v}" for k, v in pairs), used)

    def _maintainer(self, c: ins.Maintainer) -> None:
        self.image = attrs.evolve(self.image, author=c.maintainer)
        self._config_op(c.span, "maintainer", f"MAINTAINER {c.maintainer}")

    def _with_shell(self, cmd: Sequence[str]) -> tuple[str, ...]:
        shell = self.config.shell if self.config.shell else DEFAULT_SHELL
        return (*shell, " ".join(cmd))

    def _cmd(self, c: ins.Cmd) -> None:
        args = self._with_shell(c.cmd) if c.prepend_shell else tuple(c.cmd)
        self._set_config(cmd=args, args_escaped=True)
        self.cmd_set = True
        self._config_op(c.span, "cmd", f"CMD {go_quote_list(args)}")

    def _entrypoint(self, c: ins.Entrypoint) -> None:
        args = self._with_shell(c.cmd) if c.prepend_shell else tuple(c.cmd)
        changes: dict[str, Any] = {"entrypoint": args}
        if not self.cmd_set:
            changes["cmd"] = None
        self._set_config(**changes)
        self._config_op(c.span, "entrypoint", f"ENTRYPOINT {go_quote_list(args)}")

    def _expose(self, c: ins.Expose) -> None:
        used: dict[str, str] = {}
        ports = [p for spec in c.ports for p in self._expand_words(spec, used)]
        keys = parse_ports(ports)
        self._set_config(exposed_ports=(*self.config.exposed_ports, *keys))
        self._config_op(c.span, "expose", "EXPOSE " + " ".join(ports), used)

    def _volume(self, c: ins.Volume) -> None:
        used: dict[str, str] = {}
        volumes = [self._expand(v, used) for v in c.volumes]
        if any(v == "" for v in volumes):
            raise PlanError("VOLUME specified can not be an empty string")
        self._set_config(volumes=(*self.config.volumes, *volumes))
        self._config_op(c.span, "volume", f"VOLUME {go_list(volumes)}", used)

    def _user(self, c: ins.User) -> None:
        used: dict[str, str] = {}
        user = self._expand(c.user, used)
        self._set_config(user=user)
        self._config_op(c.span, "user", f"USER {user}", used)

    def _stopsignal(self, c: ins.Stopsignal) -> None:
        used: dict[str, str] = {}
        signal = self._expand(c.signal, used)
        _check_signal(signal)
        self._set_config(stop_signal=signal)
        self._config_op(c.span, "stopsignal", f"STOPSIGNAL {signal}", used)

    def _healthcheck(self, c: ins.HealthcheckInstr) -> None:
        h = c.health
        health = Healthcheck(
            test=h.test,
            interval=h.interval,
            timeout=h.timeout,
            start_period=h.start_period,
            start_interval=h.start_interval,
            retries=h.retries,
        )
        self._set_config(healthcheck=health)
        self._config_op(c.span, "healthcheck", healthcheck_text(health))

    def _shell(self, c: ins.Shell) -> None:
        self._set_config(shell=tuple(c.shell))
        self._config_op(c.span, "shell", f"SHELL {go_list(c.shell)}")

    def _onbuild(self, c: ins.Onbuild) -> None:
        self._set_config(on_build=(*self.config.on_build, c.expression))
        self._config_op(c.span, "onbuild", "")

    def _arg(self, c: ins.Arg) -> None:
        """BuildKit's dispatchArg: --build-arg beats the default; `ARG name` imports a global."""
        used: dict[str, str] = {}
        texts: list[str] = []
        build_args = self.hooks.build_args
        for arg in c.args:
            value: str | None = arg.value
            has_value = arg.key in build_args
            if value is None and not has_value and arg.key in self.hooks.global_scope:
                value = self.hooks.global_scope[arg.key]
            if has_value:
                value = build_args[arg.key]
                self.hooks.consumed.add(arg.key)
            elif arg.value is not None:
                value = self._expand(arg.value, used)
            if value is not None:
                if arg.key not in _NON_ENV_ARGS:
                    self.env[arg.key] = value
                    self.from_arg.add(arg.key)
                used[arg.key] = value
            self.args.append((arg.key, value))
            texts.append(arg.key if value is None else f"{arg.key}={value}")
        self._config_op(c.span, "arg", "ARG " + " ".join(texts), used)

    # -- filesystem instructions ---------------------------------------------------------------

    def _workdir(self, c: ins.Workdir) -> None:
        used: dict[str, str] = {}
        path = self._expand(c.path, used)
        wd = normalize_workdir(self.config.working_dir, path)
        self._set_config(working_dir=wd)
        if wd == "/":
            self._config_op(c.span, "workdir", f"WORKDIR {wd}", used)
            return
        self._emit(
            FileOp(
                id=self.hooks.next_id(),
                parent=self.parent,
                action="mkdir",
                dest=wd,
                chown=self.config.user or None,
                config=self.image,
                span=c.span,
                created_by=f"WORKDIR {wd}",
                empty_layer=False,
                build_args=used,
                stage=self.stage_name,
            )
        )

    def _copy_like(self, c: ins.Copy | ins.Add) -> None:
        is_add = isinstance(c, ins.Add)
        used: dict[str, str] = {}
        sources = [self._expand(s, used) for s in c.sources]
        dest_text = self._expand(c.dest, used)
        chown = self._expand(c.chown, used) if c.chown else None
        chmod = self._expand(c.chmod, used) if c.chmod else None
        excludes = tuple(self._expand(e, used) for e in c.excludes)
        checksum = None
        if is_add and c.checksum:
            checksum = self._expand(c.checksum, used)
        if chmod:
            validate_chmod(chmod)
        if chown == "":
            chown = None
        if chmod == "":
            chmod = None

        from_input: str | None = None
        if isinstance(c, ins.Copy) and c.from_:
            from_input, source_op = self.hooks.resolve_from(c.from_, c.span, "copy")
            if source_op is not None:
                self.ops.append(source_op)

        if checksum is not None:
            if len(sources) != 1:
                raise PlanError("checksum can't be specified for multiple sources")
            if not (is_url(sources[0]) or is_git(sources[0])):
                raise PlanError("checksum requires HTTP(S) or Git sources")

        items: list[CopySource] = []
        for src in sources:
            if is_git(src):
                if not is_add:
                    raise PlanError("source can't be a git ref for COPY")
                items.append(CopySource(kind="git", path=src))
            elif is_url(src):
                if not is_add:
                    raise PlanError("source can't be a URL for COPY")
                items.append(CopySource(kind="url", path=src))
            else:
                items.append(CopySource(kind="path", path=src, input=from_input or CONTEXT_ID))
        for inline in c.contents:
            data = inline.data
            if inline.expand:
                result = expand_raw(data, self.env)
                self._note(result.matched, used)
                data = result.value
            items.append(CopySource(kind="inline", path=inline.name, data=data))

        word = "ADD" if is_add else "COPY"
        parents = bool(getattr(c, "parents", False))
        text = [word]
        if parents:
            text.append("--parents")
        if chown:
            text.append(f"--chown={chown}")
        if chmod:
            text.append(f"--chmod={chmod}")
        text.extend(sources)
        text.extend(f"<<{inline.name}" for inline in c.contents)
        text.append(dest_text)

        self._emit(
            FileOp(
                id=self.hooks.next_id(),
                parent=self.parent,
                action="add" if is_add else "copy",
                dest=resolve_dest(self.config.working_dir, dest_text),
                sources=tuple(items),
                chown=chown,
                chmod=chmod,
                link=c.link,
                parents=parents,
                excludes=excludes,
                checksum=checksum,
                unpack=c.unpack if is_add else None,
                keep_git_dir=c.keep_git_dir if is_add else False,
                config=self.image,
                span=c.span,
                created_by=" ".join(text) + " # buildkit",
                empty_layer=False,
                build_args=used,
                stage=self.stage_name,
            )
        )

    # -- RUN ------------------------------------------------------------------------------------

    def _run_argv(self, c: ins.Run) -> tuple[tuple[str, ...], tuple[ExecFile, ...]]:
        """BuildKit's heredoc RUN rules, then SHELL for shell form."""
        args: tuple[str, ...] = tuple(c.cmd)
        files: tuple[ExecFile, ...] = ()
        if c.files:
            if len(args) != 1 or not c.prepend_shell:
                raise PlanError(f"parsing produced an invalid run command: {list(args)}")
            if heredoc_marker(args[0]) is not None:
                first = c.files[0]
                data = chomp_heredoc_content(first.data) if first.chomp else first.data
                if self.image.os != "windows" and data.startswith("#!"):
                    path = posixpath.join("/dev/pipes", first.name)
                    files = (ExecFile(path=path, data=data, mode=0o755),)
                    args = (path,)
                else:
                    args = (data,)
            else:
                text = args[0]
                for inline in c.files:
                    text += "\n" + inline.data + inline.name
                args = (text,)
        if c.prepend_shell:
            args = self._with_shell(args)
        return args, files

    def _mount(self, m: ins.Mount, span: Span, used: dict[str, str]) -> ExecMount:
        if getattr(m, "needs_expansion", False):
            from pybuildkit.model.mounts import parse_mount

            m = parse_mount(m.spec, lambda word: self._expand(word, used))
        input_id: str | None = None
        if m.type in ("bind", "cache"):
            if m.from_:
                input_id, source_op = self.hooks.resolve_from(m.from_, span, "mount")
                if source_op is not None:
                    self.ops.append(source_op)
            elif m.type == "bind":
                input_id = CONTEXT_ID
        mount_id = m.id
        target = m.target
        mode = m.mode
        if m.type == "cache":
            mount_id = m.id or (posixpath.normpath(m.target) if m.target else None)
        elif m.type == "secret":
            mount_id = m.source or m.id or (posixpath.basename(m.target.rstrip("/")) if m.target else None)
            if not mount_id:
                raise PlanError("invalid secret mount. one of source, target required")
            if not target and m.env is None:
                target = "/run/secrets/" + posixpath.basename(mount_id)
        elif m.type == "ssh":
            mount_id = m.id or "default"
            if not target:
                target = f"/run/buildkit/ssh_agent.{self._ssh_count}"
            self._ssh_count += 1
            mode = 0o600 if mode is None else mode
        # No target on a bind/cache/tmpfs mount means the working directory, as in BuildKit.
        needs_target = m.type in ("bind", "cache", "tmpfs")
        resolved = resolve_target(self.config.working_dir, target or "") if (target or needs_target) else ""
        source = posixpath.normpath(posixpath.join("/", m.source)) if m.source and m.type in ("bind", "cache") else "/"
        return ExecMount(
            type=m.type,
            target=resolved,
            input=input_id,
            source=source,
            readonly=m.readonly,
            id=mount_id,
            sharing=m.sharing,
            mode=mode,
            uid=m.uid,
            gid=m.gid,
            size=m.size,
            required=m.required,
            env=m.env,
        )

    def _run(self, c: ins.Run) -> None:
        used: dict[str, str] = {}
        mounts = tuple(self._mount(m, c.span, used) for m in c.mounts)
        argv, files = self._run_argv(c)
        in_scope = self._args_in_scope()
        build_args = dict(in_scope)
        build_args.update(used)
        proxy = {k: v for k, v in self.hooks.proxy_env.items() if k not in self.env}
        self._emit(
            ExecOp(
                id=self.hooks.next_id(),
                parent=self.parent,
                argv=argv,
                env=tuple(f"{k}={v}" for k, v in self.env.items()),
                proxy_env=proxy,
                user=self.config.user,
                cwd=self.config.working_dir or "/",
                mounts=mounts,
                files=files,
                network=c.network or "default",
                security=c.security or "sandbox",
                devices=tuple(c.devices),
                config=self.image,
                span=c.span,
                created_by=run_text(argv, in_scope),
                empty_layer=False,
                build_args=build_args,
                stage=self.stage_name,
            )
        )


_HANDLERS: dict[type, Callable[[StageBuilder, Any], None]] = {
    ins.Env: StageBuilder._env,
    ins.Label: StageBuilder._label,
    ins.Maintainer: StageBuilder._maintainer,
    ins.Cmd: StageBuilder._cmd,
    ins.Entrypoint: StageBuilder._entrypoint,
    ins.Expose: StageBuilder._expose,
    ins.Volume: StageBuilder._volume,
    ins.User: StageBuilder._user,
    ins.Stopsignal: StageBuilder._stopsignal,
    ins.HealthcheckInstr: StageBuilder._healthcheck,
    ins.Shell: StageBuilder._shell,
    ins.Onbuild: StageBuilder._onbuild,
    ins.Arg: StageBuilder._arg,
    ins.Workdir: StageBuilder._workdir,
    ins.Copy: StageBuilder._copy_like,
    ins.Add: StageBuilder._copy_like,
    ins.Run: StageBuilder._run,
}
