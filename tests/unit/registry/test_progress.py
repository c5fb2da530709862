"""Progress lines: what the CLI shows per blob, and the throttle that keeps a fast pull quiet."""

from __future__ import annotations

import pytest

pytest.importorskip("httpx", reason="httpx is not installed: add it to pyproject dependencies (pybuildkit.registry needs it)")

from pybuildkit.registry.progress import Progress, ProgressLines, Status, human_size

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("event", "line"),
    [
        (Progress("pull", Status.EXISTS, DIGEST, 10, 10), "abababababab: already in the store"),
        (Progress("push", Status.EXISTS, DIGEST, 10, 10), "abababababab: already in the registry"),
        (Progress("push", Status.MOUNTED, DIGEST, 10, 10), "abababababab: mounted from another repository"),
        (Progress("pull", Status.TRANSFER, DIGEST, 1 << 20, 3 << 20), "abababababab: downloading 1.0 MiB / 3.0 MiB"),
        (Progress("push", Status.TRANSFER, DIGEST, 0, 512), "abababababab: uploading 0 B / 512 B"),
        (Progress("pull", Status.DONE, DIGEST, 2048, 2048), "abababababab: verified (2.0 KiB)"),
        (Progress("push", Status.DONE, DIGEST, 2048, 2048), "abababababab: pushed (2.0 KiB)"),
        (Progress("push", Status.PUSHED, DIGEST), f"manifest {DIGEST} pushed"),
        (Progress("pull", Status.STORED, DIGEST), f"image {DIGEST} stored"),
        (Progress("pull", "unknown-status", DIGEST), None),
    ],
)
def test_lines(event: Progress, line: str | None) -> None:
    assert ProgressLines(lambda _: None).line(event) == line


def test_transfer_lines_are_throttled_per_blob() -> None:
    lines: list[str] = []
    render = ProgressLines(lines.append, interval=3600)
    other = "sha256:" + "cd" * 32
    for done in range(0, 10):
        render(Progress("pull", Status.TRANSFER, DIGEST, done, 10))
        render(Progress("pull", Status.TRANSFER, other, done, 10))
    render(Progress("pull", Status.DONE, DIGEST, 10, 10))
    assert len(lines) == 3 and lines[-1].endswith("verified (10 B)")


@pytest.mark.parametrize(("size", "text"), [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (5 << 30, "5.0 GiB")])
def test_human_size(size: int, text: str) -> None:
    assert human_size(size) == text
