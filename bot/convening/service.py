"""Convening strategy discussions: validate a request, store it, record answers, reschedule
and cancel. Plain Python over the database; Slack is reached only through the outbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from bot.audit.service import Actor, record
from bot.cases.models import Case
from bot.cases.service import NAME_IN_SLACK_TEXT, case_reference_problem, mentions_child
from bot.convening.calendar_invite import uid_for
from bot.convening.models import (
    Invitation,
    InvitationMessage,
    InvitationState,
    Meeting,
    MeetingState,
)
from bot.convening.vocabulary import CONCERNS, EXPLOITATION_CONCERNS, FORMATS, RIGHT_HELP_RIGHT_TIME
from bot.minutes.models import Decision
from bot.partnership.models import Agency, Person
from bot.partnership.service import Member
from bot.references import next_reference
from bot.schedules import Partnership
from bot.working_days import WorkingCalendar

STRATEGY_DISCUSSION = "strategy_discussion"
OPEN_STATES = (MeetingState.CONVENING, MeetingState.SCHEDULED)
CANNOT_ATTEND = (InvitationState.DECLINED, InvitationState.WRITTEN_UPDATE)
REASON_LIMIT = 3000


class ConveningRefused(Exception):
    """The person may not do this, or the discussion no longer allows it; the message says why."""


@dataclass(frozen=True)
class ConveneRequest:
    """What the convenor typed into the `/strategy new` form."""

    convenor: Member
    submission_key: str
    case_reference: str
    child_name: str
    child_date_of_birth: date | None
    reason: str
    concerns: tuple[str, ...]
    right_help_right_time_level: str
    urgency: str
    start: datetime | None
    late_reason: str
    format: str
    chair_slack_id: str | None
    extra_agencies: tuple[str, ...] = ()
    extra_people_slack_ids: tuple[str, ...] = ()
    follows_reference: str = ""
    meeting_type: str = STRATEGY_DISCUSSION
    team_id: str = ""


@dataclass
class Timescales:
    """The deadline for a discussion and the slot offered by default."""

    deadline: datetime
    proposed_start: datetime


def timescales(
    partnership: Partnership,
    calendar: WorkingCalendar,
    *,
    urgency: str,
    referred_at: datetime,
    meeting_type: str = STRATEGY_DISCUSSION,
) -> Timescales:
    """The urgency's deadline (end of the Nth working day) and the first slot before it."""
    kind = partnership.meeting_type(meeting_type)
    deadline = deadline_for(
        partnership, calendar, urgency=urgency, referred_at=referred_at, meeting_type=meeting_type
    )
    notice = timedelta(minutes=partnership.settings.minimum_notice_minutes)
    slot = calendar.earliest_slot(referred_at + notice, minutes=kind.default_duration_minutes)
    return Timescales(deadline=deadline, proposed_start=slot)


def deadline_for(
    partnership: Partnership,
    calendar: WorkingCalendar,
    *,
    urgency: str,
    referred_at: datetime,
    meeting_type: str = STRATEGY_DISCUSSION,
) -> datetime:
    """The urgency's deadline alone (end of the Nth working day): what a submission is
    checked against before its acknowledgement, without searching for a free slot."""
    level = partnership.meeting_type(meeting_type).urgencies.get(urgency)
    if level is None:
        raise ValueError(f"{meeting_type} has no urgency {urgency!r}")
    return calendar.end_of_working_day_after(referred_at, level.within_working_days)


def _chair(session: Session, partnership: Partnership, slack_id: str | None) -> Person | None:
    if not slack_id:
        return None
    configured = partnership.person_by_slack_id(slack_id)
    if configured is None or "chair" not in partnership.roles_of(configured):
        return None
    return session.exec(select(Person).where(Person.slack_user_id == slack_id)).first()


def validate(
    session: Session,
    request: ConveneRequest,
    *,
    partnership: Partnership,
    calendar: WorkingCalendar,
    now: datetime,
) -> dict[str, str]:
    """Every problem with the form, keyed by the field it belongs to; empty when fine."""
    errors: dict[str, str] = {}
    settings = partnership.settings
    reference = settings.normalise_case_reference(request.case_reference)
    problem = case_reference_problem(partnership, reference)
    if problem:
        errors["case_reference"] = problem
    if not request.child_name.strip():
        errors["child_name"] = "Give the child's name. It is stored, never shown in Slack."
    if request.child_date_of_birth is not None and request.child_date_of_birth > calendar.local(now).date():
        errors["child_date_of_birth"] = "The date of birth is in the future."
    if not request.reason.strip():
        errors["reason"] = "Say why the discussion is needed."
    elif len(request.reason) > REASON_LIMIT:
        errors["reason"] = f"Keep the reason under {REASON_LIMIT} characters."
    unknown = set(request.concerns) - set(CONCERNS)
    if unknown:
        errors["concerns"] = "Choose the concerns from the list."
    if request.right_help_right_time_level not in RIGHT_HELP_RIGHT_TIME:
        errors["right_help_right_time_level"] = "Choose the Right Help Right Time level."
    if request.format not in FORMATS:
        errors["format"] = "Choose how the discussion will be held."
    kind = partnership.meeting_type(request.meeting_type)
    if kind.urgencies.get(request.urgency) is None:
        errors["urgency"] = "Choose an urgency from the list."
    if request.chair_slack_id is None:
        errors["chair"] = "Choose who will chair."
    elif _chair(session, partnership, request.chair_slack_id) is None:
        errors["chair"] = "That person is not a chair in the partnership's schedules."
    if request.start is None:
        errors["start"] = "Choose the date and time of the discussion."
    elif "urgency" not in errors:
        start = request.start
        deadline = deadline_for(partnership, calendar, urgency=request.urgency, referred_at=now)
        end = start + timedelta(minutes=kind.default_duration_minutes)
        if start < now:
            errors["start"] = "That time has passed. Choose a time from now on."
        elif not calendar.is_working_day(calendar.local(start).date()):
            holiday = calendar.bank_holiday_name(calendar.local(start).date())
            why = f"a bank holiday ({holiday})" if holiday else "not a working day"
            errors["start"] = f"That day is {why}. Choose a working day."
        elif not calendar.is_working_time(start) or end > calendar.end_of_day(calendar.local(start).date()):
            hours = partnership.working_hours
            errors["start"] = f"Choose a time within working hours, {hours.start:%H:%M} to {hours.end:%H:%M}."
        elif start > deadline and not request.late_reason.strip():
            local_deadline = calendar.local(deadline)
            errors["late_reason"] = (
                f"That is after the deadline ({local_deadline:%a %d %b %H:%M}). "
                "Record why it cannot be sooner, or choose an earlier time."
            )
    if (
        request.late_reason.strip()
        and request.child_name.strip()
        and mentions_child(request.late_reason, request.child_name)
    ):
        errors["late_reason"] = NAME_IN_SLACK_TEXT
    for code in request.extra_agencies:
        try:
            partnership.agency(code)
        except KeyError:
            errors["extra_agencies"] = "Choose agencies from the list."
    strangers = [uid for uid in request.extra_people_slack_ids if partnership.person_by_slack_id(uid) is None]
    if strangers:
        errors["extra_people"] = (
            "Only people in the partnership's schedules can be invited; "
            f"{len(strangers)} of those chosen are not."
        )
    if "case_reference" not in errors:
        case = session.exec(select(Case).where(Case.reference == reference)).first()
        if case is not None and case.child_name and request.child_name.strip():
            same_name = case.child_name.strip().casefold() == request.child_name.strip().casefold()
            same_birth = (
                case.child_date_of_birth is None
                or request.child_date_of_birth is None
                or case.child_date_of_birth == request.child_date_of_birth
            )
            if not (same_name and same_birth):
                errors["case_reference"] = (
                    "That case reference is recorded for a different child. Check the reference."
                )
        if request.follows_reference.strip():
            earlier = session.exec(
                select(Meeting).where(Meeting.reference == request.follows_reference.strip().upper())
            ).first()
            if earlier is None:
                errors["follows"] = "There is no discussion with that reference."
            elif case is None or earlier.case_id != case.id:
                errors["follows"] = "That discussion is about a different case."
    return errors


def _schedule_person(session: Session, slack_id: str) -> Person | None:
    return session.exec(
        select(Person).where(Person.slack_user_id == slack_id, Person.active == True)  # noqa: E712
    ).first()


def _schedule_people(session: Session, slack_ids: list[str]) -> dict[str, Person]:
    """`_schedule_person` for many Slack ids at once (the first active person of each)."""
    people: dict[str, Person] = {}
    if not slack_ids:
        return people
    found = session.exec(
        select(Person)
        .where(Person.slack_user_id.in_(set(slack_ids)), Person.active == True)  # type: ignore[union-attr]  # noqa: E712
        .order_by(Person.id)
    )
    for person in found:
        people.setdefault(person.slack_user_id or "", person)
    return people


@dataclass
class Convened:
    """The stored discussion and whether this request created it (False on a retry)."""

    meeting: Meeting
    created: bool
    unreachable: list[str] = field(default_factory=list)


def convene(
    session: Session,
    request: ConveneRequest,
    *,
    partnership: Partnership,
    calendar: WorkingCalendar,
    now: datetime,
) -> Convened:
    """Store the discussion, its case and one invitation per agency, in the caller's
    transaction. A second request with the same submission key returns the first."""
    existing = session.exec(select(Meeting).where(Meeting.submission_key == request.submission_key)).first()
    if existing is not None:
        return Convened(existing, created=False)
    if not request.convenor.has_role("convenor"):
        raise ConveningRefused("Only children's social care staff named as convenors can convene.")
    settings = partnership.settings
    reference = settings.normalise_case_reference(request.case_reference)
    case = session.exec(select(Case).where(Case.reference == reference)).first()
    if case is None:
        case = Case(reference=reference, created_at=now)
    case.child_name = case.child_name or request.child_name.strip()
    case.child_date_of_birth = case.child_date_of_birth or request.child_date_of_birth
    case.right_help_right_time_level = request.right_help_right_time_level
    session.add(case)
    session.flush()
    follows = None
    if request.follows_reference.strip():
        follows = session.exec(
            select(Meeting).where(Meeting.reference == request.follows_reference.strip().upper())
        ).first()
    limits = timescales(
        partnership,
        calendar,
        urgency=request.urgency,
        referred_at=now,
        meeting_type=request.meeting_type,
    )
    kind = partnership.meeting_type(request.meeting_type)
    chair = _chair(session, partnership, request.chair_slack_id)
    year = calendar.local(now).year
    meeting = Meeting(
        reference=next_reference(session, settings.discussion_reference_prefix, year),
        meeting_type=request.meeting_type,
        case_id=case.id,
        follows_meeting_id=follows.id if follows else None,
        state=MeetingState.SCHEDULED,
        urgency=request.urgency,
        format=request.format,
        reason=request.reason.strip(),
        concerns=list(request.concerns),
        right_help_right_time_level=request.right_help_right_time_level,
        scheduled_start=request.start,
        duration_minutes=kind.default_duration_minutes,
        deadline=limits.deadline,
        late_reason=request.late_reason.strip(),
        convenor_id=request.convenor.person_id,
        chair_id=chair.id if chair else None,
        submission_key=request.submission_key,
        created_at=now,
    )
    session.add(meeting)
    session.flush()
    meeting.calendar_uid = uid_for(meeting.reference)
    unreachable = _invite_agencies(
        session, meeting, request, partnership=partnership, calendar=calendar, now=now
    )
    record(
        session,
        at=now,
        actor=Actor(request.convenor.slack_user_id, request.team_id, request.convenor.person_id),
        act="discussion.convened",
        record_type="meeting",
        record_id=meeting.reference,
        case_reference=case.reference,
        details={"urgency": meeting.urgency, "agencies": _invited_codes(session, meeting)},
    )
    return Convened(meeting, created=True, unreachable=unreachable)


def _invited_codes(session: Session, meeting: Meeting) -> list[str]:
    rows = session.exec(
        select(Agency.code)
        .join(Invitation, Invitation.agency_id == Agency.id)
        .where(Invitation.meeting_id == meeting.id)
    )
    return sorted(rows)


def _invite_agencies(
    session: Session,
    meeting: Meeting,
    request: ConveneRequest,
    *,
    partnership: Partnership,
    calendar: WorkingCalendar,
    now: datetime,
) -> list[str]:
    """The agencies a strategy discussion needs (more for exploitation), plus any added."""
    exploitation = bool(set(request.concerns) & EXPLOITATION_CONCERNS)
    kind = partnership.meeting_type(meeting.meeting_type)
    wanted: dict[str, str] = {code: "required" for code in kind.required_agencies}
    if exploitation:
        for code in kind.required_when_exploitation:
            wanted.setdefault(code, "exploitation")
    for code in request.extra_agencies:
        wanted.setdefault(code, "added")
    named: dict[str, list[str]] = {}
    for slack_id in request.extra_people_slack_ids:
        person = partnership.person_by_slack_id(slack_id)
        if person is not None:
            code = partnership.agency_of(person).code
            wanted.setdefault(code, "added")
            named.setdefault(code, []).append(slack_id)
    return invite_agencies(
        session,
        meeting,
        wanted,
        named=named,
        host=request.convenor,
        partnership=partnership,
        calendar=calendar,
        now=now,
    )


def invite_agencies(
    session: Session,
    meeting: Meeting,
    wanted: dict[str, str],
    *,
    named: dict[str, list[str]] | None = None,
    host: Member | None,
    partnership: Partnership,
    calendar: WorkingCalendar,
    now: datetime,
) -> list[str]:
    """One invitation per agency (code -> why), a message per named contact; the host's own
    agency counts as attending. Returns who has no Slack. Strategy discussions and panel
    sittings invite the same way."""
    from bot.convening.chasing import first_chase_at

    named = named or {}
    unreachable: list[str] = []
    # Every agency row and every invited person in one query each, every invitation in one
    # INSERT, then every message in another: a convening is one short write transaction.
    agencies = select(Agency).where(Agency.code.in_(list(wanted)))  # type: ignore[attr-defined]
    rows = {row.code: row for row in session.exec(agencies)}
    recipients: dict[str, list[str]] = {}
    for code in wanted:
        agency = partnership.agency(code)
        slack_ids = [p.slack_user_id for p in agency.invitees() if p.slack_user_id]
        slack_ids += [uid for uid in named.get(code, []) if uid not in slack_ids]
        recipients[code] = slack_ids
        unreachable += [f"{p.name} ({agency.name})" for p in agency.invitees() if not p.slack_user_id]
    people = _schedule_people(session, [uid for slack_ids in recipients.values() for uid in slack_ids])
    invitations: dict[str, Invitation] = {}
    for code, why in wanted.items():
        invitation = Invitation(
            meeting_id=meeting.id or 0,
            agency_id=rows[code].id or 0,
            required=why != "added",
            why=why,
            created_at=now,
        )
        if host is not None and code == host.agency_code:
            invitation.state = InvitationState.ATTENDING
            invitation.answered_by_id = host.person_id
            invitation.answered_at = now
        else:
            invitation.next_chase_at = first_chase_at(partnership, calendar, meeting.urgency, now)
        session.add(invitation)
        invitations[code] = invitation
    session.flush()
    for code, invitation in invitations.items():
        for slack_id in recipients[code]:
            person = people.get(slack_id)
            if person is not None:
                session.add(
                    InvitationMessage(
                        invitation_id=invitation.id or 0, person_id=person.id or 0, created_at=now
                    )
                )
    session.flush()
    return unreachable


def involved_person_ids(session: Session, meeting: Meeting) -> set[int]:
    """Everyone with a need to know: convenor, chair, minute-taker, invitees, delegates."""
    people = {p for p in (meeting.convenor_id, meeting.chair_id, meeting.minute_taker_id) if p}
    invitations = session.exec(select(Invitation).where(Invitation.meeting_id == meeting.id)).all()
    for invitation in invitations:
        people.update(p for p in (invitation.delegate_id, invitation.answered_by_id) if p)
    people.update(
        session.exec(
            select(InvitationMessage.person_id)
            .join(Invitation, Invitation.id == InvitationMessage.invitation_id)
            .where(Invitation.meeting_id == meeting.id)
        )
    )
    return people


def is_involved(session: Session, meeting: Meeting, member: Member | None) -> bool:
    return member is not None and member.person_id in involved_person_ids(session, meeting)


def find_meeting(session: Session, reference: str) -> Meeting | None:
    return session.exec(select(Meeting).where(Meeting.reference == reference.strip().upper())).first()


def open_meetings_for(session: Session, member: Member) -> list[Meeting]:
    """The open discussions this person is involved in, soonest first."""
    meetings = session.exec(
        select(Meeting).where(Meeting.state.in_(OPEN_STATES)).order_by(Meeting.scheduled_start)  # type: ignore[attr-defined]
    ).all()
    return [m for m in meetings if member.person_id in involved_person_ids(session, m)]


@dataclass(frozen=True)
class Answer:
    """An agency's answer to an invitation, as given from its message."""

    state: InvitationState
    delegate_slack_id: str | None = None
    reason: str = ""


def answer_invitation(
    session: Session,
    invitation_id: int,
    answer: Answer,
    *,
    member: Member | None,
    actor: Actor,
    now: datetime,
) -> tuple[Invitation, bool]:
    """Record an agency's answer; returns the invitation and whether anything changed."""
    invitation = session.get(Invitation, invitation_id, with_for_update=True)
    if invitation is None:
        raise ConveningRefused("That invitation no longer exists.")
    meeting = session.get(Meeting, invitation.meeting_id)
    assert meeting is not None
    agency = session.get(Agency, invitation.agency_id)
    assert agency is not None
    recipients = set(
        session.exec(
            select(InvitationMessage.person_id).where(InvitationMessage.invitation_id == invitation.id)
        )
    )
    allowed = member is not None and (member.agency_code == agency.code or member.person_id in recipients)
    if not allowed:
        raise ConveningRefused(f"Only {agency.name} can answer this invitation.")
    if meeting.state not in OPEN_STATES:
        raise ConveningRefused(f"{meeting.reference} is {meeting.state}; answers are closed.")
    delegate_id = None
    if answer.state == InvitationState.DELEGATE:
        delegate = _schedule_person(session, answer.delegate_slack_id or "")
        if delegate is None or delegate.agency_id != agency.id:
            raise ConveningRefused(f"Choose a delegate from {agency.name}.")
        delegate_id = delegate.id
    reason = answer.reason.strip() if answer.state == InvitationState.DECLINED else ""
    if answer.state == InvitationState.DECLINED and not reason:
        raise ConveningRefused("Give a reason for declining.")
    unchanged = (
        invitation.state == answer.state
        and invitation.delegate_id == delegate_id
        and invitation.decline_reason == reason
    )
    if unchanged:
        return invitation, False
    # Change it only if nobody else has since (a double click, two people at once): the
    # row lock covers PostgreSQL, this condition covers SQLite as well.
    won = session.exec(  # type: ignore[call-overload]
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.state == invitation.state,
            Invitation.decline_reason == invitation.decline_reason,
            Invitation.delegate_id.is_(None)  # type: ignore[union-attr]
            if invitation.delegate_id is None
            else Invitation.delegate_id == invitation.delegate_id,
        )
        .values(
            state=answer.state,
            delegate_id=delegate_id,
            decline_reason=reason,
            answered_by_id=member.person_id if member else None,
            answered_at=now,
            next_chase_at=None,
        )
    ).rowcount
    session.refresh(invitation)
    if not won:
        return invitation, False
    record(
        session,
        at=now,
        actor=actor,
        act="invitation.answered",
        record_type="invitation",
        record_id=invitation.id or 0,
        case_reference=_case_reference(session, meeting),
        details={"agency": agency.code, "answer": str(answer.state)},
    )
    session.flush()
    return invitation, True


def _case_reference(session: Session, meeting: Meeting) -> str:
    case = session.get(Case, meeting.case_id) if meeting.case_id else None
    return case.reference if case else ""


def core_agencies_missing(session: Session, meeting: Meeting, partnership: Partnership) -> list[str]:
    """Names of the core agencies (children's social care, police) that cannot attend.

    A strategy discussion needs both; if either has said it cannot attend, it cannot go
    ahead as a strategy discussion.
    """
    rows = session.exec(
        select(Invitation, Agency)
        .join(Agency, Agency.id == Invitation.agency_id)
        .where(Invitation.meeting_id == meeting.id)
    ).all()
    missing: list[str] = []
    for kind, label in (("childrens_social_care", "children's social care"), ("police", "police")):
        of_kind = [(i, a) for i, a in rows if a.kind == kind]
        if of_kind and all(i.state in CANNOT_ATTEND for i, _ in of_kind):
            missing.append(label)
    return missing


def icpc_due(
    session: Session, meeting: Meeting, partnership: Partnership, calendar: WorkingCalendar
) -> date | None:
    """The initial child protection conference deadline, once section 47 enquiries start."""
    decision = session.exec(
        select(Decision).where(Decision.meeting_id == meeting.id, Decision.topic == "section_47")
    ).first()
    if decision is None or decision.outcome != "start":
        return None
    days = partnership.meeting_type(meeting.meeting_type).icpc_within_working_days or 15
    held = meeting.held_at or meeting.scheduled_start or decision.recorded_at
    return calendar.add_working_days(calendar.local(held).date(), days)


def record_section_47(
    session: Session,
    meeting: Meeting,
    *,
    start_enquiries: bool,
    reason: str,
    member: Member,
    actor: Actor,
    now: datetime,
) -> Decision:
    """The decision whether to start section 47 enquiries (convenor or chair only)."""
    if member.person_id not in (meeting.convenor_id, meeting.chair_id):
        raise ConveningRefused("Only the convenor or the chair can record this decision.")
    if not reason.strip():
        raise ConveningRefused("Record the reason for the decision.")
    decision = session.exec(
        select(Decision).where(Decision.meeting_id == meeting.id, Decision.topic == "section_47")
    ).first() or Decision(meeting_id=meeting.id or 0, topic="section_47")
    decision.outcome = "start" if start_enquiries else "no_enquiries"
    decision.reason = reason.strip()
    decision.recorded_by_id = member.person_id
    decision.recorded_at = now
    session.add(decision)
    record(
        session,
        at=now,
        actor=actor,
        act="decision.recorded",
        record_type="meeting",
        record_id=meeting.reference,
        case_reference=_case_reference(session, meeting),
        details={"topic": "section_47", "outcome": decision.outcome},
    )
    session.flush()
    return decision


def _may_manage(meeting: Meeting, member: Member) -> None:
    if member.person_id not in (meeting.convenor_id, meeting.chair_id):
        raise ConveningRefused("Only the convenor or the chair can change this discussion.")
    if meeting.state not in OPEN_STATES:
        raise ConveningRefused(f"{meeting.reference} is {meeting.state}.")


def reschedule(
    session: Session,
    meeting: Meeting,
    *,
    start: datetime,
    reason: str,
    member: Member,
    actor: Actor,
    now: datetime,
) -> bool:
    """Move the discussion; the calendar invitation keeps its UID and raises its SEQUENCE."""
    _may_manage(meeting, member)
    if start == meeting.scheduled_start:
        return False
    previous = meeting.scheduled_start
    meeting.scheduled_start = start
    meeting.calendar_sequence += 1
    if reason.strip() and start > (meeting.deadline or start):
        meeting.late_reason = reason.strip()
    session.add(meeting)
    record(
        session,
        at=now,
        actor=actor,
        act="discussion.rescheduled",
        record_type="meeting",
        record_id=meeting.reference,
        case_reference=_case_reference(session, meeting),
        details={"from": previous.isoformat() if previous else None, "to": start.isoformat()},
    )
    session.flush()
    return True


def cancel(
    session: Session, meeting: Meeting, *, reason: str, member: Member, actor: Actor, now: datetime
) -> None:
    """Cancel the discussion: chasing stops and everyone is told."""
    _may_manage(meeting, member)
    if not reason.strip():
        raise ConveningRefused("Give a reason for cancelling.")
    meeting.state = MeetingState.CANCELLED
    meeting.cancelled_reason = reason.strip()
    meeting.calendar_sequence += 1
    session.add(meeting)
    for invitation in session.exec(select(Invitation).where(Invitation.meeting_id == meeting.id)):
        invitation.next_chase_at = None
        session.add(invitation)
    record(
        session,
        at=now,
        actor=actor,
        act="discussion.cancelled",
        record_type="meeting",
        record_id=meeting.reference,
        case_reference=_case_reference(session, meeting),
    )
    session.flush()
