"""Durations, chmod, byte sizes and Go-style scalars."""

from __future__ import annotations

import pytest

from pybuildkit.errors import PlanError
from pybuildkit.model.chmod import validate_chmod
from pybuildkit.model.durations import DurationError, parse_go_duration
from pybuildkit.model.values import parse_go_bool, parse_ram_bytes, parse_uint, split_csv


@pytest.mark.parametrize(
    ("text", "nanos"),
    [
        ("0", 0),
        ("1ns", 1),
        ("1.5s", 1_500_000_000),
        ("1m30s", 90_000_000_000),
        ("2h", 7_200_000_000_000),
        ("300ms", 300_000_000),
        ("1us", 1_000),
        ("1\u00b5s", 1_000),
        ("1\u03bcs", 1_000),
        (".5s", 500_000_000),
        ("-1s", -1_000_000_000),
        ("+5m", 300_000_000_000),
        ("1h2m3s4ms5us6ns", 3_723_004_005_006),
    ],
)
def test_go_duration(text, nanos):
    assert parse_go_duration(text) == nanos


@pytest.mark.parametrize("text", ["", "1", "s", "1x", ".s", "1.2.3s", "-", "10000000000h", "1 s"])
def test_go_duration_rejects(text):
    with pytest.raises(DurationError):
        parse_go_duration(text)


@pytest.mark.parametrize("text", ["755", "0644", "7777", "0", "u+x", "u+x,g=r", "a-w", "go=u", "+x", "ug+rwX", "$MODE"])
def test_chmod_accepts(text):
    assert validate_chmod(text) == text


@pytest.mark.parametrize("text", ["8", "17777", "u+y", "x", "u+x,,g=r", "u", "755,u+x", "rwx"])
def test_chmod_rejects(text):
    with pytest.raises(PlanError, match="invalid chmod parameter"):
        validate_chmod(text)


@pytest.mark.parametrize(("text", "value"), [("1", True), ("t", True), ("TRUE", True), ("False", False), ("0", False)])
def test_go_bool(text, value):
    assert parse_go_bool(text) is value


@pytest.mark.parametrize("text", ["yes", "", "tRUE", "2"])
def test_go_bool_rejects(text):
    with pytest.raises(ValueError):
        parse_go_bool(text)


def test_uint_bounds():
    assert parse_uint("4294967295") == 2**32 - 1
    assert parse_uint("777", 8) == 0o777
    for bad in ("4294967296", "-1", "0x10", "1_0", "", "8"):
        with pytest.raises(ValueError):
            parse_uint(bad, 8 if bad == "8" else 10)


@pytest.mark.parametrize(("text", "size"), [("512", 512), ("1k", 1024), ("64m", 64 << 20), ("1.5GiB", 3 << 29), ("2 MB", 2 << 20)])
def test_ram_bytes(text, size):
    assert parse_ram_bytes(text) == size


@pytest.mark.parametrize("text", ["", "m", "1x", "-1m", "1.m"])
def test_ram_bytes_rejects(text):
    with pytest.raises(ValueError):
        parse_ram_bytes(text)


def test_split_csv():
    assert split_csv('type=bind,"source=a,b",target=/x') == ["type=bind", "source=a,b", "target=/x"]
    assert split_csv("") == []
    with pytest.raises(ValueError):
        split_csv('"open')
