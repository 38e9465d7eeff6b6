"""A partner's actions over HTTP: the list a page at a time, asking for more time (the chair
is asked in Slack, by the partner's name), the same refusals as Slack's forms, and another
person's action refused by the guard with nothing changed."""

from __future__ import annotations

from datetime import timedelta

import requests
from sqlmodel import Session, select

from bot.actions.models import Action, ActionEvent
from bot.audit.models import AuditEntry
from bot.convening.models import Meeting
from bot.partners.links import issue_link, token_for
from bot.partnership.models import Person
from tests.convening_support import CHAIR, convene, settle
from tests.partners_support import KAUR, bot_with_mail, csrf_of, use_link


def _action(bot, meeting, owner: Person, number: int) -> int:
    with Session(bot.runtime.engine) as session:
        stored = session.get(Meeting, meeting.id)
        action = Action(
            reference=f"{meeting.reference}-A{number:02d}",
            meeting_id=meeting.id,
            case_id=stored.case_id,
            text="Share the attendance record for the last two terms.",
            owner_id=owner.id,
            agency_id=owner.agency_id,
            assigned_on=bot.clock.now().date(),
            due_on=bot.clock.now().date() + timedelta(days=2),
        )
        session.add(action)
        session.commit()
        return action.id


def test_a_partner_asks_for_more_time_and_cannot_touch_anothers_action(database_url, clock, tmp_path) -> None:
    with bot_with_mail(database_url, clock, tmp_path) as (bot, _inbox):
        meeting = convene(bot)
        with Session(bot.runtime.engine) as session:
            kaur = session.exec(select(Person).where(Person.email == KAUR)).one()
            police = session.exec(select(Person).where(Person.slack_user_id == "U0PPU001")).one()
        mine = _action(bot, meeting, kaur, 1)
        theirs = _action(bot, meeting, police, 2)
        with Session(bot.runtime.engine) as session:
            link = issue_link(
                session,
                person_id=kaur.id,
                purpose="actions",
                subject_id=None,
                now=bot.clock.now(),
                lifetime=timedelta(days=1),
            )
            session.commit()
            url = f"{bot.base_url}/p/{token_for(bot.runtime.settings.site_secret, link)}"
        browser = requests.Session()
        page = use_link(browser, url)
        assert f"{meeting.reference}-A01" in page.text and f"{meeting.reference}-A02" not in page.text
        form_url = f"{bot.base_url}/partner/actions/{mine}/extension"
        token = csrf_of(browser.get(form_url).text)
        early = browser.post(
            form_url, data={"csrf_token": token, "due_on": ["10", "11", "2026"], "reason": "x"}
        )
        assert early.status_code == 400 and "Choose a date after the current due date." in early.text
        asked = browser.post(
            form_url,
            data={"csrf_token": token, "due_on": ["30", "11", "2026"], "reason": "Records office closed."},
        )
        assert asked.status_code == 200 and asked.url.endswith("/partner/actions")
        settle(bot)
        to_chair = [
            c
            for c in bot.local_slack.calls
            if c.method == "chat.postMessage" and c.args.get("channel") == CHAIR
        ]
        asks = [c for c in to_chair if "asks to move" in str(c.args)]
        assert asks and "Harpreet Kaur asks to move" in str(asks[-1].args)
        refused = browser.get(f"{bot.base_url}/partner/actions/{theirs}/done")
        assert refused.status_code == 403
        assert "Only the owner of the action or their agency lead can mark it done." in refused.text
        with Session(bot.runtime.engine) as session:
            assert session.get(Action, theirs).status == "open"
            kinds = session.exec(select(ActionEvent.kind).where(ActionEvent.action_id == mine)).all()
            last = session.exec(select(AuditEntry.act).order_by(AuditEntry.sequence.desc())).first()
        assert "extension_requested" in kinds and last == "action.done_refused"


def test_expired_links_and_their_sessions_go_a_month_after_they_expire(database_url, clock, tmp_path) -> None:
    from bot.partners.models import PartnerLink, PartnerSession
    from bot.retention.jobs import run_retention

    with bot_with_mail(database_url, clock, tmp_path) as (bot, inbox):
        convene(bot)
        use_link(requests.Session(), inbox.links_to(KAUR)[0])
        days = bot.runtime.partnership.settings.partner_link_days
        bot.clock.advance(timedelta(days=days + 29))
        assert not any("partner links" in line for line in run_retention(bot.runtime, dry_run=True))
        bot.clock.advance(timedelta(days=2))
        with Session(bot.runtime.engine) as session:
            links = len(session.exec(select(PartnerLink)).all())  # one per contact without Slack
        assert links >= 2
        assert f"{links} partner links (and their sessions) expired over 30 days ago" in run_retention(
            bot.runtime, dry_run=True
        )
        run_retention(bot.runtime, dry_run=False)
        with Session(bot.runtime.engine) as session:
            assert session.exec(select(PartnerLink)).all() == []
            assert session.exec(select(PartnerSession)).all() == []
