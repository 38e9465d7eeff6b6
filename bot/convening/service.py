"""Convening strategy discussions: validate a request, store it, record answers, reschedule
and cancel. Plain Python over the database; Slack is reached only through the outbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, update
from sqlalchemy import case as when_then
from sqlmodel import Session, col, select

from bot.audit.service import Actor, record
from bot.cases.models import Case, CaseEpisode, EpisodeState
from bot.cases.service import NAME_IN_SLACK_TEXT, case_reference_problem, mentions_child
from bot.cases.timeline import (
    THRESHOLD_FOR_SECTION_47,
    TimelineRefused,
    begin_or_join_episode,
    enquiry_of_meeting,
    start_section_47,
    urgency_deadline,
)
from bot.convening.calendar_invite import uid_for
from bot.convening.hours import EMERGENCY_DUTY_CONVENOR, OUT_OF_HOURS_REASON_LIMIT, out_of_hours_because
from bot.convening.models import (
    Invitation,
    InvitationMessage,
    InvitationState,
    Meeting,
    MeetingState,
)
from bot.convening.vocabulary import FORMATS, RIGHT_HELP_RIGHT_TIME
from bot.minutes.models import Decision
from bot.partnership.models import Agency, Person
from bot.partnership.service import Member
from bot.references import next_reference
from bot.schedules import Partnership
from bot.working_days import StatutoryCalendar, WorkingCalendar

STRATEGY_DISCUSSION = "strategy_discussion"
OPEN_STATES = (MeetingState.CONVENING, MeetingState.SCHEDULED)
CANNOT_ATTEND = (InvitationState.DECLINED, InvitationState.WRITTEN_UPDATE)
REASON_LIMIT = 3000
# A discussion already held by phone may be recorded this long after it took place.
AFTER_THE_FACT_DAYS = 7
CONVENING_ROLES = ("convenor", EMERGENCY_DUTY_CONVENOR)


class ConveningRefused(Exception):
    """The person may not do this, or the discussion no longer allows it; the message says why."""


@dataclass(frozen=True)
class ConveneRequest:
    """What the convenor typed into the `/strategy new` form (or the follow-up form)."""

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
    # When the referral was received: the urgency deadline counts from here. For a
    # follow-up, when it was asked for (the form does not ask). None: not given.
    referred_at: datetime | None = None
    # Outside working hours (an emergency duty convenor only): why it cannot wait.
    out_of_hours_reason: str = ""
    # Already held by phone: the start may be in the past (up to AFTER_THE_FACT_DAYS).
    held_already: bool = False


def may_convene(member: Member | None) -> bool:
    """Convenors, and emergency duty convenors out of hours."""
    return member is not None and any(member.has_role(role) for role in CONVENING_ROLES)


def follow_up_type(partnership: Partnership, earlier_type: str) -> str:
    """The meeting type that follows up a discussion of `earlier_type`: the type whose
    `follow_up_of` names it, or the earlier type itself when that is already a follow-up."""
    for kind in partnership.meeting_types:
        if kind.follow_up_of == earlier_type:
            return kind.code
    if partnership.meeting_type(earlier_type).follow_up_of:
        return earlier_type
    raise ValueError(f"no meeting type follows up {earlier_type!r} (meeting_types.yaml)")


@dataclass
class Timescales:
    """The deadline for a discussion and the slot offered by default."""

    deadline: datetime
    proposed_start: datetime


def timescales(
    partnership: Partnership,
    calendar: WorkingCalendar,
    *,
    statutory: StatutoryCalendar,
    urgency: str,
    referred_at: datetime,
    meeting_type: str = STRATEGY_DISCUSSION,
    now: datetime | None = None,
) -> Timescales:
    """The urgency's deadline (statutory calendar, from the referral) and the first slot in
    working hours (service calendar) from `now` (default: the referral)."""
    kind = partnership.meeting_type(meeting_type)
    deadline = deadline_for(
        partnership, statutory, urgency=urgency, referred_at=referred_at, meeting_type=meeting_type
    )
    notice = timedelta(minutes=partnership.settings.minimum_notice_minutes)
    slot = calendar.earliest_slot((now or referred_at) + notice, minutes=kind.default_duration_minutes)
    return Timescales(deadline=deadline, proposed_start=slot)


def deadline_for(
    partnership: Partnership,
    statutory: StatutoryCalendar,
    *,
    urgency: str,
    referred_at: datetime,
    meeting_type: str = STRATEGY_DISCUSSION,
) -> datetime:
    """The urgency's deadline alone (end of the Nth statutory working day from the
    referral): what a submission is checked against before its acknowledgement."""
    return urgency_deadline(
        partnership, statutory, urgency=urgency, referred_at=referred_at, meeting_type=meeting_type
    )


def _chair(session: Session, partnership: Partnership, slack_id: str | None) -> Person | None:
    if not slack_id:
        return None
    configured = partnership.person_by_slack_id(slack_id)
    if configured is None or "chair" not in partnership.roles_of(configured):
        return None
    return session.exec(select(Person).where(col(Person.slack_user_id) == slack_id)).first()


def validate(
    session: Session,
    request: ConveneRequest,
    *,
    partnership: Partnership,
    calendar: WorkingCalendar,
    statutory: StatutoryCalendar,
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
    errors.update(concern_problems(partnership, request))
    if request.right_help_right_time_level not in RIGHT_HELP_RIGHT_TIME:
        errors["right_help_right_time_level"] = "Choose the Right Help Right Time level."
    elif request.right_help_right_time_level != THRESHOLD_FOR_SECTION_47:
        errors["right_help_right_time_level"] = (
            "A section 47 strategy discussion is for a child at complex / significant: below it, "
            "the child's needs are met through early help or a child in need assessment."
        )
    if request.format not in FORMATS:
        errors["format"] = "Choose how the discussion will be held."
    kind = partnership.meeting_type(request.meeting_type)
    if kind.urgencies.get(request.urgency) is None:
        offered = ", ".join(kind.urgencies.offered())
        errors["urgency"] = f"Choose an urgency from the list ({kind.name}: {offered})."
    if request.chair_slack_id is None:
        errors["chair"] = "Choose who will chair."
    elif _chair(session, partnership, request.chair_slack_id) is None:
        errors["chair"] = "That person is not a chair in the partnership's schedules."
    referred_at = request.referred_at
    if referred_at is None:
        errors["referred_at"] = "Give the date and time the referral was received."
    elif referred_at > now:
        errors["referred_at"] = "The referral cannot be in the future."
    elif (
        request.child_date_of_birth is not None
        and calendar.local(referred_at).date() < request.child_date_of_birth
    ):
        errors["referred_at"] = "The referral is before the child's date of birth."
    if request.start is None:
        errors["start"] = "Choose the date and time of the discussion."
    elif "urgency" not in errors and referred_at is not None and "referred_at" not in errors:
        errors.update(
            _start_problems(request, kind.default_duration_minutes, partnership, calendar, statutory, now)
        )
    for field_id, text in (
        ("late_reason", request.late_reason),
        ("out_of_hours_reason", request.out_of_hours_reason),
    ):
        if text.strip() and request.child_name.strip() and mentions_child(text, request.child_name):
            errors[field_id] = NAME_IN_SLACK_TEXT
    if len(request.out_of_hours_reason) > OUT_OF_HOURS_REASON_LIMIT:
        errors["out_of_hours_reason"] = f"Keep it under {OUT_OF_HOURS_REASON_LIMIT} characters."
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
        case = session.exec(select(Case).where(col(Case.reference) == reference)).first()
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
            problem = _follows_problem(session, partnership, request, case)
            if problem:
                errors["follows"] = problem
    return errors


def _start_problems(
    request: ConveneRequest,
    duration_minutes: int,
    partnership: Partnership,
    calendar: WorkingCalendar,
    statutory: StatutoryCalendar,
    now: datetime,
) -> dict[str, str]:
    """The discussion's time: not passed (unless already held), within working hours
    (unless an emergency duty convenor says why not), and by the deadline (or why not)."""
    start, referred_at = request.start, request.referred_at
    assert start is not None and referred_at is not None
    end = start + timedelta(minutes=duration_minutes)
    if request.held_already:
        if start > now:
            return {"start": "You said it was already held: give the time it began, which has passed."}
        if start < referred_at:
            return {"start": "The discussion cannot be before the referral."}
        if start < now - timedelta(days=AFTER_THE_FACT_DAYS):
            return {"start": f"Record a discussion within {AFTER_THE_FACT_DAYS} days of holding it."}
    elif start < now:
        return {
            "start": "That time has passed. Choose a time from now on, or tick 'Already held' to "
            "record a discussion held by phone."
        }
    why = out_of_hours_because(calendar, start, end)
    if why is not None:
        if not request.convenor.has_role(EMERGENCY_DUTY_CONVENOR):
            hours = partnership.working_hours
            return {
                "start": f"That is {why}. Only an emergency duty convenor can convene a discussion "
                f"out of hours; choose a working time, {hours.start:%H:%M} to {hours.end:%H:%M}."
            }
        if not request.out_of_hours_reason.strip():
            return {
                "out_of_hours_reason": f"That is {why}: say why the discussion cannot wait for working hours."
            }
    deadline = deadline_for(
        partnership,
        statutory,
        urgency=request.urgency,
        referred_at=referred_at,
        meeting_type=request.meeting_type,
    )
    if start > deadline and not request.late_reason.strip():
        return {
            "late_reason": f"That is after the deadline ({calendar.local(deadline):%a %d %b %H:%M}). "
            "Record why it cannot be sooner, or choose an earlier time."
        }
    return {}


def _follows_problem(
    session: Session, partnership: Partnership, request: ConveneRequest, case: Case | None
) -> str | None:
    """A follow-up follows a held discussion of the same child whose case is still open."""
    earlier = find_meeting(session, request.follows_reference)
    if earlier is None:
        return "There is no discussion with that reference."
    if case is None or earlier.case_id != case.id:
        return "That discussion is about a different case."
    if earlier.state == MeetingState.CANCELLED:
        return f"{earlier.reference} was cancelled: follow the discussion that was held."
    episode = session.get(CaseEpisode, earlier.episode_id) if earlier.episode_id else None
    if episode is not None and episode.state != EpisodeState.OPEN:
        return f"The case was closed after {earlier.reference}: convene a new discussion for a new referral."
    try:
        wanted = follow_up_type(partnership, earlier.meeting_type)
    except (KeyError, ValueError):
        return f"{earlier.reference} cannot be followed up (no follow-up meeting type in the schedules)."
    if request.meeting_type != wanted:
        return f"A follow-up is a {partnership.meeting_type(wanted).name}: use the follow-up form."
    return None


def concern_problems(partnership: Partnership, request: ConveneRequest) -> dict[str, str]:
    """Concerns come from cases.yaml; `other` must say which agencies it brings in."""
    errors: dict[str, str] = {}
    policy = partnership.cases
    unknown = [c for c in request.concerns if policy.concern(c) is None]
    if unknown:
        errors["concerns"] = "Choose the concerns from the list."
        return errors
    others = [c for c in request.concerns if (concern := policy.concern(c)) and concern.kind == "other"]
    if others and not (request.extra_agencies or request.extra_people_slack_ids):
        names = " and ".join(policy.concern_name(c) for c in others)
        errors["extra_agencies"] = (
            f"You chose {names}: choose which agencies to add for it (only the core agencies are "
            "invited otherwise)."
        )
    return errors


def agencies_for_concerns(
    partnership: Partnership, meeting_type: str, concerns: tuple[str, ...] | list[str]
) -> dict[str, str]:
    """Which agencies a discussion invites (code -> why): the meeting type's required ones;
    for any concern of kind exploitation, its `required_when_exploitation` too; and what
    each concern also brings in. Harm within the family brings in no more."""
    kind = partnership.meeting_type(meeting_type)
    wanted: dict[str, str] = {code: "required" for code in kind.required_agencies}
    chosen = [c for c in (partnership.cases.concern(code) for code in concerns) if c is not None]
    if any(c.kind == "exploitation" for c in chosen):
        for code in kind.required_when_exploitation:
            wanted.setdefault(code, "exploitation")
    for concern in chosen:
        for code in concern.also_invite:
            wanted.setdefault(code, "concern")
    return wanted


def _schedule_person(session: Session, slack_id: str) -> Person | None:
    return session.exec(
        select(Person).where(col(Person.slack_user_id) == slack_id, col(Person.active) == True)  # noqa: E712
    ).first()


def _schedule_people(session: Session, slack_ids: list[str]) -> dict[str, Person]:
    """`_schedule_person` for many Slack ids at once (the first active person of each)."""
    people: dict[str, Person] = {}
    if not slack_ids:
        return people
    found = session.exec(
        select(Person)
        .where(col(Person.slack_user_id).in_(set(slack_ids)), col(Person.active) == True)  # noqa: E712
        .order_by(col(Person.id))
    )
    for person in found:
        if person.slack_user_id and person.slack_user_id not in people:
            people[person.slack_user_id] = person
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
    statutory: StatutoryCalendar,
    now: datetime,
) -> Convened:
    """Store the discussion, its case and one invitation per agency, in the caller's
    transaction, on the case's timeline: an initial discussion joins the child's open
    episode or begins one from this referral; a follow-up joins its earlier discussion's
    episode and ends the chasing of that discussion's review date. A second request with
    the same submission key returns the first."""
    existing = session.exec(
        select(Meeting).where(col(Meeting.submission_key) == request.submission_key)
    ).first()
    if existing is not None:
        return Convened(existing, created=False)
    if not may_convene(request.convenor):
        raise ConveningRefused("Only children's social care staff named as convenors can convene.")
    settings = partnership.settings
    reference = settings.normalise_case_reference(request.case_reference)
    case = session.exec(select(Case).where(col(Case.reference) == reference)).first()
    if case is None:
        case = Case(reference=reference, created_at=now)
    case.child_name = case.child_name or request.child_name.strip()
    case.child_date_of_birth = case.child_date_of_birth or request.child_date_of_birth
    case.right_help_right_time_level = request.right_help_right_time_level
    session.add(case)
    session.flush()
    actor = Actor(request.convenor.slack_user_id, request.team_id, request.convenor.person_id)
    referred_at = request.referred_at or now
    follows = find_meeting(session, request.follows_reference) if request.follows_reference.strip() else None
    if follows is not None:
        episode = session.get(CaseEpisode, follows.episode_id) if follows.episode_id else None
        if episode is None or episode.state != EpisodeState.OPEN:
            raise ConveningRefused(f"The case of {follows.reference} is closed.")
    else:
        episode, _ = begin_or_join_episode(
            session,
            case,
            referred_at=referred_at,
            threshold_level=request.right_help_right_time_level,
            decided_by_id=request.convenor.person_id,
            actor=actor,
            now=now,
        )
    limits = timescales(
        partnership,
        calendar,
        statutory=statutory,
        urgency=request.urgency,
        referred_at=referred_at,
        meeting_type=request.meeting_type,
        now=now,
    )
    kind = partnership.meeting_type(request.meeting_type)
    chair = _chair(session, partnership, request.chair_slack_id)
    year = calendar.local(now).year
    start = request.start
    out_of_hours = bool(
        start
        and out_of_hours_because(calendar, start, start + timedelta(minutes=kind.default_duration_minutes))
    )
    meeting = Meeting(
        reference=next_reference(session, settings.discussion_reference_prefix, year),
        meeting_type=request.meeting_type,
        case_id=case.id,
        episode_id=episode.id,
        follows_meeting_id=follows.id if follows else None,
        state=MeetingState.SCHEDULED,
        urgency=request.urgency,
        format=request.format,
        reason=request.reason.strip(),
        concerns=list(request.concerns),
        right_help_right_time_level=request.right_help_right_time_level,
        scheduled_start=request.start,
        duration_minutes=kind.default_duration_minutes,
        referred_at=referred_at,
        deadline=limits.deadline,
        late_reason=request.late_reason.strip(),
        out_of_hours=out_of_hours,
        out_of_hours_reason=request.out_of_hours_reason.strip() if out_of_hours else "",
        convenor_id=request.convenor.person_id,
        chair_id=chair.id if chair else None,
        submission_key=request.submission_key,
        details={"held_already": True} if request.held_already else {},
        created_at=now,
    )
    session.add(meeting)
    session.flush()
    meeting.calendar_uid = uid_for(meeting.reference)
    unreachable = _invite_agencies(
        session, meeting, request, partnership=partnership, calendar=calendar, now=now
    )
    if follows is not None:
        from bot.cases.reviews import followed_up

        followed_up(session, follows, meeting, actor=actor, now=now)
    record(
        session,
        at=now,
        actor=actor,
        act="discussion.convened",
        record_type="meeting",
        record_id=meeting.reference,
        case_reference=case.reference,
        details={
            "urgency": meeting.urgency,
            "agencies": _invited_codes(session, meeting),
            "referred_at": referred_at.isoformat(),
            "deadline": limits.deadline.isoformat(),
            "follows": follows.reference if follows else None,
            "out_of_hours": out_of_hours,
            "held_already": request.held_already,
        },
    )
    return Convened(meeting, created=True, unreachable=unreachable)


def _invited_codes(session: Session, meeting: Meeting) -> list[str]:
    rows = session.exec(
        select(col(Agency.code))
        .join(Invitation, col(Invitation.agency_id) == col(Agency.id))
        .where(col(Invitation.meeting_id) == meeting.id)
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
    """The agencies the concerns call for (see `agencies_for_concerns`), plus any added."""
    wanted = agencies_for_concerns(partnership, meeting.meeting_type, request.concerns)
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
    agencies = select(Agency).where(col(Agency.code).in_(list(wanted)))
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
    invitations = session.exec(select(Invitation).where(col(Invitation.meeting_id) == meeting.id)).all()
    for invitation in invitations:
        people.update(p for p in (invitation.delegate_id, invitation.answered_by_id) if p)
    people.update(
        session.exec(
            select(col(InvitationMessage.person_id))
            .join(Invitation, col(Invitation.id) == col(InvitationMessage.invitation_id))
            .where(col(Invitation.meeting_id) == meeting.id)
        )
    )
    return people


def is_involved(session: Session, meeting: Meeting, member: Member | None) -> bool:
    return member is not None and member.person_id in involved_person_ids(session, meeting)


def find_meeting(session: Session, reference: str) -> Meeting | None:
    return session.exec(select(Meeting).where(col(Meeting.reference) == reference.strip().upper())).first()


def _involves(person_id: int | None) -> ColumnElement[bool]:
    """A meeting `person_id` is involved in, as `involved_person_ids` says, as SQL."""
    answered = select(col(Invitation.id)).where(
        col(Invitation.meeting_id) == col(Meeting.id),
        or_(col(Invitation.delegate_id) == person_id, col(Invitation.answered_by_id) == person_id),
    )
    received = (
        select(col(InvitationMessage.id))
        .join(Invitation, col(Invitation.id) == col(InvitationMessage.invitation_id))
        .where(col(Invitation.meeting_id) == col(Meeting.id), col(InvitationMessage.person_id) == person_id)
    )
    return or_(
        col(Meeting.convenor_id) == person_id,
        col(Meeting.chair_id) == person_id,
        col(Meeting.minute_taker_id) == person_id,
        answered.exists(),
        received.exists(),
    )


def open_meetings_for(session: Session, member: Member, *, limit: int | None = None) -> list[Meeting]:
    """The open discussions this person is involved in, soonest first: one query."""
    query = (
        select(Meeting)
        .where(col(Meeting.state).in_(OPEN_STATES), _involves(member.person_id))
        .order_by(col(Meeting.scheduled_start), col(Meeting.id))
    )
    return list(session.exec(query.limit(limit) if limit else query).all())


@dataclass(frozen=True)
class ListedDiscussion:
    """One line of `/strategy list`."""

    meeting_id: int
    reference: str
    case_reference: str
    start: datetime | None
    deadline: datetime | None
    answered: int
    invited: int


@dataclass(frozen=True)
class DiscussionPage:
    """A page of a person's open discussions, soonest first, and where it sits."""

    rows: list[ListedDiscussion]
    page: int
    total: int
    size: int

    @property
    def first(self) -> int:
        return self.page * self.size + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.page * self.size + len(self.rows)

    @property
    def has_next(self) -> bool:
        return self.last < self.total


DISCUSSIONS_PER_PAGE = 20


def open_discussions_page(
    session: Session, member: Member, *, page: int = 0, size: int = DISCUSSIONS_PER_PAGE
) -> DiscussionPage:
    """A page of the open discussions this person is involved in: three queries however
    many there are (how many, the page with its cases, and its invitations counted)."""
    involved = (col(Meeting.state).in_(OPEN_STATES), _involves(member.person_id))
    total = session.exec(select(func.count()).select_from(Meeting).where(*involved)).one()
    page = max(0, min(page, max(total - 1, 0) // size))
    listed = session.execute(
        select(Meeting, col(Case.reference))
        .outerjoin(Case, col(Case.id) == col(Meeting.case_id))
        .where(*involved)
        .order_by(col(Meeting.scheduled_start), col(Meeting.id))
        .offset(page * size)
        .limit(size)
    ).all()
    ids = [meeting.id for meeting, _case in listed]
    counts = (
        {
            meeting_id: (answered or 0, invited)
            for meeting_id, answered, invited in session.execute(
                select(
                    col(Invitation.meeting_id),
                    func.sum(when_then((col(Invitation.state) != InvitationState.INVITED, 1), else_=0)),
                    func.count(),
                )
                .where(col(Invitation.meeting_id).in_(ids))
                .group_by(col(Invitation.meeting_id))
            ).all()
        }
        if ids
        else {}
    )
    rows = [
        ListedDiscussion(
            meeting.id or 0,
            meeting.reference,
            reference or "",
            meeting.scheduled_start,
            meeting.deadline,
            *counts.get(meeting.id or 0, (0, 0)),
        )
        for meeting, reference in listed
    ]
    return DiscussionPage(rows, page, total, size)


@dataclass(frozen=True)
class Answer:
    """An agency's answer to an invitation, as given from its message."""

    state: InvitationState
    delegate_slack_id: str | None = None
    reason: str = ""
    # The partner pages name a delegate by their person id (they may have no Slack).
    delegate_person_id: int | None = None


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
            select(col(InvitationMessage.person_id)).where(
                col(InvitationMessage.invitation_id) == invitation.id
            )
        )
    )
    allowed = member is not None and (member.agency_code == agency.code or member.person_id in recipients)
    if not allowed:
        raise ConveningRefused(f"Only {agency.name} can answer this invitation.")
    if meeting.state not in OPEN_STATES:
        raise ConveningRefused(f"{meeting.reference} is {meeting.state}; answers are closed.")
    delegate_id = None
    if answer.state == InvitationState.DELEGATE:
        delegate = (
            session.get(Person, answer.delegate_person_id)
            if answer.delegate_person_id is not None
            else _schedule_person(session, answer.delegate_slack_id or "")
        )
        if delegate is None or not delegate.active or delegate.agency_id != agency.id:
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
    won = session.exec(
        update(Invitation)
        .where(
            col(Invitation.id) == invitation.id,
            col(Invitation.state) == invitation.state,
            col(Invitation.decline_reason) == invitation.decline_reason,
            col(Invitation.delegate_id).is_(None)
            if invitation.delegate_id is None
            else col(Invitation.delegate_id) == invitation.delegate_id,
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
    """Names of the meeting type's core agencies (`core_agencies`, else children's social
    care and police) that have said they cannot attend, from their answers: a warning
    before the discussion. Recording checks who actually took part (`bot.minutes.quorum`)."""
    rows = session.exec(
        select(Invitation, Agency)
        .join(Agency, col(Agency.id) == col(Invitation.agency_id))
        .where(col(Invitation.meeting_id) == meeting.id)
    ).all()
    try:
        core = partnership.meeting_type(meeting.meeting_type).core_agencies
    except KeyError:
        core = ()
    missing: list[str] = []
    if core:
        for invitation, agency in rows:
            if agency.code in core and invitation.state in CANNOT_ATTEND:
                missing.append(agency.name)
        return missing
    for kind, label in (("childrens_social_care", "children's social care"), ("police", "police")):
        of_kind = [(i, a) for i, a in rows if a.kind == kind]
        if of_kind and all(i.state in CANNOT_ATTEND for i, _ in of_kind):
            missing.append(label)
    return missing


@dataclass(frozen=True)
class IcpcDue:
    """The ICPC target of the enquiry a discussion started or continues, and which
    discussion started it (the anchor: a follow-up never restarts the clock)."""

    due_on: date
    anchored_to: str
    state: str


def icpc_due(session: Session, meeting: Meeting) -> IcpcDue | None:
    """The ICPC target as stored on the case's section 47 enquiry, once enquiries start."""
    enquiry = enquiry_of_meeting(session, meeting)
    if enquiry is None:
        return None
    starter = (
        meeting
        if enquiry.started_by_meeting_id == meeting.id
        else session.get(Meeting, enquiry.started_by_meeting_id)
    )
    return IcpcDue(enquiry.icpc_due_on, starter.reference if starter else "", enquiry.icpc_state)


def record_section_47(
    session: Session,
    meeting: Meeting,
    *,
    start_enquiries: bool,
    reason: str,
    member: Member,
    actor: Actor,
    partnership: Partnership,
    statutory: StatutoryCalendar,
    now: datetime,
) -> Decision:
    """The decision whether to start section 47 enquiries (convenor or chair only), taken at
    the discussion: not before it starts. Starting them puts the enquiry on the case's
    timeline, anchored to this discussion (a follow-up continues an enquiry under way)."""
    if member.person_id not in (meeting.convenor_id, meeting.chair_id):
        raise ConveningRefused("Only the convenor or the chair can record this decision.")
    if not reason.strip():
        raise ConveningRefused("Record the reason for the decision.")
    if meeting.scheduled_start is not None and now < meeting.scheduled_start:
        raise ConveningRefused(
            "This is decided at the discussion: record it once the discussion has started."
        )
    try:
        outcome = apply_section_47(
            session,
            meeting,
            start_enquiries=start_enquiries,
            actor=actor,
            partnership=partnership,
            statutory=statutory,
            now=now,
        )
    except TimelineRefused as refused:
        raise ConveningRefused(str(refused)) from refused
    decision = session.exec(
        select(Decision).where(col(Decision.meeting_id) == meeting.id, col(Decision.topic) == "section_47")
    ).first() or Decision(meeting_id=meeting.id or 0, topic="section_47")
    decision.outcome = outcome
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


def apply_section_47(
    session: Session,
    meeting: Meeting,
    *,
    start_enquiries: bool,
    actor: Actor,
    partnership: Partnership,
    statutory: StatutoryCalendar,
    now: datetime,
) -> str:
    """Put a section 47 decision on the case's timeline and return its outcome: `start`
    (this discussion starts the enquiry), `continue` (one is under way from an earlier
    discussion: its clocks stand) or `no_enquiries` (any enquiry this discussion had
    started is withdrawn; one under way from an earlier discussion is not ended here)."""
    from bot.cases.timeline import enquiry_under_way, withdraw_section_47

    if start_enquiries:
        enquiry, _ = start_section_47(
            session, meeting, statutory=statutory, partnership=partnership, actor=actor, now=now
        )
        return "start" if enquiry.started_by_meeting_id == meeting.id else "continue"
    withdraw_section_47(session, meeting, actor=actor, now=now)
    earlier = enquiry_under_way(session, meeting.episode_id)
    if earlier is not None and earlier.started_by_meeting_id != meeting.id:
        starter = session.get(Meeting, earlier.started_by_meeting_id)
        raise TimelineRefused(
            f"Section 47 enquiries started at {starter.reference if starter else 'an earlier discussion'} "
            "are under way: they end when their outcome is recorded, not at a follow-up."
        )
    return "no_enquiries"


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
    for invitation in session.exec(select(Invitation).where(col(Invitation.meeting_id) == meeting.id)):
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
