"""Chasing actions until they are done: reminders before and after the due date, escalation,
answers from the reminder, the lists, digests, and exactly once across processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.actions.jobs import send_digests, sweep_actions
from bot.actions.models import Action, ActionEvent, Chase
from bot_offline.local_slack.signed_client import StateValue
from tests.convening_support import (
    CHAIR,
    POLICE_PPU,
    POLICE_PPU_2,
    SOCIAL_WORKER,
    convene,
    settle,
    status_text,
    wait_until,
)
from tests.minutes_support import action_values

PPU_LEAD = "U0PPU020"
ROOT = Path(__file__).resolve().parent.parent


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A November 2026 moment in UTC (London is on GMT in November)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def _add_action(bot, meeting, owner=POLICE_PPU, priority="normal") -> Action:
    # Wait for this command's form, not one an earlier call opened (the form opens after the ack).
    before = len([c for c in bot.local_slack.calls_to("views.open") if "Add an action" in json.dumps(c.args)])
    bot.slack.command("/actions", f"add {meeting.reference}", user_id=CHAIR)
    calls = bot.local_slack.wait_for(
        lambda calls: (
            len([c for c in calls if c.method == "views.open" and "Add an action" in json.dumps(c.args)])
            > before
        )
    )
    view = [c for c in calls if c.method == "views.open" and "Add an action" in json.dumps(c.args)][
        -1
    ].response["view"]
    view = {**view, "id": f"{view['id']}-{priority}-{owner}"}
    bot.slack.view_submission(CHAIR, view, values=action_values(owner, priority=priority))
    with Session(bot.runtime.engine) as session:
        return session.exec(select(Action).order_by(Action.id.desc())).first()


def _listed(bot, text: str, user_id: str) -> str:
    """A list `/actions` answers after its acknowledgement (at the response URL), as JSON."""
    before = len(bot.local_slack.responses())
    response = bot.slack.command("/actions", text, user_id=user_id)
    assert response.status == 200 and response.body in ("", "{}"), response.body
    answers = wait_until(lambda: bot.local_slack.responses()[before:])
    return json.dumps(answers[-1].args)


def _dms(bot, user_id: str, words: str) -> list:
    return [
        c
        for c in bot.local_slack.calls_to("chat.postMessage")
        if c.ok and c.args.get("channel") == user_id and words in json.dumps(c.args)
    ]


def _sweep_at(bot, moment: datetime) -> int:
    bot.clock.set(moment)
    taken = sweep_actions(bot.runtime)
    settle(bot)
    return taken


def _action(bot, action_id: int) -> Action:
    with Session(bot.runtime.engine) as session:
        return session.get(Action, action_id)


def test_reminders_then_overdue_then_escalation_each_once_in_working_hours(bot) -> None:
    meeting = convene(bot)
    action = _add_action(bot, meeting)
    assert action.due_on == date(2026, 11, 17)  # normal: 5 working days after Tue 10 Nov
    assert _sweep_at(bot, at(16, 8, 59)) == 0
    assert _sweep_at(bot, at(16, 9, 0)) == 1  # one working day before
    assert _sweep_at(bot, at(16, 9, 30)) == 0  # a second sweep sends nothing
    reminders = _dms(bot, POLICE_PPU, "is due on Tue 17 Nov")
    assert len(reminders) == 1
    buttons = [
        e["action_id"] for b in reminders[0].args["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert buttons == ["action_done", "action_extension", "action_snooze", "action_reassign"]
    assert _sweep_at(bot, at(17, 10)) == 1 and _dms(bot, POLICE_PPU, "due today")
    assert _sweep_at(bot, at(18, 9)) == 1 and _dms(bot, POLICE_PPU, "overdue by 1 working day")
    # Thursday: overdue by 2 working days, and escalated to the police PPU lead
    _sweep_at(bot, at(19, 9))
    assert len(_dms(bot, PPU_LEAD, "Escalation to the agency lead")) == 1
    assert _action(bot, action.id).escalation_level == 1
    # Saturday: nothing; Monday morning: the next step
    assert _sweep_at(bot, at(21, 12)) == 0
    assert _sweep_at(bot, at(23, 9)) >= 1
    with Session(bot.runtime.engine) as session:
        steps = [
            c.step for c in session.exec(select(Chase).where(Chase.action_id == action.id).order_by(Chase.id))
        ]
    assert steps[:5] == ["before_due", "due_today", "overdue", "overdue", "escalate_lead"]


def test_after_an_outage_the_missed_reminders_collapse_into_one(bot) -> None:
    meeting = convene(bot)
    action = _add_action(bot, meeting)
    assert _sweep_at(bot, at(18, 10)) >= 1  # before-due, due-today and the first overdue all missed
    reminders = _dms(bot, POLICE_PPU, action.reference)
    assert len(reminders) == 1 and "overdue by 1 working day" in json.dumps(reminders[0].args)


def _open_modal_from(bot, user: str, action_id: str, value: int, title: str) -> dict:
    bot.slack.block_actions(user, [{"action_id": action_id, "value": str(value)}])
    calls = bot.local_slack.wait_for(
        lambda calls: any(c.method == "views.open" and title in json.dumps(c.args) for c in calls)
    )
    return [c for c in calls if c.method == "views.open" and title in json.dumps(c.args)][-1].response["view"]


def test_marking_done_stops_the_chasing_and_is_recorded(bot) -> None:
    meeting = convene(bot)
    action = _add_action(bot, meeting)
    modal = _open_modal_from(bot, POLICE_PPU, "action_done", action.id, "Mark action done")
    blank = bot.slack.view_submission(POLICE_PPU, modal, values={"note": {"value": StateValue.text(" ")}})
    assert "what was done" in blank.json()["errors"]["note"]
    other = bot.slack.view_submission(CHAIR, modal, values={"note": {"value": StateValue.text("done")}})
    assert "Only the owner" in other.json()["errors"]["note"]
    bot.slack.view_submission(
        POLICE_PPU, modal, values={"note": {"value": StateValue.text("Visit made on 12 Nov")}}
    )
    stored = _action(bot, action.id)
    assert stored.status == "done" and stored.completed_at is not None and stored.next_chase_at is None
    assert _sweep_at(bot, at(19, 9)) == 0
    with Session(bot.runtime.engine) as session:
        kinds = [e.kind for e in session.exec(select(ActionEvent).where(ActionEvent.action_id == action.id))]
    assert kinds == ["created", "done"]
    settle(bot)
    assert "*Actions:* 0 open (0 overdue), 1 done" in status_text(bot, meeting.id)


def test_an_extension_is_asked_of_the_chair_and_moves_the_chasing(bot) -> None:
    meeting = convene(bot)
    action = _add_action(bot, meeting)
    modal = _open_modal_from(bot, POLICE_PPU, "action_extension", action.id, "Ask for an extension")
    early = bot.slack.view_submission(
        POLICE_PPU,
        modal,
        values={
            "due_on": {"value": StateValue.datepicker("2026-11-16")},
            "reason": {"value": StateValue.text("x")},
        },
    )
    assert "after the current due date" in early.json()["errors"]["due_on"]
    bot.slack.view_submission(
        POLICE_PPU,
        modal,
        values={
            "due_on": {"value": StateValue.datepicker("2026-11-24")},
            "reason": {"value": StateValue.text("Waiting for CCTV")},
        },
    )
    settle(bot)
    asked = _dms(bot, CHAIR, "extension_accept")
    assert len(asked) == 1
    value = next(e["value"] for b in asked[0].args["blocks"] if b["type"] == "actions" for e in b["elements"])
    bot.slack.block_actions(POLICE_PPU, [{"action_id": "extension_accept", "value": value}])  # not the chair
    bot.slack.block_actions(CHAIR, [{"action_id": "extension_accept", "value": value}])
    bot.slack.block_actions(CHAIR, [{"action_id": "extension_accept", "value": value}])  # double click
    settle(bot)
    assert _action(bot, action.id).due_on == date(2026, 11, 24)
    assert len(_dms(bot, POLICE_PPU, "now due Tue 24 Nov 2026")) == 1
    assert _sweep_at(bot, at(17, 9)) == 0  # the old due date no longer chases
    assert _sweep_at(bot, at(23, 9)) == 1 and _dms(bot, POLICE_PPU, "is due on Tue 24 Nov")


def test_snoozing_puts_reminders_off_within_the_limits_but_not_escalations(bot) -> None:
    meeting = convene(bot)
    action = _add_action(bot, meeting)
    bot.clock.set(at(16, 9, 30))
    bot.slack.block_actions(POLICE_PPU, [{"action_id": "action_snooze", "value": str(action.id)}])
    settle(bot)
    assert _action(bot, action.id).snoozed_until == at(17, 9)
    bot.slack.block_actions(POLICE_PPU, [{"action_id": "action_snooze", "value": str(action.id)}])
    bot.slack.block_actions(
        POLICE_PPU, [{"action_id": "action_snooze", "value": str(action.id)}]
    )  # 3 days ahead: too far
    settle(bot)
    assert _action(bot, action.id).snoozed_until == at(18, 9)
    assert _dms(bot, POLICE_PPU, "at most 2 working days ahead")
    assert _sweep_at(bot, at(17, 10)) == 0  # the due-today reminder is put off
    bot.slack.block_actions(CHAIR, [{"action_id": "action_snooze", "value": str(action.id)}])
    settle(bot)
    assert _dms(bot, CHAIR, "Only the owner can snooze")
    _sweep_at(bot, at(19, 9))
    assert _dms(bot, PPU_LEAD, "Escalation to the agency lead")


def test_reassigning_within_the_agency(bot) -> None:
    meeting = convene(bot)
    action = _add_action(bot, meeting)
    modal = _open_modal_from(bot, POLICE_PPU, "action_reassign", action.id, "Reassign action")
    options = {o["value"] for o in modal["blocks"][1]["element"]["options"]}
    assert POLICE_PPU_2 in options and SOCIAL_WORKER not in options
    wrong = bot.slack.view_submission(
        POLICE_PPU, modal, values={"owner": {"value": StateValue.static_select(SOCIAL_WORKER)}}
    )
    assert "same agency" in wrong.json()["errors"]["owner"]
    bot.slack.view_submission(
        POLICE_PPU, modal, values={"owner": {"value": StateValue.static_select(POLICE_PPU_2)}}
    )
    settle(bot)
    assert _dms(bot, POLICE_PPU_2, "now yours")
    mine = _listed(bot, "", POLICE_PPU_2)
    assert action.reference in mine and "Later" in mine


def test_lists_and_the_daily_digest(bot) -> None:
    meeting = convene(bot)
    action = _add_action(bot, meeting)
    bot.clock.set(at(19, 10))
    overdue = _listed(bot, "overdue", PPU_LEAD)
    assert action.reference in overdue and "Public Protection Unit" in overdue
    refused = bot.slack.command("/actions", "overdue", user_id=POLICE_PPU).json()
    assert "for agency leads and panel administrators" in refused["text"]
    one = json.dumps(bot.slack.command("/actions", meeting.reference, user_id=SOCIAL_WORKER).json())
    assert "Overdue" in one and action.reference in one
    assert send_digests(bot.runtime) == 1
    assert send_digests(bot.runtime) == 0  # once a day
    settle(bot)
    assert _dms(bot, PPU_LEAD, "overdue actions on Thu 19 Nov 2026")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_processes_sweeping_one_postgresql_send_each_reminder_once(bot, database_url) -> None:
    meeting = convene(bot)
    for _ in range(6):
        _add_action(bot, meeting)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-local",
        "SLACK_API_URL": bot.local_slack.api_url,
    }
    command = [sys.executable, "-m", "bot", "sweep", "--now", at(16, 9, 5).isoformat()]
    processes = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert all(p.returncode == 0 for p in processes), outputs
    reminders = _dms(bot, POLICE_PPU, "is due on")
    assert len(reminders) == 6, [o[0] for o in outputs]
    with Session(bot.runtime.engine) as session:
        assert len(session.exec(select(Chase).where(Chase.action_id.is_not(None))).all()) == 6


def test_slack_failing_during_a_sweep_loses_no_reminder_and_repeats_none(
    database_url, clock, tmp_path
) -> None:
    from datetime import timedelta

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
            meeting = convene(first)
            _add_action(first, meeting)
            _add_action(first, meeting, owner=POLICE_PPU_2)
            settle(first)
            slack.fail_next("chat.postMessage", status=429, retry_after=1, times=1)
            slack.fail_next("chat.postMessage", status=500, times=50)
            first.clock.set(at(16, 9, 1))
            assert sweep_actions(first.runtime) == 2
            first.runtime.deliver_now()
        # the bot stops with the reminders unsent; Slack recovers; a new process starts
        slack.clear_faults()  # the outage ends
        with OfflineBot(
            database_url=database_url, clock=clock, work_dir=tmp_path, local_slack=slack
        ) as second:
            second.clock.advance(timedelta(minutes=30))
            assert sweep_actions(second.runtime) == 0  # already claimed: not claimed again
            settle(second)
            for owner in (POLICE_PPU, POLICE_PPU_2):
                assert len(_dms(second, owner, "is due on Tue 17 Nov")) == 1


def test_every_chase_is_in_the_action_log(bot) -> None:
    import io

    import docx

    from bot.documents.action_log import action_log_context
    from bot.minutes.documents import ACTION_LOG_TEMPLATE, render_document

    meeting = convene(bot)
    _add_action(bot, meeting)
    _sweep_at(bot, at(16, 9))
    _sweep_at(bot, at(19, 9))
    with Session(bot.runtime.engine) as session:
        context = action_log_context(
            session,
            meeting,
            partnership=bot.runtime.partnership,
            calendar=bot.runtime.calendar,
            version=1,
            now=bot.clock.now(),
        )
    steps = [chase["step"] for chase in context["actions"][0]["chases"]]
    # the missed repeats collapsed into one; each step in words, never a code
    assert steps == ["Before the due date", "Overdue", "Escalated to the agency lead"]
    rendered = render_document(bot.runtime.settings.templates_dir / ACTION_LOG_TEMPLATE, context)
    text = "\n".join(
        cell.text
        for table in docx.Document(io.BytesIO(rendered.content)).tables
        for row in table.rows
        for cell in row.cells
    )
    assert "Escalated to the agency lead" in text and "Before the due date" in text
    assert "escalate_lead" not in text


def test_a_reminder_is_exactly_the_block_kit_slack_sdk_would_build() -> None:
    """The reminder is written as plain dictionaries (a sweep writes hundreds); it must be
    what slack_sdk's models give, character for character, escapes included."""
    from slack_sdk.models.blocks import ActionsBlock, ButtonElement, MarkdownTextObject, SectionBlock

    from bot.actions.service import ActionRow
    from bot.actions.views import reminder_message
    from bot.slack.blocks import MARKING
    from bot.wording import escape_mrkdwn

    row = ActionRow(
        reference="SD-2026-0001-A01",
        text="Share the <safety> plan & tell *school*",
        concerns="CS-1",
        owner="Officer",
        owner_slack_id="U0PPU001",
        agency="Police & PPU",
        assigned=date(2026, 11, 2),
        due=date(2026, 11, 9),
        completed=None,
        status="open",
        priority="normal",
        escalation_level=0,
        meeting="SD-2026-0001",
        updates=(),
        chases=(),
    )
    headline = "This action is overdue by 1 working day."
    built = reminder_message(row, 42, headline, case_reference="CS-1")
    text = (
        f"{MARKING} · {headline}\n*{row.reference}*: {escape_mrkdwn(row.text)}\n"
        f"Owner <@U0PPU001> ({escape_mrkdwn(row.agency)}) · due Mon 09 Nov 2026 · from SD-2026-0001 (case CS-1)"
    )
    expected = [
        SectionBlock(text=MarkdownTextObject(text=text)),
        ActionsBlock(
            block_id="action_answers",
            elements=[
                ButtonElement(text="Mark done", action_id="action_done", value="42", style="primary"),
                ButtonElement(text="Ask for an extension", action_id="action_extension", value="42"),
                ButtonElement(text="Snooze a working day", action_id="action_snooze", value="42"),
                ButtonElement(text="Reassign", action_id="action_reassign", value="42"),
            ],
        ),
    ]
    assert built["blocks"] == [block.to_dict() for block in expected]
    assert json.dumps(built["blocks"], sort_keys=True) == json.dumps(
        [block.to_dict() for block in expected], sort_keys=True
    )
    assert built["text"] == f"OFFICIAL-SENSITIVE: {headline} (SD-2026-0001-A01)"
