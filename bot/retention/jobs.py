"""Applying the retention policy: from the command line (with a dry run) and every night."""

from __future__ import annotations

from bot.database import session_scope
from bot.retention.service import apply, plan
from bot.runtime import Runtime


def run_retention(runtime: Runtime, *, dry_run: bool) -> list[str]:
    """What is (or would be) removed now, one line each."""
    now = runtime.clock.now()
    with session_scope(runtime.engine) as session:
        due = plan(session, runtime.partnership, now)
        if dry_run:
            lines = due.lines()
            session.rollback()
            return lines
        removed = apply(session, due, now)
    runtime.kick_delivery()
    return removed
