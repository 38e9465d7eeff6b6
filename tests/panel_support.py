"""Reading the panel's records back for the tests; the Slack flows themselves live in
`bot_offline.panel`, shared with the demo."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.convening.models import Invitation, Meeting
from bot.panel.models import AgendaItem, PanelSitting
from bot.partnership.models import Agency
from bot_offline.driver import OfflineBot
from bot_offline.panel import (  # noqa: F401  (re-exported for the tests)
    ADMIN,
    CHAIR,
    PANEL,
    decide,
    nrm_values,
    opened_view,
    outcome_values,
    record_attendance,
    record_item,
    refer,
    referral_values,
    views_opened,
)


def sitting_for(bot: OfflineBot, held_on_iso: str) -> tuple[Meeting, PanelSitting]:
    """The MACE sitting held on that day, with its meeting."""
    with Session(bot.runtime.engine) as session:
        for sitting, meeting in session.exec(
            select(PanelSitting, Meeting)
            .join(Meeting, Meeting.id == PanelSitting.meeting_id)
            .where(PanelSitting.panel_code == PANEL)
        ).all():
            if sitting.held_on.isoformat() == held_on_iso:
                return meeting, sitting
    raise AssertionError(f"no sitting held on {held_on_iso}")


def items_of(bot: OfflineBot, sitting: PanelSitting) -> dict[str, AgendaItem]:
    """The sitting's agenda items by case reference."""
    from bot.cases.models import Case
    from bot.panel.models import PanelCase

    with Session(bot.runtime.engine) as session:
        rows = session.exec(
            select(AgendaItem, Case)
            .join(PanelCase, PanelCase.id == AgendaItem.panel_case_id)
            .join(Case, Case.id == PanelCase.case_id)
            .where(AgendaItem.sitting_id == sitting.id)
            .order_by(AgendaItem.position)
        ).all()
        return {case.reference: item for item, case in rows}


def invitation_of(bot: OfflineBot, meeting: Meeting, agency_code: str) -> Invitation:
    with Session(bot.runtime.engine) as session:
        return session.exec(
            select(Invitation)
            .join(Agency, Agency.id == Invitation.agency_id)
            .where(Invitation.meeting_id == meeting.id, Agency.code == agency_code)
        ).one()
