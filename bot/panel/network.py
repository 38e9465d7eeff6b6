"""The panel's peer and location map: who and where links the children the panel reviews.

Contextual safeguarding asks the panel to see harm beyond the family: the same older peer,
suspected perpetrator, park or school turning up in several children's cases. This module
draws those links as a PNG for the minutes. It knows nothing of the database or Slack: the
panel service hands it nodes and edges and puts the picture into the Word document.

The picture is deterministic (sorted input, a fixed layout seed, a bundled font, no
metadata in the PNG), so re-rendering an unchanged panel gives the same image and the same
document hash. networkx places the nodes (a spring layout); Pillow draws them
(`bot.panel.map_drawing`), which for a 40-case panel is several times quicker than the
matplotlib figure it replaces and needs no global state, so it is safe in the bot's worker
threads. Both are imported inside `draw_network`, so importing this module (the bot does at
start-up) stays cheap.
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from bot.panel import map_drawing as drawing

if TYPE_CHECKING:
    from PIL import Image, ImageDraw

NODE_KINDS = ("child", "peer", "suspected_perpetrator", "location", "school", "peer_group")
EDGE_KINDS = ("peer", "suspected_perpetrator", "location", "school", "peer_group", "linked_case")

# Drawn at its print size: 16 cm wide in the minutes (bot.minutes.documents.IMAGE_WIDTH_CM),
# so a point in the figure is a point on paper and labels are at least LABEL_POINTS there.
PRINT_WIDTH_IN, PRINT_HEIGHT_IN, DPI = 16 / 2.54, 12 / 2.54, 254
WIDTH_PX, HEIGHT_PX = round(PRINT_WIDTH_IN * DPI), round(PRINT_HEIGHT_IN * DPI)
LABEL_POINTS = 8.0
TITLE_POINTS = 10.0
LAYOUT_SEED = 20261124
PIXELS_PER_POINT = DPI / 72
# A label is wrapped at 4.2 cm, so one long name cannot squeeze the whole map to the middle.
LABEL_MAX_WIDTH_PX = round(4.2 / 2.54 * DPI)
MARGIN_PX = round(0.01 * WIDTH_PX)  # kept clear at the picture's edges
# zlib level for the PNG, chosen for speed. Measured on the 160-node map: level 3 writes it
# in about 35 ms and 265 KB, level 1 in about the same time and 279 KB, and the default 6
# takes about 52 ms for 280 KB (deeper searches find little more in flat colours and
# anti-aliased text).
PNG_COMPRESSION = 3
TITLE_MAX_LINES = 3  # a longer title is cut short with an ellipsis
STEPPED_DOWN_GREY = "#888888"
# Pictures kept (about 0.3 MB each): a sitting's copies, and a few sittings drafted at once.
MAPS_KEPT = 8

# Okabe-Ito colours (distinguishable with the common colour-vision deficiencies), and a
# different marker for each kind, so the map still reads when printed in black and white.
_NODE_STYLE: dict[str, tuple[str, str, str, float]] = {
    # kind: (legend label, colour, marker, size in points squared)
    "child": ("Child", "#0072B2", "o", 170.0),
    "peer": ("Peer", "#56B4E9", "o", 90.0),
    "suspected_perpetrator": ("Suspected perpetrator", "#D55E00", "D", 120.0),
    "location": ("Location", "#009E73", "s", 120.0),
    "school": ("School", "#E69F00", "^", 140.0),
    "peer_group": ("Peer group", "#CC79A7", "h", 150.0),
}
_EDGE_STYLE: dict[str, tuple[str, str, Literal["solid", "dashed"], float]] = {
    # kind: (legend label, colour, line style, width)
    "peer": ("Peer link", "#56B4E9", "solid", 1.0),
    "suspected_perpetrator": ("Suspected perpetrator link", "#D55E00", "solid", 1.4),
    "location": ("Seen at / linked to place", "#009E73", "solid", 1.0),
    "school": ("Attends", "#E69F00", "solid", 1.0),
    "peer_group": ("Member of", "#CC79A7", "solid", 1.0),
    "linked_case": ("Linked case", "#555555", "dashed", 1.0),
}


@dataclass(frozen=True)
class NetworkNode:
    """A child, peer, suspected perpetrator, location, school or peer group on the map."""

    key: str
    label: str
    kind: str
    stepped_down: bool = False  # drawn apart: hollow, grey, and said in its label


@dataclass(frozen=True)
class NetworkEdge:
    """A link recorded between two nodes (by key), e.g. a child seen at a location."""

    a: str
    b: str
    kind: str


def _checked(
    nodes: Iterable[NetworkNode], edges: Iterable[NetworkEdge]
) -> tuple[list[NetworkNode], list[tuple[str, str, str]]]:
    """Sorted, de-duplicated input; a bad kind or an edge to an unknown node is a caller's
    bug, so it fails loudly rather than leaving a link silently off a safeguarding record."""
    by_key: dict[str, NetworkNode] = {}
    for node in nodes:
        if node.kind not in _NODE_STYLE:
            raise ValueError(f"unknown node kind {node.kind!r} for {node.key!r}")
        if node.key in by_key and by_key[node.key] != node:
            raise ValueError(f"two different nodes share the key {node.key!r}")
        by_key[node.key] = node
    links: set[tuple[str, str, str]] = set()
    for edge in edges:
        if edge.kind not in _EDGE_STYLE:
            raise ValueError(f"unknown edge kind {edge.kind!r} between {edge.a!r} and {edge.b!r}")
        for end in (edge.a, edge.b):
            if end not in by_key:
                raise ValueError(f"edge {edge.a!r}-{edge.b!r} names {end!r}, which is not a node")
        if edge.a == edge.b:
            continue
        a, b = sorted((edge.a, edge.b))  # the map is undirected: A-B and B-A are one link
        links.add((a, b, edge.kind))
    ordered = sorted(by_key.values(), key=lambda node: (NODE_KINDS.index(node.kind), node.key))
    return ordered, sorted(links)


def _points(points: float) -> float:
    return points * PIXELS_PER_POINT


def _font_pixels(points: float) -> int:
    """Whole pixels per em, rounded up so text is never smaller on paper than asked."""
    return math.ceil(_points(points) - 1e-9)


@dataclass(frozen=True)
class DrawnMap:
    """The map before encoding, with where each text was put (labels, title, key) so the
    tests can check that nothing runs off the picture."""

    image: Image.Image
    text_boxes: tuple[drawing.Box, ...]


def _positions(
    ordered: list[NetworkNode], links: list[tuple[str, str, str]]
) -> tuple[dict[str, tuple[float, float]], dict[tuple[str, str], str]]:
    """networkx's spring layout (fixed seed), and the one kind drawn for each linked pair."""
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(node.key for node in ordered)
    for a, b, kind in links:
        if not graph.has_edge(a, b):  # two kinds of link between one pair: draw the first
            graph.add_edge(a, b, kind=kind)
    count = graph.number_of_nodes()
    # Spread nodes further apart than the default when there are few, so labels have room.
    layout = nx.spring_layout(
        graph, seed=LAYOUT_SEED, k=2.2 / math.sqrt(count), iterations=60 if count <= 300 else 30
    )
    positions = {key: (float(x), float(y)) for key, (x, y) in layout.items()}
    return positions, {(a, b): data["kind"] for a, b, data in graph.edges(data=True)}


def _legend_entries(ordered: list[NetworkNode], drawn_kinds: set[str]) -> list[tuple[str, str, str]]:
    """(what to draw, colour, label) for every kind on the map: links first, then nodes."""
    entries = [
        ("dashed" if style == "dashed" else f"line:{width}", colour, label)
        for kind, (label, colour, style, width) in _EDGE_STYLE.items()
        if kind in drawn_kinds
    ]
    shown = {node.kind for node in ordered if not node.stepped_down}
    entries += [
        (f"marker:{marker}", colour, label)
        for kind, (label, colour, marker, _) in _NODE_STYLE.items()
        if kind in shown
    ]
    if any(node.stepped_down for node in ordered):
        entries.append(("hollow", STEPPED_DOWN_GREY, "Child, stepped down"))
    return entries


def _draw_key(
    draw: ImageDraw.ImageDraw, entries: list[tuple[str, str, str]], font_pixels: int, bottom: float
) -> drawing.Box:
    """The key, centred across the foot of the picture in 3 columns filled top to bottom (as
    matplotlib's legend was), framed, titled 'Key'; its box returned."""
    font = drawing.load_font(font_pixels)
    size = float(font_pixels)
    border, row_gap, handle, handle_gap, column_gap = (
        0.4 * size,
        0.5 * size,
        2.0 * size,
        0.8 * size,
        2.0 * size,
    )
    rows = math.ceil(len(entries) / 3)
    columns = [entries[start : start + rows] for start in range(0, len(entries), rows)]
    texts = [[drawing.TextBlock.of([label], font) for _, _, label in column] for column in columns]
    title = drawing.TextBlock.of(["Key"], font)
    row_height = title.height
    widths = [handle + handle_gap + max(block.width for block in column) for column in texts]
    width = 2 * border + sum(widths) + column_gap * (len(widths) - 1)
    height = 2 * border + title.height + row_gap + rows * row_height + (rows - 1) * row_gap
    left, top = (WIDTH_PX - width) / 2, bottom - height
    draw.rounded_rectangle(
        (left, top, left + width, bottom), radius=0.2 * size, fill="#ffffff", outline=drawing.FRAME, width=3
    )
    title.draw(draw, left + width / 2, top + border, "#000000", centred=True)
    line_width = max(1, round(_points(1.0)))
    marker_radius = _points(8.0) / 2
    x = left + border
    for column, blocks, column_width in zip(columns, texts, widths, strict=True):
        y = top + border + title.height + row_gap
        for (what, colour, _), block in zip(column, blocks, strict=True):
            middle = y + row_height / 2
            start, end = (x, middle), (x + handle, middle)
            centre = (x + handle / 2, middle)
            if what == "dashed":
                drawing.line(draw, start, end, colour, line_width, dashed=True)
            elif what.startswith("line:"):
                drawing.line(draw, start, end, colour, round(_points(float(what[5:]))), dashed=False)
            elif what.startswith("marker:"):
                drawing.marker(draw, what[7:], centre, marker_radius, colour, round(_points(1.0)))
            else:
                drawing.hollow_dashed_circle(draw, centre, marker_radius, colour, round(_points(1.0)))
            block.draw(draw, x + handle + handle_gap, y, "#000000", centred=False)
            y += row_height + row_gap
        x += column_width + column_gap
    return (left, top, left + width, bottom)


def _draw_title(draw: ImageDraw.ImageDraw, title: str) -> drawing.Box:
    """The title in bold at the top left, wrapped rather than run off the picture (at most
    TITLE_MAX_LINES lines: the minutes give the panel's name in full anyway)."""
    font = drawing.load_font(_font_pixels(TITLE_POINTS), bold=True)
    width = WIDTH_PX - 2 * MARGIN_PX
    lines = drawing.wrap(title, font, width)
    if len(lines) > TITLE_MAX_LINES:
        lines = [*lines[: TITLE_MAX_LINES - 1], drawing.ellipsised(lines[TITLE_MAX_LINES - 1], font, width)]
    block = drawing.TextBlock.of(lines, font)
    top = 0.015 * HEIGHT_PX
    block.draw(draw, MARGIN_PX, top, "#000000", centred=False)
    return (MARGIN_PX, top, MARGIN_PX + block.width, top + block.height)


def _node_shapes(
    ordered: list[NetworkNode],
) -> tuple[dict[str, tuple[str, str, float]], dict[str, drawing.TextBlock]]:
    """Each node's (marker, colour, radius in pixels) and its label, wrapped and measured."""
    count = len(ordered)
    font = drawing.load_font(_font_pixels(LABEL_POINTS + (1.0 if count <= 30 else 0.0)))
    scale = 1.0 if count <= 80 else 0.6  # smaller markers on a crowded map
    shapes: dict[str, tuple[str, str, float]] = {}
    labels: dict[str, drawing.TextBlock] = {}
    for node in ordered:
        if node.stepped_down:
            shapes[node.key] = ("o", STEPPED_DOWN_GREY, math.sqrt(150.0) / 2 * PIXELS_PER_POINT)
        else:
            _, colour, marker, size = _NODE_STYLE[node.kind]
            shapes[node.key] = (marker, colour, math.sqrt(size * scale) / 2 * PIXELS_PER_POINT)
        text = node.label + ("\n(stepped down)" if node.stepped_down else "")
        labels[node.key] = drawing.TextBlock.of(drawing.wrap(text, font, LABEL_MAX_WIDTH_PX), font)
    return shapes, labels


def draw_map(
    nodes: Iterable[NetworkNode], edges: Iterable[NetworkEdge], *, title: str = ""
) -> DrawnMap | None:
    """The map drawn but not yet encoded, or None when nothing is linked (see draw_network)."""
    ordered, links = _checked(nodes, edges)
    if not links:
        return None
    positions, drawn_links = _positions(ordered, links)
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH_PX, HEIGHT_PX), drawing.BACKGROUND)
    # RGBA drawing on an RGB picture blends: the labels' backings are see-through.
    draw = ImageDraw.Draw(image, "RGBA")
    boxes: list[drawing.Box] = []
    map_top = 0.02 * HEIGHT_PX
    if title:
        boxes.append(_draw_title(draw, title))
        map_top = boxes[-1][3] + 0.5 * _font_pixels(TITLE_POINTS)
    key_pixels = _font_pixels(LABEL_POINTS)
    entries = _legend_entries(ordered, set(drawn_links.values()))
    boxes.append(_draw_key(draw, entries, key_pixels, HEIGHT_PX - 0.5 * key_pixels))
    map_bottom = boxes[-1][1] - 0.5 * key_pixels

    # Room at the edges for the largest marker and the widest and tallest label, so every
    # label lies wholly inside the picture wherever the layout puts its node.
    shapes, labels = _node_shapes(ordered)
    pad = 0.1 * next(iter(labels.values())).font.size
    reach = max(drawing.marker_reach(marker, radius) for marker, _, radius in shapes.values())
    below = max(_points(7.0), reach + _points(1.0))  # from a node's centre to its label's top
    inset_x = max(reach, max(block.width for block in labels.values()) / 2 + pad) + MARGIN_PX
    left, right = inset_x, WIDTH_PX - inset_x
    top = map_top + reach + pad
    bottom = max(top, map_bottom - below - max(block.height for block in labels.values()) - pad)
    low_x, high_x = min(x for x, _ in positions.values()), max(x for x, _ in positions.values())
    low_y, high_y = min(y for _, y in positions.values()), max(y for _, y in positions.values())

    def place(x: float, y: float) -> drawing.Point:
        """A layout position scaled into the drawing area (y down, as pixels go)."""
        across = (x - low_x) / (high_x - low_x) if high_x > low_x else 0.5
        down = (high_y - y) / (high_y - low_y) if high_y > low_y else 0.5
        return (left + across * (right - left), top + down * (bottom - top))

    points = {key: place(x, y) for key, (x, y) in positions.items()}
    for kind, (_, colour, style, width) in _EDGE_STYLE.items():
        line_width = max(1, round(_points(width)))
        for (a, b), drawn in drawn_links.items():
            if drawn == kind:
                drawing.line(draw, points[a], points[b], colour, line_width, dashed=style == "dashed")
    edge = max(1, round(_points(drawing.MARKER_EDGE_POINTS)))
    for node in ordered:
        marker, colour, radius = shapes[node.key]
        if node.stepped_down:
            drawing.hollow_dashed_circle(draw, points[node.key], radius, colour, round(_points(1.2)))
        else:
            drawing.marker(draw, marker, points[node.key], radius, colour, edge)
    for node in ordered:  # labels last, over the lines, as matplotlib's annotations were
        x, y = points[node.key]
        colour = "#555555" if node.stepped_down else "#000000"
        boxes.append(drawing.label_with_backing(draw, labels[node.key], x, y + below, colour, pad))
    return DrawnMap(image, tuple(boxes))


def draw_network(
    nodes: Iterable[NetworkNode], edges: Iterable[NetworkEdge], *, title: str = ""
) -> bytes | None:
    """The map as PNG bytes (16 x 12 cm at 254 dpi, its print size), or None when nothing is linked.

    None rather than an empty picture, so the minutes can say that no links were recorded.
    The same map (the same nodes, links and title) is drawn once and its bytes kept: an
    approved panel's minutes are rendered again for each copy its recipients receive, and
    a redraft that changes no link shows the same map (the picture depends only on them).
    """
    ordered, links = _checked(nodes, edges)
    return _encoded(tuple(ordered), tuple(links), title)


def forget_maps() -> None:
    """Draw every map afresh from now on (a benchmark timing the drawing, a test of it)."""
    _encoded.cache_clear()


@functools.lru_cache(maxsize=MAPS_KEPT)
def _encoded(
    ordered: tuple[NetworkNode, ...], links: tuple[tuple[str, str, str], ...], title: str
) -> bytes | None:
    """`draw_network`'s picture of checked input, kept by that input (bytes are immutable,
    so every caller may share them)."""
    drawn = draw_map(ordered, [NetworkEdge(a, b, kind) for a, b, kind in links], title=title)
    if drawn is None:
        return None
    buffer = io.BytesIO()
    # Pillow writes no text chunks unless asked, so the bytes depend only on the picture; the
    # resolution is recorded so a viewer shows it at its print size.
    drawn.image.save(buffer, format="PNG", compress_level=PNG_COMPRESSION, dpi=(DPI, DPI))
    return buffer.getvalue()
