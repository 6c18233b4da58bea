"""Small SVG charts: axes with linear or logarithmic scales, lines, points and images.

The loss plot, the playground and the finite-difference explorer redraw many times a second
while a slider moves or a network trains.  Drawing them as SVG text here costs about a
millisecond and updates in place in the browser without flicker; rendering a plotting
library's figure to an image would cost a hundred times more.

An ``Axes`` maps data to pixels and draws its frame, ticks and labels; its methods return
SVG fragments to put inside ``svg_document``.  ``png_data_uri`` turns an array of colours
into a PNG (a heat map such as a decision boundary is one ``<image>``, not thousands of
rectangles), with zlib from the standard library.
"""

from __future__ import annotations

import base64
import itertools
import math
import os
import struct
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from .svg import escape

__all__ = ["Axes", "downsample", "png_data_uri"]

TICK_FONT = "10.5"
_CLIP_IDS = itertools.count()
GRID = "#e6e6e6"
AXIS = "#555555"


class Axes:
    """A rectangle of the picture (``left``, ``top``, ``width``, ``height`` in pixels)
    showing ``x_range`` by ``y_range`` of data, each on a linear or a log scale."""

    def __init__(
        self,
        left: float,
        top: float,
        width: float,
        height: float,
        x_range: tuple[float, float],
        y_range: tuple[float, float],
        *,
        x_log: bool = False,
        y_log: bool = False,
        title: str = "",
        x_label: str = "",
        y_label: str = "",
    ) -> None:
        self.left, self.top, self.width, self.height = left, top, width, height
        self.x_log, self.y_log = x_log, y_log
        self.x_range = _usable_range(x_range, x_log)
        self.y_range = _usable_range(y_range, y_log)
        self.title, self.x_label, self.y_label = title, x_label, y_label
        # Lines are clipped to the axes.  An id is global to the page, and a notebook shows
        # many pictures, so each clip region gets its own.
        self.clip = f"mg-clip-{os.getpid()}-{next(_CLIP_IDS)}"

    # ------------------------------------------------------------------ mapping

    def x(self, value: float) -> float:
        return self.left + self.width * _fraction(value, self.x_range, self.x_log)

    def y(self, value: float) -> float:
        return self.top + self.height * (1.0 - _fraction(value, self.y_range, self.y_log))

    def _visible(self, x: float, y: float) -> bool:
        ok = math.isfinite(x) and math.isfinite(y)
        if ok and self.x_log:
            ok = x > 0
        if ok and self.y_log:
            ok = y > 0
        return ok

    # ------------------------------------------------------------------ pieces

    def frame(self) -> str:
        """Grid lines, ticks with their labels, the box, the title and the axis labels."""
        out = [
            f'<defs><clipPath id="{self.clip}"><rect x="{self.left:.1f}" y="{self.top:.1f}" '
            f'width="{self.width:.1f}" height="{self.height:.1f}"/></clipPath></defs>'
        ]
        for value, label in _ticks(self.x_range, self.x_log):
            px = self.x(value)
            out.append(_vline(px, self.top, self.top + self.height, GRID))
            out.append(_text(px, self.top + self.height + 14, label, "middle"))
        for value, label in _ticks(self.y_range, self.y_log):
            py = self.y(value)
            out.append(_hline(self.left, self.left + self.width, py, GRID))
            out.append(_text(self.left - 5, py + 3.5, label, "end"))
        out.append(
            f'<rect x="{self.left:.1f}" y="{self.top:.1f}" width="{self.width:.1f}" '
            f'height="{self.height:.1f}" fill="none" stroke="{AXIS}" stroke-width="0.8"/>'
        )
        if self.title:
            out.append(
                f'<text x="{self.left + self.width / 2:.1f}" y="{self.top - 8:.1f}" '
                f'text-anchor="middle" font-weight="bold" font-size="12">'
                f"{escape(self.title)}</text>"
            )
        if self.x_label:
            out.append(
                _text(
                    self.left + self.width / 2,
                    self.top + self.height + 30,
                    self.x_label,
                    "middle",
                    "11.5",
                )
            )
        if self.y_label:
            cx, cy = self.left - 44, self.top + self.height / 2
            out.append(
                f'<text x="{cx:.1f}" y="{cy:.1f}" text-anchor="middle" font-size="11.5" '
                f'transform="rotate(-90 {cx:.1f} {cy:.1f})">{escape(self.y_label)}</text>'
            )
        return "".join(out)

    def line(
        self,
        xs: Sequence[float],
        ys: Sequence[float],
        colour: str,
        *,
        width: float = 1.6,
        dash: str = "",
        name: str = "",
    ) -> str:
        """A polyline through the points, broken where a point cannot be shown (nan, inf,
        or not positive on a log scale), and clipped to the axes."""
        segments, current = [], []
        for x, y in zip(xs, ys):
            if self._visible(float(x), float(y)):
                px, py = self.x(x), self.y(y)
                # far outside the axes only the direction matters: keep the numbers small
                py = _clamp(py, self.top - 10 * self.height, self.top + 11 * self.height)
                current.append(f"{px:.1f},{py:.1f}")
            elif current:
                segments.append(current)
                current = []
        if current:
            segments.append(current)
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        data = (
            f' data-name="{escape(name)}" data-points="{sum(map(len, segments))}"' if name else ""
        )
        return "".join(
            f'<polyline class="mg-line"{data} points="{" ".join(points)}" fill="none" '
            f'stroke="{colour}" stroke-width="{width}"{dashes} stroke-linejoin="round" '
            f'clip-path="url(#{self.clip})"/>'
            for points in segments
        )

    def points(
        self,
        xs: Sequence[float],
        ys: Sequence[float],
        colour: str,
        radius: float = 3.5,
        stroke: str = "#ffffff",
    ) -> str:
        return "".join(
            f'<circle cx="{self.x(x):.1f}" cy="{self.y(y):.1f}" r="{radius}" fill="{colour}" '
            f'stroke="{stroke}" stroke-width="0.8"/>'
            for x, y in zip(xs, ys)
            if self._visible(float(x), float(y)) and self._inside(x, y)
        )

    def _inside(self, x: float, y: float) -> bool:
        px, py = self.x(x), self.y(y)
        return (
            self.left - 1 <= px <= self.left + self.width + 1
            and self.top - 1 <= py <= self.top + self.height + 1
        )

    def vertical(self, x: float, colour: str, dash: str = "", width: float = 1.0) -> str:
        if not self._visible(x, self.y_range[1]):
            return ""
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        px = self.x(x)
        return (
            f'<line x1="{px:.1f}" y1="{self.top:.1f}" x2="{px:.1f}" '
            f'y2="{self.top + self.height:.1f}" stroke="{colour}" stroke-width="{width}"{dashes}/>'
        )

    def image(self, uri: str, x_range: tuple[float, float], y_range: tuple[float, float]) -> str:
        """A picture (a data URI) stretched over a rectangle of data coordinates."""
        x0, x1 = self.x(x_range[0]), self.x(x_range[1])
        y0, y1 = self.y(y_range[1]), self.y(y_range[0])
        return (
            f'<image href="{uri}" x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" '
            f'height="{y1 - y0:.1f}" preserveAspectRatio="none" style="image-rendering:auto"/>'
        )

    def legend(self, items: Sequence[tuple[str, str, str]], corner: str = "top right") -> str:
        """A key of (label, colour, dash) entries in a corner of the axes."""
        if not items:
            return ""
        width = max(len(label) for label, _, _ in items) * 6.6 + 34
        height = 15 * len(items) + 6
        x = self.left + self.width - width - 6 if "right" in corner else self.left + 6
        y = self.top + 6 if "top" in corner else self.top + self.height - height - 6
        out = [
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
            f'fill="#ffffff" fill-opacity="0.85" stroke="#cccccc" stroke-width="0.6"/>'
        ]
        for k, (label, colour, dash) in enumerate(items):
            ly = y + 13 + 15 * k
            dashes = f' stroke-dasharray="{dash}"' if dash else ""
            out.append(
                f'<line x1="{x + 6:.1f}" y1="{ly - 4:.1f}" x2="{x + 24:.1f}" y2="{ly - 4:.1f}" '
                f'stroke="{colour}" stroke-width="2"{dashes}/>'
            )
            out.append(_text(x + 28, ly, label, "start", "10.5"))
        return "".join(out)


def downsample(xs: Sequence[float], ys: Sequence[float], buckets: int) -> tuple[list, list]:
    """At most about 2 * ``buckets`` points that keep the shape of a long curve: each bucket
    of consecutive points keeps its lowest and its highest (in their order), so spikes
    survive, which a plain every-k-th-point thinning would lose."""
    n = len(xs)
    if n <= 2 * buckets:
        return list(xs), list(ys)
    x_out, y_out = [], []
    size = n / buckets
    for b in range(buckets):
        start, stop = int(b * size), int((b + 1) * size)
        chunk = ys[start:stop]
        finite = [k for k, y in enumerate(chunk) if math.isfinite(y)]
        if not finite:
            continue
        low = min(finite, key=lambda k: chunk[k])
        high = max(finite, key=lambda k: chunk[k])
        for k in sorted({low, high}):
            x_out.append(xs[start + k])
            y_out.append(chunk[k])
    return x_out, y_out


def png_data_uri(rgb: np.ndarray) -> str:
    """An (height, width, 3) array of 0..255 colours as a PNG data URI.

    A PNG is a signature and three chunks (header, compressed pixel rows, end), each with its
    length and a CRC; every row starts with a filter byte, 0 for none.
    """
    pixels = np.ascontiguousarray(np.clip(rgb, 0, 255).astype(np.uint8))
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError(f"png_data_uri needs an (height, width, 3) array, not shape {rgb.shape}")
    height, width, _ = pixels.shape
    rows = np.concatenate([np.zeros((height, 1), np.uint8), pixels.reshape(height, -1)], axis=1)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


# ---------------------------------------------------------------------- helpers


def _usable_range(bounds: tuple[float, float], log: bool) -> tuple[float, float]:
    low, high = (float(b) for b in bounds)
    if log:
        low = low if low > 0 and math.isfinite(low) else 1e-12
        high = high if high > low and math.isfinite(high) else low * 10
    else:
        if not (math.isfinite(low) and math.isfinite(high)):
            low, high = 0.0, 1.0
        if high <= low:
            pad = abs(low) * 0.1 or 1.0
            low, high = low - pad, high + pad
    return low, high


def _fraction(value: float, bounds: tuple[float, float], log: bool) -> float:
    low, high = bounds
    if log:
        return (math.log10(value) - math.log10(low)) / (math.log10(high) - math.log10(low))
    return (value - low) / (high - low)


def _ticks(bounds: tuple[float, float], log: bool) -> list[tuple[float, str]]:
    low, high = bounds
    if log:
        first, last = math.ceil(math.log10(low) - 1e-9), math.floor(math.log10(high) + 1e-9)
        every = max(1, math.ceil((last - first + 1) / 8))
        return [(10.0**k, _power_label(k)) for k in range(first, last + 1) if k % every == 0]
    span = high - low
    raw = span / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = start
    while value <= high + step * 1e-9:
        ticks.append((value, f"{value:.10g}" if abs(value) > step * 1e-6 else "0"))
        value += step
    return ticks


def _power_label(k: int) -> str:
    return {0: "1", 1: "10"}.get(k, f"1e{k}")


def _clamp(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


def _vline(x: float, y0: float, y1: float, colour: str) -> str:
    return _segment(x, y0, x, y1, colour)


def _hline(x0: float, x1: float, y: float, colour: str) -> str:
    return _segment(x0, y, x1, y, colour)


def _segment(x0: float, y0: float, x1: float, y1: float, colour: str) -> str:
    return (
        f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" stroke="{colour}" '
        f'stroke-width="0.8"/>'
    )


def _text(x: float, y: float, content: Any, anchor: str, size: str = TICK_FONT) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="#333333">{escape(content)}</text>'
    )
