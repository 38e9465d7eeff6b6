"""Slack surface of strategy discussions: the `/strategy` command and its sub-commands."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.agency_updates.listeners import overview_for
from bot.audit.service import Actor, record
from bot.convening.listeners import open_convene_form
from bot.convening.service import find_meeting, is_involved, may_convene, open_meetings_for
from bot.convening.summary import summarise
from bot.convening.views import discussion_details, discussion_list
from bot.database import read_scope, session_scope
from bot.minutes.listeners import open_record_form, send_minutes
from bot.minutes.service import RecordingRefused, check_may_record
from bot.partnership.service import member_by_slack_id
from bot.runtime import Runtime
from bot.slack.followup import after_ack
from bot.slack.replies import audit_refusal
from bot.strategy.commands import AVAILABLE, parse
from bot.wording import render_message


def register(app: App, runtime: Runtime) -> None:
    """Attach the listeners; each acknowledges within Slack's three seconds."""
    templates = runtime.settings.templates_dir
    prefix = runtime.partnership.settings.discussion_reference_prefix

    def help_text(unknown: str = "") -> str:
        return render_message(templates, "strategy_help.md.j2", commands=AVAILABLE, unknown=unknown)

    @app.command("/strategy")
    def strategy_command(ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        request = parse(command.get("text", ""), prefix)
        user_id = command["user_id"]
        actor = Actor(user_id, command.get("team_id", ""))
        if request.name in {"help", "unknown"}:
            ack(
                response_type="ephemeral",
                text=help_text(request.argument if request.name == "unknown" else ""),
            )
            return
        with read_scope(runtime.engine) as session:
            member = member_by_slack_id(session, user_id)
        if request.name == "new":
            if not may_convene(member):
                ack(
                    response_type="ephemeral",
                    text="Only children's social care staff named as convenors in the partnership's "
                    "schedules can convene a strategy discussion.",
                )
                after_ack(
                    runtime,
                    command,
                    client,
                    audit_refusal,
                    runtime,
                    actor,
                    "discussion.convene_refused",
                    "",
                    "not a convenor",
                )
                return
            ack()
            after_ack(
                runtime,
                command,
                client,
                open_convene_form,
                runtime,
                client,
                trigger_id=command["trigger_id"],
                channel_id=command.get("channel_id", ""),
                case_reference=request.argument,
            )
            return
        now = runtime.clock.now()
        if request.name in {"record", "minutes"}:
            with read_scope(runtime.engine) as session:
                meeting = find_meeting(session, request.argument)
            if meeting is None:
                ack(
                    response_type="ephemeral",
                    text=f"There is no discussion {request.argument} that you can see.",
                )
                return
            if request.name == "minutes":
                # Sending documents writes to the outbox and the audit trail: after the ack.
                ack()

                def send() -> None:
                    reply = send_minutes(
                        runtime,
                        meeting=meeting,
                        member=member,
                        user_id=user_id,
                        team_id=command.get("team_id", ""),
                    )
                    respond(text=reply, response_type="ephemeral")

                after_ack(runtime, command, client, send)
                return
            try:
                check_may_record(meeting, member, now)
            except RecordingRefused as refused:
                ack(response_type="ephemeral", text=str(refused))
                after_ack(
                    runtime,
                    command,
                    client,
                    audit_refusal,
                    runtime,
                    actor,
                    "discussion.record_refused",
                    request.argument,
                    str(refused),
                )
                return
            ack()
            after_ack(
                runtime,
                command,
                client,
                lambda: open_record_form(
                    runtime, client, meeting=meeting, member=member, trigger_id=command["trigger_id"]
                ),
            )
            return
        if request.name == "list":
            if member is None:
                ack(
                    response_type="ephemeral",
                    text="You are not listed in the partnership's schedules.",
                )
                return
            with read_scope(runtime.engine) as session:
                summaries = [
                    summarise(session, m, partnership=runtime.partnership, calendar=runtime.calendar, now=now)
                    for m in open_meetings_for(session, member)
                ]
            ack(
                response_type="ephemeral",
                **discussion_list(summaries, calendar=runtime.calendar, now=now),
            )
            return
        # show one discussion, only to the people involved in it
        with read_scope(runtime.engine) as session:
            meeting = find_meeting(session, request.argument)
            allowed = meeting is not None and is_involved(session, meeting, member)
            if allowed and meeting is not None:
                summary = summarise(
                    session, meeting, partnership=runtime.partnership, calendar=runtime.calendar, now=now
                )
        if not allowed:
            # The same answer whether or not it exists: no hint to those not involved.
            ack(
                response_type="ephemeral",
                text=f"I cannot show you {request.argument}: only the people involved in a discussion "
                "can see it.",
            )
            after_ack(
                runtime,
                command,
                client,
                audit_refusal,
                runtime,
                actor,
                "discussion.view_refused",
                request.argument,
                "not involved",
            )
            return
        if request.name == "updates":
            ack(response_type="ephemeral", **overview_for(runtime, summary.meeting_id))
        else:
            ack(response_type="ephemeral", **discussion_details(summary, calendar=runtime.calendar, now=now))
        # Reading case details is audited, after the answer so the write never delays it.
        viewer = Actor(user_id, command.get("team_id", ""), member.person_id if member else None)

        def audit_viewed() -> None:
            with session_scope(runtime.engine) as session:
                record(
                    session,
                    at=now,
                    actor=viewer,
                    act="discussion.viewed",
                    record_type="meeting",
                    record_id=summary.reference,
                    case_reference=summary.case_reference,
                )

        after_ack(runtime, command, client, audit_viewed)
