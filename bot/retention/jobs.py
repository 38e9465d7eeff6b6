"""Applying the retention policy: from the command line (with a dry run) and every night."""

from __future__ import annotations

from bot.database import read_scope
from bot.retention.service import apply_in_batches, plan
from bot.runtime import Runtime


def run_retention(runtime: Runtime, *, dry_run: bool) -> list[str]:
    """What is (or would be) removed now, one line each."""
    now = runtime.clock.now()
    with read_scope(runtime.engine) as session:
        due = plan(session, runtime.partnership, now)
    if dry_run:
        return due.lines()
    removed: list[str] = []
    for line in apply_in_batches(runtime.engine, due, now):
        removed.append(line)
        runtime.kick_delivery()  # what each committed batch owes Slack can go at once
    return removed
