"""The partner pages in a real browser: the e-mailed link opened in headless Chromium, the
form filled with the keyboard and the mouse, errors beside the fields as the Design System
shows them, the record, the audit trail and Slack's status message changed; every page
passes axe-core at WCAG 2.2 AA."""

from __future__ import annotations

from datetime import timedelta

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait
from sqlmodel import Session, select

from bot.actions.chasing import reschedule
from bot.actions.jobs import sweep_actions
from bot.actions.models import Action, ActionEvent
from bot.audit.models import AuditEntry
from bot.convening.models import Invitation, Meeting
from bot.partnership.models import Agency, Person
from tests.browser_support import accessible, chromium
from tests.convening_support import CHILD_NAME, convene, settle
from tests.partners_support import KAUR, bot_with_mail


def _arrives(chrome, suffix: str) -> bool:
    """Wait for the navigation a click started (a click returns before the next page)."""
    WebDriverWait(chrome, 10).until(lambda c: c.current_url.endswith(suffix))
    return True


def _press_continue(chrome) -> None:
    chrome.find_element(By.CSS_SELECTOR, "button.govuk-button, input.govuk-button").click()


def test_a_partner_answers_in_the_browser_with_errors_shown_beside_the_field(
    database_url, clock, tmp_path
) -> None:
    # On PostgreSQL the pages are opened and checked; the whole walk-through runs on SQLite.
    convene_only = "postgresql" in database_url
    with bot_with_mail(database_url, clock, tmp_path) as (bot, inbox), chromium() as chrome:
        meeting = convene(bot)
        link = inbox.links_to(KAUR)[0]
        chrome.get(link)
        assert "OFFICIAL-SENSITIVE" in chrome.page_source
        accessible(chrome, "continue")
        _press_continue(chrome)
        assert _arrives(chrome, "/partner/invitation")
        assert meeting.reference in chrome.title and CHILD_NAME not in chrome.page_source
        accessible(chrome, "invitation")
        if convene_only:
            return
        chrome.find_element(By.CSS_SELECTOR, "label[for='answer-4']").click()  # mouse: "We cannot take part"
        reason = chrome.find_element(By.ID, "reason")
        reason.send_keys(" ")
        reason.send_keys(Keys.TAB, Keys.ENTER)  # keyboard: on to the button and press it
        WebDriverWait(chrome, 10).until(lambda c: c.find_elements(By.CSS_SELECTOR, ".govuk-error-summary"))
        summary = chrome.find_element(By.CSS_SELECTOR, ".govuk-error-summary")
        assert "Give a reason for declining." in summary.text
        beside = chrome.find_element(By.ID, "reason-error")
        assert "Give a reason for declining." in beside.text
        assert chrome.title.startswith("Error: ")
        accessible(chrome, "invitation-error")
        reason = chrome.find_element(By.ID, "reason")
        reason.clear()
        reason.send_keys("The school is closed for the inset day; a written update follows.")
        chrome.find_element(By.CSS_SELECTOR, "label[for='answer-3']").click()  # a written update after all
        chrome.find_element(By.CSS_SELECTOR, "form button.govuk-button, form input.govuk-button").click()
        assert _arrives(chrome, "/partner/invitation/answered")
        assert "Your answer is recorded" in chrome.page_source
        accessible(chrome, "answered")
        chrome.find_element(By.PARTIAL_LINK_TEXT, "Write your agency").click()
        assert _arrives(chrome, "/partner/update")
        accessible(chrome, "agency-update")
        chrome.find_element(By.CSS_SELECTOR, "button[value='submit']").click()
        WebDriverWait(chrome, 10).until(lambda c: c.find_elements(By.CSS_SELECTOR, ".govuk-error-summary"))
        assert (
            "Say what your agency is doing now"
            in chrome.find_element(By.ID, "involvement-current-error").text
        )
        accessible(chrome, "agency-update-errors")
        with Session(bot.runtime.engine) as session:
            invitation = session.exec(
                select(Invitation)
                .join(Agency, Agency.id == Invitation.agency_id)
                .where(Agency.code == "education")
            ).one()
            acts = list(session.exec(select(AuditEntry.act)))
        assert invitation.state == "written_update"
        assert "partner_link.used" in acts and "invitation.answered" in acts
        settle(bot)
        updates = [c for c in bot.local_slack.calls if c.method == "chat.update"]
        assert any("Education" in str(c.args) and "written" in str(c.args).lower() for c in updates)
        # The same link again: refused, in the browser too, and the page is still accessible.
        chrome.delete_all_cookies()
        chrome.get(link)
        assert "This link cannot be used" in chrome.page_source
        accessible(chrome, "link-refused")


def test_a_partner_marks_an_action_done_from_the_chase_email(database_url, clock, tmp_path) -> None:
    with bot_with_mail(database_url, clock, tmp_path) as (bot, inbox):
        meeting = convene(bot)
        with Session(bot.runtime.engine) as session:
            kaur = session.exec(select(Person).where(Person.email == KAUR)).one()
            stored = session.get(Meeting, meeting.id)
            action = Action(
                reference=f"{meeting.reference}-A01",
                meeting_id=meeting.id,
                case_id=stored.case_id,
                text="Share the attendance record for the last two terms.",
                owner_id=kaur.id,
                agency_id=kaur.agency_id,
                assigned_on=bot.clock.now().date(),
                due_on=bot.clock.now().date() + timedelta(days=2),
            )
            reschedule(action, bot.runtime.partnership, bot.runtime.calendar, bot.clock.now())
            session.add(action)
            session.commit()
            due = action.next_chase_at
        before = len(inbox.links_to(KAUR))
        bot.clock.set(due + timedelta(minutes=1))
        assert sweep_actions(bot.runtime) >= 1
        settle(bot)
        links = inbox.links_to(KAUR)
        assert len(links) == before + 1
        with chromium() as chrome:
            chrome.get(links[-1])
            _press_continue(chrome)
            assert _arrives(chrome, "/partner/actions")
            assert f"{meeting.reference}-A01" in chrome.page_source
            accessible(chrome, "actions")
            chrome.find_element(By.PARTIAL_LINK_TEXT, "Mark done").click()
            assert _arrives(chrome, "/done")
            accessible(chrome, "action-done")
            chrome.find_element(By.CSS_SELECTOR, "form button.govuk-button, form input.govuk-button").click()
            WebDriverWait(chrome, 10).until(lambda c: c.find_elements(By.ID, "note-error"))
            assert "Say briefly what was done." in chrome.find_element(By.ID, "note-error").text
            accessible(chrome, "action-done-error")
            chrome.find_element(By.ID, "note").send_keys("Attendance record sent to the convenor.")
            chrome.find_element(By.CSS_SELECTOR, "form button.govuk-button, form input.govuk-button").click()
            assert _arrives(chrome, "/partner/actions")
            assert "done" in chrome.page_source
        with Session(bot.runtime.engine) as session:
            done = session.exec(select(Action)).one()
            events = session.exec(select(ActionEvent.kind).where(ActionEvent.action_id == done.id)).all()
        assert done.status == "done" and "done" in events


def test_the_desk_pages_pass_axe(bot) -> None:
    from tests.test_partner_desk import PANEL_ADMIN, _sign_in_link

    meeting = convene(bot)
    link = _sign_in_link(bot, PANEL_ADMIN)
    with chromium() as chrome:
        chrome.get(link)
        _press_continue(chrome)
        assert _arrives(chrome, "/desk/")
        assert meeting.reference in chrome.page_source
        accessible(chrome, "desk")
        chrome.find_element(By.ID, "reference").send_keys(meeting.reference[-4:])
        chrome.find_element(By.CSS_SELECTOR, "form button.govuk-button").click()
        WebDriverWait(chrome, 10).until(lambda c: "reference=" in c.current_url)
        chrome.find_element(By.LINK_TEXT, meeting.reference).click()
        assert _arrives(chrome, f"/desk/meetings/{meeting.id}")
        accessible(chrome, "desk-meeting")
        chrome.get(f"{bot.base_url}/desk/timeliness")
        assert "Headline figures" in chrome.page_source
        accessible(chrome, "desk-timeliness")
