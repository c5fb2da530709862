"""The ratio chart (results/ratios.png), drawn without any plotting library.

A bar per workload and scenario: median pybuild seconds over median peer seconds (docker dark,
buildah light), a line at 1.0 (parity) and each scenario's target as a short red tick. The bench
must run on a bare venv, so the PNG is written by hand: an RGB canvas, a 3x5 pixel font for the
labels, zlib and struct for the file format.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

__all__ = ["Canvas", "write_png", "write_ratio_chart"]

_FONT = {  # 3x5 glyphs, rows top to bottom, '#' = ink
    "0": ("###", "#.#", "#.#", "#.#", "###"), "1": (".#.", "##.", ".#.", ".#.", "###"),
    "2": ("###", "..#", "###", "#..", "###"), "3": ("###", "..#", ".##", "..#", "###"),
    "4": ("#.#", "#.#", "###", "..#", "..#"), "5": ("###", "#..", "###", "..#", "###"),
    "6": ("###", "#..", "###", "#.#", "###"), "7": ("###", "..#", ".#.", ".#.", ".#."),
    "8": ("###", "#.#", "###", "#.#", "###"), "9": ("###", "#.#", "###", "..#", "###"),
    ".": ("...", "...", "...", "...", ".#."), "-": ("...", "...", "###", "...", "..."),
    "/": ("..#", "..#", ".#.", "#..", "#.."), " ": ("...", "...", "...", "...", "..."),
    ":": ("...", ".#.", "...", ".#.", "..."), "=": ("...", "###", "...", "###", "..."),
    "a": (".#.", "#.#", "###", "#.#", "#.#"), "b": ("##.", "#.#", "##.", "#.#", "##."),
    "c": (".##", "#..", "#..", "#..", ".##"), "d": ("##.", "#.#", "#.#", "#.#", "##."),
    "e": ("###", "#..", "##.", "#..", "###"), "f": ("###", "#..", "##.", "#..", "#.."),
    "g": (".##", "#..", "#.#", "#.#", ".##"), "h": ("#.#", "#.#", "###", "#.#", "#.#"),
    "i": ("###", ".#.", ".#.", ".#.", "###"), "j": ("..#", "..#", "..#", "#.#", ".#."),
    "k": ("#.#", "#.#", "##.", "#.#", "#.#"), "l": ("#..", "#..", "#..", "#..", "###"),
    "m": ("#.#", "###", "###", "#.#", "#.#"), "n": ("##.", "#.#", "#.#", "#.#", "#.#"),
    "o": (".#.", "#.#", "#.#", "#.#", ".#."), "p": ("##.", "#.#", "##.", "#..", "#.."),
    "q": (".#.", "#.#", "#.#", "##.", ".##"), "r": ("##.", "#.#", "##.", "#.#", "#.#"),
    "s": (".##", "#..", ".#.", "..#", "##."), "t": ("###", ".#.", ".#.", ".#.", ".#."),
    "u": ("#.#", "#.#", "#.#", "#.#", "###"), "v": ("#.#", "#.#", "#.#", "#.#", ".#."),
    "w": ("#.#", "#.#", "###", "###", "#.#"), "x": ("#.#", "#.#", ".#.", "#.#", "#.#"),
    "y": ("#.#", "#.#", ".#.", ".#.", ".#."), "z": ("###", "..#", ".#.", "#..", "###"),
}  # fmt: skip

_SHORT = {"cold": "cold", "nochange": "same", "onefile": "1file", "ignored": "ign"}
Color = tuple[int, int, int]
WHITE: Color = (255, 255, 255)
BLACK: Color = (0, 0, 0)
GREY: Color = (200, 200, 200)
RED: Color = (200, 30, 30)
PEER_COLORS: dict[str, Color] = {"docker": (40, 90, 170), "buildah": (140, 180, 230)}


class Canvas:
    """An RGB image in a bytearray, with just the drawing the chart needs."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(WHITE * (width * height))

    def rect(self, x0: int, y0: int, x1: int, y1: int, color: Color) -> None:
        x0, x1 = max(0, min(x0, x1)), min(self.width, max(x0, x1))
        y0, y1 = max(0, min(y0, y1)), min(self.height, max(y0, y1))
        row = bytes(color) * (x1 - x0)
        for y in range(y0, y1):
            start = (y * self.width + x0) * 3
            self.pixels[start : start + len(row)] = row

    def text(self, x: int, y: int, text: str, color: Color = BLACK, scale: int = 2) -> None:
        for ch in text.lower():
            glyph = _FONT.get(ch, _FONT[" "])
            for gy, line in enumerate(glyph):
                for gx, cell in enumerate(line):
                    if cell == "#":
                        self.rect(x + gx * scale, y + gy * scale, x + (gx + 1) * scale, y + (gy + 1) * scale, color)
            x += 4 * scale


def write_png(canvas: Canvas, path: Path) -> None:
    """Write `canvas` as an 8-bit RGB PNG, atomically."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    stride = canvas.width * 3
    raw = b"".join(b"\x00" + bytes(canvas.pixels[y * stride : (y + 1) * stride]) for y in range(canvas.height))
    header = struct.pack(">IIBBBBB", canvas.width, canvas.height, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def write_ratio_chart(results: list[dict], path: Path, *, targets: dict[str, float] | None = None) -> None:  # type: ignore[type-arg]
    """Bars of pybuild/peer median ratios for every workload and scenario in `results`."""
    targets = targets if targets is not None else {"cold": 1.0, "nochange": 0.7, "onefile": 0.8}
    groups: list[tuple[str, dict[str, float], float | None]] = []
    for r in results:
        for scenario in r["scenarios"]:
            per_tool = r["summary"].get(scenario, {})
            mine = per_tool.get("pybuild")
            if not mine:
                continue
            ratios = {p: mine["median"] / s["median"] for p, s in per_tool.items() if p != "pybuild" and s["median"] > 0}
            target = 0.7 if (r["workload"] == "w3" and scenario == "cold") else targets.get(scenario)
            groups.append((f"{r['workload']} {_SHORT.get(scenario, scenario)}", ratios, target))
    peers = [p for p in PEER_COLORS if any(p in g[1] for g in groups)]
    top = max([2.0] + [min(v, 4.0) for _, ratios, _ in groups for v in ratios.values()])
    top = float(int(top * 2 + 1)) / 2
    left, right, upper, lower = 70, 20, 50, 120
    bar, gap = 14, 18
    width = left + right + max(1, len(groups)) * (bar * max(1, len(peers)) + gap)
    height = 420
    c = Canvas(max(width, 640), height)
    plot_h = height - upper - lower

    def y_of(v: float) -> int:
        return upper + plot_h - int(min(v, top) / top * plot_h)

    step = 0.5
    v = 0.0
    while v <= top + 1e-9:
        c.rect(left, y_of(v), c.width - right, y_of(v) + 1, GREY)
        c.text(8, y_of(v) - 5, f"{v:.1f}x")
        v += step
    c.rect(left, y_of(1.0) - 1, c.width - right, y_of(1.0) + 1, BLACK)
    c.text(left, 12, "pybuild / peer, median seconds (lower is better)")
    c.text(left, height - 16, "same: no change. 1file: one file changed. ign: an ignored file changed")
    lx = left
    for p in peers:
        c.rect(lx, 32, lx + 12, 42, PEER_COLORS[p])
        c.text(lx + 16, 32, p)
        lx += 16 + 8 * (len(p) + 2)
    c.rect(lx, 36, lx + 14, 38, RED)
    c.text(lx + 18, 32, "target")
    x = left + gap // 2
    for label, ratios, target in groups:
        for i, p in enumerate(peers):
            if p in ratios:
                c.rect(x + i * bar, y_of(ratios[p]), x + (i + 1) * bar - 2, y_of(0), PEER_COLORS[p])
        group_w = bar * max(1, len(peers))
        if target is not None and "docker" in ratios:
            c.rect(x - 3, y_of(target) - 1, x + group_w + 1, y_of(target) + 2, RED)
        for j, ch in enumerate(label):  # vertical label, one glyph per line
            c.text(x + group_w // 2 - 3, y_of(0) + 8 + j * 12, ch)
        x += group_w + gap
    write_png(c, path)
