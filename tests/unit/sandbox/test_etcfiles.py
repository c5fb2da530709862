"""Generated /etc files."""

from __future__ import annotations

import pytest

from pybuildkit.sandbox.etcfiles import hostname_file, hosts_file, resolv_file


def test_hosts_file_names_the_sandbox_and_extras() -> None:
    text = hosts_file("box", (("db", "10.0.0.2"), ("cache", "10.0.0.3"))).decode()
    assert text.splitlines() == [
        "127.0.0.1\tlocalhost box",
        "::1\tlocalhost ip6-localhost ip6-loopback",
        "10.0.0.2\tdb",
        "10.0.0.3\tcache",
    ]


def test_hostname_file() -> None:
    assert hostname_file("box") == b"box\n"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        (b"nameserver 10.0.0.1\nsearch lan\n", b"nameserver 10.0.0.1\nsearch lan\n"),
        (None, b"nameserver 8.8.8.8\nnameserver 8.8.4.4\n"),
        (b"search lan\n", b"search lan\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"),
    ],
)
def test_resolv_file(host: bytes | None, expected: bytes) -> None:
    assert resolv_file(host) == expected
