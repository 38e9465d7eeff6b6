"""No request body, form value or child's detail is logged, on any path, at any level, by
any logger: the bot as people run it (`python -m bot run`, LOG_LEVEL=DEBUG, JSON and text),
sent refused, stale, malformed and failing requests that carry the sample child's name,
date of birth and reason, and everything it writes to standard error and output scanned."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from urllib.parse import urlencode

import pytest

from bot.logging_setup import WITHHELD, configure
from bot_offline.driver import SAMPLE_CHILD_NAME, strategy_form_values
from bot_offline.local_slack import LocalSlack, SignedSlackClient
from bot_offline.local_slack.signed_client import sign
from tests.test_process import _free_port, _wait_healthy

SECRET = "log-test-secret"
CONVENOR = "U0CSC001"
DATE_OF_BIRTH = "2011-05-01"
REASON = "Found out of area with unexplained cash"
SECRETS = (SAMPLE_CHILD_NAME, SAMPLE_CHILD_NAME.split()[0], DATE_OF_BIRTH, REASON, "unexplained cash")


def _convene_body(**overrides) -> str:
    """A `/strategy new` submission carrying the child's details (as Slack would send it)."""
    values = strategy_form_values(**overrides)
    values["reason"] = {"value": {"type": "plain_text_input", "value": REASON + "; missing three times."}}
    payload = {
        "type": "view_submission",
        "team": {"id": "T0LOCAL", "domain": "local"},
        "user": {"id": CONVENOR, "name": "sw"},
        "api_app_id": "A0LOCAL",
        "trigger_id": "1.2.3",
        "view": {
            "id": "VLOGS0001",
            "type": "modal",
            "callback_id": "strategy_new",
            "private_metadata": json.dumps({"channel": "C0GENERAL"}),
            "state": {"values": values},
            "hash": "1.x",
        },
    }
    return urlencode({"payload": json.dumps(payload)})


def _send_every_kind_of_bad_request(slack: SignedSlackClient) -> None:
    form = "application/x-www-form-urlencoded"
    body = _convene_body()
    now = str(int(time.time()))
    assert slack.post_raw(body, form, signing_secret_override="forged").status == 401  # refused
    assert slack.post_raw(body, form, timestamp_override=int(time.time()) - 600).status == 401  # stale
    for timestamp in ("abc", "", "1e12"):  # malformed signature headers
        headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": sign(SECRET, timestamp, body)}
        assert slack.post_raw(body, form, unsigned=True, extra_headers=headers).status == 401
    for bad in (  # verified, but not Slack's shape: 400
        urlencode({"payload": f"{SAMPLE_CHILD_NAME} born {DATE_OF_BIRTH}: {REASON}"}),
        urlencode({"payload": json.dumps([SAMPLE_CHILD_NAME, DATE_OF_BIRTH, REASON])}),
    ):
        headers = {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": sign(SECRET, now, bad)}
        assert slack.post_raw(bad, form, unsigned=True, extra_headers=headers).status == 400
    json_list = json.dumps([SAMPLE_CHILD_NAME, REASON])
    headers = {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": sign(SECRET, now, json_list)}
    assert slack.post_raw(json_list, "application/json", unsigned=True, extra_headers=headers).status == 400
    # verified and well formed, but its listener raises on what was typed (the error
    # quotes the child's name): the person gets an error id, the log a line and a trace
    failing = _convene_body(start={"type": "datetimepicker", "selected_date_time": SAMPLE_CHILD_NAME})
    assert slack.post_raw(failing, form).status == 200
    # and a good one, refused by the guard (not a convenor), with the details in it
    outsider = _convene_body().replace(CONVENOR, "U0EHP001")
    assert slack.post_raw(outsider, form).status == 200


@pytest.mark.parametrize("style", ["json", "text"])
def test_the_running_bot_logs_nothing_of_what_people_send_whatever_goes_wrong(
    database_url, tmp_path, style
) -> None:
    port = _free_port()
    with LocalSlack(bot_token="xoxb-logs") as local:
        local.add_user(CONVENOR, "Social Worker")
        local.add_user("U0EHP001", "Early Help")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LOG_"))},
            "SLACK_BOT_TOKEN": "xoxb-logs",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": local.api_url,
            "DATABASE_URL": database_url,
            "PORT": str(port),
            "DOCUMENTS_DIR": str(tmp_path / "documents"),
            "LOG_LEVEL": "DEBUG",
            "LOG_FORMAT": style,
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _wait_healthy(f"http://127.0.0.1:{port}/healthz", process)
            slack = SignedSlackClient(f"http://127.0.0.1:{port}/slack/events", SECRET, local)
            _send_every_kind_of_bad_request(slack)
            local.wait_for(
                lambda calls: any("error id" in json.dumps(c.args) for c in calls), timeout=15
            )  # the failing request's apology
            time.sleep(1.0)  # the refusal's audit and any last log lines
        finally:
            process.terminate()
            out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err[-3000:]
    written = out + err
    assert "refused an unverified request" in err and "refused a malformed Slack request" in err
    assert "listener.failed" in err and "ValueError" in err  # the failing listener was logged, by type
    for secret in SECRETS:
        assert secret not in written, secret
    if style == "json":
        for line in err.splitlines():
            json.loads(line)  # every line is one JSON object, nothing printed around them


@contextmanager
def _configured(style: str):
    stream = io.StringIO()
    saved_stderr, saved_handlers, saved_level = (
        sys.stderr,
        logging.getLogger().handlers[:],
        logging.getLogger().level,
    )
    saved_hooks = sys.excepthook
    sys.stderr = stream
    try:
        configure("DEBUG", style)
        yield stream
    finally:
        sys.stderr = saved_stderr
        logging.getLogger().handlers[:] = saved_handlers
        logging.getLogger().setLevel(saved_level)
        sys.excepthook = saved_hooks
        for name in ("slack_bolt", "slack_sdk", "urllib3", "waitress"):
            logging.getLogger(name).setLevel(logging.NOTSET)


@pytest.mark.parametrize("style", ["json", "text"])
def test_libraries_messages_keep_their_wording_but_none_of_their_values(style) -> None:
    with _configured(style) as stream:
        # the library's level is raised, so lower it to see that the filter holds anyway
        for library in ("slack_bolt", "slack_sdk", "urllib3"):
            logging.getLogger(library).setLevel(logging.DEBUG)
        bolt = logging.getLogger("slack_bolt.RequestVerification")
        bolt.info(f"Invalid request signature detected (body: payload={SAMPLE_CHILD_NAME})")
        logging.getLogger("slack_sdk.web").debug("Received the following response - body: %s", REASON)
        logging.getLogger("urllib3.connectionpool").debug('%s "%s %d" %s', "host", "POST", 200, DATE_OF_BIRTH)
        try:
            int(SAMPLE_CHILD_NAME)
        except ValueError:
            logging.getLogger("waitress").exception("Exception while serving %s", "/slack/events")
            logging.getLogger("bot.errors").error(
                "error %s in %s", "ABC12345", "view_submission", exc_info=True
            )
        logging.getLogger("bot.delivery").info("outbox %s delivered", 17)
    written = stream.getvalue()
    for secret in SECRETS:
        assert secret not in written, written
    assert WITHHELD in written  # the f-string message, and every exception's message
    assert "Received the following response - body: …" in written
    assert "Exception while serving …" in written
    assert "ValueError" in written and "int(SAMPLE_CHILD_NAME)" in written  # where, not what
    assert "error ABC12345 in view_submission" in written and "outbox 17 delivered" in written


def test_an_uncaught_error_in_a_thread_is_logged_without_its_message() -> None:
    import threading

    with _configured("json") as stream:

        def fail() -> None:
            raise KeyError(SAMPLE_CHILD_NAME)

        thread = threading.Thread(target=fail, name="worker")
        thread.start()
        thread.join()
        threading.excepthook = threading.__excepthook__
    written = stream.getvalue()
    assert SAMPLE_CHILD_NAME not in written
    entry = json.loads(written.strip().splitlines()[-1])
    assert entry["logger"] == "bot.crash" and entry["error_type"] == "KeyError"
