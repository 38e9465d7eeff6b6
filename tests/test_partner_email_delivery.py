"""Partner e-mails go out exactly once, like Slack calls, with two replicas delivering from
the one database: the real `python -m bot run` with two worker processes (each its own
scheduler and couriers), against a local SMTP server that stalls (longer than a lease, so
the other replica would take the e-mail if the lease were not kept) or refuses for a while.
Every e-mail is retried until it is delivered, and each arrives once."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session, col, select

from bot.database import make_engine, session_scope
from bot.delivery.models import OutboxMessage, OutboxState
from bot.delivery.service import LEASE
from bot.partners.effects import enqueue_email
from bot.partners.links import ACTIONS, issue_link
from bot.partnership.models import Person
from bot_offline.local_slack import LocalSlack
from tests.test_process import _bot_environment, _free_port, _wait_healthy

E_MAILS = 6
STALL_SECONDS = LEASE.total_seconds() + 3


class TroubledServer:
    """An SMTP server that, for each message's first tries, stalls or refuses (451)."""

    def __init__(self, trouble: str, times: int) -> None:
        self.trouble, self.times = trouble, times
        self.tries: Counter[str] = Counter()  # DATA commands per Message-ID
        self.accepted: list[str] = []  # Message-IDs of the copies accepted
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message_id = str(message["Message-ID"])
        with self._lock:
            self.tries[message_id] += 1
            troubled = self.tries[message_id] <= self.times
        if troubled and self.trouble == "refuses":
            return "451 4.3.0 Try again later"
        if troubled:  # stalls, then takes it: the sender's lease must hold meanwhile
            await asyncio.sleep(STALL_SECONDS)
        with self._lock:
            self.accepted.append(message_id)
        return "250 OK"


def _queue_emails(engine) -> list[int]:
    """A partner e-mail (a link to one's actions) to each of the first contacts with an address."""
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        people = session.exec(
            select(Person).where(col(Person.email) != "", Person.active == True).order_by(Person.id)  # noqa: E712
        ).all()[:E_MAILS]
        assert len(people) == E_MAILS
        for person in people:
            link = issue_link(
                session,
                person_id=person.id or 0,
                purpose=ACTIONS,
                subject_id=None,
                now=now,
                lifetime=timedelta(days=7),
            )
            enqueue_email(
                session,
                f"test:exactly-once:{person.id}",
                link,
                "OFFICIAL-SENSITIVE: your actions\nYour actions: {link}\n",
                now,
            )
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage.id).where(OutboxMessage.purpose == "partner_email")))


def _states(engine) -> list[str]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage.state).where(OutboxMessage.purpose == "partner_email")))


def _workers_of(master: int) -> list[int]:
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == master:
                        children.append(int(entry))
            except OSError:
                continue
    return children


@pytest.mark.parametrize(("trouble", "times"), [("stalls", 1), ("refuses", 2)])
def test_two_replicas_deliver_each_partner_email_exactly_once(database_url, tmp_path, trouble, times) -> None:
    server = TroubledServer(trouble, times)
    smtp_port = _free_port()
    controller = Controller(server, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    engine = make_engine(database_url)
    port = _free_port()
    try:
        with LocalSlack(bot_token="xoxb-process") as local:
            environment = _bot_environment(
                local,
                database_url,
                port,
                HTTP_WORKERS="2",
                LOG_LEVEL="WARNING",
                SMTP_HOST="127.0.0.1",
                SMTP_PORT=str(smtp_port),
                SMTP_FROM="safeguarding-bot@bscp.example",
                SMTP_STARTTLS="false",
                SMTP_TIMEOUT_SECONDS=str(STALL_SECONDS + 10),
                PUBLIC_BASE_URL="https://bot.bscp.example",
                WEB_SECRET_KEY="exactly-once-test-key",
            )
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                cwd=tmp_path,
                env=environment,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
            try:
                _wait_healthy(f"http://127.0.0.1:{port}/healthz/live", process)
                assert len(_workers_of(process.pid)) == 2  # two replicas, one database
                ids = _queue_emails(engine)
                deadline = time.monotonic() + 90
                while time.monotonic() < deadline and set(_states(engine)) != {OutboxState.SENT}:
                    time.sleep(0.25)
                time.sleep(1)  # anything still to come would come now
            finally:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    _, errors = process.communicate(timeout=40)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    _, errors = process.communicate()
    finally:
        controller.stop()
        engine.dispose()
    assert _states_were_sent(database_url, ids)
    expected = {f"<partner-{i}@safeguarding-bot.local>" for i in ids}
    assert Counter(server.accepted) == Counter(expected)  # every e-mail, each once
    assert set(server.tries) == expected
    if trouble == "refuses":
        assert all(server.tries[m] == times + 1 for m in expected)  # retried until delivered
        retries = [json.loads(line) for line in errors.splitlines() if '"outbox.retry"' in line]
        assert len(retries) == times * E_MAILS
    else:  # each stalled past a lease, and no other replica tried it meanwhile
        assert all(server.tries[m] == 1 for m in expected)


def _states_were_sent(database_url: str, ids: list[int]) -> bool:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            rows = session.exec(select(OutboxMessage).where(col(OutboxMessage.id).in_(ids))).all()
        return len(rows) == E_MAILS and all(row.state == OutboxState.SENT for row in rows)
    finally:
        engine.dispose()
