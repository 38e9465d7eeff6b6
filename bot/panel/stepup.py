"""What a step up links to, beyond a strategy discussion. A step up to a child protection
conference links the child's section 47 enquiry (its ICPC clock) and an action for the
booking agency's lead to book it, chased like any other until it is booked. A step up to
a police operation is a record of its own (name, police reference, lead officer, start),
seen only by police and the panel's administrators, as the register of suspected
perpetrators is, unless a police member releases a summary. Plain Python: no Slack."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from bot.actions.models import Action
from bot.actions.service import NewAction, add_action, mark_done
from bot.audit.service import Actor, record
from bot.cases.models import Case, IcpcState, Section47Enquiry
from bot.convening.models import Meeting
from bot.documents.handling import Restricted
from bot.panel.models import AgendaItem, ConferenceLink, PanelCase, PanelSitting, PoliceOperation
from bot.panel.perpetrators import is_police, sees_register
from bot.partnership.models import Agency, Person
from bot.partnership.service import Member
from bot.references import next_reference
from bot.schedules import Partnership
from bot.working_days import StatutoryCalendar, WorkingCalendar

PREFIX = "PO"
ICPC_WORKING_DAYS = 15  # as bot.cases.timeline: within 15 working days of the discussion
BOOK_WITHIN_WORKING_DAYS = 3  # the booking is due this soon (or by the ICPC target if sooner)
# Police operations in panel documents: full details to the police only.
OPERATION_HANDLING = Restricted("", "Police operation: details held by the police", frozenset({"police"}))
HELD_BY_POLICE = "details are held by the police"


class StepUpRefused(Exception):
    """The step up's record cannot be changed by this person, or no longer exists."""


def links_of(outcome: dict[str, object]) -> str:
    """The record a recorded step up links ('' when none): conference or police_operation."""
    return str(outcome.get("links") or "") if outcome.get("decision") == "step_up" else ""


def _item_context(session: Session, item_id: int) -> tuple[AgendaItem, PanelCase, Case, Meeting] | None:
    item = session.get(AgendaItem, item_id)
    panel_case = session.get(PanelCase, item.panel_case_id) if item else None
    case = session.get(Case, panel_case.case_id) if panel_case else None
    sitting = session.get(PanelSitting, item.sitting_id) if item else None
    meeting = session.get(Meeting, sitting.meeting_id) if sitting else None
    if item is None or panel_case is None or case is None or meeting is None:
        return None
    return item, panel_case, case, meeting


# ------------------------------------------------------------------ the conference


def open_enquiry(session: Session, case_id: int) -> Section47Enquiry | None:
    """The child's latest section 47 enquiry (its ICPC is the conference's anchor)."""
    return session.exec(
        select(Section47Enquiry)
        .where(col(Section47Enquiry.case_id) == case_id)
        .order_by(col(Section47Enquiry.started_on).desc(), col(Section47Enquiry.id).desc())
    ).first()


def link_conference(
    session: Session,
    item_id: int,
    *,
    partnership: Partnership,
    calendar: WorkingCalendar,
    statutory: StatutoryCalendar,
    actor: Actor,
    now: datetime,
) -> tuple[ConferenceLink | None, bool]:
    """The conference a step up names, linked once per decision: to the child's section 47
    enquiry (the ICPC target is its own; with none, 15 working days from the sitting) and
    to an action of the sitting for the booking agency's lead, chased until booked.
    Returns the link and whether it was made now."""
    found = _item_context(session, item_id)
    if found is None:
        return None, False
    item, _, case, meeting = found
    existing = session.exec(select(ConferenceLink).where(ConferenceLink.agenda_item_id == item_id)).first()
    if existing is not None or links_of(item.outcome or {}) != "conference":
        return existing, False
    step = partnership.panel_practice.step_up_named(str(item.outcome.get("destination", "")).split(":")[-1])
    lead = partnership.agency(step.led_by if step and step.led_by else "csc").lead_person()
    today = calendar.local(now).date()
    enquiry = open_enquiry(session, case.id or 0)
    due = (
        enquiry.icpc_due_on
        if enquiry is not None and enquiry.completed_on is None
        else statutory.add_working_days(today, ICPC_WORKING_DAYS)
    )
    soon = calendar.add_working_days(today, BOOK_WITHIN_WORKING_DAYS)
    booking_due = max(min(due, soon), calendar.add_working_days(today, 1))
    action, _ = add_action(
        session,
        meeting,
        NewAction(
            text=f"Book the child protection conference for {case.reference} (ICPC by {due:%d %b %Y})",
            owner_slack_id=lead.slack_user_id or None,
            owner_contact=None if lead.slack_user_id else lead.id,
            priority="high",
            due_on=booking_due,
            concerns=case.reference,
        ),
        partnership=partnership,
        calendar=calendar,
        actor=actor,
        key=f"conference:{item_id}",
        now=now,
    )
    action.case_id = case.id  # the child's: its chases and the child's action log name it
    session.add(action)
    link = ConferenceLink(
        agenda_item_id=item_id,
        case_id=case.id or 0,
        enquiry_id=enquiry.id if enquiry is not None and enquiry.completed_on is None else None,
        action_id=action.id,
        due_on=due,
        created_at=now,
    )
    session.add(link)
    session.flush()
    record(
        session,
        at=now,
        actor=actor,
        act="panel.conference_linked",
        record_type="agenda_item",
        record_id=item_id,
        case_reference=case.reference,
        details={"action": action.reference, "icpc_due_on": due.isoformat(), "enquiry": link.enquiry_id},
    )
    return link, True


def withdraw_conference(session: Session, item_id: int, *, actor: Actor, now: datetime) -> bool:
    """The decision was recorded again without the conference: a booking still owed is
    withdrawn (its action cancelled, so it is no longer chased). A booked conference stays
    on the record. True if one was withdrawn."""
    from bot.actions.models import ActionEvent, ActionStatus

    item = session.get(AgendaItem, item_id)
    link = session.exec(select(ConferenceLink).where(ConferenceLink.agenda_item_id == item_id)).first()
    if item is None or link is None or link.booked_for is not None or links_of(item.outcome) == "conference":
        return False
    action = session.get(Action, link.action_id) if link.action_id else None
    if action is not None and action.status not in (ActionStatus.DONE, ActionStatus.CANCELLED):
        action.status, action.next_chase_at = ActionStatus.CANCELLED, None
        session.add(action)
        session.add(
            ActionEvent(
                action_id=action.id or 0,
                kind="cancelled",
                by_id=actor.person_id,
                details={"note": "The panel's decision no longer steps up to a conference."},
                at=now,
            )
        )
    case = session.get(Case, link.case_id)
    record(
        session,
        at=now,
        actor=actor,
        act="panel.conference_withdrawn",
        record_type="agenda_item",
        record_id=item_id,
        case_reference=case.reference if case else "",
        details={"action": action.reference if action else ""},
    )
    session.delete(link)
    session.flush()
    return True


def conference_of_action(session: Session, action_id: int | None) -> ConferenceLink | None:
    """The conference an action books, if it is one."""
    return session.exec(select(ConferenceLink).where(ConferenceLink.action_id == (action_id or -1))).first()


def validate_booking(booked_for: date | None, *, statutory: StatutoryCalendar, today: date) -> dict[str, str]:
    """The date the conference is booked for: today or later, on a working day."""
    if booked_for is None:
        return {"booked_for": "Give the date the conference is booked for."}
    if booked_for < today:
        return {"booked_for": "That date has passed: give the date the conference is booked for."}
    if not statutory.is_working_day(booked_for):
        holiday = statutory.bank_holiday_name(booked_for)
        return {
            "booked_for": f"{booked_for:%a %d %b %Y} is "
            f"{f'a bank holiday ({holiday})' if holiday else 'a weekend'}: check the date."
        }
    return {}


def book_conference(
    session: Session,
    action_id: int,
    booked_for: date,
    *,
    actor: Actor,
    partnership: Partnership,
    now: datetime,
) -> tuple[ConferenceLink, bool]:
    """The conference is booked: the date is stored and the booking action marked done (its
    chasing stops), in one transaction; a second submission changes nothing. Returns the
    link and whether this call booked it. `ActionRefused` if the person may not."""
    link = session.exec(
        select(ConferenceLink).where(ConferenceLink.action_id == action_id).with_for_update()
    ).first()
    if link is None:
        raise StepUpRefused("That action does not book a conference.")
    if link.booked_for is not None:
        return link, False
    late = booked_for > link.due_on
    mark_done(
        session,
        action_id,
        f"Conference booked for {booked_for:%d %b %Y}" + (" (after the ICPC target)" if late else ""),
        actor=actor,
        partnership=partnership,
        now=now,
    )
    link.booked_for, link.booked_by_id, link.booked_at = booked_for, actor.person_id, now
    session.add(link)
    case = session.get(Case, link.case_id)
    record(
        session,
        at=now,
        actor=actor,
        act="panel.conference_booked",
        record_type="conference",
        record_id=link.id or 0,
        case_reference=case.reference if case else "",
        details={"booked_for": booked_for.isoformat(), "within_target": not late},
    )
    session.flush()
    return link, True


@dataclass(frozen=True)
class ConferenceLine:
    """A conference a step up linked, as the child's record and the minutes show it."""

    agenda_item_id: int
    sitting: str  # the panel sitting's reference
    due_on: date
    state: str  # to_be_booked | booked | held | not_required
    booked_for: date | None
    held_on: date | None
    action_reference: str
    booked_by: str  # the owner of the booking action, by name

    def words(self) -> str:
        if self.state == "held" and self.held_on:
            return f"child protection conference held {self.held_on:%d %b %Y}"
        if self.state == "not_required":
            return "child protection conference not required (recorded on the section 47 enquiry)"
        if self.state == "booked" and self.booked_for:
            late = " (after the ICPC target)" if self.booked_for > self.due_on else ""
            return f"child protection conference booked for {self.booked_for:%d %b %Y}{late}"
        return (
            f"child protection conference to be booked by {self.booked_by} ({self.action_reference}); "
            f"ICPC by {self.due_on:%d %b %Y}"
        )


def conference_lines(session: Session, case_ids: list[int | None]) -> dict[int, list[ConferenceLine]]:
    """The conferences linked to these cases, oldest first, with their state read from the
    section 47 enquiry (held or not required) and the booking: two queries."""
    ids = [i for i in case_ids if i]
    if not ids:
        return {}
    rows = session.exec(
        select(ConferenceLink, col(Meeting.reference), Section47Enquiry, Action)
        .join(AgendaItem, col(AgendaItem.id) == col(ConferenceLink.agenda_item_id))
        .join(PanelSitting, col(PanelSitting.id) == col(AgendaItem.sitting_id))
        .join(Meeting, col(Meeting.id) == col(PanelSitting.meeting_id))
        .outerjoin(Section47Enquiry, col(Section47Enquiry.id) == col(ConferenceLink.enquiry_id))
        .outerjoin(Action, col(Action.id) == col(ConferenceLink.action_id))
        .where(col(ConferenceLink.case_id).in_(ids))
        .order_by(col(ConferenceLink.id))
    ).all()
    owners = {
        p.id: p.name
        for p in session.exec(select(Person).where(col(Person.id).in_([a.owner_id for *_, a in rows if a])))
    }
    out: dict[int, list[ConferenceLine]] = {}
    for link, sitting, enquiry, action in rows:
        owner = owners.get(action.owner_id) if action is not None else None
        state = "booked" if link.booked_for else "to_be_booked"
        if enquiry is not None and enquiry.icpc_state == IcpcState.HELD:
            state = "held"
        elif enquiry is not None and enquiry.icpc_state == IcpcState.NOT_REQUIRED:
            state = "not_required"
        out.setdefault(link.case_id, []).append(
            ConferenceLine(
                agenda_item_id=link.agenda_item_id,
                sitting=sitting,
                due_on=link.due_on,
                state=state,
                booked_for=link.booked_for,
                held_on=enquiry.icpc_held_on if enquiry is not None else None,
                action_reference=action.reference if action is not None else "",
                booked_by=owner or "the booking agency's lead",
            )
        )
    return out


# ------------------------------------------------------------- the police operation


@dataclass(frozen=True)
class OperationForm:
    name: str = ""
    police_reference: str = ""
    lead_slack_id: str | None = None
    started_on: date | None = None
    summary: str = ""  # released to the panel's agencies (a police member only)


def validate_operation(
    session: Session,
    form: OperationForm,
    partnership: Partnership,
    *,
    police: bool,
    today: date,
    child_name: str = "",
) -> dict[str, str]:
    """Problems keyed by the form's blocks. The lead officer is a police person; a summary
    is released by a police member only, and reaches Slack, so it must not name the child."""
    from bot.cases.service import NAME_IN_SLACK_TEXT, mentions_child

    errors: dict[str, str] = {}
    if not form.name.strip():
        errors["name"] = "Give the operation's name (e.g. Operation Larch)."
    elif len(form.name) > 200:
        errors["name"] = "Keep the name under 200 characters."
    if len(form.police_reference) > 60:
        errors["police_reference"] = "Keep the police reference under 60 characters."
    lead = _person(session, form.lead_slack_id)
    if lead is None:
        errors["lead_officer"] = "Choose the lead officer."
    else:
        agency = session.get(Agency, lead.agency_id)
        if agency is None or agency.kind != "police":
            errors["lead_officer"] = "The lead officer must be from a police agency."
    if form.started_on is None:
        errors["started_on"] = "Give the date the operation started."
    elif form.started_on > today:
        errors["started_on"] = "That date is in the future."
    summary = form.summary.strip()
    if summary and not police:
        errors["summary"] = "Only a police member can release a summary to the panel's agencies."
    elif len(summary) > 1000:
        errors["summary"] = "Keep the summary under 1000 characters."
    elif summary and child_name and mentions_child(summary, child_name):
        errors["summary"] = NAME_IN_SLACK_TEXT
    return errors


def _person(session: Session, slack_id: str | None) -> Person | None:
    if not slack_id:
        return None
    return session.exec(select(Person).where(Person.slack_user_id == slack_id)).first()


def record_operation(
    session: Session,
    item_id: int,
    form: OperationForm,
    *,
    member: Member | None,
    actor: Actor,
    partnership: Partnership,
    calendar: WorkingCalendar,
    now: datetime,
) -> tuple[PoliceOperation, bool]:
    """The operation a step up names, one per decision: recorded, or its details changed
    (the same values again change nothing). Only police and the panel's administrators;
    only a police member releases (or changes) the summary. Returns it and whether it changed."""
    if not sees_register(member, partnership):
        raise StepUpRefused("Only police and panel administrators record police operations.")
    assert member is not None
    item = session.get(AgendaItem, item_id, with_for_update=True, populate_existing=True)
    found = _item_context(session, item_id) if item else None
    if found is None or links_of(found[0].outcome or {}) != "police_operation":
        raise StepUpRefused("That panel decision is not a step up to a police operation.")
    _, panel_case, case, _ = found
    lead = _person(session, form.lead_slack_id)
    assert lead is not None and form.started_on is not None
    police = is_police(member, partnership)
    row = session.exec(select(PoliceOperation).where(PoliceOperation.agenda_item_id == item_id)).first()
    values = {
        "name": " ".join(form.name.split()),
        "police_reference": form.police_reference.strip(),
        "lead_officer_id": lead.id or 0,
        "started_on": form.started_on,
    }
    if police:
        values["released_summary"] = form.summary.strip()
    created = row is None
    if row is None:
        row = PoliceOperation(
            reference=next_reference(session, PREFIX, calendar.local(now).year),
            panel_code=panel_case.panel_code,
            agenda_item_id=item_id,
            case_id=case.id or 0,
            recorded_by_id=member.person_id,
            created_at=now,
            **values,  # type: ignore[arg-type]
        )
    elif all(getattr(row, k) == v for k, v in values.items()):
        return row, False
    else:
        for key, value in values.items():
            setattr(row, key, value)
    if police and row.released_summary and "released_summary" in values:
        row.released_by_id, row.released_at = member.person_id, now
    elif police and not row.released_summary:
        row.released_by_id, row.released_at = None, None
    row.updated_at = now
    session.add(row)
    session.flush()
    record(
        session,
        at=now,
        actor=actor,
        act="panel.operation_recorded" if created else "panel.operation_changed",
        record_type="police_operation",
        record_id=row.reference,
        case_reference=case.reference,
        details={"summary_released": bool(row.released_summary)},
    )
    return row, True


def operation_of_item(session: Session, item_id: int) -> PoliceOperation | None:
    return session.exec(select(PoliceOperation).where(PoliceOperation.agenda_item_id == item_id)).first()


@dataclass(frozen=True)
class OperationLine:
    """A police operation as police and administrators see it (`full`), or as everyone
    else does: its released summary, or that the police hold the details."""

    reference: str
    agenda_item_id: int
    case_reference: str
    sitting: str
    name: str
    police_reference: str
    lead_officer: str
    started_on: date
    released_summary: str

    def words(self, *, full: bool) -> str:
        if full:
            text = (
                f"police operation {self.name} ({self.reference}"
                + (f", police reference {self.police_reference}" if self.police_reference else "")
                + f"), led by {self.lead_officer}, started {self.started_on:%d %b %Y}"
            )
            if self.released_summary:
                text += f". Summary released to the panel: {self.released_summary}"
            return text
        if self.released_summary:
            return f"police operation: {self.released_summary}"
        return f"police operation: {HELD_BY_POLICE}"


def operation_lines(session: Session, case_ids: list[int | None]) -> dict[int, list[OperationLine]]:
    """The police operations linked to these cases, oldest first: one query."""
    ids = [i for i in case_ids if i]
    if not ids:
        return {}
    rows = session.exec(
        select(PoliceOperation, col(Case.reference), col(Meeting.reference), Person)
        .join(Case, col(Case.id) == col(PoliceOperation.case_id))
        .join(AgendaItem, col(AgendaItem.id) == col(PoliceOperation.agenda_item_id))
        .join(PanelSitting, col(PanelSitting.id) == col(AgendaItem.sitting_id))
        .join(Meeting, col(Meeting.id) == col(PanelSitting.meeting_id))
        .join(Person, col(Person.id) == col(PoliceOperation.lead_officer_id))
        .where(col(PoliceOperation.case_id).in_(ids))
        .order_by(col(PoliceOperation.id))
    ).all()
    out: dict[int, list[OperationLine]] = {}
    for row, case_reference, sitting, person in rows:
        lead, title = person.name, person.role_title
        out.setdefault(row.case_id, []).append(
            OperationLine(
                reference=row.reference,
                agenda_item_id=row.agenda_item_id,
                case_reference=case_reference,
                sitting=sitting,
                name=row.name,
                police_reference=row.police_reference,
                lead_officer=f"{lead}, {title}" if title else lead,
                started_on=row.started_on,
                released_summary=row.released_summary,
            )
        )
    return out


def operation_text(session: Session, row: PoliceOperation, marking: str) -> str:
    """`/panel operation PO-…` for police and administrators: the whole record."""
    line = operation_lines(session, [row.case_id]).get(row.case_id, [])
    found = next((entry for entry in line if entry.reference == row.reference), None)
    if found is None:
        return f"{row.reference} no longer exists."
    return (
        f"*{marking}* · *{found.reference}* for {found.case_reference} (stepped up at {found.sitting}): "
        + found.words(full=True)
        + ("" if found.released_summary else ". No summary is released to the panel's agencies.")
    )


@dataclass(frozen=True)
class StepUpLinks:
    """The conferences and police operations linked to a set of cases (three queries),
    in words for a document: police operations in full only where `full`."""

    conferences: dict[int, list[ConferenceLine]]
    operations: dict[int, list[OperationLine]]

    @classmethod
    def of(cls, session: Session, case_ids: list[int | None]) -> StepUpLinks:
        return cls(conference_lines(session, case_ids), operation_lines(session, case_ids))

    @property
    def any_operation(self) -> bool:
        return any(self.operations.values())

    def of_item(self, case_id: int, item_id: int, *, full: bool) -> list[str]:
        """What this decision linked, and its state."""
        return [c.words() for c in self.conferences.get(case_id, []) if c.agenda_item_id == item_id] + [
            o.words(full=full) for o in self.operations.get(case_id, []) if o.agenda_item_id == item_id
        ]

    def of_case(self, case_id: int, *, full: bool, besides: int | None = None) -> list[str]:
        """Every step up's link for the case (except decision `besides`), with the sitting."""
        return [
            f"stepped up at {c.sitting}: {c.words()}"
            for c in self.conferences.get(case_id, [])
            if c.agenda_item_id != besides
        ] + [
            f"stepped up at {o.sitting}: {o.words(full=full)}"
            for o in self.operations.get(case_id, [])
            if o.agenda_item_id != besides
        ]
