"""Recording a strategy discussion as it happened, in two steps that fit Slack's forms.

1. *When and who*: when it actually began and ended (a discussion held by phone at night is
   recorded with its real time), why it was out of hours if it was, who actually took part
   (not who said they would), and, if a core agency was missing, why and the chair's
   decision to go ahead.
2. *What was decided*: the threshold, the discussion and risk analysis, and every decision,
   each answered explicitly and checked against the others and against step 1.

Step 1 travels to step 2 in the form's private metadata (its free text is short, so it
fits Slack's 3,000 characters), and nothing is stored until step 2 is right. Storing the
record puts it on the case's timeline: the actual times, the section 47 enquiry it starts
or continues, and the review date to chase.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from bot.audit.service import Actor, record
from bot.cases.models import Case
from bot.cases.reviews import set_review
from bot.cases.service import NAME_IN_SLACK_TEXT, mentions_child
from bot.cases.timeline import enquiry_under_way
from bot.children.service import children_of
from bot.convening.hours import EMERGENCY_DUTY_CONVENOR, out_of_hours_because
from bot.convening.models import AttendanceStatus, Invitation, Meeting, MeetingState
from bot.convening.service import apply_section_47
from bot.convening.vocabulary import RIGHT_HELP_RIGHT_TIME
from bot.minutes.decisions import (
    CHILD_TOPICS,
    SHARED_TOPICS,
    TOPICS,
    Answer,
    Circumstances,
    decision_problems,
)
from bot.minutes.models import Decision
from bot.minutes.quorum import AgencyFacts, Quorum, assess, quorum_problems
from bot.minutes.service import RecordingRefused, may_record, store_attendance
from bot.partnership.models import Agency
from bot.partnership.service import Member
from bot.schedules import Partnership
from bot.working_days import StatutoryCalendar, WorkingCalendar

OUT_OF_HOURS_REASON_LIMIT = 300  # step 1's free text is carried in the form's metadata
QUORUM_REASON_LIMIT = 700
LONGEST_DISCUSSION = timedelta(hours=12)
NARRATIVE = (
    "child_voice",
    "harm",
    "likelihood",
    "protective_factors",
    "extra_familial",
    "action_taken",
    "next_steps",
)
_STATUS_CODES = {
    AttendanceStatus.PRESENT: "p",
    AttendanceStatus.APOLOGIES: "a",
    AttendanceStatus.WRITTEN_UPDATE: "w",
    AttendanceStatus.DID_NOT_RESPOND: "d",
}
_STATUS_FROM_CODE = {code: str(status) for status, code in _STATUS_CODES.items()}


@dataclass(frozen=True)
class WhenAndWho:
    """Step 1: the actual times, why out of hours, attendance, and the quorum decision."""

    actual_start: datetime | None
    actual_end: datetime | None
    out_of_hours_reason: str
    attendance: dict[str, str]  # agency code -> AttendanceStatus
    quorum_reason: str = ""
    chair_proceeds: bool = False

    def to_metadata(self, meeting_id: int) -> str:
        """Compact JSON for the next step's private metadata (unicode kept as it is, so
        the length Slack counts is the length written)."""
        carried = {
            "meeting_id": meeting_id,
            "step": 2,
            "s": int(self.actual_start.timestamp()) if self.actual_start else None,
            "e": int(self.actual_end.timestamp()) if self.actual_end else None,
            "o": self.out_of_hours_reason,
            "a": {code: _STATUS_CODES.get(AttendanceStatus(s), "d") for code, s in self.attendance.items()},
            "q": self.quorum_reason,
            "p": self.chair_proceeds,
        }
        return json.dumps(carried, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_metadata(cls, carried: dict[str, Any]) -> WhenAndWho:
        """Read step 1 back; anything malformed reads as missing, and is checked again."""

        def moment(value: Any) -> datetime | None:
            return datetime.fromtimestamp(value, UTC) if isinstance(value, int) else None

        given = carried.get("a")
        attendance: dict[Any, Any] = given if isinstance(given, dict) else {}
        return cls(
            actual_start=moment(carried.get("s")),
            actual_end=moment(carried.get("e")),
            out_of_hours_reason=str(carried.get("o") or ""),
            attendance={str(k): _STATUS_FROM_CODE.get(str(v), "") for k, v in attendance.items()},
            quorum_reason=str(carried.get("q") or ""),
            chair_proceeds=carried.get("p") is True,
        )


@dataclass(frozen=True)
class WhatWasDecided:
    """Step 2: the threshold agreed, the discussion, and every decision. For several
    children, `decisions` holds the shared ones and `per_child` each child's (by case id),
    taken a step per child."""

    threshold_level: str
    narrative: dict[str, str]
    decisions: dict[str, Answer]
    review_date: date | None
    per_child: dict[int, dict[str, Answer]] = field(default_factory=dict)

    def to_draft(self) -> dict[str, Any]:
        """As JSON for the record's draft (kept while the steps per child are taken)."""

        def answers(given: dict[str, Answer]) -> dict[str, Any]:
            return {
                k: [a.outcome, a.detail, a.decide_by.isoformat() if a.decide_by else None]
                for k, a in given.items()
            }

        return {
            "threshold_level": self.threshold_level,
            "narrative": self.narrative,
            "decisions": answers(self.decisions),
            "review_date": self.review_date.isoformat() if self.review_date else None,
            "per_child": {str(k): answers(v) for k, v in self.per_child.items()},
        }

    @classmethod
    def from_draft(cls, draft: dict[str, Any]) -> WhatWasDecided:
        def answers(given: Any) -> dict[str, Answer]:
            if not isinstance(given, dict):
                return {}
            return {
                str(k): Answer(str(v[0] or ""), str(v[1] or ""), date.fromisoformat(v[2]) if v[2] else None)
                for k, v in given.items()
                if isinstance(v, list) and len(v) == 3
            }

        review = draft.get("review_date")
        given = draft.get("per_child")
        per_child: dict[Any, Any] = given if isinstance(given, dict) else {}
        return cls(
            threshold_level=str(draft.get("threshold_level") or ""),
            narrative={str(k): str(v) for k, v in dict(draft.get("narrative") or {}).items()},
            decisions=answers(draft.get("decisions")),
            review_date=date.fromisoformat(review) if isinstance(review, str) else None,
            per_child={int(k): answers(v) for k, v in per_child.items() if str(k).isdigit()},
        )


@dataclass(frozen=True)
class ChildFacts:
    """One child of a discussion of several, as the step for their decisions needs them."""

    case_id: int
    reference: str
    episode_id: int | None
    enquiry_under_way_from: str  # an earlier discussion that started their enquiries, or ""


@dataclass(frozen=True)
class RecordingFacts:
    """What the form and its checks need from the record, read once."""

    agencies: list[AgencyFacts]  # the invited agencies, in invitation order
    core: tuple[str, ...]
    enquiry_under_way_from: str  # an earlier discussion that started enquiries, or ""
    child_name: str = field(repr=False, default="")
    # With several children: each child, in order (empty for one child).
    children: tuple[ChildFacts, ...] = ()
    child_names: tuple[str, ...] = field(repr=False, default=())

    def names_a_child(self, text: str) -> bool:
        return any(mentions_child(text, name) for name in (self.child_name, *self.child_names) if name)


def recording_facts(session: Session, meeting: Meeting, partnership: Partnership) -> RecordingFacts:
    """The invited agencies, the core ones, and any enquiry already under way."""
    agencies = [
        AgencyFacts(a.code, a.name, a.kind)
        for a in session.exec(
            select(Agency)
            .join(Invitation, col(Invitation.agency_id) == col(Agency.id))
            .where(col(Invitation.meeting_id) == meeting.id)
            .order_by(col(Invitation.id))
        )
    ]
    try:
        core = partnership.meeting_type(meeting.meeting_type).core_agencies
    except KeyError:
        core = ()
    under_way = enquiry_under_way(session, meeting.episode_id)
    earlier = ""
    if under_way is not None and under_way.started_by_meeting_id != meeting.id:
        starter = session.get(Meeting, under_way.started_by_meeting_id)
        earlier = starter.reference if starter else ""
    case = session.get(Case, meeting.case_id) if meeting.case_id else None
    children = children_of(session, meeting)
    several = tuple(
        ChildFacts(
            c.case.id or 0,
            c.reference,
            c.link.episode_id,
            _started_elsewhere(session, meeting, c.link.episode_id),
        )
        for c in children
    )
    return RecordingFacts(
        agencies,
        core,
        earlier,
        case.child_name if case else "",
        children=several if len(several) > 1 else (),
        child_names=tuple(c.case.child_name for c in children if c.case.child_name),
    )


def _started_elsewhere(session: Session, meeting: Meeting, episode_id: int | None) -> str:
    """The earlier discussion that started the enquiry under way in this episode, or ""."""
    under_way = enquiry_under_way(session, episode_id)
    if under_way is None or under_way.started_by_meeting_id == meeting.id:
        return ""
    starter = session.get(Meeting, under_way.started_by_meeting_id)
    return starter.reference if starter else ""


def may_record_discussion(meeting: Meeting, member: Member | None) -> bool:
    """The chair or a minute-taker, and an emergency duty convenor for the out-of-hours
    discussion they convened."""
    if may_record(meeting, member):
        return True
    return (
        member is not None
        and member.has_role(EMERGENCY_DUTY_CONVENOR)
        and member.person_id == meeting.convenor_id
        and meeting.out_of_hours
    )


def when_and_who_problems(
    step: WhenAndWho, *, meeting: Meeting, facts: RecordingFacts, calendar: WorkingCalendar, now: datetime
) -> dict[str, str]:
    """Step 1's problems, keyed by its inputs."""
    errors: dict[str, str] = {}
    start, end = step.actual_start, step.actual_end
    if start is None:
        errors["actual_start"] = "Give the time the discussion began."
    elif start > now:
        errors["actual_start"] = "That is in the future: record the discussion once it has happened."
    elif meeting.referred_at is not None and start < meeting.referred_at:
        errors["actual_start"] = "The discussion cannot have begun before the referral."
    if end is None:
        errors["actual_end"] = "Give the time the discussion ended."
    elif start is not None and "actual_start" not in errors:
        if end <= start:
            errors["actual_end"] = "It must end after it began."
        elif end > now:
            errors["actual_end"] = "That is in the future: record the discussion once it has ended."
        elif end - start > LONGEST_DISCUSSION:
            errors["actual_end"] = "That is over 12 hours: check the times."
    reason = step.out_of_hours_reason
    if len(reason) > OUT_OF_HOURS_REASON_LIMIT:
        errors["out_of_hours_reason"] = f"Keep it under {OUT_OF_HOURS_REASON_LIMIT} characters."
    elif start is not None and end is not None and not errors:
        why = out_of_hours_because(calendar, start, end)
        if why and not reason.strip():
            errors["out_of_hours_reason"] = f"It was held out of hours ({why}): say why it could not wait."
    if reason and facts.names_a_child(reason):
        errors["out_of_hours_reason"] = NAME_IN_SLACK_TEXT
    codes = [a.code for a in facts.agencies]
    for code in codes:
        if step.attendance.get(code) not in {str(s) for s in AttendanceStatus}:
            errors[f"attendance:{code}"] = "Choose present, apologies, written update or did not respond."
    if len(step.quorum_reason) > QUORUM_REASON_LIMIT:
        errors["quorum_reason"] = f"Keep it under {QUORUM_REASON_LIMIT} characters."
    elif not any(k.startswith("attendance:") for k in errors):
        errors.update(quorum_problems(quorum_of(step, facts), step.quorum_reason, step.chair_proceeds))
    if step.quorum_reason and facts.names_a_child(step.quorum_reason):
        errors["quorum_reason"] = NAME_IN_SLACK_TEXT
    return errors


def quorum_of(step: WhenAndWho, facts: RecordingFacts) -> Quorum:
    return assess(step.attendance, facts.agencies, facts.core)


def child_decision_problems(
    step: WhatWasDecided, who: WhenAndWho, child: ChildFacts, *, facts: RecordingFacts, today: date
) -> dict[str, str]:
    """One child's step: their section 47 decision, enquiry and ICPC, checked against each
    other, the threshold agreed and who took part."""
    circumstances = Circumstances(
        today=today,
        threshold_level=step.threshold_level,
        police_present=quorum_of(who, facts).police_present,
        enquiry_under_way_from=child.enquiry_under_way_from,
    )
    return decision_problems(step.per_child.get(child.case_id, {}), circumstances, CHILD_TOPICS)


def what_was_decided_problems(
    step: WhatWasDecided, who: WhenAndWho, *, facts: RecordingFacts, today: date, complete: bool = True
) -> dict[str, str]:
    """Step 2's problems, keyed by its inputs, with the checks that look back at step 1.
    With several children, the shared decisions here and (when `complete`) each child's."""
    errors: dict[str, str] = {}
    if step.threshold_level not in RIGHT_HELP_RIGHT_TIME:
        errors["threshold_level"] = "Choose the Right Help Right Time level the discussion agreed."
    for key, value in step.narrative.items():
        if len(value) > 3000:
            errors[key] = "Keep it under 3,000 characters."
    circumstances = Circumstances(
        today=today,
        threshold_level=step.threshold_level,
        police_present=quorum_of(who, facts).police_present,
        enquiry_under_way_from=facts.enquiry_under_way_from,
    )
    if facts.children:
        errors.update(decision_problems(step.decisions, circumstances, SHARED_TOPICS))
        for child in facts.children if complete else ():
            problems = child_decision_problems(step, who, child, facts=facts, today=today)
            if problems:
                errors.setdefault("threshold_level", f"{child.reference}: {next(iter(problems.values()))}")
    else:
        errors.update(decision_problems(step.decisions, circumstances))
    if step.review_date is None:
        errors["review_date"] = "Set the review or next discussion date."
    elif step.review_date < today:
        errors["review_date"] = "That date has passed."
    return errors


def check_may_record_discussion(meeting: Meeting, member: Member | None, now: datetime) -> None:
    """Refuse with the reason: not the chair or a minute-taker, cancelled, or not begun."""
    if not may_record_discussion(meeting, member):
        raise RecordingRefused("Only the chair or a minute-taker can record a strategy discussion.")
    if meeting.state == MeetingState.CANCELLED:
        raise RecordingRefused(f"{meeting.reference} was cancelled.")
    if meeting.scheduled_start is None or now < meeting.scheduled_start:
        raise RecordingRefused(f"{meeting.reference} has not happened yet: record it once it has started.")


def save_record(
    session: Session,
    meeting: Meeting,
    who: WhenAndWho,
    what: WhatWasDecided,
    *,
    member: Member,
    actor: Actor,
    partnership: Partnership,
    calendar: WorkingCalendar,
    statutory: StatutoryCalendar,
    now: datetime,
    key: str = "",
) -> bool:
    """Store the record (both steps, already checked): attendance, the actual times and
    whether out of hours, the quorum decision, every decision, the narrative; the
    discussion is then held, its section 47 decision goes on the case's timeline and its
    review date is chased. Returns False (storing nothing) for a form already recorded."""
    locked = session.get(Meeting, meeting.id, with_for_update=True, populate_existing=True)
    assert locked is not None
    meeting = locked
    check_may_record_discussion(meeting, member, now)
    if key and key in meeting.details.get("recorded_forms", []):
        return False
    facts = recording_facts(session, meeting, partnership)
    problems = {
        **when_and_who_problems(who, meeting=meeting, facts=facts, calendar=calendar, now=now),
        **what_was_decided_problems(what, who, facts=facts, today=calendar.local(now).date()),
    }
    if problems:
        raise RecordingRefused(next(iter(problems.values())))
    assert who.actual_start is not None and who.actual_end is not None
    store_attendance(session, meeting, who.attendance, now)
    why = out_of_hours_because(calendar, who.actual_start, who.actual_end)
    meeting.held_at, meeting.ended_at = who.actual_start, who.actual_end
    meeting.out_of_hours = why is not None
    meeting.out_of_hours_reason = who.out_of_hours_reason.strip() if why else ""
    meeting.right_help_right_time_level = what.threshold_level
    meeting.state = MeetingState.HELD
    quorum = quorum_of(who, facts)
    outcomes: dict[str, str] = {}
    for child in facts.children or (None,):
        given = what.per_child.get(child.case_id, {}) if child else what.decisions
        section_47 = given.get("section_47", Answer())
        outcome = apply_section_47(
            session,
            meeting,
            start_enquiries=section_47.outcome in ("start", "continue"),
            actor=actor,
            partnership=partnership,
            statutory=statutory,
            now=now,
            episode_id=child.episode_id if child else None,
        )
        outcomes[child.reference if child else ""] = outcome
        for topic in CHILD_TOPICS if child else TOPICS:
            answer = given.get(topic.code, Answer())
            _decide(
                session,
                meeting,
                topic.code,
                outcome if topic.code == "section_47" else answer.outcome,
                answer.detail,
                {"by": answer.decide_by.isoformat()} if answer.decide_by else {},
                member,
                now,
                case_id=child.case_id if child else None,
            )
    if facts.children:
        for topic in SHARED_TOPICS:
            answer = what.decisions.get(topic.code, Answer())
            _decide(
                session,
                meeting,
                topic.code,
                answer.outcome,
                answer.detail,
                {"by": answer.decide_by.isoformat()} if answer.decide_by else {},
                member,
                now,
            )
    outcome = outcomes.get("") or ", ".join(f"{ref}: {o}" for ref, o in outcomes.items())
    per_child = {ref: o for ref, o in outcomes.items() if ref}
    _decide(
        session,
        meeting,
        "review",
        "",
        "",
        {"date": what.review_date.isoformat()} if what.review_date else {},
        member,
        now,
    )
    _decide(
        session,
        meeting,
        "quorum",
        "complete" if quorum.complete else "proceed",
        "" if quorum.complete else who.quorum_reason,
        {
            "missing": list(quorum.missing),
            "written_update_only": list(quorum.written_update_only),
            "health_written_only": quorum.health_written_only,
        },
        member,
        now,
    )
    set_review(session, meeting, what.review_date, calendar=calendar)
    meeting.details = {
        **meeting.details,
        "record": {k: v.strip() for k, v in what.narrative.items()},
        "recorded_forms": [*meeting.details.get("recorded_forms", []), key][-20:],
    }
    meeting.details.pop("record_draft", None)
    if meeting.minute_taker_id is None and member.person_id != meeting.chair_id:
        meeting.minute_taker_id = member.person_id
    session.add(meeting)
    case = session.get(Case, meeting.case_id) if meeting.case_id else None
    record(
        session,
        at=now,
        actor=actor,
        act="discussion.recorded",
        record_type="meeting",
        record_id=meeting.reference,
        case_reference=case.reference if case else "",
        details={
            "decisions": sorted(topic.code for topic in TOPICS),
            # Several children: each child's outcome is in their own entry, below, so one
            # child's audit trail never carries another's decisions.
            "section_47": "per child" if per_child else outcome,
            "actual_start": who.actual_start.isoformat(),
            "actual_end": who.actual_end.isoformat(),
            "out_of_hours": meeting.out_of_hours,
            "quorum_missing": list(quorum.missing),
            "health_written_only": quorum.health_written_only,
            "review_on": what.review_date.isoformat() if what.review_date else None,
        },
    )
    for reference, child_outcome in per_child.items():
        record(
            session,
            at=now,
            actor=actor,
            act="discussion.child_recorded",
            record_type="meeting",
            record_id=meeting.reference,
            case_reference=reference,
            details={"section_47": child_outcome},
        )
    session.flush()
    return True


def _decide(
    session: Session,
    meeting: Meeting,
    topic: str,
    outcome: str,
    reason: str,
    details: dict[str, Any],
    member: Member,
    now: datetime,
    case_id: int | None = None,
) -> None:
    """One decision, the discussion's (no case) or one child's."""
    decision = session.exec(
        select(Decision).where(
            col(Decision.meeting_id) == meeting.id,
            col(Decision.topic) == topic,
            col(Decision.case_id) == case_id if case_id else col(Decision.case_id).is_(None),
        )
    ).first() or Decision(meeting_id=meeting.id or 0, topic=topic, case_id=case_id)
    decision.outcome, decision.reason, decision.details = outcome, reason.strip(), details
    decision.recorded_by_id, decision.recorded_at = member.person_id, now
    session.add(decision)


# ------------------------------------------------------------------ the shared draft

DRAFT = "record_draft"  # the record so far, on the discussion, until it is stored
VERSION = "record_version"  # how many times the record (draft or stored) was saved; never reset
SAVED = "record_saved"  # who saved it last, when, and from which form


class DraftOutOfDate(Exception):
    """Someone saved the record after this form was opened: saving it would overwrite
    their version. Says who and when, for the person to re-open the record."""

    def __init__(self, by: str, at: datetime, version: int) -> None:
        super().__init__(f"{by} saved version {version}")
        self.by, self.at, self.version = by, at, version


def record_version(meeting: Meeting) -> int:
    """The version a form opened now works from (0 before anything was saved)."""
    value = (meeting.details or {}).get(VERSION)
    return value if isinstance(value, int) else 0


def draft_of(meeting: Meeting) -> dict[str, Any]:
    """The draft two people recording at once share (empty when there is none)."""
    draft = (meeting.details or {}).get(DRAFT)
    return draft if isinstance(draft, dict) else {}


def claim_version(
    session: Session, meeting_id: int, *, expected: int, form: str, by: str, now: datetime
) -> tuple[Meeting, int | None]:
    """Optimistic concurrency on the record: lock the discussion and check that nobody saved
    since the form was opened (version `expected`); the caller then writes and the version
    moves on. Returns the locked discussion and the new version, or None when this very
    form was saved already (Slack retried it). Raises DraftOutOfDate otherwise."""
    meeting = session.get(Meeting, meeting_id, with_for_update=True, populate_existing=True)
    if meeting is None:
        raise RecordingRefused("That discussion no longer exists.")
    current = record_version(meeting)
    saved = (meeting.details or {}).get(SAVED)
    saved = saved if isinstance(saved, dict) else {}
    if current == expected + 1 and saved.get("form") == form:
        return meeting, None
    if current != expected:
        at = saved.get("at")
        raise DraftOutOfDate(
            str(saved.get("by") or "Someone"), datetime.fromisoformat(at) if at else now, current
        )
    meeting.details = {
        **meeting.details,
        VERSION: current + 1,
        SAVED: {"by": by, "at": now.isoformat(), "form": form},
    }
    return meeting, current + 1


def save_draft(
    session: Session,
    meeting_id: int,
    *,
    expected: int,
    form: str,
    by: str,
    now: datetime,
    who: WhenAndWho,
    what: WhatWasDecided | None = None,
    key: str = "",
) -> int:
    """Save the record so far as the shared draft, if nobody saved since this form was
    opened. Returns the draft's version now."""
    meeting, version = claim_version(session, meeting_id, expected=expected, form=form, by=by, now=now)
    if version is None:
        return expected + 1
    draft = draft_of(meeting)
    draft = {**draft, "who": json.loads(who.to_metadata(meeting.id or 0))}
    if what is not None:
        draft["what"] = what.to_draft()
    if key:
        draft["key"] = key
    meeting.details = {**meeting.details, DRAFT: draft}
    session.add(meeting)
    return version
