"""Content-addressed cache keys for build steps, and the reason a key missed.

A key is a versioned sha256 over the canonical JSON of what a step *means*: its semantic fields
(command, environment with the ARGs it sees, user, working directory, mounts, flags), the key of the
step it builds on, the keys of other stages it reads, and the content digests of the files it
copies. Source positions, comments and display names never enter it, so moving a line or editing a
comment invalidates nothing. Keys are an API once shipped: change CACHE_KEY_VERSION when the
scheme changes, and the golden-digest tests pin it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from pybuildkit.oci.canonical import canonical_json
from pybuildkit.oci.digest import sha256_digest

__all__ = ["CACHE_KEY_VERSION", "KeyInputs", "cache_key", "explain_miss"]

CACHE_KEY_VERSION = 1


def _freeze(value: Mapping[str, Any]) -> dict[str, Any]:
    return dict(value)


@attrs.frozen
class KeyInputs:
    """Everything a step's key is made of, kept so a later miss can say which part differed.

    `fields` are the step's semantic fields (JSON values); `parent` the key of the step it builds
    on (None at a stage's base); `inputs` the keys of other stages or images it reads, by name;
    `content` the digests of the file selections it copies, by a label such as the source pattern.
    """

    kind: str
    fields: Mapping[str, Any] = attrs.field(factory=dict, converter=_freeze)
    parent: str | None = None
    inputs: Mapping[str, str] = attrs.field(factory=dict, converter=_freeze)
    content: Mapping[str, str] = attrs.field(factory=dict, converter=_freeze)

    def to_json(self) -> dict[str, Any]:
        return {
            "v": CACHE_KEY_VERSION,
            "kind": self.kind,
            "fields": dict(self.fields),
            "parent": self.parent,
            "inputs": dict(self.inputs),
            "content": dict(self.content),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> KeyInputs:
        return cls(
            kind=str(data.get("kind", "")),
            fields=data.get("fields") or {},
            parent=data.get("parent"),
            inputs=data.get("inputs") or {},
            content=data.get("content") or {},
        )


def cache_key(inputs: KeyInputs) -> str:
    """The step's cache key: `sha256:` over the canonical JSON of its inputs and the scheme version."""
    return sha256_digest(canonical_json(inputs.to_json()))


def _first_difference(old: Mapping[str, Any], new: Mapping[str, Any]) -> str | None:
    for name in sorted(set(old) | set(new)):
        if old.get(name) != new.get(name):
            return name
    return None


def _env_difference(old: Any, new: Any) -> str | None:
    """Name the first environment variable (build arg or ENV) whose value differs."""
    if not isinstance(old, list) or not isinstance(new, list):
        return None
    as_map = lambda items: dict(str(i).partition("=")[::2] for i in items)  # noqa: E731
    return _first_difference(as_map(old), as_map(new))


def explain_miss(previous: KeyInputs | None, current: KeyInputs) -> str:
    """A sentence saying why `current` missed, given the inputs of the same step last time."""
    if previous is None:
        return "no earlier build of this step"
    if previous.kind != current.kind:
        return f"the instruction changed (was {previous.kind}, now {current.kind})"
    field = _first_difference(previous.fields, current.fields)
    if field == "env":
        name = _env_difference(previous.fields.get("env"), current.fields.get("env"))
        if name:
            return f"the value of {name} changed"
    if field == "build_args":
        name = _first_difference(previous.fields.get("build_args") or {}, current.fields.get("build_args") or {})
        return f"build arg {name} changed"
    if field is not None:
        return f"the instruction changed ({field})"
    label = _first_difference(previous.content, current.content)
    if label is not None:
        return f"files changed under {label}"
    name = _first_difference(previous.inputs, current.inputs)
    if name is not None:
        return f"input {name} changed"
    if previous.parent != current.parent:
        return "the parent step changed"
    return "the cache entry was not found (pruned, or never stored)"
