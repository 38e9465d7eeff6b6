"""A discussion as people see it: gathered from the record, no Slack, no child's details."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, col, select

from bot.actions.models import Chase
from bot.cases.models import Case
from bot.convening.models import Invitation, InvitationMessage, Meeting
from bot.convening.service import core_agencies_missing, icpc_due
from bot.partnership.models import Agency, Person
from bot.schedules import Partnership
from bot.working_days import WorkingCalendar


@dataclass(frozen=True)
class ChaseLine:
    at: datetime
    step: str
    to_name: str


@dataclass(frozen=True)
class AgencyStatus:
    invitation_id: int
    code: str
    name: str
    required: bool
    state: str
    answered_by: str | None  # Slack id
    answered_at: datetime | None
    delegate: str | None  # Slack id
    delegate_name: str | None
    decline_reason: str
    chases: tuple[ChaseLine, ...]
    recipients: tuple[str, ...]  # Slack ids of those who received the invitation
    update_state: str = ""  # "submitted", "missing, late", "draft only"...; "" once closed


@dataclass(frozen=True)
class DiscussionSummary:
    """Everything the status message, the invitation and `/strategy REF` show."""

    meeting_id: int
    reference: str
    case_reference: str
    state: str
    urgency: str
    format: str
    concerns: tuple[str, ...]
    start: datetime | None
    duration_minutes: int
    deadline: datetime | None
    late_reason: str
    convenor: str | None  # Slack id
    chair: str | None
    channel_id: str | None
    cancelled_reason: str
    follows: str | None
    icpc_due: date | None
    core_missing: tuple[str, ...]
    agencies: tuple[AgencyStatus, ...] = field(default_factory=tuple)
    actions_open: int = 0
    actions_overdue: int = 0
    actions_done: int = 0
    panel: str = ""  # the panel's name when this meeting is a panel sitting
    icpc_anchor: str = ""  # the discussion that started section 47 enquiries
    icpc_state: str = ""  # pending | held | not_required
    out_of_hours: bool = False
    out_of_hours_reason: str = ""
    meeting_type: str = ""
    concern_names: tuple[str, ...] = ()


def _slack_id(session: Session, person_id: int | None) -> str | None:
    if person_id is None:
        return None
    person = session.get(Person, person_id)
    return person.slack_user_id if person else None


def summarise(
    session: Session,
    meeting: Meeting,
    *,
    partnership: Partnership,
    calendar: WorkingCalendar,
    now: datetime,
) -> DiscussionSummary:
    """Read one discussion and its invitations into a summary for rendering."""
    case = session.get(Case, meeting.case_id) if meeting.case_id else None
    follows = session.get(Meeting, meeting.follows_meeting_id) if meeting.follows_meeting_id else None
    names = {p.id: p for p in session.exec(select(Person))}
    agencies: list[AgencyStatus] = []
    rows = session.exec(
        select(Invitation, Agency)
        .join(Agency, col(Agency.id) == col(Invitation.agency_id))
        .where(col(Invitation.meeting_id) == meeting.id)
        .order_by(col(Invitation.id))
    ).all()
    panel = partnership.panel(meeting.details["panel"]).name if meeting.details.get("panel") else ""
    icpc = None if panel else icpc_due(session, meeting)
    update_states = {} if panel else _update_states(session, meeting, partnership, calendar, now)
    for invitation, agency in rows:
        chases = tuple(
            ChaseLine(c.at, c.step, names[c.to_person_id].name if c.to_person_id in names else "")
            for c in session.exec(
                select(Chase)
                .where(col(Chase.invitation_id) == invitation.id)
                .order_by(col(Chase.at), col(Chase.id))
            )
        )
        recipients = tuple(
            names[pid].slack_user_id or ""
            for pid in session.exec(
                select(col(InvitationMessage.person_id)).where(
                    col(InvitationMessage.invitation_id) == invitation.id
                )
            )
            if pid in names
        )
        delegate = names.get(invitation.delegate_id) if invitation.delegate_id else None
        agencies.append(
            AgencyStatus(
                invitation_id=invitation.id or 0,
                code=agency.code,
                name=agency.name,
                required=invitation.required,
                state=invitation.state,
                answered_by=_slack_id(session, invitation.answered_by_id),
                answered_at=invitation.answered_at,
                delegate=delegate.slack_user_id if delegate else None,
                delegate_name=delegate.name if delegate else None,
                decline_reason=invitation.decline_reason,
                chases=chases,
                recipients=recipients,
                update_state=update_states.get(agency.code, ""),
            )
        )
    return DiscussionSummary(
        meeting_id=meeting.id or 0,
        reference=meeting.reference,
        case_reference=case.reference if case else "",
        state=meeting.state,
        urgency=meeting.urgency,
        format=meeting.format,
        concerns=tuple(meeting.concerns),
        start=meeting.scheduled_start,
        duration_minutes=meeting.duration_minutes,
        deadline=meeting.deadline,
        late_reason=meeting.late_reason,
        convenor=_slack_id(session, meeting.convenor_id),
        chair=_slack_id(session, meeting.chair_id),
        channel_id=meeting.channel_id,
        cancelled_reason=meeting.cancelled_reason,
        follows=follows.reference if follows else None,
        icpc_due=icpc.due_on if icpc else None,
        icpc_anchor=icpc.anchored_to if icpc else "",
        icpc_state=icpc.state if icpc else "",
        out_of_hours=meeting.out_of_hours,
        out_of_hours_reason=meeting.out_of_hours_reason,
        meeting_type=meeting.meeting_type,
        concern_names=tuple(partnership.cases.concern_name(c) for c in meeting.concerns),
        core_missing=() if panel else tuple(core_agencies_missing(session, meeting, partnership)),
        panel=panel,
        agencies=tuple(agencies),
        **_action_counts(session, meeting, calendar.local(now).date()),
    )


def _update_states(
    session: Session, meeting: Meeting, partnership: Partnership, calendar: WorkingCalendar, now: datetime
) -> dict[str, str]:
    """Each agency's update in a word or two, for the status line (open discussions only)."""
    from bot.agency_updates.service import deadline_for, overview
    from bot.convening.service import OPEN_STATES

    if meeting.state not in OPEN_STATES:
        return {}
    deadline = deadline_for(meeting, partnership, calendar)
    states: dict[str, str] = {}
    for summary in overview(session, meeting, deadline=deadline, now=now):
        words = "draft only" if summary.state == "draft" else summary.state
        if summary.amended:
            words += ", amended"
        if summary.late:
            words += ", late"
        states[summary.agency_code] = words
    return states


def _action_counts(session: Session, meeting: Meeting, today: date) -> dict[str, int]:
    """How the discussion's actions stand, for the status message."""
    from bot.actions.models import Action, ActionStatus

    actions = session.exec(select(Action).where(col(Action.meeting_id) == meeting.id)).all()
    open_ = [a for a in actions if a.status in (ActionStatus.OPEN, ActionStatus.ESCALATED)]
    return {
        "actions_open": len(open_),
        "actions_overdue": sum(1 for a in open_ if a.due_on < today),
        "actions_done": sum(1 for a in actions if a.status == ActionStatus.DONE),
    }
