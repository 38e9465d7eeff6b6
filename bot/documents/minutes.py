"""The strategy discussion minutes as the template sees them: every heading of DESIGN.md §4
filled from the record or marked plainly ("None recorded"), the case's clocks, the child's
details, each agency's information under its handling instruction, and the circulation
list saying which copy each recipient receives. Plain Python over the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from bot.actions.service import PRIORITIES, actions_of
from bot.agency_updates.service import TEXT_FIELDS, AgencyUpdateSummary, deadline_for, overview, rating_of
from bot.cases.models import Case
from bot.convening.models import Attendance, Meeting
from bot.convening.vocabulary import CONCERNS, FORMATS, RIGHT_HELP_RIGHT_TIME
from bot.documents.changes import Part, PreviousVersion, changes_since, fingerprint
from bot.documents.handling import Recipient, Restricted, entitlement, restricted, withheld_note
from bot.documents.vocabulary import (
    ATTENDANCE,
    INTERPRETER,
    LEGAL_STATUS,
    NO_ICPC_DATE,
    NONE_RECORDED,
    NOT_RECORDED,
    RATING_SHADES,
    SEX,
    filled,
    no_break,
    short_day,
)
from bot.minutes.clocks import clocks_for_minutes, decision_rows
from bot.minutes.models import Decision
from bot.partnership.models import Agency, Person
from bot.schedules import Partnership
from bot.working_days import WorkingCalendar

FULL, SHARED = "full", "shared"  # every restricted text shown, or none (bot.documents.handling)
# A copy: FULL, SHARED, or the restricted texts it shows (the others withheld).
Copy = str | frozenset[Restricted]
COPY_WORDS = {
    FULL: "Full copy",
    SHARED: "Copy with restricted information withheld",
}
PARTLY_WITHHELD = "Copy with some restricted information withheld"


def copy_words(copy: Copy) -> str:
    """What a copy is, as the document's header and circulation list say it."""
    return COPY_WORDS[copy] if isinstance(copy, str) else PARTLY_WITHHELD


def shows(copy: Copy, handling: Restricted | None) -> bool:
    """Whether this copy shows a text in full: unrestricted text always; restricted text
    in the full copy, or in a copy for a set of texts that holds it."""
    if handling is None or copy == FULL:
        return True
    return isinstance(copy, frozenset) and handling in copy


def copy_of(recipient: Recipient, items: list[Restricted]) -> Copy:
    """The copy for this recipient: FULL when entitled to every restricted text, SHARED to
    none, else the set it is entitled to."""
    entitled = entitlement(recipient, items)
    if entitled >= frozenset(items):
        return FULL
    return entitled or SHARED


# The parts a version names when it says what changed, in the minutes' order.
MINUTES_PARTS = (
    Part(
        "Meeting details",
        (
            "kind",
            "follows",
            "date",
            "time",
            "end_time",
            "format",
            "chair",
            "minute_taker",
            "referral",
            "urgency",
            "deadline",
            "held_within",
            "late_reason",
            "out_of_hours",
            "rhrt_level",
            "concerns",
        ),
        words={
            "kind": "initial or follow-up",
            "follows": "discussion followed",
            "end_time": "end time",
            "minute_taker": "minute-taker",
            "referral": "referral date",
            "held_within": "held within the timescale",
            "late_reason": "reason for lateness",
            "rhrt_level": "Right Help Right Time level",
        },
    ),
    Part(
        "Children",
        ("children",),
        itemised="case_reference",
        item_label="child",
        words={
            "date_of_birth": "date of birth",
            "case_reference": "case reference",
            "first_language": "first language",
            "nhs_number": "NHS number",
            "legal_status": "legal status",
            "siblings": "siblings and others at risk",
            "parents": "parents and carers",
        },
    ),
    Part("Attendance", ("attendance",)),
    Part("Reason for the discussion", ("reason",)),
    Part("Action already taken", ("action_taken",)),
    Part("Information shared by agency", ("information_shared",)),
    Part("The child's voice", ("child_voice",)),
    Part("Risk indicators", ("risk_grid",)),
    Part("Risk analysis", ("risk_analysis",)),
    Part("Decisions", ("decisions",)),
    Part("Immediate safety plan", ("safety_plan",)),
    Part("Action plan", ("actions",)),
    Part(
        "Next steps",
        ("section_47", "icpc_date", "icpc", "assessment_deadline", "review_date", "next_steps"),
        words={
            "section_47": "section 47 enquiry",
            "icpc_date": "ICPC date",
            "icpc": "initial child protection conference",
            "assessment_deadline": "assessment deadline",
            "review_date": "review date",
            "next_steps": "next steps",
        },
    ),
    Part("Dissent and escalation", ("dissent",)),
    Part("Circulation", ("circulation",)),
)


def person_words(session: Session, person_id: int | None) -> str:
    """'Name, role' as the record knows the person, or '' when there is none."""
    person = session.get(Person, person_id) if person_id else None
    if person is None:
        return ""
    return f"{person.name}, {person.role_title}" if person.role_title else person.name


@dataclass(frozen=True)
class SharedUpdate:
    """One agency's submitted update with its handling, as the minutes print it."""

    summary: AgencyUpdateSummary
    kind: str
    handling: Restricted | None


def shared_updates(
    session: Session, meeting: Meeting, *, partnership: Partnership, calendar: WorkingCalendar, now: datetime
) -> list[SharedUpdate]:
    """The submitted updates of a discussion, each with its handling instruction (if any)."""
    deadline = deadline_for(meeting, partnership, calendar)
    kinds = {a.code: a.kind for a in session.exec(select(Agency))}
    found = []
    for update in overview(session, meeting, deadline=deadline, now=now):
        if update.state != "submitted":
            continue
        kind = kinds.get(update.agency_code, "other")
        handling = restricted(
            partnership,
            sharer_code=update.agency_code,
            sharer_kind=kind,
            codes=update.restrictions,
            detail=update.content.get("restriction_detail", ""),
        )
        found.append(SharedUpdate(update, kind, handling))
    return found


def recipients(session: Session, meeting: Meeting) -> list[tuple[Recipient, Attendance, Agency]]:
    """Every agency on the attendance record, as a recipient of the minutes."""
    rows = session.exec(
        select(Attendance, Agency)
        .join(Agency, col(Agency.id) == col(Attendance.agency_id))
        .where(col(Attendance.meeting_id) == meeting.id)
        .order_by(col(Attendance.id))
    ).all()
    return [
        (Recipient(agency.code, agency.kind, a.status in ("present", "written_update")), a, agency)
        for a, agency in rows
    ]


def copy_for(recipient: Recipient, updates: list[SharedUpdate]) -> Copy:
    """Which copy this recipient receives: each restricted text only if it allows them."""
    return copy_of(recipient, [u.handling for u in updates if u.handling is not None])


def _information(update: SharedUpdate, partnership: Partnership, *, copy: Copy) -> dict[str, Any]:
    summary, handling = update.summary, update.handling
    try:
        basis = partnership.agency_updates.lawful_basis(summary.lawful_basis).name
    except KeyError:
        basis = summary.lawful_basis
    sections = [
        {"label": label, "text": summary.content[field], "field": field}
        for field, label in TEXT_FIELDS.items()
        if field not in ("role", "restriction_detail") and summary.content.get(field)
    ]
    withheld = not shows(copy, handling)
    return {
        # the full content, so the withheld copy says what changed exactly as the full one does
        "fingerprint": fingerprint([summary.agency_name, summary.content, summary.authors, basis]),
        "agency": summary.agency_name,
        "author": filled(", ".join(sorted(set(summary.authors.values()))), NOT_RECORDED),
        "role": filled(summary.content.get("role"), NOT_RECORDED),
        "lawful_basis": filled(basis, NOT_RECORDED),
        "handling": handling.instruction if handling else "",
        "withheld": withheld,
        "withheld_note": withheld_note(handling, partnership, summary.agency_name)
        if withheld and handling
        else "",
        "sections": [] if withheld else (sections or [{"label": "Information", "text": NONE_RECORDED}]),
        # Several children: whom each part is about (bot.children.documents).
        "about": {k: v for k, v in summary.content.items() if k.startswith("about_")},
    }


def nhs_words(number: str) -> str:
    """An NHS number as it is read aloud and printed: 943 476 5919."""
    if len(number) == 10 and number.isdigit():
        return f"{number[:3]} {number[3:6]} {number[6:]}"
    return filled(number, NOT_RECORDED)


def _child(case: Case) -> dict[str, str]:
    return {
        "name": filled(case.child_name, NOT_RECORDED),
        "date_of_birth": case.child_date_of_birth.strftime("%d %B %Y")
        if case.child_date_of_birth
        else NOT_RECORDED,
        "case_reference": no_break(case.reference),
        "sex": SEX.get(case.sex, filled(case.sex, NOT_RECORDED)),
        "ethnicity": filled(case.ethnicity, NOT_RECORDED),
        "disability": filled(case.disability, NOT_RECORDED),
        "first_language": filled(case.first_language, NOT_RECORDED),
        "interpreter": INTERPRETER.get(case.interpreter_needed, NOT_RECORDED),
        "nhs_number": nhs_words(case.nhs_number),
        "legal_status": LEGAL_STATUS.get(case.legal_status, filled(case.legal_status, NOT_RECORDED)),
        "school": filled(case.school, NOT_RECORDED),
        "siblings": filled(case.siblings_and_others_at_risk, NONE_RECORDED),
        "parents": filled(case.parents_and_carers, NOT_RECORDED),
    }


GRID_COLUMNS = ("current", "historic", "not_known", "not_present")


def _risk_grid(updates: list[SharedUpdate], partnership: Partnership) -> dict[str, Any]:
    """One row per indicator, one column per rating, naming the agencies that gave it: a
    fixed four columns however many agencies rated, so no name is squeezed into a sliver,
    and the current and historic cells shaded so they stand out among the not present."""
    summaries = [u.summary for u in updates]
    rows: list[dict[str, Any]] = []
    codes: list[str] = []
    for indicator in partnership.agency_updates.risk_indicators:
        by_rating: dict[str, list[str]] = {code: [] for code in GRID_COLUMNS}
        for summary in summaries:
            code = rating_of(summary.risk_ratings, indicator.code)  # unrated is not known
            codes.append(code)
            by_rating.setdefault(code, []).append(summary.agency_name)
        row: dict[str, Any] = {"indicator": indicator.name}
        for code in GRID_COLUMNS:
            row[code] = _who(by_rating[code], len(summaries))
            row[f"{code}_shade"] = RATING_SHADES.get(code, "FFFFFF") if by_rating[code] else "FFFFFF"
        rows.append(row)
    counts = {code: codes.count(code) for code in ("current", "historic")}
    return {
        "agencies": [s.agency_name for s in summaries],
        "rows": rows,
        "summary": f"{counts['current']} current and {counts['historic']} historic ratings"
        if summaries
        else "No agency rated the risk indicators.",
    }


def _who(agencies: list[str], rating: int) -> str:
    """The agencies in one cell: by name, or "All 3 agencies" when every agency that rated is
    there (they are named above the grid), so a grid of mostly *not present* stays short."""
    if not agencies:
        return "None"
    if rating >= 3 and len(agencies) == rating:
        return f"All {rating} agencies"
    return ", ".join(agencies)


def _circulation(
    session: Session,
    meeting: Meeting,
    partnership: Partnership,
    updates: list[SharedUpdate],
    attended: list[tuple[Recipient, Attendance, Agency]],
) -> list[dict[str, str]]:
    """Who the minutes go to (`attended`: `recipients` of the meeting): the named person who
    took part, or else the agency's lead from the schedules (by role), and which copy each
    receives."""
    listed = []
    for recipient, attendance, agency in attended:
        name = (
            f"{attendance.name}, {attendance.role}"
            if attendance.name and attendance.role
            else attendance.name
        )
        if not name:
            try:
                lead = partnership.agency(agency.code).lead_person()
                name = (
                    f"{lead.name}, {lead.title} (agency lead)" if lead.title else f"{lead.name} (agency lead)"
                )
            except (KeyError, LookupError):
                name = "The agency's lead"
        listed.append(
            {"name": name, "agency": agency.name, "receives": copy_words(copy_for(recipient, updates))}
        )
    chair = person_words(session, meeting.chair_id)
    if chair:
        listed.insert(0, {"name": chair, "agency": "Chair", "receives": COPY_WORDS[FULL]})
    return listed


def _decisions(decisions: dict[str, Decision]) -> list[dict[str, str]]:
    """Every decision in full: an answer on every row, never a blank."""
    return [
        {
            "topic": row["topic"],
            # a decision recorded only in words (the safety plan) says so, not "Not recorded"
            "outcome": filled(row["outcome"], "As recorded in the detail" if row["reason"] else NOT_RECORDED),
            "reason": filled(row["reason"], NONE_RECORDED),
        }
        for row in decision_rows(decisions)
    ]


def minutes_context(
    session: Session,
    meeting: Meeting,
    *,
    partnership: Partnership,
    calendar: WorkingCalendar,
    version: int,
    state: str,
    now: datetime,
    approved_by: str = "",
    approved_at: str = "",
    copy: Copy = FULL,
    previous: PreviousVersion | None = None,
) -> dict[str, Any]:
    """Everything the minutes template shows, from the record. Documents carry the child's
    details; Slack never does. `copy` is FULL (the record, and those entitled to every
    restricted text), SHARED (each restricted text withheld, with a line saying so) or the
    set of restricted texts a recipient may read (the others withheld)."""
    case = session.get(Case, meeting.case_id)
    assert case is not None
    settings = partnership.settings
    decisions = {d.topic: d for d in session.exec(select(Decision).where(Decision.meeting_id == meeting.id))}
    narrative = dict(meeting.details.get("record", {}))
    updates = shared_updates(session, meeting, partnership=partnership, calendar=calendar, now=now)
    # The chair and minute-taker in one statement, held here so that `person_words` finds
    # them in the session's (weak) identity map however often it names them.
    named = {i for i in (meeting.chair_id, meeting.minute_taker_id) if i}
    people = list(session.exec(select(Person).where(col(Person.id).in_(named)))) if named else []
    attended = recipients(session, meeting)
    attendance = [
        {
            "agency": agency.name,
            "name": filled(a.name, "No one named"),
            "role": filled(a.role, NOT_RECORDED),
            "status": ATTENDANCE.get(a.status, a.status),
        }
        for _, a, agency in attended
    ]
    clocks = clocks_for_minutes(session, meeting, partnership=partnership, calendar=calendar)
    began = meeting.held_at or meeting.scheduled_start
    start = calendar.local(began) if began else None
    end = calendar.local(meeting.ended_at) if meeting.held_at and meeting.ended_at else None
    follows = session.get(Meeting, meeting.follows_meeting_id) if meeting.follows_meeting_id else None
    minute_taker = person_words(session, meeting.minute_taker_id) or person_words(session, meeting.chair_id)
    review = decisions.get("review")
    review_date = meeting.review_on
    if review_date is None and review and review.details.get("date"):
        review_date = date.fromisoformat(review.details["date"])
    dissent = decisions.get("dissent")
    safety = decisions.get("immediate_safety")
    out_of_hours = "No"
    if meeting.out_of_hours:
        out_of_hours = f"Yes: {meeting.out_of_hours_reason}" if meeting.out_of_hours_reason else "Yes"
    context: dict[str, Any] = {
        "marking": settings.protective_marking,
        "confidentiality": settings.confidentiality_statement,
        "partnership": settings.name,
        "reference": no_break(meeting.reference),
        "kind": "Follow-up" if follows else "Initial",
        "follows": no_break(follows.reference) if follows else "",
        "date": start.strftime("%A %d %B %Y") if start else NOT_RECORDED,
        "time": start.strftime("%H:%M") if start else NOT_RECORDED,
        "end_time": end.strftime("%H:%M") if end else NOT_RECORDED,
        "format": FORMATS.get(meeting.format, meeting.format),
        "chair": filled(person_words(session, meeting.chair_id), NOT_RECORDED),
        "minute_taker": filled(minute_taker, NOT_RECORDED),
        "referral": filled(clocks["referral"], NOT_RECORDED),
        "urgency": filled(clocks["urgency"], NOT_RECORDED),
        "deadline": filled(clocks["deadline"], NOT_RECORDED),
        "held_within": filled(clocks["held_within_deadline"], "Not yet held"),
        "late_reason": filled(meeting.late_reason, ""),
        "out_of_hours": out_of_hours,
        "rhrt_level": RIGHT_HELP_RIGHT_TIME.get(meeting.right_help_right_time_level, NOT_RECORDED),
        "concerns": ", ".join(CONCERNS.get(c, c) for c in meeting.concerns) or NONE_RECORDED,
        "children": [_child(case)],
        "attendance": attendance,
        "reason": filled(meeting.reason),
        "action_taken": filled(narrative.get("action_taken")),
        "information_shared": [_information(u, partnership, copy=copy) for u in updates],
        "child_voice": filled(narrative.get("child_voice")),
        "risk_grid": _risk_grid(updates, partnership),
        "risk_analysis": {
            key: filled(narrative.get(key))
            for key in ("harm", "likelihood", "protective_factors", "extra_familial")
        },
        "decisions": _decisions(decisions),
        "safety_plan": filled(safety.reason if safety else ""),
        "actions": [
            {
                "reference": no_break(a.reference),
                "text": a.text,
                "owner": a.owner,
                "agency": a.agency,
                "due": short_day(a.due),
                "priority": PRIORITIES.get(a.priority, a.priority),
                "concerns": no_break(filled(a.concerns, NOT_RECORDED)),  # references, never split
                "status": a.status,
            }
            # the plan as agreed: no updates or chases are shown, so none are read
            for a in actions_of(session, meeting_id=meeting.id, history=False)
        ],
        "icpc_date": filled(clocks["icpc_target"], NO_ICPC_DATE),
        "icpc": filled(clocks["icpc"], "No initial child protection conference is due"),
        "section_47": (
            f"Started {clocks['section_47_started']}"
            + (
                ""
                if clocks["section_47_started_here"]
                else f" at {no_break(clocks['section_47_started_by'])}"
            )
            if clocks["section_47_started"]
            else "No section 47 enquiry"
        ),
        "assessment_deadline": filled(clocks["assessment_deadline"], NOT_RECORDED),
        "review_date": review_date.strftime("%A %d %B %Y") if review_date else "No review date set",
        "next_steps": filled(narrative.get("next_steps")),
        "dissent": filled(dissent.reason if dissent else "", "No dissent was recorded."),
        "circulation": _circulation(session, meeting, partnership, updates, attended),
        "copy": copy_words(copy),
        "changes": "",
        "version": version,
        "state": state,
        "generated_at": calendar.local(now).strftime("%d %B %Y %H:%M"),
        "approved_by": approved_by,
        "approved_at": approved_at,
    }
    context["changes"] = changes_since(context, previous, MINUTES_PARTS, calendar)
    del people
    return context
