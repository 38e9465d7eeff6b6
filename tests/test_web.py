"""The front door: every request to /slack/events is verified strictly before Bolt, any
listener, middleware or error handler sees it, and a body that is not Slack's shape gets a
400, not a 500. Nothing reaches Slack for a request that was not verified."""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import urlencode

import pytest
from sqlmodel import Session, func, select

from bot.audit.models import AuditEntry
from bot.delivery.models import OutboxMessage
from bot.slack.signature import SlackSignature, signature_of
from bot_offline.driver import SIGNING_SECRET
from bot_offline.local_slack.signed_client import sign

USER = "U0CSC001"


def _payload(user: str = USER) -> str:
    """A button press whose failure the error handler would tell the person about."""
    body = {
        "type": "block_actions",
        "user": {"id": user},
        "team": {"id": "T0LOCAL"},
        "channel": {"id": "C0GENERAL"},
        "trigger_id": "1.1.x",
        "actions": [{"action_id": "action_done", "value": "not-a-number"}],
    }
    return urlencode({"payload": json.dumps(body)})


def _rows(bot, model) -> int:
    with Session(bot.runtime.engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def _post(bot, body: str, content_type: str, headers: dict[str, str]):
    return bot.slack.post_raw(body, content_type, unsigned=True, extra_headers=headers)


def _headers(timestamp: str | None, body: str, *, secret: str = SIGNING_SECRET, signature: str | None = None):
    headers = {}
    if timestamp is not None:
        headers["X-Slack-Request-Timestamp"] = timestamp
    headers["X-Slack-Signature"] = signature if signature is not None else sign(secret, timestamp or "", body)
    return headers


BAD_HEADERS = {
    "non-numeric timestamp": lambda body: _headers("abc", body),
    "empty timestamp": lambda body: _headers("", body),
    "exponent timestamp": lambda body: _headers("1e12", body),
    "negative timestamp": lambda body: _headers(f"-{int(time.time())}", body),
    "padded timestamp": lambda body: _headers(f" {int(time.time())}", body),
    "no timestamp": lambda body: {"X-Slack-Signature": sign(SIGNING_SECRET, str(int(time.time())), body)},
    "no signature": lambda body: {"X-Slack-Request-Timestamp": str(int(time.time()))},
    "no headers": lambda body: {},
    "wrong secret": lambda body: _headers(str(int(time.time())), body, secret="not-the-secret"),
    "stale": lambda body: _headers(str(int(time.time()) - 301), body),
    # well past the five minutes: a whole-second timestamp 301 s ahead is within them again
    # once the request takes more than a second to arrive (a busy machine)
    "from the future": lambda body: _headers(str(int(time.time()) + 330), body),
    "upper-case hex": lambda body: _headers(
        str(int(time.time())),
        body,
        signature=sign(SIGNING_SECRET, str(int(time.time())), body).upper().replace("V0=", "v0="),
    ),
    "v1 signature": lambda body: _headers(
        str(int(time.time())),
        body,
        signature=sign(SIGNING_SECRET, str(int(time.time())), body).replace("v0=", "v1="),
    ),
    "short signature": lambda body: _headers(str(int(time.time())), body, signature="v0=abc"),
}


@pytest.mark.parametrize("badness", sorted(BAD_HEADERS))
def test_an_unverified_request_gets_401_before_anything_runs_and_nothing_reaches_slack(bot, badness) -> None:
    body = _payload()
    before = len(bot.local_slack.calls)
    response = _post(bot, body, "application/x-www-form-urlencoded", BAD_HEADERS[badness](body))
    assert (response.status, response.body) == (401, "invalid request signature\n")
    command = urlencode({"command": "/strategy", "text": "help", "user_id": USER, "channel_id": "C0GENERAL"})
    assert (
        _post(bot, command, "application/x-www-form-urlencoded", BAD_HEADERS[badness](command)).status == 401
    )
    bot.wait_idle()
    time.sleep(0.2)
    assert len(bot.local_slack.calls) == before  # no apology, no ephemeral, nothing
    assert _rows(bot, AuditEntry) == 0 and _rows(bot, OutboxMessage) == 0


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (urlencode({"payload": "not json at all"}), "application/x-www-form-urlencoded"),
        (urlencode({"payload": "[1, 2, 3]"}), "application/x-www-form-urlencoded"),
        (urlencode({"payload": '"a string"'}), "application/x-www-form-urlencoded"),
        ("payload", "application/x-www-form-urlencoded"),
        ("[1, 2, 3]", "application/json"),
        ("{not json", "application/json"),
        ("<xml/>", "text/xml"),
    ],
    ids=[
        "payload not json",
        "payload a list",
        "payload a string",
        "payload empty",
        "json list",
        "bad json",
        "xml",
    ],
)
def test_a_verified_body_that_is_not_slacks_shape_gets_400_and_one_log_line(
    bot, caplog, body, content_type
) -> None:
    caplog.set_level(logging.DEBUG)
    before = len(bot.local_slack.calls)
    response = _post(bot, body, content_type, _headers(str(int(time.time())), body))
    assert (response.status, response.body) == (400, "bad request\n")
    bot.wait_idle()
    assert len(bot.local_slack.calls) == before
    lines = [r for r in caplog.records if r.name.startswith("bot") or r.levelno >= logging.WARNING]
    assert [r.name for r in lines] == ["bot.web"], [(r.name, r.getMessage()) for r in lines]
    assert lines[0].exc_info is None  # one line, no traceback, nothing of the body
    assert not any(part in lines[0].getMessage() for part in ("not json at all", "1, 2", "a string", "<xml"))


def test_a_verified_request_still_reaches_bolt_and_bolt_checks_again(bot) -> None:
    body = urlencode({"command": "/strategy", "text": "help", "user_id": USER, "team_id": "T0LOCAL"})
    good = _post(bot, body, "application/x-www-form-urlencoded", _headers(str(int(time.time())), body))
    assert good.status == 200 and "`/strategy help`" in good.json()["text"]


def test_the_signature_check_on_its_own() -> None:
    now = 1_800_000_000
    check = SlackSignature("secret", wall_clock=lambda: now)
    body = b"token=x&text=help"
    good = signature_of("secret", str(now), body)
    assert check.problem(str(now), good, body) == ""
    assert check.problem(str(now - 300), signature_of("secret", str(now - 300), body), body) == ""
    assert check.problem(str(now - 301), signature_of("secret", str(now - 301), body), body)
    assert check.problem(str(now), good, body + b"&more")
    assert check.problem("0" * 13, good, body)  # thirteen digits is not a timestamp
    assert SlackSignature("", wall_clock=lambda: now).problem(str(now), good, body)


def test_slack_the_pages_and_the_health_checks_are_one_flask_app_through_bolts_adapter(bot) -> None:
    """One WSGI app (issue 21): Slack's endpoint is Bolt's Flask adapter on the pages' Flask
    app, exempt from the pages' CSRF check, and every answer carries the security headers."""
    import urllib.request

    from flask import Flask
    from slack_bolt.adapter.flask import SlackRequestHandler

    web = bot.server.app
    assert isinstance(web, Flask)
    rules = {rule.rule: rule.endpoint for rule in web.url_map.iter_rules()}
    assert {"/slack/events", "/healthz/ready", "/healthz/live", "/p/<token>", "/desk/"} <= set(rules)
    handler = web.view_functions[rules["/slack/events"]].__closure__[0].cell_contents
    assert isinstance(handler, SlackRequestHandler)
    body = urlencode({"command": "/strategy", "text": "help", "user_id": USER, "team_id": "T0LOCAL"})
    answer = _post(bot, body, "application/x-www-form-urlencoded", _headers(str(int(time.time())), body))
    assert answer.status == 200  # no CSRF token, yet answered: Slack signs instead
    for path in ("/healthz/live", "/partner/signed-out"):
        with urllib.request.urlopen(f"{bot.base_url}{path}", timeout=5) as response:
            assert response.headers["X-Frame-Options"] == "DENY"
            assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
