"""`RUN --device=name[,required[=bool]]` values (CDI device requests)."""

from __future__ import annotations

import difflib

from pybuildkit.errors import PlanError
from pybuildkit.model.instructions import Device
from pybuildkit.model.values import parse_go_bool, split_csv

__all__ = ["parse_device"]


def parse_device(value: str) -> Device:
    """Parse one `--device` value as BuildKit does: the first bare field is the name."""
    name = ""
    required = False
    try:
        fields = split_csv(value)
    except ValueError as exc:
        raise PlanError(f"failed to parse csv devices: {exc}") from None
    for field in fields:
        key, eq, val = field.partition("=")
        key = key.lower()
        if not eq:
            if key == "required":
                required = True
                continue
            if not name:
                name = field
                continue
            raise PlanError(f"invalid field '{field}' must be a key=value pair")
        if key == "name":
            if name:
                raise PlanError(f"device name already set to {name}")
            name = val
        elif key == "required":
            try:
                required = parse_go_bool(val)
            except ValueError:
                raise PlanError(f"invalid value for {key}: {val}") from None
        elif not name:
            name = field
        else:
            close = difflib.get_close_matches(key, ["name", "required"], n=1)
            raise PlanError(
                f"unexpected key '{key}' in '{field}'", hint=f"did you mean {close[0]}?" if close else None
            )
    if not name:
        raise PlanError(f"device name is required in --device={value}")
    return Device(name=name, required=required)
