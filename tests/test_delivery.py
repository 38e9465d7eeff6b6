"""The outbox: Slack calls follow committed state and are retried until Slack accepts them."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot.database import session_scope
from bot.delivery.models import OutboxMessage, OutboxState
from bot.delivery.service import Courier, Defer, deliver_pending, enqueue, pending_count
from bot.runtime import AcknowledgementsFirst
from bot.slack.client import make_web_client
from bot_offline.local_slack import LocalSlack

CHANNEL = "G0CASES"  # the bot posts to private channels and DMs only, never public ones


@pytest.fixture
def slack():
    with LocalSlack() as local:
        local.add_user("U0CSC001", "Social Worker")
        local.add_channel("sd-2026-0001", channel_id=CHANNEL, is_private=True)
        yield local


@pytest.fixture
def client(slack):
    # The same retries as against Slack, at a tenth of the wait (as the offline bot's client):
    # the local Slack answers at once.
    return make_web_client(slack.bot_token, slack.api_url, timeout=2, retry_backoff=0.05)


def _post(engine, clock, key: str, text: str = "hello", **extra) -> None:
    with session_scope(engine) as session:
        enqueue(
            session,
            key=key,
            method="chat.postMessage",
            arguments={"channel": CHANNEL, "text": text},
            now=clock.now(),
            **extra,
        )


def _state(engine, key: str) -> OutboxMessage:
    with Session(engine) as session:
        return session.exec(select(OutboxMessage).where(OutboxMessage.key == key)).one()


def test_enqueue_is_idempotent_and_delivery_sends_once(engine, clock, slack, client) -> None:
    _post(engine, clock, "greeting")
    _post(engine, clock, "greeting", text="a second click")
    assert deliver_pending(engine, client, clock) == 1
    assert deliver_pending(engine, client, clock) == 0
    messages = slack.messages(CHANNEL)
    assert [message["text"] for message in messages] == ["hello"]
    entry = _state(engine, "greeting")
    assert entry.state == OutboxState.SENT
    assert entry.result["ts"] == messages[0]["ts"]
    assert entry.delivered_at == clock.now()


def test_a_rate_limit_is_waited_out_within_the_call(engine, clock, slack, client) -> None:
    _post(engine, clock, "limited")
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    assert deliver_pending(engine, client, clock) == 1
    assert len(slack.calls_to("chat.postMessage")) == 2
    assert len(slack.messages(CHANNEL)) == 1


def test_a_slack_outage_leaves_it_pending_until_a_later_pass(engine, clock, slack, client) -> None:
    _post(engine, clock, "outage")
    slack.fail_next("chat.postMessage", status=500, times=3)  # beyond the client's own retries
    assert deliver_pending(engine, client, clock) == 0
    entry = _state(engine, "outage")
    assert entry.state == OutboxState.PENDING
    assert entry.last_error.startswith("500")
    assert entry.next_attempt_at > clock.now()
    assert deliver_pending(engine, client, clock) == 0  # not due yet: no hammering
    clock.advance(timedelta(minutes=1))
    assert deliver_pending(engine, client, clock) == 1
    assert len(slack.messages(CHANNEL)) == 1
    with Session(engine) as session:
        assert pending_count(session) == 0


def test_a_permanent_error_is_not_retried(engine, clock, slack, client) -> None:
    with session_scope(engine) as session:
        enqueue(
            session,
            key="nowhere",
            method="chat.postMessage",
            arguments={"channel": "C0MISSING", "text": "x"},
            now=clock.now(),
        )
    assert deliver_pending(engine, client, clock) == 0
    clock.advance(timedelta(hours=1))
    assert deliver_pending(engine, client, clock) == 0
    entry = _state(engine, "nowhere")
    assert entry.state == OutboxState.FAILED
    assert "channel_not_found" in entry.last_error
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_what_was_committed_before_a_restart_is_still_delivered(database_url, clock, slack, client) -> None:
    from bot.database import make_engine

    first = make_engine(database_url)
    _post(first, clock, "before-restart")
    first.dispose()  # the process dies before delivering
    second = make_engine(database_url)
    assert deliver_pending(second, client, clock) == 1
    second.dispose()
    assert len(slack.messages(CHANNEL)) == 1


def test_the_delivery_hook_records_what_slack_answered(engine, clock, slack, client) -> None:
    seen: list[tuple[int | None, str]] = []
    courier = Courier()

    @courier.on_delivered("test-hook")
    def remember(session, message, response) -> None:
        seen.append((message.subject_id, response["ts"]))

    _post(engine, clock, "hooked", purpose="test-hook", subject_id=42)
    courier.deliver_pending(engine, client, clock)
    assert seen == [(42, slack.messages(CHANNEL)[0]["ts"])]


def test_concurrent_deliverers_send_each_entry_once(engine, clock, slack) -> None:
    for number in range(30):
        _post(engine, clock, f"bulk-{number}", text=f"message {number}")
    totals: list[int] = []

    def worker() -> None:
        totals.append(deliver_pending(engine, make_web_client(slack.bot_token, slack.api_url), clock))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    texts = sorted(message["text"] for message in slack.messages(CHANNEL))
    assert texts == sorted(f"message {number}" for number in range(30))
    assert sum(totals) == 30


def test_a_deferred_entry_is_sent_in_the_same_pass_once_what_it_waits_for_is(
    engine, clock, slack, client
) -> None:
    """A message that needs another's answer (here: the first message's ts) waits for it,
    then goes in the same pass, with one worker; its deferral is not a failed attempt."""
    courier = Courier()
    first_ts: dict[str, str] = {}

    @courier.on_delivered("first")
    def remember(session, message, response) -> None:
        first_ts["ts"] = response["ts"]

    @courier.on_prepare("reply")
    def reply_to_first(session, message) -> dict:
        if "ts" not in first_ts:
            raise Defer()
        return {**message.arguments, "thread_ts": first_ts["ts"]}

    # The reply is older, so it is tried (and deferred) before the message it answers.
    _post(engine, clock, "reply", text="the reply", purpose="reply")
    _post(engine, clock, "first", text="the first", purpose="first")
    assert courier.deliver_pending(engine, client, clock) == 2
    reply = _state(engine, "reply")
    assert reply.state == OutboxState.SENT and reply.attempts == 1
    assert reply.arguments["thread_ts"] == first_ts["ts"]  # what was sent stays on the record


def test_entries_left_waiting_do_not_use_up_a_pass(engine, clock, slack, client) -> None:
    """As many old entries waiting for something that does not come as a pass's limit (a
    channel never made): a newer entry is still sent, in the first pass, and those waiting
    are left due, their attempts uncounted."""
    courier = Courier()

    @courier.on_prepare("waits")
    def waits(session, message) -> dict:
        raise Defer()

    for number in range(6):
        _post(engine, clock, f"waits-{number}", purpose="waits")
    _post(engine, clock, "newer", text="the newer one")
    assert courier.deliver_pending(engine, client, clock, limit=5) == 1
    assert _state(engine, "newer").state == OutboxState.SENT
    waiting = [_state(engine, f"waits-{number}") for number in range(6)]
    assert all(e.state == OutboxState.PENDING and e.attempts == 0 and e.lease_until is None for e in waiting)


def test_a_pass_stops_at_its_limit_and_leaves_the_rest_free(engine, clock, slack, client) -> None:
    for number in range(5):
        _post(engine, clock, f"limited-{number}", text=f"message {number}")
    assert Courier().deliver_pending(engine, client, clock, limit=2, workers=2) == 2
    left = [_state(engine, f"limited-{number}") for number in range(2, 5)]
    assert all(e.state == OutboxState.PENDING and e.lease_until is None and e.attempts == 0 for e in left)
    assert deliver_pending(engine, client, clock) == 3  # at once: nothing is held by a lease


def test_a_failing_preparer_is_a_failed_attempt_not_a_stopped_pass(engine, clock, slack, client) -> None:
    courier = Courier()

    @courier.on_prepare("broken")
    def broken(session, message) -> dict:
        raise KeyError("no such thing")

    @courier.on_prepare("writes")
    def writes(session, message) -> dict:
        message.purpose = "changed"  # preparers only read
        return message.arguments

    _post(engine, clock, "broken", purpose="broken")
    _post(engine, clock, "writes", purpose="writes")
    _post(engine, clock, "fine", text="still sent")
    assert courier.deliver_pending(engine, client, clock, workers=2) == 1
    assert [m["text"] for m in slack.messages(CHANNEL)] == ["still sent"]
    for key, error in (("broken", "KeyError"), ("writes", "preparers only read")):
        entry = _state(engine, key)
        assert entry.state == OutboxState.PENDING and error in entry.last_error
        assert entry.next_attempt_at > clock.now() and entry.lease_until is None


def test_delivery_holds_back_while_an_acknowledgement_is_in_progress(engine, clock, slack, client) -> None:
    """Before each call a courier waits for no request to be being answered (bounded)."""
    acknowledgements = AcknowledgementsFirst()
    _post(engine, clock, "waits", text="after the answer")
    answered = threading.Event()
    sent_before_answer: list[int] = []

    def answer() -> None:
        with acknowledgements.answering():
            answered.wait(5)
            sent_before_answer.append(len(slack.messages(CHANNEL)))

    request = threading.Thread(target=answer)
    request.start()
    time.sleep(0.05)  # the request is being answered
    courier = threading.Thread(
        target=Courier().deliver_pending,
        args=(engine, client, clock),
        kwargs={"pause": lambda: acknowledgements.wait_for_quiet(patience=5)},
    )
    courier.start()
    time.sleep(0.2)
    answered.set()
    request.join()
    courier.join()
    assert sent_before_answer == [0]
    assert [m["text"] for m in slack.messages(CHANNEL)] == ["after the answer"]
    # Never held back for longer than its patience.
    with acknowledgements.answering():
        started = time.monotonic()
        assert acknowledgements.wait_for_quiet(patience=0.05) is False
        assert time.monotonic() - started < 1
    assert acknowledgements.wait_for_quiet(patience=0) is True
