"""Actions agreed in a meeting: adding them with their owner and due date, and their history.
Plain Python over the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

from bot.actions.models import Action, ActionEvent, ActionStatus, Chase
from bot.audit.service import Actor, record
from bot.cases.models import Case
from bot.convening.models import Meeting
from bot.partnership.models import Agency, Person
from bot.schedules import Partnership
from bot.working_days import WorkingCalendar

PRIORITIES: dict[str, str] = {
    "immediate": "Immediate (safety)",
    "high": "High",
    "normal": "Normal",
    "low": "Low",
}
ACTION_TEXT_LIMIT = 3000


@dataclass(frozen=True)
class NewAction:
    """An action as typed into the form."""

    text: str
    owner_slack_id: str | None
    priority: str
    due_on: date | None
    concerns: str


def default_due(
    partnership: Partnership, calendar: WorkingCalendar, meeting: Meeting, priority: str, today: date
) -> date:
    """The policy's due date for this priority, in working days from the meeting (or today)."""
    days = getattr(partnership.meeting_type(meeting.meeting_type).action_due_working_days, priority, 5)
    start = calendar.local(meeting.scheduled_start).date() if meeting.scheduled_start else today
    return calendar.add_working_days(max(start, today), days)


def validate_action(session: Session, new: NewAction, *, today: date) -> dict[str, str]:
    """Problems keyed by form block; an action needs words, an owner and a future date."""
    errors: dict[str, str] = {}
    if not new.text.strip():
        errors["text"] = "Say what is to be done."
    elif len(new.text) > ACTION_TEXT_LIMIT:
        errors["text"] = f"Keep it under {ACTION_TEXT_LIMIT} characters."
    if not new.owner_slack_id:
        errors["owner"] = "Choose who owns this action."
    elif _owner(session, new.owner_slack_id) is None:
        errors["owner"] = "That person is not in the partnership's schedules."
    if new.priority not in PRIORITIES:
        errors["priority"] = "Choose a priority."
    if new.due_on is not None and new.due_on < today:
        errors["due_on"] = "That date has passed."
    return errors


def _owner(session: Session, slack_id: str) -> Person | None:
    return session.exec(
        select(Person).where(Person.slack_user_id == slack_id, Person.active == True)  # noqa: E712
    ).first()


def add_action(
    session: Session,
    meeting: Meeting,
    new: NewAction,
    *,
    partnership: Partnership,
    calendar: WorkingCalendar,
    actor: Actor,
    key: str,
    now: datetime,
) -> tuple[Action, bool]:
    """Store the action with its reference (e.g. SD-2026-0001-A03); a retried form (same key)
    returns the first. Returns the action and whether it was created now."""
    existing = session.exec(select(Action).where(Action.submission_key == key)).first()
    if existing is not None:
        return existing, False
    owner = _owner(session, new.owner_slack_id or "")
    assert owner is not None
    today = calendar.local(now).date()
    due = new.due_on or default_due(partnership, calendar, meeting, new.priority, today)
    number = len(session.exec(select(Action.id).where(Action.meeting_id == meeting.id)).all()) + 1
    case = session.get(Case, meeting.case_id) if meeting.case_id else None
    action = Action(
        reference=f"{meeting.reference}-A{number:02d}",
        meeting_id=meeting.id,
        case_id=meeting.case_id,
        concerns=new.concerns.strip() or (case.reference if case else ""),
        text=new.text.strip(),
        owner_id=owner.id or 0,
        agency_id=owner.agency_id,
        priority=new.priority,
        assigned_on=today,
        due_on=due,
        status=ActionStatus.OPEN,
        submission_key=key,
        created_at=now,
    )
    session.add(action)
    session.flush()
    session.add(
        ActionEvent(action_id=action.id or 0, kind="created", by_id=actor.person_id, details={}, at=now)
    )
    record(
        session,
        at=now,
        actor=actor,
        act="action.created",
        record_type="action",
        record_id=action.reference,
        case_reference=case.reference if case else "",
        details={"owner": owner.slack_user_id, "due": due.isoformat(), "priority": new.priority},
    )
    session.flush()
    return action, True


@dataclass(frozen=True)
class ActionRow:
    """An action as documents and lists show it."""

    reference: str
    text: str
    concerns: str
    owner: str
    owner_slack_id: str | None
    agency: str
    assigned: date
    due: date
    completed: datetime | None
    status: str
    priority: str
    escalation_level: int
    meeting: str
    updates: tuple[tuple[datetime, str, str], ...]
    chases: tuple[tuple[datetime, str, str, str], ...]


def actions_of(
    session: Session, *, meeting_id: int | None = None, case_id: int | None = None
) -> list[ActionRow]:
    """Every action of a meeting (or a case), with its history, oldest first."""
    query = select(Action).order_by(Action.id)
    if meeting_id is not None:
        query = query.where(Action.meeting_id == meeting_id)
    if case_id is not None:
        query = query.where(Action.case_id == case_id)
    rows: list[ActionRow] = []
    for action in session.exec(query):
        owner = session.get(Person, action.owner_id)
        agency = session.get(Agency, action.agency_id)
        meeting = session.get(Meeting, action.meeting_id) if action.meeting_id else None
        events = session.exec(
            select(ActionEvent).where(ActionEvent.action_id == action.id).order_by(ActionEvent.at)
        ).all()
        updates = tuple(
            (
                event.at,
                (
                    session.get(Person, event.by_id).name
                    if event.by_id and session.get(Person, event.by_id)
                    else ""
                ),
                str(event.details.get("note") or event.kind),
            )
            for event in events
        )
        chases = tuple(
            (
                chase.at,
                (
                    session.get(Person, chase.to_person_id).name
                    if chase.to_person_id and session.get(Person, chase.to_person_id)
                    else ""
                ),
                chase.step,
                chase.via,
            )
            for chase in session.exec(select(Chase).where(Chase.action_id == action.id).order_by(Chase.at))
        )
        rows.append(
            ActionRow(
                reference=action.reference,
                text=action.text,
                concerns=action.concerns,
                owner=owner.name if owner else "",
                owner_slack_id=owner.slack_user_id if owner else None,
                agency=agency.name if agency else "",
                assigned=action.assigned_on,
                due=action.due_on,
                completed=action.completed_at,
                status=action.status,
                priority=action.priority,
                escalation_level=action.escalation_level,
                meeting=meeting.reference if meeting else "",
                updates=updates,
                chases=chases,
            )
        )
    return rows
