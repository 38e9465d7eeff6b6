"""The monthly report: on the first working day of each month (statutory calendar, in
working hours) the sweep sends last month's Word report and its rows to every panel
administrator, once. The month is claimed by inserting its row in `periodicjob` in the
same transaction as the documents and the outbox entries: a second process, or a second
sweep, finds it there and does nothing; a failure rolls all of it back for the next sweep."""

from __future__ import annotations

import logging

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select

from bot.audit.service import SYSTEM, record
from bot.database import session_scope
from bot.minutes.effects import send_privately
from bot.partnership.models import Person, PersonRole
from bot.periodic.models import PeriodicJob
from bot.periodic.service import HOLDER
from bot.runtime import Runtime
from bot.timeliness import periods
from bot.timeliness.measures import first_working_day
from bot.timeliness.service import ADMIN, measures_for, report_documents

log = logging.getLogger(__name__)


def send_monthly_report(runtime: Runtime) -> int:
    """Send last month's report if today is on or after this month's first working day and
    it has not gone yet; returns how many administrators it went to (0 almost always)."""
    now = runtime.clock.now()
    statutory = runtime.statutory_calendar
    today = statutory.local_date(now)
    if today < first_working_day(today.year, today.month, statutory) or not runtime.calendar.is_working_time(
        now
    ):
        return 0
    period = periods.last_complete_month(today)
    name = f"timeliness-report:{period.code}"
    with session_scope(runtime.engine) as session:
        if session.get(PeriodicJob, name) is not None:  # the usual answer, from a read
            return 0
        dialect = sqlite if runtime.engine.dialect.name == "sqlite" else postgresql
        claimed = (
            session.connection()
            .execute(
                dialect.insert(PeriodicJob)
                .values(name=name, next_due_at=now, last_started_at=now, last_holder=HOLDER[:120])
                .on_conflict_do_nothing(index_elements=["name"])
                .returning(col(PeriodicJob.name))
            )
            .first()
        )
        if claimed is None:  # another process claimed the month a moment ago
            return 0
        admins = session.exec(
            select(col(Person.slack_user_id))
            .join(PersonRole, col(PersonRole.person_id) == col(Person.id))
            .where(
                col(PersonRole.role) == ADMIN,
                col(Person.active).is_(True),
                col(Person.slack_user_id).is_not(None),
            )
            .order_by(col(Person.slack_user_id))
        ).all()
        measures = measures_for(session, runtime, period, now)
        documents = report_documents(session, runtime, measures, member=None, agency_code=None)
        comment = f"The timeliness report for {period.label}, and the rows behind every figure."
        for slack_id in admins:
            for document in documents:
                send_privately(session, document, slack_id or "", comment, now, why=f"monthly-{period.code}")
        record(
            session,
            at=now,
            actor=SYSTEM,
            act="timeliness.monthly_report_sent",
            record_type="timeliness_report",
            record_id=period.code,
            details={"administrators": len(admins), "documents": [d.id for d in documents]},
        )
    log.info(
        "monthly timeliness report sent",
        extra={"event": "timeliness.monthly_report", "period": period.code, "administrators": len(admins)},
    )
    runtime.kick_delivery()
    return len(admins)
