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
)
from bot.panel.missing import interviews_to_chase
from bot.panel.models import NrmReferral, PanelSitting
from bot.panel.nrm import overdue_decisions
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


def chase_nrm_decisions(runtime: Runtime, now: datetime) -> int:
    """NRM decisions awaited past the configured working days: the panel's administrators
    are told once per decision, in the same transaction that marks it chased."""
    today = runtime.calendar.local(now).date()
    chased = 0
    with session_scope(runtime.engine) as session:
        for overdue in overdue_decisions(session, runtime.partnership, runtime.calendar, today):
            row = session.get(NrmReferral, overdue.nrm_id, with_for_update=True, populate_existing=True)
            if row is None or overdue.stage in (row.chased or []):
                continue
            row.chased = [*(row.chased or []), overdue.stage]
            session.add(row)
            chase_nrm(session, overdue, runtime, now)
            chased += 1
    return chased


def chase_return_interviews(runtime: Runtime, now: datetime) -> int:
    """Return home interviews owed and due a chase: each asked for again, once per turn
    (the row is locked and its next chase moved in the same transaction)."""
    with session_scope(runtime.engine) as session:
        due = interviews_to_chase(session, now)
    for episode_id in due:
        with session_scope(runtime.engine) as session:
            ask_for_interview(session, episode_id, runtime, now)
    return len(due)


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
