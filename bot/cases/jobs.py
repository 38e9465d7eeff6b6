"""Periodic case work: chasing the review dates discussions recorded."""

from __future__ import annotations

from bot.cases.effects import send_review
from bot.cases.reviews import claim_due_reviews
from bot.database import session_scope
from bot.runtime import Runtime


def sweep_reviews(runtime: Runtime) -> int:
    """Claim and send every review step now due (a page at a time); returns how many steps
    were taken. Out of working hours nothing is claimed: it waits for the working morning."""
    now = runtime.clock.now()
    if not runtime.calendar.is_working_time(now):
        return 0
    taken = 0
    with session_scope(runtime.engine) as session:
        for due in claim_due_reviews(session, calendar=runtime.calendar, now=now):
            send_review(session, due, now)
            taken += 1
    runtime.kick_delivery()
    return taken
