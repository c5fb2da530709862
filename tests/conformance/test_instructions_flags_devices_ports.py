"""instructions/builder_flags.json, run_device.json and expose_ports.json: the value parsers.

builder_flags: each case declares its flags (`defs`) and feeds raw words; our declarative
`FlagSpec` table stands in for BuildKit's `AddBool`/`AddString`. run_device: `parse_device`.
expose_ports: `parse_port` / `parse_ports`. Every case of the three files applies; none is skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pybuildkit.errors import PybuildkitError
from pybuildkit.model import FlagKind, FlagSpec, parse_device, parse_flags, parse_port, parse_ports
from tests.support.conformance import load_cases


def _load(name: str) -> list[Any]:
    return load_cases(f"instructions/{name}")


def _params(name: str) -> list[Any]:
    return [pytest.param(case, id=case["id"]) for case in _load(name)]


@pytest.mark.parametrize("case", _params("builder_flags.json"))
def test_builder_flags(case: dict[str, Any], conformance: Path) -> None:
    specs = [FlagSpec(d["name"], FlagKind(d["type"]), d["default"]) for d in case["defs"]]
    try:
        parsed = parse_flags(case["args"], specs, "TEST")
    except PybuildkitError:
        assert case["expect_error"]
        return
    assert not case["expect_error"]
    for name, value in case.get("expect_values", {}).items():
        assert parsed.values[name] == value
    for name, used in case.get("expect_used", {}).items():
        assert (name in parsed.used) is used
    if "expect_used_sorted" in case:
        assert list(parsed.used_sorted) == case["expect_used_sorted"]


@pytest.mark.parametrize("case", _params("run_device.json"))
def test_run_device(case: dict[str, Any], conformance: Path) -> None:
    try:
        device = parse_device(case["input"])
    except PybuildkitError as exc:
        assert case["expect_error"] is not None
        assert exc.message == case["expect_error"]
        return
    assert case["expect_error"] is None
    assert {"name": device.name, "required": device.required} == case["expect"]


@pytest.mark.parametrize("case", _params("expose_ports.json"))
def test_expose_ports(case: dict[str, Any], conformance: Path) -> None:
    try:
        if case["function"] == "parsePort":
            (spec,) = case["specs"]
            keys = parse_port(spec)
        else:
            keys = parse_ports(case["specs"])
    except PybuildkitError as exc:
        expected = case["expect_error"]
        assert expected is not None
        if case["expect_error_exact"]:
            assert exc.message == expected
        else:
            assert expected in exc.message
        return
    assert case["expect_error"] is None
    assert list(keys) == case["expect"]
