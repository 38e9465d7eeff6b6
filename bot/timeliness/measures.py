"""The measures, counted from the record for one period: aggregate SQL, a fixed number of
statements however many years the record holds, and the statutory calendar for every
working-day figure (weekends and bank holidays only, never a partnership's closure days).

A discussion belongs to the period it was held in; an ICPC to the period it was held in
(or, not required, the period its enquiry started; outstanding, the period its target fell
in); an assessment to the period it was completed in; an action to the period it was due
in. "Overdue now" is as at the moment the report is made, whatever the period.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, case, func, literal_column, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from bot.actions.models import Action, ActionStatus
from bot.agency_updates.models import AgencyUpdate
from bot.cases.models import IcpcState, Section47Enquiry
from bot.convening.models import Attendance, AttendanceStatus, Invitation, Meeting
from bot.panel.models import AgendaItem, PanelSitting
from bot.partnership.models import Agency, Person
from bot.timeliness.filters import OPEN_STATES, overdue_now, period_filters
from bot.timeliness.local_dates import local_date
from bot.timeliness.periods import Period
from bot.working_days import StatutoryCalendar, require_statutory

ICPC_WORKING_DAYS = 15
# The ICPC working days summary's bands (working days from S47ActualStartDate to
# DateOfInitialCPC), as the census's COLLECT summary groups them.
ICPC_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0 to 5", 0, 5),
    ("6 to 10", 6, 10),
    ("11 to 15", 11, 15),
    ("16 to 20", 16, 20),
    ("21 to 30", 21, 30),
    ("over 30", 31, None),
)
DAYS_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("same day", 0, 0),
    ("1 day", 1, 1),
    ("2 days", 2, 2),
    ("3 days", 3, 3),
    ("4 days or more", 4, None),
)
PRIORITIES = ("immediate", "high", "normal", "low")


@dataclass(frozen=True)
class UrgencyFigures:
    """Strategy discussions held in the period at one urgency."""

    urgency: str
    held: int
    within: int
    late: int
    out_of_hours: int


@dataclass(frozen=True)
class Spread:
    """Working-day counts banded, with their median and mean (None when there are none)."""

    count: int
    bands: tuple[tuple[str, int], ...]
    median: float | None
    mean: float | None


@dataclass(frozen=True)
class IcpcFigures:
    held: int
    within: int
    late: int
    not_required: int
    outstanding_past_target: int
    enquiries_started: int
    working_days: Spread


@dataclass(frozen=True)
class AssessmentFigures:
    completed: int
    within: int
    late: int
    open_past_deadline: int


@dataclass
class AgencyFigures:
    """One agency's attendance, updates and actions in the period."""

    code: str
    name: str
    attended: int = 0
    delegate: int = 0
    written_update: int = 0
    apologies: int = 0
    did_not_respond: int = 0
    updates_on_time: int = 0
    updates_late: int = 0
    updates_missing: int = 0
    actions_due: int = 0
    actions_done_on_time: int = 0
    actions_done_late: int = 0
    actions_open_past_due: int = 0
    actions_escalated: int = 0
    actions_handed_on: int = 0
    overdue_now: int = 0
    by_priority: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def invited(self) -> int:
        return self.attended + self.delegate + self.written_update + self.apologies + self.did_not_respond

    @property
    def updates_expected(self) -> int:
        return self.updates_on_time + self.updates_late + self.updates_missing


@dataclass(frozen=True)
class PanelFigures:
    items_reviewed: int
    cases_reviewed: int
    stepped_up: int
    stepped_down: int
    nrm_referrals: int


@dataclass(frozen=True)
class Measures:
    """Everything the report shows for one period, as at one moment."""

    period: Period
    as_at: datetime
    discussions: tuple[UrgencyFigures, ...]
    referral_to_discussion: Spread
    icpcs: IcpcFigures
    assessments: AssessmentFigures
    agencies: tuple[AgencyFigures, ...]
    panel: PanelFigures

    @property
    def discussions_held(self) -> int:
        return sum(u.held for u in self.discussions)

    @property
    def discussions_within(self) -> int:
        return sum(u.within for u in self.discussions)

    def partnership(self) -> AgencyFigures:
        """Every agency's figures added up: what an agency lead sees their own against."""
        total = AgencyFigures("partnership", "The partnership")
        for agency in self.agencies:
            for name in NUMBERS:
                setattr(total, name, getattr(total, name) + getattr(agency, name))
        return total

    def agency(self, code: str) -> AgencyFigures | None:
        return next((a for a in self.agencies if a.code == code), None)


NUMBERS = tuple(
    name for name in AgencyFigures.__dataclass_fields__ if name not in {"code", "name", "by_priority"}
)


def percent(part: int, whole: int) -> str:
    """A share as people read it in a board report: "83%", or "no cases"."""
    return f"{round(100 * part / whole)}%" if whole else "none"


def spread(days: list[int], bands: tuple[tuple[str, int, int | None], ...]) -> Spread:
    counted = tuple(
        (label, sum(1 for d in days if low <= d and (high is None or d <= high)))
        for label, low, high in bands
    )
    return Spread(
        count=len(days),
        bands=counted,
        median=float(statistics.median(days)) if days else None,
        mean=round(statistics.fmean(days), 1) if days else None,
    )


def measure(session: Session, period: Period, *, statutory: StatutoryCalendar, now: datetime) -> Measures:
    """Count every measure for `period` as at `now`: ten statements, whatever the record's size."""
    require_statutory(statutory)
    today = statutory.local_date(now)
    counted = period_filters(period, statutory.timezone)
    held = counted.discussions_held
    agencies = {
        agency_id: AgencyFigures(code, name)
        for agency_id, code, name in session.execute(
            select(col(Agency.id), col(Agency.code), col(Agency.name)).order_by(col(Agency.name))
        )
    }

    # 1. Discussions within their urgency's timescale.
    within = case((col(Meeting.held_at) <= col(Meeting.deadline), 1), else_=0)
    late = case((col(Meeting.held_at) > col(Meeting.deadline), 1), else_=0)
    ooh = case((col(Meeting.out_of_hours).is_(True), 1), else_=0)
    discussions = tuple(
        UrgencyFigures(urgency or "not given", count, int(w or 0), int(lt or 0), int(o or 0))
        for urgency, count, w, lt, o in session.execute(
            select(col(Meeting.urgency), func.count(), func.sum(within), func.sum(late), func.sum(ooh))
            .where(held)
            .group_by(col(Meeting.urgency))
            .order_by(col(Meeting.urgency))
        )
    )

    # 2. Working days from the referral to the discussion: the database groups discussions
    # by the local dates of both (a few hundred pairs a year); each pair is counted once.
    dialect = session.get_bind().dialect.name
    years = (period.first.year - 2, today.year + 1)
    working = WorkingDays(statutory, period.first)
    referred_day = local_date(col(Meeting.referred_at), dialect, statutory.timezone, *years).label(
        "referred_day"
    )
    held_day = local_date(col(Meeting.held_at), dialect, statutory.timezone, *years).label("held_day")
    days: list[int] = []
    for referred_on, held_on, count in session.execute(
        select(referred_day, held_day, func.count())
        .where(held, col(Meeting.referred_at).is_not(None))
        .group_by(literal_column("referred_day"), literal_column("held_day"))
    ):
        days.extend([max(0, working.between(_as_date(referred_on), _as_date(held_on)))] * int(count))

    # 3 and 4. ICPCs and 45-day assessments (one pass over the enquiries that touch the period).
    s47 = Section47Enquiry
    icpc_in, started_in, due_in = counted.icpc_held, counted.enquiry_started, counted.icpc_due
    done_in, assess_due_in = counted.assessment_completed, counted.assessment_due

    row = session.execute(
        select(
            count_if(icpc_in),
            count_if(and_(icpc_in, col(s47.icpc_held_on) <= col(s47.icpc_due_on))),
            count_if(and_(started_in, col(s47.icpc_state) == IcpcState.NOT_REQUIRED)),
            count_if(and_(due_in, col(s47.icpc_state) == IcpcState.PENDING, col(s47.icpc_due_on) < today)),
            count_if(started_in),
            count_if(done_in),
            count_if(and_(done_in, col(s47.completed_on) <= col(s47.assessment_due_on))),
            count_if(
                and_(assess_due_in, col(s47.completed_on).is_(None), col(s47.assessment_due_on) < today)
            ),
        ).where(counted.enquiries)
    ).one()
    icpc_held, icpc_within, not_required, outstanding, started, completed, assessed_within, open_late = (
        int(v or 0) for v in row
    )
    icpc_days: list[int] = []
    for started_on, held_on, count in session.execute(
        select(col(s47.started_on), col(s47.icpc_held_on), func.count())
        .where(icpc_in)
        .group_by(col(s47.started_on), col(s47.icpc_held_on))
    ):
        icpc_days.extend([working.between(started_on, held_on)] * int(count))
    icpcs = IcpcFigures(
        held=icpc_held,
        within=icpc_within,
        late=icpc_held - icpc_within,
        not_required=not_required,
        outstanding_past_target=outstanding,
        enquiries_started=started,
        working_days=spread(icpc_days, ICPC_BANDS),
    )
    assessments = AssessmentFigures(completed, assessed_within, completed - assessed_within, open_late)

    # 5. Attendance by agency: a delegate is someone present in the invited person's place.
    delegate = case((col(Invitation.state) == "delegate", 1), else_=0)
    for agency_id, status, via_delegate, count in session.execute(
        select(col(Attendance.agency_id), col(Attendance.status), delegate, func.count())
        .join(Meeting, col(Meeting.id) == col(Attendance.meeting_id))
        .outerjoin(
            Invitation,
            and_(
                col(Invitation.meeting_id) == col(Attendance.meeting_id),
                col(Invitation.agency_id) == col(Attendance.agency_id),
            ),
        )
        .where(held)
        .group_by(col(Attendance.agency_id), col(Attendance.status), delegate)
    ):
        figures = agencies.get(agency_id)
        if figures is None:
            continue
        if status == AttendanceStatus.PRESENT:
            name = "delegate" if via_delegate else "attended"
        else:
            name = {
                AttendanceStatus.WRITTEN_UPDATE: "written_update",
                AttendanceStatus.APOLOGIES: "apologies",
            }.get(status, "did_not_respond")
        setattr(figures, name, getattr(figures, name) + count)

    # 6. Agency updates: every invited agency that did not decline owes one, except the
    # convenor's own (it presents at the discussion).
    convenor = aliased(Person)
    submitted = col(AgencyUpdate.state) == "submitted"
    for agency_id, on_time, late_updates, missing in session.execute(
        select(
            col(Invitation.agency_id),
            count_if(and_(submitted, col(AgencyUpdate.late).is_(False))),
            count_if(and_(submitted, col(AgencyUpdate.late).is_(True))),
            count_if(or_(col(AgencyUpdate.id).is_(None), col(AgencyUpdate.state) != "submitted")),
        )
        .join(Meeting, col(Meeting.id) == col(Invitation.meeting_id))
        .outerjoin(convenor, col(convenor.id) == col(Meeting.convenor_id))
        .outerjoin(
            AgencyUpdate,
            and_(
                col(AgencyUpdate.meeting_id) == col(Invitation.meeting_id),
                col(AgencyUpdate.agency_id) == col(Invitation.agency_id),
                col(AgencyUpdate.agenda_item_id) == 0,
            ),
        )
        .where(
            held,
            col(Invitation.state) != "declined",
            or_(col(convenor.agency_id).is_(None), col(convenor.agency_id) != col(Invitation.agency_id)),
        )
        .group_by(col(Invitation.agency_id))
    ):
        figures = agencies.get(agency_id)
        if figures is not None:
            figures.updates_on_time, figures.updates_late, figures.updates_missing = (
                int(on_time),
                int(late_updates),
                int(missing),
            )

    # 7. Actions due in the period, by agency and priority. "Done by the due date" is done
    # on or before the due day, in local dates (the database works the date out).
    done_on = local_date(
        col(Action.completed_at),
        session.get_bind().dialect.name,
        statutory.timezone,
        period.first.year - 2,
        today.year + 1,
    )
    done = col(Action.status) == ActionStatus.DONE
    for agency_id, priority, due, on_time, done_late, past_due, escalated, handed_on in session.execute(
        select(
            col(Action.agency_id),
            col(Action.priority),
            func.count(),
            count_if(and_(done, done_on <= col(Action.due_on))),
            count_if(and_(done, or_(col(Action.completed_at).is_(None), done_on > col(Action.due_on)))),
            count_if(and_(col(Action.status).in_(OPEN_STATES), col(Action.due_on) < today)),
            count_if(or_(col(Action.escalation_level) > 0, col(Action.status) == ActionStatus.ESCALATED)),
            count_if(col(Action.status) == ActionStatus.HANDED_ON),
        )
        .where(counted.actions_due)
        .group_by(col(Action.agency_id), col(Action.priority))
    ):
        figures = agencies.get(agency_id)
        if figures is None:
            continue
        counts = (int(due), int(on_time), int(done_late), int(past_due), int(escalated), int(handed_on))
        figures.actions_due += counts[0]
        figures.actions_done_on_time += counts[1]
        figures.actions_done_late += counts[2]
        figures.actions_open_past_due += counts[3]
        figures.actions_escalated += counts[4]
        figures.actions_handed_on += counts[5]
        figures.by_priority.setdefault(priority, defaultdict(int))
        names = ("due", "done_on_time", "done_late", "open_past_due", "escalated")
        for name, value in zip(names, counts, strict=False):
            figures.by_priority[priority][name] += value

    # 8. Overdue now, whatever the period: open or escalated, past the due date today.
    for agency_id, priority, count in session.execute(
        select(col(Action.agency_id), col(Action.priority), func.count())
        .where(overdue_now(today))
        .group_by(col(Action.agency_id), col(Action.priority))
    ):
        figures = agencies.get(agency_id)
        if figures is not None:
            figures.overdue_now += int(count)
            figures.by_priority.setdefault(priority, defaultdict(int))
            figures.by_priority[priority]["overdue_now"] += int(count)

    # 9. The panel: children and contexts reviewed at sittings held in the period.
    decision = col(AgendaItem.outcome)["decision"].as_string()
    nrm = col(AgendaItem.outcome)["nrm"].as_string()
    panel_row = session.execute(
        select(
            func.count(),
            func.count(func.distinct(col(AgendaItem.panel_case_id))),
            count_if(decision == "step_up"),
            count_if(decision == "step_down"),
            count_if(nrm == "referred"),
        )
        .join(PanelSitting, col(PanelSitting.id) == col(AgendaItem.sitting_id))
        .where(counted.panel_reviews)
    ).one()
    panel = PanelFigures(*(int(v or 0) for v in panel_row))

    return Measures(
        period=period,
        as_at=now,
        discussions=discussions,
        referral_to_discussion=spread(days, DAYS_BANDS),
        icpcs=icpcs,
        assessments=assessments,
        agencies=tuple(agencies.values()),
        panel=panel,
    )


class WorkingDays:
    """Statutory working days between many pairs of dates: each date's count from a fixed
    day is worked out once, so a year's thousands of discussions cost a few hundred look-ups."""

    def __init__(self, statutory: StatutoryCalendar, near: date) -> None:
        self._statutory = statutory
        self._anchor = near  # counting from a day near the dates keeps each count short
        self._counted: dict[date, int] = {}

    def _from_anchor(self, day: date) -> int:
        found = self._counted.get(day)
        if found is None:
            found = self._counted[day] = self._statutory.working_days_between(self._anchor, day)
        return found

    def between(self, start: date, end: date) -> int:
        """As `StatutoryCalendar.working_days_between`: working days d with start < d <= end."""
        return self._from_anchor(end) - self._from_anchor(start)


def _as_date(value: date | str) -> date:
    """A local date from the database: a date, or (SQLite's date()) its ISO text."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """How many rows meet the condition (0, not NULL, when none does)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def first_working_day(year: int, month_number: int, statutory: StatutoryCalendar) -> date:
    """The month's first statutory working day (when the monthly report goes out)."""
    first = date(year, month_number, 1)
    return first if statutory.is_working_day(first) else statutory.next_working_day(first)
