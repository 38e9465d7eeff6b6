"""The panel's peer and location map: who and where links the children the panel reviews.

Contextual safeguarding asks the panel to see harm beyond the family: the same older peer,
suspected perpetrator, park or school turning up in several children's cases. This module
draws those links as a PNG for the minutes. It knows nothing of the database or Slack: the
panel service hands it nodes and edges and puts the picture into the Word document.

The picture is deterministic (sorted input, a fixed layout seed, no timestamp in the PNG),
so re-rendering an unchanged panel gives the same image and the same document hash.
matplotlib and networkx are imported inside `draw_network`, so importing this module (the
bot does at start-up) stays cheap; the figure is drawn on its own Agg canvas, never through
pyplot, whose global state is not safe across the bot's worker threads.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

NODE_KINDS = ("child", "peer", "suspected_perpetrator", "location", "school", "peer_group")
EDGE_KINDS = ("peer", "suspected_perpetrator", "location", "school", "peer_group", "linked_case")

# Drawn at its print size: 16 cm wide in the minutes (bot.minutes.documents.IMAGE_WIDTH_CM),
# so a point in the figure is a point on paper and labels are at least LABEL_POINTS there.
PRINT_WIDTH_IN, PRINT_HEIGHT_IN, DPI = 16 / 2.54, 12 / 2.54, 254
WIDTH_PX, HEIGHT_PX = round(PRINT_WIDTH_IN * DPI), round(PRINT_HEIGHT_IN * DPI)
LABEL_POINTS = 8.0
LAYOUT_SEED = 20261124

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


def draw_network(
    nodes: Iterable[NetworkNode], edges: Iterable[NetworkEdge], *, title: str = ""
) -> bytes | None:
    """The map as PNG bytes (16 x 12 cm at 254 dpi, its print size), or None when nothing is linked.

    None rather than an empty picture, so the minutes can say that no links were recorded.
    """
    ordered, links = _checked(nodes, edges)
    if not links:
        return None

    import networkx as nx
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    graph = nx.Graph()
    graph.add_nodes_from(node.key for node in ordered)
    for a, b, kind in links:
        if not graph.has_edge(a, b):  # two kinds of link between one pair: draw the first
            graph.add_edge(a, b, kind=kind)
    count = graph.number_of_nodes()
    # Spread nodes further apart than the default when there are few, so labels have room.
    positions = nx.spring_layout(
        graph, seed=LAYOUT_SEED, k=2.2 / math.sqrt(count), iterations=60 if count <= 300 else 30
    )

    figure = Figure(figsize=(PRINT_WIDTH_IN, PRINT_HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(figure)
    # The map takes the page's width; the key sits underneath, across it.
    axes = figure.add_axes((0.01, 0.24, 0.98, 0.68 if title else 0.74))
    axes.set_axis_off()
    if title:
        figure.suptitle(title, x=0.01, y=0.985, ha="left", fontsize=10, fontweight="bold")

    legend: list[Line2D] = []
    for kind, (label, colour, style, width) in _EDGE_STYLE.items():
        segments = [
            (positions[a], positions[b]) for a, b, data in graph.edges(data=True) if data["kind"] == kind
        ]
        if segments:
            axes.add_collection(
                LineCollection(segments, colors=colour, linestyles=style, linewidths=width, zorder=1)
            )
            legend.append(Line2D([], [], color=colour, linestyle=style, linewidth=width, label=label))
    for kind, (label, colour, marker, size) in _NODE_STYLE.items():
        keys = [node.key for node in ordered if node.kind == kind and not node.stepped_down]
        if not keys:
            continue
        axes.scatter(
            [positions[key][0] for key in keys],
            [positions[key][1] for key in keys],
            s=size * (1.0 if count <= 80 else 0.6),
            c=colour,
            marker=marker,
            edgecolors="#222222",
            linewidths=0.5,
            zorder=2,
        )
        legend.append(
            Line2D(
                [],
                [],
                color=colour,
                marker=marker,
                linestyle="none",
                markeredgecolor="#222222",
                markersize=8,
                label=label,
            )
        )

    apart = [node.key for node in ordered if node.stepped_down]
    if apart:
        axes.scatter(
            [positions[key][0] for key in apart],
            [positions[key][1] for key in apart],
            s=150.0,
            c="white",
            marker="o",
            edgecolors="#888888",
            linewidths=1.2,
            linestyle="--",
            zorder=2,
        )
        legend.append(
            Line2D(
                [],
                [],
                color="white",
                marker="o",
                linestyle="none",
                markeredgecolor="#888888",
                markersize=8,
                label="Child, stepped down",
            )
        )
    font = LABEL_POINTS + (1.0 if count <= 30 else 0.0)
    for node in ordered:
        x, y = positions[node.key]
        axes.annotate(
            node.label + ("\n(stepped down)" if node.stepped_down else ""),
            (x, y),
            xytext=(0, -7),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=font,
            color="#555555" if node.stepped_down else "black",
            zorder=3,
            # A pale backing keeps a label readable where it crosses a line.
            bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.7},
        )
    axes.margins(x=0.2, y=0.16)  # room for labels at the edges
    axes.autoscale_view()
    figure.legend(
        handles=legend,
        loc="lower center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=3,
        fontsize=LABEL_POINTS,
        frameon=True,
        title="Key",
        title_fontsize=LABEL_POINTS,
    )

    buffer = io.BytesIO()
    # No metadata: matplotlib writes its version into "Software", which would make the bytes
    # (and the document's hash) differ between installations for the same picture.
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()
