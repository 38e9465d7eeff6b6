"""Partner e-mails through GOV.UK Notify, against the local Notify stand-in (which checks
the client's JWT as Notify does): sent once through the outbox, retried after a server
error, not retried after a refusal, and the link in the e-mail opens the page."""

from __future__ import annotations

import re
from datetime import timedelta

import requests
from sqlmodel import Session, select

from bot.delivery.models import OutboxMessage
from bot_offline.driver import OfflineBot
from bot_offline.local_notify import API_KEY, TEMPLATE_ID, LocalNotify
from tests.convening_support import CHILD_NAME, convene, settle
from tests.partners_support import KAUR, use_link

LINK = re.compile(r"https?://\S+/p/\S+")


def _bot(database_url, clock, tmp_path, notify: LocalNotify) -> OfflineBot:
    return OfflineBot(
        database_url=database_url,
        clock=clock,
        work_dir=tmp_path,
        email_provider="notify",
        notify_api_key=API_KEY,
        notify_base_url=notify.base_url,
        notify_template_id=TEMPLATE_ID,
    )


def test_invitations_go_through_notify_once_with_a_working_link(database_url, clock, tmp_path) -> None:
    with LocalNotify() as notify, _bot(database_url, clock, tmp_path, notify) as bot:
        notify.fail_next = [500]  # Notify has a bad moment: the outbox tries again
        meeting = convene(bot)
        bot.clock.advance(timedelta(minutes=5))  # past the retry's back-off
        settle(bot)
        to_kaur = [e for e in notify.emails if e["email_address"] == KAUR]
        assert len(to_kaur) == 1
        personalisation = to_kaur[0]["personalisation"]
        assert personalisation["subject"].startswith("OFFICIAL-SENSITIVE: ")
        assert meeting.reference in personalisation["subject"]
        assert CHILD_NAME not in str(to_kaur[0])
        settle(bot)
        assert len([e for e in notify.emails if e["email_address"] == KAUR]) == 1  # exactly once
        link = LINK.search(personalisation["body"]).group(0)
        page = use_link(requests.Session(), link)
        assert page.url.endswith("/partner/invitation") and meeting.reference in page.text


def test_a_refusal_by_notify_is_not_retried(database_url, clock, tmp_path) -> None:
    with LocalNotify() as notify, _bot(database_url, clock, tmp_path, notify) as bot:
        notify.fail_next = [400, 400]  # both partner e-mails (Education's and Force CID's) refused
        convene(bot)
        settle(bot)
        with Session(bot.runtime.engine) as session:
            states = [
                m.state
                for m in session.exec(select(OutboxMessage).where(OutboxMessage.purpose == "partner_email"))
            ]
        assert states.count("failed") == 2
        assert not [e for e in notify.emails if e["email_address"] == KAUR]
