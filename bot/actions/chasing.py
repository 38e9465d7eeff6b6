"""Chasing actions until they are done.

Each action has a timeline fixed by its due date, its priority and `schedules/chasing.yaml`:
reminders before and on the due day, repeats while overdue, escalation to the owner's agency
lead and then to the chair. Immediate-safety actions are chased every few working hours.
Every step falls in working time (the start of a working day, or a working hour), so
nothing goes out at night or on a bank holiday. What is done is stored on the action
(`chase_step`, `next_chase_at`): a restart carries on, and each step is claimed with a
conditional update, so two bot processes never both send it.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import DateTime, Integer, bindparam, case, insert, literal, null, text, tuple_, update
from sqlalchemy import select as columns
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col, select

from bot.actions.models import Action, ActionStatus, Chase
from bot.cases.models import Case
from bot.convening.models import Meeting
from bot.database import UTCDateTime
from bot.partnership.models import Agency, Person
from bot.schedules import Partnership
from bot.schedules import Person as ConfiguredPerson
from bot.working_days import WorkingCalendar

OVERDUE_REPEATS = 30  # repeats listed ahead; the timeline is recomputed whenever it changes
REMINDERS = ("before_due", "due_today", "overdue", "every_hours")


@dataclass(frozen=True)
class ActionStep:
    at: datetime
    kind: str  # before_due | due_today | overdue | every_hours | escalate_lead | escalate_chair


class BatchDays:
    """The working calendar's day arithmetic for one batch of claims, from a table: the
    working days around the batch's due dates are listed once (extended as needed), so
    adding working days is an index step instead of a walk that asks, day by day, whether
    each is a bank holiday. The answers are the calendar's own (`is_working_day` makes the
    table); start-of-day times are kept per day."""

    SPAN = timedelta(days=120)

    def __init__(self, calendar: WorkingCalendar) -> None:
        self.calendar = calendar
        self.low: date | None = None  # the table covers low..high, both included
        self.high: date | None = None
        self.days: list[date] = []
        self.starts: dict[date, datetime] = {}

    def _cover(self, day: date) -> None:
        """Extend the table (by whole spans) until `day` is inside it with a span to spare."""
        if self.low is None or self.high is None:
            self.low = self.high = day
            self.days = [day] if self.calendar.is_working_day(day) else []
        while day - self.SPAN < self.low:
            start = self.low - self.SPAN
            added = [start + timedelta(days=n) for n in range((self.low - start).days)]
            self.days[:0] = [d for d in added if self.calendar.is_working_day(d)]
            self.low = start
        while day + self.SPAN > self.high:
            end = self.high + self.SPAN
            added = [self.high + timedelta(days=n) for n in range(1, (end - self.high).days + 1)]
            self.days.extend(d for d in added if self.calendar.is_working_day(d))
            self.high = end

    def is_working_day(self, day: date) -> bool:
        return self.calendar.is_working_day(day)

    def add_working_days(self, day: date, n: int) -> date:
        """As `WorkingCalendar.add_working_days`: the table is whole between its ends, so
        the nth working day from `day` is n places along it, once the table reaches it."""
        while True:
            self._cover(day)
            if n > 0:
                index = bisect.bisect_right(self.days, day) + n - 1
            else:
                index = bisect.bisect_left(self.days, day) + n
            if 0 <= index < len(self.days):
                return self.days[index]
            assert self.low is not None and self.high is not None
            self._cover(self.high if index >= 0 else self.low)  # one span further that way

    def start_of_day(self, day: date) -> datetime:
        start = self.starts.get(day)
        if start is None:
            start = self.starts[day] = self.calendar.start_of_day(day)
        return start

    def add_working_hours(self, moment: datetime, hours: timedelta) -> datetime:
        return self.calendar.add_working_hours(moment, hours)


# The dated steps of a due date, kept for one batch of claims: many actions share a due date,
# and walking the working-day calendar for each is most of a sweep's own time.
DatedSteps = dict[tuple[str, object, object], list[ActionStep]]


def timeline(
    action: Any,
    partnership: Partnership,
    calendar: WorkingCalendar,
    known: DatedSteps | None = None,
    days: BatchDays | None = None,
) -> list[ActionStep]:
    """Every chase step for the action (an `Action`, or a row with its priority, due date and
    creation time), in order, after it was assigned. `known` keeps the steps worked out for
    each due date (and, when immediate, creation time) across calls with the same
    partnership and calendar; `days` answers the calendar's questions from a table."""
    key = (action.priority, action.due_on, action.created_at if action.priority == "immediate" else None)
    steps = known.get(key) if known is not None else None
    if steps is None:
        steps = _dated_steps(action, partnership, days or calendar)
        if known is not None:
            known[key] = steps
    kept = [s for s in steps if s.at > action.created_at]
    return sorted(kept, key=lambda s: (s.at, s.kind.startswith("escalate")))


def _dated_steps(
    action: Any, partnership: Partnership, calendar: WorkingCalendar | BatchDays
) -> list[ActionStep]:
    """The steps of the action's due date (and creation time, when immediate), unfiltered."""
    policy = partnership.chasing.actions
    due = action.due_on
    steps: list[ActionStep] = []
    if action.priority == "immediate":
        every = timedelta(hours=policy.immediate_priority_chase_every_working_hours)
        moment = action.created_at
        for _ in range(OVERDUE_REPEATS):
            moment = calendar.add_working_hours(moment, every)
            steps.append(ActionStep(moment, "every_hours"))
    else:
        if policy.remind_working_days_before_due:
            day = calendar.add_working_days(due, -policy.remind_working_days_before_due)
            steps.append(ActionStep(calendar.start_of_day(day), "before_due"))
        if policy.remind_on_due_day and calendar.is_working_day(due):
            steps.append(ActionStep(calendar.start_of_day(due), "due_today"))
        every_days = policy.overdue_reminder_every_working_days
        day = due
        for repeat in range(1, OVERDUE_REPEATS + 1):
            # Each repeat counts on from the last (the same day as counting repeat × every
            # from the due date, without walking the calendar again from the start).
            day = (
                calendar.add_working_days(day, every_days)
                if every_days > 0
                else calendar.add_working_days(due, repeat * every_days)
            )
            steps.append(ActionStep(calendar.start_of_day(day), "overdue"))
    lead_day = calendar.add_working_days(due, policy.escalate_to_agency_lead_after_working_days_overdue)
    chair_day = calendar.add_working_days(due, policy.escalate_to_chair_after_working_days_overdue)
    steps.append(ActionStep(calendar.start_of_day(lead_day), "escalate_lead"))
    steps.append(ActionStep(calendar.start_of_day(chair_day), "escalate_chair"))
    return steps


def reschedule(action: Action, partnership: Partnership, calendar: WorkingCalendar, now: datetime) -> None:
    """After the due date or priority changes: skip the steps already past, aim at the next."""
    steps = timeline(action, partnership, calendar)
    action.chase_step = sum(1 for s in steps if s.at <= now)
    action.next_chase_at = steps[action.chase_step].at if action.chase_step < len(steps) else None


@dataclass(frozen=True)
class DueActionChase:
    """A claimed step: which action, what kind, and who is told."""

    action_id: int
    step_number: int
    kind: str
    recipients: list[ConfiguredPerson]
    action: Any = None  # the action as read for the claim, with its owner, agency, meeting and case


def _recipients(
    partnership: Partnership, schedule_of: dict[int, str], action: Any, kind: str
) -> list[ConfiguredPerson]:
    """Who a step tells: the owner, the agency lead or the chair, looked up by id (the
    schedules' people are indexed once, at loading)."""
    if kind == "escalate_lead" and action.agency_code is not None:
        return [partnership.agency(action.agency_code).lead_person()]
    if kind == "escalate_chair":
        whom = schedule_of.get(action.chair_id) if action.chair_id else None
    else:
        whom = schedule_of.get(action.owner_id)
    found = partnership.person_or_none(whom) if whom is not None else None
    return [found] if found is not None else []


def _one(column: Any, key: Any, foreign_key: Any, label: str) -> Any:
    """One column of the row an action's foreign key points at, as a correlated subquery:
    a primary-key look-up per claimed action. Outer joins here let PostgreSQL hash the
    whole meeting and case tables for a batch of 500 (tens of milliseconds a pass at
    full size); the look-ups cost the same whatever the tables' size. NULL when the key
    is, as the outer join gave."""
    return columns(col(column)).where(col(key) == col(foreign_key)).scalar_subquery().label(label)


def _read_around(session: Session, ids: list[int]) -> tuple[dict[int, Any], dict[str, int]]:
    """Everything the claimed steps and their reminders need besides the due columns, in two
    queries for the whole batch (not per action), as plain columns: each action with its
    owner, agency, meeting (and chair) and case; and the stored id of each scheduled person."""
    query: Any = columns(
        col(Action.id),
        col(Action.reference),
        col(Action.text),
        col(Action.concerns),
        col(Action.assigned_on),
        col(Action.completed_at),
        col(Action.status),
        col(Action.case_id),
        _one(Person.name, Person.id, Action.owner_id, "owner_name"),
        _one(Person.slack_user_id, Person.id, Action.owner_id, "owner_slack_id"),
        _one(Agency.code, Agency.id, Action.agency_id, "agency_code"),
        _one(Agency.name, Agency.id, Action.agency_id, "agency_name"),
        _one(Meeting.reference, Meeting.id, Action.meeting_id, "meeting_reference"),
        _one(Meeting.chair_id, Meeting.id, Action.meeting_id, "chair_id"),
        _one(Case.reference, Case.id, Action.case_id, "case_reference"),
    ).where(col(Action.id).in_(ids))
    details = {r.id: r for r in session.execute(query)}
    stored = session.exec(select(Person.schedule_id, Person.id).where(col(Person.schedule_id).is_not(None)))
    return details, {schedule_id: person_id for schedule_id, person_id in stored if schedule_id and person_id}


CLAIM_BATCH = 250  # actions claimed per statement (two CASE entries and a pair of ids each)


def _claim(session: Session, due: list[tuple[Any, list[ActionStep], int, int]]) -> set[int]:
    """Claim every action's due steps at once: each action moves from the step it was read
    at to past the last one due, only if no other process moved it first (the stored step
    is still the one read). One conditional update per batch, not per action; returns the
    actions this process won."""
    table = Action.__table__  # type: ignore[attr-defined]
    won: set[int] = set()
    postgres = session.get_bind().dialect.name == "postgresql"
    for start in range(0, len(due), CLAIM_BATCH):
        batch = due[start : start + CLAIM_BATCH]
        if postgres:
            won.update(_claim_postgres(session, batch))
            continue
        following = {
            action.id: steps[last].at if last < len(steps) else None for action, steps, _first, last in batch
        }
        statement = (
            update(table)
            .where(tuple_(table.c.id, table.c.chase_step).in_([(a.id, first) for a, _s, first, _l in batch]))
            .values(
                chase_step=case({a.id: last for a, _s, _f, last in batch}, value=table.c.id),
                next_chase_at=case(
                    {i: literal(at, UTCDateTime()) for i, at in following.items()},
                    value=table.c.id,
                    else_=null(),
                ),
            )
            .returning(table.c.id)
        )
        won.update(session.execute(statement).scalars())
    return won


# The same conditional claim on PostgreSQL, the batch passed as four arrays: a statement of
# four parameters, whatever the batch's size. The CASE form's thousand parameters made
# building the statement and psycopg's parsing of it a large part of a pass.
_CLAIM_POSTGRES = text(
    "UPDATE action SET chase_step = claimed.step_to, next_chase_at = claimed.chase_at"
    " FROM unnest(:ids, :steps_from, :steps_to, :chase_at)"
    " AS claimed(id, step_from, step_to, chase_at)"
    " WHERE action.id = claimed.id AND action.chase_step = claimed.step_from"
    " RETURNING action.id"
).bindparams(
    bindparam("ids", type_=ARRAY(Integer)),
    bindparam("steps_from", type_=ARRAY(Integer)),
    bindparam("steps_to", type_=ARRAY(Integer)),
    bindparam("chase_at", type_=ARRAY(DateTime(timezone=True))),
)


def _claim_postgres(session: Session, batch: list[tuple[Any, list[ActionStep], int, int]]) -> list[int]:
    """`_claim`'s update of one batch on PostgreSQL (the same rows, the same values)."""
    return list(
        session.execute(
            _CLAIM_POSTGRES,
            {
                "ids": [action.id for action, _s, _f, _l in batch],
                "steps_from": [first for _a, _s, first, _l in batch],
                "steps_to": [last for _a, _s, _f, last in batch],
                "chase_at": [
                    steps[last].at.astimezone(UTC) if last < len(steps) else None
                    for _a, steps, _f, last in batch
                ],
            },
        ).scalars()
    )


def _escalate(session: Session, levels: dict[int, int]) -> None:
    """Raise the escalation of the actions that reached a new level: one update per level.
    The chair's level marks the action escalated. Any of them the session holds as objects
    is told the new level without being written again at the flush."""
    for level in sorted(set(levels.values())):
        ids = sorted(i for i, reached in levels.items() if reached == level)
        values: dict[str, object] = {"escalation_level": level}
        if level == 2:
            values["status"] = ActionStatus.ESCALATED
        session.exec(
            update(Action)
            .where(col(Action.id).in_(ids))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        for action_id in ids:
            held = session.identity_map.get(identity_key(Action, action_id))
            if held is not None:
                set_committed_value(held, "escalation_level", level)


def claim_due_action_chases(
    session: Session, *, partnership: Partnership, calendar: WorkingCalendar, now: datetime, limit: int = 500
) -> list[DueActionChase]:
    """Claim every step now due (in the caller's transaction) and record a Chase for each;
    the caller sends the messages. A snoozed reminder is passed over silently; escalations
    are never snoozed."""
    # Plain rows of the columns a claim reads, not objects: a sweep claims hundreds.
    rows = session.execute(
        columns(
            col(Action.id),
            col(Action.priority),
            col(Action.due_on),
            col(Action.created_at),
            col(Action.chase_step),
            col(Action.snoozed_until),
            col(Action.escalation_level),
            col(Action.owner_id),
            col(Action.agency_id),
            col(Action.meeting_id),
        )
        .where(
            col(Action.status).in_((ActionStatus.OPEN, ActionStatus.ESCALATED)),
            col(Action.next_chase_at).is_not(None),
            col(Action.next_chase_at) <= now,
        )
        .order_by(col(Action.next_chase_at))
        .limit(limit)
    ).all()
    claimed: list[DueActionChase] = []
    chases: list[dict[str, Any]] = []
    details, stored = _read_around(session, [r.id for r in rows]) if rows else ({}, {})
    schedule_of = {person_id: schedule_id for schedule_id, person_id in stored.items()}
    # Each action's steps now due, from its stored step to the last one passed.
    due: list[tuple[Any, list[ActionStep], int, int]] = []
    known: DatedSteps = {}
    days = BatchDays(calendar)
    for row in rows:
        if row.id not in details:
            continue
        # The due columns and the rest, as one plain record (what the reminders show).
        action = SimpleNamespace(**{**details[row.id]._mapping, **row._mapping})
        steps = timeline(action, partnership, calendar, known, days)
        last = action.chase_step
        while last < len(steps) and steps[last].at <= now:
            last += 1
        if last > action.chase_step:
            due.append((action, steps, action.chase_step, last))
    won = _claim(session, due)
    levels: dict[int, int] = {}
    for action, steps, first, last in due:
        if action.id not in won:
            continue  # another process claimed these steps first; it sends them
        for number in range(first, last):
            step = steps[number]
            snoozed = (
                step.kind in REMINDERS and action.snoozed_until is not None and step.at < action.snoozed_until
            )
            if snoozed:
                continue
            # Several reminders due at once (after an outage) collapse into the latest one.
            later_reminder = any(s.kind in REMINDERS and s.at <= now for s in steps[number + 1 :])
            if step.kind in REMINDERS and later_reminder:
                continue
            recipients = _recipients(partnership, schedule_of, action, step.kind)
            level = {"escalate_lead": 1, "escalate_chair": 2}.get(step.kind)
            if level is not None and level > max(action.escalation_level, levels.get(action.id or 0, 0)):
                levels[action.id or 0] = level
            for person in recipients:
                chases.append(
                    {
                        "action_id": action.id,
                        "invitation_id": None,
                        "step": step.kind,
                        "to_person_id": stored.get(person.id),
                        "via": "slack_dm" if person.slack_user_id else ("email" if person.email else "none"),
                        "outbox_key": None,
                        "at": now,
                    }
                )
            claimed.append(DueActionChase(action.id or 0, number, step.kind, recipients, action))
    _escalate(session, levels)
    if chases:  # one multi-row INSERT for the batch (no object per chase)
        session.execute(insert(Chase), chases)
    return claimed
