"""The real app over HTTP: Slack's signature, the health check, `/strategy help`, the Home tab,
and the central error handler, all through signed requests and the local Web API."""

from __future__ import annotations

import json
import logging
import re
import time
import urllib.error
import urllib.request

import pytest
from sqlalchemy import text
from sqlmodel import Session, func, select

from bot.audit.models import AuditEntry
from bot.database import make_engine
from bot.delivery.models import OutboxMessage
from bot.web import BotHttpServer, build_web_app

SOCIAL_WORKER = "U0CSC001"


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _rows(engine, model) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


@pytest.mark.parametrize(
    "badness",
    [
        {"signing_secret_override": "not-the-secret"},
        {"timestamp_override": int(time.time()) - 600},
        {"unsigned": True},
    ],
    ids=["forged", "stale", "unsigned"],
)
def test_an_unverified_request_gets_401_and_changes_nothing(bot, badness) -> None:
    calls_before = len(bot.local_slack.calls)
    response = bot.slack.command("/strategy", "help", user_id=SOCIAL_WORKER, **badness)
    assert response.status == 401
    assert "OFFICIAL" not in response.body
    event = bot.slack.event({"type": "app_home_opened", "user": SOCIAL_WORKER, "tab": "home"}, **badness)
    assert event.status == 401
    time.sleep(0.3)
    assert len(bot.local_slack.calls) == calls_before
    assert _rows(bot.runtime.engine, AuditEntry) == 0
    assert _rows(bot.runtime.engine, OutboxMessage) == 0


def test_readiness_reports_each_check_and_liveness_only_that_it_answers(bot) -> None:
    ready = {
        "ok": True,
        "database": "up",
        "migrations": "at head",
        "slack": "up",
        "scheduler": "running",
    }
    assert _get(f"{bot.base_url}/healthz/ready") == (200, ready)
    assert _get(f"{bot.base_url}/healthz") == (200, ready)  # the old path is readiness
    assert _get(f"{bot.base_url}/healthz/live") == (200, {"ok": True})


def test_readiness_fails_when_the_database_is_unreachable_but_the_process_is_live(bot) -> None:
    from bot.health import Readiness, SlackProbe
    from bot.slack.app import build_app

    unreachable = make_engine("postgresql://nobody@127.0.0.1:1/none")
    readiness = Readiness(unreachable, SlackProbe(bot.runtime.client), lambda: True)
    server = BotHttpServer(build_web_app(build_app(bot.runtime), unreachable, readiness=readiness)).start()
    try:
        status, body = _get(f"http://127.0.0.1:{server.port}/healthz/ready")
        live = _get(f"http://127.0.0.1:{server.port}/healthz/live")
    finally:
        server.stop()
        unreachable.dispose()
    assert (status, body["ok"], body["database"], body["migrations"]) == (503, False, "down", "unknown")
    assert body["slack"] == "up"
    assert live == (200, {"ok": True})


def test_readiness_fails_when_the_scheduler_has_stopped(bot) -> None:
    bot.runtime.scheduler.shutdown(wait=True)
    try:
        status, body = _get(f"{bot.base_url}/healthz/ready")
    finally:
        bot.runtime.scheduler.start()
    assert (status, body["ok"], body["scheduler"]) == (503, False, "stopped")
    assert _get(f"{bot.base_url}/healthz/ready")[0] == 200


def test_readiness_names_slack_refusing_the_token_or_unreachable(bot) -> None:
    from slack_sdk import WebClient

    from bot.health import Readiness, SlackProbe

    wrong_token = WebClient(token="xoxb-revoked", base_url=bot.local_slack.api_url)
    report = Readiness(bot.runtime.engine, SlackProbe(wrong_token)).report()
    assert (report["ok"], report["slack"]) == (False, "refused: invalid_auth")
    nobody = WebClient(token="xoxb-local", base_url="http://127.0.0.1:1/api/")
    report = Readiness(bot.runtime.engine, SlackProbe(nobody)).report()
    assert report["ok"] is False
    assert report["slack"].startswith("unreachable: ")


def test_slack_is_asked_at_most_once_per_interval(bot) -> None:
    from bot.health import SlackProbe

    now = [1000.0]
    probe = SlackProbe(bot.runtime.client, kept_for=30, monotonic=lambda: now[0])
    asked = len(bot.local_slack.calls_to("auth.test"))
    assert [probe.status() for _ in range(3)] == ["up"] * 3
    assert len(bot.local_slack.calls_to("auth.test")) == asked + 1
    now[0] += 29
    probe.status()
    assert len(bot.local_slack.calls_to("auth.test")) == asked + 1
    now[0] += 1
    probe.status()
    assert len(bot.local_slack.calls_to("auth.test")) == asked + 2


def test_readiness_fails_until_the_migrations_are_at_head(tmp_path) -> None:
    from bot.database import upgrade
    from bot.health import Readiness

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        assert Readiness(engine).report() == {"ok": False, "database": "up", "migrations": "not migrated"}
        upgrade(engine, "0001")
        assert Readiness(engine).report()["migrations"] == "behind head"
        upgrade(engine)
        assert Readiness(engine).report() == {"ok": True, "database": "up", "migrations": "at head"}
    finally:
        engine.dispose()


def test_other_paths_are_not_found(bot) -> None:
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(f"{bot.base_url}/admin", timeout=5)
    assert raised.value.code == 404


def test_strategy_help_is_private_and_lists_the_commands(bot) -> None:
    response = bot.slack.command("/strategy", "help", user_id=SOCIAL_WORKER)
    assert response.status == 200
    body = response.json()
    assert body["response_type"] == "ephemeral"
    assert body["text"].startswith("*OFFICIAL-SENSITIVE*")
    assert "`/strategy help`" in body["text"]
    assert "did not recognise" not in body["text"]


def test_an_empty_strategy_command_shows_help(bot) -> None:
    body = bot.slack.command("/strategy", "", user_id=SOCIAL_WORKER).json()
    assert "`/strategy help`" in body["text"]


def test_an_unknown_subcommand_gets_usage_with_what_was_typed_escaped(bot) -> None:
    body = bot.slack.command("/strategy", "<!channel> frob", user_id=SOCIAL_WORKER).json()
    assert "I did not recognise `&lt;!channel&gt; frob`" in body["text"]
    assert "<!channel>" not in body["text"]
    assert "`/strategy help`" in body["text"]


def test_panel_and_actions_answer_with_their_usage(bot) -> None:
    body = bot.slack.command("/panel", "", user_id=SOCIAL_WORKER).json()
    assert body["response_type"] == "ephemeral"
    assert "`/panel refer` refer a child or a context" in body["text"]
    usage = bot.slack.command("/actions", "what now please", user_id=SOCIAL_WORKER).json()
    assert "`/actions add SD-2026-0001` add an action" in usage["text"]


def _published_home(bot, user_id: str) -> dict:
    response = bot.slack.event({"type": "app_home_opened", "user": user_id, "tab": "home"})
    assert response.status == 200
    bot.local_slack.wait_for(lambda calls: any(c.method == "views.publish" and c.ok for c in calls))
    view = bot.local_slack.home_view(user_id)
    assert view is not None
    return view


def test_home_tab_names_the_persons_agency_and_roles(bot) -> None:
    view = _published_home(bot, SOCIAL_WORKER)
    rendered = json.dumps(view)
    assert "OFFICIAL-SENSITIVE" in rendered
    assert "Birmingham Children's Social Care" in rendered
    assert "a convenor" in rendered


def test_home_tab_for_someone_not_in_the_schedules(bot) -> None:
    bot.local_slack.add_user("U0STRANGER", "Someone New")
    view = _published_home(bot, "U0STRANGER")
    assert "not listed in the partnership's schedules" in json.dumps(view)


def test_a_retried_event_is_acknowledged(bot) -> None:
    event = {"type": "app_home_opened", "user": SOCIAL_WORKER, "tab": "home"}
    first = bot.slack.event(event, event_id="Ev0RETRY")
    again = bot.slack.event(event, event_id="Ev0RETRY", retry_num=1, retry_reason="http_timeout")
    assert (first.status, again.status) == (200, 200)


def test_url_verification_is_answered(bot) -> None:
    response = bot.slack.url_verification("challenge-token")
    assert response.status == 200
    assert "challenge-token" in response.body


def test_a_failure_tells_the_person_an_error_id_and_logs_the_rest(bot, caplog) -> None:
    with bot.runtime.engine.begin() as connection:
        connection.execute(text("DROP TABLE personrole"))
    caplog.set_level(logging.ERROR, logger="bot.errors")
    bot.slack.event({"type": "app_home_opened", "user": SOCIAL_WORKER, "tab": "home"})
    calls = bot.local_slack.wait_for(
        lambda calls: any(c.method == "chat.postMessage" for c in calls), timeout=10
    )
    message = next(c for c in calls if c.method == "chat.postMessage")
    assert message.args["channel"] == SOCIAL_WORKER
    found = re.search(r"error id `([0-9A-F]{8})`", message.args["text"])
    assert found, message.args["text"]
    assert "personrole" not in message.args["text"].lower()
    logged = [record for record in caplog.records if getattr(record, "error_id", None) == found.group(1)]
    assert logged and logged[0].event == "listener.failed"
    assert logged[0].exc_info is not None


def test_every_listener_answers_on_its_ack(bot) -> None:
    """Every listener the bot registers is wrapped to answer on its ack (a registration
    that bypassed the wrapper would make Slack wait for all the listener's work)."""
    from bot.slack.app import build_app

    app = build_app(bot.runtime)
    listeners = app._listeners  # Bolt's registered listeners, read only
    assert len(listeners) > 80
    unwrapped = [
        listener.ack_function.__name__
        for listener in listeners
        if not getattr(listener.ack_function, "answers_on_ack", False)
    ]
    assert unwrapped == []


def test_the_answer_does_not_wait_for_the_work_after_the_ack(bot) -> None:
    """A Home tab filter acknowledges, then publishes the tab in the listener itself: with
    Slack's views.publish held back 2 s, the click is still answered at once, and the tab
    is published once Slack answers."""
    bot.local_slack.stall("views.publish", 2.0)
    view = {"type": "home", "callback_id": "home", "blocks": []}
    started = time.monotonic()
    response = bot.slack.block_actions(
        SOCIAL_WORKER,
        [{"action_id": "home_filter_state", "type": "static_select", "selected_option": {"value": "open"}}],
        view=view,
    )
    answered_after = time.monotonic() - started
    assert response.status == 200
    assert answered_after < 1.5, answered_after
    bot.local_slack.wait_for(
        lambda calls: any(
            c.method == "views.publish" and c.args.get("user_id") == SOCIAL_WORKER for c in calls
        ),
        timeout=10,
    )
    assert time.monotonic() - started >= 2.0
