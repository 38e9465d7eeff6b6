"""Slack surface of the Home tab: updates owed, open discussions, and for panel
administrators the records with filters and downloads. Who may do each is in `RULES`."""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import Session, col, func, select

from bot.access import ANYONE, MEMBER, Access, Rule, button, event, meeting_by_id, role, value
from bot.agency_updates.service import deadline_for, outstanding_updates
from bot.audit.service import record
from bot.cases.timeline import cases_of
from bot.cases.views import HOME_CASES_NEXT, HOME_CASES_PAGE, home_cases_blocks
from bot.convening.models import Invitation, Meeting, MeetingState
from bot.convening.service import OPEN_STATES, open_meetings_for
from bot.convening.views import when
from bot.database import session_scope
from bot.delivery.failures import failed_page, retry_in
from bot.delivery.views import HOME_FAILED_NEXT, HOME_FAILED_PAGE, RETRY_FAILED, failed_messages_blocks
from bot.home.views import (
    RECORDS_PAGE_BUTTONS,
    RECORDS_PER_PAGE,
    OpenDiscussion,
    RecordRow,
    UpdateToWrite,
    home_view,
    role_phrase,
)
from bot.minutes.listeners import MAY_HAVE_MINUTES, minutes_kind, send_minutes
from bot.minutes.models import Document
from bot.panel.service import network_lines, panels_of_member
from bot.partnership.models import Agency
from bot.partnership.service import Member
from bot.runtime import Runtime
from bot.slack.replies import tell
from bot.timeliness import listeners as timeliness
from bot.wording import render_message

FILTERS = ("home_filter_state", "home_filter_agency", "home_filter_from")
RULES = (
    # Everyone may open their own Home tab; what it shows depends on who they are.
    Rule(event("app_home_opened"), ANYONE),
    *(Rule(button(action_id), ANYONE) for action_id in FILTERS),
    # The records' pages: only a panel administrator's Home tab shows records at all.
    *(Rule(button(action_id), ANYONE) for action_id in RECORDS_PAGE_BUTTONS),
    # The pages of a person's own open cases (only ever their own).
    *(
        Rule(button(action_id), MEMBER, refusal="You are not listed in the partnership's schedules.")
        for action_id in (HOME_CASES_PAGE, HOME_CASES_NEXT)
    ),
    # Messages that failed for good: panel administrators only (the list, and sending again).
    *(
        Rule(
            button(action_id),
            role("panel_admin"),
            refusal="Only panel administrators see the messages that failed.",
            act="outbox.refused",
        )
        for action_id in (HOME_FAILED_PAGE, HOME_FAILED_NEXT, RETRY_FAILED)
    ),
    Rule(
        button("home_download"),
        MAY_HAVE_MINUTES,
        meeting_by_id(value(1)),
        refusal="Only the people who took part in a discussion and panel administrators "
        "can have its minutes.",
        act="document.download_refused",
    ),
)

OPEN_SHOWN = 40  # the Home tab's open discussions, soonest first; `/strategy list` pages them all
STATE_FILTERS = {
    "open": OPEN_STATES,
    "held": (MeetingState.HELD, MeetingState.CLOSED),
    "cancelled": (MeetingState.CANCELLED,),
}


def updates_owed(session: Session, member: Member, runtime: Runtime) -> list[UpdateToWrite]:
    """Open discussions where this person's agency (or they, as delegate) owe an update."""
    owed: list[UpdateToWrite] = []
    agency_id = session.exec(select(Agency.id).where(Agency.code == member.agency_code)).first()
    for item in outstanding_updates(session, agency_id=agency_id, delegate_id=member.person_id):
        invitation, meeting, agency, update = item.invitation, item.meeting, item.agency, item.update
        if agency.code != member.agency_code and invitation.delegate_id != member.person_id:
            continue
        deadline = deadline_for(meeting, runtime.partnership, runtime.calendar)
        owed.append(
            UpdateToWrite(
                invitation_id=invitation.id or 0,
                reference=meeting.reference,
                due=when(runtime.calendar, deadline),
                state="draft" if update is not None else "missing",
                agenda_item_id=item.agenda_item_id,
                about=item.case_reference,
            )
        )
    return owed


DOWNLOADABLE = ("minutes", "action_log", "panel_agenda")


def records(
    session: Session, runtime: Runtime, filters: dict[str, str], page: int = 0
) -> tuple[list[RecordRow], int, int]:
    """A page of discussions for a panel administrator, newest first, by state, agency and
    date: the rows, the page (kept within range) and how many match. Three queries however
    many years of meetings there are: the count, the page, and its minutes' versions."""
    query = select(Meeting)
    if filters.get("state") in STATE_FILTERS:
        query = query.where(col(Meeting.state).in_(STATE_FILTERS[filters["state"]]))
    if filters.get("agency", "any") != "any":
        query = (
            query.join(Invitation, col(Invitation.meeting_id) == col(Meeting.id))
            .join(Agency, col(Agency.id) == col(Invitation.agency_id))
            .where(col(Agency.code) == filters["agency"])
        )
    if filters.get("from"):
        start = runtime.calendar.at(
            date.fromisoformat(filters["from"]), runtime.partnership.working_hours.start
        )
        query = query.where(col(Meeting.scheduled_start) >= start.replace(hour=0, minute=0))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    page = max(0, min(page, max(total - 1, 0) // RECORDS_PER_PAGE))
    meetings = session.exec(
        query.order_by(col(Meeting.scheduled_start).desc(), col(Meeting.id).desc())
        .offset(page * RECORDS_PER_PAGE)
        .limit(RECORDS_PER_PAGE)
    ).all()
    versions: dict[int, list[tuple[str, int]]] = {}
    for meeting_id, state, version in session.execute(
        select(Document.meeting_id, Document.state, Document.version).where(
            col(Document.meeting_id).in_([m.id for m in meetings]),
            col(Document.kind).in_(("minutes", "panel_minutes")),
        )
    ).all():
        versions.setdefault(meeting_id, []).append((state, version))
    rows = []
    for meeting in meetings:
        mine = versions.get(meeting.id or 0, [])
        approved = [v for v in mine if v[0] == "approved"]
        shown = max(approved or mine, key=lambda v: v[1], default=None)
        rows.append(
            RecordRow(
                meeting.id or 0,
                meeting.reference,
                when(runtime.calendar, meeting.scheduled_start),
                meeting.state,
                f"{shown[0]} v{shown[1]}" if shown else "none",
                is_panel=bool(meeting.details.get("panel")),
            )
        )
    return rows, page, total


def _role_in(meeting: Meeting, member: Member) -> str:
    if meeting.convenor_id == member.person_id:
        return "you convene"
    if meeting.chair_id == member.person_id:
        return "you chair"
    return "you are invited"


def _filters_from(view: dict[str, Any] | None) -> dict[str, str]:
    """The record filters as the person last set them on their Home tab."""
    values = ((view or {}).get("state") or {}).get("values", {}).get("record_filters", {})
    filters: dict[str, str] = {}
    for action_id, key in (("home_filter_state", "state"), ("home_filter_agency", "agency")):
        chosen = (values.get(action_id) or {}).get("selected_option")
        if chosen:
            filters[key] = chosen["value"]
    picked = (values.get("home_filter_from") or {}).get("selected_date")
    if picked:
        filters["from"] = picked
    return filters


def register(app: App, runtime: Runtime) -> None:
    """Publish the Home tab when it is opened, and again when a filter changes."""

    def publish(
        client: WebClient,
        access: Access,
        filters: dict[str, str],
        cases_page: int = 0,
        failed_at: int = 0,
        records_page: int = 0,
    ) -> None:
        records_total = 0
        updates: list[UpdateToWrite] = []
        cases = None
        discussions: list[OpenDiscussion] = []
        rows: list[RecordRow] | None = None
        agencies: list[tuple[str, str]] = []
        network: list[str] | None = None
        timeliness_section = None
        failed = None
        member, user_id = access.member, access.requested.user_id
        with session_scope(runtime.engine) as session:
            if member is not None:
                updates = updates_owed(session, member, runtime)
                discussions = [
                    OpenDiscussion(
                        m.reference, when(runtime.calendar, m.scheduled_start), _role_in(m, member)
                    )
                    for m in open_meetings_for(session, member, limit=OPEN_SHOWN)
                ]
                case_rows, more = cases_of(
                    session,
                    member.person_id,
                    statutory=runtime.statutory_calendar,
                    now=runtime.clock.now(),
                    page=cases_page,
                )
                if case_rows or cases_page or member.has_role("convenor") or member.has_role("chair"):
                    cases = home_cases_blocks(case_rows, page=cases_page, more=more)
                panels = panels_of_member(runtime.partnership, user_id)
                if panels:
                    network = network_lines(session, runtime.partnership, panels)
                timeliness_section = timeliness.home_blocks(session, runtime, member)
                if member.has_role("panel_admin"):
                    failed_rows, more_failed = failed_page(session, failed_at)
                    failed = failed_messages_blocks(
                        failed_rows,
                        page=failed_at,
                        more=more_failed,
                        when=lambda moment: when(runtime.calendar, moment),
                    )
                    rows, records_page, records_total = records(session, runtime, filters, records_page)
                    agencies = [(a.code, a.name) for a in runtime.partnership.agencies]
        intro = render_message(
            runtime.settings.templates_dir,
            "home_intro.md.j2",
            member=member,
            roles=role_phrase(member) if member else "",
        )
        view = home_view(
            intro,
            updates,
            discussions,
            records=rows,
            records_page=(records_page, records_total),
            filters=filters,
            agencies=agencies,
            network=network,
            cases=cases,
            timeliness=timeliness_section,
            failed=failed,
            desk=member is not None and bool(member.roles & {"panel_admin", "agency_lead"}),
        )
        client.views_publish(user_id=user_id, view=view)

    @app.event("app_home_opened")
    def publish_home(event: dict[str, Any], client: WebClient, access: Access) -> None:
        if event.get("tab") == "home" and access.requested.user_id:
            publish(client, access, {})

    def refilter(ack: Ack, body: dict[str, Any], client: WebClient, access: Access) -> None:
        ack()
        publish(client, access, _filters_from(body.get("view")))

    for action_id in FILTERS:
        app.action(action_id)(refilter)

    def turn_cases_page(ack: Ack, body: dict[str, Any], client: WebClient, access: Access) -> None:
        ack()
        page = int(access.requested.value) if access.requested.value.isdigit() else 0
        publish(client, access, _filters_from(body.get("view")), cases_page=min(page, 10_000))

    for action_id in (HOME_CASES_PAGE, HOME_CASES_NEXT):
        app.action(action_id)(turn_cases_page)

    def turn_failed_page(ack: Ack, body: dict[str, Any], client: WebClient, access: Access) -> None:
        ack()
        page = int(access.requested.value) if access.requested.value.isdigit() else 0
        publish(client, access, _filters_from(body.get("view")), failed_at=min(page, 100_000))

    for action_id in (HOME_FAILED_PAGE, HOME_FAILED_NEXT):
        app.action(action_id)(turn_failed_page)

    @app.action(RETRY_FAILED)
    def send_again(ack: Ack, body: dict[str, Any], client: WebClient, access: Access) -> None:
        ack()
        if not access.requested.value.isdigit():
            return
        entry, now = int(access.requested.value), runtime.clock.now()
        with session_scope(runtime.engine) as session:
            again = retry_in(session, [entry])
            record(
                session,
                at=now,
                actor=access.actor,
                act="outbox.retried",
                record_type="outbox",
                record_id=entry,
                details={"again": again},
            )
        runtime.kick_delivery()
        publish(client, access, _filters_from(body.get("view")))

    def turn_records_page(ack: Ack, body: dict[str, Any], client: WebClient, access: Access) -> None:
        ack()
        page = int(access.requested.value) if access.requested.value.isdigit() else 0
        publish(client, access, _filters_from(body.get("view")), records_page=min(page, 100_000))

    for action_id in RECORDS_PAGE_BUTTONS:
        app.action(action_id)(turn_records_page)

    @app.action("home_download")
    def download(ack: Ack, body: dict[str, Any], client: WebClient, access: Access) -> None:
        ack()
        kind = access.requested.value.partition(":")[0]
        if kind not in DOWNLOADABLE:
            return
        meeting = access.meeting
        reply = send_minutes(
            runtime,
            meeting=meeting,
            access=access,
            kinds=(minutes_kind(meeting) if kind == "minutes" else kind,),
        )
        tell(body, client, reply)
