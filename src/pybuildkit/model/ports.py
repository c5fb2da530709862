"""EXPOSE port specs (`80`, `8000-8002/udp`, `127.0.0.1:8080:80/tcp`) to `port/proto` strings.

The image config records exposed ports as a set of `port/proto` keys. BuildKit (through
docker/go-connections) also accepts `docker run -p`-style specs with a host IP and host port, which
it validates and then drops; ranges are expanded to one key per port and the protocol defaults to
tcp. We follow those rules so a Dockerfile BuildKit accepts is accepted here, with the same result.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from pybuildkit.errors import PlanError
from pybuildkit.model.values import go_quote

__all__ = ["PROTOCOLS", "parse_port", "parse_ports"]

PROTOCOLS = ("tcp", "udp", "sctp")


def _split_parts(raw: str) -> tuple[str, str, str]:
    """`[ip:][hostport:]containerport`, where the IP itself may contain colons (IPv6)."""
    parts = raw.split(":")
    if len(parts) == 1:
        return "", "", parts[0]
    if len(parts) == 2:
        return "", parts[0], parts[1]
    return ":".join(parts[:-2]), parts[-2], parts[-1]


def _port_range(text: str) -> tuple[int, int]:
    """`N` or `N-M` with 0 <= N <= M <= 65535; ValueError otherwise."""
    if text == "":
        raise ValueError("empty port")
    start_text, dash, end_text = text.partition("-")
    if dash and "-" in end_text:
        raise ValueError(f"invalid port range format: {text}")
    start = _uint16(start_text)
    end = _uint16(end_text) if dash else start
    if end < start:
        raise ValueError(f"invalid range specified for port: {text}")
    return start, end


def _uint16(text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"not a port number: {text!r}")
    value = int(text)
    if value > 65535:
        raise ValueError(f"port out of range: {text}")
    return value


def _check_ip(ip: str, raw: str) -> None:
    if ip.startswith("["):
        if not ip.endswith("]"):
            raise PlanError(f"invalid port: {go_quote(raw)}: invalid IP address {ip}")
        ip = ip[1:-1]
    try:
        if "%" in ip:
            raise ValueError("zones are not allowed")
        ipaddress.ip_address(ip)
    except ValueError:
        raise PlanError(f"invalid port: {go_quote(raw)}: invalid IP address: {ip}") from None


def parse_port(raw: str) -> tuple[str, ...]:
    """One spec to its `port/proto` keys, in order; PlanError when it is not a valid spec."""
    ip, host_port, container = _split_parts(raw)
    port_text, _, proto = container.partition("/")
    if port_text == "":
        raise PlanError(f"invalid port: {go_quote(raw)}: no port specified")
    proto = (proto or "tcp").lower()
    if proto not in PROTOCOLS:
        raise PlanError(f"invalid port: {go_quote(raw)}: invalid proto: {proto}", hint="use tcp, udp or sctp")
    if ip:
        _check_ip(ip, raw)
    try:
        start, end = _port_range(port_text)
    except ValueError:
        raise PlanError(f"invalid port: {go_quote(raw)}: invalid containerPort: {port_text}") from None
    if host_port:
        try:
            host_start, host_end = _port_range(host_port)
        except ValueError:
            raise PlanError(f"invalid port: {go_quote(raw)}: invalid hostPort: {host_port}") from None
        if end - start != host_end - host_start and end != start:
            raise PlanError(
                f"invalid port: {go_quote(raw)}: invalid ranges specified for container and host Ports: "
                f"{port_text} and {host_port}"
            )
    return tuple(f"{port}/{proto}" for port in range(start, end + 1))


def parse_ports(specs: Iterable[str]) -> tuple[str, ...]:
    """Every spec's keys, in the order given (duplicates kept: the image config is a set)."""
    return tuple(key for spec in specs for key in parse_port(spec))
