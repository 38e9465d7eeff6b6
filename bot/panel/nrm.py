"""The National Referral Mechanism as a record, for children only: the referral date, the
first responder (organisation and person), the NRM reference, and the Competent
Authority's reasonable-grounds and conclusive-grounds decisions with their dates; linked
to the child's strategy discussion where there is one, and chased when a decision is
overdue. (A child needs no consent and there is no duty to notify: that applies to adults,
whom this panel does not refer.) Plain Python over the database: no Slack here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.audit.service import Actor, record
from bot.cases.models import Case
from bot.convening.models import Meeting
from bot.panel.models import NrmReferral
from bot.schedules import Partnership
from bot.working_days import WorkingCalendar

DECISIONS = {"awaited": "Awaited", "positive": "Positive", "negative": "Negative"}
FIELDS = (
    "nrm_referred_on",
    "nrm_reference",
    "nrm_first_responder",
    "nrm_first_responder_name",
    "nrm_reasonable_grounds",
    "nrm_reasonable_grounds_on",
    "nrm_conclusive_grounds",
    "nrm_conclusive_grounds_on",
)


@dataclass(frozen=True)
class NrmForm:
    """What the recording form holds about the child's NRM referral."""

    referred_on: date | None = None
    reference: str = ""
    first_responder: str = ""  # agency code
    first_responder_name: str = ""
    reasonable_grounds: str = ""
    reasonable_grounds_on: date | None = None
    conclusive_grounds: str = ""
    conclusive_grounds_on: date | None = None

    @property
    def given(self) -> bool:
        return bool(
            self.referred_on
            or self.reference.strip()
            or self.first_responder
            or self.first_responder_name.strip()
            or self.reasonable_grounds not in ("", "awaited")
            or self.conclusive_grounds not in ("", "awaited")
            or self.reasonable_grounds_on
            or self.conclusive_grounds_on
        )

    @classmethod
    def from_values(cls, values: dict[str, object]) -> NrmForm:
        def text(name: str) -> str:
            found = values.get(name)
            return found if isinstance(found, str) else ""

        def day(name: str) -> date | None:
            found = values.get(name)
            return found if isinstance(found, date) else None

        return cls(
            referred_on=day("nrm_referred_on"),
            reference=text("nrm_reference"),
            first_responder=text("nrm_first_responder"),
            first_responder_name=text("nrm_first_responder_name"),
            reasonable_grounds=text("nrm_reasonable_grounds"),
            reasonable_grounds_on=day("nrm_reasonable_grounds_on"),
            conclusive_grounds=text("nrm_conclusive_grounds"),
            conclusive_grounds_on=day("nrm_conclusive_grounds_on"),
        )


def validate_nrm(
    form: NrmForm, partnership: Partnership, *, subject_kind: str, today: date
) -> dict[str, str]:
    """Problems keyed by form block; nothing given means no NRM referral."""
    if not form.given:
        return {}
    if subject_kind != "child":
        return {"nrm_referred_on": "The National Referral Mechanism is for children only, not a context."}
    errors: dict[str, str] = {}
    responders = partnership.panel_practice.nrm.first_responder_agencies
    if form.referred_on is None:
        errors["nrm_referred_on"] = "Give the date the NRM referral was made."
    elif form.referred_on > today:
        errors["nrm_referred_on"] = "The referral date is in the future."
    if form.first_responder not in responders:
        errors["nrm_first_responder"] = "Choose the first responder organisation that made the referral."
    if not form.first_responder_name.strip():
        errors["nrm_first_responder_name"] = "Name the person at the first responder who made it."
    elif len(form.first_responder_name) > 200:
        errors["nrm_first_responder_name"] = "Keep this under 200 characters."
    if len(form.reference) > 60:
        errors["nrm_reference"] = "Keep the NRM reference under 60 characters."
    for stage, decision, on in (
        ("reasonable_grounds", form.reasonable_grounds, form.reasonable_grounds_on),
        ("conclusive_grounds", form.conclusive_grounds, form.conclusive_grounds_on),
    ):
        if decision and decision not in DECISIONS:
            errors[f"nrm_{stage}"] = "Choose awaited, positive or negative."
        elif decision in ("positive", "negative") and on is None:
            errors[f"nrm_{stage}_on"] = "Give the date of the decision."
        elif decision in ("", "awaited") and on is not None:
            errors[f"nrm_{stage}_on"] = (
                "A date goes with a decision: choose positive or negative, or clear it."
            )
        elif on is not None and (on > today or (form.referred_on and on < form.referred_on)):
            errors[f"nrm_{stage}_on"] = "The decision date must fall between the referral and today."
    if form.conclusive_grounds in ("positive", "negative") and form.reasonable_grounds != "positive":
        errors["nrm_conclusive_grounds"] = (
            "A conclusive-grounds decision follows a positive reasonable-grounds one."
        )
    return errors


def nrm_of(session: Session, case_id: int | None) -> NrmReferral | None:
    """The child's latest NRM referral."""
    return session.exec(
        select(NrmReferral).where(NrmReferral.case_id == (case_id or -1)).order_by(col(NrmReferral.id).desc())
    ).first()


def _strategy_discussion(session: Session, case_id: int) -> int | None:
    """The child's latest strategy discussion (not a panel sitting), if there is one."""
    for meeting in session.exec(
        select(Meeting).where(Meeting.case_id == case_id).order_by(col(Meeting.id).desc()).limit(20)
    ):
        if not (isinstance(meeting.details, dict) and meeting.details.get("panel")):
            return meeting.id
    return None


def store_nrm(
    session: Session,
    case: Case,
    form: NrmForm,
    *,
    panel_code: str,
    by: int | None,
    actor: Actor,
    key: str,
    now: datetime,
) -> NrmReferral | None:
    """Record (or bring up to date) the child's NRM referral; None when none was given."""
    if not form.given:
        return None
    row = nrm_of(session, case.id)
    if row is None or (
        form.reference.strip() and row.nrm_reference and row.nrm_reference != form.reference.strip()
    ):
        row = NrmReferral(
            case_id=case.id or 0,
            panel_code=panel_code,
            referred_on=form.referred_on or now.date(),
            first_responder_agency=form.first_responder,
            first_responder_name=form.first_responder_name.strip(),
            submission_key=key,
            created_at=now,
        )
    row.referred_on = form.referred_on or row.referred_on
    row.nrm_reference = form.reference.strip()
    row.first_responder_agency = form.first_responder
    row.first_responder_name = form.first_responder_name.strip()
    changed = {
        stage
        for stage, old, new in (
            ("reasonable_grounds", row.reasonable_grounds, form.reasonable_grounds or "awaited"),
            ("conclusive_grounds", row.conclusive_grounds, form.conclusive_grounds or "awaited"),
        )
        if old != new
    }
    row.reasonable_grounds = form.reasonable_grounds or "awaited"
    row.reasonable_grounds_on = form.reasonable_grounds_on
    row.conclusive_grounds = form.conclusive_grounds or "awaited"
    row.conclusive_grounds_on = form.conclusive_grounds_on
    row.strategy_meeting_id = row.strategy_meeting_id or _strategy_discussion(session, case.id or 0)
    row.recorded_by_id = by
    session.add(row)
    session.flush()
    record(
        session,
        at=now,
        actor=actor,
        act="panel.nrm_recorded",
        record_type="nrm_referral",
        record_id=row.id or 0,
        case_reference=case.reference,
        details={
            "reasonable_grounds": row.reasonable_grounds,
            "conclusive_grounds": row.conclusive_grounds,
            "changed": sorted(changed),
        },
    )
    return row


def _day(value: date | None) -> str:
    return value.strftime("%d %B %Y") if value else ""


def nrm_words(session: Session, row: NrmReferral | None, partnership: Partnership) -> dict[str, str]:
    """The record as the minutes show it."""
    if row is None:
        return {}
    try:
        agency = partnership.agency(row.first_responder_agency).name
    except KeyError:
        agency = row.first_responder_agency
    discussion = session.get(Meeting, row.strategy_meeting_id) if row.strategy_meeting_id else None

    def decision(value: str, on: date | None) -> str:
        return DECISIONS.get(value, value) + (f" ({_day(on)})" if on else "")

    return {
        "referred_on": _day(row.referred_on),
        "reference": row.nrm_reference or "not yet given",
        "first_responder": f"{row.first_responder_name}, {agency}",
        "reasonable_grounds": decision(row.reasonable_grounds, row.reasonable_grounds_on),
        "conclusive_grounds": decision(row.conclusive_grounds, row.conclusive_grounds_on),
        "strategy_discussion": discussion.reference if discussion else "",
    }


@dataclass(frozen=True)
class OverdueDecision:
    nrm_id: int
    case_reference: str
    panel_code: str
    stage: str  # reasonable_grounds | conclusive_grounds
    since: date
    case_id: int | None = None  # the chase names the case: erasing it takes the chase


def latest_overdue_start(calendar: WorkingCalendar, today: date, days: int) -> date:
    """The last day a decision awaited since then is overdue today: the latest `since`
    with `add_working_days(since, days) < today` (that count never goes back as `since`
    moves on, so one day bounds them all and the database can filter by it)."""
    day = calendar.add_working_days(today, -days)
    while calendar.add_working_days(day, days) >= today:
        day -= timedelta(days=1)
    while calendar.add_working_days(day + timedelta(days=1), days) < today:
        day += timedelta(days=1)
    return day


NRM_BATCH = 200


def overdue_decisions(
    session: Session,
    partnership: Partnership,
    calendar: WorkingCalendar,
    today: date,
    *,
    after: int = 0,
    batch: int = NRM_BATCH,
) -> tuple[list[tuple[OverdueDecision, NrmReferral]], int | None]:
    """One batch of NRM referrals with a decision awaited past the configured working days
    (by id, after `after`; those not yet chased, with their rows), and the id to read on
    from, or None when none are left. The rows are locked (skipping those another process
    holds), so a pass reading every batch chases each overdue decision once, and two
    replicas never chase the same one."""
    practice = partnership.panel_practice.nrm
    rg_by = latest_overdue_start(calendar, today, practice.reasonable_grounds_working_days)
    cg_by = latest_overdue_start(calendar, today, practice.conclusive_grounds_working_days)
    rg_since = col(NrmReferral.referred_on)
    cg_since = func.coalesce(col(NrmReferral.reasonable_grounds_on), col(NrmReferral.referred_on))
    rows = session.exec(
        select(NrmReferral, col(Case.reference))
        .join(Case, col(Case.id) == col(NrmReferral.case_id))
        .where(
            col(NrmReferral.id) > after,
            ((col(NrmReferral.reasonable_grounds) == "awaited") & (rg_since <= rg_by))
            | (
                (col(NrmReferral.reasonable_grounds) == "positive")
                & (col(NrmReferral.conclusive_grounds) == "awaited")
                & (cg_since <= cg_by)
            ),
        )
        .order_by(col(NrmReferral.id))
        .limit(batch)
        .with_for_update(of=NrmReferral, skip_locked=True)
    ).all()
    out: list[tuple[OverdueDecision, NrmReferral]] = []
    for row, reference in rows:
        if row.reasonable_grounds == "awaited":
            stage, since = "reasonable_grounds", row.referred_on
        else:
            stage, since = "conclusive_grounds", row.reasonable_grounds_on or row.referred_on
        if stage not in (row.chased or []):
            out.append(
                (OverdueDecision(row.id or 0, reference, row.panel_code, stage, since, row.case_id), row)
            )
    return out, (rows[-1][0].id or 0) if len(rows) == batch else None
