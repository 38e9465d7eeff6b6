"""Periodic action work: the chasing sweep and the agency leads' daily digest."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select as columns
from sqlmodel import Session, col, select

from bot.actions.chasing import claim_due_action_chases
from bot.actions.models import Action
from bot.actions.service import ActionRow, open_actions_page
from bot.actions.views import OVERDUE_PAGE, action_page, reminder_message
from bot.cases.models import Case
from bot.convening.models import Meeting
from bot.database import session_scope
from bot.delivery.models import OutboxMessage
from bot.delivery.service import enqueue, enqueue_many, refresh_many
from bot.partners.effects import email_action_chase
from bot.partnership.models import Agency, Person
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
    working hours nothing is claimed: what fell due waits for the next working morning.
    The cost is fixed per claim: the claimed actions' rows, cases and outbox keys are each
    read once for the whole batch, never a meeting's other actions."""
    now = runtime.clock.now()
    if not runtime.calendar.is_working_time(now):
        return 0
    today = runtime.calendar.local(now).date()
    with session_scope(runtime.engine) as session:
        claimed = claim_due_action_chases(
            session, partnership=runtime.partnership, calendar=runtime.calendar, now=now
        )
        ids = sorted({chase.action_id for chase in claimed})
        found = _claimed_actions(session, ids) if ids else {}
        overdue_by: dict[date, int] = {}
        calls: list[tuple[str, str, dict]] = []
        touched: set[int] = set()
        for chase in claimed:
            if chase.action_id not in found:
                continue
            action, row, case_reference = found[chase.action_id]
            overdue = overdue_by.get(action.due_on)
            if overdue is None:
                overdue = overdue_by[action.due_on] = max(
                    runtime.calendar.working_days_between(action.due_on, today), 0
                )
            message = reminder_message(
                row,
                action.id or 0,
                headline(chase.kind, overdue, f"{action.due_on:%a %d %b}"),
                # Whom it is for, by case reference: the child's own, or every child of the
                # discussion for a shared action; never a name.
                case_reference=action.concerns or case_reference,
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
            calls += [
                (
                    f"action-chase:{action.id}:{chase.step_number}:{person.slack_user_id}",
                    "chat.postMessage",
                    {"channel": person.slack_user_id, **message},
                )
                for person in chase.recipients
                if person.slack_user_id
            ]
            if action.meeting_id:
                touched.add(action.meeting_id)
        enqueue_many(session, calls, now=now)
        # Each touched discussion's live status is re-rendered (as `refresh_status` asks).
        refresh_many(
            session, purpose="status_refresh", subject_ids=sorted(touched), method="chat.update", now=now
        )
    runtime.kick_delivery()
    return len(claimed)


def _claimed_actions(session: Session, ids: list[int]) -> dict[int, tuple[Any, ActionRow, str]]:
    """The claimed actions as their reminders show them, in one statement of plain columns
    (no objects): each action with its owner, agency, meeting and case reference."""
    query = (
        columns(
            col(Action.id),
            col(Action.reference),
            col(Action.text),
            col(Action.concerns),
            col(Action.assigned_on),
            col(Action.due_on),
            col(Action.completed_at),
            col(Action.status),
            col(Action.priority),
            col(Action.escalation_level),
            col(Action.meeting_id),
            col(Person.name),
            col(Person.slack_user_id),
            col(Agency.name).label("agency_name"),
            col(Meeting.reference).label("meeting_reference"),
            col(Case.reference).label("case_reference"),
        )
        .outerjoin(Person, col(Person.id) == col(Action.owner_id))
        .outerjoin(Agency, col(Agency.id) == col(Action.agency_id))
        .outerjoin(Meeting, col(Meeting.id) == col(Action.meeting_id))
        .outerjoin(Case, col(Case.id) == col(Action.case_id))
        .where(col(Action.id).in_(ids))
    )
    found: dict[int, tuple[Any, ActionRow, str]] = {}
    for r in session.execute(query):
        row = ActionRow(
            reference=r.reference,
            text=r.text,
            concerns=r.concerns,
            owner=r.name or "",
            owner_slack_id=r.slack_user_id,
            agency=r.agency_name or "",
            assigned=r.assigned_on,
            due=r.due_on,
            completed=r.completed_at,
            status=r.status,
            priority=r.priority,
            escalation_level=r.escalation_level,
            meeting=r.meeting_reference or "",
            updates=(),
            chases=(),
            id=r.id or 0,
        )
        found[r.id] = (r, row, r.case_reference or "")
    return found


def send_digests(runtime: Runtime) -> int:
    """Each agency lead's daily list of the agency's overdue actions, once a working day.
    Whether today's digests went is checked first, in one query; only an agency whose
    digest has not gone has its overdue list read, and then one page of it."""
    now = runtime.clock.now()
    if not runtime.calendar.is_working_time(now):
        return 0
    day = runtime.calendar.local(now).date()
    sent = 0
    with session_scope(runtime.engine) as session:
        agencies = session.exec(select(Agency).where(Agency.active == True)).all()  # noqa: E712
        keys: dict[str, tuple[Agency, str]] = {}
        for agency in agencies:
            lead = runtime.partnership.agency(agency.code).lead_person()
            if lead.slack_user_id:
                keys[f"digest:{agency.code}:{lead.slack_user_id}:{day.isoformat()}"] = (
                    agency,
                    lead.slack_user_id,
                )
        gone = set(session.exec(select(OutboxMessage.key).where(col(OutboxMessage.key).in_(keys))).all())
        for key, (agency, lead_slack_id) in keys.items():
            if key in gone:
                continue
            listed = open_actions_page(session, agency_id=agency.id, due_before=day)
            if not listed.rows:
                continue
            message = action_page(
                f"{agency.name}: overdue actions on {day:%a %d %b %Y}",
                listed,
                page_buttons=OVERDUE_PAGE,
                today=day,
            )
            enqueue(
                session,
                key=key,
                method="chat.postMessage",
                arguments={"channel": lead_slack_id, **message},
                now=now,
            )
            sent += 1
    runtime.kick_delivery()
    return sent
