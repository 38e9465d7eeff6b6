"""The panel's cycle, driven by the sweep: open each panel's next sitting, and issue the
agenda once the referral cut-off has passed. What is due lives in the database, so a
restart catches up and two processes do each step once."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select

from bot.database import session_scope
from bot.panel import records  # noqa: F401  (registers the panel's document kinds)
from bot.panel.effects import announce_sitting, ask_for_interview, chase_nrm, issue_agenda_in_slack
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
            select(PanelSitting.id).where(
                col(PanelSitting.agenda_issued_at).is_(None), PanelSitting.referral_cutoff <= now
            )
        ).all()
    for sitting_id in due:
        with session_scope(runtime.engine) as session:
            sitting = session.get(PanelSitting, sitting_id)
            if sitting is not None and issue_agenda(
                session, sitting, partnership=runtime.partnership, now=now
            ):
                issue_agenda_in_slack(session, sitting, runtime, now)
                steps += 1
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
