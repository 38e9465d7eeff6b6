"""Actions agreed in a meeting: adding them with their owner and due date, and their history.
Plain Python over the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, func
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from bot.actions.models import Action, ActionEvent, ActionStatus, Chase
from bot.audit.service import Actor, record
from bot.cases.models import Case
from bot.convening.models import Meeting
from bot.database import among_ids
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
    # Or a contact without Slack, by their id in the schedules (they are e-mailed links).
    owner_contact: str | None = None


def default_due(
    partnership: Partnership, calendar: WorkingCalendar, meeting: Meeting, priority: str, today: date
) -> date:
    """The policy's due date for this priority, in working days from the meeting (or today)."""
    days = getattr(partnership.meeting_type(meeting.meeting_type).action_due_working_days, priority, 5)
    start = calendar.local(meeting.scheduled_start).date() if meeting.scheduled_start else today
    return calendar.add_working_days(max(start, today), days)


def validate_action(
    session: Session,
    new: NewAction,
    *,
    today: date,
    case_id: int | None = None,
    child_names: tuple[str, ...] = (),
) -> dict[str, str]:
    """Problems keyed by form block; an action needs words, an owner and a future date, and
    its words are shown in Slack reminders, so they must not name the child (nor any of the
    discussion's `child_names`)."""
    from bot.cases.service import NAME_IN_SLACK_TEXT, mentions_child, mentions_child_of_case

    def names_a_child(text: str) -> bool:
        return mentions_child_of_case(session, case_id, text) or any(
            mentions_child(text, name) for name in child_names
        )

    errors: dict[str, str] = {}
    if not new.text.strip():
        errors["text"] = "Say what is to be done."
    elif len(new.text) > ACTION_TEXT_LIMIT:
        errors["text"] = f"Keep it under {ACTION_TEXT_LIMIT} characters."
    elif names_a_child(new.text):
        errors["text"] = NAME_IN_SLACK_TEXT
    if names_a_child(new.concerns):
        errors["concerns"] = NAME_IN_SLACK_TEXT
    if not new.owner_slack_id and not new.owner_contact:
        errors["owner"] = "Choose who owns this action."
    elif new.owner_slack_id and new.owner_contact:
        errors["owner"] = "Choose one owner: someone in Slack or a contact without Slack, not both."
    elif _owner_of(session, new) is None:
        errors["owner"] = "That person is not in the partnership's schedules."
    if new.priority not in PRIORITIES:
        errors["priority"] = "Choose a priority."
    if new.due_on is not None and new.due_on < today:
        errors["due_on"] = "That date has passed."
    return errors


def _owner(session: Session, slack_id: str) -> Person | None:
    return session.exec(
        select(Person).where(col(Person.slack_user_id) == slack_id, col(Person.active) == True)  # noqa: E712
    ).first()


def _owner_of(session: Session, new: NewAction) -> Person | None:
    """The owner chosen on the form: a Slack user, or a contact without Slack."""
    if new.owner_slack_id:
        return _owner(session, new.owner_slack_id)
    return session.exec(
        select(Person).where(
            col(Person.schedule_id) == (new.owner_contact or ""),
            col(Person.slack_user_id).is_(None) | (col(Person.slack_user_id) == ""),
            col(Person.active) == True,  # noqa: E712
        )
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
    existing = session.exec(select(Action).where(col(Action.submission_key) == key)).first()
    if existing is not None:
        return existing, False
    owner = _owner_of(session, new)
    assert owner is not None
    today = calendar.local(now).date()
    due = new.due_on or default_due(partnership, calendar, meeting, new.priority, today)
    number = len(session.exec(select(col(Action.id)).where(col(Action.meeting_id) == meeting.id)).all()) + 1
    from bot.children.service import child_named, subject_references

    case = session.get(Case, meeting.case_id) if meeting.case_id else None
    # With several children, an action naming one of them (by reference) is theirs; one
    # naming none concerns them all (the shared part).
    named = child_named(session, meeting, new.concerns)
    action = Action(
        reference=f"{meeting.reference}-A{number:02d}",
        meeting_id=meeting.id,
        case_id=named.id if named else meeting.case_id,
        concerns=new.concerns.strip()
        or subject_references(session, meeting)
        or (case.reference if case else ""),
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
    from bot.actions.chasing import reschedule

    reschedule(action, partnership, calendar, now)
    session.add(action)
    session.flush()
    concerned = named or case  # the audit trail files the action under its own child
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
        case_reference=concerned.reference if concerned is not None else "",
        details={
            "owner": owner.slack_user_id or owner.schedule_id,
            "due": due.isoformat(),
            "priority": new.priority,
        },
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
    id: int = 0
    evidence: str = ""  # what the owner said was done, when marking it done


OPEN_STATUSES = (ActionStatus.OPEN, ActionStatus.ESCALATED)
# Rows a list shows at a time: one section each, well inside Slack's 50 blocks a message.
PAGE_SIZE = 20


class _Fields(NamedTuple):
    """The columns of an action a row shows, read as plain values: a log of 400 actions
    builds no Action, Person or Agency instances (their other columns are never shown)."""

    id: int | None
    reference: str
    text: str
    concerns: str
    assigned_on: date
    due_on: date
    completed_at: datetime | None
    status: str
    priority: str
    escalation_level: int


_FIELDS = tuple(col(getattr(Action, name)) for name in _Fields._fields)
Listed = tuple[_Fields, str | None, str | None, str | None, str]


def _listed(session: Session, query: Select) -> list[Listed]:
    """The actions a query selects with their owner's name and Slack id, their agency's name
    and their meeting's reference, in one statement."""
    joined = (
        query.with_only_columns(
            *_FIELDS, col(Person.name), col(Person.slack_user_id), col(Agency.name), col(Meeting.reference)
        )
        .outerjoin(Person, col(Person.id) == col(Action.owner_id))
        .outerjoin(Agency, col(Agency.id) == col(Action.agency_id))
        .outerjoin(Meeting, col(Meeting.id) == col(Action.meeting_id))
    )
    width = len(_FIELDS)
    return [
        (_Fields(*row[:width]), row[width], row[width + 1], row[width + 2], row[width + 3] or "")
        for row in session.execute(joined)
    ]


def _row(
    action: _Fields,
    owner: str | None,
    owner_slack_id: str | None,
    agency: str | None,
    meeting: str,
    updates: tuple[tuple[datetime, str, str], ...] = (),
    chases: tuple[tuple[datetime, str, str, str], ...] = (),
    evidence: str = "",
) -> ActionRow:
    return ActionRow(
        reference=action.reference,
        text=action.text,
        concerns=action.concerns,
        owner=owner or "",
        owner_slack_id=owner_slack_id,
        agency=agency or "",
        assigned=action.assigned_on,
        due=action.due_on,
        completed=action.completed_at,
        status=action.status,
        priority=action.priority,
        escalation_level=action.escalation_level,
        meeting=meeting,
        updates=updates,
        chases=chases,
        id=action.id or 0,
        evidence=evidence,
    )


def actions_of(
    session: Session,
    *,
    meeting_id: int | None = None,
    case_id: int | None = None,
    action_ids: list[int] | None = None,
    history: bool = True,
) -> list[ActionRow]:
    """Every action of a meeting (or a case, or these ids), with its history, oldest first.
    Four statements however many actions: the actions with owner, agency and meeting; their
    events; their chases; the names of who acted or was chased."""
    query = select(Action).order_by(col(Action.id))
    if action_ids is not None:
        query = query.where(among_ids(col(Action.id), action_ids))
    if meeting_id is not None:
        query = query.where(col(Action.meeting_id) == meeting_id)
    if case_id is not None:
        query = query.where(col(Action.case_id) == case_id)
    listed = _listed(session, query)
    ids = [action.id for action, *_ in listed]
    if not history or not ids:
        return [_row(*item) for item in listed]
    # The history as plain rows (columns, not ORM objects): a log of 400 actions has
    # thousands of events and chases, and only these fields are shown.
    events = session.execute(
        select_columns(
            col(ActionEvent.action_id),
            col(ActionEvent.kind),
            col(ActionEvent.by_id),
            col(ActionEvent.details)["note"].as_string(),  # the one detail shown, not the whole JSON
            col(ActionEvent.at),
        )
        .where(among_ids(col(ActionEvent.action_id), ids))
        .order_by(col(ActionEvent.at), col(ActionEvent.id))
    ).all()
    chases = session.execute(
        select_columns(
            col(Chase.action_id), col(Chase.step), col(Chase.to_person_id), col(Chase.via), col(Chase.at)
        )
        .where(among_ids(col(Chase.action_id), ids))
        .order_by(col(Chase.at), col(Chase.id))
    ).all()
    people = {e.by_id for e in events if e.by_id} | {c.to_person_id for c in chases if c.to_person_id}
    names = (
        dict(session.exec(select(Person.id, Person.name).where(among_ids(col(Person.id), people))).all())
        if people
        else {}
    )
    updates: dict[int, list[tuple[datetime, str, str]]] = {}
    evidence: dict[int, list[str]] = {}
    for action_id, kind, by_id, note, at in events:
        updates.setdefault(action_id, []).append((at, names.get(by_id, ""), str(note or kind)))
        if kind == "done" and note:
            evidence.setdefault(action_id, []).append(str(note))
    chased: dict[int, list[tuple[datetime, str, str, str]]] = {}
    for action_id, step, to_person_id, via, at in chases:
        chased.setdefault(action_id or 0, []).append((at, names.get(to_person_id, ""), step, via))
    return [
        _row(
            *item,
            tuple(updates.get(item[0].id or 0, ())),
            tuple(chased.get(item[0].id or 0, ())),
            "; ".join(evidence.get(item[0].id or 0, ())),
        )
        for item in listed
    ]


@dataclass(frozen=True)
class ActionPage:
    """One page of a list of actions, most urgent (earliest due) first, and where it sits."""

    rows: list[ActionRow]
    page: int
    total: int
    size: int = PAGE_SIZE

    @property
    def first(self) -> int:
        return self.page * self.size + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.page * self.size + len(self.rows)

    @property
    def has_next(self) -> bool:
        return self.last < self.total


def open_actions_page(
    session: Session,
    *,
    owner_id: int | None = None,
    agency_id: int | None = None,
    due_before: date | None = None,
    page: int = 0,
    size: int = PAGE_SIZE,
) -> ActionPage:
    """Open actions (of one owner, one agency, or all; optionally only those due before a
    day: the overdue), a page at a time: two statements whatever the number, a count and
    the page, each served by an index on (owner or agency, status, due date)."""
    conditions: list[ColumnElement[bool]] = [col(Action.status).in_(OPEN_STATUSES)]
    if owner_id is not None:
        conditions.append(col(Action.owner_id) == owner_id)
    if agency_id is not None:
        conditions.append(col(Action.agency_id) == agency_id)
    if due_before is not None:
        conditions.append(col(Action.due_on) < due_before)
    total = session.exec(select(func.count()).select_from(Action).where(*conditions)).one()
    page = max(0, min(page, max(total - 1, 0) // size))
    query = (
        select(Action)
        .where(*conditions)
        .order_by(col(Action.due_on), col(Action.id))
        .offset(page * size)
        .limit(size)
    )
    return ActionPage([_row(*item) for item in _listed(session, query)], page, total, size)


def _concerns_child(reference: Any) -> ColumnElement[bool]:
    """An action's `concerns` names this reference (a value, or a column) as one of its
    comma-separated references, not as part of a longer one."""
    concerns = col(Action.concerns)
    return (
        (concerns == reference)
        | concerns.like(reference + ",%")
        | concerns.like("%, " + reference)
        | concerns.like("%, " + reference + ",%")
    )


def child_actions_condition(case: Case) -> ColumnElement[bool]:
    """The actions of one child: their own (`case_id`), and the shared actions of every
    discussion concerning them: those naming them among others, and those naming none of
    the discussion's children (the context's, say); never another child's own action. A
    condition, so lists stay one statement."""
    from bot.children.models import DiscussionChild

    discussions = select(col(DiscussionChild.meeting_id)).where(col(DiscussionChild.case_id) == case.id)
    names_a_child = (
        select(col(DiscussionChild.id))
        .join(Case, col(Case.id) == col(DiscussionChild.case_id))
        .where(
            col(DiscussionChild.meeting_id) == col(Action.meeting_id), _concerns_child(col(Case.reference))
        )
        .exists()
    )
    return (col(Action.case_id) == case.id) | (
        col(Action.meeting_id).in_(discussions) & (_concerns_child(case.reference) | ~names_a_child)
    )


def child_actions_page(session: Session, case: Case, *, page: int = 0, size: int = PAGE_SIZE) -> ActionPage:
    """One child's open actions (their own and their discussions' shared ones), the earliest
    due first, a page at a time: two statements whatever the number, a count and the page."""
    conditions = (col(Action.status).in_(OPEN_STATUSES), child_actions_condition(case))
    total = session.exec(select(func.count()).select_from(Action).where(*conditions)).one()
    page = max(0, min(page, max(total - 1, 0) // size))
    query = (
        select(Action)
        .where(*conditions)
        .order_by(col(Action.due_on), col(Action.id))
        .offset(page * size)
        .limit(size)
    )
    return ActionPage([_row(*item) for item in _listed(session, query)], page, total, size)


class ActionRefused(Exception):
    """The person may not do this to the action, or it is not allowed now; says why."""


def _load(session: Session, action_id: int) -> Action:
    action = session.get(Action, action_id, with_for_update=True, populate_existing=True)
    if action is None:
        raise ActionRefused("That action no longer exists.")
    return action


def _open(action: Action) -> None:
    if action.status not in (ActionStatus.OPEN, ActionStatus.ESCALATED):
        raise ActionRefused(f"{action.reference} is already {action.status}.")


def _event(
    session: Session, action: Action, kind: str, actor: Actor, now: datetime, **details: object
) -> None:
    session.add(
        ActionEvent(action_id=action.id or 0, kind=kind, by_id=actor.person_id, details=dict(details), at=now)
    )
    case = session.get(Case, action.case_id) if action.case_id else None
    record(
        session,
        at=now,
        actor=actor,
        act=f"action.{kind}",
        record_type="action",
        record_id=action.reference,
        case_reference=case.reference if case else "",
        details={k: v for k, v in details.items() if k != "note"},
    )


def _is_owner_or_lead(
    session: Session, action: Action, member_person_id: int | None, partnership: Partnership
) -> bool:
    if member_person_id is None:
        return False
    if member_person_id == action.owner_id:
        return True
    person = session.get(Person, member_person_id)
    agency = session.get(Agency, action.agency_id)
    if person is None or agency is None or not person.schedule_id:
        return False
    return partnership.agency(agency.code).lead_person().id == person.schedule_id


def mark_done(
    session: Session, action_id: int, note: str, *, actor: Actor, partnership: Partnership, now: datetime
) -> tuple[Action, bool]:
    """The owner (or their agency lead) says it is done, with a note of what was done."""
    action = _load(session, action_id)
    if action.status == ActionStatus.DONE:
        return action, False
    if not _is_owner_or_lead(session, action, actor.person_id, partnership):
        raise ActionRefused("Only the owner of the action or their agency lead can mark it done.")
    if not note.strip():
        raise ActionRefused("Say briefly what was done.")
    action.status = ActionStatus.DONE
    action.completed_at = now
    action.next_chase_at = None
    session.add(action)
    _event(session, action, "done", actor, now, note=note.strip())
    session.flush()
    return action, True


def request_extension(
    session: Session,
    action_id: int,
    wanted: date | None,
    reason: str,
    *,
    actor: Actor,
    partnership: Partnership,
    today: date,
    now: datetime,
) -> Action:
    """Ask the chair for a later due date; nothing changes until the chair accepts."""
    action = _load(session, action_id)
    _open(action)
    if not _is_owner_or_lead(session, action, actor.person_id, partnership):
        raise ActionRefused("Only the owner of the action or their agency lead can ask for an extension.")
    if wanted is None or wanted <= max(action.due_on, today - timedelta(days=1)):
        raise ActionRefused("Choose a date after the current due date.")
    if not reason.strip():
        raise ActionRefused("Give the reason for the extension.")
    _event(session, action, "extension_requested", actor, now, due_on=wanted.isoformat(), note=reason.strip())
    session.flush()
    return action


def latest_request(session: Session, action: Action) -> ActionEvent | None:
    """The most recent extension request on an action."""
    return session.exec(
        select(ActionEvent)
        .where(col(ActionEvent.action_id) == action.id, col(ActionEvent.kind) == "extension_requested")
        .order_by(col(ActionEvent.id).desc())
    ).first()


def decide_extension(
    session: Session,
    request_id: int,
    accept: bool,
    *,
    actor: Actor,
    partnership: Partnership,
    calendar: WorkingCalendar,
    now: datetime,
) -> tuple[Action, bool]:
    """The chair accepts (the due date moves and chasing starts again from it) or refuses.
    A request is decided once: a second click finds the decision already made."""
    request = session.get(ActionEvent, request_id)
    if request is None or request.kind != "extension_requested":
        raise ActionRefused("That request no longer exists.")
    action = _load(session, request.action_id)
    wanted = date.fromisoformat(request.details["due_on"])
    meeting = session.get(Meeting, action.meeting_id) if action.meeting_id else None
    if meeting is None or actor.person_id != meeting.chair_id:
        raise ActionRefused("Only the chair of the discussion can decide an extension.")
    decided = session.exec(
        select(ActionEvent).where(
            col(ActionEvent.action_id) == action.id,
            col(ActionEvent.kind).in_(("extension_accepted", "extension_refused")),
            col(ActionEvent.id) > request.id,
        )
    ).first()
    if decided is not None:
        return action, False
    _open(action)
    if accept:
        from bot.actions.chasing import reschedule

        previous = action.due_on
        action.due_on = wanted
        action.escalation_level = 0
        action.status = ActionStatus.OPEN
        reschedule(action, partnership, calendar, now)
        session.add(action)
        _event(
            session,
            action,
            "extension_accepted",
            actor,
            now,
            due_on=wanted.isoformat(),
            was=previous.isoformat(),
        )
    else:
        _event(session, action, "extension_refused", actor, now, due_on=wanted.isoformat())
    session.flush()
    return action, True


def snooze(
    session: Session,
    action_id: int,
    *,
    actor: Actor,
    partnership: Partnership,
    calendar: WorkingCalendar,
    now: datetime,
) -> Action:
    """Put the owner's reminders off by a working day, within the policy's limits;
    escalations are not put off."""
    action = _load(session, action_id)
    _open(action)
    if actor.person_id != action.owner_id:
        raise ActionRefused("Only the owner can snooze their reminders.")
    limits = partnership.chasing.snooze
    if action.snoozes >= limits.max_times:
        raise ActionRefused(f"{action.reference} has been snoozed {action.snoozes} times, the most allowed.")
    base = max(now, action.snoozed_until or now)
    until = calendar.start_of_day(calendar.add_working_days(calendar.local(base).date(), 1))
    ceiling = calendar.start_of_day(
        calendar.add_working_days(calendar.local(now).date(), limits.max_working_days)
    )
    if until > ceiling:
        raise ActionRefused(f"Reminders can be put off at most {limits.max_working_days} working days ahead.")
    action.snoozed_until = until
    action.snoozes += 1
    session.add(action)
    _event(session, action, "snoozed", actor, now, until=until.isoformat())
    session.flush()
    return action


def reassign(
    session: Session,
    action_id: int,
    new_owner_slack_id: str,
    *,
    actor: Actor,
    partnership: Partnership,
    now: datetime,
) -> tuple[Action, Person]:
    """Give the action to someone else in the same agency."""
    action = _load(session, action_id)
    _open(action)
    if not _is_owner_or_lead(session, action, actor.person_id, partnership):
        raise ActionRefused("Only the owner of the action or their agency lead can reassign it.")
    owner = _owner(session, new_owner_slack_id)
    if owner is None or owner.agency_id != action.agency_id:
        raise ActionRefused("Choose someone in the same agency.")
    if owner.id == action.owner_id:
        return action, owner
    previous = action.owner_id
    action.owner_id = owner.id or 0
    session.add(action)
    _event(session, action, "reassigned", actor, now, was=previous, to=owner.id)
    session.flush()
    return action, owner
