"""Periodic action work: the chasing sweep and the agency leads' daily digest."""

from __future__ import annotations

from sqlmodel import Session, col, select

from bot.actions.chasing import claim_due_action_chases
from bot.actions.models import Action, ActionStatus
from bot.actions.service import actions_of
from bot.actions.views import action_list, reminder_message
from bot.cases.models import Case
from bot.convening.effects import refresh_status
from bot.convening.models import Meeting
from bot.database import session_scope
from bot.delivery.models import OutboxMessage
from bot.delivery.service import enqueue
from bot.partners.effects import email_action_chase
from bot.partnership.models import Agency
from bot.runtime import Runtime


def headline(kind: str, overdue_days: int, due_text: str) -> str:
    """What a chase says first, by its step."""
    return {
        "before_due": f"Reminder: this action is due on {due_text}.",
        "due_today": "This action is due today.",
        "overdue": f"This action is overdue by {overdue_days} working day{'s' if overdue_days != 1 else ''}.",
        "every_hours": "Immediate safety action: please confirm it is done, or say what is in the way.",
        "escalate_lead": f"Escalation to the agency lead: the action is {overdue_days} working days overdue.",
        "escalate_chair": f"Escalation to the chair: the action is {overdue_days} working days overdue.",
    }[kind]


def sweep_actions(runtime: Runtime) -> int:
    """Claim and send every action chase now due; returns how many steps were taken. Out of
    working hours nothing is claimed: what fell due waits for the next working morning."""
    now = runtime.clock.now()
    if not runtime.calendar.is_working_time(now):
        return 0
    today = runtime.calendar.local(now).date()
    with session_scope(runtime.engine) as session:
        claimed = claim_due_action_chases(
            session, partnership=runtime.partnership, calendar=runtime.calendar, now=now
        )
        touched: set[int] = set()
        for chase in claimed:
            action = session.get(Action, chase.action_id)
            if action is None:
                continue
            row = next(
                r
                for r in actions_of(session, meeting_id=action.meeting_id)
                if r.reference == action.reference
            )
            overdue = max(runtime.calendar.working_days_between(action.due_on, today), 0)
            case = session.get(Case, action.case_id) if action.case_id else None
            message = reminder_message(
                row,
                action.id or 0,
                headline(chase.kind, overdue, f"{action.due_on:%a %d %b}"),
                case_reference=case.reference if case else "",
            )
            for person in chase.recipients:
                email_action_chase(
                    session,
                    action=action,
                    step_number=chase.step_number,
                    headline=headline(chase.kind, overdue, f"{action.due_on:%a %d %b}"),
                    contact=person,
                    runtime=runtime,
                    now=now,
                )
                if person.slack_user_id:
                    enqueue(
                        session,
                        key=f"action-chase:{action.id}:{chase.step_number}:{person.slack_user_id}",
                        method="chat.postMessage",
                        arguments={"channel": person.slack_user_id, **message},
                        now=now,
                    )
            if action.meeting_id:
                touched.add(action.meeting_id)
        for meeting_id in touched:
            if session.get(Meeting, meeting_id) is not None:
                refresh_status(session, meeting_id, now)
    runtime.kick_delivery()
    return len(claimed)


def overdue_rows(session: Session, runtime: Runtime, agency_id: int | None = None) -> list:
    """Open actions past their due date, for one agency or all."""
    today = runtime.calendar.local(runtime.clock.now()).date()
    query = select(Action).where(
        col(Action.status).in_((ActionStatus.OPEN, ActionStatus.ESCALATED)),
        col(Action.due_on) < today,
    )
    if agency_id is not None:
        query = query.where(col(Action.agency_id) == agency_id)
    references = {a.reference for a in session.exec(query)}
    meetings = {a.meeting_id for a in session.exec(query)}
    rows = [r for m in meetings for r in actions_of(session, meeting_id=m) if r.reference in references]
    return sorted(rows, key=lambda r: r.due)


def send_digests(runtime: Runtime) -> int:
    """Each agency lead's daily list of the agency's overdue actions, once a working day."""
    now = runtime.clock.now()
    if not runtime.calendar.is_working_time(now):
        return 0
    day = runtime.calendar.local(now).date()
    sent = 0
    with session_scope(runtime.engine) as session:
        for agency in session.exec(select(Agency).where(col(Agency.active) == True)):  # noqa: E712
            lead = runtime.partnership.agency(agency.code).lead_person()
            rows = overdue_rows(session, runtime, agency.id)
            if not rows or not lead.slack_user_id:
                continue
            key = f"digest:{agency.code}:{lead.slack_user_id}:{day.isoformat()}"
            if (
                session.exec(select(col(OutboxMessage.id)).where(col(OutboxMessage.key) == key)).first()
                is not None
            ):
                continue
            message = action_list(f"{agency.name}: overdue actions on {day:%a %d %b %Y}", [("Overdue", rows)])
            enqueue(
                session,
                key=key,
                method="chat.postMessage",
                arguments={"channel": lead.slack_user_id, **message},
                now=now,
            )
            sent += 1
    runtime.kick_delivery()
    return sent
