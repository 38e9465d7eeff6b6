"""Slack surface of actions: `/actions` (mine, one discussion, overdue, add), and the answers
to a reminder: done, extension (decided by the chair), snooze, reassign."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import select

from bot.actions.jobs import overdue_rows
from bot.actions.models import Action, ActionStatus
from bot.actions.service import (
    ActionRefused,
    ActionRow,
    actions_of,
    decide_extension,
    latest_request,
    mark_done,
    reassign,
    request_extension,
    snooze,
)
from bot.actions.views import (
    DONE_CALLBACK,
    EXTENSION_CALLBACK,
    REASSIGN_CALLBACK,
    action_list,
    done_modal,
    extension_modal,
    extension_request,
    reassign_modal,
    reminder_message,
)
from bot.audit.service import Actor
from bot.convening.effects import dm, refresh_status
from bot.convening.models import Meeting
from bot.convening.service import find_meeting, is_involved
from bot.convening.views import read_values
from bot.database import session_scope
from bot.delivery.service import enqueue
from bot.minutes.listeners import open_action_form
from bot.partnership.models import Agency, Person
from bot.partnership.service import member_by_slack_id
from bot.runtime import Runtime
from bot.slack.replies import audit_refusal, tell

USAGE = (
    "`/actions` your open actions · `/actions SD-2026-0001` one discussion's actions · "
    "`/actions overdue` overdue actions (agency leads: your agency; panel administrators: all) · "
    "`/actions add SD-2026-0001` add an action"
)


def _actor(body: dict[str, Any], person_id: int | None) -> Actor:
    team = body.get("team") or {}
    return Actor(body["user"]["id"], team.get("id", "") if isinstance(team, dict) else "", person_id)


def _group(rows: list[ActionRow], today: date, soon_by: date) -> list[tuple[str, list[ActionRow]]]:
    open_rows = [r for r in rows if r.status in (ActionStatus.OPEN, ActionStatus.ESCALATED)]
    return [
        ("Overdue", [r for r in open_rows if r.due < today]),
        ("Due soon", [r for r in open_rows if today <= r.due <= soon_by]),
        ("Later", [r for r in open_rows if r.due > soon_by]),
    ]


def register(app: App, runtime: Runtime) -> None:
    """Attach the listeners; each acknowledges first."""

    def person_id_of(user_id: str) -> int | None:
        with session_scope(runtime.engine) as session:
            member = member_by_slack_id(session, user_id)
        return member.person_id if member else None

    @app.command("/actions")
    def actions_command(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        words = command.get("text", "").split()
        user_id = command["user_id"]
        now = runtime.clock.now()
        today = runtime.calendar.local(now).date()
        soon_by = runtime.calendar.add_working_days(today, 2)
        if len(words) == 2 and words[0].lower() == "add":
            refusal = open_action_form(
                runtime, client, reference=words[1], user_id=user_id, trigger_id=command["trigger_id"]
            )
            ack(response_type="ephemeral", text=refusal) if refusal else ack()
            return
        with session_scope(runtime.engine) as session:
            member = member_by_slack_id(session, user_id)
            if member is None:
                ack(response_type="ephemeral", text="You are not listed in the partnership's schedules.")
                return
            if not words:
                mine = [
                    r
                    for m in {
                        a.meeting_id
                        for a in session.exec(select(Action).where(Action.owner_id == member.person_id))
                    }
                    for r in actions_of(session, meeting_id=m)
                    if r.owner_slack_id == user_id
                ]
                ack(
                    response_type="ephemeral",
                    **action_list("Your open actions", _group(mine, today, soon_by)),
                )
                return
            if len(words) == 1 and words[0].lower() == "overdue":
                if member.has_role("panel_admin"):
                    rows, title = overdue_rows(session, runtime), "Overdue actions: all agencies"
                elif member.has_role("agency_lead"):
                    agency = session.exec(select(Agency).where(Agency.code == member.agency_code)).one()
                    rows, title = overdue_rows(session, runtime, agency.id), f"Overdue actions: {agency.name}"
                else:
                    ack(
                        response_type="ephemeral",
                        text="Overdue lists are for agency leads and panel administrators.",
                    )
                    return
                ack(response_type="ephemeral", **action_list(title, [("Overdue", rows)]))
                return
            if len(words) == 1:
                meeting = find_meeting(session, words[0])
                if meeting is None or not is_involved(session, meeting, member):
                    ack(
                        response_type="ephemeral",
                        text=f"I cannot show you the actions of {words[0].upper()}.",
                    )
                    return
                rows = actions_of(session, meeting_id=meeting.id)
                done = [r for r in rows if r.status == ActionStatus.DONE]
                groups = [*_group(rows, today, soon_by), ("Done", done)]
                ack(response_type="ephemeral", **action_list(f"Actions of {meeting.reference}", groups))
                return
        ack(response_type="ephemeral", text=USAGE)

    def _owner_or_lead_modal(builder):  # noqa: ANN001
        def handler(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
            ack()
            with session_scope(runtime.engine) as session:
                row = session.get(Action, int(action["value"]))
                view = builder(session, row) if row is not None else None
            if view is not None:
                client.views_open(trigger_id=body["trigger_id"], view=view)

        return handler

    def _reassign_view(session, row: Action) -> dict[str, Any]:  # noqa: ANN001
        agency = session.get(Agency, row.agency_id)
        people = [
            (f"{p.name}, {p.title}", p.slack_user_id)
            for p in runtime.partnership.agency(agency.code).people()
            if p.slack_user_id
        ]
        return reassign_modal(row.id or 0, row.reference, people)

    app.action("action_done")(_owner_or_lead_modal(lambda s, row: done_modal(row.id or 0, row.reference)))
    app.action("action_extension")(
        _owner_or_lead_modal(lambda s, row: extension_modal(row.id or 0, row.reference, row.due_on))
    )
    app.action("action_reassign")(_owner_or_lead_modal(_reassign_view))

    def _submitted(view: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return int(json.loads(view["private_metadata"])["action_id"]), read_values(view["state"])

    @app.view(DONE_CALLBACK)
    def done_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        action_id, values = _submitted(view)
        now = runtime.clock.now()
        actor = _actor(body, person_id_of(body["user"]["id"]))
        try:
            with session_scope(runtime.engine) as session:
                action, changed = mark_done(
                    session,
                    action_id,
                    values.get("note") or "",
                    actor=actor,
                    partnership=runtime.partnership,
                    now=now,
                )
                if changed and action.meeting_id:
                    refresh_status(session, action.meeting_id, now)
        except ActionRefused as refused:
            ack(response_action="errors", errors={"note": str(refused)})
            return
        ack()
        runtime.kick_delivery()

    @app.view(EXTENSION_CALLBACK)
    def extension_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        action_id, values = _submitted(view)
        now = runtime.clock.now()
        actor = _actor(body, person_id_of(body["user"]["id"]))
        try:
            with session_scope(runtime.engine) as session:
                action = request_extension(
                    session,
                    action_id,
                    values.get("due_on"),
                    values.get("reason") or "",
                    actor=actor,
                    partnership=runtime.partnership,
                    today=runtime.calendar.local(now).date(),
                    now=now,
                )
                request = latest_request(session, action)
                meeting = session.get(Meeting, action.meeting_id) if action.meeting_id else None
                chair = session.get(Person, meeting.chair_id) if meeting and meeting.chair_id else None
                if request is not None and chair is not None and chair.slack_user_id:
                    message = extension_request(
                        action.reference,
                        body["user"]["id"],
                        action.due_on,
                        date.fromisoformat(request.details["due_on"]),
                        request.details.get("note", ""),
                        str(request.id),
                    )
                    enqueue(
                        session,
                        key=f"extension:{request.id}",
                        method="chat.postMessage",
                        arguments={"channel": chair.slack_user_id, **message},
                        now=now,
                    )
        except ActionRefused as refused:
            field = "reason" if "reason" in str(refused) else "due_on"
            ack(response_action="errors", errors={field: str(refused)})
            return
        ack()
        runtime.kick_delivery()

    def _decide(accept: bool):
        def handler(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
            ack()
            now = runtime.clock.now()
            actor = _actor(body, person_id_of(body["user"]["id"]))
            try:
                with session_scope(runtime.engine) as session:
                    row, changed = decide_extension(
                        session,
                        int(action["value"]),
                        accept,
                        actor=actor,
                        partnership=runtime.partnership,
                        calendar=runtime.calendar,
                        now=now,
                    )
                    owner = session.get(Person, row.owner_id)
                    if changed and row.meeting_id:
                        refresh_status(session, row.meeting_id, now)
                    if changed and owner is not None and owner.slack_user_id:
                        verdict = (
                            f"accepted: now due {row.due_on:%a %d %b %Y}"
                            if accept
                            else "refused: the due date stands"
                        )
                        dm(
                            session,
                            key=f"extension-decided:{action['value']}",
                            slack_id=owner.slack_user_id,
                            text=f"*OFFICIAL-SENSITIVE* · Extension for *{row.reference}* {verdict}.",
                            now=now,
                        )
                    reply = (
                        f"{row.reference}: extension {'accepted' if accept else 'refused'}."
                        if changed
                        else f"{row.reference}: already decided."
                    )
            except ActionRefused as refused:
                audit_refusal(
                    runtime, actor, "action.extension_refused_to_decide", action["value"], str(refused)
                )
                tell(body, client, str(refused))
                return
            tell(body, client, reply)
            runtime.kick_delivery()

        return handler

    app.action("extension_accept")(_decide(True))
    app.action("extension_refuse")(_decide(False))

    @app.action("action_snooze")
    def snooze_clicked(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        now = runtime.clock.now()
        actor = _actor(body, person_id_of(body["user"]["id"]))
        try:
            with session_scope(runtime.engine) as session:
                row = snooze(
                    session,
                    int(action["value"]),
                    actor=actor,
                    partnership=runtime.partnership,
                    calendar=runtime.calendar,
                    now=now,
                )
                if row.meeting_id:
                    refresh_status(session, row.meeting_id, now)
                until = (
                    runtime.calendar.local(row.snoozed_until).strftime("%a %d %b %H:%M")
                    if row.snoozed_until
                    else ""
                )
        except ActionRefused as refused:
            tell(body, client, str(refused))
            return
        tell(body, client, f"{row.reference}: reminders put off until {until}. Escalations are not put off.")

    @app.view(REASSIGN_CALLBACK)
    def reassign_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        action_id, values = _submitted(view)
        now = runtime.clock.now()
        actor = _actor(body, person_id_of(body["user"]["id"]))
        try:
            with session_scope(runtime.engine) as session:
                action, owner = reassign(
                    session,
                    action_id,
                    values.get("owner") or "",
                    actor=actor,
                    partnership=runtime.partnership,
                    now=now,
                )
                row = next(
                    r
                    for r in actions_of(session, meeting_id=action.meeting_id)
                    if r.reference == action.reference
                )
                if owner.slack_user_id:
                    message = reminder_message(
                        row, action.id or 0, "This action is now yours.", case_reference=row.concerns
                    )
                    enqueue(
                        session,
                        key=f"reassigned:{action.id}:{owner.id}:{now.isoformat()}",
                        method="chat.postMessage",
                        arguments={"channel": owner.slack_user_id, **message},
                        now=now,
                    )
        except ActionRefused as refused:
            ack(response_action="errors", errors={"owner": str(refused)})
            return
        ack()
        runtime.kick_delivery()
