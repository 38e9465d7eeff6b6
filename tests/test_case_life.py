"""The life of a case through Slack, as people drive it, on SQLite and PostgreSQL with the
clock injected: the referral on the form, concerns that decide who is invited, out-of-hours
convening, the follow-up that keeps the ICPC anchored, the review day's message, the
timeline in `/strategy REF` with its ICPC, outcome and closing forms, closure, the Home
tab's cases; refusals from the guard in the same words whether or not the record exists."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlmodel import Session, select

from bot.actions.models import Action, ActionStatus
from bot.audit.models import AuditEntry
from bot.cases.jobs import sweep_reviews
from bot.cases.models import Case, CaseEpisode, IcpcState, Section47Enquiry
from bot.convening.models import Invitation, Meeting
from bot.partnership.models import Agency
from bot_offline.local_slack.signed_client import StateValue
from tests.convening_support import (
    CHAIR,
    CHILD_NAME,
    HEALTH,
    SOCIAL_WORKER,
    all_slack_text,
    at,
    convene,
    open_form,
    settle,
    status_text,
    submit,
)
from tests.minutes_support import action_values, decision_values, record_steps
from tests.test_minutes import AFTER_THE_MEETING, AGENCIES, _open

EDT = "U0CSC007"
OTHER_CHAIR = "U0CSC005"
LOCATE = "U0LOC001"


def _meetings(bot) -> list[Meeting]:
    with Session(bot.runtime.engine) as session:
        return list(session.exec(select(Meeting).order_by(Meeting.id)))


def _invited(bot, meeting: Meeting) -> set[str]:
    with Session(bot.runtime.engine) as session:
        return set(
            session.exec(
                select(Agency.code)
                .join(Invitation, Invitation.agency_id == Agency.id)
                .where(Invitation.meeting_id == meeting.id)
            )
        )


def _acts(bot) -> list[str]:
    with Session(bot.runtime.engine) as session:
        return [e.act for e in session.exec(select(AuditEntry).order_by(AuditEntry.sequence))]


def _record(bot, meeting, user=CHAIR, agencies=AGENCIES, **what) -> None:
    view = _open(bot, user, "/strategy", f"record {meeting.reference}", "Record discussion")
    _, response = record_steps(bot, user, view, agencies, what=what)
    assert response.json() == {"response_action": "clear"}, response.body
    settle(bot)


def _ephemeral(bot, user: str, text: str) -> dict:
    response = bot.slack.command("/strategy", text, user_id=user)
    assert response.status == 200
    return response.json()


def _blocks_text(message: dict) -> str:
    return json.dumps(message.get("blocks", []), ensure_ascii=False) + message.get("text", "")


def _click(bot, user: str, action_id: str, value: str) -> None:
    bot.slack.block_actions(user, [{"action_id": action_id, "value": value, "type": "button"}])
    settle(bot)


def _opened(bot, title: str) -> dict:
    """The next form with this title (one opened before is not taken again)."""
    seen = bot.__dict__.setdefault("_views_taken", set())

    def fresh(calls):
        return [
            c
            for c in calls
            if c.method == "views.open"
            and title in json.dumps(c.args)
            and c.response["view"]["id"] not in seen
        ]

    call = fresh(bot.local_slack.wait_for(fresh))[-1]
    seen.add(call.response["view"]["id"])
    return call.response["view"]


# --------------------------------------------------------------------- convening


def test_the_form_asks_for_the_referral_and_the_deadline_counts_from_it(bot) -> None:
    view = open_form(bot)
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["referred_at"]["element"]["initial_date_time"] == int(bot.clock.now().timestamp())
    # Referred on Friday 6 November: urgent was due by the end of Monday 9th.
    late = submit(bot, view, referred_at=StateValue.datetimepicker(at(2026, 11, 6, 16, 0))).json()
    assert "after the deadline (Mon 09 Nov 17:00)" in late["errors"]["late_reason"]
    meeting = convene(bot, referred_at=StateValue.datetimepicker(at(2026, 11, 10, 9, 30)))
    assert meeting.referred_at == datetime(2026, 11, 10, 9, 30, tzinfo=UTC)
    assert meeting.deadline == datetime(2026, 11, 11, 17, 0, tzinfo=UTC)


def test_concerns_decide_who_is_invited(bot) -> None:
    family = convene(
        bot,
        concerns=StateValue.checkboxes([]),
        concerns_family=StateValue.checkboxes(["neglect", "physical_abuse"]),
    )
    assert _invited(bot, family) == {"csc", "police-ppu", "health"}
    view = open_form(bot, text="CS-7654321")
    other = submit(
        bot,
        view,
        case_reference=StateValue.text("CS-7654321"),
        child_name=StateValue.text("Amara Test-Child"),
        concerns=StateValue.checkboxes([]),
        concerns_other=StateValue.checkboxes(["other"]),
    ).json()
    assert "choose which agencies to add" in other["errors"]["extra_agencies"]
    added = convene(
        bot,
        case_reference=StateValue.text("CS-7654321"),
        child_name=StateValue.text("Amara Test-Child"),
        concerns=StateValue.checkboxes([]),
        concerns_other=StateValue.checkboxes(["other"]),
        extra_agencies=StateValue.multi_static_select(["education"]),
    )
    assert _invited(bot, added) == {"csc", "police-ppu", "health", "education"}
    exploitation = convene(
        bot,
        case_reference=StateValue.text("CS-5550001"),
        child_name=StateValue.text("Kai Test-Example"),
        concerns=StateValue.checkboxes(["county_lines"]),
    )
    assert _invited(bot, exploitation) == {
        "csc",
        "police-ppu",
        "health",
        "police-cid",
        "locate",
        "yos",
        "education",
    }


def test_out_of_hours_only_an_emergency_duty_convenor_with_a_reason(bot) -> None:
    bot.clock.set(datetime(2026, 11, 14, 21, 0, tzinfo=UTC))  # Saturday night
    saturday = {
        "start": StateValue.datetimepicker(at(2026, 11, 14, 22, 0)),
        "chair": StateValue.static_select(OTHER_CHAIR),
    }
    refused = submit(bot, open_form(bot), **saturday).json()
    assert "Only an emergency duty convenor" in refused["errors"]["start"]
    view = open_form(bot, user_id=EDT)
    no_reason = submit(bot, view, user_id=EDT, **saturday).json()
    assert "cannot wait" in no_reason["errors"]["out_of_hours_reason"]
    response = submit(
        bot,
        view,
        user_id=EDT,
        out_of_hours_reason=StateValue.text("Found at a trap house tonight."),
        **saturday,
    )
    assert response.body in ("", "{}"), response.body
    settle(bot)
    [meeting] = _meetings(bot)
    assert meeting.out_of_hours
    assert "Out of hours:* Found at a trap house tonight." in status_text(bot, meeting.id)
    # The emergency duty convenor records it that night, with its real times.
    bot.clock.set(datetime(2026, 11, 14, 23, 30, tzinfo=UTC))
    view = _open(bot, EDT, "/strategy", f"record {meeting.reference}", "Record discussion")
    assert json.loads(view["private_metadata"])["step"] == 1
    _, response = record_steps(
        bot,
        EDT,
        view,
        AGENCIES,
        who={
            "actual_start": StateValue.datetimepicker(at(2026, 11, 14, 22, 5)),
            "actual_end": StateValue.datetimepicker(at(2026, 11, 14, 22, 55)),
            "out_of_hours_reason": StateValue.text("Found at a trap house tonight."),
        },
        what={
            "review_date": StateValue.datepicker("2026-11-17"),
            "legal_action_by": StateValue.datepicker("2026-11-20"),
        },
    )
    assert response.json() == {"response_action": "clear"}, response.body
    settle(bot)
    [stored] = _meetings(bot)
    assert (stored.held_at, stored.ended_at) == (
        datetime(2026, 11, 14, 22, 5, tzinfo=UTC),
        datetime(2026, 11, 14, 22, 55, tzinfo=UTC),
    )
    # Nothing is chased before Monday morning.
    with Session(bot.runtime.engine) as session:
        enquiry = session.exec(select(Section47Enquiry)).one()
    assert str(enquiry.icpc_due_on) == "2026-12-04"


# --------------------------------------------------- follow-up, review, timeline, closure


def test_a_case_from_referral_to_closure_through_slack(bot) -> None:
    first = convene(bot)
    bot.clock.set(AFTER_THE_MEETING)
    bot.slack.command("/actions", f"add {first.reference}", user_id=CHAIR)
    action_view = _opened(bot, "Add an action")
    bot.slack.view_submission(CHAIR, action_view, values=action_values(LOCATE, priority="high"))
    settle(bot)
    _record(bot, first)
    assert "ICPC:* by Tue 01 Dec 2026 (15 working days after this discussion" in status_text(bot, first.id)

    # On the review day the convenor is asked to convene the follow-up or say why not.
    bot.clock.set(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    assert sweep_reviews(bot.runtime) == 1
    settle(bot)
    [review] = [
        c for c in bot.local_slack.calls_to("chat.postMessage") if "review_follow_up" in json.dumps(c.args)
    ]
    assert review.args["channel"] == SOCIAL_WORKER and first.reference in review.args["text"]
    # Someone else pressing it is refused, as for any discussion, and it is audited.
    _click(bot, HEALTH, "review_follow_up", str(first.id))
    told = [
        c.args["text"]
        for c in bot.local_slack.calls_to("chat.postMessage")
        if c.args.get("channel") == HEALTH
    ]
    assert "Only a convenor involved in the discussion can convene its follow-up." in told
    assert "discussion.follow_up_refused" in _acts(bot)
    _click(bot, SOCIAL_WORKER, "review_follow_up", str(first.id))
    form = _opened(bot, "Follow-up discussion")
    blocks = {b.get("block_id"): b for b in form["blocks"]}
    assert "child_name" not in blocks and "case_reference" not in blocks and "referred_at" not in blocks
    assert "ICPC by Tue 01 Dec 2026, anchored to SD-2026-0001" in json.dumps(form)
    assert blocks["chair"]["element"]["initial_option"]["value"] == CHAIR
    values = {
        "reason": {"value": StateValue.text("Review of progress and the new missing episode.")},
        "concerns": {"value": StateValue.checkboxes(["county_lines", "missing"])},
        "right_help_right_time_level": {"value": StateValue.static_select("complex_significant")},
        "urgency": {"value": StateValue.static_select("standard")},
        "start": {"value": StateValue.datetimepicker(at(2026, 11, 25, 10, 0))},
        "held_already": {"value": StateValue.checkboxes([])},
        "late_reason": {"value": StateValue.text(None)},
        "out_of_hours_reason": {"value": StateValue.text(None)},
        "format": {"value": StateValue.radio_buttons("call")},
        "chair": {"value": StateValue.static_select(CHAIR)},
        "extra_agencies": {"value": StateValue.multi_static_select([])},
        "extra_people": {"value": StateValue.multi_users_select([])},
    }
    response = bot.slack.view_submission(SOCIAL_WORKER, form, values=values)
    assert response.body in ("", "{}"), response.body
    settle(bot)
    follow = _meetings(bot)[-1]
    assert (follow.meeting_type, follow.follows_meeting_id, follow.episode_id) == (
        "follow_up_strategy_discussion",
        first.id,
        first.episode_id,
    )
    assert _meetings(bot)[0].review_state == "followed_up"
    bot.clock.set(datetime(2026, 11, 25, 11, 0, tzinfo=UTC))
    view = _open(bot, CHAIR, "/strategy", f"record {follow.reference}", "Record discussion")
    step_two, response = record_steps(
        bot,
        CHAIR,
        view,
        AGENCIES,
        who={
            "actual_start": StateValue.datetimepicker(at(2026, 11, 25, 10, 0)),
            "actual_end": StateValue.datetimepicker(at(2026, 11, 25, 10, 40)),
        },
        what={
            "review_date": StateValue.datepicker("2026-12-09"),
            "legal_action_by": StateValue.datepicker("2026-12-01"),
        },
    )
    assert "Continue the section 47 enquiries under way (started at SD-2026-0001)" in json.dumps(step_two)
    assert "Record the decision: Continue" in response.json()["errors"]["section_47"]
    response = bot.slack.view_submission(
        CHAIR,
        step_two,
        values=decision_values(
            section_47=StateValue.radio_buttons("continue"),
            review_date=StateValue.datepicker("2026-12-09"),
            legal_action_by=StateValue.datepicker("2026-12-01"),
        ),
    )
    assert response.json() == {"response_action": "clear"}, response.body
    settle(bot)
    assert "ICPC:* by Tue 01 Dec 2026 (15 working days after SD-2026-0001" in status_text(bot, follow.id)

    # The timeline, with its buttons for the convenor and the chair only.
    bot.clock.set(datetime(2026, 12, 2, 10, 0, tzinfo=UTC))
    shown = _ephemeral(bot, SOCIAL_WORKER, first.reference)
    text = _blocks_text(shown)
    for expected in (
        "Case CS-1234567: timeline",
        "*Referral:* Tue 10 Nov 2026 10:00",
        "SD-2026-0001* (initial) held Tue 10 Nov 2026 14:00",
        "SD-2026-0002* (follow-up) held Wed 25 Nov 2026 10:00",
        "*ICPC:* by Tue 01 Dec 2026 (15 working days) · *overdue by 1 working day*",
        "*Assessment:* by Fri 15 Jan 2027",
        "case_icpc_open",
        "case_close_open",
    ):
        assert expected in text, expected
    others = _blocks_text(_ephemeral(bot, "U0PPU001", first.reference))
    assert "Case CS-1234567: timeline" in others and "case_close_open" not in others

    # The ICPC: a Saturday is refused beside the date; then held on Wednesday 2 December.
    _click(bot, SOCIAL_WORKER, "case_icpc_open", str(first.id))
    icpc = _opened(bot, "Record the ICPC")
    weekend = bot.slack.view_submission(
        SOCIAL_WORKER,
        icpc,
        values={
            "icpc": {"value": StateValue.radio_buttons("held")},
            "held_on": {"value": StateValue.datepicker("2026-11-28")},
            "not_required_reason": {"value": StateValue.text(None)},
        },
    ).json()
    assert "weekend" in weekend["errors"]["held_on"]
    held = bot.slack.view_submission(
        SOCIAL_WORKER,
        icpc,
        values={
            "icpc": {"value": StateValue.radio_buttons("held")},
            "held_on": {"value": StateValue.datepicker("2026-12-02")},
            "not_required_reason": {"value": StateValue.text(None)},
        },
    )
    assert held.body in ("", "{}"), held.body
    _click(bot, SOCIAL_WORKER, "case_outcome_open", str(first.id))
    outcome = _opened(bot, "Assessment outcome")
    done = bot.slack.view_submission(
        SOCIAL_WORKER,
        outcome,
        values={
            "substantiated": {"value": StateValue.radio_buttons("substantiated")},
            "outcome": {"value": StateValue.radio_buttons("child_protection_plan")},
            "completed_on": {"value": StateValue.datepicker("2026-12-02")},
        },
    )
    assert done.body in ("", "{}"), done.body
    with Session(bot.runtime.engine) as session:
        enquiry = session.exec(select(Section47Enquiry)).one()
    assert (enquiry.icpc_state, str(enquiry.icpc_held_on), enquiry.outcome) == (
        IcpcState.HELD,
        "2026-12-02",
        "child_protection_plan",
    )

    # Closing: refused while the action is open, naming it and who could take it on.
    bot.slack.command("/strategy", f"close {first.reference}", user_id=SOCIAL_WORKER)
    closing = _opened(bot, "Close the case")
    assert "SD-2026-0001-A01" in json.dumps(closing)
    close_values = {
        "outcome": {"value": StateValue.static_select("child_protection_plan")},
        "reason": {"value": StateValue.text("Child protection plan made at the ICPC.")},
        "hand_on": {"value": StateValue.checkboxes([])},
        "hand_on_note": {"value": StateValue.text(None)},
    }
    refused = bot.slack.view_submission(SOCIAL_WORKER, closing, values=close_values).json()
    assert "SD-2026-0001-A01" in refused["errors"]["hand_on"]
    assert "the core group of the child protection plan" in refused["errors"]["hand_on"]
    named = bot.slack.view_submission(
        SOCIAL_WORKER,
        closing,
        values={**close_values, "reason": {"value": StateValue.text(f"{CHILD_NAME.split()[0]} is safe.")}},
    ).json()
    assert "must not name the child" in named["errors"]["reason"]
    closed = bot.slack.view_submission(
        SOCIAL_WORKER, closing, values={**close_values, "hand_on": {"value": StateValue.checkboxes(["yes"])}}
    )
    assert closed.body in ("", "{}"), closed.body
    settle(bot)
    with Session(bot.runtime.engine) as session:
        case = session.exec(select(Case)).one()
        episode = session.exec(select(CaseEpisode)).one()
        action = session.exec(select(Action)).one()
    assert case.closed_at == bot.clock.now() and episode.closure_outcome == "child_protection_plan"
    assert action.status == ActionStatus.HANDED_ON and action.next_chase_at is None
    posted = bot.local_slack.calls_to("chat.postMessage")
    notices = [
        c.args["text"]
        for c in posted
        if c.args.get("text", "").startswith("*OFFICIAL-SENSITIVE* · Case CS-1234567 is closed")
    ]
    assert len(notices) == 2  # in the channel of each of its discussions
    assert "1 open action handed on to the core group of the child protection plan" in notices[0]
    assert "kept until 02 December 2051" in notices[0]
    told = [c.args["text"] for c in posted if c.args.get("channel") == SOCIAL_WORKER]
    assert any(t.startswith("Case CS-1234567 is closed. Nothing about it is chased any more") for t in told)
    after = _blocks_text(_ephemeral(bot, SOCIAL_WORKER, first.reference))
    assert "*Closed* Wed 02 Dec 2026 10:00: Child protection plan" in after and "case_close_open" not in after
    again = bot.slack.command("/strategy", f"close {first.reference}", user_id=SOCIAL_WORKER)
    assert again.status == 200
    settle(bot)
    assert bot.local_slack.responses()[-1].args["text"] == "The case CS-1234567 is already closed."
    assert "case.closed" in _acts(bot)
    assert CHILD_NAME not in all_slack_text(bot)


def test_closing_is_refused_alike_whether_or_not_the_discussion_exists(bot) -> None:
    meeting = convene(bot)
    real = _ephemeral(bot, HEALTH, f"close {meeting.reference}")
    missing = _ephemeral(bot, HEALTH, "close SD-2026-0999")
    assert real["text"] == f"Only the convenor or the chair of {meeting.reference} can close its case."
    assert missing["text"] == "Only the convenor or the chair of SD-2026-0999 can close its case."
    follow = _ephemeral(bot, HEALTH, f"follow-up {meeting.reference}")
    assert follow["text"] == f"Only a convenor involved in {meeting.reference} can convene its follow-up."
    settle(bot)
    assert _acts(bot).count("case.close_refused") == 2


def test_the_home_tab_lists_your_open_cases_a_page_at_a_time(bot) -> None:
    convene(bot)
    bot.slack.event({"type": "app_home_opened", "user": SOCIAL_WORKER, "tab": "home"})
    settle(bot)
    home = json.dumps(bot.local_slack.home_view(SOCIAL_WORKER))
    assert "Your open cases" in home and "CS-1234567" in home
    bot.slack.event({"type": "app_home_opened", "user": HEALTH, "tab": "home"})
    settle(bot)
    assert "Your open cases" not in json.dumps(bot.local_slack.home_view(HEALTH))


def test_only_an_emergency_duty_convenor_moves_a_discussion_out_of_hours(bot) -> None:
    meeting = convene(bot)
    bot.slack.block_actions(
        SOCIAL_WORKER, [{"action_id": "open_reschedule", "value": str(meeting.id), "type": "button"}]
    )
    view = _opened(bot, "Reschedule")
    saturday = {"start": {"value": StateValue.datetimepicker(at(2026, 11, 14, 10, 0))}}
    refused = bot.slack.view_submission(
        SOCIAL_WORKER, view, values={**saturday, "reason": {"value": StateValue.text(None)}}
    ).json()
    assert "Only an emergency duty convenor can move a discussion out of hours" in refused["errors"]["start"]
    # The emergency duty convenor's own out-of-hours discussion moves to another night, with the reason.
    bot.clock.set(datetime(2026, 11, 14, 21, 0, tzinfo=UTC))
    view = open_form(bot, user_id=EDT)
    submit(
        bot,
        view,
        user_id=EDT,
        start=StateValue.datetimepicker(at(2026, 11, 14, 22, 0)),
        chair=StateValue.static_select(OTHER_CHAIR),
        out_of_hours_reason=StateValue.text("Police protection used tonight."),
    )
    settle(bot)
    edt_meeting = _meetings(bot)[-1]
    bot.slack.block_actions(
        EDT, [{"action_id": "open_reschedule", "value": str(edt_meeting.id), "type": "button"}]
    )
    view = _opened(bot, "Reschedule")
    sunday = {"start": {"value": StateValue.datetimepicker(at(2026, 11, 15, 9, 0))}}
    no_reason = bot.slack.view_submission(
        EDT, view, values={**sunday, "reason": {"value": StateValue.text(None)}}
    ).json()
    assert "cannot wait for working hours" in no_reason["errors"]["reason"]
    moved = bot.slack.view_submission(
        EDT,
        view,
        values={**sunday, "reason": {"value": StateValue.text("The police could not attend tonight.")}},
    )
    assert moved.body in ("", "{}"), moved.body
    stored = _meetings(bot)[-1]
    assert stored.out_of_hours and stored.out_of_hours_reason == "The police could not attend tonight."
