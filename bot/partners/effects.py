"""The e-mails that carry partner links, through the outbox like every Slack call.

An invitation, an invitation's reminder or escalation, and an action's reminder or chase,
for a contact without Slack (or, if the partnership says `partner_email: everyone`, for
every contact with an e-mail address as well), go as an e-mail with the person's own link.
The outbox entry holds the text with a `{link}` placeholder and the link's id: the token
is made by the sender at the moment of sending and never stored, and a retry after a
failure sends the same link. SMTP or GOV.UK Notify, by the EMAIL_PROVIDER setting.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from sqlmodel import Session, col, select

from bot.cases.models import Case
from bot.convening.models import Invitation, Meeting
from bot.convening.views import when
from bot.database import read_scope
from bot.delivery.email import EmailDeliveryError, send_plain_email
from bot.delivery.models import OutboxMessage
from bot.delivery.notify import send_notify_email
from bot.delivery.service import PermanentFailure, Skip, enqueue
from bot.partners.links import ACTIONS, INVITATION, issue_link, token_for
from bot.partners.models import PartnerLink
from bot.partnership.models import Agency, Person
from bot.runtime import Runtime
from bot.wording import render_message

log = logging.getLogger(__name__)

METHOD = "partner.email"
PURPOSE = "partner_email"
PLACEHOLDER = "{link}"


def install(runtime: Runtime) -> None:
    """Teach the courier to render and send partner e-mails."""
    courier = runtime.courier

    @courier.on_prepare(PURPOSE)
    def prepare(session: Session, message: OutboxMessage) -> dict[str, Any]:
        link = session.get(PartnerLink, message.subject_id) if message.subject_id else None
        person = session.get(Person, link.person_id) if link else None
        if link is None or person is None or not person.email or not person.active:
            raise Skip()
        return {**message.arguments, "to": person.email, "link_id": link.id}

    @courier.sender(METHOD)
    def send(_client: WebClient, message: OutboxMessage, arguments: dict[str, Any]) -> dict[str, Any]:
        with read_scope(runtime.engine) as session:
            link = session.get(PartnerLink, int(arguments["link_id"]))
            if link is None:
                raise PermanentFailure("the link is gone")
            token = token_for(runtime.settings.site_secret, link)
        url = f"{runtime.settings.public_base_url.rstrip('/')}/p/{token}"
        body = str(arguments["body"]).replace(PLACEHOLDER, url)
        reference = f"partner-{message.id}"
        try:
            if runtime.settings.email_provider == "notify":
                send_notify_email(
                    runtime.settings, arguments["to"], arguments["subject"], body, reference=reference
                )
            else:
                send_plain_email(
                    runtime.settings,
                    (arguments["to"],),
                    arguments["subject"],
                    body,
                    message_id=f"<{reference}@safeguarding-bot.local>",
                )
        except EmailDeliveryError as error:
            if error.permanent:
                raise PermanentFailure(f"e-mail refused: {error}") from error
            raise
        return {"ok": True}


def wants_email(runtime: Runtime, slack_user_id: str | None, email: str | None) -> bool:
    """Whether a contact gets partner e-mails: they have an address, e-mail is set up, and
    they have no Slack (or the partnership e-mails everyone)."""
    if not email or not runtime.settings.partner_email_enabled:
        return False
    return not slack_user_id or runtime.partnership.settings.partner_email == "everyone"


def _lifetime(runtime: Runtime) -> timedelta:
    return timedelta(days=runtime.partnership.settings.partner_link_days)


def _split(text: str) -> tuple[str, str]:
    subject, _, body = text.partition("\n")
    return subject.strip(), body.strip() + "\n"


def _context(runtime: Runtime, person: Person, link: PartnerLink) -> dict[str, Any]:
    settings = runtime.partnership.settings
    return {
        "marking": settings.protective_marking,
        "person": person.name,
        "link": PLACEHOLDER,
        "expires": when(runtime.calendar, link.expires_at),
        "session_minutes": settings.partner_session_minutes,
    }


def enqueue_email(session: Session, key: str, link: PartnerLink, text: str, now: datetime) -> None:
    """Queue an e-mail (its subject the text's first line) to the link's person."""
    subject, body = _split(text)
    enqueue(
        session,
        key=key,
        method=METHOD,
        arguments={"subject": subject, "body": body},
        now=now,
        purpose=PURPOSE,
        subject_id=link.id,
    )


def email_link(
    session: Session,
    runtime: Runtime,
    person: Person,
    *,
    purpose: str,
    subject_id: int | None,
    template: str,
    key: str,
    now: datetime,
    **wording: Any,
) -> PartnerLink:
    """Every partner e-mail with a link: issue the person's link, word the e-mail from
    `template` (with the marking, the person, the link and its expiry) and queue it."""
    link = issue_link(
        session,
        person_id=person.id or 0,
        purpose=purpose,
        subject_id=subject_id,
        now=now,
        lifetime=_lifetime(runtime),
    )
    text = render_message(
        runtime.settings.templates_dir, template, **wording, **_context(runtime, person, link)
    )
    enqueue_email(session, key.format(link=link.id), link, text, now)
    return link


def _stored(session: Session, schedule_id: str) -> Person | None:
    return session.exec(
        select(Person).where(Person.schedule_id == schedule_id, Person.active == True)  # noqa: E712
    ).first()


def email_invitations(session: Session, meeting: Meeting, runtime: Runtime, now: datetime) -> int:
    """Each unanswered invitation of a meeting, to each of the agency's invitees who gets
    e-mails, with their own link (once each, however often this is called)."""
    case = session.get(Case, meeting.case_id) if meeting.case_id else None
    sent = 0
    rows = session.exec(
        select(Invitation, Agency)
        .join(Agency, col(Agency.id) == Invitation.agency_id)
        .where(Invitation.meeting_id == meeting.id)
    ).all()
    for invitation, agency in rows:
        if invitation.state != "invited":
            continue
        for contact in runtime.partnership.agency(agency.code).invitees():
            if not wants_email(runtime, contact.slack_user_id, contact.email):
                continue
            person = _stored(session, contact.id)
            if person is None:
                continue
            email_link(
                session,
                runtime,
                person,
                purpose=INVITATION,
                subject_id=invitation.id,
                template="partner_invitation.txt.j2",
                key=f"partner:invitation:{invitation.id}:{person.id}",
                now=now,
                agency=agency.name,
                reference=meeting.reference,
                case_reference=case.reference if case else "",
                when=when(runtime.calendar, meeting.scheduled_start),
            )
            sent += 1
    return sent


def email_invitation_chase(
    session: Session,
    *,
    invitation_id: int,
    step_number: int,
    first: bool,
    contact: Any,
    runtime: Runtime,
    now: datetime,
) -> bool:
    """One reminder or escalation of an unanswered invitation, by e-mail with a link."""
    if not wants_email(runtime, contact.slack_user_id, contact.email):
        return False
    invitation = session.get(Invitation, invitation_id)
    meeting = session.get(Meeting, invitation.meeting_id) if invitation else None
    agency = session.get(Agency, invitation.agency_id) if invitation else None
    person = _stored(session, contact.id)
    if invitation is None or meeting is None or agency is None or person is None:
        return False
    email_link(
        session,
        runtime,
        person,
        purpose=INVITATION,
        subject_id=invitation.id,
        template="partner_invitation_chase.txt.j2",
        key=f"partner:chase:{invitation_id}:{step_number}:{person.id}",
        now=now,
        first=first,
        agency=agency.name,
        reference=meeting.reference,
        when=when(runtime.calendar, meeting.scheduled_start),
        deadline=when(runtime.calendar, meeting.deadline),
    )
    return True


def email_action_chase(
    session: Session,
    *,
    action: Any,
    step_number: int,
    headline: str,
    contact: Any,
    runtime: Runtime,
    now: datetime,
) -> bool:
    """An action's reminder or chase, by e-mail with a link to the person's actions."""
    if not wants_email(runtime, contact.slack_user_id, contact.email):
        return False
    person = _stored(session, contact.id)
    if person is None:
        return False
    email_link(
        session,
        runtime,
        person,
        purpose=ACTIONS,
        subject_id=None,
        template="partner_actions.txt.j2",
        key=f"partner:action:{action.id}:{step_number}:{person.id}",
        now=now,
        what="action",
        reference=action.reference,
        text=f"{action.reference}: {headline}",
    )
    return True
