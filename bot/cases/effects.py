"""What the case timeline owes Slack, written to the outbox with the state it follows: the
review day's message, and what closing a case tells the people involved."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from bot.cases.closure import Closed
from bot.cases.reviews import DueReview
from bot.cases.views import review_message
from bot.convening.effects import announce_cancelled, refresh_discussion
from bot.convening.models import Meeting
from bot.delivery.service import enqueue
from bot.partnership.models import Person
from bot.runtime import Runtime
from bot.wording import escape_mrkdwn, render_message


def send_review(session: Session, due: DueReview, now: datetime) -> int:
    """The review day's message: to the convenor on the day; to the convenor and the chair
    once it is overdue. Returns how many messages were queued."""
    overdue = due.step == "review_overdue"
    people = [due.convenor_id] + ([due.chair_id] if overdue else [])
    message = review_message(
        reference=due.reference,
        case_reference=due.case_reference,
        review_on=due.review_on,
        meeting_id=due.meeting_id,
        overdue=overdue,
    )
    sent = 0
    for person_id in dict.fromkeys(p for p in people if p):
        person = session.get(Person, person_id)
        if person is None or not person.slack_user_id:
            continue
        enqueue(
            session,
            key=f"review:{due.meeting_id}:{due.step}:{person.slack_user_id}",
            method="chat.postMessage",
            arguments={"channel": person.slack_user_id, **message},
            now=now,
        )
        sent += 1
    return sent


def announce_closed(session: Session, closed: Closed, runtime: Runtime, now: datetime) -> None:
    """Each discussion cancelled by the closure is cancelled as any other is (channel, DMs,
    calendar); the channel of every discussion of the case hears that it closed."""
    for meeting in closed.cancelled:
        announce_cancelled(session, meeting, runtime, now)
    outcome = runtime.partnership.cases.closure_outcome(closed.episode.closure_outcome)
    text = render_message(
        runtime.settings.templates_dir,
        "case_closed.md.j2",
        marking=runtime.partnership.settings.protective_marking,
        case_reference=closed.case_reference,
        outcome=outcome.name,
        reason=escape_mrkdwn(closed.episode.closure_reason),
        handed_on=closed.handed_on,
        hand_on_to=outcome.hand_on_to or "",
        kept_until=closed.records_kept_until.strftime("%d %B %Y") if closed.records_kept_until else "",
    )
    cancelled = {m.id for m in closed.cancelled}
    for meeting in session.exec(select(Meeting).where(col(Meeting.episode_id) == closed.episode.id)):
        if meeting.id in cancelled:
            continue
        enqueue(
            session,
            key=f"notice:{meeting.id}:case-closed:{closed.episode.id}",
            method="chat.postMessage",
            arguments={"text": text},
            now=now,
            purpose="channel_notice",
            subject_id=meeting.id,
        )
        refresh_discussion(session, meeting, now)
