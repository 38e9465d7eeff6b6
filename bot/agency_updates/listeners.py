"""Slack surface of agency updates: the form (open, save a draft, submit) and the chair's
reader (`/strategy REF updates` and its pages). Who may do each is in `RULES`; the guard
decides before a listener runs, and before the form opens."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.access import (
    Access,
    Part,
    Rule,
    button,
    form,
    invitation_by_id,
    meeting_by_id,
    metadata,
    part,
    value,
)
from bot.agency_updates.models import AgencyUpdate
from bot.agency_updates.service import (
    UpdateContext,
    UpdateRefused,
    check_may_write,
    context_for,
    current_update,
    deadline_for,
    form_from_version,
    latest_version,
    overview,
    save,
    validate,
)
from bot.agency_updates.views import (
    UPDATE_CALLBACK,
    overview_message,
    read_form,
    reader_view,
    submitted_view,
    update_form,
)
from bot.audit.service import record
from bot.cases.service import NAME_IN_SLACK_TEXT
from bot.convening.effects import refresh_status
from bot.convening.models import Meeting
from bot.convening.views import when
from bot.database import session_scope
from bot.partnership.service import Member
from bot.runtime import Runtime
from bot.slack.replies import audit_refusal, tell

READERS_NOTE = "Only the convenor, the chair and the minute-taker can read the agencies' updates."
WRITERS_NOTE = "Only the invited agency (or its named delegate) can write its update."
WRITERS = part(Part.AGENCY, Part.DELEGATE)
READERS = part(Part.CONVENOR, Part.CHAIR, Part.MINUTE_TAKER)

RULES = (
    # One button per panel agenda item needs its own action id: agency_update_open_<item>.
    Rule(
        button(r"agency_update_open(_\d+)?"),
        WRITERS,
        invitation_by_id(value()),
        refusal=WRITERS_NOTE,
        act="agency_update.refused",
        pattern=True,
    ),
    Rule(
        button("agency_update_save_draft"),
        WRITERS,
        invitation_by_id(metadata("invitation_id")),
        refusal=WRITERS_NOTE,
        act="agency_update.refused",
    ),
    Rule(
        form(UPDATE_CALLBACK),
        WRITERS,
        invitation_by_id(metadata("invitation_id")),
        refusal=WRITERS_NOTE,
        act="agency_update.refused",
        field="involvement_current",
    ),
    *(
        Rule(
            button(reader),
            READERS,
            meeting_by_id(value()),
            refusal=READERS_NOTE,
            act="agency_updates.read_refused",
        )
        for reader in ("agency_updates_read", "agency_updates_page")
    ),
)


def _form_key(view_id: str, form: dict[str, Any], submitting: bool) -> str:
    digest = hashlib.sha256(json.dumps(form, sort_keys=True).encode()).hexdigest()[:16]
    return f"{'submit' if submitting else 'draft'}:{view_id}:{digest}"


def may_read_updates(meeting: Meeting, member: Member | None) -> bool:
    """Need to know: the convenor, the chair and the minute-taker read every agency's update."""
    return member is not None and member.person_id in {
        meeting.convenor_id,
        meeting.chair_id,
        meeting.minute_taker_id,
    }


def overview_for(runtime: Runtime, meeting_id: int) -> dict[str, Any]:
    """The `/strategy REF updates` message for one discussion."""
    with session_scope(runtime.engine) as session:
        meeting = session.get(Meeting, meeting_id)
        assert meeting is not None
        deadline = deadline_for(meeting, runtime.partnership, runtime.calendar)
        summaries = overview(session, meeting, deadline=deadline, now=runtime.clock.now())
    return overview_message(
        meeting.reference,
        summaries,
        when(runtime.calendar, deadline),
        meeting.id or 0,
        lambda moment: when(runtime.calendar, moment),
    )


def register(app: App, runtime: Runtime) -> None:
    """Attach the listeners; each acknowledges within Slack's three seconds."""

    def _form_view(invitation_id: int, item_id: int, member: Member, note: str = "") -> dict[str, Any]:
        now = runtime.clock.now()
        with session_scope(runtime.engine) as session:
            context = context_for(session, invitation_id, item_id)
            check_may_write(context, member, now)
            update = current_update(session, context)
            version = latest_version(session, update)
            form = form_from_version(version)
            deadline = deadline_for(context.meeting, runtime.partnership, runtime.calendar)
        if not form.get("role"):
            configured = runtime.partnership.person_by_slack_id(member.slack_user_id)
            form["role"] = configured.title if configured else ""
        if not note and update is not None:
            note = (
                f"You are amending the submitted update (version {update.current_version})."
                if update.state == "submitted"
                else f"Draft version {update.current_version} is loaded."
            )
        return update_form(
            partnership=runtime.partnership,
            invitation_id=invitation_id,
            reference=context.meeting.reference,
            agency_name=context.agency.name,
            deadline_text=when(runtime.calendar, deadline),
            form=form,
            note=note,
            agenda_item_id=item_id,
            item_reference=context.case_reference if item_id else "",
        )

    @app.action(re.compile(r"^agency_update_open(_\d+)?$"))
    def open_form(ack: Ack, body: dict[str, Any], client: WebClient, access: Access) -> None:
        ack()
        # The button's value is the invitation, and the panel agenda item if there is one.
        invitation_id, item_id = access.known_record.id, _second_number(access.requested.value)
        try:
            view = _form_view(invitation_id, item_id, access.known_member)
        except UpdateRefused as refused:  # e.g. the discussion is over: said where they are
            tell(body, client, str(refused))
            audit_refusal(runtime, access.actor, "agency_update.refused", invitation_id, str(refused))
            return
        client.views_open(trigger_id=access.requested.trigger_id, view=view)

    def _store(
        access: Access, view: dict[str, Any], form: dict[str, Any], *, submitting: bool
    ) -> tuple[UpdateContext, AgencyUpdate]:
        """Save the form as a new version (a draft or a submission) for the person who sent it;
        a refusal is audited and raised for the caller to show where the person is."""
        metadata_ = json.loads(view["private_metadata"])
        invitation_id, now = access.known_record.id, runtime.clock.now()
        try:
            with session_scope(runtime.engine) as session:
                context = context_for(session, invitation_id, _item_of(metadata_))
                update, _ = save(
                    session,
                    context,
                    form,
                    member=access.known_member,
                    submitting=submitting,
                    key=_form_key(view["id"], form, submitting),
                    partnership=runtime.partnership,
                    calendar=runtime.calendar,
                    actor=access.actor,
                    now=now,
                )
                if submitting:
                    refresh_status(session, context.meeting.id or 0, now)
        except UpdateRefused as refused:
            audit_refusal(runtime, access.actor, "agency_update.refused", invitation_id, str(refused))
            raise
        return context, update

    @app.action("agency_update_save_draft")
    def save_draft(ack: Ack, body: dict[str, Any], client: WebClient, access: Access) -> None:
        ack()
        view = body["view"]
        form = read_form(view["state"])
        errors = validate(form, runtime.partnership, submitting=False)
        if errors:
            note = ":warning: Not saved: " + " ".join(errors.values())
        else:
            try:
                _, update = _store(access, view, form, submitting=False)
            except UpdateRefused:
                return  # refused and audited; the form stays as it is
            saved_at = runtime.calendar.local(runtime.clock.now())
            note = f":floppy_disk: Draft saved at {saved_at:%H:%M} (version {update.current_version})."
        item_id = _item_of(json.loads(view["private_metadata"]))
        refreshed = _form_view(access.known_record.id, item_id, access.known_member, note=note)
        client.views_update(view_id=view["id"], hash=view.get("hash"), view=refreshed)

    @app.view(UPDATE_CALLBACK)
    def submitted(ack: Ack, view: dict[str, Any], access: Access) -> None:
        form = read_form(view["state"])
        errors = validate(form, runtime.partnership, submitting=True)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        try:
            context, update = _store(access, view, form, submitting=True)
        except UpdateRefused as refused:
            block = "links" if str(refused) == NAME_IN_SLACK_TEXT else "involvement_current"
            ack(response_action="errors", errors={block: str(refused)})
            return
        done = submitted_view(
            context.meeting.reference, context.agency.name, update.current_version, update.late
        )
        ack(response_action="update", view=done)
        runtime.kick_delivery()

    def _reader(access: Access) -> dict[str, Any]:
        meeting, page = access.meeting, _second_number(access.requested.value)
        with session_scope(runtime.engine) as session:
            deadline = deadline_for(meeting, runtime.partnership, runtime.calendar)
            summaries = overview(session, meeting, deadline=deadline, now=runtime.clock.now())
            record(
                session,
                at=runtime.clock.now(),
                actor=access.actor,
                act="agency_updates.read",
                record_type="meeting",
                record_id=meeting.reference,
                details={"page": page},
            )
        return reader_view(
            reference=meeting.reference,
            meeting_id=meeting.id or 0,
            summaries=summaries,
            partnership=runtime.partnership,
            page=page,
            when=lambda moment: when(runtime.calendar, moment),
        )

    @app.action("agency_updates_read")
    def read_all(ack: Ack, client: WebClient, access: Access) -> None:
        ack()
        client.views_open(trigger_id=access.requested.trigger_id, view=_reader(access))

    @app.action("agency_updates_page")
    def turn_page(ack: Ack, body: dict[str, Any], client: WebClient, access: Access) -> None:
        ack()
        client.views_update(view_id=body["view"]["id"], view=_reader(access))


def _item_of(metadata_: Any) -> int:
    """The panel agenda item a form is for (0 for a strategy discussion's update)."""
    item = metadata_.get("agenda_item_id") if isinstance(metadata_, dict) else 0
    return int(item) if isinstance(item, int) or (isinstance(item, str) and item.isdigit()) else 0


def _second_number(text: str) -> int:
    """The number after the colon of a button's value (`12:3`: an agenda item, a page)."""
    _, _, number = text.partition(":")
    return int(number) if number.isdigit() and len(number) < 10 else 0
