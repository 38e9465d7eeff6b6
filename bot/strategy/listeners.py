"""Slack surface of strategy discussions: the `/strategy` command and its sub-commands.

Who may ask for what is in `RULES`; the guard decides before the listener runs."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.access import (
    ANYONE,
    MEMBER,
    Access,
    Part,
    Rule,
    button,
    child_by_id,
    child_by_reference,
    command,
    meeting_by_reference,
    part,
    role,
    value,
)
from bot.agency_updates.listeners import overview_for
from bot.audit.service import record
from bot.cases.listeners import open_close_form, open_follow_up_form, timeline_for
from bot.cases.models import Case
from bot.children.service import child_discussions_page
from bot.children.views import CHILD_DISCUSSIONS_BUTTONS, child_discussions
from bot.convening.listeners import open_convene_form
from bot.convening.service import CONVENING_ROLES, open_discussions_page
from bot.convening.summary import summarise
from bot.convening.views import LIST_PAGE_BUTTONS, discussion_details, discussion_list
from bot.database import read_scope, session_scope
from bot.minutes.listeners import MAY_RECORD, open_record_form, send_minutes
from bot.minutes.recording import check_may_record_discussion
from bot.minutes.service import RecordingRefused
from bot.panel.missing import may_record_missing
from bot.partnership.service import Member
from bot.runtime import Runtime
from bot.slack.followup import after_ack, asked_page, replace_with_page
from bot.slack.replies import audit_refusal
from bot.strategy.commands import AVAILABLE, grammar
from bot.timeliness import listeners as timeliness
from bot.wording import render_message

NOT_LISTED = "You are not listed in the partnership's schedules."
NOT_INVOLVED = "I cannot show you {argument}: only the people involved in a discussion can see it."

COMMANDS = {"/strategy": grammar}
RULES = (
    Rule(command("/strategy", "help"), ANYONE),
    Rule(command("/strategy", "unknown"), ANYONE),
    Rule(
        command("/strategy", "new"),
        role(*CONVENING_ROLES),
        refusal="Only children's social care staff named as convenors in the partnership's "
        "schedules can convene a strategy discussion.",
        act="discussion.convene_refused",
    ),
    Rule(command("/strategy", "list"), MEMBER, refusal=NOT_LISTED, act="discussion.list_refused"),
    *(Rule(button(action_id), MEMBER, refusal=NOT_LISTED) for action_id in LIST_PAGE_BUTTONS),
    Rule(
        command("/strategy", "show"),
        part(Part.INVOLVED),
        meeting_by_reference(),
        refusal=NOT_INVOLVED,
        act="discussion.view_refused",
    ),
    # The discussions concerning one child: for whoever took part in one of them, and
    # panel administrators; refused in the same words whether or not the case exists.
    Rule(
        command("/strategy", "child"),
        part(Part.INVOLVED, Part.PANEL_ADMIN),
        child_by_reference(),
        refusal="I cannot show you the discussions concerning {argument}.",
        act="discussion.view_refused",
    ),
    *(
        Rule(
            button(action_id),
            part(Part.INVOLVED, Part.PANEL_ADMIN),
            child_by_id(value(0)),
            refusal="I cannot show you those discussions.",
            act="discussion.view_refused",
        )
        for action_id in CHILD_DISCUSSIONS_BUTTONS
    ),
    Rule(
        command("/strategy", "updates"),
        part(Part.INVOLVED),
        meeting_by_reference(),
        refusal=NOT_INVOLVED,
        act="discussion.view_refused",
    ),
    Rule(
        command("/strategy", "record"),
        MAY_RECORD,
        meeting_by_reference(),
        refusal="Only the chair or a minute-taker of {argument} can record it.",
        act="discussion.record_refused",
    ),
    Rule(
        command("/strategy", "minutes"),
        part(Part.INVOLVED) | role("panel_admin"),
        meeting_by_reference(),
        refusal="Only the people who took part in {argument} and panel administrators can have its minutes.",
        act="document.download_refused",
    ),
)


def register(app: App, runtime: Runtime) -> None:
    """Attach the listeners; each acknowledges within Slack's three seconds."""
    templates = runtime.settings.templates_dir

    def help_text(unknown: str = "") -> str:
        return render_message(templates, "strategy_help.md.j2", commands=AVAILABLE, unknown=unknown)

    @app.command("/strategy")
    def strategy_command(
        ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond, access: Access
    ) -> None:
        sub = access.requested.name.removeprefix("/strategy").strip()
        member, meeting, now = access.member, access.meeting, runtime.clock.now()
        if sub in {"help", "unknown"}:
            typed = access.requested.argument if sub == "unknown" else ""
            ack(response_type="ephemeral", text=help_text(typed))
        elif sub == "new":
            ack()
            after_ack(
                runtime,
                command,
                client,
                open_convene_form,
                runtime,
                client,
                trigger_id=access.requested.trigger_id,
                channel_id=access.requested.channel_id,
                case_reference=access.requested.argument,
            )
        elif sub == "report":  # the guard let only administrators and agency leads through
            timeliness.answer_command(runtime, ack, command, client, respond, access)
        elif sub == "list":  # a convenor's open discussions grow with the caseload: after the ack
            ack()
            after_ack(
                runtime,
                command,
                client,
                lambda: respond(response_type="ephemeral", **list_page(access.known_member, 0)),
            )
        elif sub == "child":  # a child's discussions grow over the years: after the ack
            ack()
            case_id = access.known_record.id
            after_ack(
                runtime,
                command,
                client,
                lambda: respond(response_type="ephemeral", **child_page(case_id, 0)),
            )
        elif sub == "minutes":
            ack()  # sending documents writes to the outbox and the audit trail: after the ack

            def send() -> None:
                reply = send_minutes(runtime, meeting=meeting, access=access)
                respond(text=reply, response_type="ephemeral")

            after_ack(runtime, command, client, send)
        elif sub in {"follow-up", "close"}:
            ack()
            opener = open_follow_up_form if sub == "follow-up" else open_close_form

            def open_form() -> None:
                refusal = opener(runtime, client, meeting=meeting, trigger_id=access.requested.trigger_id)
                if refusal:
                    respond(text=refusal, response_type="ephemeral")

            after_ack(runtime, command, client, open_form)
        elif sub == "record":
            try:
                check_may_record_discussion(meeting, member, now)
            except RecordingRefused as refused:
                ack(response_type="ephemeral", text=str(refused))
                after_ack(
                    runtime,
                    command,
                    client,
                    audit_refusal,
                    runtime,
                    access.actor,
                    "discussion.record_refused",
                    meeting.reference,
                    str(refused),
                )
                return
            ack()
            after_ack(
                runtime,
                command,
                client,
                lambda: open_record_form(
                    runtime, client, meeting=meeting, member=member, trigger_id=access.requested.trigger_id
                ),
            )
        else:  # "show" or "updates": the guard has found the discussion and the person involved
            show(ack, command, client, access)

    def child_page(case_id: int, page: int) -> dict[str, Any]:
        """A page of the discussions concerning one child: three queries whatever their number."""
        with read_scope(runtime.engine) as session:
            listed = child_discussions_page(session, session.get_one(Case, case_id), page=page)
        return child_discussions(listed, case_id=case_id, calendar=runtime.calendar)

    def turn_child_page(
        ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, access: Access
    ) -> None:
        ack()
        page, case_id = asked_page(access.requested.value), access.known_record.id
        replace_with_page(runtime, body, client, respond, lambda: child_page(case_id, page))

    for action_id in CHILD_DISCUSSIONS_BUTTONS:
        app.action(action_id)(turn_child_page)

    def list_page(member: Member, page: int) -> dict[str, Any]:
        """A page of the person's open discussions: three queries whatever their number."""
        with read_scope(runtime.engine) as session:
            listed = open_discussions_page(session, member, page=page)
        return discussion_list(listed, calendar=runtime.calendar, now=runtime.clock.now())

    def turn_list_page(
        ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, access: Access
    ) -> None:
        ack()
        page = asked_page(access.requested.value)
        replace_with_page(runtime, body, client, respond, lambda: list_page(access.known_member, page))

    for action_id in LIST_PAGE_BUTTONS:
        app.action(action_id)(turn_list_page)

    def show(ack: Ack, command: dict[str, Any], client: WebClient, access: Access) -> None:
        meeting, now = access.meeting, runtime.clock.now()
        if access.requested.name.endswith("updates"):
            ack(response_type="ephemeral", **overview_for(runtime, meeting.id or 0))
        else:
            with read_scope(runtime.engine) as session:
                summary = summarise(
                    session, meeting, partnership=runtime.partnership, calendar=runtime.calendar, now=now
                )
            details = discussion_details(summary, calendar=runtime.calendar, now=now)
            manages = access.member is not None and access.member.person_id in (
                meeting.convenor_id,
                meeting.chair_id,
            )
            details["blocks"] = [
                *details["blocks"][:2],
                *timeline_for(
                    runtime,
                    meeting,
                    may_manage=manages,
                    may_record_missing=may_record_missing(access.member, runtime.partnership),
                ),
                *details["blocks"][2:],
            ][:50]
            ack(response_type="ephemeral", **details)

        def audit_viewed() -> None:  # reading case details is audited, after the answer
            with session_scope(runtime.engine) as session:
                record(
                    session,
                    at=now,
                    actor=access.actor,
                    act="discussion.viewed",
                    record_type="meeting",
                    record_id=meeting.reference,
                    case_reference=_case_reference(session, meeting.case_id),
                )

        after_ack(runtime, command, client, audit_viewed)


def _case_reference(session: Any, case_id: int | None) -> str:
    from bot.cases.models import Case

    case = session.get(Case, case_id) if case_id else None
    return case.reference if case else ""
