"""Nothing fails silently: a message Slack refuses for good is logged as an error (never its
body), the panel administrators are told by DM and on their Home tab (a page at a time,
with *Send again*), and `python -m bot outbox` lists failed messages with their reasons
and retries them."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from sqlmodel import Session, select

from bot.audit.models import AuditEntry
from bot.database import session_scope
from bot.delivery.failures import FAILURE_NOTICE
from bot.delivery.models import OutboxMessage, OutboxState
from bot.delivery.service import enqueue

ROOT = Path(__file__).resolve().parent.parent
ADMINS = ("U0BSC001", "U0BSC002")
SOCIAL_WORKER = "U0CSC001"
SECRET_TEXT = "the body of a message that must never reach a log"


def _enqueue(bot, count: int, *, channel: str = "C0GENERAL", prefix: str = "doomed") -> None:
    with session_scope(bot.runtime.engine) as session:
        for n in range(count):
            enqueue(
                session,
                key=f"{prefix}-{n}",
                method="chat.postMessage",
                arguments={"channel": channel, "text": f"{SECRET_TEXT} {n}"},
                now=bot.clock.now(),
            )


def _entries(bot) -> list[OutboxMessage]:
    with Session(bot.runtime.engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def _home(bot, user: str) -> str:
    before = len([c for c in bot.local_slack.calls_to("views.publish") if c.args.get("user_id") == user])
    bot.slack.event({"type": "app_home_opened", "user": user, "tab": "home"})
    bot.local_slack.wait_for(
        lambda calls: (
            len([c for c in calls if c.method == "views.publish" and c.args.get("user_id") == user]) > before
        )
    )
    return json.dumps(bot.local_slack.home_view(user), ensure_ascii=False)


def test_a_message_that_fails_for_good_is_logged_and_told_to_the_panel_administrators(bot, caplog) -> None:
    caplog.set_level(logging.INFO)
    _enqueue(bot, 1)
    bot.local_slack.error_next("chat.postMessage", "channel_not_found")
    bot.settle()
    failed, *notices = _entries(bot)
    assert failed.state == OutboxState.FAILED and failed.last_error == "200 channel_not_found"
    errors = [r for r in caplog.records if getattr(r, "event", "") == "outbox.failed"]
    assert len(errors) == 1 and errors[0].levelno == logging.ERROR and errors[0].outbox_id == failed.id
    assert not any(SECRET_TEXT in r.getMessage() or SECRET_TEXT in str(r.__dict__) for r in caplog.records)
    # a DM to each panel administrator, through the outbox, naming the entry and the reason
    assert {(n.purpose, n.state, n.arguments["channel"]) for n in notices} == {
        (FAILURE_NOTICE, OutboxState.SENT, admin) for admin in ADMINS
    }
    dms = [c for c in bot.local_slack.calls_to("chat.postMessage") if c.ok and c.args["channel"] in ADMINS]
    assert len(dms) == 2
    assert f"outbox {failed.id} (chat.postMessage): 200 channel_not_found" in dms[0].args["text"]
    assert SECRET_TEXT not in json.dumps([c.args for c in dms])
    # a second failure in the same hour is on the Home tab, not another DM each
    _enqueue(bot, 1, prefix="doomed-again")
    bot.local_slack.error_next("chat.postMessage", "is_archived")
    bot.settle()
    assert len([c for c in bot.local_slack.calls_to("chat.postMessage") if c.args["channel"] in ADMINS]) == 2
    home = _home(bot, ADMINS[0])
    assert "Messages that failed" in home
    assert f"*Outbox {failed.id}* · chat.postMessage ·" in home and "is_archived" in home
    assert SECRET_TEXT not in home
    # someone else's Home tab has no such section, and they cannot send one again
    assert "Messages that failed" not in _home(bot, SOCIAL_WORKER)
    bot.slack.block_actions(SOCIAL_WORKER, [{"action_id": "outbox_retry", "value": str(failed.id)}])
    bot.settle()
    assert _entries(bot)[0].state == OutboxState.FAILED
    # the administrator sends it again from the Home tab: it goes, and the audit trail says who
    bot.slack.block_actions(ADMINS[0], [{"action_id": "outbox_retry", "value": str(failed.id)}])
    bot.settle()
    assert _entries(bot)[0].state == OutboxState.SENT
    with Session(bot.runtime.engine) as session:
        acts = {e.act for e in session.exec(select(AuditEntry))}
    assert {"outbox.retried", "outbox.refused"} <= acts


def test_the_administrators_list_of_failed_messages_is_paged(bot) -> None:
    _enqueue(bot, 7)
    bot.local_slack.error_next("chat.postMessage", "channel_not_found", times=7)
    bot.settle()
    failed = [e.id for e in _entries(bot) if e.state == OutboxState.FAILED]
    assert len(failed) == 7
    first = _home(bot, ADMINS[0])
    assert all(f"*Outbox {i}*" in first for i in failed[-5:]) and f"*Outbox {failed[0]}*" not in first
    view = bot.local_slack.home_view(ADMINS[0])
    bot.slack.block_actions(ADMINS[0], [{"action_id": "home_failed_next", "value": "1"}], view=view)
    second = bot.local_slack.wait_for(
        lambda calls: any(
            c.method == "views.publish" and f"*Outbox {failed[0]}*" in json.dumps(c.args) for c in calls
        )
    )
    page = [c for c in second if c.method == "views.publish"][-1].args
    assert f"*Outbox {failed[2]}*" not in json.dumps(page) and "home_failed_page" in json.dumps(page)


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LOG_"))}
    env["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "bot", "outbox", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_outbox_command_lists_failed_messages_with_their_reasons_and_retries_them(
    bot, database_url
) -> None:
    # Two to a channel that does not exist (yet) and, between them, one too long for Slack:
    # the local Slack refuses them itself, so the administrators' failure notices (sent
    # alongside, to their DMs) cannot take an error meant for these three.
    _enqueue(bot, 1, channel="C0NOWHERE", prefix="doomed-first")
    with session_scope(bot.runtime.engine) as session:
        enqueue(
            session,
            key="doomed-long",
            method="chat.postMessage",
            arguments={"channel": "C0GENERAL", "text": f"{SECRET_TEXT} " + "x" * 40_001},
            now=bot.clock.now(),
        )
    _enqueue(bot, 1, channel="C0NOWHERE", prefix="doomed-last")
    bot.settle()
    failed = [e for e in _entries(bot) if e.state == OutboxState.FAILED]
    assert len(failed) == 3
    listed = _cli(database_url)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert [line.split("\t")[0] for line in lines] == [str(e.id) for e in failed]
    # Delivery sends the three in parallel, so which one met which error is not fixed:
    # each line names its method and its own reason.
    assert all("\tchat.postMessage\t" in line for line in lines)
    assert sorted(line.rsplit("\t", 1)[1] for line in lines) == [
        "200 channel_not_found",
        "200 channel_not_found",
        "200 msg_too_long",
    ]
    assert {e.id: e.last_error for e in failed} == {
        int(line.split("\t")[0]): line.rsplit("\t", 1)[1] for line in lines
    }
    assert "3 failed message(s) listed." in listed.stderr
    assert SECRET_TEXT not in listed.stdout + listed.stderr
    limited = _cli(database_url, "--limit", "1")
    assert len([line for line in limited.stdout.splitlines() if "\t" in line]) == 1
    bot.local_slack.add_channel("now-there", channel_id="C0NOWHERE")  # the cause is mended
    one = _cli(database_url, "retry", str(failed[0].id))
    assert one.returncode == 0 and one.stdout.startswith("1 failed message(s)"), one.stdout + one.stderr
    assert {e.id: e.state for e in _entries(bot)}[failed[0].id] in {OutboxState.PENDING, OutboxState.SENT}
    rest = _cli(database_url, "retry", "--all-failed")
    assert rest.stdout.startswith("2 failed message(s)"), rest.stdout + rest.stderr
    bot.settle()
    assert {e.id: e.state for e in _entries(bot)}[failed[2].id] == OutboxState.SENT
    assert _cli(database_url, "retry").returncode == 2
