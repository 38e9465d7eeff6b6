"""The statutory clocks of a case and its timeline: referral, threshold decision, the
strategy discussions (with their actual times), the section 47 enquiry and its ICPC, the
45-working-day assessment and its outcome, and closure.

Every statutory date is counted on the `StatutoryCalendar` (weekends and England and Wales
bank holidays only) and stored as it was worked out, so the record, the minutes and the
Children in Need census all read the same date. The ICPC counts from the discussion that
started section 47 enquiries: a follow-up continues the enquiry and never restarts it.
Plain Python over the database; every step is audited.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.actions.models import Action
from bot.audit.service import Actor, record
from bot.cases.models import Case, CaseEpisode, EpisodeState, IcpcState, Section47Enquiry
from bot.children.models import DiscussionChild
from bot.convening.models import Meeting, MeetingState
from bot.panel.models import Disruption, MissingEpisode
from bot.schedules import Partnership
from bot.working_days import StatutoryCalendar, require_statutory

STRATEGY_DISCUSSION = "strategy_discussion"
ICPC_WORKING_DAYS = 15  # Working Together 2023: within 15 working days of the discussion
ASSESSMENT_WORKING_DAYS = 45  # at most 45 working days from the referral
THRESHOLD_FOR_SECTION_47 = "complex_significant"

ASSESSMENT_OUTCOMES: dict[str, str] = {
    "child_protection_plan": "Child protection plan",
    "child_in_need_plan": "Child in need plan",
    "no_further_action": "No further action",
}
SUBSTANTIATION: dict[str, str] = {
    "substantiated": "Concerns substantiated",
    "not_substantiated": "Concerns not substantiated",
}
ICPC_WORDS: dict[str, str] = {
    IcpcState.PENDING: "to be held",
    IcpcState.HELD: "held",
    IcpcState.NOT_REQUIRED: "not required",
}
DISCUSSIONS_SHOWN = 10  # a timeline shows the latest discussions and counts the rest
PANEL_LINES_SHOWN = 5  # and the child's latest missing episodes and disruption activities


class TimelineRefused(Exception):
    """The step cannot be recorded (it would contradict the record); the message says why."""


# ------------------------------------------------------------------------ the clocks


def icpc_target(
    statutory: StatutoryCalendar, started_on: date, working_days: int = ICPC_WORKING_DAYS
) -> date:
    """The last day for the initial child protection conference: `working_days` statutory
    working days after the day section 47 enquiries started (the census's InitialCPCtarget)."""
    return require_statutory(statutory).add_working_days(started_on, working_days)


def assessment_deadline(
    statutory: StatutoryCalendar, referred_on: date, working_days: int = ASSESSMENT_WORKING_DAYS
) -> date:
    """The last day for the assessment: `working_days` statutory working days from the referral."""
    return require_statutory(statutory).add_working_days(referred_on, working_days)


def urgency_deadline(
    partnership: Partnership,
    statutory: StatutoryCalendar,
    *,
    urgency: str,
    referred_at: datetime,
    meeting_type: str = STRATEGY_DISCUSSION,
) -> datetime:
    """When a discussion of this urgency must be held by: the end of the Nth statutory
    working day from the referral (not from when the form was sent). A partnership's
    closure days do not stretch it: a child at risk does not wait for them."""
    level = partnership.meeting_type(meeting_type).urgencies.get(urgency)
    if level is None:
        raise ValueError(f"{meeting_type} has no urgency {urgency!r}")
    return require_statutory(statutory).end_of_working_day_after(referred_at, level.within_working_days)


def _working_days(partnership: Partnership, meeting_type: str) -> tuple[int, int]:
    kind = partnership.meeting_type(meeting_type)
    return (
        kind.icpc_within_working_days or ICPC_WORKING_DAYS,
        kind.s47_assessment_max_working_days or ASSESSMENT_WORKING_DAYS,
    )


# ---------------------------------------------------------------------- the episode


def open_episode(session: Session, case_id: int) -> CaseEpisode | None:
    """The child's open episode, if any."""
    return session.exec(
        select(CaseEpisode).where(
            col(CaseEpisode.case_id) == case_id, col(CaseEpisode.state) == EpisodeState.OPEN
        )
    ).first()


def begin_or_join_episode(
    session: Session,
    case: Case,
    *,
    referred_at: datetime,
    threshold_level: str,
    decided_by_id: int | None,
    actor: Actor,
    now: datetime,
) -> tuple[CaseEpisode, bool]:
    """The episode a newly convened initial discussion belongs to: the child's open one, or
    a new one from this referral (the threshold decision that a strategy discussion is
    needed). A closed case is reopened, which stops its retention clock. Returns the
    episode and whether it is new. Runs in the caller's transaction; the case row is locked,
    so two convenings at once make one episode."""
    locked = session.get(Case, case.id, with_for_update=True, populate_existing=True)
    assert locked is not None
    existing = open_episode(session, locked.id or 0)
    if existing is not None:
        return existing, False
    episode = CaseEpisode(
        case_id=locked.id or 0,
        state=EpisodeState.OPEN,
        referred_at=referred_at,
        threshold_level=threshold_level,
        threshold_decided_at=now,
        threshold_decided_by_id=decided_by_id,
        created_at=now,
    )
    session.add(episode)
    session.flush()
    if locked.closed_at is not None:
        record(
            session,
            at=now,
            actor=actor,
            act="case.reopened",
            record_type="case",
            record_id=locked.reference,
            case_reference=locked.reference,
            details={"was_closed_at": locked.closed_at.isoformat()},
        )
        locked.closed_at = None
        session.add(locked)
    record(
        session,
        at=now,
        actor=actor,
        act="case.referral_recorded",
        record_type="episode",
        record_id=episode.id or 0,
        case_reference=locked.reference,
        details={"referred_at": referred_at.isoformat(), "threshold": threshold_level},
    )
    session.flush()
    return episode, True


# --------------------------------------------------------------- section 47 enquiries


def enquiry_under_way(session: Session, episode_id: int | None) -> Section47Enquiry | None:
    """The episode's section 47 enquiry that has not yet concluded, if any."""
    if episode_id is None:
        return None
    return session.exec(
        select(Section47Enquiry).where(
            col(Section47Enquiry.episode_id) == episode_id,
            col(Section47Enquiry.completed_on).is_(None),
        )
    ).first()


def enquiry_of_meeting(
    session: Session, meeting: Meeting, episode_id: int | None = None
) -> Section47Enquiry | None:
    """The enquiry a discussion started or continues for one child (by their episode; the
    first child's by default): the one it started, else the one under way in the episode
    (a follow-up's)."""
    episode_id = episode_id or meeting.episode_id
    if episode_id is None:
        return None
    started = session.exec(
        select(Section47Enquiry).where(
            col(Section47Enquiry.started_by_meeting_id) == meeting.id,
            col(Section47Enquiry.episode_id) == episode_id,
        )
    ).first()
    if started is not None:
        return started
    return enquiry_under_way(session, episode_id)


def _case_reference(session: Session, case_id: int | None) -> str:
    case = session.get(Case, case_id) if case_id else None
    return case.reference if case else ""


def start_section_47(
    session: Session,
    meeting: Meeting,
    *,
    statutory: StatutoryCalendar,
    partnership: Partnership,
    actor: Actor,
    now: datetime,
    episode_id: int | None = None,
) -> tuple[Section47Enquiry, bool]:
    """The discussion decided section 47 enquiries start (or go on). If an enquiry is
    already under way in the case's episode, this continues it and its clocks stand
    (returns it and False); otherwise one starts on the discussion's actual (or, until it
    is recorded, scheduled) start date, with the ICPC target and the assessment deadline on
    the statutory calendar (returns it and True). Refused below the threshold."""
    require_statutory(statutory)
    episode_id = episode_id or meeting.episode_id  # one child's; the first child's by default
    if episode_id is None:
        raise TimelineRefused(f"{meeting.reference} is not part of a case's timeline.")
    if meeting.right_help_right_time_level != THRESHOLD_FOR_SECTION_47:
        raise TimelineRefused(
            "Section 47 enquiries need the threshold complex / significant: record the Right "
            "Help Right Time level the discussion agreed."
        )
    ours = session.exec(
        select(Section47Enquiry).where(
            col(Section47Enquiry.started_by_meeting_id) == meeting.id,
            col(Section47Enquiry.episode_id) == episode_id,
        )
    ).first()
    if ours is not None:
        _restate_start(session, ours, meeting, statutory, partnership, actor, now)
        return ours, False
    under_way = enquiry_under_way(session, episode_id)
    if under_way is not None:
        return under_way, False
    episode = session.get(CaseEpisode, episode_id)
    assert episode is not None
    icpc_days, assessment_days = _working_days(partnership, meeting.meeting_type)
    started_on = statutory.local_date(meeting.held_at or meeting.scheduled_start or now)
    enquiry = Section47Enquiry(
        episode_id=episode.id or 0,
        case_id=episode.case_id,
        started_by_meeting_id=meeting.id or 0,
        started_on=started_on,
        icpc_due_on=icpc_target(statutory, started_on, icpc_days),
        icpc_state=IcpcState.PENDING,
        assessment_due_on=assessment_deadline(
            statutory, statutory.local_date(episode.referred_at), assessment_days
        ),
        updated_at=now,
    )
    session.add(enquiry)
    session.flush()
    record(
        session,
        at=now,
        actor=actor,
        act="section_47.started",
        record_type="section_47",
        record_id=enquiry.id or 0,
        case_reference=_case_reference(session, episode.case_id),
        details={
            "meeting": meeting.reference,
            "started_on": started_on.isoformat(),
            "icpc_due_on": enquiry.icpc_due_on.isoformat(),
            "assessment_due_on": enquiry.assessment_due_on.isoformat(),
        },
    )
    return enquiry, True


def _restate_start(
    session: Session,
    enquiry: Section47Enquiry,
    meeting: Meeting,
    statutory: StatutoryCalendar,
    partnership: Partnership,
    actor: Actor,
    now: datetime,
) -> None:
    """The starting discussion's actual start is now recorded: the enquiry starts that day.
    Once its ICPC or outcome is recorded the dates stand."""
    started_on = statutory.local_date(meeting.held_at or meeting.scheduled_start or now)
    if started_on == enquiry.started_on or enquiry.icpc_state != IcpcState.PENDING or enquiry.completed_on:
        return
    icpc_days, _ = _working_days(partnership, meeting.meeting_type)
    was = enquiry.started_on
    enquiry.started_on = started_on
    enquiry.icpc_due_on = icpc_target(statutory, started_on, icpc_days)
    enquiry.updated_at = now
    session.add(enquiry)
    record(
        session,
        at=now,
        actor=actor,
        act="section_47.start_corrected",
        record_type="section_47",
        record_id=enquiry.id or 0,
        case_reference=_case_reference(session, enquiry.case_id),
        details={"was": was.isoformat(), "started_on": started_on.isoformat()},
    )


def withdraw_section_47(
    session: Session, meeting: Meeting, *, actor: Actor, now: datetime, episode_id: int | None = None
) -> bool:
    """A corrected record says this discussion did not start section 47 enquiries (for one
    child: the first by default): the enquiry it started goes, unless its ICPC or outcome is
    already recorded (then refused)."""
    episode_id = episode_id or meeting.episode_id
    ours = session.exec(
        select(Section47Enquiry).where(
            col(Section47Enquiry.started_by_meeting_id) == meeting.id,
            col(Section47Enquiry.episode_id) == episode_id,
        )
    ).first()
    if ours is None:
        return False
    if ours.icpc_state != IcpcState.PENDING or ours.completed_on or ours.outcome:
        raise TimelineRefused(
            "The section 47 enquiry this discussion started has its ICPC or outcome recorded; "
            "it cannot be undone by recording the discussion again."
        )
    record(
        session,
        at=now,
        actor=actor,
        act="section_47.withdrawn",
        record_type="section_47",
        record_id=ours.id or 0,
        case_reference=_case_reference(session, ours.case_id),
        details={"meeting": meeting.reference, "started_on": ours.started_on.isoformat()},
    )
    session.delete(ours)
    session.flush()
    return True


def record_icpc(
    session: Session,
    enquiry_id: int,
    *,
    held_on: date | None,
    not_required_reason: str,
    statutory: StatutoryCalendar,
    actor: Actor,
    today: date,
    now: datetime,
) -> Section47Enquiry:
    """The initial child protection conference was held on a date, or is not required (with
    the reason). A date before the enquiry started, in the future, or at a weekend or on a
    bank holiday is refused, as the census refuses it."""
    enquiry = session.get(Section47Enquiry, enquiry_id, with_for_update=True, populate_existing=True)
    if enquiry is None:
        raise TimelineRefused("That enquiry no longer exists.")
    if (held_on is None) == (not not_required_reason.strip()):
        raise TimelineRefused("Give the date the ICPC was held, or why it is not required (not both).")
    if held_on is not None:
        if held_on < enquiry.started_on:
            raise TimelineRefused(
                f"The ICPC cannot be before section 47 enquiries started ({enquiry.started_on:%d %b %Y})."
            )
        if held_on > today:
            raise TimelineRefused("That date is in the future: record the ICPC once it has been held.")
        if not require_statutory(statutory).is_working_day(held_on):
            holiday = statutory.bank_holiday_name(held_on)
            raise TimelineRefused(
                f"{held_on:%a %d %b %Y} is {f'a bank holiday ({holiday})' if holiday else 'a weekend'}: "
                "check the date."
            )
        enquiry.icpc_state, enquiry.icpc_held_on, enquiry.icpc_not_required_reason = (
            IcpcState.HELD,
            held_on,
            "",
        )
    else:
        enquiry.icpc_state = IcpcState.NOT_REQUIRED
        enquiry.icpc_held_on = None
        enquiry.icpc_not_required_reason = not_required_reason.strip()
    enquiry.updated_at = now
    session.add(enquiry)
    record(
        session,
        at=now,
        actor=actor,
        act="section_47.icpc_recorded",
        record_type="section_47",
        record_id=enquiry.id or 0,
        case_reference=_case_reference(session, enquiry.case_id),
        details={
            "icpc": str(enquiry.icpc_state),
            "held_on": held_on.isoformat() if held_on else None,
            "within_target": held_on <= enquiry.icpc_due_on if held_on else None,
        },
    )
    session.flush()
    return enquiry


def record_assessment_outcome(
    session: Session,
    enquiry_id: int,
    *,
    substantiated: str,
    outcome: str,
    completed_on: date | None,
    actor: Actor,
    today: date,
    now: datetime,
) -> Section47Enquiry:
    """The enquiry's assessment concluded: concerns substantiated or not, and what follows
    (a child protection plan, a child in need plan, or no further action). A child
    protection plan needs an ICPC held."""
    enquiry = session.get(Section47Enquiry, enquiry_id, with_for_update=True, populate_existing=True)
    if enquiry is None:
        raise TimelineRefused("That enquiry no longer exists.")
    if substantiated not in SUBSTANTIATION:
        raise TimelineRefused("Say whether the concerns were substantiated.")
    if outcome not in ASSESSMENT_OUTCOMES:
        raise TimelineRefused(
            "Choose the outcome: a child protection plan, a child in need plan or no further action."
        )
    if completed_on is None or completed_on > today or completed_on < enquiry.started_on:
        raise TimelineRefused(
            f"Give the date the assessment concluded: from {enquiry.started_on:%d %b %Y} to today."
        )
    if enquiry.icpc_state == IcpcState.PENDING:
        raise TimelineRefused("Record the ICPC first: the date it was held, or why it is not required.")
    if outcome == "child_protection_plan" and enquiry.icpc_state != IcpcState.HELD:
        raise TimelineRefused("A child protection plan is made at an ICPC, and none was held.")
    enquiry.concerns_substantiated, enquiry.outcome, enquiry.completed_on = (
        substantiated,
        outcome,
        completed_on,
    )
    enquiry.updated_at = now
    session.add(enquiry)
    record(
        session,
        at=now,
        actor=actor,
        act="section_47.outcome_recorded",
        record_type="section_47",
        record_id=enquiry.id or 0,
        case_reference=_case_reference(session, enquiry.case_id),
        details={
            "substantiated": substantiated,
            "outcome": outcome,
            "completed_on": completed_on.isoformat(),
            "within_timescale": completed_on <= enquiry.assessment_due_on,
        },
    )
    session.flush()
    return enquiry


# ------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class DiscussionLine:
    """One strategy discussion on a case's timeline."""

    meeting_id: int
    reference: str
    kind: str  # "initial" | "follow-up"
    state: str
    scheduled_start: datetime | None
    actual_start: datetime | None
    actual_end: datetime | None
    out_of_hours: bool
    out_of_hours_reason: str
    deadline: datetime | None
    within_deadline: bool | None  # None until it is held
    review_on: date | None
    review_state: str


@dataclass(frozen=True)
class EnquiryLine:
    """A section 47 enquiry on a case's timeline (dates as stored)."""

    id: int
    started_by: str  # the discussion's reference
    started_on: date
    icpc_due_on: date
    icpc_state: str
    icpc_held_on: date | None
    icpc_within_target: bool | None
    icpc_not_required_reason: str
    assessment_due_on: date
    concerns_substantiated: str
    outcome: str
    completed_on: date | None
    assessment_within_timescale: bool | None
    working_days_to_icpc: int | None  # statutory working days left (negative: overdue)


@dataclass(frozen=True)
class MissingLine:
    """A missing episode of the child and its return home interview (Locate's record)."""

    episode_id: int
    went_missing_at: datetime
    returned_at: datetime | None
    where_found: str
    out_of_area: bool
    interview_state: str  # not_yet | owed | done | declined
    interview_due_at: datetime | None
    interview_offered_at: datetime | None
    interview_by: str


@dataclass(frozen=True)
class DisruptionLine:
    """A disruption activity the panel agreed for the case, and its outcome once recorded."""

    action_reference: str
    tactic: str  # the code; the partnership's schedules name it
    due_on: date
    status: str
    result: str  # "" while awaited
    outcome: str


@dataclass(frozen=True)
class CaseTimeline:
    """A child's case from referral to closure, as `/strategy REF`, the Home tab and the
    minutes show it. Dates are the stored ones; no child's details, only the reference."""

    case_id: int
    case_reference: str
    episode_id: int
    state: str
    referred_at: datetime
    threshold_level: str
    threshold_decided_at: datetime
    discussions: tuple[DiscussionLine, ...]
    earlier_discussions: int  # held before the ones listed, not shown
    enquiries: tuple[EnquiryLine, ...]
    closed_at: datetime | None
    closure_outcome: str
    closure_reason: str
    records_kept_until: date | None  # closed: when the retention policy removes the record
    missing_episodes: tuple[MissingLine, ...] = ()  # the latest, oldest first
    earlier_missing_episodes: int = 0  # recorded before the ones listed
    disruptions: tuple[DisruptionLine, ...] = ()  # the latest, oldest first
    # What the panel's step ups linked: each conference and its state, each police
    # operation as its released summary (or that the police hold the details).
    step_ups: tuple[str, ...] = ()

    @property
    def enquiry(self) -> EnquiryLine | None:
        """The latest section 47 enquiry, if any."""
        return self.enquiries[-1] if self.enquiries else None


def _discussion_line(meeting: Meeting, follows: bool) -> DiscussionLine:
    held = meeting.held_at if meeting.state in (MeetingState.HELD, MeetingState.CLOSED) else None
    return DiscussionLine(
        meeting_id=meeting.id or 0,
        reference=meeting.reference,
        kind="follow-up" if follows else "initial",
        state=meeting.state,
        scheduled_start=meeting.scheduled_start,
        actual_start=held,
        actual_end=meeting.ended_at if held else None,
        out_of_hours=meeting.out_of_hours,
        out_of_hours_reason=meeting.out_of_hours_reason,
        deadline=meeting.deadline,
        within_deadline=(held <= meeting.deadline) if held and meeting.deadline else None,
        review_on=meeting.review_on,
        review_state=meeting.review_state,
    )


def _enquiry_line(
    enquiry: Section47Enquiry, started_by: str, statutory: StatutoryCalendar, today: date
) -> EnquiryLine:
    pending = enquiry.icpc_state == IcpcState.PENDING
    return EnquiryLine(
        id=enquiry.id or 0,
        started_by=started_by,
        started_on=enquiry.started_on,
        icpc_due_on=enquiry.icpc_due_on,
        icpc_state=enquiry.icpc_state,
        icpc_held_on=enquiry.icpc_held_on,
        icpc_within_target=(enquiry.icpc_held_on <= enquiry.icpc_due_on) if enquiry.icpc_held_on else None,
        icpc_not_required_reason=enquiry.icpc_not_required_reason,
        assessment_due_on=enquiry.assessment_due_on,
        concerns_substantiated=enquiry.concerns_substantiated,
        outcome=enquiry.outcome,
        completed_on=enquiry.completed_on,
        assessment_within_timescale=(enquiry.completed_on <= enquiry.assessment_due_on)
        if enquiry.completed_on
        else None,
        working_days_to_icpc=statutory.working_days_between(today, enquiry.icpc_due_on) if pending else None,
    )


def timeline_of_episode(
    session: Session,
    episode: CaseEpisode,
    *,
    partnership: Partnership,
    statutory: StatutoryCalendar,
    now: datetime,
    discussions_shown: int = DISCUSSIONS_SHOWN,
) -> CaseTimeline:
    """One episode's timeline in eleven queries, however long the case has run: the case, the
    latest discussions (and a count of the rest), the enquiries with their starting
    discussions' references, the child's latest missing episodes (and a count of the rest),
    disruption activities, and the conferences and police operations the panel's step ups
    linked."""
    require_statutory(statutory)
    case = session.get(Case, episode.case_id)
    assert case is not None
    latest = list(
        session.exec(
            select(Meeting)
            .where(col(Meeting.episode_id) == episode.id)
            .order_by(col(Meeting.id).desc())
            .limit(discussions_shown)
        )
    )
    total = session.exec(
        select(func.count()).select_from(Meeting).where(col(Meeting.episode_id) == episode.id)
    ).one()
    enquiries = session.exec(
        select(Section47Enquiry, col(Meeting.reference))
        .join(Meeting, col(Meeting.id) == col(Section47Enquiry.started_by_meeting_id))
        .where(col(Section47Enquiry.episode_id) == episode.id)
        .order_by(col(Section47Enquiry.id))
    ).all()
    missing, earlier_missing, disruptions = _panel_lines(session, case.id or 0)
    from bot.panel.stepup import StepUpLinks  # the panel's records, read for the child's

    step_ups = StepUpLinks.of(session, [case.id]).of_case(case.id or 0, full=False)
    today = statutory.local_date(now)
    kept_until = None
    if episode.closed_at is not None:
        years = partnership.retention.case_records_years_after_closure
        kept_until = (episode.closed_at + timedelta(days=round(365.25 * years))).date()
    return CaseTimeline(
        case_id=case.id or 0,
        case_reference=case.reference,
        episode_id=episode.id or 0,
        state=episode.state,
        referred_at=episode.referred_at,
        threshold_level=episode.threshold_level,
        threshold_decided_at=episode.threshold_decided_at,
        discussions=tuple(_discussion_line(m, m.follows_meeting_id is not None) for m in reversed(latest)),
        earlier_discussions=max(int(total) - len(latest), 0),
        enquiries=tuple(_enquiry_line(e, ref, statutory, today) for e, ref in enquiries),
        closed_at=episode.closed_at,
        closure_outcome=episode.closure_outcome,
        closure_reason=episode.closure_reason,
        records_kept_until=kept_until,
        missing_episodes=missing,
        earlier_missing_episodes=earlier_missing,
        disruptions=disruptions,
        step_ups=tuple(step_ups),
    )


def _panel_lines(
    session: Session, case_id: int, shown: int = PANEL_LINES_SHOWN
) -> tuple[tuple[MissingLine, ...], int, tuple[DisruptionLine, ...]]:
    """The child's latest missing episodes (with a count of the others) and disruption
    activities, as Locate and the panel recorded them: three queries."""
    episodes = list(
        session.exec(
            select(MissingEpisode)
            .where(col(MissingEpisode.case_id) == case_id)
            .order_by(col(MissingEpisode.went_missing_at).desc(), col(MissingEpisode.id).desc())
            .limit(shown)
        )
    )
    total = session.exec(
        select(func.count()).select_from(MissingEpisode).where(col(MissingEpisode.case_id) == case_id)
    ).one()
    disruptions = session.exec(
        select(Disruption, Action)
        .join(Action, col(Action.id) == col(Disruption.action_id))
        .where(col(Disruption.case_id) == case_id)
        .order_by(col(Disruption.id).desc())
        .limit(shown)
    ).all()
    return (
        tuple(
            MissingLine(
                episode_id=e.id or 0,
                went_missing_at=e.went_missing_at,
                returned_at=e.returned_at,
                where_found=e.where_found,
                out_of_area=e.out_of_area,
                interview_state=e.interview_state,
                interview_due_at=e.interview_due_at,
                interview_offered_at=e.interview_offered_at,
                interview_by=e.interview_by,
            )
            for e in reversed(episodes)
        ),
        max(int(total) - len(episodes), 0),
        tuple(
            DisruptionLine(
                action_reference=a.reference,
                tactic=d.tactic,
                due_on=a.due_on,
                status=str(a.status),
                result=d.result,
                outcome=d.outcome,
            )
            for d, a in reversed(disruptions)
        ),
    )


def timeline_of_meeting(
    session: Session,
    meeting: Meeting,
    *,
    partnership: Partnership,
    statutory: StatutoryCalendar,
    now: datetime,
) -> CaseTimeline | None:
    """The timeline of the episode a discussion belongs to (None for a panel sitting)."""
    episode = session.get(CaseEpisode, meeting.episode_id) if meeting.episode_id else None
    if episode is None:
        return None
    return timeline_of_episode(session, episode, partnership=partnership, statutory=statutory, now=now)


@dataclass(frozen=True)
class DiscussionClocks:
    """What the minutes of one discussion say about the case's clocks (dates and moments as
    stored; `None` where nothing is recorded yet)."""

    referred_at: datetime | None  # this discussion's referral (or, for a follow-up, its request)
    episode_referred_at: datetime | None  # the case's referral
    actual_start: datetime | None
    actual_end: datetime | None
    out_of_hours: bool
    out_of_hours_reason: str
    urgency: str
    deadline: datetime | None
    held_within_deadline: bool | None
    follows: str  # the earlier discussion's reference, or ""
    section_47_started_on: date | None
    section_47_started_by: str  # the reference of the discussion that started it
    section_47_started_here: bool
    icpc_due_on: date | None
    icpc_state: str  # "" (no enquiry) | pending | held | not_required
    icpc_held_on: date | None
    icpc_not_required_reason: str
    assessment_due_on: date | None
    concerns_substantiated: str
    assessment_outcome: str
    assessment_completed_on: date | None
    closed_at: datetime | None
    closure_outcome: str
    closure_reason: str


def discussion_clocks(session: Session, meeting: Meeting) -> DiscussionClocks:
    """The clocks as the minutes of this discussion show them: its referral and urgency,
    when it actually ran and whether out of hours, the section 47 enquiry it started or
    continues (with the ICPC anchored to the discussion that started it), the assessment,
    and closure. A few primary-key look-ups."""
    episode = session.get(CaseEpisode, meeting.episode_id) if meeting.episode_id else None
    enquiry = enquiry_of_meeting(session, meeting)
    starter = session.get(Meeting, enquiry.started_by_meeting_id) if enquiry else None
    follows = session.get(Meeting, meeting.follows_meeting_id) if meeting.follows_meeting_id else None
    held = meeting.held_at if meeting.state in (MeetingState.HELD, MeetingState.CLOSED) else None
    return DiscussionClocks(
        referred_at=meeting.referred_at,
        episode_referred_at=episode.referred_at if episode else None,
        actual_start=held,
        actual_end=meeting.ended_at if held else None,
        out_of_hours=meeting.out_of_hours,
        out_of_hours_reason=meeting.out_of_hours_reason,
        urgency=meeting.urgency,
        deadline=meeting.deadline,
        held_within_deadline=(held <= meeting.deadline) if held and meeting.deadline else None,
        follows=follows.reference if follows else "",
        section_47_started_on=enquiry.started_on if enquiry else None,
        section_47_started_by=starter.reference if starter else "",
        section_47_started_here=bool(enquiry and enquiry.started_by_meeting_id == meeting.id),
        icpc_due_on=enquiry.icpc_due_on if enquiry else None,
        icpc_state=enquiry.icpc_state if enquiry else "",
        icpc_held_on=enquiry.icpc_held_on if enquiry else None,
        icpc_not_required_reason=enquiry.icpc_not_required_reason if enquiry else "",
        assessment_due_on=enquiry.assessment_due_on if enquiry else None,
        concerns_substantiated=enquiry.concerns_substantiated if enquiry else "",
        assessment_outcome=enquiry.outcome if enquiry else "",
        assessment_completed_on=enquiry.completed_on if enquiry else None,
        closed_at=episode.closed_at if episode else None,
        closure_outcome=episode.closure_outcome if episode else "",
        closure_reason=episode.closure_reason if episode else "",
    )


# ------------------------------------------------------------------- a person's cases

CASES_PER_PAGE = 8


@dataclass(frozen=True)
class CaseRow:
    """One open case on a person's Home tab: its reference and next statutory dates."""

    episode_id: int
    case_reference: str
    referred_at: datetime
    latest_discussion: str
    latest_discussion_id: int
    icpc_due_on: date | None
    icpc_state: str
    working_days_to_icpc: int | None
    assessment_due_on: date | None
    review_on: date | None  # the earliest review date still chased


def cases_of(
    session: Session,
    person_id: int,
    *,
    statutory: StatutoryCalendar,
    now: datetime,
    page: int = 0,
    per_page: int = CASES_PER_PAGE,
) -> tuple[list[CaseRow], bool]:
    """A page of the open cases this person convenes or chairs a discussion of (every child
    of a discussion of several), oldest referral first, and whether there is a further page.
    Four queries, whatever the page."""
    require_statutory(statutory)
    theirs = (col(Meeting.convenor_id) == person_id) | (col(Meeting.chair_id) == person_id)
    mine = (select(col(Meeting.episode_id)).where(col(Meeting.episode_id).is_not(None), theirs)).union(
        select(col(DiscussionChild.episode_id))
        .join(Meeting, col(Meeting.id) == col(DiscussionChild.meeting_id))
        .where(col(DiscussionChild.episode_id).is_not(None), theirs)
    )
    rows = session.exec(
        select(CaseEpisode, col(Case.reference))
        .join(Case, col(Case.id) == col(CaseEpisode.case_id))
        .where(col(CaseEpisode.state) == EpisodeState.OPEN, col(CaseEpisode.id).in_(mine))
        .order_by(col(CaseEpisode.referred_at), col(CaseEpisode.id))
        .offset(max(page, 0) * per_page)
        .limit(per_page + 1)
    ).all()
    more = len(rows) > per_page
    rows = rows[:per_page]
    ids = [episode.id for episode, _ in rows]
    enquiries: dict[int, Section47Enquiry] = {}
    for latest_enquiry in session.exec(
        select(Section47Enquiry)
        .where(col(Section47Enquiry.episode_id).in_(ids))
        .order_by(col(Section47Enquiry.id))
    ):
        enquiries[latest_enquiry.episode_id] = latest_enquiry  # the latest of each episode
    meetings: dict[int, tuple[str, int]] = {}
    reviews: dict[int, date] = {}
    for meeting in session.exec(
        select(Meeting).where(col(Meeting.episode_id).in_(ids)).order_by(col(Meeting.id))
    ):
        episode_id = meeting.episode_id or 0
        meetings[episode_id] = (meeting.reference, meeting.id or 0)
        if meeting.review_state == "due" and meeting.review_on:
            reviews[episode_id] = min(reviews.get(episode_id, meeting.review_on), meeting.review_on)
    for meeting, child_episode in session.exec(  # the other children of discussions of several
        select(Meeting, col(DiscussionChild.episode_id))
        .join(DiscussionChild, col(DiscussionChild.meeting_id) == col(Meeting.id))
        .where(
            col(DiscussionChild.episode_id).in_(ids),
            col(Meeting.episode_id) != col(DiscussionChild.episode_id),
        )
        .order_by(col(Meeting.id))
    ):
        episode_id = child_episode or 0
        if (meeting.id or 0) > meetings.get(episode_id, ("", 0))[1]:
            meetings[episode_id] = (meeting.reference, meeting.id or 0)
        if meeting.review_state == "due" and meeting.review_on:
            reviews[episode_id] = min(reviews.get(episode_id, meeting.review_on), meeting.review_on)
    today = statutory.local_date(now)
    found: list[CaseRow] = []
    for episode, reference in rows:
        enquiry = enquiries.get(episode.id or 0)
        pending = enquiry is not None and enquiry.icpc_state == IcpcState.PENDING
        latest, latest_id = meetings.get(episode.id or 0, ("", 0))
        found.append(
            CaseRow(
                episode_id=episode.id or 0,
                case_reference=reference,
                referred_at=episode.referred_at,
                latest_discussion=latest,
                latest_discussion_id=latest_id,
                icpc_due_on=enquiry.icpc_due_on if enquiry else None,
                icpc_state=enquiry.icpc_state if enquiry else "",
                working_days_to_icpc=statutory.working_days_between(today, enquiry.icpc_due_on)
                if enquiry is not None and pending
                else None,
                assessment_due_on=enquiry.assessment_due_on if enquiry and not enquiry.completed_on else None,
                review_on=reviews.get(episode.id or 0),
            )
        )
    return found, more


# ------------------------------------------------------------------ the census export


@dataclass(frozen=True)
class Section47Row:
    """One section 47 enquiry as the Children in Need census collects it, with the local
    child id (the case reference) and the referral date. No child's name."""

    enquiry_id: int
    case_reference: str
    referral_date: date
    s47_actual_start_date: date  # S47ActualStartDate
    initial_cpc_target: date  # InitialCPCtarget
    date_of_initial_cpc: date | None  # DateOfInitialCPC
    icpc_not_required: bool  # ICPCnotRequired
    started_by: str  # the discussion's reference
    outcome: str
    completed_on: date | None


def section_47_rows(
    session: Session,
    *,
    started_from: date,
    started_to: date,
    statutory: StatutoryCalendar,
    batch: int = 500,
) -> Iterator[Section47Row]:
    """Every enquiry that started between the two dates (inclusive), oldest first, read a
    batch at a time by id (one query per batch, however many years the record holds)."""
    require_statutory(statutory)
    after = 0
    while True:
        rows = session.exec(
            select(
                Section47Enquiry, col(Case.reference), col(CaseEpisode.referred_at), col(Meeting.reference)
            )
            .join(Case, col(Case.id) == col(Section47Enquiry.case_id))
            .join(CaseEpisode, col(CaseEpisode.id) == col(Section47Enquiry.episode_id))
            .join(Meeting, col(Meeting.id) == col(Section47Enquiry.started_by_meeting_id))
            .where(
                col(Section47Enquiry.started_on) >= started_from,
                col(Section47Enquiry.started_on) <= started_to,
                col(Section47Enquiry.id) > after,
            )
            .order_by(col(Section47Enquiry.id))
            .limit(batch)
        ).all()
        for enquiry, reference, referred_at, started_by in rows:
            yield Section47Row(
                enquiry_id=enquiry.id or 0,
                case_reference=reference,
                referral_date=statutory.local_date(referred_at),
                s47_actual_start_date=enquiry.started_on,
                initial_cpc_target=enquiry.icpc_due_on,
                date_of_initial_cpc=enquiry.icpc_held_on,
                icpc_not_required=enquiry.icpc_state == IcpcState.NOT_REQUIRED,
                started_by=started_by,
                outcome=enquiry.outcome,
                completed_on=enquiry.completed_on,
            )
        if len(rows) < batch:
            return
        after = rows[-1][0].id or 0
