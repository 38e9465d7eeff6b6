"""Calendar invitations by e-mail, from convening through the outbox to a real SMTP server."""

from __future__ import annotations

import email
import email.policy
import socket
from datetime import timedelta

from aiosmtpd.controller import Controller
from icalendar import Calendar

from bot_offline.driver import OfflineBot
from bot_offline.local_slack.signed_client import StateValue
from tests.convening_support import SOCIAL_WORKER, convene, settle


class Inbox:
    """Stores every message the SMTP server accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        # Calendar invitations only: partners' links come separately (tests/test_partner_links.py).
        if b"text/calendar" in envelope.content:
            self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _calendar_of(raw: bytes) -> Calendar:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    return Calendar.from_ical(part.get_payload(decode=True))


def test_invitations_and_cancellations_go_by_email_including_to_people_without_slack(
    database_url, clock, tmp_path
) -> None:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with OfflineBot(
            database_url=database_url,
            clock=clock,
            work_dir=tmp_path,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_from="safeguarding-bot@bscp.example",
            smtp_starttls=False,
        ) as bot:
            meeting = convene(bot)
            assert len(inbox.messages) == 1
            recipients, raw = inbox.messages[0]
            no_slack = [
                p for p in bot.runtime.partnership.agency("education").invitees() if not p.slack_user_id
            ]
            assert no_slack and all(p.email in recipients for p in no_slack)
            message = email.message_from_bytes(raw, policy=email.policy.default)
            assert message["Subject"].startswith("OFFICIAL-SENSITIVE: ")
            assert "Jayden" not in raw.decode(errors="replace")
            calendar = _calendar_of(raw)
            assert str(calendar["METHOD"]) == "REQUEST"
            uid = str(calendar.walk("VEVENT")[0]["UID"])
            bot.slack.block_actions(
                SOCIAL_WORKER,
                [{"action_id": "open_cancel", "block_id": "discussion_actions", "value": str(meeting.id)}],
            )
            opened = bot.local_slack.wait_for(lambda calls: sum(c.method == "views.open" for c in calls) >= 2)
            modal = [c for c in opened if c.method == "views.open"][-1].response["view"]
            bot.slack.view_submission(
                SOCIAL_WORKER,
                modal,
                values={"reason": {"value": StateValue.text("Held as a single-agency visit")}},
            )
            bot.clock.advance(timedelta(minutes=1))
            settle(bot)
            assert len(inbox.messages) == 2
            cancelled = _calendar_of(inbox.messages[1][1])
            assert str(cancelled["METHOD"]) == "CANCEL"
            event = cancelled.walk("VEVENT")[0]
            assert str(event["UID"]) == uid and int(event["SEQUENCE"]) == 1
    finally:
        controller.stop()
