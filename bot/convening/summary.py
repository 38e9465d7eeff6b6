"""A discussion as people see it: gathered from the record, no Slack, no child's details."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, col, select

from bot.actions.models import Chase
from bot.cases.models import Case
from bot.children.service import children_of, subject_of
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
    # Several children: each child's ICPC clock (reference, due, state, anchor).
    children_icpc: tuple[tuple[str, date | None, str, str], ...] = ()


def summarise(
    session: Session,
    meeting: Meeting,
    *,
    partnership: Partnership,
    calendar: WorkingCalendar,
    now: datetime,
    only_invitation: int | None = None,
) -> DiscussionSummary:
    """Read one discussion and its invitations into a summary for rendering.

    With `only_invitation`, a partial summary for that invitation's message (one is
    rendered per person invited): the discussion and that one agency's answer, without
    chases, recipients, clocks, updates, missing agencies or actions, which it does not show.
    """
    partial = only_invitation is not None
    follows = session.get(Meeting, meeting.follows_meeting_id) if meeting.follows_meeting_id else None
    rows = session.exec(
        select(Invitation, Agency)
        .join(Agency, col(Agency.id) == col(Invitation.agency_id))
        .where(col(Invitation.meeting_id) == meeting.id)
        .where(*([col(Invitation.id) == only_invitation] if partial else []))
        .order_by(col(Invitation.id))
    ).all()
    # Every invitation's chases and recipients in one query each, and only the people they
    # name: a summary is rendered for each invitation sent, so its statements stay fixed.
    invitation_ids = [invitation.id for invitation, _ in rows]
    chases_of: dict[int | None, list[Chase]] = {}
    recipients_of: dict[int | None, list[int]] = {}
    if invitation_ids and not partial:
        for chase in session.exec(
            select(Chase)
            .where(col(Chase.invitation_id).in_(invitation_ids))
            .order_by(col(Chase.invitation_id), col(Chase.at), col(Chase.id))
        ):
            chases_of.setdefault(chase.invitation_id, []).append(chase)
        for invitation_id, person_id in session.exec(
            select(col(InvitationMessage.invitation_id), col(InvitationMessage.person_id))
            .where(col(InvitationMessage.invitation_id).in_(invitation_ids))
            .order_by(col(InvitationMessage.invitation_id), col(InvitationMessage.id))
        ):
            recipients_of.setdefault(invitation_id, []).append(person_id)
    wanted = {meeting.convenor_id, meeting.chair_id}
    for invitation, _ in rows:
        wanted |= {invitation.delegate_id, invitation.answered_by_id}
        wanted.update(recipients_of.get(invitation.id, ()))
        wanted.update(c.to_person_id for c in chases_of.get(invitation.id, ()))
    wanted.discard(None)
    names = (
        {p.id: p for p in session.exec(select(Person).where(col(Person.id).in_(wanted)))} if wanted else {}
    )

    def slack_id(person_id: int | None) -> str | None:
        person = names.get(person_id) if person_id is not None else None
        return person.slack_user_id if person else None

    agencies: list[AgencyStatus] = []
    panel = partnership.panel(meeting.details["panel"]).name if meeting.details.get("panel") else ""
    icpc = None if panel or partial else icpc_due(session, meeting)
    children = [] if panel else children_of(session, meeting)
    children_icpc: list[tuple[str, date | None, str, str]] = []
    if len(children) > 1 and not partial:
        for child in children:
            clock = icpc_due(session, meeting, child.link.episode_id)
            children_icpc.append(
                (
                    child.reference,
                    clock.due_on if clock else None,
                    clock.state if clock else "",
                    clock.anchored_to if clock else "",
                )
            )
    update_states = {} if panel or partial else _update_states(session, meeting, partnership, calendar, now)
    for invitation, agency in rows:
        chases = tuple(
            ChaseLine(c.at, c.step, names[c.to_person_id].name if c.to_person_id in names else "")
            for c in chases_of.get(invitation.id, ())
        )
        recipients = tuple(
            names[pid].slack_user_id or "" for pid in recipients_of.get(invitation.id, ()) if pid in names
        )
        delegate = names.get(invitation.delegate_id) if invitation.delegate_id else None
        agencies.append(
            AgencyStatus(
                invitation_id=invitation.id or 0,
                code=agency.code,
                name=agency.name,
                required=invitation.required,
                state=invitation.state,
                answered_by=slack_id(invitation.answered_by_id),
                answered_at=invitation.answered_at,
                delegate=delegate.slack_user_id if delegate else None,
                delegate_name=delegate.name if delegate else None,
                decline_reason=invitation.decline_reason,
                chases=chases,
                recipients=recipients,
                update_state=update_states.get(agency.code, ""),
            )
        )
    subject = subject_of(session, meeting, None if panel else children)
    if not subject and meeting.case_id:  # read only when the children do not name it
        case = session.get(Case, meeting.case_id)
        subject = case.reference if case else ""
    return DiscussionSummary(
        meeting_id=meeting.id or 0,
        reference=meeting.reference,
        case_reference=subject,
        state=meeting.state,
        urgency=meeting.urgency,
        format=meeting.format,
        concerns=tuple(meeting.concerns),
        start=meeting.scheduled_start,
        duration_minutes=meeting.duration_minutes,
        deadline=meeting.deadline,
        late_reason=meeting.late_reason,
        convenor=slack_id(meeting.convenor_id),
        chair=slack_id(meeting.chair_id),
        channel_id=meeting.channel_id,
        cancelled_reason=meeting.cancelled_reason,
        follows=follows.reference if follows else None,
        icpc_due=icpc.due_on if icpc else None,
        icpc_anchor=icpc.anchored_to if icpc else "",
        icpc_state=icpc.state if icpc else "",
        children_icpc=tuple(children_icpc),
        out_of_hours=meeting.out_of_hours,
        out_of_hours_reason=meeting.out_of_hours_reason,
        meeting_type=meeting.meeting_type,
        concern_names=tuple(partnership.cases.concern_name(c) for c in meeting.concerns),
        core_missing=() if panel or partial else tuple(core_agencies_missing(session, meeting, partnership)),
        panel=panel,
        agencies=tuple(agencies),
        **({} if partial else _action_counts(session, meeting, calendar.local(now).date())),
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
