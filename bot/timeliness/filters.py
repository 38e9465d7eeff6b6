"""Which records a period counts: written once, for the figures (`measures`) and for the
rows behind them (`rows`), so an analyst checking the CSV against the report finds the same
records. A discussion belongs to the period it was held in, an ICPC to the period it was
held in (not required: the period its enquiry started; outstanding: the period its target
fell in), an assessment to the period it was completed in (or fell due in), an action to
the period it was due in, a panel review to the period of its sitting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from bot.actions.models import Action, ActionStatus
from bot.cases.models import Section47Enquiry
from bot.convening.models import Meeting
from bot.panel.models import AgendaItem, PanelSitting
from bot.timeliness.periods import Period

# Every status but cancelled, named, so the (status, due_on) index is ranged per status.
COUNTED_STATUSES = tuple(s for s in ActionStatus if s != ActionStatus.CANCELLED)
OPEN_STATES = (ActionStatus.OPEN, ActionStatus.ESCALATED)


@dataclass(frozen=True)
class PeriodFilters:
    """The period's conditions, as SQL expressions to put in a statement's WHERE."""

    # Strategy discussions (those on a case's timeline; panel sittings have none) held in
    # the period's window of UTC instants.
    discussions_held: ColumnElement[bool]
    icpc_held: ColumnElement[bool]
    enquiry_started: ColumnElement[bool]
    icpc_due: ColumnElement[bool]
    assessment_completed: ColumnElement[bool]
    assessment_due: ColumnElement[bool]
    # Actions due in the period, cancelled ones left out.
    actions_due: ColumnElement[bool]
    # Children and contexts whose review was recorded at a sitting held in the period.
    panel_reviews: ColumnElement[bool]

    @property
    def enquiries(self) -> ColumnElement[bool]:
        """Section 47 enquiries that touch the period in any of the ways above."""
        return or_(
            self.icpc_held,
            self.enquiry_started,
            self.icpc_due,
            self.assessment_completed,
            self.assessment_due,
        )


def period_filters(period: Period, timezone: ZoneInfo) -> PeriodFilters:
    """The conditions for `period`, its local days taken in `timezone` (the statutory
    calendar's)."""
    start, end = period.window(timezone)
    first, last = period.first, period.last
    s47 = Section47Enquiry
    return PeriodFilters(
        discussions_held=and_(
            col(Meeting.episode_id).is_not(None),
            col(Meeting.held_at) >= start,
            col(Meeting.held_at) < end,
        ),
        icpc_held=and_(col(s47.icpc_held_on) >= first, col(s47.icpc_held_on) <= last),
        enquiry_started=and_(col(s47.started_on) >= first, col(s47.started_on) <= last),
        icpc_due=and_(col(s47.icpc_due_on) >= first, col(s47.icpc_due_on) <= last),
        assessment_completed=and_(col(s47.completed_on) >= first, col(s47.completed_on) <= last),
        assessment_due=and_(col(s47.assessment_due_on) >= first, col(s47.assessment_due_on) <= last),
        actions_due=and_(
            col(Action.status).in_(COUNTED_STATUSES),
            col(Action.due_on) >= first,
            col(Action.due_on) <= last,
        ),
        panel_reviews=and_(
            col(PanelSitting.held_on) >= first,
            col(PanelSitting.held_on) <= last,
            col(AgendaItem.recorded_at).is_not(None),
        ),
    )


def overdue_now(today: date) -> ColumnElement[bool]:
    """Actions open or escalated past their due date `today`, whatever the period."""
    return and_(col(Action.status).in_(OPEN_STATES), col(Action.due_on) < today)
