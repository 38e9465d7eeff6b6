"""Pillow drawing for the panel's peer and location map: markers, dashed lines, labels, key.

The map used to be drawn with matplotlib, whose per-text layout and glyph drawing was most of
the time of drafting the panel minutes (about 0.8 s of CPU for a 40-case panel). The picture
needs none of what matplotlib adds (axes, ticks, transforms), so it is drawn here directly:
each label is measured once with FreeType and stamped, and the lines and markers are plain
polygons. Sizes are given in points on paper and turned into pixels at the print resolution,
so the map still prints at its designed size with labels at least 8 pt.

The font is DejaVu Sans as bundled with matplotlib (a declared dependency, still used for the
timeliness charts), never a system font, so the same input gives the same bytes on every
installation with the same packages. The basic layout engine is asked for explicitly: it is
what matplotlib used (no complex-script shaping), and whether libraqm happens to be present
then cannot change the picture.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import ImageDraw, ImageFont

Colour = str
Point = tuple[float, float]
Box = tuple[float, float, float, float]  # left, top, right, bottom in pixels

BACKGROUND = "#ffffff"
OUTLINE = "#222222"  # markers' edge
FRAME = "#cccccc"  # the key's frame, as matplotlib drew it
LABEL_BACKING = (255, 255, 255, 178)  # white at 70 %: lines stay visible under a label
DASH_PATTERN = (3.7, 1.6)  # matplotlib's dashes and gaps, in line widths
MARKER_EDGE_POINTS = 0.5
LINE_SPACING = 1.2  # multi-line labels, as matplotlib spaces them


@functools.cache
def fonts_directory() -> str:
    """matplotlib's bundled DejaVu fonts, found without importing matplotlib (its import reads
    its settings, which the first map of a process would otherwise wait for)."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or spec.origin is None:
        raise RuntimeError("matplotlib, which bundles the map's fonts, is not installed")
    return os.path.join(os.path.dirname(spec.origin), "mpl-data", "fonts", "ttf")


def load_font(pixels: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
    """DejaVu Sans at `pixels` per em. Loaded per picture (about 40 µs): a shared font object
    would be used from the bot's worker threads at once."""
    from PIL import ImageFont

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(
        os.path.join(fonts_directory(), name), pixels, layout_engine=ImageFont.Layout.BASIC
    )


def text_width(font: ImageFont.FreeTypeFont, text: str) -> float:
    return float(font.getlength(text))


def wrap(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """The text's lines (its own line breaks kept) each at most `width` pixels wide, broken
    between words, or inside a word longer than the width, so no text runs off the picture."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if text_width(font, candidate) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = ""
            for character in word:  # a word wider than the width is broken where it must be
                if line and text_width(font, line + character) > width:
                    lines.append(line)
                    line = ""
                line += character
        lines.append(line)
    return lines


def ellipsised(text: str, font: ImageFont.FreeTypeFont, width: float) -> str:
    """The text with an ellipsis after as much of it as fits in `width` pixels."""
    while text and text_width(font, f"{text}…") > width:
        text = text[:-1]
    return f"{text.rstrip()}…"


@dataclass(frozen=True)
class TextBlock:
    """Lines of text measured once: drawn centred (labels, the key's title) or from the left."""

    lines: tuple[str, ...]
    font: ImageFont.FreeTypeFont
    line_height: float
    width: float

    @classmethod
    def of(cls, lines: Sequence[str], font: ImageFont.FreeTypeFont) -> TextBlock:
        size = float(font.size)
        return cls(
            tuple(lines),
            font,
            round(size * LINE_SPACING),
            max((text_width(font, line) for line in lines), default=0.0),
        )

    @property
    def height(self) -> float:
        ascent, descent = self.font.getmetrics()
        return self.line_height * (len(self.lines) - 1) + ascent + descent

    def draw(self, draw: ImageDraw.ImageDraw, x: float, top: float, fill: Colour, *, centred: bool) -> None:
        anchor = "ma" if centred else "la"  # x is the middle or the left; top is the ascender line
        for number, line in enumerate(self.lines):
            draw.text((x, top + number * self.line_height), line, font=self.font, fill=fill, anchor=anchor)


def dashes(start: Point, end: Point, on: float, off: float) -> list[tuple[Point, Point]]:
    """The drawn pieces of a dashed line from start to end (Pillow draws only solid lines)."""
    (x0, y0), (x1, y1) = start, end
    length = math.hypot(x1 - x0, y1 - y0)
    if length == 0:
        return []
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    pieces: list[tuple[Point, Point]] = []
    at = 0.0
    while at < length:
        stop = min(at + on, length)
        pieces.append(((x0 + ux * at, y0 + uy * at), (x0 + ux * stop, y0 + uy * stop)))
        at = stop + off
    return pieces


def line(
    draw: ImageDraw.ImageDraw, start: Point, end: Point, colour: Colour, width: int, *, dashed: bool
) -> None:
    if not dashed:
        draw.line((start, end), fill=colour, width=width)
        return
    on, off = (part * width for part in DASH_PATTERN)  # scaled by the width, as matplotlib does
    for piece in dashes(start, end, on, off):
        draw.line(piece, fill=colour, width=width)


def marker_outline(marker: str, centre: Point, radius: float) -> list[Point]:
    """The polygon of a matplotlib marker of diameter 2 * radius ('s', 'D', '^', 'h'): a
    square of side 2r, that square turned 45 degrees, a triangle 2r wide and high, and a
    hexagon standing on a corner, so each kind keeps the shape it had."""
    x, y = centre
    if marker == "s":
        return [
            (x - radius, y - radius),
            (x + radius, y - radius),
            (x + radius, y + radius),
            (x - radius, y + radius),
        ]
    if marker == "D":
        half_diagonal = radius * math.sqrt(2)
        return [
            (x, y - half_diagonal),
            (x + half_diagonal, y),
            (x, y + half_diagonal),
            (x - half_diagonal, y),
        ]
    if marker == "^":
        return [(x, y - radius), (x + radius, y + radius), (x - radius, y + radius)]
    if marker == "h":
        return [
            (x + radius * math.sin(math.radians(60 * n)), y - radius * math.cos(math.radians(60 * n)))
            for n in range(6)
        ]
    raise ValueError(f"no outline for marker {marker!r}")


def marker_reach(marker: str, radius: float) -> float:
    """How far the marker reaches up, down or sideways (a diamond's corners pass the radius)."""
    return radius * math.sqrt(2) if marker == "D" else radius


def marker(
    draw: ImageDraw.ImageDraw, marker: str, centre: Point, radius: float, colour: Colour, edge: int
) -> None:
    if marker == "o":
        x, y = centre
        draw.ellipse(
            (x - radius, y - radius, x + radius, y + radius), fill=colour, outline=OUTLINE, width=edge
        )
    else:
        draw.polygon(marker_outline(marker, centre, radius), fill=colour, outline=OUTLINE, width=edge)


def hollow_dashed_circle(
    draw: ImageDraw.ImageDraw, centre: Point, radius: float, colour: Colour, width: int
) -> None:
    """A stepped-down child: white inside, a dashed grey rim (12 dashes, each 2/3 drawn)."""
    x, y = centre
    box = (x - radius, y - radius, x + radius, y + radius)
    draw.ellipse(box, fill=BACKGROUND)
    for dash in range(12):
        draw.arc(box, dash * 30, dash * 30 + 20, fill=colour, width=width)


def label_with_backing(
    draw: ImageDraw.ImageDraw, block: TextBlock, centre_x: float, top: float, colour: Colour, pad: float
) -> Box:
    """A label centred on centre_x below `top`, on a pale rounded backing; its box returned."""
    box = (
        centre_x - block.width / 2 - pad,
        top - pad,
        centre_x + block.width / 2 + pad,
        top + block.height + pad,
    )
    draw.rounded_rectangle(box, radius=pad * 2, fill=LABEL_BACKING)
    block.draw(draw, centre_x, top, colour, centred=True)
    return box
