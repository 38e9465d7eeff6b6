"""The panel's Word documents in the record's versions and approval: the agenda (issued at
the cut-off) and the minutes (approved by the chair). What they show is built in
`bot.documents.panel`, beside every other document's context; this module only renders
and registers them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel import Session

from bot.convening.models import Meeting
from bot.documents.changes import fingerprints
from bot.documents.panel import (
    AGENDA_PARTS,
    PANEL_MINUTES_PARTS,
    agenda_context,
    panel_minutes_context,
    panel_restricted,
)
from bot.minutes.documents import RenderedDocument
from bot.minutes.service import DocumentKind, previous_document, register_document_kind
from bot.panel.documents import (
    PANEL_AGENDA_TEMPLATE,
    PANEL_MINUTES_TEMPLATE,
    render_panel_agenda,
    render_panel_minutes,
)


def _render_agenda(
    session: Session, meeting: Meeting, *, templates_dir: Path, **context: Any
) -> RenderedDocument:
    previous = previous_document(session, meeting, "panel_agenda", context["version"])
    values = agenda_context(session, meeting, previous=previous, **context)
    return render_panel_agenda(
        templates_dir / PANEL_AGENDA_TEMPLATE, values, sections=fingerprints(values, AGENDA_PARTS)
    )


def _render_minutes(
    session: Session, meeting: Meeting, *, templates_dir: Path, **context: Any
) -> RenderedDocument:
    previous = previous_document(session, meeting, "panel_minutes", context["version"])
    values, picture = panel_minutes_context(session, meeting, previous=previous, **context)
    return render_panel_minutes(
        templates_dir / PANEL_MINUTES_TEMPLATE,
        values,
        picture,
        sections=fingerprints(values, PANEL_MINUTES_PARTS),
    )


register_document_kind(
    "panel_minutes", DocumentKind(_render_minutes, approvable=True, restricted=panel_restricted)
)
register_document_kind("panel_agenda", DocumentKind(_render_agenda, approvable=False))
