"""The panel's cycle, driven by the sweep: open each panel's next sitting, and issue the
agenda once the referral cut-off has passed. What is due lives in the database, so a
restart catches up and two processes do each step once."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select

from bot.database import session_scope
from bot.panel import records  # noqa: F401  (registers the panel's document kinds)
from bot.panel.effects import (
    announce_sitting,
    ask_for_interview,
    chase_nrm,
    chase_referrals_of,
    issue_agenda_in_slack,
    panel_administrators,
)
from bot.panel.missing import interviews_to_chase
from bot.panel.models import PanelSitting
from bot.panel.nrm import NRM_BATCH, overdue_decisions
from bot.panel.service import issue_agenda, open_next_sittings
from bot.runtime import Runtime


def sweep_panels(runtime: Runtime) -> int:
    """Open sittings and issue agendas now due; returns how many steps were taken."""
    now = runtime.clock.now()
    steps = 0
    with session_scope(runtime.engine) as session:
        for opened in open_next_sittings(
            session, partnership=runtime.partnership, calendar=runtime.calendar, now=now
        ):
            announce_sitting(session, opened, runtime, now)
            steps += 1
    with session_scope(runtime.engine) as session:
        due = session.exec(
            select(col(PanelSitting.id)).where(
                col(PanelSitting.agenda_issued_at).is_(None), col(PanelSitting.referral_cutoff) <= now
            )
        ).all()
    for sitting_id in due:
        with session_scope(runtime.engine) as session:
            chase_referrals_of(session, sitting_id or 0, runtime, now)  # those left waiting at the cut-off
        with session_scope(runtime.engine) as session:
            sitting = session.get(PanelSitting, sitting_id)
            if sitting is not None and issue_agenda(
                session, sitting, partnership=runtime.partnership, now=now
            ):
                issue_agenda_in_slack(session, sitting, runtime, now)
                steps += 1
    steps += chase_pending_referrals(runtime, now)
    steps += chase_nrm_decisions(runtime, now)
    steps += chase_return_interviews(runtime, now)
    if steps:
        runtime.kick_delivery()
    return steps


def chase_nrm_decisions(runtime: Runtime, now: datetime, *, batch: int = NRM_BATCH) -> int:
    """Every NRM decision awaited past the configured working days: the panel's
    administrators are told once per decision. The pass reads the overdue referrals a batch
    at a time and commits each batch with its chases (the rows marked chased in the same
    transaction), so a crash loses at most the batch under way, the next pass carries on
    from what was committed, and nothing is left for lack of room."""
    today = runtime.calendar.local(now).date()
    chased, after = 0, 0
    administrators: dict[str, list[str]] = {}  # by panel, read once a pass
    while True:
        with session_scope(runtime.engine) as session:
            found, after_next = overdue_decisions(
                session, runtime.partnership, runtime.calendar, today, after=after, batch=batch
            )
            for overdue, row in found:  # each row read and locked with its batch
                row.chased = [*(row.chased or []), overdue.stage]
                session.add(row)
                if overdue.panel_code not in administrators:
                    administrators[overdue.panel_code] = panel_administrators(
                        session, runtime, overdue.panel_code
                    )
                chase_nrm(session, overdue, runtime, now, administrators[overdue.panel_code])
                chased += 1
        if after_next is None:
            return chased
        after = after_next


def chase_return_interviews(runtime: Runtime, now: datetime, *, batch: int = 200) -> int:
    """Return home interviews owed and due a chase: each asked for again, once per turn
    (the row is locked and its next chase moved in the same transaction), every one of
    them, a batch of ids at a time."""
    chased, after = 0, 0
    while True:
        with session_scope(runtime.engine) as session:
            due = interviews_to_chase(session, now, after=after, limit=batch)
        for episode_id in due:
            with session_scope(runtime.engine) as session:
                ask_for_interview(session, episode_id, runtime, now)
        chased += len(due)
        if len(due) < batch:
            return chased
        after = due[-1]


def referral_chase_at(sitting: PanelSitting, runtime: Runtime) -> datetime:
    """When a sitting's pending referrals are chased: the configured working days before
    its referral cut-off, at the cut-off's time of day."""
    days = runtime.partnership.panel_practice.pending_referrals_chase_working_days
    local = runtime.calendar.local(sitting.referral_cutoff)
    if days == 0:
        return sitting.referral_cutoff
    day = runtime.calendar.add_working_days(local.date(), -days)
    return local.replace(year=day.year, month=day.month, day=day.day).astimezone(
        sitting.referral_cutoff.tzinfo
    )


def chase_pending_referrals(runtime: Runtime, now: datetime) -> int:
    """Before each open sitting's cut-off, the administrators hear which referrals still
    wait for their decision (once per sitting)."""
    with session_scope(runtime.engine) as session:
        open_sittings = session.exec(
            select(PanelSitting).where(
                col(PanelSitting.agenda_issued_at).is_(None), col(PanelSitting.referrals_chased_at).is_(None)
            )
        ).all()
        due = [s.id for s in open_sittings if referral_chase_at(s, runtime) <= now]
    chased = 0
    for sitting_id in due:
        with session_scope(runtime.engine) as session:
            chased += chase_referrals_of(session, sitting_id or 0, runtime, now)
    return chased
