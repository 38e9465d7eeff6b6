"""Closing a case: the convenor or chair, with the outcome and the reason.

A case does not close while its actions are open, unless they are done or handed on to
whoever takes the case on (the outcome's `hand_on_to` in `schedules/cases.yaml`), nor
while a section 47 enquiry has no outcome. Closing ends all chasing: discussions still to
be held are cancelled (and so their invitations and agency updates are no longer chased),
actions handed on are no longer chased, and no review date is chased. `Case.closed_at`
starts the retention clock (`schedules/retention.yaml`). Every step is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import exists, or_
from sqlmodel import Session, col, select

from bot.actions.models import Action, ActionEvent, ActionStatus
from bot.audit.service import Actor, record
from bot.cases.models import Case, CaseEpisode, EpisodeState, Section47Enquiry
from bot.cases.reviews import end_reviews
from bot.cases.service import NAME_IN_SLACK_TEXT, mentions_child
from bot.convening.models import Invitation, Meeting, MeetingState
from bot.partnership.service import Member
from bot.schedules import Partnership

REASON_LIMIT = 3000
OPEN_ACTION_STATES = (ActionStatus.OPEN, ActionStatus.ESCALATED)
ACTIONS_LISTED = 10


class ClosureRefused(Exception):
    """The case cannot close yet, or not by this person; `field` is the form input it
    belongs beside, and the message says what to do."""

    def __init__(self, message: str, field: str = "reason") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class CloseRequest:
    """What the convenor or chair chose on the closing form."""

    outcome: str  # a closure outcome code (cases.yaml)
    reason: str
    hand_on: bool = False  # hand the open actions on to the outcome's hand_on_to
    hand_on_note: str = ""


@dataclass
class Closed:
    """The closed episode, the discussions cancelled and the actions handed on."""

    episode: CaseEpisode
    case_reference: str
    cancelled: list[Meeting] = field(default_factory=list)
    handed_on: list[str] = field(default_factory=list)
    records_kept_until: date | None = None
    closed_now: bool = True


def may_close(session: Session, episode_id: int, member: Member | None) -> bool:
    """The convenor or chair of any discussion in the episode: one indexed look-up."""
    if member is None:
        return False
    return bool(
        session.exec(
            select(
                exists().where(
                    col(Meeting.episode_id) == episode_id,
                    or_(
                        col(Meeting.convenor_id) == member.person_id,
                        col(Meeting.chair_id) == member.person_id,
                    ),
                )
            )
        ).one()
    )


def open_actions(session: Session, case_id: int, limit: int = ACTIONS_LISTED + 1) -> list[Action]:
    """The case's actions still open (a page: enough to list them and say there are more)."""
    return list(
        session.exec(
            select(Action)
            .where(col(Action.case_id) == case_id, col(Action.status).in_(OPEN_ACTION_STATES))
            .order_by(col(Action.id))
            .limit(limit)
        )
    )


def closure_problems(
    session: Session, episode: CaseEpisode, request: CloseRequest, *, partnership: Partnership
) -> dict[str, str]:
    """What stops the case closing as asked, keyed by the closing form's inputs."""
    errors: dict[str, str] = {}
    case = session.get(Case, episode.case_id)
    assert case is not None
    try:
        outcome = partnership.cases.closure_outcome(request.outcome)
    except KeyError:
        errors["outcome"] = "Choose how the case closes."
        outcome = None
    if not request.reason.strip():
        errors["reason"] = "Say why the case is closing."
    elif len(request.reason) > REASON_LIMIT:
        errors["reason"] = f"Keep it under {REASON_LIMIT} characters."
    elif case.child_name and mentions_child(request.reason, case.child_name):
        errors["reason"] = NAME_IN_SLACK_TEXT
    if case.child_name and request.hand_on_note and mentions_child(request.hand_on_note, case.child_name):
        errors["hand_on_note"] = NAME_IN_SLACK_TEXT
    unfinished = session.exec(
        select(Section47Enquiry, col(Meeting.reference))
        .join(Meeting, col(Meeting.id) == col(Section47Enquiry.started_by_meeting_id))
        .where(col(Section47Enquiry.episode_id) == episode.id, col(Section47Enquiry.completed_on).is_(None))
    ).first()
    if unfinished is not None:
        errors["outcome"] = (
            f"The section 47 enquiry started at {unfinished[1]} has no outcome yet: record its ICPC "
            "and the assessment's outcome (the buttons on the case's timeline) before the case closes."
        )
    actions = open_actions(session, episode.case_id)
    if actions and outcome is not None:
        listed = ", ".join(a.reference for a in actions[:ACTIONS_LISTED])
        more = " and more" if len(actions) > ACTIONS_LISTED else ""
        done_how = "each owner marks theirs done from its reminder or from /actions"
        if outcome.hand_on_to is None:
            errors["hand_on"] = (
                f"Actions are still open ({listed}{more}). With '{outcome.name}' nobody takes them "
                f"on, so each must be done before the case closes: {done_how}."
            )
        elif not request.hand_on:
            errors["hand_on"] = (
                f"Actions are still open ({listed}{more}). Before the case closes, each must be done "
                f"({done_how}) or handed on to {outcome.hand_on_to}: tick 'Hand on the open actions'."
            )
    return errors


def close_case(
    session: Session,
    episode_id: int,
    request: CloseRequest,
    *,
    member: Member,
    actor: Actor,
    partnership: Partnership,
    now: datetime,
) -> Closed:
    """Close the episode (and so the case) in the caller's transaction, or raise
    ClosureRefused. A second request for a closed case (a double click) changes nothing."""
    episode = session.get(CaseEpisode, episode_id, with_for_update=True, populate_existing=True)
    if episode is None or not may_close(session, episode_id, member):
        raise ClosureRefused("Only the convenor or the chair of one of the case's discussions can close it.")
    case = session.get(Case, episode.case_id, with_for_update=True, populate_existing=True)
    assert case is not None
    if episode.state == EpisodeState.CLOSED:
        return Closed(episode, case.reference, closed_now=False)
    problems = closure_problems(session, episode, request, partnership=partnership)
    if problems:
        field_id, message = next(iter(problems.items()))
        raise ClosureRefused(message, field_id)
    outcome = partnership.cases.closure_outcome(request.outcome)
    closed = Closed(episode, case.reference)
    for action in open_actions(session, case.id or 0, limit=10_000):
        action.status = ActionStatus.HANDED_ON
        action.next_chase_at = None
        session.add(action)
        session.add(
            ActionEvent(
                action_id=action.id or 0,
                kind="handed_on",
                by_id=member.person_id,
                details={"to": outcome.hand_on_to, "note": request.hand_on_note.strip()},
                at=now,
            )
        )
        record(
            session,
            at=now,
            actor=actor,
            act="action.handed_on",
            record_type="action",
            record_id=action.reference,
            case_reference=case.reference,
            details={"to": outcome.hand_on_to},
        )
        closed.handed_on.append(action.reference)
    reason = f"The case closed: {outcome.name}."
    for meeting in session.exec(
        select(Meeting).where(
            col(Meeting.episode_id) == episode.id,
            col(Meeting.state).in_((MeetingState.CONVENING, MeetingState.SCHEDULED)),
        )
    ):
        meeting.state = MeetingState.CANCELLED
        meeting.cancelled_reason = reason
        meeting.calendar_sequence += 1
        session.add(meeting)
        for invitation in session.exec(select(Invitation).where(col(Invitation.meeting_id) == meeting.id)):
            invitation.next_chase_at = None
            session.add(invitation)
        record(
            session,
            at=now,
            actor=actor,
            act="discussion.cancelled",
            record_type="meeting",
            record_id=meeting.reference,
            case_reference=case.reference,
            details={"why": "case closed"},
        )
        closed.cancelled.append(meeting)
    end_reviews(session, episode.id or 0)
    episode.state = EpisodeState.CLOSED
    episode.closed_at = now
    episode.closed_by_id = member.person_id
    episode.closure_outcome = outcome.code
    episode.closure_reason = request.reason.strip()
    case.closed_at = now
    session.add(episode)
    session.add(case)
    years = partnership.retention.case_records_years_after_closure
    closed.records_kept_until = (now + timedelta(days=round(365.25 * years))).date()
    record(
        session,
        at=now,
        actor=actor,
        act="case.closed",
        record_type="case",
        record_id=case.reference,
        case_reference=case.reference,
        details={
            "outcome": outcome.code,
            "actions_handed_on": len(closed.handed_on),
            "discussions_cancelled": [m.reference for m in closed.cancelled],
            "records_kept_until": closed.records_kept_until.isoformat(),
        },
    )
    session.flush()
    return closed
