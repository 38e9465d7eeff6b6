"""Periodic convening work: chase unanswered invitations, keep status messages current."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from bot.convening.chasing import claim_due_chases
from bot.convening.effects import refresh_status, send_chases
from bot.convening.models import Meeting
from bot.convening.service import OPEN_STATES
from bot.database import session_scope
from bot.runtime import Runtime

STATUS_REFRESH_EVERY = timedelta(hours=1)


def sweep_invitations(runtime: Runtime) -> int:
    """Claim and send every chase now due; refresh the "time left" on open discussions.

    What is due comes from the database, so a restart or a second process changes nothing:
    each step is claimed once. Returns the number of chase steps taken.
    """
    now = runtime.clock.now()
    with session_scope(runtime.engine) as session:
        chases = claim_due_chases(
            session, partnership=runtime.partnership, calendar=runtime.calendar, now=now
        )
        send_chases(session, chases, runtime, now)
        if runtime.calendar.is_working_time(now):
            stale = session.exec(
                select(Meeting).where(
                    col(Meeting.state).in_(OPEN_STATES),
                    col(Meeting.status_message_ts).is_not(None),
                    col(Meeting.status_refreshed_at) < now - STATUS_REFRESH_EVERY,
                )
            ).all()
            for meeting in stale:
                refresh_status(session, meeting.id or 0, now)
    runtime.kick_delivery()
    return len(chases)
