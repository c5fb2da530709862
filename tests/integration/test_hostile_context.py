"""Hostile build contexts and destinations: nothing outside the context is read, nothing outside
the rootfs is written.

Canary files live beside the context (and in a host dir the Dockerfile names by absolute path).
Every build below tries to reach them: `..` and absolute sources, symlinks out of the context
(relative, absolute, to a directory), FIFOs and device nodes in the context, and RUN-made symlinks
in the image that COPY, ADD and WORKDIR then write through. A build may succeed or fail with a
project error; either way no layer of the image holds a canary's bytes and every canary file is
byte-for-byte, mode and mtime unchanged, with nothing new beside it.
"""

from __future__ import annotations

import gzip
import io
import hashlib
import os
import stat
import tarfile
import threading
from pathlib import Path

import pytest

from pybuildkit.errors import PybuildkitError
from pybuildkit.store import Store
from tests.support.build import Builder, builder, requires_root  # noqa: F401

pytestmark = [pytest.mark.integration, requires_root]

SECRET = b"CANARY-7f3a9c-do-not-copy"


def fingerprint(directory: Path) -> dict[str, tuple[int, int, str]]:
    """Every entry under `directory`: mode, mtime (ns) and a content hash, links not followed."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(directory):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            st = os.lstat(path)
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(st.st_mode) else ""
            out[str(path.relative_to(directory))] = (st.st_mode, st.st_mtime_ns, digest)
    return out


def layer_payloads(root: Path, digest: str) -> list[tuple[str, bytes]]:
    """(name, content) of every regular file in every layer of the image `digest`."""
    out = []
    with Store(root) as store:
        image = store.image(digest)
        for layer in image.manifest.layers:
            with store.open_blob(layer.digest) as raw:
                data = raw.read()
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)

            with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                for member in tar:
                    if member.isfile():
                        handle = tar.extractfile(member)
                        out.append((member.name, handle.read() if handle else b""))
    return out


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    where = tmp_path / "outside"
    (where / "dir").mkdir(parents=True)
    (where / "canary.txt").write_bytes(SECRET)
    (where / "dir" / "inner.txt").write_bytes(SECRET + b"-inner")
    with tarfile.open(where / "secret.tar", "w") as tar:
        tar.add(where / "canary.txt", arcname="from-outside.txt")
    return where


def build_or_error(b: Builder, dockerfile: str) -> str | None:
    """The image digest, or None when the build failed with a project error (never anything else)."""
    result: list[object] = []

    def target() -> None:
        try:
            result.append(b.build(dockerfile).result.digest)
        except PybuildkitError as exc:
            result.append(exc)
        except BaseException as exc:  # noqa: BLE001 - reported below as the failure it is
            result.append(exc)

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the build hung (a FIFO read?)"
    value = result[0]
    if isinstance(value, PybuildkitError):
        assert "Traceback" not in value.render()
        return None
    if isinstance(value, BaseException):
        raise value
    return str(value)


# name -> (context setup, Dockerfile); OUT is the outside dir's absolute path.
CASES = {
    "dotdot-source": (None, "FROM busybox\nCOPY ../outside/canary.txt /x\n"),
    "dotdot-deep": (None, "FROM busybox\nCOPY a/../../../outside/canary.txt /x\n"),
    "absolute-source": (None, "FROM busybox\nCOPY OUT/canary.txt /x\n"),
    "add-dotdot-archive": (None, "FROM busybox\nADD ../outside/secret.tar /x/\n"),
    "relative-link-out": ("link:../outside/canary.txt", "FROM busybox\nCOPY link /x\n"),
    "absolute-link-out": ("link:OUT/canary.txt", "FROM busybox\nCOPY link /x\n"),
    "link-dir-out": ("linkdir:../outside/dir", "FROM busybox\nCOPY linkdir/inner.txt /x\n"),
    "link-dir-whole": ("linkdir:OUT/dir", "FROM busybox\nCOPY linkdir /x\n"),
    "link-in-dot": ("link:OUT/canary.txt", "FROM busybox\nCOPY . /ctx\n"),
    "wildcard-through-link": ("linkdir:OUT", "FROM busybox\nCOPY linkdir/*.txt /x/\n"),
    "add-link-to-archive": ("link:OUT/secret.tar", "FROM busybox\nADD link /x/\n"),
    "fifo-in-context": ("fifo:pipe", "FROM busybox\nCOPY . /ctx\n"),
    "fifo-named": ("fifo:pipe", "FROM busybox\nCOPY pipe /x\n"),
    "device-in-context": ("device:null", "FROM busybox\nCOPY . /ctx\n"),
    "run-link-then-copy-into": (None, "FROM busybox\nRUN ln -s OUT /escape\nCOPY Dockerfile /escape/written.txt\n"),
    "run-link-then-copy-over": (None, "FROM busybox\nRUN ln -s OUT/canary.txt /victim\nCOPY Dockerfile /victim\n"),
    "run-link-dir-then-copy": (None, "FROM busybox\nRUN ln -s OUT/dir /d\nCOPY Dockerfile /d/\n"),
    "run-dotdot-link-then-copy": (None, "FROM busybox\nRUN ln -s ../../../../../../../OUT /up\nCOPY Dockerfile /up/x\n"),
    "run-link-then-workdir": (None, "FROM busybox\nRUN ln -s OUT /w\nWORKDIR /w/made-by-workdir\n"),
    "run-link-then-add": (None, "FROM busybox\nRUN ln -s OUT /escape\nADD Dockerfile /escape/added.txt\n"),
    "copy-from-stage-link": (None, "FROM busybox AS s\nRUN ln -s OUT/canary.txt /l\nFROM busybox\nCOPY --from=s /l/ /x\n"),
    "bind-mount-link": ("link:OUT/canary.txt", "FROM busybox\nRUN --mount=type=bind,source=link,target=/m cat /m > /copied || true\n"),
}


def _setup(b: Builder, spec: str | None, out: Path) -> None:
    b.write({"a/keep.txt": "inside\n"})
    if spec is None:
        return
    kind, _, arg = spec.partition(":")
    path = b.context / ("pipe" if kind == "fifo" else "null" if kind == "device" else kind)
    if kind in ("link", "linkdir"):
        os.symlink(arg.replace("OUT", str(out)), path)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_context_reaches_nothing_outside(builder: Builder, outside: Path, case: str) -> None:  # noqa: F811
    spec, dockerfile = CASES[case]
    _setup(builder, spec, outside)
    before = fingerprint(outside)
    digest = build_or_error(builder, dockerfile.replace("OUT", str(outside)))
    assert fingerprint(outside) == before, f"{case}: the outside dir changed"
    if digest is not None:
        for name, data in layer_payloads(builder.root, digest):
            assert SECRET not in data, f"{case}: {name} carries the canary into the image"


@pytest.mark.parametrize(
    ("dockerfile", "made", "error"),
    [
        ("RUN ln -s /elsewhere/deep /w\nWORKDIR /w/sub\nRUN pwd -P > /pwd", "/elsewhere/deep/sub", None),
        ("RUN ln -s ../../../../x /w\nWORKDIR /w\nRUN pwd -P > /pwd", "/x", None),
        ("RUN touch /f\nWORKDIR /f/sub", None, "cannot create WORKDIR /f/sub"),
    ],
)
def test_workdir_through_image_links_stays_in_the_rootfs(builder: Builder, dockerfile: str, made: str | None, error: str | None) -> None:  # noqa: F811
    text = "FROM busybox\n" + dockerfile + "\n"
    if error is not None:
        with pytest.raises(PybuildkitError, match=error):
            builder.build(text)
        return
    digest = builder.build(text).result.digest
    assert dict(layer_payloads(builder.root, digest))["pwd"] == made.encode() + b"\n"
