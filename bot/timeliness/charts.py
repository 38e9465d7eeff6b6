"""The report's pictures, drawn with matplotlib's Agg backend (no display, thread-safe
figures): figures only, never a case reference or a name. matplotlib is imported inside
the functions, so importing this module costs nothing before an acknowledgement.

The panels are placed by hand (`_place`), not by matplotlib's constrained layout: that
lays out every tick label and title once more before drawing, which was more than half
the time of a chart (and of the Word report's download, which draws one). Each title is
given `y=1.0`, where matplotlib would put it anyway (no ticks at the top), so it does not
measure every tick label to find that out.

A chart is a fifth of a second of work, and the same figures draw the same picture (no
time or metadata in it), so the last few drawn are kept by what they show (`_drawn`): the
report's chart sent by the courier and then the Word report downloaded, or a second
download, draw it once. The report's moment (`as_at`) is not in the picture, so not in
the key."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import threading
from collections import OrderedDict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.timeliness.measures import ICPC_WORKING_DAYS, AgencyFigures, Measures

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DPI = 110
WIDTH, HEIGHT = 11.0, 8.0  # inches
# The PNG's zlib level: the chart is flat colours, so level 1 is almost as small as the
# default 6 and several times quicker to write; the picture is the same.
PNG_COMPRESSION = 1
GREEN, AMBER, RED, GREY = "#00703c", "#f47738", "#d4351c", "#b1b4b6"
# Pictures drawn lately, by `_key`: a few hundred kilobytes at most.
DRAWN_AT_MOST = 8
_drawn: OrderedDict[str, bytes] = OrderedDict()
_drawn_lock = threading.Lock()
_ANY_MOMENT = datetime(2000, 1, 1, tzinfo=UTC)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    # No metadata: matplotlib would write its version, making the bytes differ by installation.
    figure.savefig(
        buffer,
        format="png",
        dpi=DPI,
        metadata={"Software": None},
        pil_kwargs={"compress_level": PNG_COMPRESSION},
    )
    return buffer.getvalue()


def _figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def _label_width(figure: Figure, labels: list[str], size: float) -> float:
    """The widest label's width in inches, at `size` points (measured, not guessed from the
    number of characters, so a name of wide letters still fits)."""
    from matplotlib.font_manager import FontProperties

    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]  # Agg's; reused to draw
    font = FontProperties(size=size)
    widest = max(
        (renderer.get_text_width_height_descent(label, font, ismath=False)[0] for label in labels), default=0
    )
    return float(widest) / DPI


def _place(figure: Figure, labels: list[str]) -> tuple[Any, Any, Any, Any]:
    """The four panels at fixed places (inches from the bottom left), the lower two moved
    right far enough for the widest agency name: what constrained layout would find, with
    no second pass over every text."""
    label = _label_width(figure, labels, 8) + 0.15  # the ticks and their padding

    def axes(left: float, bottom: float, width: float, height: float) -> Any:
        return figure.add_axes((left / WIDTH, bottom / HEIGHT, width / WIDTH, height / HEIGHT))

    upper_bottom, upper_height = 4.55, 2.75
    lower_bottom, lower_height = 0.55, 3.35
    urgency = axes(1.0, upper_bottom, 4.1, upper_height)  # room for a year's six figures
    icpc = axes(6.35, upper_bottom, 4.35, upper_height)
    # Each lower panel's share of the width, its labels included: 0.15 in at the left, 0.35
    # between them and 0.3 at the right (where "100" overhangs the last panel).
    half = (WIDTH - 0.15 - 0.35 - 0.3) / 2
    updates = axes(0.15 + label, lower_bottom, half - label, lower_height)
    actions = axes(0.15 + half + 0.35 + label, lower_bottom, half - label, lower_height)
    return urgency, icpc, updates, actions


def agencies_shown(measures: Measures, agency_code: str | None) -> list[AgencyFigures]:
    """Every agency with something to show; for an agency lead, theirs and the partnership."""
    if agency_code:
        own = measures.agency(agency_code)
        return [a for a in (own, measures.partnership()) if a is not None]
    return [a for a in measures.agencies if a.invited or a.updates_expected or a.actions_due or a.overdue_now]


def headline_chart(measures: Measures, agency_code: str | None = None) -> bytes:
    """The headline figure as a PNG: drawn, or the same picture drawn lately for the same
    figures."""
    key = _key(measures, agency_code)
    with _drawn_lock:
        found = _drawn.get(key)
        if found is not None:
            _drawn.move_to_end(key)
            return found
    drawn = _png(headline_figure(measures, agency_code))
    with _drawn_lock:
        _drawn[key] = drawn
        while len(_drawn) > DRAWN_AT_MOST:
            _drawn.popitem(last=False)
    return drawn


def _key(measures: Measures, agency_code: str | None) -> str:
    """Everything the picture could show: every figure of `measures` (their repr, nested
    dataclasses and all) but the moment they were counted at, and whose view it is."""
    shown = dataclasses.replace(measures, as_at=_ANY_MOMENT)
    return hashlib.sha256(repr((shown, agency_code)).encode()).hexdigest()


def headline_figure(measures: Measures, agency_code: str | None = None) -> Figure:
    """Four panels: discussions by urgency, the ICPC working days summary, agency updates
    and actions by agency (shares, so a small agency reads against the partnership)."""
    figure = _figure(WIDTH, HEIGHT)
    figure.suptitle(
        f"Timeliness: {measures.period.label}",
        fontsize=13,
        fontweight="bold",
        x=0.01,
        y=0.99,
        ha="left",
        va="top",
    )
    shown = agencies_shown(measures, agency_code)
    labels = [_short(a.name) for a in shown] or ["(none)"]
    urgency, icpc, updates, actions = _place(figure, labels)

    names = [u.urgency.capitalize() for u in measures.discussions] or ["(none held)"]
    within = [u.within for u in measures.discussions] or [0]
    late = [u.late for u in measures.discussions] or [0]
    other = [u.held - u.within - u.late for u in measures.discussions] or [0]
    urgency.bar(names, within, color=GREEN, label="Within timescale")
    urgency.bar(names, late, bottom=within, color=RED, label="Late")
    urgency.bar(
        names,
        other,
        bottom=[a + b for a, b in zip(within, late, strict=True)],
        color=GREY,
        label="No deadline",
    )
    urgency.set_title("Strategy discussions held, by urgency", fontsize=10, y=1.0)
    urgency.set_ylabel("Discussions")
    urgency.legend(fontsize=8)
    urgency.yaxis.get_major_locator().set_params(integer=True)

    bands = measures.icpcs.working_days.bands
    colours = [GREEN if _band_within(label) else RED for label, _ in bands]
    icpc.bar([label for label, _ in bands], [count for _, count in bands], color=colours)
    icpc.set_title(
        f"ICPCs: working days from the section 47 start (target {ICPC_WORKING_DAYS})", fontsize=10, y=1.0
    )
    icpc.set_ylabel("ICPCs held")
    icpc.yaxis.get_major_locator().set_params(integer=True)
    icpc.tick_params(axis="x", labelsize=8)

    _shares(
        updates,
        labels,
        [(a.updates_on_time, a.updates_late, a.updates_missing, 0) for a in shown] or [(0, 0, 0, 0)],
        ("On time", "Late", "Missing", ""),
        "Agency updates",
    )
    _shares(
        actions,
        labels,
        [
            (
                a.actions_done_on_time,
                a.actions_done_late,
                a.actions_open_past_due,
                a.actions_due - a.actions_done_on_time - a.actions_done_late - a.actions_open_past_due,
            )
            for a in shown
        ]
        or [(0, 0, 0, 0)],
        ("Done by the due date", "Done late", "Open past due", "Not yet due, or handed on"),
        "Actions due in the period",
    )
    return figure


def _band_within(label: str) -> bool:
    upper = label.split()[-1]
    return upper.isdigit() and int(upper) <= ICPC_WORKING_DAYS


def _short(name: str, width: int = 28) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def _shares(
    axes: Any, labels: list[str], rows: list[tuple[int, int, int, int]], legend: tuple[str, ...], title: str
) -> None:
    """A horizontal bar per agency, split into shares of its total (0 to 100%); a part with
    no name is left out of the legend."""
    left = [0.0] * len(rows)
    for index, (name, colour) in enumerate(zip(legend, (GREEN, AMBER, RED, GREY), strict=True)):
        values = [100 * row[index] / sum(row) if sum(row) else 0.0 for row in rows]
        axes.barh(labels, values, left=left, color=colour, label=name or "_hidden")
        left = [a + b for a, b in zip(left, values, strict=True)]
    axes.set_xlim(0, 100)
    axes.set_xlabel("Per cent")
    axes.invert_yaxis()
    axes.set_title(title, fontsize=10, y=1.0)
    axes.tick_params(axis="y", labelsize=8)
    axes.legend(fontsize=7, loc="lower right")
