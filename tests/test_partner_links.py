"""Partner links over plain HTTP: a link e-mailed to a contact without Slack opens their
invitation once; expired, reused, altered and another person's links are refused with
nothing changed and the refusal on the audit trail; forms need their CSRF token; tries are
rate limited; pages carry the protective marking and the security headers."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from sqlmodel import Session, select

from bot.audit.models import AuditEntry
from bot.convening.models import Invitation
from bot.delivery.models import OutboxMessage
from bot.partners.links import issue_link, token_for
from bot.partners.models import PartnerLink, PartnerSession
from bot.partnership.models import Agency, Person
from tests.convening_support import CHILD_NAME, convene, settle
from tests.partners_support import KAUR, bot_with_mail, csrf_of, use_link


def _acts(bot) -> list[str]:
    with Session(bot.runtime.engine) as session:
        return list(session.exec(select(AuditEntry.act).order_by(AuditEntry.sequence)))


def _invitation(bot, code: str) -> Invitation:
    with Session(bot.runtime.engine) as session:
        return session.exec(
            select(Invitation).join(Agency, Agency.id == Invitation.agency_id).where(Agency.code == code)
        ).one()


def test_a_partner_without_slack_answers_from_the_emailed_link_once(database_url, clock, tmp_path) -> None:
    with bot_with_mail(database_url, clock, tmp_path) as (bot, inbox):
        meeting = convene(bot)
        links = inbox.links_to(KAUR)
        assert len(links) == 1
        message = inbox.to(KAUR)[-1]
        assert message["Subject"].startswith("OFFICIAL-SENSITIVE: ")
        assert meeting.reference in message["Subject"]
        text = message.get_body(preferencelist=("plain",)).get_content()
        assert CHILD_NAME not in text and "OFFICIAL-SENSITIVE" in text
        with Session(bot.runtime.engine) as session:
            assert session.exec(select(OutboxMessage).where(OutboxMessage.purpose == "partner_email")).all()
            stored = " ".join(str(m.arguments) for m in session.exec(select(OutboxMessage)))
        assert links[0].rsplit("/", 1)[1] not in stored  # the token is never stored

        browser = requests.Session()
        page = use_link(browser, links[0])
        assert page.status_code == 200 and page.url.endswith("/partner/invitation")
        assert meeting.reference in page.text and "OFFICIAL-SENSITIVE" in page.text
        assert CHILD_NAME not in page.text
        for header in ("Content-Security-Policy", "Strict-Transport-Security", "X-Frame-Options"):
            assert header in page.headers
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        cookie = next(c for c in browser.cookies)
        assert cookie.has_nonstandard_attr("HttpOnly")
        assert "samesite=strict" in page.history[0].headers["Set-Cookie"].lower()

        answered = browser.post(
            page.url,
            data={"csrf_token": csrf_of(page.text), "answer": "attending", "delegate": "", "reason": ""},
        )
        assert answered.status_code == 200 and "Your answer is recorded" in answered.text
        invitation = _invitation(bot, "education")
        with Session(bot.runtime.engine) as session:
            kaur = session.exec(select(Person).where(Person.email == KAUR)).one()
            refreshes = session.exec(
                select(OutboxMessage).where(
                    OutboxMessage.purpose == "status_refresh", OutboxMessage.subject_id == meeting.id
                )
            ).all()
        assert invitation.state == "attending" and invitation.answered_by_id == kaur.id
        assert refreshes
        acts = _acts(bot)
        assert "partner_link.used" in acts and "invitation.answered" in acts
        settle(bot)
        status = [c for c in bot.local_slack.calls if c.method == "chat.update"]
        assert any("Education" in str(c.args) for c in status)

        again = requests.Session().get(links[0])  # a second use, from anywhere
        assert again.status_code == 410 and "cannot be used" in again.text
        assert _acts(bot)[-1] == "partner_link.refused"


def test_altered_expired_and_unknown_links_are_refused_and_audited(database_url, clock, tmp_path) -> None:
    with bot_with_mail(database_url, clock, tmp_path) as (bot, inbox):
        convene(bot)
        link = inbox.links_to(KAUR)[0]
        base, token = link.rsplit("/", 1)
        link_id, mac = token.split(".")
        flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
        for altered in (f"{link_id}.{flipped}", f"{int(link_id) + 1}.{mac}", "x.y", f"{link_id}"):
            answer = requests.get(f"{base}/{altered}")
            assert answer.status_code in (404, 410), altered
            assert "cannot be used" in answer.text
        assert _acts(bot).count("partner_link.refused") == 4
        bot.clock.advance(timedelta(days=bot.runtime.partnership.settings.partner_link_days, minutes=1))
        expired = requests.get(link)
        assert expired.status_code == 410
        with Session(bot.runtime.engine) as session:
            assert session.exec(select(PartnerSession)).all() == []
            assert session.get(PartnerLink, int(link_id)).redeemed_at is None
        assert _invitation(bot, "education").state == "invited"


def test_forms_need_their_csrf_token_and_sessions_end(database_url, clock, tmp_path) -> None:
    with bot_with_mail(database_url, clock, tmp_path) as (bot, inbox):
        convene(bot)
        link = inbox.links_to(KAUR)[0]
        browser = requests.Session()
        shown = browser.get(link)
        refused = browser.post(link, data={"submit": "Continue"})  # no token
        assert refused.status_code == 400
        link_id = int(link.rsplit("/", 1)[1].split(".")[0])
        with Session(bot.runtime.engine) as session:
            assert session.get(PartnerLink, link_id).redeemed_at is None
        page = browser.post(link, data={"csrf_token": csrf_of(shown.text)})
        assert page.url.endswith("/partner/invitation")
        forged = browser.post(page.url, data={"answer": "declined", "reason": "Not our case"})
        assert forged.status_code == 400
        assert _invitation(bot, "education").state == "invited"
        # A page of another purpose is not open to this session.
        assert browser.get(page.url.replace("/partner/invitation", "/partner/actions")).status_code == 401
        bot.clock.advance(timedelta(minutes=bot.runtime.partnership.settings.partner_session_minutes + 1))
        assert browser.get(page.url).status_code == 401


def test_the_same_validation_as_slack_beside_the_field(database_url, clock, tmp_path) -> None:
    with bot_with_mail(database_url, clock, tmp_path) as (bot, inbox):
        convene(bot)
        browser = requests.Session()
        page = use_link(browser, inbox.links_to(KAUR)[0])
        token = csrf_of(page.text)
        empty = browser.post(page.url, data={"csrf_token": token, "answer": "declined", "reason": " "})
        assert empty.status_code == 400
        assert "Give a reason for declining." in empty.text and "govuk-error-summary" in empty.text
        assert 'href="#reason"' in empty.text
        named = browser.post(
            page.url, data={"csrf_token": token, "answer": "declined", "reason": f"{CHILD_NAME} moved"}
        )
        assert named.status_code == 400 and "name" in named.text.lower()
        no_delegate = browser.post(page.url, data={"csrf_token": token, "answer": "delegate", "delegate": ""})
        assert "Choose a delegate from" in no_delegate.text
        assert _invitation(bot, "education").state == "invited"
        with Session(bot.runtime.engine) as session:
            morris = session.exec(select(Person).where(Person.schedule_id == "edu-morris")).one()
        delegated = browser.post(
            page.url, data={"csrf_token": token, "answer": "delegate", "delegate": str(morris.id)}
        )
        assert delegated.status_code == 200
        assert _invitation(bot, "education").delegate_id == morris.id


def test_another_agencys_invitation_is_refused_by_the_guard(database_url, clock, tmp_path) -> None:
    with bot_with_mail(database_url, clock, tmp_path) as (bot, _inbox):
        meeting = convene(bot)
        police = _invitation(bot, "police-ppu")
        with Session(bot.runtime.engine) as session:
            kaur = session.exec(select(Person).where(Person.email == KAUR)).one()
            link = issue_link(
                session,
                person_id=kaur.id,
                purpose="invitation",
                subject_id=police.id,
                now=bot.clock.now(),
                lifetime=timedelta(days=1),
            )
            session.commit()
            token = token_for(bot.runtime.settings.site_secret, link)
        browser = requests.Session()
        page = use_link(browser, f"{bot.base_url}/p/{token}")
        assert page.status_code == 403
        assert "Only the invited agency can answer this invitation." in page.text
        assert meeting.reference not in page.text
        assert _acts(bot)[-1] == "invitation.answer_refused"
        assert _invitation(bot, "police-ppu").state == "invited"


def test_link_tries_are_rate_limited(database_url, clock, tmp_path) -> None:
    with bot_with_mail(database_url, clock, tmp_path) as (bot, _inbox):
        answers = [requests.get(f"{bot.base_url}/p/1.guess{n}").status_code for n in range(12)]
        assert answers[:10] == [404] * 10
        assert answers[10:] == [429, 429]


def test_link_tries_are_counted_once_across_two_app_instances(database_url, clock, tmp_path) -> None:
    """Two server processes (each its own site and database engine, as two gunicorn workers
    have) share the one limit: ten tries in all, not ten each."""
    import dataclasses

    from bot.database import make_engine
    from bot.partners.guard import LINK_TRIES_PER_MINUTE
    from bot.partners.site import build_site

    with bot_with_mail(database_url, clock, tmp_path) as (bot, _inbox):
        other_engine = make_engine(bot.database_url)
        try:
            first = build_site(bot.runtime).test_client()
            second = build_site(dataclasses.replace(bot.runtime, engine=other_engine)).test_client()
            answers = [
                (first if n % 2 else second).get(f"/p/1.guess{n}").status_code
                for n in range(LINK_TRIES_PER_MINUTE + 2)
            ]
            assert answers == [404] * LINK_TRIES_PER_MINUTE + [429, 429]
            # Another client address has its own count, on either instance.
            elsewhere = {"REMOTE_ADDR": "192.0.2.7"}
            assert second.get("/p/1.guess", environ_base=elsewhere).status_code == 404
        finally:
            other_engine.dispose()


def test_the_shared_throttle_counts_per_window_and_forgets_old_windows(database_url, tmp_path) -> None:
    from bot.database import make_engine
    from bot.partners.models import PartnerTry
    from bot.partners.throttle import Throttle

    now = [6000.0]
    engines = [make_engine(database_url), make_engine(database_url)]
    try:
        one, two = (Throttle(engine, "links", limit=3, window=60, clock=lambda: now[0]) for engine in engines)
        assert [one.allow("a"), two.allow("a"), one.allow("a"), two.allow("a")] == [True, True, True, False]
        forms = Throttle(engines[0], "forms", limit=3, window=60, clock=lambda: now[0])
        assert forms.allow("a") and one.allow("b")  # another bucket, another client: their own counts
        now[0] += 60
        assert two.allow("a")  # a new window
        now[0] += 120
        assert one.allow("c")
        with Session(engines[0]) as session:
            windows = set(session.exec(select(PartnerTry.slot)))
            stored = set(session.exec(select(PartnerTry.key)))
        assert windows == {int(now[0] // 60)}  # the old windows were removed
        assert not any(key == "c" or "links" in key for key in stored)  # only hashes are kept
    finally:
        for engine in engines:
            engine.dispose()


def test_retention_removes_the_links_sessions_and_emails_with_the_case(database_url, clock, tmp_path) -> None:
    from datetime import UTC, datetime

    from sqlmodel import func

    from bot.cases.models import Case
    from bot.retention.jobs import run_retention

    with bot_with_mail(database_url, clock, tmp_path) as (bot, inbox):
        convene(bot)
        use_link(requests.Session(), inbox.links_to(KAUR)[0])
        with Session(bot.runtime.engine) as session:
            case = session.exec(select(Case)).one()
            case.closed_at = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)
            session.add(case)
            session.commit()
        bot.clock.set(datetime(2052, 1, 10, 12, 0, tzinfo=UTC))
        run_retention(bot.runtime, dry_run=False)
        with Session(bot.runtime.engine) as session:
            for model in (PartnerLink, PartnerSession):
                assert session.exec(select(func.count()).select_from(model)).one() == 0
            assert not session.exec(
                select(OutboxMessage).where(OutboxMessage.method == "partner.email")
            ).all()


def test_the_agency_update_page_saves_drafts_submits_and_amends_like_the_modal(
    database_url, clock, tmp_path
) -> None:
    from bot.agency_updates.models import AgencyUpdate, AgencyUpdateVersion

    with bot_with_mail(database_url, clock, tmp_path) as (bot, inbox):
        meeting = convene(bot)
        browser = requests.Session()
        use_link(browser, inbox.links_to(KAUR)[0])
        url = f"{bot.base_url}/partner/update"
        page = browser.get(url)
        assert page.status_code == 200 and meeting.reference in page.text and CHILD_NAME not in page.text
        token = csrf_of(page.text)
        policy = bot.runtime.partnership.agency_updates
        empty = browser.post(url, data={"csrf_token": token, "intent": "submit", "role": "DSL"})
        assert empty.status_code == 400
        assert "Say what your agency is doing now (or that it is not involved)." in empty.text
        assert "Choose the lawful basis for sharing this information." in empty.text
        assert 'href="#involvement-current"' in empty.text and 'id="involvement-current-error"' in empty.text
        draft = browser.post(
            url,
            data={"csrf_token": token, "intent": "draft", "involvement_current": "Attends Year 9, on roll."},
        )
        assert draft.status_code == 200 and "Draft saved" in draft.text
        assert "Attends Year 9, on roll." in browser.get(url).text  # the draft is loaded again
        complete = {
            "csrf_token": token,
            "intent": "submit",
            "role": "Designated Safeguarding Lead",
            "involvement_current": "Attends Year 9, on roll; attendance 71% this term.",
            "lawful_basis": policy.lawful_bases[0].code,
            **{f"risk:{i.code}": "not_present" for i in policy.risk_indicators},
        }
        named = browser.post(url, data={**complete, "new_other": f"{CHILD_NAME} was seen"})
        assert named.status_code == 400
        sent = browser.post(url, data=complete)
        assert sent.status_code == 200 and "Your update is submitted" in sent.text
        with Session(bot.runtime.engine) as session:
            update = session.exec(select(AgencyUpdate)).one()
            versions = session.exec(select(AgencyUpdateVersion)).all()
        assert update.state == "submitted" and len(versions) == 2
        assert "agency_update.submitted" in _acts(bot)
        amended = browser.post(url, data={**complete, "new_other": "Exclusion meeting booked."})
        assert amended.status_code == 200
        with Session(bot.runtime.engine) as session:
            assert session.exec(select(AgencyUpdate)).one().amended
        bot.clock.set(meeting.scheduled_start + timedelta(minutes=1))
        browser2 = requests.Session()
        invitation = _invitation(bot, "education")
        with Session(bot.runtime.engine) as session:
            kaur = session.exec(select(Person).where(Person.email == KAUR)).one()
            link = issue_link(
                session,
                person_id=kaur.id,
                purpose="invitation",
                subject_id=invitation.id,
                now=bot.clock.now(),
                lifetime=timedelta(days=1),
            )
            session.commit()
            fresh = f"{bot.base_url}/p/{token_for(bot.runtime.settings.site_secret, link)}"
        use_link(browser2, fresh)
        late = browser2.post(
            url, data={**complete, "csrf_token": csrf_of(browser2.get(url).text), "new_other": "Late"}
        )
        assert late.status_code == 400 and "The discussion has started" in late.text


def test_an_unanswered_invitation_is_chased_by_email_with_a_fresh_link(database_url, clock, tmp_path) -> None:
    from bot.convening.jobs import sweep_invitations

    with bot_with_mail(database_url, clock, tmp_path) as (bot, inbox):
        convene(bot)
        first = inbox.links_to(KAUR)
        steps = 0
        for _ in range(3):  # the partnership's ladder: an hour, then the next step
            bot.clock.advance(timedelta(hours=1, minutes=1))
            steps += sweep_invitations(bot.runtime)
            settle(bot)
        assert steps >= 1
        chases = [m for m in inbox.to(KAUR) if "reminder" in m["Subject"] or "escalation" in m["Subject"]]
        assert chases, [m["Subject"] for m in inbox.to(KAUR)]
        text = chases[0].get_body(preferencelist=("plain",)).get_content()
        assert "OFFICIAL-SENSITIVE" in text and CHILD_NAME not in text
        # The link in the reminder is the one still unused (one live link per person and purpose).
        assert inbox.links_to(KAUR)[-1] == first[0]
        page = use_link(requests.Session(), inbox.links_to(KAUR)[-1])
        assert page.url.endswith("/partner/invitation")


@pytest.mark.parametrize("choice", ["without_slack", "everyone"])
def test_partner_email_everyone_also_emails_contacts_who_have_slack(
    database_url, clock, tmp_path, choice
) -> None:
    """`partner_email: everyone`: an invited contact with a Slack id gets their DM and, as
    well, an e-mail with their own link; with the default only those without Slack do."""
    import shutil

    from bot.defaults import default_schedules_dir

    schedules = tmp_path / "schedules"
    shutil.copytree(default_schedules_dir(), schedules)
    partnership = schedules / "partnership.yaml"
    text = partnership.read_text()
    assert text.count("partner_email: without_slack") == 1
    partnership.write_text(text.replace("partner_email: without_slack", f"partner_email: {choice}"))
    with bot_with_mail(database_url, clock, tmp_path, schedules_dir=schedules) as (bot, inbox):
        meeting = convene(bot)
        police = [c for c in bot.runtime.partnership.agency("police-ppu").invitees() if c.slack_user_id]
        assert police and all(c.email for c in police)
        direct = {c.args.get("channel") for c in bot.local_slack.calls_to("chat.postMessage") if c.ok}
        assert {c.slack_user_id for c in police} <= direct  # Slack's DM either way
        assert len(inbox.links_to(KAUR)) == 1  # no Slack: e-mailed either way
        for contact in police:
            links = inbox.links_to(contact.email)
            assert len(links) == (1 if choice == "everyone" else 0)
        if choice == "everyone":
            page = use_link(requests.Session(), inbox.links_to(police[0].email)[0])
            assert page.url.endswith("/partner/invitation") and meeting.reference in page.text
