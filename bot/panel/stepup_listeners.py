"""Slack surface of a step up's links: booking the child protection conference (the form
the booking action's *Mark done* opens), recording the police operation (its button and
form), and `/panel operation PO-…`. Who may do each is in `RULES`: a police operation,
like the register of suspected perpetrators, is for police and panel administrators
only, and anyone else gets the same refusal whether or not it exists."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.access import (
    Access,
    Policy,
    Rule,
    agency_kind,
    agenda_item_by_id,
    button,
    command,
    form,
    metadata,
    police_operation_by_reference,
    role,
    value,
)
from bot.actions.listeners import mark_done_rule, mark_done_submitted
from bot.actions.service import ActionRefused
from bot.audit.service import record
from bot.convening.views import read_values
from bot.database import read_scope, session_scope
from bot.panel.models import PoliceOperation
from bot.panel.perpetrators import is_police
from bot.panel.service import subject_of_item
from bot.panel.stepup import (
    OperationForm,
    StepUpRefused,
    book_conference,
    operation_of_item,
    operation_text,
    record_operation,
    validate_booking,
    validate_operation,
)
from bot.panel.stepup_views import BOOKING_CALLBACK, OPEN_OPERATION, OPERATION_CALLBACK, operation_modal
from bot.partnership.models import Person
from bot.runtime import Runtime
from bot.slack.replies import tell

POLICE_OR_ADMIN = agency_kind("police") | role("panel_admin")
OPERATIONS_NOTE = "Only police and panel administrators see police operations."
# The decision (or the operation) must exist too; the refusal reads the same either way.
SEES_OPERATION = Policy(
    lambda m, r: r is not None and POLICE_OR_ADMIN.allows(m, r), f"{POLICE_OR_ADMIN.says}, and it exists"
)

RULES = (
    Rule(
        command("/panel", "operation"),
        SEES_OPERATION,
        police_operation_by_reference(),
        refusal=OPERATIONS_NOTE,
        act="panel.operation_refused",
    ),
    Rule(
        button(OPEN_OPERATION),
        SEES_OPERATION,
        agenda_item_by_id(value()),
        refusal=OPERATIONS_NOTE,
        act="panel.operation_refused",
    ),
    Rule(
        form(OPERATION_CALLBACK),
        SEES_OPERATION,
        agenda_item_by_id(metadata("item_id")),
        refusal=OPERATIONS_NOTE,
        act="panel.operation_refused",
        field="name",
    ),
    mark_done_rule(
        BOOKING_CALLBACK,
        refusal="Only the owner of the action or their agency lead can book the conference.",
        field="booked_for",
    ),
)


def operation_reply(runtime: Runtime, access: Access) -> str:
    """`/panel operation PO-…`: the guard found the operation and let only police and
    administrators through (anyone else, or a reference that names nothing, had its one
    audited refusal); the view is audited, as viewing a discussion is."""
    marking = runtime.partnership.settings.protective_marking
    with session_scope(runtime.engine) as session:
        row = session.get(PoliceOperation, access.known_record.id)
        if row is None:  # erased between the guard's look-up and this one
            return f"{access.known_record.reference} no longer exists."
        record(
            session,
            at=runtime.clock.now(),
            actor=access.actor,
            act="panel.operation_viewed",
            record_type="police_operation",
            record_id=row.reference,
        )
        return operation_text(session, row, marking)


def register(app: App, runtime: Runtime) -> None:
    partnership = runtime.partnership

    @app.action(OPEN_OPERATION)
    def operation_clicked(ack: Ack, body: dict[str, Any], client: WebClient, access: Access) -> None:
        ack()
        item_id = access.known_record.id
        with read_scope(runtime.engine) as session:
            row = operation_of_item(session, item_id)
            lead = session.get(Person, row.lead_officer_id) if row else None
            case_reference = _case_reference(session, item_id)
        current: dict[str, Any] = (
            {
                "name": row.name,
                "police_reference": row.police_reference,
                "lead_officer": lead.slack_user_id if lead else None,
                "started_on": row.started_on,
                "summary": row.released_summary,
            }
            if row
            else {}
        )
        if not case_reference:
            tell(body, client, "That panel decision is not a step up to a police operation.")
            return
        client.views_open(
            trigger_id=access.requested.trigger_id,
            view=operation_modal(
                item_id, case_reference, current, police=is_police(access.member, partnership)
            ),
        )

    @app.view(OPERATION_CALLBACK)
    def operation_submitted(ack: Ack, view: dict[str, Any], access: Access) -> None:
        values = read_values(view["state"])
        operation = OperationForm(
            name=values.get("name") or "",
            police_reference=values.get("police_reference") or "",
            lead_slack_id=values.get("lead_officer"),
            started_on=values.get("started_on"),
            summary=values.get("summary") or "",
        )
        now, item_id = runtime.clock.now(), access.known_record.id
        try:
            with session_scope(runtime.engine) as session:
                child_name, _ = subject_of_item(session, item_id)
                errors = validate_operation(
                    session,
                    operation,
                    partnership,
                    police=is_police(access.member, partnership),
                    today=runtime.calendar.local(now).date(),
                    child_name=child_name,
                )
                if errors:
                    ack(response_action="errors", errors=errors)
                    return
                record_operation(
                    session,
                    item_id,
                    operation,
                    member=access.member,
                    actor=access.actor,
                    partnership=partnership,
                    calendar=runtime.calendar,
                    now=now,
                )
        except StepUpRefused as refused:
            ack(response_action="errors", errors={"name": str(refused)})
            return
        except IntegrityError:
            ack()  # the same form, submitted twice at once: the first one stored it
            return
        ack()

    @app.view(BOOKING_CALLBACK)
    def booking_submitted(ack: Ack, view: dict[str, Any], access: Access) -> None:
        """The lead books the conference: the date is stored and the booking action marked
        done (its chasing stops), all or nothing; a second submission is a no-op."""
        booked_for = read_values(view["state"]).get("booked_for")

        def done(session: Session, now: datetime) -> bool | dict[str, str]:
            today = runtime.calendar.local(now).date()
            errors = validate_booking(booked_for, statutory=runtime.statutory_calendar, today=today)
            if errors:
                return errors
            assert booked_for is not None
            _, booked = book_conference(
                session,
                access.known_record.id,
                booked_for,
                actor=access.actor,
                partnership=partnership,
                now=now,
            )
            return booked

        mark_done_submitted(
            runtime, ack, access, done, field="booked_for", refusals=(ActionRefused, StepUpRefused)
        )


def _case_reference(session: Any, item_id: int) -> str:
    """The case of a step up to a police operation ('' for any other decision)."""
    from bot.cases.models import Case
    from bot.panel.models import AgendaItem, PanelCase
    from bot.panel.stepup import links_of

    item = session.get(AgendaItem, item_id)
    if item is None or links_of(item.outcome or {}) != "police_operation":
        return ""
    panel_case = session.get(PanelCase, item.panel_case_id)
    case = session.get(Case, panel_case.case_id) if panel_case else None
    return case.reference if case else ""
