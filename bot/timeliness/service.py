"""Who sees which report, and the report's figures and documents for them: plain Python on
the runtime's database and statutory calendar, no Slack."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session

from bot.audit.service import Actor, record
from bot.minutes.models import Document
from bot.partnership.service import Member
from bot.runtime import Runtime
from bot.timeliness import periods
from bot.timeliness.measures import Measures, measure
from bot.timeliness.periods import Period
from bot.timeliness.report import make_documents

ADMIN = "panel_admin"
LEAD = "agency_lead"


def may_report(member: Member | None) -> bool:
    return member is not None and bool(member.roles & {ADMIN, LEAD})


def scope_of(member: Member) -> str | None:
    """None for a panel administrator (every agency); an agency lead's own agency's code."""
    return None if member.has_role(ADMIN) else member.agency_code


def today(runtime: Runtime) -> date:
    return runtime.statutory_calendar.local_date(runtime.clock.now())


def period_asked(runtime: Runtime, text: str) -> Period | None:
    """The period typed or chosen: `2026-11`, `month:2026-11`, `quarter:2026-4`, `ytd`; an
    empty text is the last complete month (what the board asks about)."""
    now = today(runtime)
    text = text.strip().lower()
    if not text:
        return periods.last_complete_month(now)
    if text in {"ytd", "year"}:
        return periods.year_to_date(now)
    if text.count("-") == 1 and ":" not in text:
        text = f"month:{text}"
    return periods.parse(text, now)


def measures_for(session: Session, runtime: Runtime, period: Period, now: datetime | None = None) -> Measures:
    return measure(session, period, statutory=runtime.statutory_calendar, now=now or runtime.clock.now())


def report_documents(
    session: Session, runtime: Runtime, measures: Measures, *, member: Member | None, agency_code: str | None
) -> tuple[Document, Document]:
    """The Word report and its rows' CSV for this audience, added to the record."""
    settings = runtime.partnership.settings
    return make_documents(
        session,
        measures,
        agency_code=agency_code,
        templates_dir=runtime.settings.templates_dir,
        partnership=settings.name,
        marking=settings.protective_marking,
        statutory=runtime.statutory_calendar,
        created_by_id=member.person_id if member else None,
        now=runtime.clock.now(),
    )


def audit_viewed(
    session: Session, runtime: Runtime, actor: Actor, period: Period, scope: str | None, act: str
) -> None:
    record(
        session,
        at=runtime.clock.now(),
        actor=actor,
        act=act,
        record_type="timeliness_report",
        record_id=period.code,
        details={"scope": scope or "partnership"},
    )
