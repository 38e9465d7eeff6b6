"""Render the Criminal Exploitation Panel's minutes and agenda from ``templates/``.

Both go through `bot.minutes.documents.render_document`, the one sandboxed, strict and
escaping render path, so typed text in a panel record is inert exactly as it is in a
strategy discussion's minutes. The peer and location map arrives as PNG bytes (from
`bot.panel.network.draw_network`) and is placed as a picture by that same render.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.minutes.documents import RenderedDocument, render_document

PANEL_MINUTES_TEMPLATE = "panel_minutes.docx"
PANEL_AGENDA_TEMPLATE = "panel_agenda.docx"
NETWORK_PICTURE = "network_picture"

PANEL_MINUTES_VARIABLES: frozenset[str] = frozenset(
    {
        "marking",
        "confidentiality",
        "partnership",
        "panel",
        "reference",
        "date",
        "time",
        "chair",
        "minute_taker",
        "copy",
        "changes",
        "version",
        "state",
        "generated_at",
        "approved_by",
        "approved_at",
        "attendance",
        "actions_from_last_time",
        "cases",
        "perpetrators",
        "locations",
        "peer_groups",
        "themes",
        "register",
        "disruptions",
        "intelligence",
        NETWORK_PICTURE,
        "network_note",
        "actions",
        "next_panel",
        "circulation",
    }
)

PANEL_AGENDA_VARIABLES: frozenset[str] = frozenset(
    {
        "marking",
        "confidentiality",
        "partnership",
        "panel",
        "reference",
        "date",
        "time",
        "chair",
        "venue",
        "joining_link",
        "invitees",
        "next_date",
        "moved_note",
        "referral_cutoff",
        "updates_cutoff",
        "generated_at",
        "version",
        "changes",
        "items",
        "not_for_discussion",
        "missing_episodes",
        "actions_from_last_time",
        "perpetrators",
        "locations",
        "peer_groups",
    }
)


def render_panel_minutes(
    template_path: Path,
    context: dict[str, Any],
    network_png: bytes | None,
    *,
    sections: dict[str, str] | None = None,
) -> RenderedDocument:
    """The minutes with the map as a picture, or with ``network_picture`` empty when there is
    none (the template then says no links were recorded).

    Whatever the context holds under ``network_picture`` is replaced: a picture can only be
    built against the template object the render opens, so callers hand over bytes.
    """
    values = {name: value for name, value in context.items() if name != NETWORK_PICTURE}
    if network_png is None:
        return render_document(template_path, values | {NETWORK_PICTURE: ""}, sections=sections)
    return render_document(template_path, values, images={NETWORK_PICTURE: network_png}, sections=sections)


def render_panel_agenda(
    template_path: Path, context: dict[str, Any], *, sections: dict[str, str] | None = None
) -> RenderedDocument:
    """The agenda: timed items, carried-forward actions and the contexts under review."""
    return render_document(template_path, context, sections=sections)
