"""Chasing unanswered invitations along each agency's escalation route.

The timeline for an invitation is fixed when it is sent: remind the route's first step
after `remind_after`, each later step `escalate_every` after that, and tell the convenor
after `tell_convenor_after`, all in working time. What has been done is stored on the
invitation (`chase_step`, `next_chase_at`), so a restart carries on where it stopped and a
step is claimed with a conditional update, so two bot processes never both send it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.actions.models import Chase
from bot.convening.models import Invitation, InvitationState, Meeting, MeetingState
from bot.partnership.models import Agency, Person
from bot.schedules import Partnership
from bot.schedules import Person as ConfiguredPerson
from bot.working_days import WorkingCalendar


@dataclass(frozen=True)
class ChaseStep:
    """One planned step: when, and whether it goes along the route or to the convenor."""

    at: datetime
    kind: str  # "route" or "convenor"
    route_index: int = 0


def _day_minutes(partnership: Partnership) -> int:
    hours = partnership.working_hours
    return (hours.end.hour * 60 + hours.end.minute) - (hours.start.hour * 60 + hours.start.minute)


def timeline(
    partnership: Partnership,
    calendar: WorkingCalendar,
    agency_code: str,
    urgency: str,
    sent_at: datetime,
) -> list[ChaseStep]:
    """Every chase step for an invitation sent at `sent_at`, in order."""
    policy = partnership.chasing.invitations.for_urgency(urgency)
    day = _day_minutes(partnership)
    remind = policy.remind_after.in_working_minutes(day)
    every = policy.escalate_every.in_working_minutes(day)
    route = partnership.agency(agency_code).escalation_route()
    steps = [
        ChaseStep(calendar.add_working_hours(sent_at, timedelta(minutes=remind + k * every)), "route", k)
        for k in range(len(route))
    ]
    convenor_at = calendar.add_working_hours(
        sent_at, timedelta(minutes=policy.tell_convenor_after.in_working_minutes(day))
    )
    steps.append(ChaseStep(convenor_at, "convenor"))
    return sorted(steps, key=lambda step: (step.at, step.kind != "route"))


def first_chase_at(
    partnership: Partnership, calendar: WorkingCalendar, urgency: str, sent_at: datetime
) -> datetime:
    """When an invitation is first chased (the route's first step, in working time)."""
    policy = partnership.chasing.invitations.for_urgency(urgency)
    minutes = policy.remind_after.in_working_minutes(_day_minutes(partnership))
    return calendar.add_working_hours(sent_at, timedelta(minutes=minutes))


@dataclass(frozen=True)
class DueChase:
    """A claimed chase step: who to tell about which invitation."""

    invitation_id: int
    meeting_id: int
    agency_code: str
    step_number: int
    step: ChaseStep
    recipients: list[ConfiguredPerson]


def claim_due_chases(
    session: Session, *, partnership: Partnership, calendar: WorkingCalendar, now: datetime
) -> list[DueChase]:
    """Claim every chase step now due and record it; the caller sends the messages.

    Runs in the caller's transaction. A step is claimed by moving `chase_step` on only if it
    still has the value read, so a second process running the same sweep claims nothing.
    """
    rows = session.exec(
        select(Invitation, Meeting, Agency)
        .join(Meeting, col(Meeting.id) == col(Invitation.meeting_id))
        .join(Agency, col(Agency.id) == col(Invitation.agency_id))
        .where(
            col(Invitation.state) == InvitationState.INVITED,
            col(Invitation.next_chase_at).is_not(None),
            col(Invitation.next_chase_at) <= now,
        )
        .order_by(col(Invitation.next_chase_at))
    ).all()
    claimed: list[DueChase] = []
    for invitation, meeting, agency in rows:
        if meeting.state not in (MeetingState.CONVENING, MeetingState.SCHEDULED) or (
            meeting.scheduled_start is not None and meeting.scheduled_start <= now
        ):
            session.exec(
                update(Invitation).where(col(Invitation.id) == invitation.id).values(next_chase_at=None)
            )
            continue
        steps = timeline(partnership, calendar, agency.code, meeting.urgency, invitation.created_at)
        number = invitation.chase_step
        # Catch up on every step now due (after a restart several may be), one claim each.
        while number < len(steps) and steps[number].at <= now:
            following = steps[number + 1].at if number + 1 < len(steps) else None
            won = session.exec(
                update(Invitation)
                .where(col(Invitation.id) == invitation.id, col(Invitation.chase_step) == number)
                .values(chase_step=number + 1, next_chase_at=following)
            ).rowcount
            if not won:
                break
            claimed.append(
                _record_step(session, partnership, meeting, agency, invitation, number, steps[number], now)
            )
            number += 1
    session.flush()
    return claimed


def _record_step(
    session: Session,
    partnership: Partnership,
    meeting: Meeting,
    agency: Agency,
    invitation: Invitation,
    number: int,
    step: ChaseStep,
    now: datetime,
) -> DueChase:
    """Store who this step reaches (a Chase row each) and return it for sending."""
    configured = partnership.agency(agency.code)
    if step.kind == "route":
        recipients = configured.escalation_route()[step.route_index]
    else:
        convenor = session.get(Person, meeting.convenor_id) if meeting.convenor_id else None
        recipients = [
            p for p in partnership.people() if convenor is not None and p.id == convenor.schedule_id
        ]
    for person in recipients:
        stored = session.exec(select(Person).where(col(Person.schedule_id) == person.id)).first()
        session.add(
            Chase(
                invitation_id=invitation.id,
                step=_step_name(step, configured.escalation),
                to_person_id=stored.id if stored else None,
                via="slack_dm" if person.slack_user_id else "none",
                at=now,
            )
        )
    return DueChase(invitation.id or 0, meeting.id or 0, agency.code, number, step, recipients)


def _step_name(step: ChaseStep, route: tuple[str, ...]) -> str:
    """`reminded` (the contacts), `escalated_to_duty`, `escalated_to_lead`, `told_convenor`."""
    if step.kind == "convenor":
        return "told_convenor"
    target = route[step.route_index] if step.route_index < len(route) else "next"
    return "reminded" if target == "contacts" else f"escalated_to_{target}"


def chase_history(session: Session, invitation_id: int) -> list[Chase]:
    """The chases sent about one invitation, oldest first."""
    return list(
        session.exec(
            select(Chase)
            .where(col(Chase.invitation_id) == invitation_id)
            .order_by(col(Chase.at), col(Chase.id))
        )
    )
