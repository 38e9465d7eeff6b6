"""Approved minutes for a partner without Slack: a link by e-mail on approval, a code
e-mailed to the same address before the download, wrong and stale codes refused, and the
copy opened with python-docx; every step audited."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import requests
from docx import Document as Word
from sqlmodel import Session, select

from bot.audit.models import AuditEntry
from tests.convening_support import convene, settle
from tests.partners_support import KAUR, bot_with_mail, csrf_of, use_link
from tests.test_minutes import AFTER_THE_MEETING
from tests.test_retention import _approve_latest, _record

CODE = re.compile(r"Your code is (\d{6})")


def _acts(bot) -> list[str]:
    with Session(bot.runtime.engine) as session:
        return list(session.exec(select(AuditEntry.act).order_by(AuditEntry.sequence)))


def test_a_partner_downloads_approved_minutes_after_confirming_an_emailed_code(
    database_url, clock, tmp_path
) -> None:
    with bot_with_mail(database_url, clock, tmp_path) as (bot, inbox):
        meeting = convene(bot)
        browser = requests.Session()
        page = use_link(browser, inbox.links_to(KAUR)[0])
        browser.post(page.url, data={"csrf_token": csrf_of(page.text), "answer": "attending"})
        policy = bot.runtime.partnership.agency_updates
        update_url = f"{bot.base_url}/partner/update"
        sent = browser.post(
            update_url,
            data={
                "csrf_token": csrf_of(browser.get(update_url).text),
                "intent": "submit",
                "role": "Designated Safeguarding Lead",
                "involvement_current": "On roll; attendance 71% this term.",
                "lawful_basis": policy.lawful_bases[0].code,
                **{f"risk:{i.code}": "not_present" for i in policy.risk_indicators},
            },
        )
        assert "Your update is submitted" in sent.text
        bot.clock.set(AFTER_THE_MEETING)
        _record(bot, meeting)
        _approve_latest(bot)
        settle(bot)
        links = inbox.links_to(KAUR)
        minutes_mail = [m for m in inbox.to(KAUR) if "approved minutes" in m["Subject"]]
        assert len(minutes_mail) == 1 and meeting.reference in minutes_mail[0]["Subject"]
        partner = requests.Session()
        page = use_link(partner, links[-1])
        assert page.url.endswith("/partner/minutes") and "E-mail me a code" in page.text
        assert "Download the minutes" not in page.text
        assert (
            partner.get(f"{bot.base_url}/partner/minutes/download", allow_redirects=False).status_code == 303
        )
        partner.post(f"{bot.base_url}/partner/minutes/code", data={"csrf_token": csrf_of(page.text)})
        settle(bot)
        codes = [CODE.search(m.get_body(preferencelist=("plain",)).get_content()) for m in inbox.to(KAUR)]
        code = [c.group(1) for c in codes if c][-1]
        page = partner.get(f"{bot.base_url}/partner/minutes")
        wrong = "000000" if code != "000000" else "111111"
        refused = partner.post(
            f"{bot.base_url}/partner/minutes/confirm", data={"csrf_token": csrf_of(page.text), "code": wrong}
        )
        assert "The code is not right" in refused.text and 'id="code-error"' in refused.text
        confirmed = partner.post(
            f"{bot.base_url}/partner/minutes/confirm", data={"csrf_token": csrf_of(page.text), "code": code}
        )
        assert "Download the minutes" in confirmed.text
        download = partner.get(f"{bot.base_url}/partner/minutes/download")
        assert download.status_code == 200
        text = "\n".join(p.text for p in Word(io.BytesIO(download.content)).paragraphs).replace("\u2011", "-")
        assert meeting.reference in text and "OFFICIAL-SENSITIVE" in text
        acts = _acts(bot)
        for act in (
            "partner_code.sent",
            "partner_code.refused",
            "partner_code.confirmed",
            "document.downloaded",
        ):
            assert act in acts


def test_a_minutes_link_is_refused_to_someone_who_took_no_part(database_url, clock, tmp_path) -> None:
    from bot.partners.links import issue_link, token_for
    from bot.partnership.models import Person

    with bot_with_mail(database_url, clock, tmp_path) as (bot, _inbox):
        meeting = convene(bot)
        with Session(bot.runtime.engine) as session:
            kaur = session.exec(select(Person).where(Person.email == KAUR)).one()
            link = issue_link(
                session,
                person_id=kaur.id,
                purpose="minutes",
                subject_id=meeting.id,
                now=bot.clock.now(),
                lifetime=timedelta(days=1),
            )
            session.commit()
            url = f"{bot.base_url}/p/{token_for(bot.runtime.settings.site_secret, link)}"
        partner = requests.Session()
        page = use_link(partner, url)
        assert page.status_code == 403  # she has not taken part yet: the guard refuses
        assert _acts(bot)[-1] == "document.download_refused"
