"""Helpers for container tests: a store holding busybox plus images with the config fields the
override rules read (entrypoint, workdir, env, volumes, stop signal), and the CLI as a process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import attrs

from pybuildkit.store import Store
from tests.support.images import install_busybox

__all__ = ["make_store", "pybuild", "EP_IMAGE", "CONFIGURED_IMAGE"]

EP_IMAGE = "ep:latest"
CONFIGURED_IMAGE = "configured:latest"


def make_store(root: Path, workdir: Path) -> Path:
    """busybox, `ep` (ENTRYPOINT echo ep, CMD default) and `configured` (WORKDIR, ENV, VOLUME,
    STOPSIGNAL SIGUSR1) in a store at `root`."""
    with Store(root) as store:
        digest = install_busybox(store, workdir)
        base = store.image(digest)
        variants = {
            EP_IMAGE: {"entrypoint": ("echo", "ep"), "cmd": ("default",)},
            CONFIGURED_IMAGE: {
                "working_dir": "/tmp",
                "env": (*base.config.config.env, "A=from-image", "B=image"),
                "volumes": ("/etc",),
                "stop_signal": "SIGUSR1",
            },
        }
        for tag, fields in variants.items():
            config = attrs.evolve(base.config, config=attrs.evolve(base.config.config, **fields))
            store.put_image(config, list(base.layers), tags=[tag])
    return root


def pybuild(root: Path, *args: str, input: bytes | None = None, timeout: float = 30) -> subprocess.CompletedProcess[bytes]:
    """Run the CLI against the store at `root`; stdout and stderr captured."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run(
        [sys.executable, "-m", "pybuildkit.cli.main", "--root", str(root), *args],
        input=input,
        capture_output=True,
        timeout=timeout,
        env=env,
    )
