"""`make demo`: build the example multi-stage image into the default store and run it.

The context is assembled in .demo/context from examples/demo plus the host's static busybox
(Debian's busybox-static), so the demo needs no registry and no network.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BUSYBOX = Path("/bin/busybox")


def pybuild(*args: str) -> None:
    command = [str(Path(sys.executable).with_name("pybuild")), *args]
    print("$ pybuild " + " ".join(args), flush=True)
    status = subprocess.run(command).returncode
    if status != 0:
        sys.exit(status)


def main() -> None:
    if not BUSYBOX.exists():
        sys.exit("the demo needs Debian's busybox-static (/bin/busybox): run `make install` as root")
    context = REPO / ".demo" / "context"
    if context.exists():
        shutil.rmtree(context)
    shutil.copytree(HERE / "demo", context)
    shutil.copy2(BUSYBOX, context / "busybox")
    pybuild("build", "--progress=plain", "-t", "pybuild-demo:latest", str(context))
    print(flush=True)
    print("Rebuilding with nothing changed: every step comes from the cache.", flush=True)
    pybuild("build", "--progress=plain", "-t", "pybuild-demo:latest", str(context))
    print(flush=True)
    pybuild("images")
    pybuild("run", "--rm", "pybuild-demo:latest")


if __name__ == "__main__":
    main()
