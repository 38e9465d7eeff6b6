"""Reminding agencies whose update is not in, at the points `schedules/agency_updates.yaml`
sets before the deadline, and once when it passes. Exactly once: each reminder's outbox key
is fixed by the invitation and the point, so a second sweep or a second process adds
nothing.

A pass sends a fixed number of statements whatever the data, and few when nothing is due:
each invitation's point is worked out from its row and its meeting's (the deadline once per
meeting), then one statement reads the people not yet reminded at their invitation's point
(their reminder's outbox key absent). Only for those is what they owe read (the saved
updates' states and the panels' agenda items, each in one statement), and the reminders are
written together, a chunk at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, exists, false, literal, or_, union_all
from sqlalchemy import select as select_columns
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.actions.models import Chase
from bot.agency_updates.models import AgencyUpdate
from bot.agency_updates.service import OPEN_STATES, deadline_of, working_time_before
from bot.cases.models import Case
from bot.convening.effects import dm
from bot.convening.models import Invitation, InvitationMessage, Meeting
from bot.convening.views import when
from bot.database import session_scope
from bot.delivery.models import OutboxMessage
from bot.delivery.service import look_up_keys
from bot.panel.models import AgendaItem, PanelCase, PanelSitting
from bot.partnership.models import Agency, Person
from bot.runtime import Runtime
from bot.wording import render_message

KEY_PREFIX = "update-reminder:"
# Reminders written in one savepoint (one multi-row INSERT each for the outbox and the
# chases); a key another process took first sends that chunk one reminder at a time.
CHUNK = 500


@dataclass(frozen=True)
class _Due:
    """An invitation whose reminder point has passed, with what its reminder needs."""

    invitation_id: int
    meeting_id: int
    agency_id: int
    agency_name: str
    reference: str
    scheduled_start: datetime
    deadline: datetime
    panel: bool
    point: str


@dataclass(frozen=True)
class _Reminder:
    key: str
    slack_id: str
    text: str
    invitation_id: int
    person_id: int
    point: str


def _points(runtime: Runtime, deadline: datetime, now: datetime) -> list[tuple[str, datetime]]:
    """A meeting's reminder points already passed, earliest first ("late" alone once the
    deadline has passed, or none if the policy sends nothing late)."""
    policy = runtime.partnership.agency_updates.reminders
    if now >= deadline:
        return [("late", deadline)] if policy.when_late else []
    day_minutes = _day_minutes(runtime)
    passed = []
    for index, span in enumerate(policy.before_deadline):  # longest first
        point = working_time_before(
            runtime.calendar, deadline, timedelta(minutes=span.in_working_minutes(day_minutes))
        )
        if point <= now:
            passed.append((f"before-{index}", point))
    return passed


def _due_point(points: list[tuple[str, datetime]], invited_at: datetime) -> str | None:
    """The latest point passed (older ones are not sent late, and points before the
    invitation itself are not sent at all), or None; "late" whenever invited."""
    due = None
    for name, moment in points:
        if name == "late" or invited_at < moment:
            due = name
    return due


def _day_minutes(runtime: Runtime) -> int:
    hours = runtime.partnership.working_hours
    return (hours.end.hour * 60 + hours.end.minute) - (hours.start.hour * 60 + hours.start.minute)


def _due(session: Session, runtime: Runtime, now: datetime) -> list[_Due]:
    """Invitations of open discussions still ahead, not declined, whose point has passed,
    from one statement (columns, not rows); the convenor's own agency presents at a
    strategy discussion and is left out, but not from a panel."""
    convenor = aliased(Person)
    rows = session.execute(
        select_columns(
            col(Invitation.id),
            col(Invitation.agency_id),
            col(Invitation.created_at),
            col(Agency.name),
            col(Meeting.id),
            col(Meeting.reference),
            col(Meeting.scheduled_start),
            col(Meeting.meeting_type),
            col(Meeting.urgency),
            col(Meeting.details),
            col(convenor.agency_id),
        )
        .join(Meeting, col(Meeting.id) == col(Invitation.meeting_id))
        .join(Agency, col(Agency.id) == col(Invitation.agency_id))
        .outerjoin(convenor, col(convenor.id) == col(Meeting.convenor_id))
        .where(
            col(Meeting.state).in_(OPEN_STATES),
            col(Invitation.state) != "declined",
            col(Meeting.scheduled_start) > now,
        )
        .order_by(col(Meeting.scheduled_start), col(Invitation.id))
    ).all()
    points: dict[int, tuple[datetime | None, list[tuple[str, datetime]]]] = {}  # per meeting
    due: list[_Due] = []
    for (
        invitation_id,
        agency_id,
        invited_at,
        agency_name,
        meeting_id,
        reference,
        start,
        kind,
        urgency,
        details,
        own,
    ) in rows:
        panel = bool((details or {}).get("panel"))
        if own == agency_id and not panel:
            continue
        if meeting_id not in points:
            deadline = deadline_of(
                start,
                details or {},
                kind,
                urgency,
                partnership=runtime.partnership,
                calendar=runtime.calendar,
            )
            points[meeting_id] = (deadline, _points(runtime, deadline, now) if deadline else [])
        deadline, passed = points[meeting_id]
        point = _due_point(passed, invited_at)
        if point is not None and deadline is not None:
            due.append(
                _Due(
                    invitation_id or 0,
                    meeting_id or 0,
                    agency_id,
                    agency_name,
                    reference,
                    start,
                    deadline,
                    panel,
                    point,
                )
            )
    return due


def _not_yet_reminded(session: Session, due: list[_Due]) -> dict[int, list[tuple[int, str]]]:
    """(person id, Slack id) per invitation of everyone to remind at its point whose
    reminder's outbox key is not taken yet, in one statement: the people the invitation
    was sent to, then its delegate, each once."""
    by_point: dict[str, list[int]] = {}
    for item in due:
        by_point.setdefault(item.point, []).append(item.invitation_id)

    def branch(invitation_id: Any, source: int, order: Any) -> Any:
        def unsent(point: str) -> Any:
            key = (
                literal(f"{KEY_PREFIX}")
                + cast(invitation_id, String)
                + literal(f":{point}:")
                + col(Person.slack_user_id)
            )
            return ~exists().where(col(OutboxMessage.key) == key)

        return select_columns(
            invitation_id.label("invitation_id"),
            col(Person.id),
            col(Person.slack_user_id),
            literal(source).label("source"),
            order.label("o"),
        ).where(
            col(Person.slack_user_id).is_not(None),
            col(Person.slack_user_id) != "",
            or_(false(), *(and_(invitation_id.in_(ids), unsent(point)) for point, ids in by_point.items())),
        )

    messages = branch(col(InvitationMessage.invitation_id), 0, col(InvitationMessage.id)).join(
        Person, col(Person.id) == col(InvitationMessage.person_id)
    )
    delegates = branch(col(Invitation.id), 1, col(Invitation.id)).join(
        Person, col(Person.id) == col(Invitation.delegate_id)
    )
    query = union_all(messages, delegates).order_by("invitation_id", "source", "o")
    people: dict[int, dict[int, str]] = {}
    for invitation_id, person_id, slack_id, _source, _order in session.execute(query):
        people.setdefault(invitation_id, {}).setdefault(person_id, slack_id)
    return {invitation_id: list(found.items()) for invitation_id, found in people.items()}


def _owed(session: Session, due: list[_Due]) -> dict[int, tuple[list[str], bool] | None]:
    """Per invitation, what its agency still owes (the panel items' references, and
    whether a draft is saved), or None when everything is submitted: two statements, the
    saved updates' states and the panels' agenda items."""
    meeting_ids = sorted({d.meeting_id for d in due})
    saved: dict[tuple[int, int, int], str] = {
        (meeting_id, agency_id, item_id): state
        for meeting_id, agency_id, item_id, state in session.exec(
            select(
                col(AgencyUpdate.meeting_id),
                col(AgencyUpdate.agency_id),
                col(AgencyUpdate.agenda_item_id),
                col(AgencyUpdate.state),
            ).where(
                col(AgencyUpdate.meeting_id).in_(meeting_ids),
                col(AgencyUpdate.agency_id).in_(sorted({d.agency_id for d in due})),
            )
        )
    }
    panels = sorted({d.meeting_id for d in due if d.panel})
    items: dict[int, list[tuple[int, str]]] = {}
    if panels:
        for meeting_id, item_id, reference in session.exec(
            select(col(PanelSitting.meeting_id), col(AgendaItem.id), col(Case.reference))
            .join(PanelSitting, col(PanelSitting.id) == col(AgendaItem.sitting_id))
            .join(PanelCase, col(PanelCase.id) == col(AgendaItem.panel_case_id))
            .join(Case, col(Case.id) == col(PanelCase.case_id))
            .where(col(PanelSitting.meeting_id).in_(panels))
            .order_by(col(PanelSitting.meeting_id), col(AgendaItem.position))
        ):
            items.setdefault(meeting_id, []).append((item_id or 0, reference))
    owed: dict[int, tuple[list[str], bool] | None] = {}
    for d in due:
        asked = items.get(d.meeting_id, []) if d.panel else [(0, "")]
        states = [
            (reference, saved.get((d.meeting_id, d.agency_id, item_id))) for item_id, reference in asked
        ]
        outstanding = [(reference, state) for reference, state in states if state != "submitted"]
        owed[d.invitation_id] = (
            ([r for r, _ in outstanding if r], any(state is not None for _, state in outstanding))
            if outstanding
            else None
        )
    return owed


def _reminders(session: Session, runtime: Runtime, due: list[_Due]) -> list[_Reminder]:
    """The reminders to write now, in the order of the discussions and invitations."""
    people = _not_yet_reminded(session, due) if due else {}
    waiting = [d for d in due if d.invitation_id in people]
    if not waiting:
        return []
    owed = _owed(session, waiting)
    reminders: list[_Reminder] = []
    for d in waiting:
        what = owed[d.invitation_id]
        if what is None:
            continue
        references, draft = what
        text = render_message(
            runtime.settings.templates_dir,
            "agency_update_late.md.j2" if d.point == "late" else "agency_update_reminder.md.j2",
            marking=runtime.partnership.settings.protective_marking,
            agency=d.agency_name,
            reference=d.reference,
            deadline=when(runtime.calendar, d.deadline),
            when=when(runtime.calendar, d.scheduled_start),
            draft=draft,
            panel=d.panel,
            items=references,
        )
        for person_id, slack_id in people[d.invitation_id]:
            key = f"{KEY_PREFIX}{d.invitation_id}:{d.point}:{slack_id}"
            reminders.append(_Reminder(key, slack_id, text, d.invitation_id, person_id, d.point))
    return reminders


def _write(session: Session, reminder: _Reminder, now: datetime) -> None:
    dm(session, key=reminder.key, slack_id=reminder.slack_id, text=reminder.text, now=now)
    session.add(
        Chase(
            invitation_id=reminder.invitation_id,
            step=f"update_{reminder.point}",
            to_person_id=reminder.person_id,
            at=now,
        )
    )


def _queue(session: Session, reminders: list[_Reminder], now: datetime) -> int:
    """Write the reminders, a chunk per savepoint; a chunk with a key another process took
    meanwhile is rolled back and written one reminder at a time, skipping what is taken."""
    look_up_keys(session, [r.key for r in reminders])
    queued = 0
    for start in range(0, len(reminders), CHUNK):
        chunk = reminders[start : start + CHUNK]
        try:
            with session.begin_nested():
                for reminder in chunk:
                    _write(session, reminder, now)
            queued += len(chunk)
            continue
        except IntegrityError:
            pass  # another process queued some of them first
        for reminder in chunk:
            if session.exec(
                select(col(OutboxMessage.id)).where(col(OutboxMessage.key) == reminder.key)
            ).first():
                continue
            try:
                with session.begin_nested():
                    _write(session, reminder, now)
                queued += 1
            except IntegrityError:
                continue
    return queued


def sweep_agency_updates(runtime: Runtime) -> int:
    """Send the reminders now due; returns how many messages were queued."""
    now = runtime.clock.now()
    if not runtime.calendar.is_working_time(now):
        return 0
    queued = 0
    with session_scope(runtime.engine) as session:
        # A panel asks for one update per agenda item: one reminder lists them all.
        reminders = _reminders(session, runtime, _due(session, runtime, now))
        if reminders:
            queued = _queue(session, reminders, now)
    runtime.kick_delivery()
    return queued
