"""A busybox base image made on this machine, so no benchmark ever pulls from a registry.

Every tool must start from the same bytes, or a peer could win by having a smaller base: the
image is built from `/bin/busybox` of Debian's `busybox-static` as a reproducible OCI archive
(sorted PAX tar, fixed mtimes, root owners, gzip without a timestamp). pybuild loads it with
`pybuild load`; the peers get a docker-archive that pybuild itself writes from its store.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import subprocess
import tarfile
from pathlib import Path

__all__ = ["BUSYBOX", "MTIME", "write_busybox_oci_archive"]

BUSYBOX = "/bin/busybox"
MTIME = 1704067200  # 2024-01-01: fixed, so the image digest is the same on every run
_CREATED = "2024-01-01T00:00:00Z"
_DIRS = ("bin", "dev", "etc", "home", "proc", "root", "sbin", "sys", "tmp", "usr", "usr/bin", "usr/sbin", "var")
_FILES = {
    "etc/passwd": b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    "etc/group": b"root:x:0:\nnogroup:x:65534:\n",
}


def _info(name: str, kind: bytes, mode: int, size: int = 0, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.size, info.linkname = kind, mode, size, link
    info.mtime, info.uid, info.gid, info.uname, info.gname = MTIME, 0, 0, "", ""
    return info


def _rootfs_tar(busybox: str) -> bytes:
    binary = Path(busybox).read_bytes()
    applets = subprocess.run([busybox, "--list-full"], check=True, capture_output=True, text=True).stdout.split()
    entries: dict[str, tuple[tarfile.TarInfo, bytes | None]] = {}
    for d in _DIRS:
        mode = {"tmp": 0o1777, "root": 0o700}.get(d, 0o755)
        entries[d] = (_info(d, tarfile.DIRTYPE, mode), None)
    entries["bin/busybox"] = (_info("bin/busybox", tarfile.REGTYPE, 0o755, len(binary)), binary)
    for name, data in _FILES.items():
        entries[name] = (_info(name, tarfile.REGTYPE, 0o644, len(data)), data)
    for applet in applets:
        if applet == "bin/busybox" or applet in entries:
            continue
        parent = os.path.dirname(applet)
        if parent and parent not in entries:
            entries[parent] = (_info(parent, tarfile.DIRTYPE, 0o755), None)
        entries[applet] = (_info(applet, tarfile.SYMTYPE, 0o777, link="/bin/busybox"), None)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(entries):
            info, data = entries[name]
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def _blob(blobs: dict[str, bytes], data: bytes) -> dict[str, object]:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    blobs[digest] = data
    return {"digest": digest, "size": len(data)}


def _json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def write_busybox_oci_archive(dest: Path, *, busybox: str = BUSYBOX, tag: str = "latest") -> str:
    """Write the busybox image as an oci-archive tar at `dest`; return its manifest digest.

    The index entry's ref.name is the bare `tag`: `pybuild load --name busybox` makes it
    busybox:TAG.
    """
    rootfs = _rootfs_tar(busybox)
    layer = gzip.compress(rootfs, compresslevel=6, mtime=0)
    blobs: dict[str, bytes] = {}
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": _CREATED,
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(rootfs).hexdigest()]},
        "history": [{"created": _CREATED, "created_by": "pybuildkit benchmarks: busybox-static"}],
    }
    config_desc = {"mediaType": "application/vnd.oci.image.config.v1+json", **_blob(blobs, _json(config))}
    layer_desc = {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **_blob(blobs, layer)}
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config_desc,
        "layers": [layer_desc],
    }
    manifest_desc = {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        **_blob(blobs, _json(manifest)),
        "annotations": {"org.opencontainers.image.ref.name": tag},
        "platform": {"architecture": "amd64", "os": "linux"},
    }
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [manifest_desc]}
    files = {"oci-layout": _json({"imageLayoutVersion": "1.0.0"}), "index.json": _json(index)}
    for digest, data in blobs.items():
        files["blobs/sha256/" + digest.split(":", 1)[1]] = data
    tmp = dest.with_name(dest.name + ".tmp")
    with open(tmp, "wb") as raw:
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for d in ("blobs", "blobs/sha256"):
                tar.addfile(_info(d, tarfile.DIRTYPE, 0o755))
            for name in sorted(files):
                tar.addfile(_info(name, tarfile.REGTYPE, 0o644, len(files[name])), io.BytesIO(files[name]))
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(tmp, dest)
    return str(manifest_desc["digest"])
