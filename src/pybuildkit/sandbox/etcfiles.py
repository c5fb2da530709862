"""The contents of /etc/hosts, /etc/hostname and /etc/resolv.conf for one sandbox (pure).

They are written to a private directory outside the rootfs and bind-mounted read-only, so a RUN
sees them but they never land in a layer (the mount points are stubs removed afterwards, see
`mountpoints`).
"""

from __future__ import annotations

import re

__all__ = ["hosts_file", "hostname_file", "resolv_file", "FALLBACK_NAMESERVERS"]

FALLBACK_NAMESERVERS = ("8.8.8.8", "8.8.4.4")

def hosts_file(hostname: str, extra_hosts: tuple[tuple[str, str], ...] = ()) -> bytes:
    """localhost entries, the sandbox's own name on 127.0.0.1 (as BuildKit does), then extras."""
    lines = [
        f"127.0.0.1\tlocalhost {hostname}",
        "::1\tlocalhost ip6-localhost ip6-loopback",
    ]
    lines += [f"{ip}\t{name}" for name, ip in extra_hosts]
    return ("\n".join(lines) + "\n").encode()


def hostname_file(hostname: str) -> bytes:
    return f"{hostname}\n".encode()


def resolv_file(host_resolv: bytes | None) -> bytes:
    """The host's resolv.conf as is (the sandbox shares the host network or has none at all).

    If it names no nameserver, public resolvers are added, like Docker.
    """
    text = host_resolv or b""
    if not re.search(rb"^\s*nameserver\s", text, re.MULTILINE):
        text = text.rstrip(b"\n") + b"\n" if text.strip() else b""
        text += b"".join(b"nameserver %s\n" % ns.encode() for ns in FALLBACK_NAMESERVERS)
    return text
