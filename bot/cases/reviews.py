"""Chasing the review date a strategy discussion recorded.

On the review day (the start of that working day, on the service calendar) the convenor is
sent a direct message to convene the follow-up discussion or to record why none is needed;
if neither has happened by the next working day, the convenor is reminded and the chair
told. Convening the follow-up, recording why none is needed, or closing the case ends it.
What is due lives on the discussion (`review_state`, `review_chase_step`,
`review_next_chase_at`), and each step is claimed with a conditional update, so a restart
carries on and two processes never send it twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.audit.service import SYSTEM, Actor, record
from bot.cases.models import Case
from bot.convening.models import Meeting
from bot.partnership.service import Member
from bot.working_days import WorkingCalendar

DUE = "due"
FOLLOWED_UP = "followed_up"
NOT_NEEDED = "not_needed"
ENDED = "ended"  # the case closed
STEPS = ("review_day", "review_overdue")  # the convenor on the day; then the convenor and the chair
REASON_LIMIT = 1000
CLAIM_LIMIT = 200


class ReviewRefused(Exception):
    """The review cannot be resolved that way, or not by this person; says why."""


def _first_chase(calendar: WorkingCalendar, review_on: date) -> datetime:
    day = review_on if calendar.is_working_day(review_on) else calendar.next_working_day(review_on)
    return calendar.start_of_day(day)


def set_review(
    session: Session, meeting: Meeting, review_on: date | None, *, calendar: WorkingCalendar
) -> None:
    """The review date recorded at the discussion (again, if recorded again): chased from the
    start of that working day, unless a follow-up has already been convened."""
    if meeting.review_state == FOLLOWED_UP and meeting.review_on == review_on:
        return
    meeting.review_on = review_on
    if review_on is None:
        meeting.review_state, meeting.review_next_chase_at = "", None
    elif meeting.review_state != FOLLOWED_UP:
        meeting.review_state = DUE
        meeting.review_chase_step = 0
        meeting.review_next_chase_at = _first_chase(calendar, review_on)
        meeting.review_resolution = ""
    session.add(meeting)


def _case_reference(session: Session, meeting: Meeting) -> str:
    case = session.get(Case, meeting.case_id) if meeting.case_id else None
    return case.reference if case else ""


def followed_up(
    session: Session, earlier: Meeting, follow_up: Meeting, *, actor: Actor, now: datetime
) -> None:
    """A follow-up to `earlier` was convened: its review is no longer chased."""
    session.exec(
        update(Meeting)
        .where(col(Meeting.id) == earlier.id)
        .values(review_state=FOLLOWED_UP, review_next_chase_at=None)
    )
    record(
        session,
        at=now,
        actor=actor,
        act="review.followed_up",
        record_type="meeting",
        record_id=earlier.reference,
        case_reference=_case_reference(session, earlier),
        details={"follow_up": follow_up.reference},
    )


def no_follow_up_needed(
    session: Session, meeting_id: int, reason: str, *, member: Member, actor: Actor, now: datetime
) -> Meeting:
    """The convenor or chair records why no follow-up discussion is needed; chasing stops.
    Once is enough: a second answer (a double click) changes nothing."""
    meeting = session.get(Meeting, meeting_id, with_for_update=True, populate_existing=True)
    if meeting is None or member.person_id not in (meeting.convenor_id, meeting.chair_id):
        raise ReviewRefused("Only the convenor or the chair of the discussion can record this.")
    if meeting.review_state != DUE:
        raise ReviewRefused(f"The review of {meeting.reference} is already resolved.")
    if not reason.strip():
        raise ReviewRefused("Say why no follow-up discussion is needed.")
    if len(reason) > REASON_LIMIT:
        raise ReviewRefused(f"Keep it under {REASON_LIMIT} characters.")
    meeting.review_state = NOT_NEEDED
    meeting.review_resolution = reason.strip()
    meeting.review_next_chase_at = None
    session.add(meeting)
    record(
        session,
        at=now,
        actor=actor,
        act="review.not_needed",
        record_type="meeting",
        record_id=meeting.reference,
        case_reference=_case_reference(session, meeting),
        details={"review_on": meeting.review_on.isoformat() if meeting.review_on else None},
    )
    session.flush()
    return meeting


def end_reviews(session: Session, episode_id: int) -> int:
    """The case closed: none of its discussions' reviews is chased any more."""
    result = session.exec(
        update(Meeting)
        .where(col(Meeting.episode_id) == episode_id, col(Meeting.review_state) == DUE)
        .values(review_state=ENDED, review_next_chase_at=None)
    )
    return int(result.rowcount or 0)


@dataclass(frozen=True)
class DueReview:
    """A claimed review step: which discussion, which step, and who is told."""

    meeting_id: int
    reference: str
    case_reference: str
    review_on: date
    step: str
    convenor_id: int | None
    chair_id: int | None


def claim_due_reviews(
    session: Session, *, calendar: WorkingCalendar, now: datetime, limit: int = CLAIM_LIMIT
) -> list[DueReview]:
    """Claim the review steps now due (a page of them, soonest first); the caller sends the
    messages. Each is claimed by moving `review_chase_step` on only if it still has the
    value read, so a second sweep or process claims nothing. Runs in the caller's
    transaction; an indexed look-up, however many discussions the record holds."""
    rows = session.exec(
        select(Meeting, col(Case.reference))
        .join(Case, col(Case.id) == col(Meeting.case_id))
        .where(
            col(Meeting.review_state) == DUE,
            col(Meeting.review_next_chase_at).is_not(None),
            col(Meeting.review_next_chase_at) <= now,
        )
        .order_by(col(Meeting.review_next_chase_at))
        .limit(limit)
    ).all()
    claimed: list[DueReview] = []
    for meeting, case_reference in rows:
        step = meeting.review_chase_step
        if step >= len(STEPS) or meeting.review_on is None:
            session.exec(
                update(Meeting).where(col(Meeting.id) == meeting.id).values(review_next_chase_at=None)
            )
            continue
        following = None
        if step + 1 < len(STEPS):
            today = calendar.local(now).date()
            following = calendar.start_of_day(calendar.next_working_day(max(today, meeting.review_on)))
        won = session.exec(
            update(Meeting)
            .where(col(Meeting.id) == meeting.id, col(Meeting.review_chase_step) == step)
            .values(review_chase_step=step + 1, review_next_chase_at=following)
        ).rowcount
        if not won:
            continue
        record(
            session,
            at=now,
            actor=SYSTEM,
            act="review.chased",
            record_type="meeting",
            record_id=meeting.reference,
            case_reference=case_reference,
            details={"step": STEPS[step], "review_on": meeting.review_on.isoformat()},
        )
        claimed.append(
            DueReview(
                meeting_id=meeting.id or 0,
                reference=meeting.reference,
                case_reference=case_reference,
                review_on=meeting.review_on,
                step=STEPS[step],
                convenor_id=meeting.convenor_id,
                chair_id=meeting.chair_id,
            )
        )
    session.flush()
    return claimed
