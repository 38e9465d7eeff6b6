"""Reminding agencies whose update is not in, at the points `schedules/agency_updates.yaml`
sets before the deadline, and once when it passes. Exactly once: each reminder's outbox key
is fixed by the invitation and the point, so a second sweep or a second process adds
nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.actions.models import Chase
from bot.agency_updates.service import Outstanding, deadline_for, outstanding_updates, working_time_before
from bot.convening.effects import dm
from bot.convening.models import Invitation, InvitationMessage
from bot.convening.views import when
from bot.database import session_scope
from bot.delivery.models import OutboxMessage
from bot.partnership.models import Person
from bot.runtime import Runtime
from bot.wording import render_message


def _due_point(runtime: Runtime, deadline: datetime, now: datetime, invited_at: datetime) -> str | None:
    """The latest reminder point already passed (older ones are not sent late, and points
    before the invitation itself are not sent at all), or None."""
    policy = runtime.partnership.agency_updates.reminders
    if now >= deadline:
        return "late" if policy.when_late else None
    day_minutes = _day_minutes(runtime)
    passed = None
    for index, span in enumerate(policy.before_deadline):  # longest first
        point = working_time_before(
            runtime.calendar, deadline, timedelta(minutes=span.in_working_minutes(day_minutes))
        )
        if invited_at < point <= now:
            passed = f"before-{index}"
    return passed


def _day_minutes(runtime: Runtime) -> int:
    hours = runtime.partnership.working_hours
    return (hours.end.hour * 60 + hours.end.minute) - (hours.start.hour * 60 + hours.start.minute)


def _recipients(session: Session, invitation: Invitation) -> list[Person]:
    people = list(
        session.exec(
            select(Person)
            .join(InvitationMessage, col(InvitationMessage.person_id) == col(Person.id))
            .where(col(InvitationMessage.invitation_id) == invitation.id)
        )
    )
    if invitation.delegate_id:
        delegate = session.get(Person, invitation.delegate_id)
        if delegate is not None:
            people.append(delegate)
    return [p for p in {p.id: p for p in people}.values() if p.slack_user_id]


def sweep_agency_updates(runtime: Runtime) -> int:
    """Send the reminders now due; returns how many messages were queued."""
    now = runtime.clock.now()
    if not runtime.calendar.is_working_time(now):
        return 0
    queued = 0
    with session_scope(runtime.engine) as session:
        # A panel asks for one update per agenda item: one reminder lists them all.
        grouped: dict[int, list[Outstanding]] = {}
        for owed in outstanding_updates(session, starting_after=now):
            grouped.setdefault(owed.invitation.id or 0, []).append(owed)
        for items in grouped.values():
            invitation, meeting, agency = items[0].invitation, items[0].meeting, items[0].agency
            deadline = deadline_for(meeting, runtime.partnership, runtime.calendar)
            point = _due_point(runtime, deadline, now, invitation.created_at) if deadline else None
            if point is None:
                continue
            text = render_message(
                runtime.settings.templates_dir,
                "agency_update_late.md.j2" if point == "late" else "agency_update_reminder.md.j2",
                marking=runtime.partnership.settings.protective_marking,
                agency=agency.name,
                reference=meeting.reference,
                deadline=when(runtime.calendar, deadline),
                when=when(runtime.calendar, meeting.scheduled_start),
                draft=any(owed.update is not None for owed in items),
                panel=bool(meeting.details.get("panel")),
                items=[owed.case_reference for owed in items if owed.case_reference],
            )
            for person in _recipients(session, invitation):
                key = f"update-reminder:{invitation.id}:{point}:{person.slack_user_id}"
                if session.exec(select(col(OutboxMessage.id)).where(col(OutboxMessage.key) == key)).first():
                    continue
                try:
                    with session.begin_nested():
                        dm(session, key=key, slack_id=person.slack_user_id or "", text=text, now=now)
                        session.add(
                            Chase(
                                invitation_id=invitation.id,
                                step=f"update_{point}",
                                to_person_id=person.id,
                                at=now,
                            )
                        )
                    queued += 1
                except IntegrityError:
                    continue  # another process queued it first
    runtime.kick_delivery()
    return queued
