"""Slack surface of the Home tab."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from sqlmodel import Session, select

from bot.agency_updates.models import AgencyUpdate
from bot.agency_updates.service import deadline_for
from bot.convening.models import Invitation, InvitationState, Meeting
from bot.convening.service import OPEN_STATES, open_meetings_for
from bot.convening.views import when
from bot.database import session_scope
from bot.home.views import OpenDiscussion, UpdateToWrite, home_view, role_phrase
from bot.partnership.models import Agency
from bot.partnership.service import Member, member_by_slack_id
from bot.runtime import Runtime
from bot.wording import render_message


def updates_owed(session: Session, member: Member, runtime: Runtime) -> list[UpdateToWrite]:
    """Open discussions where this person's agency (or they, as delegate) owe an update."""
    rows = session.exec(
        select(Invitation, Meeting, Agency)
        .join(Meeting, Meeting.id == Invitation.meeting_id)
        .join(Agency, Agency.id == Invitation.agency_id)
        .where(Meeting.state.in_(OPEN_STATES), Invitation.state != InvitationState.DECLINED)  # type: ignore[attr-defined]
        .order_by(Meeting.scheduled_start)
    ).all()
    owed: list[UpdateToWrite] = []
    for invitation, meeting, agency in rows:
        ours = agency.code == member.agency_code or invitation.delegate_id == member.person_id
        if not ours or meeting.convenor_id == member.person_id:
            continue
        update = session.exec(
            select(AgencyUpdate).where(
                AgencyUpdate.meeting_id == meeting.id, AgencyUpdate.agency_id == agency.id
            )
        ).first()
        if update is not None and update.state == "submitted":
            continue
        deadline = deadline_for(meeting, runtime.partnership, runtime.calendar)
        owed.append(
            UpdateToWrite(
                invitation_id=invitation.id or 0,
                reference=meeting.reference,
                due=when(runtime.calendar, deadline),
                state="draft" if update is not None else "missing",
            )
        )
    return owed


def _role_in(meeting: Meeting, member: Member) -> str:
    if meeting.convenor_id == member.person_id:
        return "you convene"
    if meeting.chair_id == member.person_id:
        return "you chair"
    return "you are invited"


def register(app: App, runtime: Runtime) -> None:
    """Publish the Home tab whenever someone opens it (events are acknowledged by Bolt)."""

    @app.event("app_home_opened")
    def publish_home(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab") != "home":
            return
        user_id = event["user"]
        updates: list[UpdateToWrite] = []
        discussions: list[OpenDiscussion] = []
        with session_scope(runtime.engine) as session:
            member = member_by_slack_id(session, user_id)
            if member is not None:
                updates = updates_owed(session, member, runtime)
                discussions = [
                    OpenDiscussion(
                        m.reference, when(runtime.calendar, m.scheduled_start), _role_in(m, member)
                    )
                    for m in open_meetings_for(session, member)
                ]
        intro = render_message(
            runtime.settings.templates_dir,
            "home_intro.md.j2",
            member=member,
            roles=role_phrase(member) if member else "",
        )
        client.views_publish(user_id=user_id, view=home_view(intro, updates, discussions))
