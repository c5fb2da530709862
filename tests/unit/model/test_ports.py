"""EXPOSE specs beyond the corpus: protocols, bounds, host parts."""

from __future__ import annotations

import pytest

from pybuildkit.errors import PlanError
from pybuildkit.model.ports import parse_port, parse_ports


@pytest.mark.parametrize(
    ("spec", "keys"),
    [
        ("80", ("80/tcp",)),
        ("53/UDP", ("53/udp",)),
        ("0", ("0/tcp",)),
        ("65535/sctp", ("65535/sctp",)),
        ("8000-8001", ("8000/tcp", "8001/tcp")),
        ("8080:80", ("80/tcp",)),
        ("8080-8090:80", ("80/tcp",)),
        ("127.0.0.1::80/udp", ("80/udp",)),
        ("[::1]:8080:80", ("80/tcp",)),
    ],
)
def test_accepted(spec, keys):
    assert parse_port(spec) == keys


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("80/http", "invalid proto: http"),
        ("65536", "invalid containerPort: 65536"),
        ("abc", "invalid containerPort: abc"),
        ("90-80", "invalid containerPort: 90-80"),
        ("1-2-3", "invalid containerPort: 1-2-3"),
        ("x:80", "invalid hostPort: x"),
        ("8000-8001:80-82", "invalid ranges specified"),
        ("300.1.1.1:80:80", "invalid IP address"),
        ("[::1:80:80", "invalid IP address"),
        ("fe80::1%eth0::80", "invalid IP address"),
        ("/tcp", "no port specified"),
    ],
)
def test_rejected(spec, message):
    with pytest.raises(PlanError) as info:
        parse_port(spec)
    assert message in info.value.message


def test_parse_ports_keeps_order():
    assert parse_ports(["443", "80/udp"]) == ("443/tcp", "80/udp")
