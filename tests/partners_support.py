"""Driving the partner pages as a partner without Slack does: an e-mail caught by a local
SMTP server (or the local Notify), its link opened over HTTP, forms sent with their CSRF
token."""

from __future__ import annotations

import email
import email.policy
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import requests
from aiosmtpd.controller import Controller

from bot_offline.driver import OfflineBot

LINK = re.compile(r"https?://[^\s]+/p/[0-9]+\.[A-Za-z0-9_-]+")
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
KAUR = "h.kaur@northfield-academy.example"  # education's designated safeguarding lead, no Slack


@dataclass
class Inbox:
    """Every message the local SMTP server accepts, as (recipients, parsed message)."""

    messages: list[tuple[list[str], email.message.EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for rcpt, m in self.messages if address in rcpt]

    def links_to(self, address: str) -> list[str]:
        found = []
        for message in self.to(address):
            body = message.get_body(preferencelist=("plain",))
            if body is not None:
                found += LINK.findall(body.get_content())
        return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def bot_with_mail(database_url: str, clock, tmp_path, **overrides) -> Iterator[tuple[OfflineBot, Inbox]]:
    """The real app with e-mail through a local SMTP server."""
    inbox = Inbox()
    port = free_port()
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
            **overrides,
        ) as bot:
            yield bot, inbox
    finally:
        controller.stop()


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def use_link(browser: requests.Session, link: str) -> requests.Response:
    """Open an e-mailed link and press Continue, as a person does; returns the last page."""
    shown = browser.get(link)
    assert shown.status_code == 200, shown.status_code
    return browser.post(link, data={"csrf_token": csrf_of(shown.text), "submit": "Continue"})
