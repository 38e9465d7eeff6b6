"""What the minutes say about the case's clocks, the quorum and the decisions, as text
ready for the template. The dates come from the case's timeline (`bot.cases.timeline`),
where they were counted on the statutory calendar and stored; this only words them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from bot.cases.models import IcpcState
from bot.cases.timeline import ASSESSMENT_OUTCOMES, SUBSTANTIATION, discussion_clocks
from bot.convening.models import Meeting
from bot.convening.vocabulary import URGENCY_NAMES
from bot.minutes.decisions import TOPICS, Answer, answer_words
from bot.minutes.models import Decision
from bot.schedules import Partnership
from bot.working_days import WorkingCalendar


def _day(value: date | None) -> str:
    return value.strftime("%A %d %B %Y") if value else ""


def clocks_for_minutes(
    session: Session, meeting: Meeting, *, partnership: Partnership, calendar: WorkingCalendar
) -> dict[str, Any]:
    """The minutes' account of the clocks: the referral and when the discussion had to be
    held by, when it actually ran (and why out of hours), the section 47 enquiry with its
    ICPC target (anchored to the discussion that started it), the assessment, and closure.
    Empty strings where nothing is recorded; never the child's details."""
    clocks = discussion_clocks(session, meeting)

    def moment(value: datetime | None) -> str:
        return calendar.local(value).strftime("%A %d %B %Y %H:%M") if value else ""

    def clock(value: datetime | None) -> str:
        return calendar.local(value).strftime("%H:%M") if value else ""

    if clocks.icpc_state == IcpcState.HELD:
        icpc = f"Held on {_day(clocks.icpc_held_on)}"
    elif clocks.icpc_state == IcpcState.NOT_REQUIRED:
        icpc = f"Not required: {clocks.icpc_not_required_reason}"
    elif clocks.icpc_due_on:
        icpc = f"To be held by {_day(clocks.icpc_due_on)}"
    else:
        icpc = ""
    outcome = ""
    if clocks.assessment_outcome:
        outcome = (
            f"{SUBSTANTIATION.get(clocks.concerns_substantiated, '')}; "
            f"{ASSESSMENT_OUTCOMES.get(clocks.assessment_outcome, clocks.assessment_outcome)} "
            f"({_day(clocks.assessment_completed_on)})"
        )
    closure = ""
    if clocks.closed_at:
        try:
            closure = partnership.cases.closure_outcome(clocks.closure_outcome).name
        except KeyError:
            closure = clocks.closure_outcome
        closure = f"Closed {moment(clocks.closed_at)}: {closure}. {clocks.closure_reason}".strip()
    return {
        "referral": moment(clocks.referred_at),
        "case_referral": moment(clocks.episode_referred_at),
        "urgency": URGENCY_NAMES.get(clocks.urgency, clocks.urgency),
        "deadline": moment(clocks.deadline),
        "held_within_deadline": ""
        if clocks.held_within_deadline is None
        else ("Yes" if clocks.held_within_deadline else "No"),
        "actual_date": _day(calendar.local(clocks.actual_start).date()) if clocks.actual_start else "",
        "actual_start": clock(clocks.actual_start),
        "actual_end": clock(clocks.actual_end),
        "out_of_hours": "Yes" if clocks.out_of_hours else "No",
        "out_of_hours_reason": clocks.out_of_hours_reason,
        "section_47_started": _day(clocks.section_47_started_on),
        "section_47_started_by": clocks.section_47_started_by,
        "section_47_started_here": clocks.section_47_started_here,
        "icpc_target": _day(clocks.icpc_due_on),
        "icpc": icpc,
        "icpc_not_required_reason": clocks.icpc_not_required_reason,
        "assessment_deadline": _day(clocks.assessment_due_on),
        "assessment_outcome": outcome,
        "closure": closure,
    }


def decision_rows(decisions: dict[str, Decision]) -> list[dict[str, str]]:
    """Every decision of DESIGN.md §3 in order, each with its explicit answer (`Yes`, `Not
    yet decided (to be decided by …)`) and its detail; then the quorum if a core agency was
    missing. A decision not recorded at all is shown as such, never left out."""
    rows: list[dict[str, str]] = []
    for topic in TOPICS:
        found = decisions.get(topic.code)
        if found is None:
            rows.append({"topic": topic.label, "outcome": "Not recorded", "reason": ""})
            continue
        by = found.details.get("by") if isinstance(found.details, dict) else None
        answer = Answer(found.outcome, found.reason, date.fromisoformat(by) if by else None)
        rows.append(
            {
                "topic": topic.label,
                "outcome": answer_words(topic.code, answer) if found.outcome else "",
                "reason": found.reason,
            }
        )
    quorum = decisions.get("quorum")
    if quorum is not None and isinstance(quorum.details, dict):
        missing = " and ".join(quorum.details.get("missing") or [])
        text = f"{missing} did not take part." if missing else "Every core agency took part."
        if quorum.details.get("health_written_only"):
            text += " Health took part by written update only."
        rows.append(
            {
                "topic": "Quorum",
                "outcome": "The chair decided to go ahead" if quorum.outcome == "proceed" else "Complete",
                "reason": f"{text} {quorum.reason}".strip(),
            }
        )
    return rows
