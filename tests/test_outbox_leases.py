"""Nothing waits long: a message leased by a bot process that is killed mid-call goes out
within 15 seconds, whether the bot is restarted or another process is already running.
The killed process is a real `python -m bot run` (its whole process group, SIGKILL), its
call to Slack held up by the local Slack so it dies holding the lease."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from bot.database import make_engine, session_scope
from bot.delivery.models import OutboxMessage, OutboxState
from bot.delivery.service import enqueue
from bot_offline.local_slack import LocalSlack
from tests.test_process import _bot_environment, _free_port, _wait_healthy

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
USER = "U0CSC001"
PROMISED_SECONDS = 15.0


def _start(local: LocalSlack, database_url: str, tmp_path) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    env = _bot_environment(local, database_url, port, HTTP_WORKERS="1", LOG_LEVEL="WARNING")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: master and worker die together
    )
    return process, port


def _entry(engine) -> OutboxMessage:
    with Session(engine) as session:
        return session.exec(select(OutboxMessage).where(OutboxMessage.key == "urgent")).one()


def _wait(condition, timeout: float, step: float = 0.1) -> float:
    """Seconds until `condition()` held; fails after `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(step)
    raise AssertionError(f"not within {timeout} s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _enqueue(engine) -> None:
    with session_scope(engine) as session:
        enqueue(
            session,
            key="urgent",
            method="chat.postMessage",
            arguments={"channel": USER, "text": "An immediate strategy discussion at 14:00."},
            now=datetime.now(UTC),
        )


@pytest.mark.parametrize("rescuer", ["restarted", "already running"])
def test_a_message_leased_by_a_killed_process_goes_out_within_15_seconds(
    database_url, tmp_path, rescuer
) -> None:
    engine = make_engine(database_url)
    processes: list[subprocess.Popen] = []
    with LocalSlack(bot_token="xoxb-process") as local:
        local.add_user(USER, "Social Worker")
        try:
            for _ in range(2 if rescuer == "already running" else 1):
                process, port = _start(local, database_url, tmp_path)
                processes.append(process)
                _wait_healthy(f"http://127.0.0.1:{port}/healthz/live", process)
            local.stall("chat.postMessage", 600)  # the first attempt hangs until its process dies
            _enqueue(engine)
            _wait(lambda: _entry(engine).lease_owner != "", 30)
            time.sleep(0.3)  # in the call to Slack, holding the lease
            holder = _entry(engine).lease_owner
            worker = int(holder.split("/")[1])
            killed = next(p for p in processes if p.pid == os.getpgid(worker))
            os.killpg(killed.pid, signal.SIGKILL)
            killed.wait(timeout=10)
            left = _entry(engine)
            assert (left.state, left.lease_owner) == (OutboxState.PENDING, holder)
            if rescuer == "restarted":
                restarted, _ = _start(local, database_url, tmp_path)
                processes.append(restarted)
            waited = _wait(lambda: _entry(engine).state == OutboxState.SENT, 60)
            sent = [
                c
                for c in local.calls_to("chat.postMessage")
                if c.ok and "immediate strategy" in c.args["text"]
            ]
        finally:
            for process in processes:
                _stop(process)
            engine.dispose()
    assert waited <= PROMISED_SECONDS, f"sent {waited:.1f} s after the {rescuer} process could take it"
    assert len(sent) == 1  # sent once: the hung attempt never reached Slack, the rescue did
    # the rescuer looked for the message first, as the dead holder may have posted it
    assert any(c.method == "conversations.history" for c in local.calls)
