"""Chasing the chair when draft minutes wait too long for approval (`minutes` timescales in
`schedules/chasing.yaml`). Once per draft: the reminder's outbox key is fixed by the draft."""

from __future__ import annotations

from sqlmodel import col, select

from bot.convening.effects import dm
from bot.convening.models import Meeting
from bot.database import session_scope
from bot.delivery.models import OutboxMessage
from bot.minutes.models import Document
from bot.partnership.models import Person
from bot.runtime import Runtime
from bot.wording import render_message


def sweep_minutes(runtime: Runtime) -> int:
    """Remind chairs of drafts past the approval timescale; returns how many were queued."""
    now = runtime.clock.now()
    if not runtime.calendar.is_working_time(now):
        return 0
    days = runtime.partnership.chasing.minutes.chair_approval_within_working_days
    queued = 0
    with session_scope(runtime.engine) as session:
        drafts = session.exec(
            select(Document).where(col(Document.state) == "draft")  # only minutes are approved as drafts
        ).all()
        for draft in drafts:
            due_day = runtime.calendar.add_working_days(runtime.calendar.local(draft.created_at).date(), days)
            if now <= runtime.calendar.end_of_day(due_day):
                continue
            newer = session.exec(
                select(col(Document.id)).where(
                    col(Document.meeting_id) == draft.meeting_id,
                    col(Document.kind) == draft.kind,
                    col(Document.version) > draft.version,
                )
            ).first()
            meeting = session.get(Meeting, draft.meeting_id)
            chair = session.get(Person, meeting.chair_id) if meeting and meeting.chair_id else None
            if newer is not None or meeting is None or chair is None or not chair.slack_user_id:
                continue
            text = render_message(
                runtime.settings.templates_dir,
                "minutes_approval_late.md.j2",
                marking=runtime.partnership.settings.protective_marking,
                reference=meeting.reference,
                version=draft.version,
                days=days,
            )
            key = f"approval-late:{draft.id}"
            if (
                session.exec(select(col(OutboxMessage.id)).where(col(OutboxMessage.key) == key)).first()
                is not None
            ):
                continue
            dm(session, key=key, slack_id=chair.slack_user_id, text=text, now=now)
            queued += 1
    runtime.kick_delivery()
    return queued
