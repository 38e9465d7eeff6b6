"""Applying the retention policy: from the command line (with a dry run) and every night."""

from __future__ import annotations

from bot.database import read_scope
from bot.partners.links import KEEP_EXPIRED, expired_count, purge_expired
from bot.retention.service import apply_in_batches, plan
from bot.runtime import Runtime


def run_retention(runtime: Runtime, *, dry_run: bool) -> list[str]:
    """What is (or would be) removed now, one line each."""
    now = runtime.clock.now()
    stale = now - KEEP_EXPIRED
    with read_scope(runtime.engine) as session:
        due = plan(session, runtime.partnership, now)
        links = expired_count(session, stale)
    partner_line = [f"{links} partner links (and their sessions) expired over 30 days ago"] if links else []
    if dry_run:
        return due.lines() + partner_line
    removed: list[str] = []
    for line in apply_in_batches(runtime.engine, due, now):
        removed.append(line)
        runtime.kick_delivery()  # what each committed batch owes Slack can go at once
    if purge_expired(runtime.engine, stale):
        removed += partner_line
    return removed
