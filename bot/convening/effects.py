"""What convening owes Slack (and e-mail), written to the outbox with the state it follows.

Messages that show a discussion's state are rendered when they are sent, from the record
at that moment, so a status message never shows a stale picture even after a retry.
"""

from __future__ import annotations

import base64
import logging
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from sqlmodel import Session, col, select

from bot.cases.models import Case
from bot.convening.calendar_invite import Attendee, build_invitation, filename_for
from bot.convening.chasing import DueChase
from bot.convening.models import Invitation, InvitationMessage, Meeting
from bot.convening.summary import DiscussionSummary, summarise
from bot.convening.views import invitation_message, status_message, when
from bot.delivery.email import CalendarEmail, EmailDeliveryError, send_calendar_email
from bot.delivery.models import OutboxMessage
from bot.delivery.service import Defer, PermanentFailure, Skip, enqueue, enqueue_refresh, look_up_keys
from bot.partnership.models import Agency, Person
from bot.runtime import Runtime
from bot.wording import escape_mrkdwn, render_message

log = logging.getLogger(__name__)


def _meeting(session: Session, meeting_id: int | None) -> Meeting:
    meeting = session.get(Meeting, meeting_id) if meeting_id else None
    if meeting is None:
        raise Skip()
    return meeting


def install(runtime: Runtime) -> None:
    """Teach the runtime's courier how to render and record convening's messages."""
    courier = runtime.courier

    def summary_of(
        session: Session, meeting: Meeting, only_invitation: int | None = None
    ) -> DiscussionSummary:
        return summarise(
            session,
            meeting,
            partnership=runtime.partnership,
            calendar=runtime.calendar,
            now=runtime.clock.now(),
            only_invitation=only_invitation,
        )

    def render_invitation(session: Session, message_row: InvitationMessage) -> dict[str, Any]:
        invitation = session.get(Invitation, message_row.invitation_id)
        if invitation is None:
            raise Skip()
        # Rendered once per person invited: read only what the invitation shows.
        summary = summary_of(session, _meeting(session, invitation.meeting_id), only_invitation=invitation.id)
        agency = next(a for a in summary.agencies if a.invitation_id == invitation.id)
        return invitation_message(summary, agency, calendar=runtime.calendar)

    @courier.on_prepare("invitation_message")
    def prepare_invitation(session: Session, message: OutboxMessage) -> dict[str, Any]:
        row = session.get(InvitationMessage, message.subject_id)
        person = session.get(Person, row.person_id) if row else None
        if row is None or person is None or not person.slack_user_id:
            raise Skip()
        return {"channel": person.slack_user_id, **render_invitation(session, row)}

    @courier.on_delivered("invitation_message")
    def invitation_posted(session: Session, message: OutboxMessage, response: dict[str, Any]) -> None:
        row = session.get(InvitationMessage, message.subject_id)
        if row is not None:
            row.channel, row.ts = response.get("channel"), response.get("ts")
            session.add(row)

    @courier.on_prepare("invitation_refresh")
    def prepare_invitation_refresh(session: Session, message: OutboxMessage) -> dict[str, Any]:
        row = session.get(InvitationMessage, message.subject_id)
        if row is None:
            raise Skip()
        if not row.ts:
            raise Defer()
        return {"channel": row.channel, "ts": row.ts, **render_invitation(session, row)}

    @courier.on_delivered("discussion_channel")
    def channel_created(session: Session, message: OutboxMessage, response: dict[str, Any]) -> None:
        meeting = session.get(Meeting, message.subject_id)
        if meeting is not None and not meeting.channel_id:
            meeting.channel_id = response["channel"]["id"]
            session.add(meeting)

    @courier.on_prepare("channel_members")
    def prepare_members(session: Session, message: OutboxMessage) -> dict[str, Any]:
        meeting = _meeting(session, message.subject_id)
        if not meeting.channel_id:
            raise Defer()
        users = message.arguments.get("invite", [])
        return {"channel": meeting.channel_id, "users": ",".join(users), "invite": users}

    @courier.on_prepare("channel_notice")
    def prepare_notice(session: Session, message: OutboxMessage) -> dict[str, Any]:
        meeting = _meeting(session, message.subject_id)
        if not meeting.channel_id:
            raise Defer()
        return {**message.arguments, "channel": meeting.channel_id}

    @courier.on_prepare("status_post")
    def prepare_status(session: Session, message: OutboxMessage) -> dict[str, Any]:
        meeting = _meeting(session, message.subject_id)
        if not meeting.channel_id:
            raise Defer()
        rendered = status_message(
            summary_of(session, meeting), calendar=runtime.calendar, now=runtime.clock.now()
        )
        return {"channel": meeting.channel_id, **rendered}

    @courier.on_delivered("status_post")
    def status_posted(session: Session, message: OutboxMessage, response: dict[str, Any]) -> None:
        meeting = session.get(Meeting, message.subject_id)
        if meeting is not None:
            meeting.status_message_ts = response.get("ts")
            meeting.status_refreshed_at = runtime.clock.now()
            session.add(meeting)

    @courier.on_prepare("status_refresh")
    def prepare_status_refresh(session: Session, message: OutboxMessage) -> dict[str, Any]:
        meeting = _meeting(session, message.subject_id)
        if not meeting.status_message_ts:
            raise Defer()
        rendered = status_message(
            summary_of(session, meeting), calendar=runtime.calendar, now=runtime.clock.now()
        )
        return {"channel": meeting.channel_id, "ts": meeting.status_message_ts, **rendered}

    @courier.on_delivered("status_refresh")
    def status_refreshed(session: Session, message: OutboxMessage, response: dict[str, Any]) -> None:
        meeting = session.get(Meeting, message.subject_id)
        if meeting is not None:
            meeting.status_refreshed_at = runtime.clock.now()
            session.add(meeting)

    @courier.sender("files.upload_v2")
    def upload(client: WebClient, message: OutboxMessage, arguments: dict[str, Any]) -> dict[str, Any]:
        channel = arguments["channel"]
        if channel.startswith(("U", "W")):
            channel = client.conversations_open(users=channel)["channel"]["id"]
        response = client.files_upload_v2(
            channel=channel,
            content=base64.b64decode(arguments["content_base64"]),
            filename=arguments["filename"],
            title=arguments.get("title") or arguments["filename"],
            initial_comment=arguments.get("initial_comment"),
        )
        return {"ok": True, "file": response.get("file") or {}, "channel": channel}

    @courier.sender("email.send")
    def send_email(_client: WebClient, message: OutboxMessage, arguments: dict[str, Any]) -> dict[str, Any]:
        email = CalendarEmail(
            to=tuple(arguments["to"]),
            subject=arguments["subject"],
            body=arguments["body"],
            ics=base64.b64decode(arguments["ics_base64"]),
            ics_filename=arguments["ics_filename"],
            method=arguments["method"],
        )
        try:
            send_calendar_email(runtime.settings, email, message_id=arguments.get("message_id"))
        except EmailDeliveryError as error:
            if error.permanent:
                raise PermanentFailure(f"e-mail refused: {error}") from error
            raise
        return {"ok": True}


# ----------------------------------------------------------------------------- enqueueing


def _marking(runtime: Runtime) -> str:
    return runtime.partnership.settings.protective_marking


def _slack_id(session: Session, person_id: int | None) -> str | None:
    person = session.get(Person, person_id) if person_id else None
    return person.slack_user_id if person else None


def invitation_messages(session: Session, meeting: Meeting) -> list[InvitationMessage]:
    """Every copy of every invitation of a discussion, as sent to each person."""
    return list(
        session.exec(
            select(InvitationMessage)
            .join(Invitation, col(Invitation.id) == col(InvitationMessage.invitation_id))
            .where(col(Invitation.meeting_id) == meeting.id)
        )
    )


def refresh_status(session: Session, meeting_id: int, now: datetime) -> None:
    """Ask for the discussion's live status message to be re-rendered."""
    enqueue_refresh(session, purpose="status_refresh", subject_id=meeting_id, method="chat.update", now=now)


def refresh_discussion(session: Session, meeting: Meeting, now: datetime) -> None:
    """Re-render the status message and every invitation message of a discussion."""
    refresh_status(session, meeting.id or 0, now)
    rows = invitation_messages(session, meeting)
    for row in rows:
        enqueue_refresh(
            session,
            purpose="invitation_refresh",
            subject_id=row.id or 0,
            method="chat.update",
            now=now,
        )


def invite_to_channel(session: Session, meeting: Meeting, slack_ids: list[str], now: datetime) -> None:
    """Add people to the discussion's private channel (once each)."""
    wanted = sorted({uid for uid in slack_ids if uid})
    if not wanted:
        return
    enqueue(
        session,
        key=f"members:{meeting.id}:{','.join(wanted)}",
        method="conversations.invite",
        arguments={"invite": wanted},
        now=now,
        purpose="channel_members",
        subject_id=meeting.id,
    )


def dm(
    session: Session,
    *,
    key: str,
    slack_id: str,
    text: str,
    now: datetime,
    not_before: datetime | None = None,
    case_id: int | None = None,
) -> None:
    """A direct message to one person, through the outbox (`case_id`: the child's case it
    names, when erasing that case must take it too)."""
    enqueue(
        session,
        key=key,
        method="chat.postMessage",
        arguments={"channel": slack_id, "text": text},
        now=now,
        not_before=not_before,
        case_id=case_id,
    )


def _attendees(session: Session, meeting: Meeting) -> tuple[Attendee, list[Attendee], list[str]]:
    """Organizer, attendees with e-mail, and Slack ids of everyone to receive the .ics."""
    convenor = session.get(Person, meeting.convenor_id) if meeting.convenor_id else None
    chair = session.get(Person, meeting.chair_id) if meeting.chair_id else None
    people: dict[int, tuple[Person, str]] = {}
    if chair is not None and chair.id is not None:
        people[chair.id] = (chair, "CHAIR")
    rows = session.exec(
        select(Person)
        .join(InvitationMessage, col(InvitationMessage.person_id) == col(Person.id))
        .join(Invitation, col(Invitation.id) == col(InvitationMessage.invitation_id))
        .where(col(Invitation.meeting_id) == meeting.id)
    ).all()
    for person in rows:
        if person.id is not None and person.id not in people:
            people[person.id] = (person, "REQ-PARTICIPANT")
    organizer = Attendee(convenor.name, convenor.email) if convenor else Attendee("Convenor", None)
    attendees = [Attendee(p.name, p.email, role) for p, role in people.values() if p.email]
    slack_ids = [p.slack_user_id for p, _ in people.values() if p.slack_user_id]
    if convenor is not None and convenor.slack_user_id:
        slack_ids.insert(0, convenor.slack_user_id)
    return organizer, attendees, slack_ids


def _unreachable_emails(session: Session, meeting: Meeting, runtime: Runtime) -> list[str]:
    """E-mail addresses of invited contacts who have no Slack account."""
    emails: list[str] = []
    for invitation in session.exec(select(Invitation).where(col(Invitation.meeting_id) == meeting.id)):
        agency = session.get(Agency, invitation.agency_id)
        if agency is None:
            continue
        configured = runtime.partnership.agency(agency.code)
        emails += [p.email for p in configured.invitees() if not p.slack_user_id and p.email]
    return emails


def send_calendar(
    session: Session, meeting: Meeting, runtime: Runtime, now: datetime, *, cancelled: bool = False
) -> None:
    """The .ics to everyone by Slack DM, and by e-mail where it is configured."""
    organizer, attendees, slack_ids = _attendees(session, meeting)
    case = session.get(Case, meeting.case_id) if meeting.case_id else None
    if meeting.scheduled_start is None or organizer.email is None:
        return
    marking = _marking(runtime)
    summary = f"{marking}: strategy discussion {meeting.reference}"
    description = (
        f"{marking}. Section 47 strategy discussion {meeting.reference} "
        f"(case {case.reference if case else ''}). Details are in Slack and the bot's records."
    )
    if meeting.details.get("panel"):
        panel = runtime.partnership.panel(meeting.details["panel"]).name
        summary = f"{marking}: {panel} {meeting.reference}"
        description = f"{marking}. {panel} {meeting.reference}. The agenda follows in Slack."
    ics = build_invitation(
        uid=meeting.calendar_uid or meeting.reference,
        sequence=meeting.calendar_sequence,
        cancelled=cancelled,
        summary=summary,
        description=description,
        start=meeting.scheduled_start,
        duration=timedelta(minutes=meeting.duration_minutes),
        organizer=organizer,
        attendees=attendees,
        location={
            "meeting": "In person (see channel)",
            "call": "Conference call",
            "video": "Video call",
        }.get(meeting.format, meeting.format),
        stamped_at=now,
        timezone=runtime.settings.timezone,
    )
    filename = filename_for(meeting.reference, meeting.calendar_sequence, cancelled)
    content = base64.b64encode(ics).decode()
    look_up_keys(
        session,
        [f"ics:{meeting.id}:{meeting.calendar_sequence}:{slack_id}" for slack_id in dict.fromkeys(slack_ids)]
        + [f"email:{meeting.id}:{meeting.calendar_sequence}"],
    )
    for slack_id in dict.fromkeys(slack_ids):
        enqueue(
            session,
            key=f"ics:{meeting.id}:{meeting.calendar_sequence}:{slack_id}",
            method="files.upload_v2",
            arguments={
                "channel": slack_id,
                "filename": filename,
                "title": f"{meeting.reference} calendar invitation",
                "content_base64": content,
            },
            now=now,
        )
    if runtime.settings.email_enabled:
        recipients = sorted(
            {a.email for a in attendees if a.email} | set(_unreachable_emails(session, meeting, runtime))
        )
        if recipients:
            enqueue(
                session,
                key=f"email:{meeting.id}:{meeting.calendar_sequence}",
                method="email.send",
                arguments={
                    "to": recipients,
                    "subject": summary + (" (cancelled)" if cancelled else ""),
                    "body": description,
                    "ics_base64": content,
                    "ics_filename": filename,
                    "method": "CANCEL" if cancelled else "REQUEST",
                    "message_id": f"<{meeting.reference.lower()}.{meeting.calendar_sequence}"
                    "@safeguarding-bot.local>",
                },
                now=now,
            )


def announce_convened(
    session: Session, meeting: Meeting, unreachable: list[str], runtime: Runtime, now: datetime
) -> None:
    """Everything a new discussion sends: channel, status, invitations, calendar, notices."""
    settings = runtime.partnership.settings
    number = meeting.reference.rsplit("-", 2)
    open_in_slack(
        session, meeting, runtime, now, channel_name=f"{settings.channel_prefix}-{'-'.join(number[-2:])}"
    )
    _tell_convenor(session, meeting, unreachable, runtime, now)


def open_in_slack(
    session: Session, meeting: Meeting, runtime: Runtime, now: datetime, *, channel_name: str
) -> None:
    """A meeting's private channel, its live status, every invitation and the calendar
    invitation; strategy discussions and panel sittings open the same way."""
    rows = invitation_messages(session, meeting)
    look_up_keys(
        session, [f"invitation:{row.id}" for row in rows] + [f"channel:{meeting.id}", f"status:{meeting.id}"]
    )
    for row in rows:
        enqueue(
            session,
            key=f"invitation:{row.id}",
            method="chat.postMessage",
            now=now,
            purpose="invitation_message",
            subject_id=row.id,
        )
    enqueue(
        session,
        key=f"channel:{meeting.id}",
        method="conversations.create",
        arguments={"name": channel_name.lower(), "is_private": True},
        now=now,
        purpose="discussion_channel",
        subject_id=meeting.id,
    )
    invite_to_channel(
        session,
        meeting,
        [u for u in (_slack_id(session, meeting.convenor_id), _slack_id(session, meeting.chair_id)) if u],
        now,
    )
    enqueue(
        session,
        key=f"status:{meeting.id}",
        method="chat.postMessage",
        now=now,
        purpose="status_post",
        subject_id=meeting.id,
    )
    send_calendar(session, meeting, runtime, now)
    from bot.partners.effects import email_invitations

    email_invitations(session, meeting, runtime, now)


def _tell_convenor(
    session: Session, meeting: Meeting, unreachable: list[str], runtime: Runtime, now: datetime
) -> None:
    convenor = _slack_id(session, meeting.convenor_id)
    case = session.get(Case, meeting.case_id) if meeting.case_id else None
    agencies = sorted(
        session.exec(
            select(col(Agency.name))
            .join(Invitation, col(Invitation.agency_id) == col(Agency.id))
            .where(col(Invitation.meeting_id) == meeting.id)
        )
    )
    if convenor:
        dm(
            session,
            key=f"convened:{meeting.id}",
            slack_id=convenor,
            text=render_message(
                runtime.settings.templates_dir,
                "convened.md.j2",
                marking=_marking(runtime),
                reference=meeting.reference,
                case_reference=case.reference if case else "",
                when=when(runtime.calendar, meeting.scheduled_start),
                agencies=", ".join(agencies),
            ),
            now=now,
        )
        if unreachable:
            dm(
                session,
                key=f"unreachable:{meeting.id}",
                slack_id=convenor,
                text=render_message(
                    runtime.settings.templates_dir,
                    "unreachable_contacts.md.j2",
                    marking=_marking(runtime),
                    reference=meeting.reference,
                    people=[escape_mrkdwn(p) for p in unreachable],
                    email_sent=runtime.settings.email_enabled,
                    links_sent=runtime.settings.partner_email_enabled,
                ),
                now=now,
            )


def after_answer(
    session: Session, meeting: Meeting, invitation: Invitation, runtime: Runtime, now: datetime
) -> None:
    """An answer changed: update the messages, bring attendees in, warn if core agencies drop out."""
    from bot.convening.service import core_agencies_missing

    # Each invitation shows its own agency's answer: only this agency's copies change.
    refresh_status(session, meeting.id or 0, now)
    for row in session.exec(
        select(InvitationMessage).where(col(InvitationMessage.invitation_id) == invitation.id)
    ):
        enqueue_refresh(
            session, purpose="invitation_refresh", subject_id=row.id or 0, method="chat.update", now=now
        )
    joining = [_slack_id(session, invitation.answered_by_id)] if invitation.state == "attending" else []
    if invitation.state == "delegate":
        joining = [_slack_id(session, invitation.delegate_id)]
    invite_to_channel(session, meeting, [u for u in joining if u], now)
    missing = core_agencies_missing(session, meeting, runtime.partnership)
    convenor = _slack_id(session, meeting.convenor_id)
    if missing and convenor:
        dm(
            session,
            key=f"core-missing:{meeting.id}:{'+'.join(missing)}",
            slack_id=convenor,
            text=render_message(
                runtime.settings.templates_dir,
                "core_missing.md.j2",
                marking=_marking(runtime),
                reference=meeting.reference,
                missing=" and ".join(missing),
            ),
            now=now,
        )


def send_chases(session: Session, chases: list[DueChase], runtime: Runtime, now: datetime) -> None:
    """The messages for claimed chase steps, and a status refresh for each discussion."""
    templates = runtime.settings.templates_dir
    touched: dict[int, Meeting] = {}
    for chase in chases:
        meeting = session.get(Meeting, chase.meeting_id)
        if meeting is None:
            continue
        touched[chase.meeting_id] = meeting
        agency = runtime.partnership.agency(chase.agency_code)
        context = {
            "marking": _marking(runtime),
            "agency": agency.name,
            "reference": meeting.reference,
            "when": when(runtime.calendar, meeting.scheduled_start),
            "deadline": when(runtime.calendar, meeting.deadline),
        }
        if chase.step.kind == "convenor":
            route = [
                f"{p.name}, {p.title}"
                + (f", {p.phone}" if p.phone else "")
                + (f", {p.email}" if p.email else "")
                for step in agency.escalation_route()
                for p in step
            ]
            chased = ", ".join(dict.fromkeys(p.name for step in agency.escalation_route() for p in step))
            text = render_message(
                templates, "invitation_convenor.md.j2", route=route, chased=chased, **context
            )
            for person in chase.recipients:
                if person.slack_user_id:
                    dm(
                        session,
                        key=f"chase:{chase.invitation_id}:{chase.step_number}:{person.slack_user_id}",
                        slack_id=person.slack_user_id,
                        text=text,
                        now=now,
                    )
            continue
        template = (
            "invitation_reminder.md.j2" if chase.step.route_index == 0 else "invitation_escalation.md.j2"
        )
        text = render_message(templates, template, **context)
        from bot.partners.effects import email_invitation_chase

        for person in chase.recipients:
            email_invitation_chase(
                session,
                invitation_id=chase.invitation_id,
                step_number=chase.step_number,
                first=chase.step.route_index == 0,
                contact=person,
                runtime=runtime,
                now=now,
            )
            if not person.slack_user_id:
                continue
            dm(
                session,
                key=f"chase:{chase.invitation_id}:{chase.step_number}:{person.slack_user_id}",
                slack_id=person.slack_user_id,
                text=text,
                now=now,
            )
            stored = session.exec(select(Person).where(col(Person.schedule_id) == person.id)).first()
            if stored is None:
                continue
            exists = session.exec(
                select(InvitationMessage).where(
                    col(InvitationMessage.invitation_id) == chase.invitation_id,
                    col(InvitationMessage.person_id) == stored.id,
                )
            ).first()
            if exists is None:
                row = InvitationMessage(
                    invitation_id=chase.invitation_id, person_id=stored.id or 0, created_at=now
                )
                session.add(row)
                session.flush()
                enqueue(
                    session,
                    key=f"invitation:{row.id}",
                    method="chat.postMessage",
                    now=now,
                    purpose="invitation_message",
                    subject_id=row.id,
                )
    for meeting in touched.values():
        refresh_status(session, meeting.id or 0, now)


def announce_rescheduled(
    session: Session, meeting: Meeting, reason: str, runtime: Runtime, now: datetime
) -> None:
    text = render_message(
        runtime.settings.templates_dir,
        "rescheduled.md.j2",
        marking=_marking(runtime),
        reference=meeting.reference,
        when=when(runtime.calendar, meeting.scheduled_start),
        reason=reason,
    )
    announce(session, meeting, f"reschedule:{meeting.calendar_sequence}", text, now)
    send_calendar(session, meeting, runtime, now)
    refresh_discussion(session, meeting, now)


def announce_cancelled(session: Session, meeting: Meeting, runtime: Runtime, now: datetime) -> None:
    text = render_message(
        runtime.settings.templates_dir,
        "cancelled.md.j2",
        marking=_marking(runtime),
        reference=meeting.reference,
        when=when(runtime.calendar, meeting.scheduled_start),
        reason=meeting.cancelled_reason,
    )
    announce(session, meeting, "cancelled", text, now)
    send_calendar(session, meeting, runtime, now, cancelled=True)
    refresh_discussion(session, meeting, now)


def announce(session: Session, meeting: Meeting, what: str, text: str, now: datetime) -> None:
    """A notice in the discussion's channel and by DM to everyone invited (once each)."""
    enqueue(
        session,
        key=f"notice:{meeting.id}:{what}",
        method="chat.postMessage",
        arguments={"text": text},
        now=now,
        purpose="channel_notice",
        subject_id=meeting.id,
    )
    _tell_invitees(session, meeting, what, text, now)


def _tell_invitees(session: Session, meeting: Meeting, what: str, text: str, now: datetime) -> None:
    rows = session.exec(
        select(Person)
        .join(InvitationMessage, col(InvitationMessage.person_id) == col(Person.id))
        .join(Invitation, col(Invitation.id) == col(InvitationMessage.invitation_id))
        .where(col(Invitation.meeting_id) == meeting.id)
    ).all()
    for person in {p.id: p for p in rows}.values():
        if person.slack_user_id:
            dm(
                session,
                key=f"notice:{meeting.id}:{what}:{person.slack_user_id}",
                slack_id=person.slack_user_id,
                text=text,
                now=now,
            )
