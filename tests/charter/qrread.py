"""Read the module matrix back out of a segno SVG, to check what a QR code encodes."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

# The dark modules are the stroked path (segno draws the light background as a filled one).
PATH = re.compile(r'<path[^>]*\sstroke="[^"]+"[^>]*\sd="([^"]+)"')
COMMAND = re.compile(r"([A-Za-z])\s*(-?[\d.]+)(?:[\s,]+(-?[\d.]+))?")


def svg_matrix(svg: str, *, border: int = 4) -> list[list[int]]:
    """The dark modules of the one QR path in `svg`, as rows of 0/1 (quiet zone removed).

    segno draws each run of dark modules as a horizontal stroke one module wide,
    centred on the row: `M x y` / `m dx dy` move, `h n` draws n modules.
    """
    paths = PATH.findall(svg)
    assert len(paths) == 1, f"expected one QR path, found {len(paths)}"
    dark: set[tuple[int, int]] = set()
    x = y = 0.0
    for command, first, second in COMMAND.findall(paths[0]):
        if command in "Mm":
            dx, dy = float(first), float(second)
            x, y = (dx, dy) if command == "M" else (x + dx, y + dy)
        elif command == "h":
            length = int(float(first))
            row = math.floor(y)
            dark.update((row, int(x) + i) for i in range(length))
            x += length
        else:
            raise AssertionError(f"unexpected path command {command!r}")
    size = max(max(r for r, _ in dark), max(c for _, c in dark)) + 1 - border
    return [
        [1 if (row + border, col + border) in dark else 0 for col in range(size)]
        for row in range(size)
    ]


def segno_matrix(matrix: Iterable[Iterable[int]]) -> list[list[int]]:
    return [[1 if v else 0 for v in row] for row in matrix]
