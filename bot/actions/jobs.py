"""Periodic action work: the chasing sweep and the agency leads' daily digest."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import col, select

from bot.actions.chasing import claim_due_action_chases
from bot.actions.service import ActionRow, open_actions_page
from bot.actions.views import OVERDUE_PAGE, action_page, reminder_message
from bot.database import session_scope
from bot.delivery.models import OutboxMessage
from bot.delivery.service import enqueue, enqueue_many, refresh_many
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
        rows: dict[int, ActionRow] = {}
        overdue_by: dict[date, int] = {}
        calls: list[tuple[str, str, dict]] = []
        touched: set[int] = set()
        for chase in claimed:
            action = chase.action
            row = rows.get(action.id) or rows.setdefault(action.id, _row(action))
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
                case_reference=action.concerns or action.case_reference or "",
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


def _row(action: Any) -> ActionRow:
    """The claimed action (as `claim_due_action_chases` read it) as a reminder shows it."""
    return ActionRow(
        reference=action.reference,
        text=action.text,
        concerns=action.concerns,
        owner=action.owner_name or "",
        owner_slack_id=action.owner_slack_id,
        agency=action.agency_name or "",
        assigned=action.assigned_on,
        due=action.due_on,
        completed=action.completed_at,
        status=action.status,
        priority=action.priority,
        escalation_level=action.escalation_level,
        meeting=action.meeting_reference or "",
        updates=(),
        chases=(),
        id=action.id or 0,
    )


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
