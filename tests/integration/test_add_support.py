"""Helpers for the ADD tests (no tests here): a static HTTP server on 127.0.0.1 started and
stopped by each test, and small tree readers."""

from __future__ import annotations

import contextlib
import email.utils
import functools
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path

__all__ = ["serve", "tree"]


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Static files (with Last-Modified, as SimpleHTTPRequestHandler sends), plus `/?named=<file>`
    which serves `<file>` with a Content-Disposition naming it `attachment-<file>`."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet tests
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path.startswith("/?named="):
            name = self.path[len("/?named=") :]
            path = Path(self.directory) / name
            if not path.is_file():
                self.send_error(404)
                return
            data = path.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Content-Disposition", f'attachment; filename="attachment-{name}"')
            self.send_header("Last-Modified", email.utils.formatdate(path.stat().st_mtime, usegmt=True))
            self.end_headers()
            self.wfile.write(data)
            return
        super().do_GET()


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve `directory` on an ephemeral 127.0.0.1 port; yields the base URL."""
    handler = functools.partial(_Handler, directory=os.fspath(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def tree(root: Path) -> dict[str, str]:
    """`{relpath: "dir" | "link:<target>" | content}` of everything below `root`."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            if os.path.islink(full):
                out[rel] = "link:" + os.readlink(full)
            elif os.path.isdir(full):
                out[rel] = "dir"
            else:
                with open(full, "rb") as handle:
                    out[rel] = handle.read().decode("utf-8", "replace")
    return out
