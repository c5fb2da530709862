"""`RUN --mount=...` values: bind, cache, tmpfs, secret and ssh mounts, validated as BuildKit does.

A mount value is one CSV record of `key=value` fields (a few keys may stand alone: `ro`, `rw`,
`required`). Values stay unexpanded in the model, so fields whose *meaning* depends on their value
(`type`, `mode`, `uid`, `size`, ...) can only be checked here when they hold no variable; those that
do are left at their default and the planner re-parses the mount with an `expand` callback once the
ARG/ENV scope is known (``Mount.spec`` keeps the raw text for that).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from pybuildkit.errors import PlanError
from pybuildkit.model.instructions import Mount
from pybuildkit.model.values import has_variable, parse_go_bool, parse_ram_bytes, parse_uint, split_csv, go_quote

__all__ = ["MOUNT_TYPES", "SHARING_MODES", "MOUNT_KEYS", "parse_mount"]

MOUNT_TYPES = ("bind", "cache", "tmpfs", "secret", "ssh")
SHARING_MODES = ("shared", "private", "locked")
MOUNT_KEYS = (
    "type", "from", "source", "src", "target", "dst", "destination", "readonly", "ro", "readwrite",
    "rw", "id", "sharing", "required", "size", "mode", "uid", "gid", "env",
)  # fmt: skip
_TYPED_KEYS = frozenset({"type", "readonly", "ro", "readwrite", "rw", "required", "size", "sharing", "mode", "uid", "gid"})
_FILE_INFO_TYPES = frozenset({"secret", "ssh", "cache"})


def _suggest(word: str, choices: tuple[str, ...]) -> str | None:
    close = difflib.get_close_matches(word, choices, n=1)
    return f"did you mean {close[0]}?" if close else None


def parse_mount(spec: str, expand: Callable[[str], str] | None = None) -> Mount:
    """Parse one `--mount` value into a validated :class:`Mount`.

    Without `expand`, values holding a variable are kept as text (string fields) or deferred (typed
    fields); with it, every value is expanded first, exactly like BuildKit's dispatch-time pass.
    """

    def fail(message: str, hint: str | None = None) -> PlanError:
        return PlanError(f"{message} (in --mount={spec})", hint=hint)

    try:
        fields = split_csv(spec)
    except ValueError as exc:
        raise fail(f"failed to parse csv mounts: {exc}") from None

    mount_type = "bind"
    type_deferred = False
    strings: dict[str, str] = {}
    numbers: dict[str, int] = {}
    readonly = False
    ro_auto = True
    required = False
    sharing: str | None = None
    size: int | None = None
    env: str | None = None

    def bool_value(key: str, value: str) -> bool:
        try:
            return parse_go_bool(value)
        except ValueError:
            raise fail(f"invalid value for {key}: {value}") from None

    for field in fields:
        key, eq, value = field.partition("=")
        key = key.lower()
        if not eq:
            if key in ("readonly", "ro", "readwrite", "rw"):
                readonly = key in ("readonly", "ro")
                ro_auto = False
                continue
            if key == "required":
                if mount_type not in ("secret", "ssh") and not type_deferred:
                    raise fail(f"unexpected key '{key}' for mount type '{mount_type}'")
                required = True
                continue
            raise fail(f"invalid field '{field}' must be a key=value pair")

        if expand is not None:
            value = expand(value)
        elif key == "from" and 0 <= value.find("$") < len(value) - 1:
            raise fail(f"'{key}' doesn't support variable expansion, define alias stage instead")
        elif key in _TYPED_KEYS and has_variable(value):
            type_deferred = type_deferred or key == "type"
            if key in ("readonly", "ro", "readwrite", "rw"):
                ro_auto = False
            continue

        if key == "type":
            lowered = value.lower()
            if lowered not in MOUNT_TYPES:
                raise fail(f"unsupported mount type {go_quote(value)}", _suggest(lowered, MOUNT_TYPES))
            mount_type = lowered
        elif key == "from":
            strings["from"] = value
        elif key in ("source", "src"):
            strings["source"] = value
        elif key in ("target", "dst", "destination"):
            strings["target"] = value
        elif key in ("readonly", "ro"):
            readonly = bool_value(key, value)
            ro_auto = False
        elif key in ("readwrite", "rw"):
            readonly = not bool_value(key, value)
            ro_auto = False
        elif key == "required":
            if mount_type not in ("secret", "ssh") and not type_deferred:
                raise fail(f"unexpected key '{key}' for mount type '{mount_type}'")
            required = bool_value(key, value)
        elif key == "size":
            if mount_type != "tmpfs" and not type_deferred:
                raise fail(f"unexpected key '{key}' for mount type '{mount_type}'")
            try:
                size = parse_ram_bytes(value)
            except ValueError:
                raise fail(f"invalid value for {key}: {value}") from None
        elif key == "id":
            strings["id"] = value
        elif key == "sharing":
            lowered = value.lower()
            if lowered not in SHARING_MODES:
                raise fail(f"unsupported sharing value {go_quote(value)}", _suggest(lowered, SHARING_MODES))
            sharing = lowered
        elif key in ("mode", "uid", "gid"):
            try:
                numbers[key] = parse_uint(value, 8 if key == "mode" else 10, 32)
            except ValueError:
                raise fail(f"invalid value {value} for {key}") from None
        elif key == "env":
            env = value
        else:
            raise fail(f"unexpected key '{key}' in '{field}'", _suggest(key, MOUNT_KEYS))

    if not type_deferred:
        if mount_type not in _FILE_INFO_TYPES:
            for key in ("mode", "uid", "gid"):
                if key in numbers:
                    raise fail(f"{key} not allowed for {go_quote(mount_type)} type mounts")
        if mount_type == "secret":
            if strings.get("from"):
                raise fail("secret mount should not have a from")
            if sharing:
                raise fail("secret mount should not define sharing")
            if not strings.get("source") and not strings.get("target") and not strings.get("id"):
                raise fail("invalid secret mount. one of source, target required")
            if strings.get("source") and strings.get("id"):
                raise fail("both source and id can't be set")
        if sharing and mount_type != "cache":
            raise fail(f"invalid cache sharing set for {mount_type} mount")
        if mount_type == "ssh" and strings.get("source"):
            raise fail("ssh does not support source")
        if env is not None and mount_type != "secret":
            raise fail(f"unexpected key 'env' for mount type '{mount_type}'")
        target = strings.get("target", "")
        if mount_type in ("bind", "cache", "tmpfs") and target.startswith("/") and not target.strip("/"):
            raise fail(f"invalid mount target {go_quote(target)}", "a mount cannot replace the root filesystem")
        if ro_auto:
            readonly = mount_type not in ("cache", "tmpfs")

    return Mount(
        type=mount_type,
        target=strings.get("target") or None,
        source=strings.get("source") or None,
        from_=strings.get("from") or None,
        readonly=readonly,
        id=strings.get("id") or None,
        sharing=sharing or "shared",
        mode=numbers.get("mode"),
        uid=numbers.get("uid"),
        gid=numbers.get("gid"),
        size=size,
        required=required,
        env=env,
        spec=spec,
    )
