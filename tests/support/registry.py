"""A real distribution registry (Debian's `docker-registry`, distribution 2.8) for tests.

`RegistryServer.start(tmp_path, users={...})` writes a config, starts the binary on 127.0.0.1 and
a free port with storage under `tmp_path`, optionally behind htpasswd (bcrypt) auth, and waits until
`/v2/` answers. Its access log is kept, so tests can count what a client really sent
(`server.requests("PATCH", "/blobs/uploads/")`). The `registry` fixture gives an anonymous one,
`auth_registry` one with user `tester` / password `s3cret`; both stop at teardown.
"""

from __future__ import annotations

import contextlib
import http.client
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = [
    "REGISTRY_BIN",
    "RegistryServer",
    "bcrypt_hash",
    "free_port",
    "registry",
    "auth_registry",
    "TEST_USER",
    "TEST_PASSWORD",
]

REGISTRY_BIN = Path("/usr/bin/docker-registry")
TEST_USER = "tester"
TEST_PASSWORD = "s3cret"
_ACCESS = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3})')


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bcrypt_hash(password: str) -> str | None:
    """A bcrypt hash distribution's htpasswd reader accepts, or None if nothing here can make one.

    `htpasswd -B` (apache2-utils) first, then the `bcrypt` module, then glibc/libxcrypt's crypt(3),
    whose `$2b$` hashes Go's x/crypto/bcrypt reads as well."""
    if shutil.which("htpasswd"):
        out = subprocess.run(["htpasswd", "-nbB", "u", password], capture_output=True, text=True)
        if out.returncode == 0 and ":" in out.stdout:
            return out.stdout.strip().split(":", 1)[1]
    with contextlib.suppress(ImportError):
        import bcrypt  # type: ignore[import-not-found]

        return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()
    with contextlib.suppress(ImportError, AttributeError):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt  # deprecated in 3.11, gone in 3.13: the last resort

            if crypt.METHOD_BLOWFISH in crypt.methods:
                value = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 5))
                if value and value.startswith("$2"):
                    return value
    return None


class RegistryServer:
    """One running docker-registry process; use `start()` and `stop()` (or the fixtures)."""

    def __init__(self, root: Path, port: int, process: subprocess.Popen[bytes], log: Path) -> None:
        self.root = root
        self.port = port
        self.process = process
        self.log = log

    @property
    def host(self) -> str:
        """`127.0.0.1:PORT`, the registry part of a reference."""
        return f"127.0.0.1:{self.port}"

    @classmethod
    def start(cls, root: Path, *, users: dict[str, str] | None = None) -> RegistryServer:
        if not REGISTRY_BIN.exists():
            pytest.skip(f"{REGISTRY_BIN} is missing (Debian package docker-registry)")
        root.mkdir(parents=True, exist_ok=True)
        auth = ""
        if users:
            lines = []
            for user, password in users.items():
                hashed = bcrypt_hash(password)
                if hashed is None:
                    pytest.skip("cannot make a bcrypt htpasswd entry: no htpasswd, no bcrypt module, no crypt(3) blowfish")
                lines.append(f"{user}:{hashed}\n")
            (root / "htpasswd").write_text("".join(lines))
            auth = f"auth:\n  htpasswd:\n    realm: pybuildkit-test\n    path: {root / 'htpasswd'}\n"
        last_error = ""
        for _ in range(3):
            port = free_port()
            config = root / "config.yml"
            config.write_text(
                "version: 0.1\n"
                "log:\n  level: error\n  accesslog:\n    disabled: false\n"
                f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n  delete:\n    enabled: true\n"
                "  cache:\n    blobdescriptor: inmemory\n"
                f"http:\n  addr: 127.0.0.1:{port}\n  secret: pybuildkit-test-secret\n"
                + auth
            )
            log = root / "registry.log"
            with open(log, "wb") as out:
                process = subprocess.Popen(
                    [str(REGISTRY_BIN), "serve", str(config)], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
                )
            server = cls(root, port, process, log)
            if server._wait_ready(10.0):
                return server
            server.stop()
            last_error = log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"docker-registry did not start:\n{last_error}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                try:
                    conn.request("GET", "/v2/")
                    if conn.getresponse().status in (200, 401):
                        return True
                finally:
                    conn.close()
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def requests(self, method: str | None = None, contains: str = "") -> list[tuple[str, str, int]]:
        """(method, path, status) of every request in the access log, filtered."""
        out = []
        for line in self.log.read_text(errors="replace").splitlines():
            match = _ACCESS.search(line)
            if match and (method is None or match["method"] == method) and contains in match["path"]:
                out.append((match["method"], match["path"], int(match["status"])))
        return out


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[RegistryServer]:
    server = RegistryServer.start(tmp_path / "registry")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def auth_registry(tmp_path: Path) -> Iterator[RegistryServer]:
    server = RegistryServer.start(tmp_path / "auth-registry", users={TEST_USER: TEST_PASSWORD})
    try:
        yield server
    finally:
        server.stop()
