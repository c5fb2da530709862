"""The benchmark workloads: Dockerfiles and build contexts generated from a seed.

Every tool must build byte-identical contexts, and a rerun must build the same ones, so all
content comes from a seeded PRNG and every mtime is fixed. Each workload names the one file a
"one-file change" rebuild rewrites and, when it has a .dockerignore, an ignored file whose change
must leave the build a full cache hit.
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import attrs

__all__ = ["Workload", "WORKLOADS", "generate", "mutate", "MTIME"]

MTIME = 1704067200
_WORDS = "ash birch cedar elm fir hazel larch maple oak pine rowan spruce willow yew".split()


@attrs.frozen
class Workload:
    """One benchmark: how to make its context, and which files the rebuild scenarios touch."""

    name: str
    title: str
    dockerfile: str
    populate: Callable[[Path], None]
    changed_file: str
    ignored_file: str | None = None
    dockerignore: str | None = None


def _write(path: Path, data: bytes | str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    os.chmod(path, mode)


def _source(rng: random.Random, name: str, functions: int) -> str:
    body = [f"# {name}: generated benchmark source"]
    for i in range(functions):
        word = rng.choice(_WORDS)
        body.append(f"def {word}_{i}(value):\n    return value * {rng.randint(2, 997)} - {rng.randint(0, 97)}\n")
    return "\n".join(body)


W1 = """\
# w1: multi-stage; a 2,000-file COPY between RUN steps; the final stage takes only artifacts.
FROM busybox:latest AS compile
WORKDIR /work
RUN mkdir -p /dist/sums /work/bin && for n in $(seq 1 40); do echo "echo step $n" > /work/bin/step-$n.sh; done
RUN dd if=/dev/zero of=/work/sdk.img bs=1024 count=1024 2>/dev/null && echo "sdk=1" > /work/sdk.lock
COPY src/ /work/src/
RUN find src -type f | sort > /dist/manifest.txt && wc -l < /dist/manifest.txt > /dist/count.txt
RUN cd src && for d in *; do cat "$d"/* | sha256sum | cut -c1-64 > "/dist/sums/$d"; done

FROM busybox:latest
COPY --from=compile /dist/ /srv/dist/
COPY --from=compile /work/sdk.lock /srv/sdk.lock
RUN ls -R /srv > /srv/listing.txt
ENV SERVICE_HOME=/srv
CMD ["cat", "/srv/dist/count.txt"]
"""


def _populate_w1(ctx: Path) -> None:
    rng = random.Random(101)
    for p in range(20):
        for m in range(100):
            _write(ctx / "src" / f"lib{p:02d}" / f"unit{m:03d}.py", _source(rng, f"lib{p:02d}.unit{m:03d}", rng.randint(2, 24)))


def _w2_dockerfile() -> str:
    lines = [
        "# w2: about fifty small instructions, where per-step overhead dominates.",
        "FROM busybox:latest",
        "ARG RELEASE=2.7.1",
        "LABEL org.opencontainers.image.title=w2 org.opencontainers.image.version=${RELEASE}",
        "ENV APP_ROOT=/opt/w2 LANG=C.UTF-8",
        "WORKDIR /opt/w2",
        "RUN mkdir -p etc var/log var/data bin",
        "COPY conf/defaults.conf etc/defaults.conf",
    ]
    for i in range(1, 13):
        lines.append(f"RUN echo 'step {i}' >> var/log/steps.txt && echo {i} > var/data/s{i}")
        if i % 3 == 0:
            lines.append(f"ENV STEP_{i}=done")
        if i % 4 == 0:
            lines.append(f"LABEL w2.step{i}=ok")
    lines += [
        "COPY conf/service.conf etc/service.conf",
        "RUN grep -c = etc/service.conf > etc/service.keys",
        "RUN cat etc/defaults.conf etc/service.conf > etc/merged.conf && sha256sum etc/merged.conf > etc/merged.sum",
        "COPY scripts/ bin/",
        "RUN chmod 0755 bin/*.sh",
    ]
    for i in range(13, 21):
        lines.append(f"RUN echo 'late {i}' >> var/log/steps.txt")
    lines += [
        "WORKDIR /opt/w2/var",
        "RUN du -s . > /opt/w2/du.txt",
        "WORKDIR /opt/w2",
        "USER nobody",
        "RUN id > /tmp/id.txt",
        "USER root",
        "RUN find /opt/w2 -type f | sort > /opt/w2/files.txt",
        "EXPOSE 8080",
        "VOLUME /opt/w2/var/data",
        'ENTRYPOINT ["/bin/sh", "-c"]',
        'CMD ["cat /opt/w2/etc/merged.conf"]',
    ]
    return "\n".join(lines) + "\n"


def _populate_w2(ctx: Path) -> None:
    rng = random.Random(202)
    _write(ctx / "conf" / "defaults.conf", "".join(f"default.{rng.choice(_WORDS)}{i}={rng.randint(0, 99999)}\n" for i in range(150)))
    _write(ctx / "conf" / "service.conf", "".join(f"service.{rng.choice(_WORDS)}{i}={rng.randint(0, 99999)}\n" for i in range(80)))
    for name in ("start", "stop", "check"):
        _write(ctx / "scripts" / f"{name}.sh", f"#!/bin/sh\necho {name}\n")


W3 = """\
# w3: one 200 MiB file COPYed, read by a RUN, then a small COPY and RUN.
FROM busybox:latest
COPY data/payload.bin /data/payload.bin
RUN sha256sum /data/payload.bin > /data/payload.sum
COPY app/ /app/
RUN cat /app/version.txt /data/payload.sum > /app/info.txt
CMD ["cat", "/app/info.txt"]
"""
BIG_MIB = 200


def _populate_w3(ctx: Path) -> None:
    rng = random.Random(303)
    path = ctx / "data" / "payload.bin"
    path.parent.mkdir(parents=True)
    with open(path, "wb") as out:
        for _ in range(BIG_MIB):
            out.write(rng.randbytes(1 << 20))
    _write(ctx / "app" / "version.txt", "1\n")


W4 = """\
# w4: a context where most files are ignored; COPY . then list what arrived.
FROM busybox:latest
COPY . /ctx/
RUN cd /ctx && find . | sort > /arrived.txt && find . -type f | wc -l > /count.txt
CMD ["cat", "/count.txt"]
"""
W4_IGNORE = """\
.git
node_modules
**/__pycache__
**/*.pyc
*.log
**/*.tmp
build
!build/keep
dist/
docs/**/*.md
!docs/README.md
Dockerfile
.dockerignore
"""


def _populate_w4(ctx: Path) -> None:
    rng = random.Random(404)
    for d in range(8):
        for f in range(30):
            _write(ctx / "src" / f"pkg{d}" / f"m{f:02d}.py", _source(rng, f"pkg{d}.m{f}", 4))
        _write(ctx / "src" / f"pkg{d}" / "__pycache__" / "m00.cpython-311.pyc", rng.randbytes(400))
        _write(ctx / "src" / f"pkg{d}" / "old.pyc", rng.randbytes(200))
        _write(ctx / "src" / f"pkg{d}" / "notes.tmp", "scratch\n")
    _write(ctx / "src" / "main.py", "print('w4')\n")
    _write(ctx / "docs" / "README.md", "# kept\n")
    for i in range(15):
        _write(ctx / "docs" / "manual" / f"part{i:02d}.md", f"part {i}\n")
    for lib in range(300):
        for f in range(10):
            _write(ctx / "node_modules" / f"pkg{lib:03d}" / f"f{f}.js", f"module.exports = {rng.randint(0, 10**9)};\n")
    for i in range(600):
        _write(ctx / ".git" / "objects" / f"{i % 200:02x}" / f"{rng.getrandbits(144):036x}", rng.randbytes(rng.randint(50, 1500)))
    for i in range(200):
        _write(ctx / "build" / "obj" / f"o{i:03d}.o", rng.randbytes(800))
    for i in range(4):
        _write(ctx / "build" / "keep" / f"k{i}.txt", f"keep {i}\n")
    for i in range(40):
        _write(ctx / "dist" / f"w4-{i}.whl", rng.randbytes(1500))
    _write(ctx / "install.log", "ignored\n")


W5 = """\
# w5: a 100,000-file context; COPY of the whole tree.
FROM busybox:latest
COPY . /tree/
RUN find /tree -type f | wc -l > /count.txt
CMD ["cat", "/count.txt"]
"""
W5_IGNORE = """\
scratch
Dockerfile
.dockerignore
"""
W5_FILES = 100_000


def _populate_w5(ctx: Path) -> None:
    rng = random.Random(505)
    per_dir = 200
    for i in range(W5_FILES):
        d = ctx / "tree" / f"d{i // (per_dir * 25):02d}" / f"s{(i // per_dir) % 25:02d}"
        if i % per_dir == 0:
            d.mkdir(parents=True)
        with open(d / f"f{i:06d}.txt", "wb") as out:
            out.write(b"%d %x\n" % (i, rng.getrandbits(64)))
    for i in range(50):
        _write(ctx / "scratch" / f"tmp{i:02d}.dat", rng.randbytes(64))


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload("w1", "multi-stage, 2,000-file COPY, RUN steps", W1, _populate_w1, "src/lib07/unit042.py"),
        Workload("w2", "about 50 instructions", _w2_dockerfile(), _populate_w2, "conf/service.conf"),
        Workload("w3", "one 200 MiB file", W3, _populate_w3, "data/payload.bin"),
        Workload("w4", "many ignored files (.dockerignore)", W4, _populate_w4, "src/main.py", "node_modules/pkg000/f0.js", W4_IGNORE),
        Workload("w5", "100,000-file context", W5, _populate_w5, "tree/d00/s07/f001400.txt", "scratch/tmp00.dat", W5_IGNORE),
    )
}


def _fix_mtimes(root: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + dirnames:
            os.utime(os.path.join(dirpath, name), (MTIME, MTIME), follow_symlinks=False)
    os.utime(root, (MTIME, MTIME))


def generate(workload: Workload, dest: Path) -> Path:
    """Write `workload`'s context into `dest` (replaced if present) and return it."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    _write(dest / "Dockerfile", workload.dockerfile)
    if workload.dockerignore is not None:
        _write(dest / ".dockerignore", workload.dockerignore)
    workload.populate(dest)
    _fix_mtimes(dest)
    return dest


def mutate(workload: Workload, ctx: Path, counter: int, *, ignored: bool = False) -> Path:
    """Rewrite the workload's changed file (or its ignored file) with content no earlier run
    had: `counter` must grow from call to call. A big file is patched in place (its first 16
    bytes), as an editor saving it would not, but a data pipeline might."""
    rel = workload.ignored_file if ignored else workload.changed_file
    if rel is None:
        raise ValueError(f"{workload.name} has no ignored file")
    path = ctx / rel
    stamp = counter.to_bytes(16, "big")
    if path.stat().st_size > (1 << 20):
        with open(path, "r+b") as f:
            f.write(stamp)
    else:
        data = path.read_bytes()
        marker = b"\n# change "
        if marker in data:
            data = data[: data.index(marker)]
        path.write_bytes(data + marker + str(counter).encode() + b"\n")
    return path
