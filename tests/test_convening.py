"""Convening a strategy discussion through Slack: the form, its checks, the invitations and
answers, the live status, chasing, calendar files, permissions and Slack's failures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlmodel import Session, func, select

from bot.audit.models import AuditEntry
from bot.audit.service import verify_chain
from bot.cases.models import Case
from bot.convening.jobs import sweep_invitations
from bot.convening.models import Invitation, InvitationMessage, Meeting
from bot.delivery.models import OutboxMessage, OutboxState
from bot_offline.local_slack.signed_client import StateValue
from tests.convening_support import (
    CHAIR,
    CHILD_NAME,
    HEALTH,
    LOCATE,
    POLICE_PPU,
    POLICE_PPU_2,
    SOCIAL_WORKER,
    all_slack_text,
    at,
    click,
    convene,
    invitation_for,
    invitation_message_of,
    open_form,
    settle,
    status_text,
    submit,
)

EXPLOITATION_AGENCIES = {"csc", "police-ppu", "health", "police-cid", "locate", "yos", "education"}


def _count(bot, model) -> int:
    with Session(bot.runtime.engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


# ---------------------------------------------------------------- the form and its checks


def test_a_convenor_gets_the_form_prefilled(bot) -> None:
    view = open_form(bot, text="cs-7654321")
    assert view["title"]["text"] == "New strategy discussion"
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["case_reference"]["element"]["initial_value"] == "CS-7654321"
    # Tuesday 10 Nov 2026 10:00 GMT + 15 minutes' notice: the next half-hour slot is 10:30.
    assert blocks["start"]["element"]["initial_date_time"] == at(2026, 11, 10, 10, 30)
    urgencies = [o["value"] for o in blocks["urgency"]["element"]["options"]]
    assert urgencies == ["immediate", "urgent", "standard"]
    chairs = {o["value"] for o in blocks["chair"]["element"]["options"]}
    assert CHAIR in chairs and SOCIAL_WORKER not in chairs


def test_someone_who_is_not_a_convenor_is_refused_and_it_is_recorded(bot) -> None:
    response = bot.slack.command("/strategy", "new", user_id=POLICE_PPU)
    assert response.status == 200
    assert "Only children's social care staff named as convenors" in response.json()["text"]
    assert bot.local_slack.calls_to("views.open") == []
    settle(bot)  # the refusal is recorded after the acknowledgement
    with Session(bot.runtime.engine) as session:
        acts = [e.act for e in session.exec(select(AuditEntry))]
    assert acts == ["discussion.convene_refused"]


@pytest.mark.parametrize(
    ("override", "field", "words"),
    [
        ({"start": StateValue.datetimepicker(at(2026, 11, 10, 9, 0))}, "start", "That time has passed"),
        (
            {"start": StateValue.datetimepicker(at(2026, 11, 14, 10, 0))},
            "start",
            "That is a Saturday. Only an emergency duty convenor",
        ),
        (
            {"start": StateValue.datetimepicker(at(2026, 12, 25, 10, 0))},
            "start",
            "a bank holiday (Christmas Day)",
        ),
        ({"start": StateValue.datetimepicker(at(2026, 11, 10, 18, 0))}, "start", "outside working hours"),
        ({"start": StateValue.datetimepicker(at(2026, 11, 10, 16, 30))}, "start", "outside working hours"),
        ({"start": StateValue.datetimepicker(at(2026, 11, 12, 10, 0))}, "late_reason", "after the deadline"),
        ({"case_reference": StateValue.text("1234567")}, "case_reference", "for example CS-1234567"),
        ({"reason": StateValue.text("   ")}, "reason", "Say why"),
        ({"chair": StateValue.static_select(POLICE_PPU)}, "chair", "not a chair"),
        ({"follows": StateValue.text("SD-2026-0999")}, "follows", "no discussion with that reference"),
        (
            {
                "start": StateValue.datetimepicker(at(2026, 11, 12, 10, 0)),
                "late_reason": StateValue.text(f"{CHILD_NAME.split()[0]} is in hospital"),
            },
            "late_reason",
            "must not name the child",
        ),
    ],
)
def test_bad_input_gets_an_inline_error_and_stores_nothing(bot, override, field, words) -> None:
    view = open_form(bot)
    response = submit(bot, view, **override)
    assert response.status == 200
    body = response.json()
    assert body["response_action"] == "errors"
    assert field in body["errors"], body
    assert words in body["errors"][field]
    assert _count(bot, Meeting) == 0
    assert _count(bot, Case) == 0
    assert _count(bot, OutboxMessage) == 0


def test_a_time_after_the_deadline_is_accepted_with_a_recorded_reason(bot) -> None:
    meeting = convene(
        bot,
        start=StateValue.datetimepicker(at(2026, 11, 12, 10, 0)),
        late_reason=StateValue.text("The police lead is in court until Thursday."),
    )
    assert meeting.late_reason == "The police lead is in court until Thursday."
    assert "Booked after the deadline" in status_text(bot, meeting.id)


def test_a_case_reference_for_a_different_child_is_refused(bot) -> None:
    convene(bot)
    view = open_form(bot)
    body = submit(bot, view, child_name=StateValue.text("Someone Else")).json()
    assert "recorded for a different child" in body["errors"]["case_reference"]


# ---------------------------------------------------------------- what convening does


def test_convening_stores_the_discussion_and_invites_every_required_agency(bot) -> None:
    meeting = convene(bot)
    assert meeting.reference == "SD-2026-0001"
    assert meeting.urgency == "urgent"
    # Urgent: by the end of the next working day, Wednesday 11 November, 17:00 GMT.
    assert meeting.deadline == datetime(2026, 11, 11, 17, 0, tzinfo=UTC)
    with Session(bot.runtime.engine) as session:
        case = session.get(Case, meeting.case_id)
        assert case is not None and case.child_name == CHILD_NAME
        invitations = session.exec(select(Invitation).where(Invitation.meeting_id == meeting.id)).all()
        from bot.partnership.models import Agency

        codes = {session.get(Agency, i.agency_id).code for i in invitations}  # type: ignore[union-attr]
        assert codes == EXPLOITATION_AGENCIES
        csc = next(i for i in invitations if session.get(Agency, i.agency_id).code == "csc")  # type: ignore[union-attr]
        assert csc.state == "attending"
    channel = bot.local_slack.channel(meeting.channel_id)
    assert channel is not None
    assert channel["name"] == "sd-2026-0001"
    assert channel["is_private"] is True
    members = set(bot.local_slack.calls_to("conversations.invite")[0].args["users"].split(","))
    assert members == {SOCIAL_WORKER, CHAIR}
    dms = {c.args["channel"] for c in bot.local_slack.calls_to("chat.postMessage") if c.ok}
    assert {POLICE_PPU, POLICE_PPU_2, HEALTH, LOCATE} <= dms
    message = invitation_message_of(bot, meeting, "police-ppu")
    buttons = [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons == [
        "invitation_attending",
        "invitation_delegate",
        "invitation_written_update",
        "invitation_decline",
        "agency_update_open",
    ]
    status = status_text(bot, meeting.id)
    assert "SD-2026-0001" in status and "CS-1234567" in status
    assert "OFFICIAL-SENSITIVE" in status
    assert "ICPC:* set once section 47 enquiries are decided" in status


def test_the_childs_name_never_reaches_slack(bot) -> None:
    meeting = convene(bot)
    click(bot, POLICE_PPU, "invitation_attending", str(invitation_for(bot, meeting, "police-ppu").id))
    settle(bot)
    sent = all_slack_text(bot)
    assert CHILD_NAME not in sent
    assert CHILD_NAME.split()[0] not in sent
    assert "2011-05-01" not in sent
    for upload in bot.local_slack.uploaded_files():
        assert CHILD_NAME.encode() not in upload.content


def test_a_double_submission_convenes_once(bot) -> None:
    view = open_form(bot)
    first = submit(bot, view)
    second = submit(bot, view)
    assert (first.status, second.status) == (200, 200)
    settle(bot)
    assert _count(bot, Meeting) == 1
    invitations = len(bot.local_slack.calls_to("conversations.create"))
    assert invitations == 1
    posted = [c.args["channel"] for c in bot.local_slack.calls_to("chat.postMessage") if c.ok]
    assert posted.count(POLICE_PPU) == 1  # one invitation (the .ics goes as a file)


def test_discussions_are_numbered_in_sequence(bot) -> None:
    first = convene(bot)
    second = convene(
        bot, case_reference=StateValue.text("CS-7654321"), child_name=StateValue.text("Other Child")
    )
    assert (first.reference, second.reference) == ("SD-2026-0001", "SD-2026-0002")


def test_contacts_without_slack_are_flagged_to_the_convenor(bot) -> None:
    convene(bot)
    to_convenor = [
        c.args["text"]
        for c in bot.local_slack.calls_to("chat.postMessage")
        if c.args.get("channel") == SOCIAL_WORKER and "text" in c.args
    ]
    flagged = [t for t in to_convenor if "have no Slack account" in t]
    assert len(flagged) == 1
    no_slack = [p for p in bot.runtime.partnership.agency("education").invitees() if not p.slack_user_id]
    assert no_slack and all(p.name in flagged[0] for p in no_slack)


# ---------------------------------------------------------------- answers


def test_an_answer_is_stored_and_every_message_updates_in_place(bot) -> None:
    meeting = convene(bot)
    invitation = invitation_for(bot, meeting, "police-ppu")
    message = invitation_message_of(bot, meeting, "police-ppu")
    response = click(bot, POLICE_PPU, "invitation_attending", str(invitation.id), message)
    assert response.status == 200
    settle(bot)
    stored = invitation_for(bot, meeting, "police-ppu")
    assert stored.state == "attending"
    assert stored.answered_at == bot.clock.now()
    updates = [c for c in bot.local_slack.calls_to("chat.update") if c.ok]
    with Session(bot.runtime.engine) as session:
        rows = session.exec(
            select(InvitationMessage).where(InvitationMessage.invitation_id == invitation.id)
        ).all()
    assert {r.ts for r in rows} <= {c.args["ts"] for c in updates}  # both police contacts' copies
    assert "Your agency's answer:* attending" in json.dumps(
        invitation_message_of(bot, meeting, "police-ppu")["blocks"]
    )
    ppu = ":white_check_mark: *West Midlands Police - Public Protection Unit (Birmingham)*: attending"
    assert ppu in status_text(bot, meeting.id)
    # the one who answered joins the discussion's channel
    joined = [c.args["users"] for c in bot.local_slack.calls_to("conversations.invite")]
    assert POLICE_PPU in joined


def test_a_double_click_records_one_answer(bot) -> None:
    meeting = convene(bot)
    invitation = invitation_for(bot, meeting, "health")
    click(bot, HEALTH, "invitation_written_update", str(invitation.id))
    click(bot, HEALTH, "invitation_written_update", str(invitation.id))
    settle(bot)
    with Session(bot.runtime.engine) as session:
        answers = session.exec(select(AuditEntry).where(AuditEntry.act == "invitation.answered")).all()
    assert len(answers) == 1
    assert invitation_for(bot, meeting, "health").state == "written_update"


def test_someone_from_another_agency_cannot_answer(bot) -> None:
    meeting = convene(bot)
    invitation = invitation_for(bot, meeting, "police-ppu")
    message = invitation_message_of(bot, meeting, "police-ppu")
    click(bot, HEALTH, "invitation_attending", str(invitation.id), message)
    replies = bot.local_slack.wait_for(lambda calls: any(c.method == "response_url" for c in calls))
    reply = [c for c in replies if c.method == "response_url"][-1]
    # nothing of the invitation (not even its agency) is shown to someone who may not answer it
    assert reply.args["text"] == "Only the invited agency can answer this invitation."
    assert reply.args["response_type"] == "ephemeral"
    assert invitation_for(bot, meeting, "police-ppu").state == "invited"
    with Session(bot.runtime.engine) as session:
        assert session.exec(select(AuditEntry).where(AuditEntry.act == "invitation.answer_refused")).first()


def _modal_opened(bot) -> dict:
    """The form the last click opened: read once the click's work is done, not by looking
    among the latest calls (its messages updated in place may come after it)."""
    assert bot.wait_idle()
    opened = bot.local_slack.calls_to("views.open")[-1]
    assert opened.ok, opened.response
    return opened.response["view"]


def test_a_delegate_is_picked_from_the_agency(bot) -> None:
    meeting = convene(bot)
    invitation = invitation_for(bot, meeting, "locate")
    click(bot, LOCATE, "invitation_delegate", str(invitation.id))
    modal = _modal_opened(bot)
    assert modal["title"]["text"] == "Send a delegate"
    options = {o["value"] for o in modal["blocks"][1]["element"]["options"]}
    assert options and all(uid.startswith("U0LOC") for uid in options)
    wrong = bot.slack.view_submission(
        LOCATE, modal, values={"delegate": {"value": StateValue.static_select(HEALTH)}}
    )
    assert "Choose a delegate from" in wrong.json()["errors"]["delegate"]
    delegate = sorted(options - {LOCATE})[0]
    right = bot.slack.view_submission(
        LOCATE, modal, values={"delegate": {"value": StateValue.static_select(delegate)}}
    )
    assert right.body in ("", "{}")
    settle(bot)
    stored = invitation_for(bot, meeting, "locate")
    assert stored.state == "delegate"
    assert f"<@{delegate}>" in status_text(bot, meeting.id)


def test_declining_needs_a_reason_that_does_not_name_the_child(bot) -> None:
    meeting = convene(bot)
    invitation = invitation_for(bot, meeting, "health")
    click(bot, HEALTH, "invitation_decline", str(invitation.id))
    modal = _modal_opened(bot)
    blank = bot.slack.view_submission(HEALTH, modal, values={"reason": {"value": StateValue.text("  ")}})
    assert "Give a reason" in blank.json()["errors"]["reason"]
    named = bot.slack.view_submission(
        HEALTH, modal, values={"reason": {"value": StateValue.text("Jayden is not known")}}
    )
    assert "must not name the child" in named.json()["errors"]["reason"]
    ok = bot.slack.view_submission(
        HEALTH, modal, values={"reason": {"value": StateValue.text("Not known to health")}}
    )
    assert ok.body in ("", "{}")
    settle(bot)
    stored = invitation_for(bot, meeting, "health")
    assert (stored.state, stored.decline_reason) == ("declined", "Not known to health")
    assert "Not known to health" in status_text(bot, meeting.id)


def test_the_convenor_is_told_when_police_cannot_attend(bot) -> None:
    meeting = convene(bot)
    for code, user in (("police-ppu", POLICE_PPU), ("police-cid", "U0CID001")):
        click(bot, user, "invitation_written_update", str(invitation_for(bot, meeting, code).id))
    settle(bot)
    warnings = [
        c.args["text"]
        for c in bot.local_slack.calls_to("chat.postMessage")
        if c.args.get("channel") == SOCIAL_WORKER
        and "cannot go ahead as a strategy discussion" in c.args.get("text", "")
    ]
    # The police's public protection unit is a core agency of a strategy discussion (Force CID,
    # which the exploitation concerns bring in, is not): the convenor is warned once.
    police = "West Midlands Police - Public Protection Unit (Birmingham) cannot attend"
    assert len(warnings) == 1 and police in warnings[0]
    assert "cannot go ahead as a" in status_text(bot, meeting.id)


def test_answers_are_closed_once_cancelled(bot) -> None:
    meeting = convene(bot)
    bot.slack.block_actions(
        SOCIAL_WORKER,
        [
            {
                "action_id": "open_cancel",
                "block_id": "discussion_actions",
                "value": str(meeting.id),
                "type": "button",
            }
        ],
    )
    modal = _modal_opened(bot)
    done = bot.slack.view_submission(
        SOCIAL_WORKER,
        modal,
        values={"reason": {"value": StateValue.text("Child found safe; single-agency plan")}},
    )
    assert done.body in ("", "{}")
    settle(bot)
    click(
        bot,
        HEALTH,
        "invitation_attending",
        str(invitation_for(bot, meeting, "health").id),
        invitation_message_of(bot, meeting, "health"),
    )
    reply = [
        c
        for c in bot.local_slack.wait_for(lambda calls: any(c.method == "response_url" for c in calls))
        if c.method == "response_url"
    ][-1]
    assert "cancelled" in reply.args["text"]
    assert invitation_for(bot, meeting, "health").state == "invited"
    cancels = [u for u in bot.local_slack.uploaded_files() if u.filename.endswith("-cancelled.ics")]
    assert cancels
    assert b"METHOD:CANCEL" in cancels[0].content


# ---------------------------------------------------------------- status, ICPC, views


def test_the_section_47_decision_sets_the_icpc_deadline(bot) -> None:
    meeting = convene(bot)
    bot.clock.set(datetime(2026, 11, 10, 14, 5, tzinfo=UTC))  # decided at the discussion
    bot.slack.block_actions(
        CHAIR,
        [
            {
                "action_id": "open_section_47",
                "block_id": "discussion_actions",
                "value": str(meeting.id),
                "type": "button",
            }
        ],
    )
    modal = _modal_opened(bot)
    bot.slack.view_submission(
        CHAIR,
        modal,
        values={
            "decision": {"value": StateValue.radio_buttons("start")},
            "reason": {"value": StateValue.text("Significant harm is likely: exploitation.")},
        },
    )
    settle(bot)
    # Discussion Tue 10 Nov 2026: 15 working days later is Tue 1 Dec 2026.
    assert "ICPC:* by Tue 01 Dec 2026 (15 working days after this discussion" in status_text(bot, meeting.id)


def test_only_the_convenor_or_chair_manage_the_discussion(bot) -> None:
    meeting = convene(bot)
    bot.slack.block_actions(
        HEALTH,
        [
            {
                "action_id": "open_reschedule",
                "block_id": "discussion_actions",
                "value": str(meeting.id),
                "type": "button",
            }
        ],
        message={"ts": "1", "channel": meeting.channel_id},
        channel_id=meeting.channel_id,
    )
    reply = [
        c
        for c in bot.local_slack.wait_for(lambda calls: any(c.method == "response_url" for c in calls))
        if c.method == "response_url"
    ][-1]
    assert "Only the convenor or the chair" in reply.args["text"]


def test_strategy_list_and_show_are_for_the_people_involved(bot) -> None:
    meeting = convene(bot)
    before = len(bot.local_slack.responses())
    assert bot.slack.command("/strategy", "list", user_id=POLICE_PPU).body in ("", "{}")  # acknowledged
    mine = bot.local_slack.wait_for(lambda calls: bot.local_slack.responses()[before:])  # then answered
    assert mine and "SD-2026-0001" in json.dumps(bot.local_slack.responses()[before:][-1].args)
    shown = bot.slack.command("/strategy", "sd-2026-0001", user_id=POLICE_PPU).json()
    assert "Agencies" in json.dumps(shown) and CHILD_NAME not in json.dumps(shown)
    outsider = "U0EHP001"
    refused = bot.slack.command("/strategy", "SD-2026-0001", user_id=outsider).json()
    assert "only the people involved" in refused["text"]
    unknown = bot.slack.command("/strategy", "SD-2026-0404", user_id=POLICE_PPU).json()
    assert unknown["text"] == refused["text"].replace("SD-2026-0001", "SD-2026-0404")
    settle(bot)  # viewing and refusals are audited after the answer
    with Session(bot.runtime.engine) as session:
        acts = [e.act for e in session.exec(select(AuditEntry).order_by(AuditEntry.sequence))]
        assert "discussion.viewed" in acts and acts.count("discussion.view_refused") == 2
        assert verify_chain(session) == []
    assert meeting.reference == "SD-2026-0001"


# ---------------------------------------------------------------- chasing


def _dms_to(bot, user_id: str, words: str) -> list[str]:
    return [
        c.args.get("text", "")
        for c in bot.local_slack.calls_to("chat.postMessage")
        if c.ok and c.args.get("channel") == user_id and words in c.args.get("text", "")
    ]


def test_unanswered_agencies_are_reminded_then_escalated_then_the_convenor_is_told(bot) -> None:
    meeting = convene(bot)
    ppu = bot.runtime.partnership.agency("police-ppu")
    duty = ppu.duty_person()
    assert duty is not None and duty.slack_user_id
    # Urgent policy: remind after 1 working hour, escalate every hour, tell the convenor after 3.
    bot.clock.advance(timedelta(minutes=59))
    assert sweep_invitations(bot.runtime) == 0
    bot.clock.advance(timedelta(minutes=2))
    assert sweep_invitations(bot.runtime) > 0
    settle(bot)
    assert len(_dms_to(bot, POLICE_PPU, "Reminder")) == 1
    assert sweep_invitations(bot.runtime) == 0  # a second sweep at the same time sends nothing
    settle(bot)
    assert len(_dms_to(bot, POLICE_PPU, "Reminder")) == 1
    bot.clock.advance(timedelta(hours=1))
    sweep_invitations(bot.runtime)
    settle(bot)
    assert len(_dms_to(bot, duty.slack_user_id, "Escalation")) == 1
    bot.clock.advance(timedelta(hours=1, minutes=1))
    sweep_invitations(bot.runtime)
    settle(bot)
    told = _dms_to(bot, SOCIAL_WORKER, "has still not answered")
    assert any(ppu.name in text for text in told)
    assert "told convenor" in status_text(bot, meeting.id)
    shown = json.dumps(bot.slack.command("/strategy", meeting.reference, user_id=SOCIAL_WORKER).json())
    assert "*Chasing*" in shown and "told convenor" in shown


def test_an_answer_stops_the_chasing(bot) -> None:
    meeting = convene(bot)
    click(bot, HEALTH, "invitation_attending", str(invitation_for(bot, meeting, "health").id))
    settle(bot)
    bot.clock.advance(timedelta(hours=2))
    sweep_invitations(bot.runtime)
    settle(bot)
    assert _dms_to(bot, HEALTH, "Reminder") == []
    assert len(_dms_to(bot, POLICE_PPU, "Reminder")) == 1


def test_nothing_is_chased_outside_working_hours(bot) -> None:
    bot.clock.set(datetime(2026, 11, 13, 16, 30, tzinfo=UTC))  # Friday 16:30
    convene(bot, start=StateValue.datetimepicker(at(2026, 11, 16, 10, 0)))
    bot.clock.set(datetime(2026, 11, 14, 12, 0, tzinfo=UTC))  # Saturday
    assert sweep_invitations(bot.runtime) == 0
    # One working hour after Friday 16:30 is Monday 09:30.
    bot.clock.set(datetime(2026, 11, 16, 9, 29, tzinfo=UTC))
    assert sweep_invitations(bot.runtime) == 0
    bot.clock.set(datetime(2026, 11, 16, 9, 31, tzinfo=UTC))
    assert sweep_invitations(bot.runtime) > 0


# ---------------------------------------------------------------- calendar files


def test_every_invitee_gets_a_calendar_file_and_a_reschedule_raises_its_sequence(bot) -> None:
    meeting = convene(bot)
    first = [u for u in bot.local_slack.uploaded_files() if u.filename == "SD-2026-0001.ics"]
    assert len(first) >= 5
    event = Calendar.from_ical(first[0].content).walk("VEVENT")[0]
    assert str(Calendar.from_ical(first[0].content)["METHOD"]) == "REQUEST"
    uid = str(event["UID"])
    assert int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == datetime(2026, 11, 10, 14, 0, tzinfo=UTC)
    bot.slack.block_actions(
        SOCIAL_WORKER,
        [
            {
                "action_id": "open_reschedule",
                "block_id": "discussion_actions",
                "value": str(meeting.id),
                "type": "button",
            }
        ],
    )
    modal = _modal_opened(bot)
    bot.slack.view_submission(
        SOCIAL_WORKER,
        modal,
        values={
            "start": {"value": StateValue.datetimepicker(at(2026, 11, 11, 11, 0))},
            "reason": {"value": StateValue.text(None)},
        },
    )
    settle(bot)
    moved = [u for u in bot.local_slack.uploaded_files() if u.filename == "SD-2026-0001-update-1.ics"]
    assert moved
    event = Calendar.from_ical(moved[0].content).walk("VEVENT")[0]
    assert (str(event["UID"]), int(event["SEQUENCE"])) == (uid, 1)
    assert _dms_to(bot, POLICE_PPU, "has moved to")


# ---------------------------------------------------------------- Slack failing


def test_convening_survives_rate_limits_and_outages_without_duplicates(bot) -> None:
    bot.local_slack.fail_next("chat.postMessage", status=429, retry_after=1, times=2)
    bot.local_slack.fail_next("conversations.create", status=500, times=3)
    meeting = convene(bot)
    bot.clock.advance(timedelta(minutes=5))
    settle(bot)
    with Session(bot.runtime.engine) as session:
        pending = session.exec(select(OutboxMessage).where(OutboxMessage.state != OutboxState.SENT)).all()
        assert pending == [], [(p.key, p.state, p.last_error) for p in pending]
        meeting = session.get(Meeting, meeting.id)
    assert meeting is not None and meeting.channel_id
    invitation_posts = [
        c.args["channel"]
        for c in bot.local_slack.calls_to("chat.postMessage")
        if c.ok and "blocks" in c.args and "invitation" in c.args.get("text", "")
    ]
    assert len(invitation_posts) == len(set(invitation_posts))
    assert len(bot.local_slack.calls_to("conversations.create")) == 4


def test_a_stalled_post_is_not_sent_twice(bot) -> None:
    bot.local_slack.stall("chat.postMessage", seconds=7, after=True)  # Slack does it; the answer is lost
    meeting = convene(bot)
    bot.clock.advance(timedelta(minutes=5))
    settle(bot)
    texts = [c.args.get("text", "") for c in bot.local_slack.calls_to("chat.postMessage")]
    delivered = [
        m
        for channel in {c.args["channel"] for c in bot.local_slack.calls_to("chat.postMessage")}
        for m in bot.local_slack.messages(channel)
    ]
    keys = [((m.get("metadata") or {}).get("event_payload") or {}).get("key") for m in delivered]
    keys = [k for k in keys if k]
    assert len(keys) == len(set(keys)), "a message was posted twice"
    assert texts and meeting.reference == "SD-2026-0001"


def test_a_restart_in_the_middle_loses_nothing_and_sends_nothing_twice(database_url, clock, tmp_path) -> None:
    from bot_offline.driver import BOT_TOKEN, OfflineBot
    from bot_offline.local_slack import LocalSlack

    with LocalSlack(bot_token=BOT_TOKEN) as slack:
        with OfflineBot(
            database_url=database_url,
            clock=clock,
            work_dir=tmp_path,
            local_slack=slack,
            delivery_interval_seconds=3600,
        ) as first:
            slack.fail_next("chat.postMessage", status=500, times=1000)
            view = open_form(first)
            assert submit(first, view).status == 200
            first.runtime.deliver_now()
        # the bot dies with invitations unsent; Slack recovers; a new process starts
        slack.clear_faults()  # the outage ends
        with OfflineBot(
            database_url=database_url, clock=clock, work_dir=tmp_path, local_slack=slack
        ) as second:
            second.clock.advance(timedelta(minutes=20))
            settle(second)
            with Session(second.runtime.engine) as session:
                pending = session.exec(
                    select(OutboxMessage).where(OutboxMessage.state != OutboxState.SENT)
                ).all()
                assert pending == []
                messages = session.exec(select(InvitationMessage)).all()
            assert messages and all(m.ts for m in messages)
            keys = [
                ((m.get("metadata") or {}).get("event_payload") or {}).get("key")
                for channel in {m.channel for m in messages}
                for m in slack.messages(channel)
            ]
            keys = [k for k in keys if k]
            assert len(keys) == len(set(keys))
