"""Socket Mode, as a pilot runs it: `python -m bot run` with an app-level token connects to
the local Slack's Socket Mode endpoint (`apps.connections.open` hands out its WebSocket
URL) and serves commands, buttons and form submissions sent as envelopes, answering each
within Slack's three seconds exactly as it answers them over HTTP. SIGTERM ends it, and
the HTTP mode, cleanly: exit status 0, pools closed, database closed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, func, select

from bot.agency_updates.models import AgencyUpdateVersion
from bot.clock import SettableClock
from bot_offline.driver import BOT_TOKEN, OfflineBot
from bot_offline.local_slack import LocalSlack
from bot_offline.local_slack.signed_client import StateValue
from bot_offline.local_slack.socket_mode import SocketModeSlackClient
from tests.agency_updates_support import update_values
from tests.convening_support import POLICE_PPU, SOCIAL_WORKER, convene, invitation_for
from tests.test_process import _bot_environment, _free_port, _wait_healthy

OUTSIDER = "U0EHP001"


def _socket_mode_bot(local: LocalSlack, database_url: str, tmp_path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LOG_"))}
    env.update(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_APP_TOKEN=local.app_token,
        SLACK_API_URL=local.api_url,
        DATABASE_URL=database_url,
        LOG_LEVEL="INFO",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _events(stderr: str) -> list[str]:
    return [json.loads(line).get("event", "") for line in stderr.splitlines() if line.startswith("{")]


def _views_opened(local: LocalSlack, title: str) -> list:
    return [c for c in local.calls_to("views.open") if c.ok and title in json.dumps(c.args)]


def test_socket_mode_serves_a_command_a_button_and_a_form_as_http_does(database_url, tmp_path) -> None:
    clock = SettableClock(datetime(2026, 11, 10, 10, 0, tzinfo=UTC))
    with (
        LocalSlack(bot_token=BOT_TOKEN) as local,
        OfflineBot(database_url=database_url, clock=clock, work_dir=tmp_path, local_slack=local) as http,
    ):
        meeting = convene(http)  # a discussion to act on, convened over HTTP
        invitation = invitation_for(http, meeting, "police-ppu")
        process = _socket_mode_bot(local, database_url, tmp_path)
        try:
            endpoint = local.socket_mode()
            endpoint.wait_connected(timeout=90)
            socket = SocketModeSlackClient(endpoint, local)
            assert any(c.method == "apps.connections.open" and c.ok for c in local.calls)
            # a command: the same answer, in the acknowledgement, as over HTTP
            for text, user in (
                ("help", SOCIAL_WORKER),
                (meeting.reference, OUTSIDER),
                ("SD-2026-0999", OUTSIDER),
            ):
                over_socket = socket.command("/strategy", text, user_id=user)
                over_http = http.slack.command("/strategy", text, user_id=user)
                assert over_socket.json() == over_http.json(), text
            assert (
                "`/strategy help`"
                in socket.command("/strategy", "help", user_id=SOCIAL_WORKER).json()["text"]
            )
            # a button that opens a form: the agency's update form, for its own person only
            opened = len(_views_opened(local, "Agency update"))
            ack = socket.block_actions(
                POLICE_PPU, [{"action_id": "agency_update_open", "value": str(invitation.id)}]
            )
            assert ack.status == 200 and ack.body == ""
            local.wait_for(lambda calls: len(_views_opened(local, "Agency update")) > opened)
            view = _views_opened(local, "Agency update")[-1].response["view"]
            # a form submission: refused inline through the acknowledgement, then accepted
            refused = socket.view_submission(
                POLICE_PPU, view, values=update_values(http, involvement_current=StateValue.text("  "))
            )
            assert refused.json()["response_action"] == "errors"
            assert "involvement_current" in refused.json()["errors"]
            accepted = socket.view_submission(POLICE_PPU, view, values=update_values(http))
            assert accepted.json()["response_action"] == "update"
            assert "is submitted (version 1)" in json.dumps(accepted.json()["view"])
            with Session(http.runtime.engine) as session:
                stored = session.exec(select(func.count()).select_from(AgencyUpdateVersion)).one()
            assert stored == 1
            assert socket.ack_seconds and max(socket.ack_seconds) < 3  # Slack's deadline
        finally:
            process.send_signal(signal.SIGTERM)
            _out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err[-3000:]
    events = _events(err)
    assert "socket_mode.start" in events and events[-1] == "socket_mode.stopped", events[-5:]


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_stops_http_mode_cleanly(database_url, tmp_path, workers) -> None:
    port = _free_port()
    with LocalSlack(bot_token="xoxb-process") as local:
        env = _bot_environment(local, database_url, port, HTTP_WORKERS=str(workers), LOG_LEVEL="INFO")
        env.pop("LOG_FORMAT", None)
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _wait_healthy(f"http://127.0.0.1:{port}/healthz/ready", process)
        finally:
            process.send_signal(signal.SIGTERM)
            _out, err = process.communicate(timeout=90)
    assert process.returncode == 0, err[-3000:]
    events = _events(err)
    assert events.count("worker.ready") == workers
    assert events.count("worker.stopped") == workers, events
