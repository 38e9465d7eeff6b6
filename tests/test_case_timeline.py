"""A case's life on the record, through the services, on SQLite and PostgreSQL with the clock
injected: the referral and its urgency deadline, the section 47 enquiry anchored to the
discussion that started it (follow-ups never restart it), the ICPC and the assessment,
out-of-hours discussions, reviews chased on the day, closure and reopening, and the reads
the Home tab, the minutes and the census use, at a fixed number of statements."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from sqlmodel import Session, func, select

from bot.actions.models import Action, ActionEvent, ActionStatus
from bot.actions.service import NewAction, add_action
from bot.audit.models import AuditEntry
from bot.audit.service import verify_chain
from bot.cases.closure import CloseRequest, ClosureRefused, close_case
from bot.cases.models import Case, CaseEpisode, IcpcState, Section47Enquiry
from bot.cases.reviews import ReviewRefused, claim_due_reviews, no_follow_up_needed
from bot.cases.timeline import (
    TimelineRefused,
    cases_of,
    discussion_clocks,
    record_assessment_outcome,
    record_icpc,
    section_47_rows,
    timeline_of_meeting,
)
from bot.clock import SettableClock
from bot.convening.chasing import first_chase_at
from bot.convening.models import Invitation, Meeting, MeetingState
from bot.database import session_scope
from bot.minutes.decisions import Answer
from bot.minutes.models import Decision
from bot.minutes.recording import WhatWasDecided, WhenAndWho, save_record
from bot.minutes.service import RecordingRefused
from bot.retention.service import plan
from tests.caselife_support import CHAIR, EDT, OTHER_CHAIR, SOCIAL_WORKER, World, counting, make_runtime, utc

FORMS = itertools.count()
AGENCIES = ("csc", "police-ppu", "health", "police-cid", "locate", "yos", "education")


@pytest.fixture
def world(database_url, tmp_path) -> World:
    clock = SettableClock(utc(2026, 11, 10, 10, 0))  # Tuesday 10 November 2026, 10:00 London
    runtime = make_runtime(database_url, clock, tmp_path)
    yield World(runtime, clock)
    runtime.engine.dispose()


def decisions(**changes: Answer) -> dict[str, Answer]:
    answers = {
        "section_47": Answer("start", "Reasonable cause to suspect significant harm."),
        "enquiry_type": Answer("joint", "Children's social care with Force CID"),
        "criminal_investigation": Answer("yes", "CID to open an investigation this week."),
        "medical_assessment": Answer("no", "No injuries reported."),
        "legal_action": Answer("not_yet", "Legal advice sought.", date(2026, 12, 18)),
        "immediate_safety": Answer("", "Safety plan agreed with mother."),
        "sharing_with_family": Answer("yes", "Mother told today; police intelligence withheld."),
        "parents_told": Answer("yes", "Told at the home visit."),
        "icpc": Answer("needed", ""),
        "dissent": Answer("no", ""),
    }
    answers.update(changes)
    return answers


def record(
    world: World,
    meeting: Meeting,
    *,
    start,
    end=None,
    attendance: dict[str, str] | None = None,
    review: date | None = date(2026, 11, 24),
    by: str = CHAIR,
    out_of_hours_reason: str = "",
    quorum_reason: str = "",
    chair_proceeds: bool = False,
    **answers: Answer,
) -> None:
    who = WhenAndWho(
        actual_start=start,
        actual_end=end or start + timedelta(minutes=50),
        out_of_hours_reason=out_of_hours_reason,
        attendance=attendance or dict.fromkeys(AGENCIES, "present"),
        quorum_reason=quorum_reason,
        chair_proceeds=chair_proceeds,
    )
    what = WhatWasDecided(
        threshold_level="complex_significant",
        narrative={"harm": "Criminal exploitation."},
        decisions=decisions(**answers),
        review_date=review,
    )
    with session_scope(world.runtime.engine) as session:
        assert save_record(
            session,
            session.get(Meeting, meeting.id),
            who,
            what,
            member=world.member(by),
            actor=world.actor(by),
            partnership=world.runtime.partnership,
            calendar=world.runtime.calendar,
            statutory=world.runtime.statutory_calendar,
            now=world.clock.now(),
            key=f"form-{next(FORMS)}",
        )


def enquiries(world: World) -> list[Section47Enquiry]:
    with Session(world.runtime.engine) as session:
        return list(session.exec(select(Section47Enquiry).order_by(Section47Enquiry.id)))


def acts(world: World) -> list[str]:
    with Session(world.runtime.engine) as session:
        return [e.act for e in session.exec(select(AuditEntry).order_by(AuditEntry.sequence))]


# ------------------------------------------------------------------ referral and urgency


def test_the_urgency_deadline_counts_from_the_referral_not_the_form(world) -> None:
    # Referred on Friday 6 November at 16:00, convened on Tuesday 10th: urgent (1 working day)
    # was due by the end of Monday 9th, so a late reason is needed.
    late = world.request(referred_at=utc(2026, 11, 6, 16, 0))
    assert "after the deadline (Mon 09 Nov 17:00)" in world.problems(late)["late_reason"]
    meeting = world.convene(referred_at=utc(2026, 11, 6, 16, 0), late_reason="The referral arrived late.")
    assert meeting.deadline == utc(2026, 11, 9, 17, 0)
    assert meeting.referred_at == utc(2026, 11, 6, 16, 0)
    with Session(world.runtime.engine) as session:
        episode = session.get(CaseEpisode, meeting.episode_id)
        assert episode.referred_at == utc(2026, 11, 6, 16, 0)
        assert episode.threshold_level == "complex_significant"
        assert episode.threshold_decided_at == world.clock.now()
    assert acts(world)[:2] == ["case.referral_recorded", "discussion.convened"]


def test_the_referral_is_required_and_not_in_the_future(world) -> None:
    assert "referral was received" in world.problems(world.request(referred_at=None))["referred_at"]
    future = world.request(referred_at=utc(2026, 11, 10, 11, 0))
    assert "future" in world.problems(future)["referred_at"]


def test_a_strategy_discussion_needs_the_threshold(world) -> None:
    problems = world.problems(world.request(right_help_right_time_level="universal"))
    assert "complex / significant" in problems["right_help_right_time_level"]


def test_a_second_discussion_joins_the_open_episode(world) -> None:
    first = world.convene()
    second = world.convene(start=utc(2026, 11, 11, 14, 0), submission_key="second")
    assert first.episode_id == second.episode_id
    with Session(world.runtime.engine) as session:
        assert session.exec(select(func.count()).select_from(CaseEpisode)).one() == 1


# ------------------------------------------------------------------- section 47 and ICPC


def test_section_47_starts_at_the_actual_discussion_and_follow_ups_never_restart_it(world) -> None:
    meeting = world.convene()
    world.clock.set(utc(2026, 11, 10, 15, 30))
    record(world, meeting, start=utc(2026, 11, 10, 14, 10), end=utc(2026, 11, 10, 15, 5))
    [enquiry] = enquiries(world)
    assert enquiry.started_by_meeting_id == meeting.id
    assert enquiry.started_on == date(2026, 11, 10)
    assert enquiry.icpc_due_on == date(2026, 12, 1)  # 15 statutory working days
    # 45 from the referral: Christmas Day, the Boxing Day substitute and New Year's Day left out.
    assert enquiry.assessment_due_on == date(2027, 1, 15)
    stored = world.meeting(meeting.id)
    assert (stored.held_at, stored.ended_at, stored.state) == (
        utc(2026, 11, 10, 14, 10),
        utc(2026, 11, 10, 15, 5),
        MeetingState.HELD,
    )
    # The follow-up, three weeks on, continues the enquiry: its ICPC date stands.
    world.clock.set(utc(2026, 11, 24, 10, 0))
    follow = world.convene(
        meeting_type="follow_up_strategy_discussion",
        follows_reference=meeting.reference,
        urgency="standard",
        start=utc(2026, 11, 25, 10, 0),
        submission_key="follow-up",
    )
    assert follow.episode_id == meeting.episode_id and follow.follows_meeting_id == meeting.id
    assert world.meeting(meeting.id).review_state == "followed_up"
    world.clock.set(utc(2026, 11, 25, 11, 0))
    with pytest.raises(RecordingRefused, match="Record the decision: Continue"):
        record(world, follow, start=utc(2026, 11, 25, 10, 0), review=date(2026, 12, 9))  # no "start" again
    record(
        world,
        follow,
        start=utc(2026, 11, 25, 10, 0),
        review=date(2026, 12, 9),
        section_47=Answer("continue", "Progressing."),
    )
    [still] = enquiries(world)
    assert (still.id, still.icpc_due_on, still.started_on) == (
        enquiry.id,
        date(2026, 12, 1),
        date(2026, 11, 10),
    )
    with Session(world.runtime.engine) as session:
        clocks = discussion_clocks(session, session.get(Meeting, follow.id))
    assert clocks.section_47_started_by == meeting.reference
    assert not clocks.section_47_started_here
    assert clocks.icpc_due_on == date(2026, 12, 1)
    assert clocks.follows == meeting.reference


def test_recording_again_moves_the_start_only_until_the_icpc_is_recorded(world) -> None:
    meeting = world.convene()
    world.clock.set(utc(2026, 11, 12, 9, 0))
    record(world, meeting, start=utc(2026, 11, 10, 14, 0))
    # Recorded again: it actually began on Wednesday 11th (a correction).
    record(world, meeting, start=utc(2026, 11, 11, 14, 0))
    [enquiry] = enquiries(world)
    assert (enquiry.started_on, enquiry.icpc_due_on) == (date(2026, 11, 11), date(2026, 12, 2))
    assert "section_47.start_corrected" in acts(world)
    # Recorded again with no section 47 enquiries: the enquiry it started is withdrawn.
    record(
        world,
        meeting,
        start=utc(2026, 11, 11, 14, 0),
        section_47=Answer("no_enquiries", "Threshold not met after all."),
        enquiry_type=Answer("not_applicable", ""),
        icpc=Answer("not_needed", ""),
    )
    assert enquiries(world) == []
    assert "section_47.withdrawn" in acts(world)


def test_decisions_are_cross_checked_against_each_other_and_attendance(world) -> None:
    meeting = world.convene()
    world.clock.set(utc(2026, 11, 10, 16, 0))
    start = utc(2026, 11, 10, 14, 0)
    with pytest.raises(RecordingRefused, match="follows section 47 enquiries"):
        record(
            world,
            meeting,
            start=start,
            section_47=Answer("no_enquiries", "Not met."),
            enquiry_type=Answer("not_applicable", ""),
        )
    no_police = {
        **dict.fromkeys(AGENCIES, "present"),
        "police-ppu": "apologies",
        "police-cid": "did_not_respond",
    }
    with pytest.raises(RecordingRefused, match="joint enquiry needs the police"):
        record(
            world,
            meeting,
            start=start,
            attendance=no_police,
            quorum_reason="Police called away.",
            chair_proceeds=True,
        )
    with pytest.raises(RecordingRefused, match="give the date it will be decided by"):
        record(world, meeting, start=start, medical_assessment=Answer("not_yet", "Awaiting the GP."))
    assert enquiries(world) == [] and world.meeting(meeting.id).state == MeetingState.SCHEDULED


def test_the_quorum_is_actual_attendance_and_a_missing_core_agency_needs_the_chair(world) -> None:
    meeting = world.convene()
    world.clock.set(utc(2026, 11, 10, 16, 0))
    health_in_writing = {**dict.fromkeys(AGENCIES, "present"), "health": "written_update"}
    with pytest.raises(RecordingRefused, match="did not take part"):
        record(world, meeting, start=utc(2026, 11, 10, 14, 0), attendance=health_in_writing)
    record(
        world,
        meeting,
        start=utc(2026, 11, 10, 14, 0),
        attendance=health_in_writing,
        quorum_reason="The named nurse was in clinic; her update was read out.",
        chair_proceeds=True,
    )
    with Session(world.runtime.engine) as session:
        quorum = session.exec(
            select(Decision).where(Decision.meeting_id == meeting.id, Decision.topic == "quorum")
        ).one()
        audit = session.exec(select(AuditEntry).where(AuditEntry.act == "discussion.recorded")).one()
    assert quorum.outcome == "proceed" and quorum.details["health_written_only"] is True
    assert quorum.details["missing"] == ["Birmingham Community Healthcare - Safeguarding Children Team"]
    assert quorum.reason == "The named nurse was in clinic; her update was read out."
    assert audit.details["health_written_only"] is True


def test_the_icpc_and_the_assessment_are_recorded_as_the_census_requires(world) -> None:
    meeting = world.convene()
    world.clock.set(utc(2026, 11, 10, 16, 0))
    record(world, meeting, start=utc(2026, 11, 10, 14, 0))
    [enquiry] = enquiries(world)
    statutory = world.runtime.statutory_calendar
    today = date(2026, 12, 4)
    world.clock.set(utc(2026, 12, 4, 10, 0))

    def icpc(held_on=None, reason=""):
        with session_scope(world.runtime.engine) as session:
            return record_icpc(
                session,
                enquiry.id,
                held_on=held_on,
                not_required_reason=reason,
                statutory=statutory,
                actor=world.actor(SOCIAL_WORKER),
                today=today,
                now=world.clock.now(),
            )

    def outcome(**kw):
        with session_scope(world.runtime.engine) as session:
            return record_assessment_outcome(
                session,
                enquiry.id,
                actor=world.actor(SOCIAL_WORKER),
                today=today,
                now=world.clock.now(),
                **kw,
            )

    with pytest.raises(TimelineRefused, match="Record the ICPC first"):
        outcome(substantiated="substantiated", outcome="child_in_need_plan", completed_on=today)
    with pytest.raises(TimelineRefused, match="before section 47 enquiries started"):
        icpc(date(2026, 11, 9))
    with pytest.raises(TimelineRefused, match="weekend"):
        icpc(date(2026, 11, 28))
    with pytest.raises(TimelineRefused, match="future"):
        icpc(date(2026, 12, 7))
    with pytest.raises(TimelineRefused, match="not both"):
        icpc(date(2026, 12, 2), "Not needed")
    held = icpc(date(2026, 12, 2))  # a day after the target of Tue 1 December
    assert (held.icpc_state, held.icpc_held_on) == (IcpcState.HELD, date(2026, 12, 2))
    with Session(world.runtime.engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.act == "section_47.icpc_recorded")).one()
    assert entry.details["within_target"] is False
    done = outcome(substantiated="substantiated", outcome="child_protection_plan", completed_on=today)
    assert (done.outcome, done.completed_on) == ("child_protection_plan", today)
    with Session(world.runtime.engine) as session:
        [row] = list(
            section_47_rows(
                session, started_from=date(2026, 4, 1), started_to=date(2027, 3, 31), statutory=statutory
            )
        )
    assert (row.case_reference, row.referral_date, row.s47_actual_start_date, row.initial_cpc_target) == (
        "CS-1234567",
        date(2026, 11, 10),
        date(2026, 11, 10),
        date(2026, 12, 1),
    )
    assert (row.date_of_initial_cpc, row.icpc_not_required) == (date(2026, 12, 2), False)


# ------------------------------------------------------------------------- out of hours


def test_out_of_hours_needs_an_emergency_duty_convenor_and_a_reason(world) -> None:
    world.clock.set(utc(2026, 11, 14, 21, 0))  # Saturday night
    saturday = dict(
        start=utc(2026, 11, 14, 22, 0), referred_at=utc(2026, 11, 14, 20, 30), chair_slack_id=OTHER_CHAIR
    )
    problems = world.problems(world.request(**saturday))
    assert "That is a Saturday. Only an emergency duty convenor" in problems["start"]
    edt = world.member(EDT)
    problems = world.problems(world.request(convenor=edt, **saturday))
    assert "cannot wait" in problems["out_of_hours_reason"]
    meeting = world.convene(convenor=edt, out_of_hours_reason="Found at a trap house tonight.", **saturday)
    assert meeting.out_of_hours and meeting.out_of_hours_reason == "Found at a trap house tonight."
    # Chasing keeps to the service calendar: the first reminder goes on Monday morning.
    with Session(world.runtime.engine) as session:
        chased = [
            i.next_chase_at
            for i in session.exec(select(Invitation).where(Invitation.meeting_id == meeting.id))
        ]
    monday = first_chase_at(world.runtime.partnership, world.runtime.calendar, "urgent", world.clock.now())
    assert monday == utc(2026, 11, 16, 10, 0)
    assert set(chased) - {None} == {monday}
    # The emergency duty convenor records it at 23:30, with its actual times.
    world.clock.set(utc(2026, 11, 14, 23, 30))
    with pytest.raises(RecordingRefused, match="held out of hours"):
        record(world, meeting, start=utc(2026, 11, 14, 22, 5), end=utc(2026, 11, 14, 22, 50), by=EDT)
    record(
        world,
        meeting,
        start=utc(2026, 11, 14, 22, 5),
        end=utc(2026, 11, 14, 22, 50),
        by=EDT,
        out_of_hours_reason="Found at a trap house tonight.",
        review=date(2026, 11, 17),
    )
    stored = world.meeting(meeting.id)
    assert stored.out_of_hours and stored.held_at == utc(2026, 11, 14, 22, 5)
    [enquiry] = enquiries(world)
    # Started on Saturday 14th: the ICPC is 15 working days on, counting from Monday.
    assert (enquiry.started_on, enquiry.icpc_due_on) == (date(2026, 11, 14), date(2026, 12, 4))
    # Its actions are chased from the next working day, not at night.
    with session_scope(world.runtime.engine) as session:
        action, _ = add_action(
            session,
            session.get(Meeting, meeting.id),
            NewAction("Return home interview", "U0LOC001", "immediate", None, "CS-1234567"),
            partnership=world.runtime.partnership,
            calendar=world.runtime.calendar,
            actor=world.actor(EDT),
            key="ooh-action",
            now=world.clock.now(),
        )
        assert world.runtime.calendar.is_working_time(action.next_chase_at)
        assert action.next_chase_at.date() == date(2026, 11, 16)


def test_a_discussion_held_by_phone_is_recorded_after_the_fact(world) -> None:
    world.clock.set(utc(2026, 11, 16, 9, 30))  # Monday morning
    sunday = dict(
        convenor=world.member(EDT),
        start=utc(2026, 11, 15, 2, 0),
        referred_at=utc(2026, 11, 15, 1, 15),
        held_already=True,
        out_of_hours_reason="Police protection used overnight.",
        urgency="immediate",
        chair_slack_id=OTHER_CHAIR,
    )
    without = world.request(**{**sunday, "held_already": False})
    assert "tick 'Already held'" in world.problems(without)["start"]
    meeting = world.convene(**sunday)
    record(
        world,
        meeting,
        start=utc(2026, 11, 15, 2, 10),
        end=utc(2026, 11, 15, 2, 40),
        by=EDT,
        out_of_hours_reason="Police protection used overnight.",
        review=date(2026, 11, 18),
    )
    with Session(world.runtime.engine) as session:
        clocks = discussion_clocks(session, session.get(Meeting, meeting.id))
    assert (clocks.actual_start, clocks.actual_end) == (utc(2026, 11, 15, 2, 10), utc(2026, 11, 15, 2, 40))
    assert clocks.held_within_deadline is True  # immediate: by the end of Monday 16th
    assert clocks.out_of_hours


# ------------------------------------------------------------------------------ reviews


def test_the_review_date_is_chased_on_the_day_then_the_chair_is_told(world) -> None:
    meeting = world.convene()
    world.clock.set(utc(2026, 11, 10, 16, 0))
    record(world, meeting, start=utc(2026, 11, 10, 14, 0), review=date(2026, 11, 21))  # a Saturday

    def claim():
        with session_scope(world.runtime.engine) as session:
            return claim_due_reviews(session, calendar=world.runtime.calendar, now=world.clock.now())

    world.clock.set(utc(2026, 11, 21, 10, 0))
    assert claim() == []  # the weekend: chased on Monday
    world.clock.set(utc(2026, 11, 23, 9, 0))
    [due] = claim()
    assert (due.step, due.reference, due.case_reference) == ("review_day", meeting.reference, "CS-1234567")
    assert claim() == []  # claimed once
    world.clock.set(utc(2026, 11, 24, 9, 0))
    [overdue] = claim()
    assert overdue.step == "review_overdue"
    world.clock.set(utc(2026, 11, 25, 9, 0))
    assert claim() == []  # two steps, then the timeline shows it overdue
    assert acts(world).count("review.chased") == 2
    with (
        session_scope(world.runtime.engine) as session,
        pytest.raises(ReviewRefused, match="convenor or the chair"),
    ):
        no_follow_up_needed(
            session,
            meeting.id,
            "Plan in place.",
            member=world.member("U0HLT001"),
            actor=world.actor("U0HLT001"),
            now=world.clock.now(),
        )
    with session_scope(world.runtime.engine) as session:
        no_follow_up_needed(
            session,
            meeting.id,
            "The child protection plan covers it.",
            member=world.member(SOCIAL_WORKER),
            actor=world.actor(SOCIAL_WORKER),
            now=world.clock.now(),
        )
    assert world.meeting(meeting.id).review_state == "not_needed"
    assert "review.not_needed" in acts(world)


# ------------------------------------------------------------------------------- closure


def _add_action(world: World, meeting: Meeting, key: str) -> Action:
    with session_scope(world.runtime.engine) as session:
        action, _ = add_action(
            session,
            session.get(Meeting, meeting.id),
            NewAction("Return home interview", "U0LOC001", "normal", None, "CS-1234567"),
            partnership=world.runtime.partnership,
            calendar=world.runtime.calendar,
            actor=world.actor(CHAIR),
            key=key,
            now=world.clock.now(),
        )
        return action


def _close(world: World, meeting: Meeting, request: CloseRequest, by: str = SOCIAL_WORKER):
    with session_scope(world.runtime.engine) as session:
        return close_case(
            session,
            meeting.episode_id,
            request,
            member=world.member(by),
            actor=world.actor(by),
            partnership=world.runtime.partnership,
            now=world.clock.now(),
        )


def test_a_case_closes_only_when_its_actions_are_done_or_handed_on(world) -> None:
    meeting = world.convene()
    world.clock.set(utc(2026, 11, 10, 16, 0))
    record(
        world,
        meeting,
        start=utc(2026, 11, 10, 14, 0),
        section_47=Answer("no_enquiries", "Threshold for enquiries not met."),
        enquiry_type=Answer("not_applicable", ""),
        icpc=Answer("not_needed", ""),
    )
    action = _add_action(world, meeting, "a1")
    follow = world.convene(
        meeting_type="follow_up_strategy_discussion",
        follows_reference=meeting.reference,
        urgency="standard",
        start=utc(2026, 11, 13, 10, 0),
        submission_key="f1",
    )
    with pytest.raises(ClosureRefused, match="Only the convenor or the chair"):
        _close(world, meeting, CloseRequest("child_in_need_plan", "Plan agreed."), by="U0HLT001")
    with pytest.raises(ClosureRefused) as refused:
        _close(world, meeting, CloseRequest("child_in_need_plan", "Plan agreed."))
    assert action.reference in str(refused.value)
    assert "handed on to the lead professional of the child in need plan" in str(refused.value)
    with pytest.raises(ClosureRefused, match="nobody takes them on"):
        _close(world, meeting, CloseRequest("no_further_action", "Closed.", hand_on=True))
    with pytest.raises(ClosureRefused, match="must not name the child"):
        _close(world, meeting, CloseRequest("child_in_need_plan", "Jayden is safe now.", hand_on=True))
    closed = _close(
        world,
        meeting,
        CloseRequest("child_in_need_plan", "Plan agreed.", hand_on=True, hand_on_note="Lead: IC"),
    )
    assert closed.handed_on == [action.reference]
    assert [m.reference for m in closed.cancelled] == [follow.reference]
    assert closed.records_kept_until == date(2051, 11, 10)
    assert (
        _close(world, meeting, CloseRequest("child_in_need_plan", "Plan agreed.", hand_on=True)).closed_now
        is False
    )
    with Session(world.runtime.engine) as session:
        case = session.exec(select(Case)).one()
        stored = session.get(Action, action.id)
        event = session.exec(select(ActionEvent).where(ActionEvent.kind == "handed_on")).one()
        cancelled = session.get(Meeting, follow.id)
        invitations = session.exec(select(Invitation).where(Invitation.meeting_id == follow.id)).all()
        assert case.closed_at == world.clock.now()
        assert (stored.status, stored.next_chase_at) == (ActionStatus.HANDED_ON, None)
        assert event.details == {"to": "the lead professional of the child in need plan", "note": "Lead: IC"}
        assert cancelled.state == MeetingState.CANCELLED and "The case closed" in cancelled.cancelled_reason
        assert all(i.next_chase_at is None for i in invitations)
        assert session.get(Meeting, meeting.id).review_state == "followed_up"
        assert verify_chain(session) == []
    assert {"action.handed_on", "discussion.cancelled", "case.closed"} <= set(acts(world))
    # The retention clock: 25 years after closure, not a day before.
    with Session(world.runtime.engine) as session:
        world.clock.set(utc(2051, 11, 8, 10, 0))
        assert plan(session, world.runtime.partnership, world.clock.now()).cases == []
        world.clock.set(utc(2051, 11, 12, 10, 0))
        assert [c.reference for c in plan(session, world.runtime.partnership, world.clock.now()).cases] == [
            "CS-1234567"
        ]


def test_an_enquiry_without_an_outcome_keeps_the_case_open_and_a_new_referral_reopens_it(world) -> None:
    meeting = world.convene()
    world.clock.set(utc(2026, 11, 10, 16, 0))
    record(world, meeting, start=utc(2026, 11, 10, 14, 0))
    with pytest.raises(ClosureRefused, match="has no outcome yet"):
        _close(world, meeting, CloseRequest("no_further_action", "Closed."))
    [enquiry] = enquiries(world)
    with session_scope(world.runtime.engine) as session:
        record_icpc(
            session,
            enquiry.id,
            held_on=None,
            not_required_reason="Risk reduced: the child moved to family out of area.",
            statutory=world.runtime.statutory_calendar,
            actor=world.actor(SOCIAL_WORKER),
            today=date(2026, 11, 10),
            now=world.clock.now(),
        )
        record_assessment_outcome(
            session,
            enquiry.id,
            substantiated="not_substantiated",
            outcome="no_further_action",
            completed_on=date(2026, 11, 10),
            actor=world.actor(SOCIAL_WORKER),
            today=date(2026, 11, 10),
            now=world.clock.now(),
        )
    assert world.meeting(meeting.id).review_state == "due"
    _close(world, meeting, CloseRequest("no_further_action", "Concerns not substantiated."))
    assert world.meeting(meeting.id).review_state == "ended"  # its review is no longer chased
    # A year later, a new referral: a new episode, the case reopened and its retention clock stopped.
    world.clock.set(utc(2027, 11, 9, 10, 0))
    again = world.convene(start=utc(2027, 11, 9, 14, 0), submission_key="again")
    assert again.episode_id != meeting.episode_id
    with Session(world.runtime.engine) as session:
        assert session.exec(select(Case)).one().closed_at is None
        assert session.exec(select(func.count()).select_from(CaseEpisode)).one() == 2
    assert "case.reopened" in acts(world)
    follow = world.request(
        meeting_type="follow_up_strategy_discussion", follows_reference=meeting.reference, urgency="standard"
    )
    assert "The case was closed" in world.problems(follow)["follows"]


# ------------------------------------------------------------------ reads at a fixed cost


def test_the_timeline_home_page_and_census_cost_the_same_however_long_the_case(world) -> None:
    meeting = world.convene()
    world.clock.set(utc(2026, 11, 10, 16, 0))
    record(world, meeting, start=utc(2026, 11, 10, 14, 0))
    earlier = meeting
    for n in range(3):
        world.clock.set(utc(2026, 11, 11 + n, 9, 0))
        earlier = world.convene(
            meeting_type="follow_up_strategy_discussion",
            follows_reference=earlier.reference,
            urgency="standard",
            start=utc(2026, 11, 11 + n, 14, 0),
            submission_key=f"f{n}",
        )

    def costs() -> tuple[int, int, int]:
        runtime = world.runtime
        with Session(runtime.engine) as session, counting(runtime.engine) as timeline_sql:
            timeline = timeline_of_meeting(
                session,
                session.get(Meeting, meeting.id),
                partnership=runtime.partnership,
                statutory=runtime.statutory_calendar,
                now=world.clock.now(),
            )
        with Session(runtime.engine) as session, counting(runtime.engine) as home_sql:
            rows, _ = cases_of(
                session,
                world.member(SOCIAL_WORKER).person_id,
                statutory=runtime.statutory_calendar,
                now=world.clock.now(),
            )
        with Session(runtime.engine) as session, counting(runtime.engine) as census_sql:
            list(
                section_47_rows(
                    session,
                    started_from=date(2026, 1, 1),
                    started_to=date(2027, 12, 31),
                    statutory=runtime.statutory_calendar,
                    batch=2,
                )
            )
        assert timeline is not None and rows
        return len(timeline_sql), len(home_sql), len(census_sql)

    small = costs()
    for n in range(20):
        world.clock.set(utc(2026, 11, 16, 9, 0) + timedelta(days=n))
        start = world.runtime.calendar.earliest_slot(world.clock.now() + timedelta(hours=1))
        earlier = world.convene(
            meeting_type="follow_up_strategy_discussion",
            follows_reference=earlier.reference,
            urgency="standard",
            start=start,
            submission_key=f"g{n}",
        )
    assert costs()[:2] == small[:2]
    with Session(world.runtime.engine) as session:
        timeline = timeline_of_meeting(
            session,
            session.get(Meeting, meeting.id),
            partnership=world.runtime.partnership,
            statutory=world.runtime.statutory_calendar,
            now=world.clock.now(),
        )
    assert len(timeline.discussions) == 10 and timeline.earlier_discussions == 14
    assert timeline.enquiry is not None and timeline.enquiry.icpc_due_on == date(2026, 12, 1)


def test_the_home_page_is_paged(world) -> None:
    for n in range(11):
        world.convene(
            case_reference=f"CS-70000{n:02d}", child_name=f"Child Number{n}", submission_key=f"c{n}"
        )
    person = world.member(SOCIAL_WORKER).person_id
    with Session(world.runtime.engine) as session:
        first, more = cases_of(
            session, person, statutory=world.runtime.statutory_calendar, now=world.clock.now()
        )
        second, more_again = cases_of(
            session, person, statutory=world.runtime.statutory_calendar, now=world.clock.now(), page=1
        )
        theirs, _ = cases_of(
            session,
            world.member("U0HLT001").person_id,
            statutory=world.runtime.statutory_calendar,
            now=world.clock.now(),
        )
    assert (len(first), more, len(second), more_again) == (8, True, 3, False)
    assert {r.case_reference for r in first}.isdisjoint({r.case_reference for r in second})
    assert theirs == []


# ------------------------------------------------------------------------ the migration


def test_the_migration_puts_existing_discussions_on_a_timeline(engine) -> None:
    """A record from before this version (the schema at 0002, with an invitation referring to
    the discussions, as a pilot's database would have): upgrading gives its discussions an
    episode, and the one that started section 47 enquiries its enquiry, with the statutory
    dates. Columns are added in place, so SQLite keeps the rows that refer to `meeting`."""
    from sqlalchemy import text

    from bot.database import upgrade
    from bot.models import metadata

    metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
    upgrade(engine, "0002")
    meeting_row = (
        "INSERT INTO meeting (id, reference, meeting_type, case_id, state, urgency, format, reason, concerns, "
        "right_help_right_time_level, scheduled_start, duration_minutes, late_reason, calendar_sequence, "
        "cancelled_reason, details, created_at, held_at) VALUES (:id, :ref, 'strategy_discussion', 1, 'held', "
        "'urgent', 'call', 'r', '[]', 'complex_significant', :start, 60, '', 0, '', '{}', :created, :start)"
    )
    with engine.begin() as connection:
        connection.execute(
            text(
                'INSERT INTO "case" (id, reference, subject_kind, subject_label, child_name, child_address, school, '
                "siblings_and_others_at_risk, right_help_right_time_level, created_at) VALUES "
                "(1, 'CS-1234567', 'child', '', 'A Child', '', '', '', 'complex_significant', '2025-12-18 10:00:00')"
            )
        )
        for id_, ref, start in (
            (1, "SD-2025-0001", "2025-12-19 10:00:00"),
            (2, "SD-2026-0001", "2026-01-07 10:00:00"),
        ):
            connection.execute(
                text(meeting_row), {"id": id_, "ref": ref, "start": start, "created": "2025-12-18 16:00:00"}
            )
        connection.execute(
            text("INSERT INTO agency (id, code, name, kind, active) VALUES (1, 'csc', 'CSC', 'x', true)")
        )
        connection.execute(
            text(
                "INSERT INTO invitation (meeting_id, agency_id, required, why, state, decline_reason, chase_step, "
                "created_at) VALUES (1, 1, true, 'required', 'attending', '', 0, '2025-12-18 16:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO decision (meeting_id, topic, outcome, reason, details, recorded_at) VALUES "
                "(1, 'section_47', 'start', 'Significant harm', '{}', '2025-12-19 11:00:00'), "
                "(2, 'section_47', 'start', 'Still', '{}', '2026-01-07 11:00:00')"
            )
        )
    upgrade(engine)
    with Session(engine) as session:
        [episode] = session.exec(select(CaseEpisode)).all()
        [enquiry] = session.exec(select(Section47Enquiry)).all()
        meetings = session.exec(select(Meeting).order_by(Meeting.id)).all()
        assert len(session.exec(select(Invitation)).all()) == 1
    assert (episode.state, episode.referred_at) == ("open", utc(2025, 12, 18, 16, 0))
    assert [m.episode_id for m in meetings] == [episode.id, episode.id]
    assert [m.referred_at for m in meetings] == [utc(2025, 12, 18, 16, 0)] * 2
    assert [m.out_of_hours for m in meetings] == [False, False]
    # One enquiry, started at the first discussion; its ICPC 15 statutory working days on
    # (the partnership's closure days would have made it Monday 19 January).
    assert (enquiry.started_by_meeting_id, enquiry.started_on, enquiry.icpc_due_on) == (
        1,
        date(2025, 12, 19),
        date(2026, 1, 14),
    )
    assert enquiry.assessment_due_on == date(2026, 2, 24)
