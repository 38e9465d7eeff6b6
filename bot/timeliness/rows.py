"""The rows behind every figure, for an analyst to check the report: one CSV line per
discussion, enquiry, attendance, update, action and panel review counted, saying what it
was counted as. Case and discussion references only, never a child's name. Each measure's
rows are one streamed query (nine in all), read a batch at a time."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from bot.actions.models import Action, ActionStatus
from bot.agency_updates.models import AgencyUpdate
from bot.cases.models import Case, IcpcState, Section47Enquiry
from bot.convening.models import Attendance, AttendanceStatus, Invitation, Meeting
from bot.panel.models import AgendaItem, PanelCase, PanelSitting
from bot.partnership.models import Agency, Person
from bot.timeliness.filters import overdue_now, period_filters
from bot.timeliness.periods import Period
from bot.working_days import StatutoryCalendar, require_statutory

COLUMNS = (
    "measure",
    "record",
    "case_reference",
    "agency",
    "category",
    "from",
    "to",
    "target",
    "working_days",
    "counted_as",
)
BATCH = 1000
# The columns an action's row shows, not the whole record: building ten thousand ORM
# objects (text, concerns and all) was most of the CSV's time on a large partnership.
ACTION_COLUMNS = (
    col(Action.reference),
    col(Action.priority),
    col(Action.status),
    col(Action.escalation_level),
    col(Action.assigned_on),
    col(Action.completed_at),
    col(Action.due_on),
    col(Agency.code),
)
Row = tuple[str, str, str, str, str, str, str, str, str, str]


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def rows(session: Session, period: Period, *, statutory: StatutoryCalendar, now: datetime) -> Iterator[Row]:
    """Every row, measure by measure, in the order the report shows the figures."""
    require_statutory(statutory)
    today = statutory.local_date(now)
    local = statutory.local_date
    counted_in = period_filters(period, statutory.timezone)
    held = counted_in.discussions_held

    def stream(statement: Any) -> Any:
        return session.execute(statement.execution_options(yield_per=BATCH))

    def stream_columns(statement: Any) -> Any:
        # Columns only, so the ORM has nothing to build: the session's connection runs it
        # plain (a third less work a row, ten thousand rows a month at a large partnership).
        return session.connection().execute(statement.execution_options(yield_per=BATCH))

    for reference, case_reference, urgency, referred_at, held_at, deadline, ooh in stream_columns(
        select(
            col(Meeting.reference),
            col(Case.reference),
            col(Meeting.urgency),
            col(Meeting.referred_at),
            col(Meeting.held_at),
            col(Meeting.deadline),
            col(Meeting.out_of_hours),
        )
        .join(Case, col(Case.id) == col(Meeting.case_id))
        .where(held)
        .order_by(col(Meeting.held_at))
    ):
        counted = "no deadline" if deadline is None else ("within" if held_at <= deadline else "late")
        days = (
            str(max(0, statutory.working_days_between(local(referred_at), local(held_at))))
            if referred_at
            else ""
        )
        yield (
            "discussion",
            reference,
            case_reference,
            "",
            (urgency or "not given") + (" (out of hours)" if ooh else ""),
            local(referred_at).isoformat() if referred_at else "",
            local(held_at).isoformat(),
            statutory.local(deadline).strftime("%Y-%m-%d %H:%M") if deadline else "",
            days,
            counted,
        )

    s47 = Section47Enquiry
    for enquiry, case_reference, started_by in stream(
        select(s47, col(Case.reference), col(Meeting.reference))
        .join(Case, col(Case.id) == col(s47.case_id))
        .join(Meeting, col(Meeting.id) == col(s47.started_by_meeting_id))
        .where(counted_in.enquiries)
        .order_by(col(s47.started_on), col(s47.id))
    ):
        held_on, due_on = enquiry.icpc_held_on, enquiry.icpc_due_on
        counted = ""
        if held_on and period.first <= held_on <= period.last:
            counted = "held within 15 working days" if held_on <= due_on else "held late"
        elif (
            enquiry.icpc_state == IcpcState.NOT_REQUIRED and period.first <= enquiry.started_on <= period.last
        ):
            counted = "not required"
        elif (
            enquiry.icpc_state == IcpcState.PENDING
            and period.first <= due_on <= period.last
            and due_on < today
        ):
            counted = "past target, not held"
        if counted:
            yield (
                "icpc",
                started_by,
                case_reference,
                "",
                enquiry.icpc_state,
                _day(enquiry.started_on),
                _day(held_on),
                _day(due_on),
                str(statutory.working_days_between(enquiry.started_on, held_on)) if held_on else "",
                counted,
            )
        completed, deadline = enquiry.completed_on, enquiry.assessment_due_on
        counted = ""
        if completed and period.first <= completed <= period.last:
            counted = "completed within 45 working days" if completed <= deadline else "completed late"
        elif completed is None and period.first <= deadline <= period.last and deadline < today:
            counted = "open past the deadline"
        if counted:
            yield (
                "assessment",
                started_by,
                case_reference,
                "",
                enquiry.outcome,
                _day(enquiry.started_on),
                _day(completed),
                _day(deadline),
                "",
                counted,
            )

    for reference, code, status, invitation_state in stream_columns(
        select(col(Meeting.reference), col(Agency.code), col(Attendance.status), col(Invitation.state))
        .join(Meeting, col(Meeting.id) == col(Attendance.meeting_id))
        .join(Agency, col(Agency.id) == col(Attendance.agency_id))
        .outerjoin(
            Invitation,
            and_(
                col(Invitation.meeting_id) == col(Attendance.meeting_id),
                col(Invitation.agency_id) == col(Attendance.agency_id),
            ),
        )
        .where(held)
        .order_by(col(Meeting.held_at), col(Agency.code))
    ):
        if status == AttendanceStatus.PRESENT:
            counted = "delegate" if invitation_state == "delegate" else "attended"
        else:
            counted = status.replace("_", " ")
        yield ("attendance", reference, "", code, status, "", "", "", "", counted)

    convenor = aliased(Person)
    for reference, code, state, late in stream_columns(
        select(col(Meeting.reference), col(Agency.code), col(AgencyUpdate.state), col(AgencyUpdate.late))
        .select_from(Invitation)
        .join(Meeting, col(Meeting.id) == col(Invitation.meeting_id))
        .join(Agency, col(Agency.id) == col(Invitation.agency_id))
        .outerjoin(convenor, col(convenor.id) == col(Meeting.convenor_id))
        .outerjoin(
            AgencyUpdate,
            and_(
                col(AgencyUpdate.meeting_id) == col(Invitation.meeting_id),
                col(AgencyUpdate.agency_id) == col(Invitation.agency_id),
                col(AgencyUpdate.agenda_item_id) == 0,
            ),
        )
        .where(
            held,
            col(Invitation.state) != "declined",
            or_(col(convenor.agency_id).is_(None), col(convenor.agency_id) != col(Invitation.agency_id)),
        )
        .order_by(col(Meeting.held_at), col(Agency.code))
    ):
        counted = "missing" if state != "submitted" else ("late" if late else "on time")
        yield ("agency update", reference, "", code, state or "none", "", "", "", "", counted)

    for action in stream_columns(
        select(*ACTION_COLUMNS)
        .join(Agency, col(Agency.id) == col(Action.agency_id))
        .where(counted_in.actions_due)
        .order_by(col(Action.due_on), col(Action.id))
    ):
        yield _action_row("action due", action, action.code, today, statutory)

    for action in stream_columns(
        select(*ACTION_COLUMNS)
        .join(Agency, col(Agency.id) == col(Action.agency_id))
        .where(overdue_now(today))
        .order_by(col(Action.due_on), col(Action.id))
    ):
        code = action.code
        yield (
            "action overdue now",
            action.reference,
            "",
            code,
            action.priority,
            _day(action.assigned_on),
            "",
            _day(action.due_on),
            "",
            "escalated" if action.status == ActionStatus.ESCALATED or action.escalation_level else "overdue",
        )

    for sitting_reference, case_reference, outcome in stream_columns(
        select(col(Meeting.reference), col(Case.reference), col(AgendaItem.outcome))
        .join(PanelSitting, col(PanelSitting.id) == col(AgendaItem.sitting_id))
        .join(Meeting, col(Meeting.id) == col(PanelSitting.meeting_id))
        .join(PanelCase, col(PanelCase.id) == col(AgendaItem.panel_case_id))
        .join(Case, col(Case.id) == col(PanelCase.case_id))
        .where(counted_in.panel_reviews)
        .order_by(col(PanelSitting.held_on), col(AgendaItem.position))
    ):
        decision = str((outcome or {}).get("decision", ""))
        nrm = str((outcome or {}).get("nrm", ""))
        yield ("panel review", sitting_reference, case_reference, "", decision, "", "", "", "", f"NRM {nrm}")


def _action_row(measure: str, action: Any, code: str, today: date, statutory: StatutoryCalendar) -> Row:
    """One action's row, from a result row of `ACTION_COLUMNS`."""
    completed_on = statutory.local_date(action.completed_at) if action.completed_at else None
    if action.status == ActionStatus.DONE:
        on_time = completed_on is not None and completed_on <= action.due_on
        counted = "done by the due date" if on_time else "done late"
    elif action.status in (ActionStatus.OPEN, ActionStatus.ESCALATED) and action.due_on < today:
        counted = "open past due"
    elif action.status == ActionStatus.HANDED_ON:
        counted = "handed on"
    else:
        counted = "open, not yet due"
    if action.escalation_level or action.status == ActionStatus.ESCALATED:
        counted += "; escalated"
    return (
        measure,
        action.reference,
        "",
        code,
        action.priority,
        _day(action.assigned_on),
        _day(completed_on),
        _day(action.due_on),
        "",
        counted,
    )


def as_csv(found: Iterator[Row]) -> bytes:
    """The rows as a CSV file (UTF-8 with a byte-order mark, so Excel reads it as UTF-8)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(found)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
