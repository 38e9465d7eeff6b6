"""Slack surface of actions: `/actions` (mine, one discussion, overdue, add), and the answers
to a reminder: done, extension (decided by the chair), snooze, reassign. Who may do each is
in `RULES`; the guard decides before a listener runs, and before any form opens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlmodel import Session, select

from bot.access import (
    ANYONE,
    MEMBER,
    Access,
    Part,
    Rule,
    action_by_id,
    both,
    button,
    child_by_id,
    child_by_reference,
    command,
    extension_by_id,
    form,
    meeting_by_reference,
    metadata,
    part,
    role,
    value,
)
from bot.actions.commands import USAGE, grammar
from bot.actions.models import Action, ActionStatus
from bot.actions.service import (
    ActionRefused,
    ActionRow,
    actions_of,
    child_actions_page,
    decide_extension,
    latest_request,
    mark_done,
    open_actions_page,
    reassign,
    request_extension,
    snooze,
)
from bot.actions.views import (
    CHILD_PAGE,
    CHILD_PAGE_BUTTONS,
    DONE_CALLBACK,
    EXTENSION_CALLBACK,
    MINE_PAGE,
    OVERDUE_PAGE,
    PAGE_BUTTONS,
    REASSIGN_CALLBACK,
    action_list,
    action_page,
    done_modal,
    extension_modal,
    extension_request,
    reassign_modal,
    reminder_message,
)
from bot.cases.models import Case
from bot.convening.effects import dm, refresh_status
from bot.convening.models import Meeting
from bot.convening.views import read_values
from bot.database import read_scope, session_scope
from bot.delivery.service import enqueue
from bot.minutes.listeners import MAY_ADD_ACTIONS, open_action_form
from bot.partnership.models import Agency, Person
from bot.partnership.service import Member
from bot.runtime import Runtime
from bot.slack.followup import after_ack, asked_page, replace_with_page
from bot.slack.replies import audit_refusal, tell

OWNER_OR_LEAD = part(Part.OWNER, Part.OWNER_LEAD)
NOT_LISTED = "You are not listed in the partnership's schedules."

MAY_SEE_CHILD = part(Part.INVOLVED, Part.PANEL_ADMIN)
CHILD_REFUSAL = "I cannot show you the actions of {argument}."

COMMANDS = {"/actions": grammar}
RULES = (
    Rule(command("/actions", "usage"), ANYONE),
    Rule(
        command("/actions", "mine"),
        MEMBER,
        refusal="You are not listed in the partnership's schedules.",
        act="actions.list_refused",
    ),
    Rule(
        command("/actions", "overdue"),
        role("agency_lead", "panel_admin"),
        refusal="Overdue lists are for agency leads and panel administrators.",
        act="actions.overdue_refused",
    ),
    *(
        Rule(
            button(f"{MINE_PAGE}_{way}"), MEMBER, refusal="You are not listed in the partnership's schedules."
        )
        for way in ("previous", "next")
    ),
    *(
        Rule(
            button(f"{OVERDUE_PAGE}_{way}"),
            role("agency_lead", "panel_admin"),
            refusal="Overdue lists are for agency leads and panel administrators.",
            act="actions.overdue_refused",
        )
        for way in ("previous", "next")
    ),
    Rule(
        command("/actions", "show"),
        part(Part.INVOLVED),
        meeting_by_reference(),
        refusal="I cannot show you the actions of {argument}.",
        act="actions.view_refused",
    ),
    # A child's actions, by their case reference: for whoever took part in a discussion
    # concerning the child, and panel administrators; refused in the same words whether or
    # not the case exists.
    Rule(
        command("/actions", "child"),
        MAY_SEE_CHILD,
        child_by_reference(),
        refusal=CHILD_REFUSAL,
        act="actions.view_refused",
    ),
    *(
        Rule(
            button(action_id),
            MAY_SEE_CHILD,
            child_by_id(value(0)),
            refusal="I cannot show you those actions.",
            act="actions.view_refused",
        )
        for action_id in CHILD_PAGE_BUTTONS
    ),
    Rule(
        command("/actions", "add"),
        MAY_ADD_ACTIONS,
        meeting_by_reference(),
        refusal="Only the chair, the convenor or a minute-taker of {argument} can add its actions.",
        act="action.add_refused",
    ),
    *both(
        "action_done",
        DONE_CALLBACK,
        allow=OWNER_OR_LEAD,
        record_from_button=action_by_id(value()),
        record_from_form=action_by_id(metadata("action_id")),
        refusal="Only the owner of the action or their agency lead can mark it done.",
        act="action.done_refused",
        field="note",
    ),
    *both(
        "action_extension",
        EXTENSION_CALLBACK,
        allow=OWNER_OR_LEAD,
        record_from_button=action_by_id(value()),
        record_from_form=action_by_id(metadata("action_id")),
        refusal="Only the owner of the action or their agency lead can ask for an extension.",
        act="action.extension_refused",
        field="reason",
    ),
    *both(
        "action_reassign",
        REASSIGN_CALLBACK,
        allow=OWNER_OR_LEAD,
        record_from_button=action_by_id(value()),
        record_from_form=action_by_id(metadata("action_id")),
        refusal="Only the owner of the action or their agency lead can reassign it.",
        act="action.reassign_refused",
        field="owner",
    ),
    Rule(
        button("action_snooze"),
        part(Part.OWNER),
        action_by_id(value()),
        refusal="Only the owner can snooze their reminders.",
        act="action.snooze_refused",
    ),
    *(
        Rule(
            button(decision),
            part(Part.CHAIR),
            extension_by_id(value()),
            refusal="Only the chair of the discussion can decide an extension.",
            act="action.extension_refused_to_decide",
        )
        for decision in ("extension_accept", "extension_refuse")
    ),
)


def mark_done_rule(callback_id: str, *, refusal: str, field: str) -> Rule:
    """The rule for a form that Mark done opens in place of the plain one (a conference's
    date, a disruption's outcome): the same people as Mark done, the action's owner or
    their agency lead, and refused as Mark done is."""
    return Rule(
        form(callback_id),
        OWNER_OR_LEAD,
        action_by_id(metadata("action_id")),
        refusal=refusal,
        act="action.done_refused",
        field=field,
    )


# What a Mark done form stores, in one transaction: the action marked done with what it came
# to (True when that changed anything), or the form's problems by block.
Done = Callable[[Session, datetime], "bool | dict[str, str]"]


def mark_done_submitted(
    runtime: Runtime,
    ack: Ack,
    access: Access,
    done: Done,
    *,
    field: str,
    refusals: tuple[type[Exception], ...] = (ActionRefused,),
) -> None:
    """Every Mark done form (a note, a conference's date, a disruption's outcome) is
    answered alike: `done` checks and stores it, all or nothing; its discussion's status
    message is refreshed when anything changed (a second submission changes nothing);
    problems and refusals are shown beside the form's fields."""
    now = runtime.clock.now()
    try:
        with session_scope(runtime.engine) as session:
            changed = done(session, now)
            if isinstance(changed, dict):
                ack(response_action="errors", errors=changed)
                return
            meeting_id = access.known_record.row.meeting_id
            if changed and meeting_id:
                refresh_status(session, meeting_id, now)
    except refusals as refused:
        ack(response_action="errors", errors={field: str(refused)})
        return
    ack()
    runtime.kick_delivery()


def _group(rows: list[ActionRow], today: date, soon_by: date) -> list[tuple[str, list[ActionRow]]]:
    open_rows = [r for r in rows if r.status in (ActionStatus.OPEN, ActionStatus.ESCALATED)]
    return [
        ("Overdue", [r for r in open_rows if r.due < today]),
        ("Due soon", [r for r in open_rows if today <= r.due <= soon_by]),
        ("Later", [r for r in open_rows if r.due > soon_by]),
    ]


def register(app: App, runtime: Runtime) -> None:
    """Attach the listeners; each acknowledges first."""

    @app.command("/actions")
    def actions_command(
        ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond, access: Access
    ) -> None:
        sub = access.requested.name.removeprefix("/actions").strip()
        today = runtime.calendar.local(runtime.clock.now()).date()
        soon_by = runtime.calendar.add_working_days(today, 2)
        if sub == "usage":
            ack(response_type="ephemeral", text=USAGE)
        elif sub == "add":
            ack()
            after_ack(
                runtime,
                command,
                client,
                lambda: open_action_form(
                    runtime, client, meeting=access.meeting, trigger_id=access.requested.trigger_id
                ),
            )
        elif sub == "show":
            with read_scope(runtime.engine) as session:
                rows = actions_of(session, meeting_id=access.meeting.id, history=False)
            groups = [
                *_group(rows, today, soon_by),
                ("Done", [r for r in rows if r.status == ActionStatus.DONE]),
            ]
            ack(response_type="ephemeral", **action_list(f"Actions of {access.meeting.reference}", groups))
        elif sub == "child":  # a child's actions grow with their discussions: after the ack
            ack()
            case_id = access.known_record.id
            after_ack(
                runtime,
                command,
                client,
                lambda: respond(response_type="ephemeral", **_child_page(case_id, 0)),
            )
        else:  # "overdue" or "mine": lists that grow with the years, read after the ack
            ack()
            builder = _overdue_page if sub == "overdue" else _mine_page
            after_ack(
                runtime,
                command,
                client,
                lambda: respond(response_type="ephemeral", **builder(access.known_member, 0)),
            )

    def _overdue_page(member: Member, page: int) -> dict[str, Any]:
        """An agency lead's agency's overdue actions, or every agency's for a panel administrator."""
        today = runtime.calendar.local(runtime.clock.now()).date()
        with read_scope(runtime.engine) as session:
            if member.has_role("panel_admin"):
                agency_id, title = None, "Overdue actions: all agencies"
            else:
                agency = session.exec(select(Agency).where(Agency.code == member.agency_code)).one()
                agency_id, title = agency.id, f"Overdue actions: {agency.name}"
            listed = open_actions_page(session, agency_id=agency_id, due_before=today, page=page)
        return action_page(title, listed, page_buttons=OVERDUE_PAGE, today=today)

    def _mine_page(member: Member, page: int) -> dict[str, Any]:
        """The person's own open actions, the earliest due first."""
        today = runtime.calendar.local(runtime.clock.now()).date()
        soon_by = runtime.calendar.add_working_days(today, 2)
        with read_scope(runtime.engine) as session:
            listed = open_actions_page(session, owner_id=member.person_id, page=page)
        return action_page("Your open actions", listed, page_buttons=MINE_PAGE, today=today, soon_by=soon_by)

    def _child_page(case_id: int, page: int) -> dict[str, Any]:
        """One child's open actions (their own and the shared ones), the earliest due first."""
        today = runtime.calendar.local(runtime.clock.now()).date()
        soon_by = runtime.calendar.add_working_days(today, 2)
        with read_scope(runtime.engine) as session:
            case = session.get_one(Case, case_id)
            listed = child_actions_page(session, case, page=page)
            title = f"Open actions for {case.reference}"
        return action_page(
            title, listed, page_buttons=CHILD_PAGE, today=today, soon_by=soon_by, carried=str(case_id)
        )

    def turn_child_page(
        ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, access: Access
    ) -> None:
        """*Previous* or *Next* on a child's list (the guard has checked the child again)."""
        ack()
        page, case_id = asked_page(access.requested.value), access.known_record.id
        replace_with_page(runtime, body, client, respond, lambda: _child_page(case_id, page))

    for action_id in CHILD_PAGE_BUTTONS:
        app.action(action_id)(turn_child_page)

    def turn_page(
        ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, access: Access
    ) -> None:
        """*Previous* or *Next* on a list: the page asked for, in place of the one shown."""
        ack()
        page = asked_page(access.requested.value)
        builder = _mine_page if access.requested.name.startswith(MINE_PAGE) else _overdue_page
        replace_with_page(runtime, body, client, respond, lambda: builder(access.known_member, page))

    for action_id in PAGE_BUTTONS:
        app.action(action_id)(turn_page)

    def _opens(builder):  # noqa: ANN001
        """A reminder's button that opens its form, for whoever the guard let through."""

        def handler(ack: Ack, body: dict[str, Any], client: WebClient, access: Access) -> None:
            ack()
            with read_scope(runtime.engine) as session:
                view = builder(session, access.row)
            client.views_open(trigger_id=access.requested.trigger_id, view=view)

        return handler

    def _reassign_view(session: Session, row: Action) -> dict[str, Any]:
        agency = session.get_one(Agency, row.agency_id)
        people = [
            (f"{p.name}, {p.title}", p.slack_user_id)
            for p in runtime.partnership.agency(agency.code).people()
            if p.slack_user_id
        ]
        return reassign_modal(row.id or 0, row.reference, people)

    def _done_view(session: Session, row: Action) -> dict[str, Any]:
        """Mark done; for a disruption action, the panel's form for its outcome instead, and
        for a conference's booking, the date it is booked for."""
        from bot.cases.models import Case
        from bot.panel.perpetrators import disruption_of_action
        from bot.panel.stepup import conference_of_action
        from bot.panel.stepup_views import booking_modal
        from bot.panel.views import disruption_outcome_modal

        disruption = disruption_of_action(session, row.id)
        if disruption is not None and not disruption.result:
            tactic = runtime.partnership.panel_practice.tactic_name(disruption.tactic)
            return disruption_outcome_modal(row.id or 0, row.reference, tactic)
        conference = conference_of_action(session, row.id)
        if conference is not None and conference.booked_for is None:
            case = session.get(Case, conference.case_id)
            return booking_modal(
                row.id or 0, row.reference, case.reference if case else "", conference.due_on
            )
        return done_modal(row.id or 0, row.reference)

    app.action("action_done")(_opens(_done_view))
    app.action("action_extension")(
        _opens(lambda s, row: extension_modal(row.id or 0, row.reference, row.due_on))
    )
    app.action("action_reassign")(_opens(_reassign_view))

    def _values(view: dict[str, Any]) -> dict[str, Any]:
        return read_values(view["state"])

    @app.view(DONE_CALLBACK)
    def done_submitted(ack: Ack, view: dict[str, Any], access: Access) -> None:
        from bot.panel.perpetrators import disruption_of_action
        from bot.panel.stepup import conference_of_action

        def done(session: Session, now: datetime) -> bool:
            disruption = disruption_of_action(session, access.known_record.id)
            if disruption is not None and not disruption.result:
                raise ActionRefused("This is a disruption action: record its outcome with Mark done.")
            conference = conference_of_action(session, access.known_record.id)
            if conference is not None and conference.booked_for is None:
                raise ActionRefused("This action books a conference: give its date with Mark done.")
            _, changed = mark_done(
                session,
                access.known_record.id,
                _values(view).get("note") or "",
                actor=access.actor,
                partnership=runtime.partnership,
                now=now,
            )
            return changed

        mark_done_submitted(runtime, ack, access, done, field="note")

    @app.view(EXTENSION_CALLBACK)
    def extension_submitted(ack: Ack, view: dict[str, Any], access: Access) -> None:
        values, now = _values(view), runtime.clock.now()
        try:
            with session_scope(runtime.engine) as session:
                action = request_extension(
                    session,
                    access.known_record.id,
                    values.get("due_on"),
                    values.get("reason") or "",
                    actor=access.actor,
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
                        access.actor.slack_user_id,
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

    def _decide(accept: bool) -> Callable[..., None]:
        def handler(ack: Ack, body: dict[str, Any], client: WebClient, access: Access) -> None:
            ack()
            now, request_id = runtime.clock.now(), access.known_record.id
            try:
                with session_scope(runtime.engine) as session:
                    row, changed = decide_extension(
                        session,
                        request_id,
                        accept,
                        actor=access.actor,
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
                            key=f"extension-decided:{request_id}",
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
                    runtime, access.actor, "action.extension_refused_to_decide", request_id, str(refused)
                )
                tell(body, client, str(refused))
                return
            tell(body, client, reply)
            runtime.kick_delivery()

        return handler

    app.action("extension_accept")(_decide(True))
    app.action("extension_refuse")(_decide(False))

    @app.action("action_snooze")
    def snooze_clicked(ack: Ack, body: dict[str, Any], client: WebClient, access: Access) -> None:
        ack()
        now = runtime.clock.now()
        try:
            with session_scope(runtime.engine) as session:
                row = snooze(
                    session,
                    access.known_record.id,
                    actor=access.actor,
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
    def reassign_submitted(ack: Ack, view: dict[str, Any], access: Access) -> None:
        now = runtime.clock.now()
        try:
            with session_scope(runtime.engine) as session:
                action, owner = reassign(
                    session,
                    access.known_record.id,
                    _values(view).get("owner") or "",
                    actor=access.actor,
                    partnership=runtime.partnership,
                    now=now,
                )
                (row,) = actions_of(session, action_ids=[action.id or 0], history=False)
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
